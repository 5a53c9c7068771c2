"""``shiryo remind``: the 督促一覧 on the terminal, and the mail with --send."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flows.remind import register
from flows.terminal import JapaneseGroup
from tests.flows.test_reminders import KENKO, municipality, season
from tests.mailbox import smtp_server

runner = CliRunner()


def shiryo() -> typer.Typer:
    """Return a ``shiryo`` command with ``remind`` registered, as flows/cli.py registers it."""
    app = typer.Typer(cls=JapaneseGroup)

    @app.callback()
    def main() -> None:
        """shiryo"""

    register(app)
    return app


@pytest.fixture
def on_test_server(prefect_server: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the command at the session's Prefect server, as PREFECT_API_URL would."""
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))


def test_remind_prints_the_list_and_says_mail_is_not_set_up(
    on_test_server: None, tmp_path: Path, workspace: Path
) -> None:
    """It prints the heading and one tab-separated row per late department, where the list
    is, and that mail is not set up; --send then ends with exit code 2, the list written."""
    config = municipality(tmp_path, None)
    season(workspace, config)
    arguments = ["remind", "--year", "R3", "-w", str(workspace), "-c", str(config)]

    listed = runner.invoke(shiryo(), arguments)

    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("新潟市南区 2021年度（令和3年度） 督促一覧（")
    rows = {line.split("\t")[0]: line.split("\t") for line in lines if "\t" in line}
    assert rows["地域総務課"][1] == "差戻し（再提出待ち）"
    assert rows["健康福祉課"][5] == KENKO
    assert "社会福祉協議会" not in rows
    assert f"督促一覧: {workspace / 'reminders/2021/督促一覧_'}" in listed.output
    assert "メールの送信は設定されていません" in listed.output
    assert str(config / "reminders.yaml") in listed.output

    sent = runner.invoke(shiryo(), [*arguments, "--send"])
    assert sent.exit_code == 2
    assert "エラー: メールの設定がないため、督促メールは送っていません。" in sent.output
    assert "Traceback" not in sent.output


def test_remind_send_mails_and_says_how_many(
    on_test_server: None, tmp_path: Path, workspace: Path
) -> None:
    """It mails the late departments that have an address and says how many went."""
    with smtp_server() as mailbox:
        config = municipality(tmp_path, mailbox.port)
        season(workspace, config)
        arguments = ["remind", "--year", "2021", "-w", str(workspace), "-c", str(config)]
        listed = runner.invoke(shiryo(), arguments)
        sent = runner.invoke(shiryo(), [*arguments, "--send"])

    assert "督促メールは送っていません（宛先のある部署 2）" in listed.output
    assert sent.exit_code == 0, sent.output
    assert "督促メールを 2 部署に送りました。" in sent.output
    assert len(mailbox.received) == 2


def test_remind_refused_mail_is_one_japanese_error(
    on_test_server: None, tmp_path: Path, workspace: Path
) -> None:
    """It ends with exit code 2 and one line naming the department and the list, no traceback."""
    with smtp_server(refuse=(KENKO,)) as mailbox:
        config = municipality(tmp_path, mailbox.port)
        season(workspace, config)
        result = runner.invoke(
            shiryo(),
            ["remind", "--year", "2021", "-w", str(workspace), "-c", str(config), "--send"],
        )

    assert result.exit_code == 2
    assert "エラー: 1 部署に督促メールを送れませんでした: 健康福祉課（" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        # The year has never been seen in this workspace.
        ("year", "2020年度"),
        # The reminder settings name a message part that does not exist.
        ("settings", "場所 message.body"),
    ],
)
def test_remind_stops_before_anything_on_a_mistake(
    tmp_path: Path, workspace: Path, broken: str, says: str
) -> None:
    """It stops with one Japanese line and writes no list."""
    config = municipality(tmp_path, None)
    season(workspace, config)
    year = "2020" if broken == "year" else "2021"
    if broken == "settings":
        settings = config / "reminders.yaml"
        text = settings.read_text(encoding="utf-8").replace("{{ details }}", "{{ detail }}")
        settings.write_text(text, encoding="utf-8")

    result = runner.invoke(
        shiryo(), ["remind", "--year", year, "-w", str(workspace), "-c", str(config)]
    )

    assert result.exit_code == 2
    assert result.output.startswith("エラー: ") and says in result.output
    assert not (workspace / "reminders").exists()
