"""One ``collect-municipalities`` flow run over two municipalities with the same department ids.

みどり野市 (``tests/data/midorino``) and あおば町, the same plan renamed: the same six
department ids, the same file names. Each department fills the product's own 調査票 with its
municipality's words; one file of each is sent back for a grade outside the scale (甲, 乙).
The real flow runs on the Prefect test server over real workspaces; what each municipality's
ledger, dataset, 資料, Data Docs and UI artifacts hold is read back.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.context import FlowRunContext
from typer.testing import CliRunner

from flows import municipalities as municipalities_flow
from flows.annual_cycle import collect_submissions, publish_shiryo
from flows.artifacts import artifact_key
from flows.cli import app
from flows.municipalities import collect_municipalities
from flows.runners import task_runner
from tasks.call.workbook import HEADER_ROW, build_submission_workbook, field_label
from tasks.check.submissions import ReadBatch
from tasks.cycle.municipalities import MunicipalityOutcome
from tasks.errors import CollectionError
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.render.docx import docx_text
from tasks.workspace.keys import intake_key, submission_filename
from tests.midorino import YEAR, midorino_config

pytestmark = pytest.mark.scenario

MARKERS = {"midorino": "みどり野の記入", "aoba": "あおばの記入"}
BAD_GRADES = {"midorino": "甲", "aoba": "乙"}
ANSWERING = ["fukushi-seisaku", "korei-fukushi", "kosodate"]


def _rename_to_aoba(document: dict[str, Any]) -> None:
    document["municipality"] = "あおば町"
    document["plan_name"] = "第２期あおば町地域福祉計画"
    document["committee"] = "あおば町地域福祉計画推進委員会"


def _answer(plan: Plan, department_id: str, marker: str, bad_grade: str | None = None) -> bytes:
    """Return the department's 調査票 filled in with ``marker`` in every text cell."""
    workbook = load_workbook(io.BytesIO(build_submission_workbook(plan, department_id)))
    sheet = workbook[plan.submission.sheet_name]
    headers = {cell.value: cell.column for cell in sheet[HEADER_ROW]}
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        for field in plan.submission.fields:
            value = "○" if field.kind == "grade" else f"{marker} {field.key} {row}"
            sheet.cell(row=row, column=headers[field_label(plan, field.label)], value=value)
    if plan.submission.indicator_sheet_name in workbook.sheetnames:
        indicators = workbook[plan.submission.indicator_sheet_name]
        for row in range(HEADER_ROW + 1, indicators.max_row + 1):
            indicators.cell(row=row, column=9, value="１，２３０")  # the 実績 column
    if bad_grade is not None:
        grade = next(f for f in plan.submission.fields if f.kind == "grade")
        column = headers[field_label(plan, grade.label)]
        sheet.cell(row=HEADER_ROW + 1, column=column, value=bad_grade)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two municipalities' configuration folders."""
    root = tmp_path_factory.mktemp("configs")
    return {
        "midorino": midorino_config(root / "midorino"),
        "aoba": midorino_config(root / "aoba", _rename_to_aoba),
    }


@pytest.fixture(scope="module")
def answers(configs: dict[str, Path]) -> dict[str, dict[str, bytes]]:
    """Each municipality's intake: key → bytes, one file sent back in each."""
    files: dict[str, dict[str, bytes]] = {}
    for name, config in configs.items():
        plan = load_plan(config)
        files[name] = {
            intake_key(YEAR, dept, submission_filename(plan, dept)): _answer(
                plan, dept, MARKERS[name], BAD_GRADES[name] if dept == "korei-fukushi" else None
            )
            for dept in ANSWERING
        }
    return files


