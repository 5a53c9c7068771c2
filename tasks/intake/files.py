"""Which listed intake files are submissions, and reading them as they were listed.

A storage lists whatever people and their machines put in intake: the intake takes only
workbooks already whole and files that stayed the same for a while (``list_stable``), skips
what editors and operating systems leave beside them (``is_artefact``), and reads each
(``read_unchanged``) so that one file that vanished, changed or cannot be read never stops
the others; one that can never be read gets its reason in Japanese (``unreadable_reason``).
"""

from __future__ import annotations

import io
import time
import zipfile
import zlib

from tasks.errors import StorageError, UnreadableObjectError
from tasks.intake.ledger import Ledger
from tasks.workspace.keys import intake_prefix
from tasks.workspace.names import display_name, ledger_text
from tasks.workspace.storage import Storage, StoredObject


def list_stable(
    storage: Storage, prefix: str, settle_seconds: float, now: float | None = None
) -> tuple[list[StoredObject], list[str]]:
    """Return the objects whose size and time stayed the same for ``settle_seconds``, and the rest.

    Two looks: the second waits only until the youngest listed file that may still be being
    written is ``settle_seconds`` old (by its modification time against ``now``, this
    machine's clock). A department's file dropped minutes before the run is taken at once; so
    is a workbook saved a moment ago that is already whole (:func:`is_whole_workbook`). Any
    other young file is looked at again after the rest of the settle time, and taken only if
    its size and time did not change.
    """
    first = {o.key: o for o in storage.list(prefix)}
    now = time.time() if now is None else now
    # A time in the future (another machine's clock) counts as just written: the full wait.
    young = [o for o in first.values() if now - o.mtime < settle_seconds]
    unsure = [o for o in young if not is_whole_workbook(storage, o)]
    youngest = max((o.mtime for o in unsure), default=now - settle_seconds)
    wait = settle_seconds - max(0.0, now - youngest)
    if wait > 0:
        time.sleep(wait)
    second = storage.list(prefix)
    stable = [o for o in second if first.get(o.key) == o]
    changing = sorted({o.key for o in second} - {o.key for o in stable})
    return stable, changing


_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def is_whole_workbook(storage: Storage, stored: StoredObject) -> bool:
    """Return whether a listed file is an Excel workbook written to its end.

    A workbook is a zip archive whose directory is written last; a copy under way lacks it,
    or (a copy that sets the size first, or writes parts out of order) has a part whose
    checksum does not match. Anything else, or a file that cannot be read now, is not known
    whole.
    """
    if not stored.key.lower().endswith(_WORKBOOK_SUFFIXES):
        return False
    try:
        data = storage.read_bytes(stored.key)
    except StorageError:
        return False
    if len(data) != stored.size:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
        return False


def read_unchanged(
    storage: Storage, fiscal_year: int, candidates: list[StoredObject]
) -> tuple[list[tuple[StoredObject, bytes]], list[str], list[tuple[StoredObject, str]]]:
    """Read the candidates; return those still as listed after reading, the others' keys, and
    the files that can never be read, each with its reason in Japanese.

    A file can be replaced after the two looks, while it is read (a department saving over
    it): bytes that do not match the listing, or a listing that changed, are not taken. A
    file that vanished waits; one the storage refuses (its name, its permissions) is refused
    alone; any other failure to read is the storage's and fails the step (it is retried).
    """
    read: list[tuple[StoredObject, bytes]] = []
    failed: list[tuple[StoredObject, StorageError]] = []
    for stored in candidates:
        try:
            read.append((stored, storage.read_bytes(stored.key)))
        except StorageError as read_error:
            failed.append((stored, read_error))
    if not read and not failed:
        return [], [], []
    after = {o.key: o for o in storage.list(intake_prefix(fiscal_year))}
    unchanged = [(o, data) for o, data in read if after.get(o.key) == o and len(data) == o.size]
    kept = {o.key for o, _ in unchanged}
    replaced = [o.key for o, _ in read if o.key not in kept]
    refused = []
    for stored, error in failed:
        if after.get(stored.key) != stored:
            replaced.append(stored.key)
            continue
        reason = unreadable_reason(stored.key, error)
        if reason is None:
            raise error
        refused.append((stored, reason))
    return unchanged, replaced, refused


