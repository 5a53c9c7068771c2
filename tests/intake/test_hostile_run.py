"""What one department types never stops or fools the others: one real run, folder and S3.

Into one intake, beside the departments' valid files, go the cases of issue 22, each written
into the product's own 調査票: text that looks like template syntax, formulas, markup, paths
and control sequences; bidi overrides and 外字; number cells holding NaN, 1e999 and 0x10;
files refused as a whole; two files of one department, names that look the same and the same
bytes in two departments' folders; keys S3 holds that no path can name, links and a FIFO. The
run (``annual-cycle`` under a real Prefect server) must complete and render the 資料, take each
department's rows exactly once, give each case its own visible entry, and change nothing
when run again.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.annual_cycle import annual_cycle
from flows.artifacts import artifact_key
from tasks.dataset.store import load_consolidated
from tasks.intake.files import anything_new
from tasks.intake.ledger import Ledger, LedgerEntry, load_ledger
from tasks.intake.status import build_status_rows
from tasks.plan.model import Plan
from tasks.workspace.keys import report_keys
from tasks.workspace.names import ledger_text
from tasks.workspace.storage import Storage, open_storage
from tests import hostile
from tests.conftest import raw_s3_client
from tests.helpers import filled_workbook
from tests.render.test_hostile_text import _docx_paragraphs, _hidden

PRESET = "niigata-minami"
YEAR = 2021
T0 = 1_622_505_600  # 2021-06-01: files keep the order of the list as their times
TAKEN = frozenset({"accepted", "superseded"})
MARKUP = "<b>[x](javascript:alert(1))</b>"
"""Typed as a grade: HTML and a Markdown link, quoted back in a finding's message."""


@dataclass(frozen=True)
class Drop:
    """One object put in the workspace: its key, bytes, the statuses it may end in."""

    key: str
    """From the workspace's root, as S3 holds it (``intake/2021/…``; odd spellings kept)."""
    data: bytes
    expected: frozenset[str]
    """Ledger statuses it may end in; empty: no entry (an empty S3 folder marker)."""
    says: str | None = None
    """Part of its first error, or of a note, that it must carry."""
    backend: str | None = None
    """Only on this backend ("folder": a link or a FIFO; "s3": keys no folder can hold)."""
    kind: str = "file"
    """file, link (to a file outside the workspace) or fifo."""


