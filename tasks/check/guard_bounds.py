"""The bounds the package guard holds a submission to, and its refusals in Japanese.

A filled 調査票 is 10–50 KB, has about a dozen zip parts, 13 columns, one row per initiative
and about a thousand cells: every bound below is far above that and far below what would hurt.
The guard modules read these as ``bounds.NAME`` at call time, so that one patch changes them
everywhere. Each refusal says what is wrong and what to do.
"""

from __future__ import annotations

from tasks.errors import SubmissionError

# Leaves room for a few pasted photos; anything larger is not a form someone filled in.
MAX_FILE_BYTES = 20 * 1024 * 1024
# Sum over all parts, of the declared sizes and of the bytes actually inflated: room for stored
# pictures, while bounding what the scan and calamine go through (about 1 s at most).
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
# Excel adds a few parts per sheet, picture or comment; also bounds zipfile's directory parse,
# which costs about 9 µs per entry (a 20 MB directory of empty entries would take 2 s).
MAX_ZIP_ENTRIES = 2000
# Apache POI's default (ZipSecureFile): office XML deflates 5–20×; a part that inflates more
# than 100× (past the first 100 KiB) is padding or a zip bomb.
MAX_COMPRESSION_RATIO = 100
_RATIO_GRACE_BYTES = 100 * 1024
# calamine and to_python() build a dense range from A1 to the last cell: these bound it to
# 320,000 cells (about 13 MB). No department has anywhere near 5,000 initiatives.
MAX_SHEET_ROWS = 5000
MAX_SHEET_COLS = 64
# Cells written (<c>) in the whole workbook: bounds calamine's cell list and the scan's time
# (about 1.5 µs per XML element).
MAX_CELLS = 100_000
# A cell is <c> plus a few children (<v>, <is>, <t>, rich-text runs, furigana); more elements
# than this in sheets and shared strings is padding, not data.
MAX_SCANNED_ELEMENTS = 5 * MAX_CELLS

RESAVE = "配布した調査票に値だけを入力し、Excel で .xlsx 形式で保存し直して提出してください。"


def too_steep(inflated: int, compressed: int) -> bool:
    """Return whether a part inflates past the compression ratio allowed."""
    return inflated > _RATIO_GRACE_BYTES and inflated > MAX_COMPRESSION_RATIO * compressed


def not_xlsx() -> SubmissionError:
    """Refuse a file that is not a zip package with a workbook in it."""
    return SubmissionError(
        "Excel ブック（.xlsx）ではありません（CSV やテキスト、途中で切れたファイルなど）。"
        "配布した調査票に入力し、.xlsx 形式で保存してください。"
    )


def macros() -> SubmissionError:
    """Refuse a macro-enabled workbook."""
    return SubmissionError(
        "マクロを含むブック（.xlsm など）は受け付けられません。"
        "マクロなしの Excel ブック（.xlsx）形式で保存し直してください。"
    )


def too_many_entries(count: int) -> SubmissionError:
    """Refuse a zip of more than ``MAX_ZIP_ENTRIES`` parts."""
    return SubmissionError(
        f"ブックの構成要素が多すぎるため読み込めません（{count:,} 個、上限 "
        f"{MAX_ZIP_ENTRIES:,} 個）。{RESAVE}"
    )


def too_large_expanded() -> SubmissionError:
    """Refuse a package that declares or inflates past ``MAX_EXPANDED_BYTES``."""
    return SubmissionError(
        f"展開後のサイズが上限（{MAX_EXPANDED_BYTES:,} バイト）を超えるため読み込めません"
        f"（圧縮爆弾の疑い）。{RESAVE}"
    )


def too_steep_error(part: str) -> SubmissionError:
    """Refuse a part that inflates past ``MAX_COMPRESSION_RATIO``."""
    return SubmissionError(
        f"ブックの一部（{part}）の圧縮率が異常に高いため読み込めません（圧縮爆弾の疑い）。" + RESAVE
    )


def too_many_cells(where: str, sheet: str | None) -> SubmissionError:
    """Refuse a workbook past the cell or element budget."""
    return SubmissionError(
        f"ブックのセルや要素が多すぎるため読み込めません（{where}、ブック全体で上限 "
        f"{MAX_CELLS:,} セル）。不要な入力や書式を削除するか、{RESAVE}",
        sheet=sheet,
    )


def broken_part(where: str, sheet: str | None = None) -> SubmissionError:
    """Refuse a part that does not inflate or parse."""
    return SubmissionError(
        f"ブックの一部（{where}）が壊れているため読み込めません。"
        f"Excel で開けることを確かめ、.xlsx 形式で保存し直してください。",
        sheet=sheet,
    )


def declared_count(part: str, count: str) -> SubmissionError:
    """Refuse a table that declares more items than a workbook may hold (a reader that sizes
    its memory by the declaration would ask for gigabytes)."""
    return SubmissionError(
        f"ブックの一部（{part}）が {count} 個の要素を持つと宣言しているため読み込めません"
        f"（上限 {MAX_SCANNED_ELEMENTS:,} 個）。{RESAVE}"
    )


def bad_member_name(part: str) -> SubmissionError:
    """Refuse a zip member whose name climbs out of the package or appears twice."""
    return SubmissionError(
        f"ブックの構成要素の名前（{part!r}）が不正か重複しているため読み込めません"
        f"（展開先の外を指す名前・同名の要素）。{RESAVE}"
    )