def unreadable_reason(key: str, err: StorageError) -> str | None:
    """Return why a listed file can never be read, in Japanese, or None if it may pass."""
    name = display_name(key.rsplit("/", 1)[-1])
    if isinstance(err, UnreadableObjectError) and err.kind == "key":
        return _odd_key_reason(key)
    if isinstance(err, UnreadableObjectError):
        what = (
            "リンク（シンボリックリンク）" if err.kind == "link" else "通常のファイルではないもの"
        )
        return (
            f"「{name}」は{what}のため読み取りません。"
            "調査票のファイルそのものを自部署のフォルダに提出し直してください。"
        )
    cause = err.__cause__
    code = getattr(cause, "response", {}).get("Error", {}).get("Code")
    if isinstance(cause, PermissionError) or code == "AccessDenied":
        return (
            f"「{name}」を読み取る権限がありません。事務局は共有フォルダ（バケット）の"
            "アクセス権を確かめてください。部署は保存し直して提出し直してください。"
        )
    return None


def _odd_key_reason(key: str) -> str:
    """Return why a key that no safe key can name is not read, and what to do, in Japanese."""
    name = display_name(key.rsplit("/", 1)[-1])
    if "\\" in key:
        return (
            f"「{name}」はファイル名に「\\」が含まれているため読み取れません。"
            "「\\」を使わない名前に変えて、自部署のフォルダに提出し直してください。"
        )
    if "\x00" in key:
        return (
            f"「{name}」は名前に NUL 文字（<U+0000>）が含まれているため読み取れません。"
            "普通の名前に変えて、自部署のフォルダに提出し直してください。"
        )
    shown = display_name(key.removeprefix("intake/"))
    return (
        f"「{shown}」は保存場所の指定（パス）に「//」「/./」「/../」、先頭や末尾の「/」などが"
        "含まれているため読み取れません。アップロードに使った道具の保存先の指定を確かめ、"
        "自部署のフォルダ（intake/年度/部署ID/）にファイル名だけを付けて提出し直してください。"
    )


def is_artefact(stored: StoredObject) -> bool:
    """Return whether a listed object is no submission: an editor's or a system's file, or an
    empty folder marker (``…/``, what S3 consoles create for "Create folder")."""
    return is_system_file(stored.key) or (stored.key.endswith("/") and stored.size == 0)


_SYSTEM_NAMES = {"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"}
_SYSTEM_FOLDERS = {"__macosx", "$recycle.bin", "system volume information"}


def is_system_file(key: str) -> bool:
    """Return whether a key is an editor's lock file or an OS file, not a submission."""
    *folders, name = key.rsplit("/")
    # Excel keeps "~$name.xlsx" while a workbook is open; Finder and Explorer leave the rest.
    # A copy from an NTFS share can bring a file's alternate stream as "name:Zone.Identifier".
    return (
        (name.startswith(("~$", ".")) and name not in (".", ".."))  # "." and ".." are paths
        or name.lower() in _SYSTEM_NAMES
        or name.endswith(":Zone.Identifier")
        or any(folder.lower() in _SYSTEM_FOLDERS for folder in folders)
    )


def anything_new(storage: Storage, ledger: Ledger) -> bool:
    """Return whether intake holds a file the ledger has not seen as it is (name, size, time)."""
    seen = {(e.source_key, e.size, e.source_mtime) for e in ledger.entries}
    return any(
        (ledger_text(o.key), o.size, o.mtime) not in seen and not is_artefact(o)
        for o in storage.list(intake_prefix(ledger.fiscal_year))
    )
