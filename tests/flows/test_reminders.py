"""The send-reminders flow on a real Prefect server, mailing through a real SMTP server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.artifacts import artifact_key
from flows.reminders import send_reminders
from tasks.cycle.steps import write_call_workbooks
from tasks.errors import MailError
from tasks.plan.load import load_plan
from tasks.settings import PRESETS_DIR, REMINDERS_YAML
from tasks.workspace.presence import mark_workspace
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit
from tests.mailbox import Mailbox, smtp_server

KENKO = "kenko@city.example.lg.jp"
SOMU = "somu@city.example.lg.jp"


def municipality(root: Path, smtp_port: int | None) -> Path:
    """Write 南区's plan with two departments' addresses and, with a port, mail set up."""
    folder = root / "minami"
    folder.mkdir()
    plan = (PRESETS_DIR / "niigata-minami" / "plan.yaml").read_text(encoding="utf-8")
    for department, address in (("kenko-fukushi", KENKO), ("chiiki-somu", SOMU)):
        entry = f'{{id: "{department}", name: '
        assert entry in plan
        plan = plan.replace(entry, f'{{id: "{department}", email: "{address}", name: ', 1)
    (folder / "plan.yaml").write_text(plan, encoding="utf-8")
    settings = REMINDERS_YAML.read_text(encoding="utf-8")
    if smtp_port is not None:
        settings = settings.replace("  smtp_host: null ", "  smtp_host: 127.0.0.1 ", 1).replace(
            "  smtp_port: null ", f"  smtp_port: {smtp_port} ", 1
        )
        settings = settings.replace("  security: starttls ", "  security: none ", 1)
        settings = settings.replace(
            "  from_address: null ", "  from_address: jimukyoku@city.example.lg.jp ", 1
        )
    (folder / "reminders.yaml").write_text(settings, encoding="utf-8")
    return folder


def season(workspace: Path, config: Path) -> None:
    """社会福祉協議会 accepted, 地域総務課 sent back, every other department 未提出."""
    plan = load_plan(config)
    storage = open_storage(workspace)
    mark_workspace(storage)
    write_call_workbooks(plan, storage)
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    bad = filled_workbook(plan, "chiiki-somu", grade="Z")
    submit(workspace, plan, "intake/2021/chiiki-somu/提出.xlsx", bad)


def _subjects(mailbox: Mailbox, address: str) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.to(address)]


def test_each_late_department_is_mailed_once_a_day(
    prefect_server: None, tmp_path: Path, workspace: Path
) -> None:
    """It mails each late department with an address through the block, records the mail in
    the day's list and in the UI, and mails nobody the same reminder twice on the same day."""
    with smtp_server() as mailbox:
        config = municipality(tmp_path, mailbox.port)
        season(workspace, config)
        first = send_reminders(2021, str(config), str(workspace), send=True)
        again = send_reminders(2021, str(config), str(workspace), send=True)

    assert _subjects(mailbox, KENKO) == [
        "【ご提出のお願い】2021年度（令和3年度） 南区地域福祉計画 進捗状況調査票（健康福祉課）"
    ]
    assert _subjects(mailbox, SOMU) == [
        "【再提出のお願い】2021年度（令和3年度） 南区地域福祉計画 進捗状況調査票（地域総務課）"
    ]
    assert first.outcomes["kenko-fukushi"].startswith(f"送りました（{KENKO}、")
    assert first.outcomes["npo"] == "送っていません（plan.yaml に email がありません）"
    assert "shakyo" not in first.outcomes  # accepted: not reminded
    assert again.outcomes == first.outcomes  # the same day: the record of the first mail
    assert first.list_location.endswith("送信.xlsx")
    sheet = load_workbook(first.list_location).active
    assert sheet is not None
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert first.outcomes["chiiki-somu"] in cells
    with get_client(sync_client=True) as client:
        plan = load_plan(config)
        key = artifact_key(plan, "reminders", 2021, str(workspace))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    assert len(artifacts) == 2  # one per run, this workspace's only
    for artifact in artifacts:
        assert "地域総務課" in str(artifact.data) and "送りました" in str(artifact.data)


def test_a_refused_mail_fails_the_run_and_goes_on_the_next(
    prefect_server: None, tmp_path: Path, workspace: Path
) -> None:
    """It mails the others, records the refused one in the list, fails the run naming it;
    once the cause is fixed, the next run sends that one only."""
    with smtp_server(refuse=(SOMU,)) as mailbox:
        config = municipality(tmp_path, mailbox.port)
        season(workspace, config)
        with pytest.raises(MailError) as raised:
            send_reminders(2021, str(config), str(workspace), send=True)
        assert len(mailbox.to(KENKO)) == 1 and mailbox.to(SOMU) == []
        mailbox.refuse.clear()  # the address is set up on the server
        fixed = send_reminders(2021, str(config), str(workspace), send=True)

    assert "地域総務課（送れませんでした: メールサーバー 127.0.0.1:" in str(raised.value)
    listed = sorted((workspace / "reminders/2021").glob("督促一覧_*送信.xlsx"))
    assert listed, "the failed run's list is kept"
    assert len(mailbox.to(KENKO)) == 1  # not sent again
    assert len(mailbox.to(SOMU)) == 1
    assert fixed.outcomes["chiiki-somu"].startswith(f"送りました（{SOMU}、")


def test_without_mail_set_up_the_list_is_still_written(
    prefect_server: None, tmp_path: Path, workspace: Path
) -> None:
    """It writes the day's list and mails nobody when reminders.yaml names no mail server."""
    config = municipality(tmp_path, None)
    season(workspace, config)
    shutil.rmtree(workspace / "reminders", ignore_errors=True)

    result = send_reminders(2021, str(config), str(workspace), send=True)

    assert not result.mail_configured and result.outcomes == {}
    assert result.addressed == 2
    (written,) = (workspace / "reminders/2021").iterdir()
    assert written.name.startswith("督促一覧_") and "送信" not in written.name
    assert "地域総務課\t差戻し（再提出待ち）" in result.table