def _workspace(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for key, data in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root


def _list_file(path: Path, entries: list[tuple[Path | str, Path | str]]) -> Path:
    document = {"municipalities": [{"config": str(c), "workspace": str(w)} for c, w in entries]}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _assert_same_outputs(workspace: Path, other: Path) -> None:
    """The two workspaces hold the same dataset and 資料, byte for byte."""
    for prefix in (f"curated/{YEAR}", f"reports/{YEAR}"):
        mine, theirs = _objects(workspace, prefix), _objects(other, prefix)
        assert mine.keys() == theirs.keys() and mine, prefix
        changed = [k for k in mine if mine[k] != theirs[k]]
        assert not changed, changed


def _watch_rounds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """After each round: the result records in the flow run's memory, and the reads alive
    that were not before the run (an earlier test's may still be about)."""
    held: list[tuple[int, int]] = []
    collect_round = municipalities_flow.collect_round

    def reads_alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, ReadBatch))

    before = reads_alive()

    def watched(*args: Any, **kwargs: Any) -> list[MunicipalityOutcome]:
        outcomes = collect_round(*args, **kwargs)
        context = FlowRunContext.get()
        assert context is not None and context.result_store is not None
        held.append((len(context.result_store.cache), reads_alive() - before))
        return outcomes

    monkeypatch.setattr(municipalities_flow, "collect_round", watched)
    return held


def _progress_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("進捗 [")]


