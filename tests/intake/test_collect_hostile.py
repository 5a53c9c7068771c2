"""One collection run over a corpus of hostile names and bytes, beside valid submissions.

Every case lands in one intake, on a folder and on S3 (moto's server): odd names with valid
contents (Shift_JIS bytes, control characters, bidi overrides, NFD twins, very long names,
names that look like formulas or shell code), hostile contents (every refused build of
``tests.hostile``, ZIP64, zip-slip members, DDE, error cells, over-long cells …), Windows and
macOS artefacts, and files in the wrong place. The run must complete, give each file its own
ledger status, take every valid department's rows exactly once, show every name readably,
and change nothing when run again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import subprocess
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.annual_cycle import collect_submissions
from flows.artifacts import artifact_key
from tasks.dataset.store import load_consolidated
from tasks.intake.files import anything_new
from tasks.intake.ledger import LedgerEntry, load_ledger
from tasks.intake.status import build_status_rows
from tasks.plan.model import Plan
from tasks.settings import REPO_ROOT
from tasks.workspace.names import display_name, ledger_text
from tasks.workspace.storage import Storage, open_storage, safe_key
from tests import hostile
from tests.check.test_guard import REFUSED
from tests.conftest import raw_s3_client
from tests.helpers import filled_workbook

pytestmark = pytest.mark.scenario

PRESET = "niigata-minami"
YEAR = 2021
ODD = "kenko-fukushi"  # valid contents under odd names
HOSTILE = "shakyo"  # hostile contents
VALID = ["chiiki-hokatsu", "npo", "sasaeai-suishin", "chiiki-somu"]
TAKEN = {"accepted", "superseded"}


@dataclass(frozen=True)
class Drop:
    """One file dropped in intake: where (bytes below ``intake/<fy>/``), what, and its fate."""

    path: bytes
    data: bytes
    expected: frozenset[str]
    """Ledger statuses it may end in; empty: ignored (an artefact, never a ledger entry)."""
    message: str | None = None
    """A part of the entry's first error, for files refused with a reason."""
    folder_only: bool = False
    """Bytes that are not UTF-8 cannot be an S3 key (and moto's server routes no newline)."""


