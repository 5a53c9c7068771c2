"""Conflicts between files checked together, each decided by a stated rule and written down.

Two rules, and a note (``LedgerEntry.notes``, Japanese) on every file they touch, naming the
files and which one was taken, so that the ledger, the 提出状況 and the coordinator's view
all show the decision:

- **The same bytes in several folders** (a department's workbook copied into another's
  folder, or left loose in intake as well): the bytes are checked once, as the file of the
  folder that the workbook's own identity (識別情報) names; without such a folder, as the
  file received first (modification time, then key). Every other copy is rejected, its note
  naming the copy that was checked. A file that cannot be read at all has no identity: each
  copy gets the same refusal.
- **Several files of one department in one check** (two saves, or two names that look the
  same, NFC and NFD): each is checked; of the accepted ones, the one received last
  (modification time, then key) is in force, the others are superseded, and a rejected file
  never replaces an accepted one. Each file's note lists the files and the one taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.intake.ledger import LedgerEntry, name_form
from tasks.plan.model import Plan

_LISTED_NAMES = 5


@dataclass(frozen=True)
class SameBytes:
    """A file not checked itself: another folder's file with the same bytes was."""

    sha256: str
    source_key: str
    note: str
    """Why it was not checked, in Japanese, naming the copy that was."""


def received_order(entry: LedgerEntry) -> tuple[float, str]:
    """Return an entry's place in the order of submission: modification time, then key."""
    return (entry.source_mtime, entry.source_key)


def choose_checked(
    plan: Plan, copies: list[LedgerEntry], identity_department: str | None
) -> tuple[LedgerEntry, list[SameBytes], str | None]:
    """Return the copy of a file to check, a record of each other copy, and the checked one's note.

    ``copies`` hold the same bytes in different places (at least one in a department's folder);
    the identity the workbook carries picks the folder when it names one of theirs.
    """
    ordered = sorted(copies, key=received_order)
    in_folders = [c for c in ordered if c.department_id is not None]
    named = [c for c in in_folders if c.department_id == identity_department]
    chosen = (named or in_folders or ordered)[0]
    others = [c for c in ordered if c is not chosen]
    if not others:
        return chosen, [], None
    rule = (
        "調査票の識別情報の部署のフォルダにあるもの"
        if named
        else "識別情報の部署のフォルダにないため、最初に置かれたもの"
    )
    where = _place(plan, chosen)
    skipped = [
        SameBytes(
            sha256=other.sha256,
            source_key=other.source_key,
            note=(
                f"同じ内容のファイルが {where} にもあり、そちらを確認しました（規則: {rule}）。"
                f"{_place(plan, other)} のこのファイルは受け付けていません。"
                "自部署の調査票に入力して、自部署のフォルダに提出してください。"
            ),
        )
        for other in others
    ]
    shown = "、".join(_place(plan, other) for other in others[:_LISTED_NAMES])
    more = f" ほか {len(others) - _LISTED_NAMES} 件" if len(others) > _LISTED_NAMES else ""
    note = (
        f"同じ内容のファイルが {shown}{more} にもありました。{where} のこのファイルを確認し、"
        f"ほかは受け付けていません（規則: {rule}）。"
    )
    return chosen, skipped, note


def one_department_notes(checked: list[LedgerEntry]) -> dict[tuple[str, str], str]:
    """Return a note for each file of a department that sent several in one check.

    ``checked`` are the check's entries with their final status; the note goes to each of a
    department's files, keyed by (sha256, source key).
    """
    by_department: dict[str, list[LedgerEntry]] = {}
    for entry in checked:
        if entry.department_id is not None:
            by_department.setdefault(entry.department_id, []).append(entry)
    notes: dict[tuple[str, str], str] = {}
    for entries in by_department.values():
        if len(entries) < 2:
            continue
        entries = sorted(entries, key=received_order)
        labels = _labels(entries)
        taken = [e for e in entries if e.status == "accepted"]
        listed = "、".join(f"「{labels[id(e)]}」" for e in entries[:_LISTED_NAMES])
        if len(entries) > _LISTED_NAMES:
            listed += f" ほか {len(entries) - _LISTED_NAMES} 件"
        head = f"同じ部署のファイルが同時に {len(entries)} 件届きました（{listed}）。"
        if taken:
            verdict = (
                f"「{labels[id(taken[-1])]}」を採用しました（規則: 受理したもののうち最後に"
                "置かれたもの。更新日時が同じなら名前の順で後のもの）。ほかは採用していません。"
            )
        else:
            verdict = "どれも差戻しのため、採用したファイルはありません。"
        for entry in entries:
            notes[(entry.sha256, entry.source_key)] = head + verdict
    return notes


def _labels(entries: list[LedgerEntry]) -> dict[int, str]:
    """Return each entry's name as shown, with how it is written where two names look the same."""
    seen: dict[str, int] = {}
    for entry in entries:
        seen[entry.original_name] = seen.get(entry.original_name, 0) + 1
    return {
        id(e): e.original_name
        if seen[e.original_name] == 1
        else f"{e.original_name}（{name_form(e)}）"
        for e in entries
    }


def _place(plan: Plan, entry: LedgerEntry) -> str:
    folder = (
        plan.department(entry.department_id).name
        if entry.department_id is not None
        else "部署のフォルダの外"
    )
    return f"「{folder}」の「{entry.original_name}」"