def _objects(workspace: Path, prefix: str) -> dict[str, bytes]:
    return {
        str(p.relative_to(workspace)): p.read_bytes()
        for p in sorted((workspace / prefix).rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def together(
    prefect_server: None,
    tmp_path_factory: pytest.TempPathFactory,
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
) -> tuple[dict[str, Path], list[MunicipalityOutcome]]:
    """Both municipalities collected and rendered by one flow run."""
    root = tmp_path_factory.mktemp("together")
    workspaces = {name: _workspace(root / name, answers[name]) for name in configs}
    listing = _list_file(
        root / "municipalities.yaml", [(configs[n], workspaces[n]) for n in configs]
    )
    outcomes = collect_municipalities(str(listing), YEAR, settle_seconds=0, render=True)
    return workspaces, outcomes


def test_each_municipality_sees_only_its_own_files(
    together: tuple[dict[str, Path], list[MunicipalityOutcome]],
    answers: dict[str, dict[str, bytes]],
) -> None:
    """It keeps each ledger, dataset and 資料 to its own municipality's files and words."""
    workspaces, outcomes = together
    assert [(o.municipality, o.error) for o in outcomes] == [
        ("みどり野市", None),
        ("あおば町", None),
    ]
    for name, other in (("midorino", "aoba"), ("aoba", "midorino")):
        workspace = workspaces[name]
        ledger = json.loads((workspace / f"ledger/{YEAR}.json").read_text(encoding="utf-8"))
        own = {hashlib.sha256(data).hexdigest() for data in answers[name].values()}
        assert {e["sha256"] for e in ledger["entries"]} == own
        assert sorted(e["status"] for e in ledger["entries"]) == [
            "accepted",
            "accepted",
            "rejected",
        ]
        dataset = pd.read_parquet(workspace / f"curated/{YEAR}/consolidated.parquet")
        text = dataset.astype(str).to_string()
        assert MARKERS[name] in text and MARKERS[other] not in text
        assert set(dataset["sha256"].dropna()) <= own
        (docx,) = (workspace / f"reports/{YEAR}").glob("*.docx")
        report = docx_text(docx.read_bytes())
        assert MARKERS[name] in report and MARKERS[other] not in report
        municipality = "みどり野市" if name == "midorino" else "あおば町"
        assert municipality in report


def test_each_municipality_has_its_own_data_docs(
    together: tuple[dict[str, Path], list[MunicipalityOutcome]],
) -> None:
    """It writes each municipality's GX Data Docs and 指摘事項一覧 with its own findings only."""
    workspaces, _ = together
    for name, other in (("midorino", "aoba"), ("aoba", "midorino")):
        pages = _objects(workspaces[name], f"datadocs/{YEAR}")
        validations = [k for k in pages if "/validations/" in k and k.endswith(".html")]
        assert validations, sorted(pages)
        shown = b"".join(pages[k] for k in validations).decode("utf-8")
        assert BAD_GRADES[name] in shown and BAD_GRADES[other] not in shown
        for key, data in pages.items():
            if key.endswith((".html", ".json", ".js")):  # the site's text (fonts are binary)
                text = data.decode("utf-8")
                assert MARKERS[other] not in text and BAD_GRADES[other] not in text, key


def test_each_municipality_has_its_own_artifacts(
    together: tuple[dict[str, Path], list[MunicipalityOutcome]], configs: dict[str, Path]
) -> None:
    """It shows each municipality's findings under its own keys, naming only its files."""
    workspaces, _ = together
    for name, other in (("midorino", "aoba"), ("aoba", "midorino")):
        plan = load_plan(configs[name])
        keys = [
            artifact_key(plan, kind, YEAR, str(workspaces[name]))
            for kind in ("findings", "files", "status")
        ]
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
            )
        assert {a.key for a in artifacts} == set(keys)
        findings = next(str(a.data) for a in artifacts if a.key == keys[0])
        assert plan.municipality in findings
        assert BAD_GRADES[name] in findings and BAD_GRADES[other] not in findings


def test_the_same_files_give_the_same_bytes_as_each_alone(
    prefect_server: None,
    tmp_path: Path,
    together: tuple[dict[str, Path], list[MunicipalityOutcome]],
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
) -> None:
    """It writes the same dataset and 資料, byte for byte, as a run of each municipality alone."""
    workspaces, _ = together
    for name, config in configs.items():
        alone = _workspace(tmp_path / name, answers[name])
        collect_submissions(YEAR, str(config), str(alone), settle_seconds=0)
        publish_shiryo(YEAR, str(config), str(alone))
        _assert_same_outputs(alone, workspaces[name])


def test_a_list_taken_in_rounds_gives_the_same_bytes_and_names_each_round(
    prefect_server: None,
    tmp_path: Path,
    together: tuple[dict[str, Path], list[MunicipalityOutcome]],
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In rounds of one municipality, each is collected and rendered as in one round, the
    bar moves on through the rounds, and a round's results and files are let go at its end
    (a long list's memory is held to a round)."""
    workspaces, _ = together
    rounds = {name: _workspace(tmp_path / name, answers[name]) for name in configs}
    listing = _list_file(tmp_path / "list.yaml", [(configs[n], rounds[n]) for n in configs])
    capsys.readouterr()
    held = _watch_rounds(monkeypatch)
    outcomes = collect_municipalities(
        str(listing), YEAR, settle_seconds=0, render=True, per_round=1
    )
    assert [o.number for o in outcomes] == [1, 2] and not any(o.error for o in outcomes)
    assert held == [(0, 0), (0, 0)]  # (result records, reads) still in memory after each round
    for name in configs:
        _assert_same_outputs(rounds[name], workspaces[name])
    assert _progress_lines(capsys.readouterr().err) == [
        "進捗 [□□□□□□□□□□] 1/3 各自治体の受付と読み取り（1 自治体、1/2 回目）",
        "進捗 [■□□□□□□□□□] 2/3 まとめての内容の確認（1 自治体、1/2 回目）",
        "進捗 [■■■□□□□□□□] 3/3 各自治体の年度データの更新（1 自治体、1/2 回目）",
        "進捗 [■■■■■□□□□□] 1/3 各自治体の受付と読み取り（1 自治体、2/2 回目）",
        "進捗 [■■■■■■□□□□] 2/3 まとめての内容の確認（1 自治体、2/2 回目）",
        "進捗 [■■■■■■■■□□] 3/3 各自治体の年度データの更新（1 自治体、2/2 回目）",
    ]


@pytest.mark.parametrize("runner", ["dask", "processes"])
def test_on_other_processes_the_municipalities_are_read_and_finished_side_by_side(
    runner: str,
    prefect_server: None,
    tmp_path: Path,
    together: tuple[dict[str, Path], list[MunicipalityOutcome]],
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
) -> None:
    """On a local Dask cluster (a worker process per core), or a process pool, each
    municipality's intake and reads, then its finishing, run as a task there: the same
    bytes as in the flow's own process, a broken entry still its own failure, and the
    outcomes in the list's order."""
    workspaces, _ = together
    spread = {name: _workspace(tmp_path / name, answers[name]) for name in configs}
    entries: list[tuple[Path | str, Path | str]] = [
        (configs["midorino"], spread["midorino"]),
        ("no-such-preset", tmp_path / "ws-none"),
        (configs["aoba"], spread["aoba"]),
    ]
    listing = _list_file(tmp_path / "list.yaml", entries)
    collect = collect_municipalities.with_options(task_runner=task_runner(runner))
    state = collect(str(listing), YEAR, settle_seconds=0, render=True, return_state=True)
    error = state.result(raise_on_failure=False)
    assert isinstance(error, CollectionError)
    assert [(o.number, o.municipality, bool(o.error)) for o in error.outcomes] == [
        (1, "みどり野市", False),
        (2, None, True),
        (3, "あおば町", False),
    ]
    for name in configs:
        _assert_same_outputs(spread[name], workspaces[name])
    names = [name for name, _ in _task_states(state.state_details.flow_run_id)]
    for step in ("take-and-read", "finish-municipality", "render-municipality"):
        assert names.count(step) == 2, (step, names)
    assert [p for n in configs for p in (spread[n] / "locks").glob("*.json")] == []  # released


def test_a_broken_plan_or_file_stops_only_its_municipality(
    prefect_server: None,
    tmp_path: Path,
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """It collects the others, reports the broken plan naming the entry, and ends Failed;
    its progress names each pass over the list and moves with each municipality."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "plan.yaml").write_text("municipality: [壊れた\n", encoding="utf-8")
    aoba_files = dict(answers["aoba"])
    bad_key = intake_key(YEAR, "shakyo", "壊れたファイル.xlsx")
    aoba_files[bad_key] = b"this is not a workbook"
    workspaces = {
        "midorino": _workspace(tmp_path / "ws-midorino", answers["midorino"]),
        "broken": _workspace(tmp_path / "ws-broken", {}),
        "aoba": _workspace(tmp_path / "ws-aoba", aoba_files),
    }
    listing = _list_file(
        tmp_path / "municipalities.yaml",
        [
            (configs["midorino"], workspaces["midorino"]),
            (broken, workspaces["broken"]),
            (configs["aoba"], workspaces["aoba"]),
        ],
    )
    capsys.readouterr()
    state = collect_municipalities(str(listing), YEAR, settle_seconds=0, return_state=True)
    assert state.is_failed()
    progress = [line.split("] ", 1)[1] for line in _progress_lines(capsys.readouterr().err)]
    assert progress == [
        "1/3 各自治体の受付と読み取り（3 自治体）",
        *[f"各自治体の受付と読み取り {n}/3" for n in (1, 2, 3)],
        "2/3 まとめての内容の確認（2 自治体）",
        "3/3 各自治体の年度データの更新（3 自治体）",
        *[f"各自治体の年度データの更新 {n}/3" for n in (1, 2, 3)],
    ]
    error = state.result(raise_on_failure=False)
    assert isinstance(error, CollectionError)
    assert "3 自治体のうち 1 自治体を取り込めませんでした" in str(error)
    assert "自治体の一覧の 2 番目" in str(error) and str(broken / "plan.yaml") in str(error)
    midorino, failed, aoba = error.outcomes
    assert isinstance(midorino, MunicipalityOutcome) and midorino.summary is not None
    assert isinstance(failed, MunicipalityOutcome) and failed.summary is None and failed.error
    assert isinstance(aoba, MunicipalityOutcome) and aoba.summary is not None
    ledger = json.loads((workspaces["aoba"] / f"ledger/{YEAR}.json").read_text(encoding="utf-8"))
    statuses = {e["source_key"]: e["status"] for e in ledger["entries"]}
    assert statuses[bad_key] == "rejected"
    assert sorted(statuses.values()) == ["accepted", "accepted", "rejected", "rejected"]
    assert not (workspaces["broken"] / "ledger").exists()


def test_a_storage_fault_stops_only_its_municipality(
    prefect_server: None,
    s3_env: str,
    tmp_path: Path,
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
) -> None:
    """A municipality whose workspace cannot be reached (a bucket that is not there, on S3
    through moto's server) is reported in Japanese with its workspace; the other is collected."""
    midorino = _workspace(tmp_path / "ws-midorino", answers["midorino"])
    missing = f"s3://shiryo-missing-{tmp_path.name.lower()[-12:]}/aoba"
    listing = _list_file(
        tmp_path / "municipalities.yaml",
        [(configs["midorino"], midorino), (configs["aoba"], missing)],
    )
    state = collect_municipalities(str(listing), YEAR, settle_seconds=0, return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, CollectionError)
    collected, failed = error.outcomes
    assert collected.summary is not None and not collected.error
    assert (midorino / f"curated/{YEAR}").is_dir()
    assert failed.summary is None and failed.error and "自治体の一覧の 2 番目" in failed.error
    assert missing in failed.error and "NoSuchBucket" in failed.error
    assert "S3 の状態と権限を確かめ" in failed.error  # what to do, in Japanese


def test_run_all_prints_each_municipality_and_the_failed_one(
    prefect_server: None,
    tmp_path: Path,
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
) -> None:
    """It prints each collected municipality and its 資料, then the failed entry, exit 1."""
    workspace = _workspace(tmp_path / "ws-aoba", answers["aoba"])
    listing = _list_file(
        tmp_path / "municipalities.yaml",
        [(configs["aoba"], workspace), ("no-such-preset", tmp_path / "ws-none")],
    )
    result = CliRunner().invoke(app, ["run-all", "--list", str(listing), "--year", "R7"])
    assert result.exit_code == 1, result.output
    assert f"1. あおば町（{workspace}）: 新しいファイル 3 件（受理 2、差戻し 1）" in result.output
    assert f"資料: {workspace / 'reports' / str(YEAR)}" in result.output
    assert "2 自治体のうち 1 自治体を取り込めませんでした" in result.output
    assert "自治体の一覧の 2 番目" in result.output and "no-such-preset" in result.output
    assert "Traceback" not in result.output


def _task_states(flow_run_id: Any) -> list[tuple[str, str]]:
    """Return (task name, state name) of a flow run's task runs, in start order."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    ordered = sorted(runs, key=lambda r: r.start_time or r.expected_start_time)
    return [(r.name.rsplit("-", 1)[0], r.state.name if r.state else "") for r in ordered]


def test_a_run_again_redoes_only_the_failed_municipality(
    prefect_server: None,
    tmp_path: Path,
    configs: dict[str, Path],
    answers: dict[str, dict[str, bytes]],
) -> None:
    """It takes, after a plan is mended, only that municipality's files; the other's finished
    steps are Cached and its ledger, dataset and feedback stay as they were (no file twice)."""
    mended = tmp_path / "aoba-config"
    shutil.copytree(configs["aoba"], mended)
    plan_yaml = (mended / "plan.yaml").read_text(encoding="utf-8")
    (mended / "plan.yaml").write_text(plan_yaml + "\n  - [壊れた\n", encoding="utf-8")
    workspaces = {
        "midorino": _workspace(tmp_path / "ws-midorino", answers["midorino"]),
        "aoba": _workspace(tmp_path / "ws-aoba", answers["aoba"]),
    }
    listing = _list_file(
        tmp_path / "municipalities.yaml",
        [(configs["midorino"], workspaces["midorino"]), (mended, workspaces["aoba"])],
    )
    first = collect_municipalities(str(listing), YEAR, settle_seconds=0, return_state=True)
    assert first.is_failed()
    first_midorino = first.result(raise_on_failure=False).outcomes[0]
    before = _objects(workspaces["midorino"], "")
    (mended / "plan.yaml").write_text(plan_yaml, encoding="utf-8")  # the coordinator mends it

    again = collect_municipalities(str(listing), YEAR, settle_seconds=0, return_state=True)
    assert again.is_completed()
    midorino, aoba = again.result()
    # The finished check's own result, kept in the workspace: the same files, checked once.
    assert midorino.summary == first_midorino.summary and len(midorino.summary.files) == 3
    assert aoba.summary is not None and len(aoba.summary.files) == 3
    states = _task_states(again.state_details.flow_run_id)
    # みどり野市's finished steps come from its workspace's results; あおば町's run now.
    assert states.count(("check-submissions", "Cached")) == 1
    assert states.count(("check-submissions", "Completed")) == 1
    after = _objects(workspaces["midorino"], "")
    kept = [k for k in before if not k.startswith(("_prefect/", "locks/"))]
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