def _variant(base: bytes, number: int) -> bytes:
    """Return the same workbook with other bytes (a zip comment), as a re-save would."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in hostile.parts_of(base).items():
            archive.writestr(zipfile.ZipInfo(name, (2021, 6, 1, 0, 0, 0)), content)
        archive.comment = f"copy {number}".encode()
    return out.getvalue()


# Names a department's machine may give a valid workbook (each case is one file).
ODD_NAMES: list[tuple[bytes, bool]] = [
    ("提出".encode("cp932") + b".xlsx", True),  # Shift_JIS bytes from a Windows share
    ("令和３年度　健康福祉課".encode("cp932") + b".xlsx", True),  # Shift_JIS, full-width
    (b"\xff\xfe" + "提出".encode("utf-16-le") + b".xlsx", True),  # a BOM and UTF-16 bytes
    (b"r\xe9sum\xe9.xlsx", True),  # Latin-1 bytes
    (b"a\x01b\x1f.xlsx", False),  # control characters
    ("一行目\n二行目.xlsx".encode(), True),  # a newline (S3 takes it; moto's server cannot)
    ("タブ\t区切り\r.xlsx".encode(), False),  # tab and carriage return
    ("報告\u202exslx.exe".encode(), False),  # a bidi override: shows as 報告exe.xlsx
    ("提\u200b出\ufeff.xlsx".encode(), False),  # zero-width characters
    ("\u2028改行\u2029.xlsx".encode(), False),  # line and paragraph separators
    (("長い名前" * 60 + ".xlsx").encode()[:250], True),  # 250 bytes, cut mid-character
    (("あ" * 80 + ".xlsx").encode(), False),  # 245 bytes of kana
    (unicodedata.normalize("NFD", "ポスター.xlsx").encode(), False),  # NFD from a Mac
    (unicodedata.normalize("NFC", "ポスター.xlsx").encode(), False),  # its NFC twin
    (b'=HYPERLINK("evil.example","x")&A1.xlsx', False),  # a formula
    (b"+cmd|' C calc'!A0.xlsx", False),  # DDE
    (b"$(rm -rf ~) `id`; echo.xlsx", False),  # shell
    (b"<img src=x onerror=alert(1)>[x](javascript:1)|a|.xlsx", False),  # HTML, Markdown
    (b"%2e%2e%2fetc%00.xlsx", False),  # URL escapes
    ("提出..xlsx".encode(), False),  # dots
    (b"CON.xlsx", False),  # a reserved name on Windows
    ("提出.xlsx ".encode(), False),  # a trailing space
    ("提出.XLSX".encode(), False),  # capitals
    ("提出".encode(), False),  # no extension
    ("𠮷野髙﨑😀.xlsx".encode(), False),  # outside the BMP, variants, emoji
    ("ｔｅｓｔ（全角）.xlsm".encode(), False),  # full-width, another extension
]

# Artefacts that are never submissions (ignored: no ledger entry).
ARTEFACTS: list[bytes] = [
    "提出.xlsx:Zone.Identifier".encode(),
    "~$提出.xlsx".encode(),
    b"desktop.ini",
    b"Thumbs.db",
    b".DS_Store",
    b"..xlsx",  # hidden on Unix, as is every name starting with a dot
    ".~lock.提出.xlsx#".encode(),  # LibreOffice's lock file
    "__MACOSX/._提出.xlsx".encode(),
]

# Contents that are read, then judged by validation like any other file.
READABLE: list[tuple[Callable[[bytes], bytes], frozenset[str]]] = [
    (hostile.zip64, frozenset(TAKEN)),  # legal ZIP64 headers
    (hostile.file_hyperlink, frozenset(TAKEN)),  # a link to file:///etc/passwd: never followed
    (hostile.rare_kanji, frozenset(TAKEN)),  # 𠮷野家の𩸽、髙橋﨑、葛󠄀飾 in a cell
    (hostile.date1904, frozenset(TAKEN)),  # the 1904 date system: texts are texts
    (hostile.numbers_overflow, frozenset({"rejected"})),  # 1e999, NaN as results: fix them
    (hostile.strict_ooxml, frozenset(TAKEN)),  # Strict Open XML
    (hostile.whitespace_padded_stored, frozenset(TAKEN)),  # 8 MB of stored whitespace
    (hostile.control_characters, frozenset(TAKEN)),  # _x0007_ in a text
]

# Contents refused before validation, with the reader's message (beyond tests.check.test_guard).
REFUSED_MORE: list[tuple[Callable[[bytes], bytes], str]] = [
    *[(hostile.xxe_in(part), "DTD（文書型定義") for part in hostile.XML_PARTS],
    *[(hostile.laughs_in(part), "DTD（文書型定義") for part in hostile.XML_PARTS],
    (hostile.zip64_bomb, "展開後のサイズが上限"),
    (hostile.zip_slip, "構成要素の名前（'../../evil.xml'）が不正"),
    (hostile.duplicate_members, "不正か重複"),
    (hostile.dimension_claims_full_sheet, "使用範囲（A1:XFD1048576）が大きすぎます"),
    (hostile.million_tiny_cells, "セルや要素が多すぎる"),
    (hostile.shared_string_out_of_range, "セルが壊れていて読み取れません"),
    (hostile.shared_strings_count_lies, "2000000000 個の要素を持つと宣言"),
    (hostile.shared_strings_flood, "圧縮率が異常に高い"),
    (hostile.styles_count_lies, "2000000000 個の要素を持つと宣言"),
    (hostile.dde_formula, "数式が入力されています"),
    (hostile.dde_link, "外部参照"),
    (hostile.error_cells, "セル I6、K6、L7 にエラー値"),
    (hostile.indicators_hidden, "シート「指標」が非表示"),
    (hostile.merged_header, "セル A5:B5 が結合されています"),
    (hostile.long_cell, "Excel の上限（32,767字）を超えています"),
    (hostile.encrypted_member, "暗号化または圧縮"),
    (hostile.xls_biff_renamed, "Excel ブック（.xlsx）ではありません"),
    (hostile.html_renamed, "Excel ブック（.xlsx）ではありません"),
]


def build_corpus(plan: Plan) -> list[Drop]:
    """Return every file of the run: valid departments, odd names, hostile contents, strays."""
    drops = [
        Drop(f"{d}/{d}_提出.xlsx".encode(), filled_workbook(plan, d), frozenset({"accepted"}))
        for d in VALID
    ]
    odd = filled_workbook(plan, ODD)
    drops += [
        Drop(ODD.encode() + b"/" + name, _variant(odd, n), frozenset(TAKEN), folder_only=only)
        for n, (name, only) in enumerate(ODD_NAMES)
    ]
    drops.append(
        Drop(
            ODD.encode() + b"/" + b"R3\\R4.xlsx",
            _variant(odd, 99),
            frozenset({"rejected"}),
            "ファイル名に「\\」が含まれている",
        )
    )
    drops += [
        Drop(ODD.encode() + b"/" + name, b"[ZoneTransfer]\r\n", frozenset()) for name in ARTEFACTS
    ]
    base = filled_workbook(plan, HOSTILE)
    # Some corrupt builds give the same bytes: the second is a recorded duplicate.
    refused = {"rejected", "duplicate"}
    drops += [
        Drop(f"{HOSTILE}/{build.__name__}.xlsx".encode(), build(base), frozenset(refused), text)
        for build, text, *_ in [*REFUSED, *REFUSED_MORE]
    ]
    drops += [
        Drop(f"{HOSTILE}/{build.__name__}.xlsx".encode(), build(base), statuses)
        for build, statuses in READABLE
    ]
    wrong_folder = "自部署のフォルダに提出してください"
    drops += [
        Drop("迷子.xlsx".encode(), _variant(base, 1), frozenset({"rejected"}), wrong_folder),
        Drop(
            "健康福祉課".encode("cp932") + b"/a.xlsx",
            _variant(base, 2),
            frozenset({"rejected"}),
            wrong_folder,
            folder_only=True,
        ),
        Drop(b"unknown-dept/x/y.xlsx", _variant(base, 3), frozenset({"rejected"}), wrong_folder),
    ]
    return drops


@dataclass(frozen=True)
class Intake:
    """A workspace with the corpus dropped in its intake."""

    workspace: str
    storage: Storage
    drops: list[Drop]


def _drop_in_folder(root: Path, drops: list[Drop]) -> None:
    base = os.fsencode(root / "intake" / str(YEAR))
    for number, drop in enumerate(drops):
        path = base + b"/" + drop.path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(drop.data)
        # The order of submission, as the ledger records it.
        os.utime(path, (1_622_505_600 + number, 1_622_505_600 + number))


@pytest.fixture(params=["folder", "s3"])
def intake(request: pytest.FixtureRequest, minami: Plan, workspace: Path) -> Intake:
    """Drop the corpus into a fresh workspace on each backend."""
    if request.param == "folder":
        drops = build_corpus(minami)
        _drop_in_folder(workspace, drops)
        return Intake(str(workspace), open_storage(str(workspace)), drops)
    bucket = request.getfixturevalue("bucket")
    drops = [d for d in build_corpus(minami) if not d.folder_only]
    client = raw_s3_client(request.getfixturevalue("s3_env"))
    for drop in drops:
        key = f"ws/intake/{YEAR}/{drop.path.decode()}"
        client.put_object(Bucket=bucket, Key=key, Body=drop.data)
    url = f"s3://{bucket}/ws"
    return Intake(url, open_storage(url), drops)


def _snapshot(storage: Storage) -> dict[str, bytes]:
    return {
        o.key: storage.read_bytes(o.key)
        for prefix in ("ledger", "archive", "curated", "feedback")
        for o in storage.list(prefix)
    }


def _hidden(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")]


def test_no_file_stops_the_others(prefect_server: None, minami: Plan, intake: Intake) -> None:
    """It completes, gives each file its own status, and takes every valid row exactly once."""
    assert len(intake.drops) >= 60
    state = collect_submissions(YEAR, PRESET, intake.workspace, settle_seconds=0, return_state=True)
    assert state.is_completed(), state.message

    ledger = load_ledger(intake.storage, YEAR)
    by_key: dict[str, LedgerEntry] = {e.source_key: e for e in ledger.entries}
    assert len(by_key) == len(ledger.entries)
    for drop in intake.drops:
        key = ledger_text(os.fsdecode(f"intake/{YEAR}/".encode() + drop.path))
        entry = by_key.get(key)
        if not drop.expected:
            assert entry is None, key  # an artefact: never a submission
            continue
        assert entry is not None, key
        assert entry.status in drop.expected, (key, entry.status, entry.first_error)
        if entry.status == "rejected":
            assert entry.first_error and "ください" in entry.first_error, key
        if drop.message and entry.status == "rejected":
            assert drop.message in (entry.first_error or ""), (key, entry.first_error)
        # Names are shown safely and kept exactly.
        assert not _hidden(entry.original_name), key
        name = os.fsdecode(drop.path.rsplit(b"/", 1)[-1])
        assert entry.original_name == display_name(name)
        exact = bytes.fromhex(entry.original_name_bytes or entry.original_name.encode().hex())
        assert exact == drop.path.rsplit(b"/", 1)[-1]
    assert not Path("/tmp/pwned").exists()

    # Each department that has an accepted file has its newest one in force, rows once each.
    consolidated = load_consolidated(intake.storage, YEAR)
    assert not consolidated.duplicated(["initiative_id", "department_id"]).any()
    for department in [*VALID, ODD, HOSTILE]:
        accepted = [e for e in ledger.entries if e.department_id == department]
        assert sum(e.status == "accepted" for e in accepted) == 1, department
        rows = consolidated[consolidated["department_id"] == department]
        assert set(rows["initiative_id"]) == {i.id for i in minami.initiatives_of(department)}, (
            department
        )

    # What people read: the 提出状況, the 差戻し票 keys, the UI's table.
    status = build_status_rows(minami, ledger, dt.date(2021, 6, 1))
    for row in status:
        for value in row.values():
            value.encode("utf-8")
            assert not _hidden(value), row
    feedback = [o.key for o in intake.storage.list(f"feedback/{YEAR}")]
    assert feedback and all(safe_key(k) == k and not _hidden(k) for k in feedback)
    rejected_read = [e for e in ledger.entries if e.status == "rejected" and e.archive_key]
    sheets = [k for k in feedback if "/差戻し票_" in k]  # beside some, a 修正用の調査票
    assert len(sheets) == len(rejected_read) + sum(
        1 for e in ledger.entries if e.status in TAKEN and e.warnings
    )

    # The Prefect UI's tables and findings of this run list the odd names as shown above.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    shown = {a.key: str(a.data) for a in artifacts}
    keys = {
        kind: artifact_key(minami, kind, YEAR, intake.workspace)
        for kind in ("files", "findings", "status")
    }
    assert set(keys.values()) <= set(shown)
    files_table = json.loads(shown[keys["files"]])
    listed = {row["ファイル"] for row in files_table}
    assert {"報告<U+202E>xslx.exe", "𠮷野髙﨑😀.xlsx", "a<U+0001>b<U+001F>.xlsx"} <= listed
    for text in shown.values():
        assert not _hidden(text.replace("\n", "")), text  # lines of Markdown, and names

    # Every file is seen as it is, whatever its name: the next run knows nothing is new.
    assert not anything_new(intake.storage, ledger)
    before = _snapshot(intake.storage)
    again = collect_submissions(YEAR, PRESET, intake.workspace, settle_seconds=0, return_state=True)
    assert again.is_completed(), again.message
    assert _snapshot(intake.storage) == before


MAX_SECONDS_PER_FILE = 60
MAX_RUN_BYTES = 1024**3


def measure_corpus() -> None:
    """Read every file of the corpus as the read step does; print the slowest and the peak.

    Run in a child process (``test_reading_the_corpus_is_bounded``) so that its peak memory
    is its own, not the test session's.
    """
    import resource
    import time

    from tasks.check.read import read_submission
    from tasks.errors import SubmissionError
    from tasks.plan.load import load_plan

    plan = load_plan(PRESET)
    slowest = 0.0
    for drop in build_corpus(plan):
        started = time.perf_counter()
        with contextlib.suppress(SubmissionError):  # refused or read: the bound holds either way
            read_submission(drop.data, plan)
        slowest = max(slowest, time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"slowest_seconds": slowest, "peak_bytes": peak}))


def test_reading_the_corpus_is_bounded_in_time_and_memory() -> None:
    """It reads each hostile file within 60 s, and the whole corpus within 1 GiB."""
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.intake.test_collect_hostile import measure_corpus; measure_corpus()",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    assert figures["slowest_seconds"] < MAX_SECONDS_PER_FILE, figures
    assert figures["peak_bytes"] < MAX_RUN_BYTES, figures