def _commented(base: bytes, number: int) -> bytes:
    """The same workbook with other bytes (a zip comment), as a re-save gives."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in hostile.parts_of(base).items():
            archive.writestr(zipfile.ZipInfo(name, (2021, 6, 1, 0, 0, 0)), content)
        archive.comment = f"copy {number}".encode()
    return out.getvalue()


def build_corpus(plan: Plan) -> list[Drop]:
    """Return every object of the run, in the order the departments put them."""
    intake = f"intake/{YEAR}"
    hokatsu = filled_workbook(plan, "chiiki-hokatsu")
    kenko = filled_workbook(plan, "kenko-fukushi")
    poster = "ポスター.xlsx"
    rejected = frozenset({"rejected"})
    return [
        # -- what departments type: accepted with 注意, shown as data everywhere
        Drop(
            f"{intake}/chiiki-somu/提出.xlsx",
            hostile.ansi_escape(hostile.typed_text(plan, "chiiki-somu")),
            frozenset({"accepted"}),
        ),
        # indicator results typed as NaN, 1e999, 0x10: rejected; the file above stays in force
        Drop(
            f"{intake}/chiiki-somu/指標.xlsx",
            hostile.indicator_texts(plan, "chiiki-somu", ["1e999"]),
            rejected,
            "を数値として読み取れません",
        ),
        # -- number cells holding no number, and whole files refused
        Drop(f"{intake}/kenko-fukushi/提出.xlsx", kenko, frozenset({"accepted"})),
        Drop(
            f"{intake}/kenko-fukushi/数値.xlsx",
            hostile.numbers_not_numbers(kenko),
            rejected,
            "「NaN」は数値として読み取れません",
        ),
        Drop(f"{intake}/kenko-fukushi/空.xlsx", b"", rejected, "ファイルが空です"),
        Drop(
            f"{intake}/kenko-fukushi/一覧.xlsx",
            hostile.csv_renamed(kenko),
            rejected,
            "Excel ブック（.xlsx）ではありません",
        ),
        # the same empty bytes in another folder: the same refusal, no conflict
        Drop(f"{intake}/sasaeai-suishin/空.xlsx", b"", rejected, "ファイルが空です"),
        # -- two files of one department at once: the last received is taken
        Drop(
            f"{intake}/npo/第1版.xlsx",
            filled_workbook(plan, "npo", "B"),
            TAKEN,
            "「第2版.xlsx」を採用",
        ),
        Drop(
            f"{intake}/npo/第2版.xlsx",
            filled_workbook(plan, "npo", "A"),
            TAKEN,
            "「第2版.xlsx」を採用",
        ),
        # -- names that look the same (NFD from a Mac, then NFC)
        Drop(
            f"{intake}/sasaeai-suishin/{unicodedata.normalize('NFD', poster)}",
            filled_workbook(plan, "sasaeai-suishin", "B"),
            TAKEN,
            "同じ名前に見える別のファイル",
        ),
        Drop(
            f"{intake}/sasaeai-suishin/{poster}",
            filled_workbook(plan, "sasaeai-suishin", "A"),
            TAKEN,
            "同じ名前に見える別のファイル",
        ),
        # -- the same bytes in two departments' folders: checked as the identity's department
        Drop(
            f"{intake}/shakyo/コピー.xlsx",
            hokatsu,
            rejected,
            "「地域包括支援センター」の「提出.xlsx」",
        ),
        Drop(
            f"{intake}/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"), frozenset({"accepted"})
        ),
        # markup typed as a grade: a 要修正 whose message quotes it, shown as text everywhere
        Drop(
            f"{intake}/shakyo/評価.xlsx",
            filled_workbook(plan, "shakyo", MARKUP),
            rejected,
            "評価「",
        ),
        Drop(f"{intake}/chiiki-hokatsu/提出.xlsx", hokatsu, frozenset({"accepted"}), "コピー.xlsx"),
        # -- objects no path can name, and what is no file
        Drop(
            f"{intake}/kenko-fukushi/R3\\R4.xlsx",
            _commented(kenko, 1),
            rejected,
            "「\\」が含まれている",
        ),
        *[
            Drop(key, _commented(kenko, n), rejected, "「//」「/./」「/../」", backend="s3")
            for n, key in enumerate(
                [
                    f"{intake}/kenko-fukushi//a.xlsx",
                    f"{intake}/kenko-fukushi/./b.xlsx",
                    f"{intake}/kenko-fukushi/../kenko-fukushi/c.xlsx",
                    f"/{intake}/kenko-fukushi/leading-slash.xlsx",
                    f"intake/./{YEAR}/kenko-fukushi/d.xlsx",
                    f"{intake}/kenko-fukushi/e/",
                ],
                start=2,
            )
        ],
        Drop(
            f"{intake}/kenko-fukushi/nul\x00.xlsx",
            _commented(kenko, 9),
            rejected,
            "NUL 文字",
            backend="s3",
        ),
        Drop(f"{intake}/kenko-fukushi/", b"", frozenset(), backend="s3"),  # a console folder
        Drop(
            f"{intake}/kenko-fukushi/link.xlsx",
            b"",
            rejected,
            "リンク（シンボリックリンク）",
            backend="folder",
            kind="link",
        ),
        Drop(
            f"{intake}/kenko-fukushi/fifo.xlsx",
            b"",
            rejected,
            "通常のファイルではないもの",
            backend="folder",
            kind="fifo",
        ),
    ]


@dataclass(frozen=True)
class Intake:
    """A workspace with the corpus in it."""

    workspace: str
    storage: Storage
    drops: list[Drop]


def _put_in_folder(root: Path, outside: Path, drops: list[Drop]) -> None:
    outside.write_bytes(b"a file of this machine, outside the workspace")
    for number, drop in enumerate(drops):
        path = os.fsencode(root / drop.key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if drop.kind == "link":
            os.symlink(outside, path)
            continue
        if drop.kind == "fifo":
            os.mkfifo(path)
            continue
        with open(path, "wb") as out:
            out.write(drop.data)
        os.utime(path, (T0 + number, T0 + number))


@pytest.fixture(params=["folder", "s3"])
def intake(
    request: pytest.FixtureRequest, minami: Plan, workspace: Path, tmp_path: Path
) -> Iterator[Intake]:
    """Put the corpus in a fresh workspace on each backend."""
    drops = [d for d in build_corpus(minami) if d.backend in (None, request.param)]
    if request.param == "folder":
        _put_in_folder(workspace, tmp_path / "secret.txt", drops)
        yield Intake(str(workspace), open_storage(str(workspace)), drops)
        return
    bucket = request.getfixturevalue("bucket")
    client = raw_s3_client(request.getfixturevalue("s3_env"))
    for drop in drops:  # one after the other: S3 keeps their order in its times, then keys
        client.put_object(Bucket=bucket, Key=f"ws/{drop.key}", Body=drop.data)
    url = f"s3://{bucket}/ws"
    yield Intake(url, open_storage(url), drops)


def _listed_key(drop: Drop) -> str:
    return ledger_text(drop.key)


def _snapshot(storage: Storage) -> dict[str, bytes]:
    return {
        o.key: storage.read_bytes(o.key)
        for prefix in ("ledger", "archive", "curated", "feedback", "reports")
        for o in storage.list(prefix)
    }


def _check_entries(intake: Intake, ledger: Ledger) -> dict[str, LedgerEntry]:
    """Assert each object has its own entry, in a status it may end in, saying what it must."""
    by_key = {e.source_key: e for e in ledger.entries}
    assert len(by_key) == len(ledger.entries)
    expected = {_listed_key(d) for d in intake.drops if d.expected}
    assert set(by_key) == expected  # one entry each, and none for what is no submission
    for drop in intake.drops:
        if not drop.expected:
            continue
        entry = by_key[_listed_key(drop)]
        assert entry.status in drop.expected, (drop.key, entry.status, entry.first_error)
        said = " ".join([entry.first_error or "", *entry.notes])
        if drop.says:
            assert drop.says in said, (drop.key, said)
        if entry.status == "rejected":
            assert entry.first_error and "ください" in entry.first_error, drop.key
        assert not _hidden(entry.original_name + said), drop.key
    return by_key


def _check_dataset(intake: Intake, plan: Plan) -> None:
    """Assert every department's rows are in the dataset exactly once."""
    consolidated = load_consolidated(intake.storage, YEAR)
    submitted = consolidated[consolidated["submitted"]]
    assert not submitted.duplicated(["initiative_id", "department_id"]).any()
    for department in plan.departments:
        rows = submitted[submitted["department_id"] == department.id]
        assert set(rows["initiative_id"]) == {i.id for i in plan.initiatives_of(department.id)}


