"""``shiryo check``: every configuration mistake in one Japanese line, before intake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.cycle.configuration import configuration_problems
from tasks.plan.load import list_presets
from tasks.settings import REPO_ROOT

MIDORINO = REPO_ROOT / "tests" / "data" / "midorino" / "plan.yaml"


def _folder(tmp_path: Path, report_lines: str = "", files: dict[str, str] | None = None) -> Path:
    """Write みどり野市's plan with extra ``report:`` lines (and files) into a folder."""
    text = MIDORINO.read_text(encoding="utf-8")
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "plan.yaml").write_text(
        text.replace("  warning_mark: ▲\n", "  warning_mark: ▲\n" + report_lines),
        encoding="utf-8",
    )
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("preset", list_presets())
def test_every_preset_is_sound(preset: str) -> None:
    """It finds nothing wrong in the shipped presets (their first year included)."""
    assert configuration_problems(preset) == []


def test_a_plan_of_its_own_is_sound() -> None:
    """It finds nothing wrong in a plan with no suite and no template."""
    assert configuration_problems(str(MIDORINO.parent)) == []


_UNKNOWN_COLUMN = {
    "type": "expect_column_values_to_not_be_null",
    "kwargs": {"column": "kadaii"},
    "meta": {"message_ja": "x"},
}
_UNKNOWN_TYPE = {
    "type": "expect_column_to_be_lovely",
    "kwargs": {"column": "kadai"},
    "meta": {"message_ja": "x"},
}


@pytest.mark.parametrize(
    ("report_lines", "files", "named"),
    [
        # a rule on a column the 調査票 does not have (a misspelt field key)
        (
            "  suite: rules.json\n",
            {"rules.json": json.dumps({"expectations": [_UNKNOWN_COLUMN]})},
            "列 kadaii はありません",
        ),
        # a rule type GX does not know
        (
            "  suite: rules.json\n",
            {"rules.json": json.dumps({"expectations": [_UNKNOWN_TYPE]})},
            "expect_column_to_be_lovely",
        ),
        # a suite file that is not JSON
        ("  suite: rules.json\n", {"rules.json": "{not json"}, "rules.json"),
        # a template that is not there
        ("  docx_template: mine.docx\n", {}, "mine.docx"),
        # a key of plan.yaml that does not exist
        ("  colour: red\n", {}, "report.colour"),
    ],
)
def test_each_mistake_is_one_japanese_line(
    tmp_path: Path, report_lines: str, files: dict[str, str], named: str
) -> None:
    """It reports each mistake in one line naming the key, the rule or the file."""
    problems = configuration_problems(str(_folder(tmp_path, report_lines, files)))
    assert len(problems) == 1, problems
    assert named in problems[0]
    assert "\n" not in problems[0]


def test_the_command_exits_non_zero_with_the_problems(tmp_path: Path) -> None:
    """It prints the problems and ends with exit code 2; a sound plan ends with 0."""
    runner = CliRunner()
    broken = _folder(tmp_path / "broken", "  colour: red\n")
    result = runner.invoke(app, ["check", "-c", str(broken)])
    assert result.exit_code == 2
    assert "report.colour" in result.output
    result = runner.invoke(app, ["check", "-c", str(MIDORINO.parent)])
    assert result.exit_code == 0
    assert "問題はありません" in result.output


def test_new_starts_a_folder_from_a_preset(tmp_path: Path) -> None:
    """It writes the preset's plan.yaml into a new folder and refuses to overwrite one."""
    runner = CliRunner()
    target = tmp_path / "sakura"
    assert runner.invoke(app, ["new", str(target), "--from", "kitamoto"]).exit_code == 0
    assert configuration_problems(str(target)) == []
    again = runner.invoke(app, ["new", str(target), "--from", "kitamoto"])
    assert again.exit_code == 2 and "すでにあります" in again.output


def test_a_sound_configuration_is_checked_once_per_content(tmp_path: Path) -> None:
    """It remembers a sound configuration in the workspace; an edited rule is checked again."""
    from tasks.cycle import configuration
    from tasks.workspace.keys import RESULTS_PREFIX
    from tasks.workspace.storage import open_storage

    storage = open_storage(str(tmp_path / "workspace"))
    rules = {"expectations": [{**_UNKNOWN_COLUMN, "kwargs": {"column": "kadai"}}]}
    folder = _folder(tmp_path / "city", "  suite: rules.json\n", {"rules.json": json.dumps(rules)})
    assert configuration.problems_before_run(str(folder), None, storage) == []
    markers = [s.key for s in storage.list(RESULTS_PREFIX)]
    assert len(markers) == 1 and "configuration-" in markers[0]
    configuration._SOUND.clear()  # a new process: only the workspace remembers
    assert configuration.problems_before_run(str(folder), None, storage) == []
    # The flow's own checks (rules before intake, templates before rendering) skip it too;
    # another workspace, in a new process, has not seen it.
    configuration._SOUND.clear()
    from tasks.plan.load import load_plan

    assert configuration.known_sound(load_plan(str(folder)), storage)
    configuration._SOUND.clear()
    other = open_storage(str(tmp_path / "other"))
    assert not configuration.known_sound(load_plan(str(folder)), other)
    (folder / "rules.json").write_text(json.dumps({"expectations": [_UNKNOWN_COLUMN]}), "utf-8")
    problems = configuration.problems_before_run(str(folder), None, storage)
    assert len(problems) == 1 and "列 kadaii はありません" in problems[0]
    assert len(list(storage.list(RESULTS_PREFIX))) == 1  # a broken one is never remembered


def test_the_warm_up_validates_a_blank_call_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """It runs GX over a blank 調査票 of the plan (the service's first-use costs) and keeps no
    validation for the next Data Docs."""
    from tasks.check.gx_context import publish_data_docs
    from tasks.cycle.configuration import warm_up_checks
    from tasks.plan.load import load_plan
    from tasks.workspace.storage import open_storage

    warm_up_checks(load_plan(MIDORINO))
    assert publish_data_docs(open_storage(str(tmp_path)), "datadocs/2021") is None


def test_after_the_warm_up_a_publication_compiles_no_template(tmp_path: Path) -> None:
    """The warm-up also builds (and drops) its Data Docs pages, so the first run's pages
    need no template compiled (0.5 s of a site). In a fresh process, as a service starts."""
    script = f"""
import jinja2
from tasks.check.gx_context import publish_data_docs
from tasks.check.submissions import validate_staged
from tasks.check.validate import stack_batches
from tasks.cycle.configuration import _blank_batch, warm_up_checks
from tasks.plan.load import load_plan
from tasks.workspace.storage import open_storage

plan = load_plan({str(MIDORINO)!r})
warm_up_checks(plan)
validate_staged(plan, stack_batches([_blank_batch(plan)]))
compiled = []
original = jinja2.Environment._compile
jinja2.Environment._compile = lambda env, source, name: compiled.append(name) or original(
    env, source, name
)
assert publish_data_docs(open_storage({str(tmp_path)!r}), "datadocs/2021") is not None
print(len(compiled))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "0"
