"""Tests of file names as data: exact bytes kept, a display form safe anywhere."""

from __future__ import annotations

import os
import unicodedata

import pytest

from tasks.workspace.names import (
    MAX_DISPLAY_CHARS,
    display_name,
    exact_name_hex,
    ledger_text,
    markdown_text,
    safe_stem,
)
from tasks.workspace.storage import safe_key

# (name as the storage lists it, its display form)
DISPLAYED = [
    # plain Japanese stays as it is
    ("提出.xlsx", "提出.xlsx"),
    # Shift_JIS bytes from a Windows share, listed with surrogate escapes
    (os.fsdecode("提出".encode("cp932") + b".xlsx"), "提出.xlsx"),
    # bytes that are neither UTF-8 nor Shift_JIS text: replacement characters
    (os.fsdecode(b"\xff\xfeabc.xlsx"), "\ufffd\ufffdabc.xlsx"),
    # a bidi override is shown, not obeyed
    ("報告\u202exslx.exe", "報告<U+202E>xslx.exe"),
    # control characters and a newline
    ("a\x01b\nc.xlsx", "a<U+0001>b<U+000A>c.xlsx"),
    # zero-width characters and a BOM
    ("提\u200b出\ufeff.xlsx", "提<U+200B>出<U+FEFF>.xlsx"),
    # NFD from a Mac becomes NFC
    (unicodedata.normalize("NFD", "ポスター.xlsx"), "ポスター.xlsx"),
    # outside the BMP stays
    ("𠮷野家.xlsx", "𠮷野家.xlsx"),
]


@pytest.mark.parametrize(("name", "shown"), DISPLAYED)
def test_it_shows_any_name_safely(name: str, shown: str) -> None:
    """It shows a name decoded, in NFC, with every invisible character spelled out."""
    assert display_name(name) == shown
    shown.encode("utf-8")  # never a surrogate


@pytest.mark.parametrize(("name", "shown"), DISPLAYED)
def test_it_keeps_the_exact_bytes_when_the_display_differs(name: str, shown: str) -> None:
    """It keeps the name's exact bytes in hex unless the display form is those bytes."""
    kept = exact_name_hex(name)
    if shown.encode("utf-8") == os.fsencode(name):
        assert kept is None
    else:
        assert kept is not None and bytes.fromhex(kept) == os.fsencode(name)


def test_it_cuts_a_long_name_and_keeps_its_extension() -> None:
    """It shows at most MAX_DISPLAY_CHARS characters, the end (extension) included."""
    shown = display_name("あ" * 300 + ".xlsx")
    assert len(shown) == MAX_DISPLAY_CHARS and "…" in shown and shown.endswith("あ.xlsx")


def test_it_stores_any_key_as_text_one_to_one() -> None:
    """It stores a text key unchanged and a key of raw bytes with the bytes escaped."""
    assert ledger_text("intake/2021/a\n.xlsx") == "intake/2021/a\n.xlsx"
    raw = os.fsdecode(b"intake/2021/\x8c\x92.xlsx")
    assert ledger_text(raw) == "intake/2021/\\x8c\\x92.xlsx"
    assert ledger_text(raw) != ledger_text(os.fsdecode(b"intake/2021/\x8c\x93.xlsx"))


@pytest.mark.parametrize(
    "name",
    [
        "a\\b/../c.xlsx",  # separators and a climb
        '=HYPERLINK("x")&A1.xlsx',  # a formula
        "$(rm -rf ~) `id`.xlsx",  # shell
        "あ" * 200 + ".xlsx",  # too long for a file name once prefixed
        "\x00\x01.xlsx",  # nothing printable
    ],
)
def test_it_makes_a_stem_that_is_a_safe_file_name(name: str) -> None:
    """It builds a stem of letters, digits and plain punctuation, short enough for any disk."""
    stem = safe_stem(name)
    key = f"feedback/2021/x/差戻し票_{stem}_0123abcd.xlsx"
    assert safe_key(key) == key
    assert len(key.rsplit("/", 1)[-1].encode("utf-8")) <= 255
    assert not set(stem) & set("\\/$`=&|;\"'\x00\x01")


def test_it_escapes_markdown_so_a_name_is_only_text() -> None:
    """It escapes what Markdown would turn into a link, HTML or emphasis."""
    assert markdown_text("[x](javascript:1) <b>*a*</b>") == (
        "\\[x\\]\\(javascript:1\\) \\<b\\>\\*a\\*\\</b\\>"
    )