def _artifacts(run_id: object) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return {a.key: str(a.data) for a in found if a.key}


def test_what_departments_type_never_stops_or_fools_the_others(
    prefect_server: None, minami: Plan, intake: Intake
) -> None:
    """It completes, renders the 資料, takes each department once, shows every case, and a
    second run changes nothing."""
    state = annual_cycle(YEAR, PRESET, intake.workspace, return_state=True)
    assert state.is_completed(), state.message

    ledger = load_ledger(intake.storage, YEAR)
    entries = _check_entries(intake, ledger)
    _check_dataset(intake, minami)

    # Conflicts name both files and the one taken; whole-file refusals mark no row fine.
    npo = [entries[_listed_key(d)] for d in intake.drops if "/npo/" in d.key]
    assert [e.status for e in npo] == ["superseded", "accepted"]
    twins = [entries[_listed_key(d)] for d in intake.drops if "スター" in d.key]
    assert sorted(e.status for e in twins) == ["accepted", "superseded"]
    assert all("NFD（Mac の表記）" in " ".join(e.notes) for e in twins)
    empty = [e for e in ledger.entries if e.size == 0 and e.archive_key]
    assert len(empty) == 2 and len({e.sha256 for e in empty}) == 1
    # each refused for what it is: no copy of the other (only their folders' other files noted)
    assert all(e.row_states == {} and "同じ内容" not in " ".join(e.notes) for e in empty)

    # The 提出状況 and the coordinator's view show the decisions, readably.
    status = {r["部署"]: r for r in build_status_rows(minami, ledger, dt.date(2021, 6, 1))}
    assert "「第2版.xlsx」を採用" in status["NPO法人"]["備考"]
    assert "コピー.xlsx" in status["社会福祉協議会"]["備考"]
    assert "コピー.xlsx" in status["地域包括支援センター"]["備考"]
    assert all(not _hidden("".join(r.values())) for r in status.values())
    shown = _artifacts(state.state_details.flow_run_id)
    files = json.loads(shown[artifact_key(minami, "files", YEAR, intake.workspace)])
    remarks = " ".join(str(row["備考"]) for row in files)
    assert "「第2版.xlsx」を採用" in remarks and "コピー.xlsx" in remarks
    if intake.workspace.startswith("s3://"):
        assert "「//」「/./」「/../」" in remarks  # the odd keys, each a row with its reason
    findings = shown[artifact_key(minami, "findings", YEAR, intake.workspace)]
    assert "<b>" not in findings and "](javascript" not in findings  # data, never markup
    assert "\\<b\\>\\[x\\]\\(javascript:alert\\(1\\)\\)" in findings
    for text in shown.values():
        assert not _hidden(text.replace("\n", "")), text

    # The 資料 renders, with the department's text as it typed it.
    docx = intake.storage.read_bytes(report_keys(minami)[0])
    paragraphs = _docx_paragraphs(docx)
    assert any("{{7*7}}" in p for p in paragraphs) and not _hidden("\n".join(paragraphs))
    pages = [o.key for o in intake.storage.list(f"datadocs/{YEAR}") if o.key.endswith(".html")]
    assert pages
    for page in pages:
        assert "<b>[x]" not in intake.storage.read_bytes(page).decode("utf-8").lower()

    # Every object seen as it is: nothing new, and a second run changes nothing.
    assert not anything_new(intake.storage, ledger)
    before = _snapshot(intake.storage)
    again = annual_cycle(YEAR, PRESET, intake.workspace, return_state=True)
    assert again.is_completed(), again.message
    assert _snapshot(intake.storage) == before
