"""File names as data: the exact bytes a storage listed, and a form safe to show anywhere.

A department's file name (ファイル名) arrives as whatever its machine wrote: Shift_JIS bytes from
a Windows share (which Python lists as a ``str`` with surrogate escapes, and which no UTF-8
file, log or API can hold), control characters and newlines, bidi overrides that make
``a<U+202E>xslx.exe`` read as ``aexe.xlsx``, decomposed kana (NFD) from a Mac, names of hundreds
of characters. None of that may stop the intake, and none of it is ever code: a name is never
passed to a shell, never becomes a formula (cells holding it are typed as text) and never
builds a path (keys of files the product writes use ``safe_stem``).

- ``display_name`` is what people see (ledger, 提出状況, Prefect artifacts, logs, 差戻し票): valid
  UTF-8 in NFC, Shift_JIS (cp932) decoded where the bytes are not UTF-8, invisible and control
  characters shown as ``<U+202E>``, and at most ``MAX_DISPLAY_CHARS`` characters.
- ``exact_name_hex`` keeps the exact bytes (``os.fsencode``) when they are not the display form.
- ``ledger_text`` is a key as the ledger stores it: the key itself when it is valid text, else
  its bytes with the undecodable ones written ``\\x8c`` (one text per listed key, never lossy
  for text keys).
"""

from __future__ import annotations

import os
import re
import unicodedata

MAX_DISPLAY_CHARS = 120
"""Longer names are shown as their start, "…" and their end (the extension stays visible)."""

_STEM_BYTES = 120
"""The most UTF-8 bytes of a name kept in a file name the product writes (a file system's
limit is 255 bytes per name, and the product adds a prefix and a suffix)."""

_STEM_PUNCTUATION = frozenset("-_ ()（）【】「」・\u3000")

# Categories never shown as they are: controls, format characters (bidi overrides, zero
# widths), line and paragraph separators, surrogates, private use and unassigned code points.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def name_bytes(name: str) -> bytes:
    """Return the exact bytes of a listed name (a folder's surrogate escapes undone)."""
    return os.fsencode(name)


def decoded_name(name: str) -> str:
    """Return a name as text: UTF-8 where its bytes are UTF-8, else cp932, else with U+FFFD."""
    raw = name_bytes(name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")
    # cp932 maps stray bytes such as 0xFF to private-use characters: not Shift_JIS text.
    if any(unicodedata.category(char) == "Co" for char in text):
        return raw.decode("utf-8", errors="replace")
    return text


def display_name(name: str) -> str:
    """Return a name as people may safely see it: NFC, visible characters only, bounded length."""
    text = unicodedata.normalize("NFC", decoded_name(name))
    shown = "".join(
        f"<U+{ord(char):04X}>" if unicodedata.category(char) in _HIDDEN_CATEGORIES else char
        for char in text
    )
    if len(shown) > MAX_DISPLAY_CHARS:
        head = MAX_DISPLAY_CHARS * 2 // 3
        tail = MAX_DISPLAY_CHARS - head - 1
        shown = f"{shown[:head]}…{shown[-tail:]}"
    return shown


def visible_text(text: str) -> str:
    """Return text with every hidden character shown as ``<U+202E>``; line breaks and tabs stay.

    For text that reaches people whatever it holds (a cell's value in a 差戻し票, a dataset
    written before cells were cleaned): a bidi override or a control character never acts.
    """
    if text.isprintable():
        return text
    return "".join(f"<U+{ord(c):04X}>" if _acts_unseen(c) else c for c in text)


def _acts_unseen(char: str) -> bool:
    """Return whether a character in text is hidden or acts (not a newer letter Python lacks)."""
    if char in "\n\t":
        return False
    code = ord(char)
    noncharacter = 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE
    return noncharacter or unicodedata.category(char) in _HIDDEN_CATEGORIES - {"Cn"}


def exact_name_hex(name: str) -> str | None:
    """Return the name's exact bytes in hex when its display form is not those bytes, else None."""
    raw = name_bytes(name)
    return None if display_name(name).encode("utf-8") == raw else raw.hex()


def ledger_text(key: str) -> str:
    """Return a listed key as the ledger stores it: itself when it is text, else escaped bytes."""
    return name_bytes(key).decode("utf-8", errors="backslashreplace")


def safe_stem(name: str) -> str:
    """Return a name's stem for a file the product writes: letters, digits, plain punctuation."""
    stem = unicodedata.normalize("NFC", decoded_name(name)).rsplit(".", 1)[0]
    kept = "".join(
        char if char in _STEM_PUNCTUATION or unicodedata.category(char)[0] in "LN" else "_"
        for char in stem
    )
    kept = re.sub("_{2,}", "_", kept)
    encoded = kept.encode("utf-8")[:_STEM_BYTES]
    return encoded.decode("utf-8", errors="ignore").strip("_") or "file"


_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]<>()#+-.!|~")


def markdown_text(text: str) -> str:
    """Return text that Markdown shows as it is (no link, no HTML, no emphasis)."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)
