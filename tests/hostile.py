"""A corpus of hostile and broken submissions, built in code from a real filled-in workbook.

Each case is a function from the bytes of a genuine submission (``tests.helpers.filled_workbook``
for 地域総務課) to the bytes of the hostile file, made by rewriting the parts of its zip the
way a broken tool, a careless edit or an attacker would. The workbook written by openpyxl has
the main sheet in ``sheet1.xml``, the indicators in ``sheet2.xml``, the identity in
``sheet3.xml``, inline strings and no shared strings; the input cells are I6:M8.

The last section is what a department types rather than what a tool breaks: template syntax,
formulas, markup, bidi and control characters, 外字 and numbers that are none, in cells of an
otherwise valid 調査票 (issue 22).
"""

from __future__ import annotations

import io
import random
import re
import struct
import warnings
import zipfile
from collections.abc import Callable

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from tasks.call.workbook import (
    HEADER_ROW,
    INDICATOR_INPUT_HEADER,
    INDICATOR_NOTE_HEADER,
    field_label,
)
from tasks.plan.model import Plan
from tests.helpers import filled_workbook

MAIN = "xl/worksheets/sheet1.xml"
IDENTITY = "xl/worksheets/sheet3.xml"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
CONTENT_TYPES = "[Content_Types].xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BOMB_BYTES = 60 * 1024 * 1024  # past guard_bounds.MAX_EXPANDED_BYTES
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# --- Rewriting a package ---


def parts_of(data: bytes) -> dict[str, bytes]:
    """Return every part of a zip by name, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def pack(
    parts: dict[str, bytes],
    stored: frozenset[str] = frozenset(),
    compression: dict[str, int] | None = None,
    level: int = 6,
) -> bytes:
    """Return a zip of ``parts``: deflated unless named in ``stored`` or ``compression``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in parts.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            method = (compression or {}).get(name, method)
            archive.writestr(name, content, compress_type=method)
    return out.getvalue()


def edit(base: bytes, name: str, change: Callable[[bytes], bytes], **options: object) -> bytes:
    """Return ``base`` with one part rewritten by ``change``."""
    parts = parts_of(base)
    parts[name] = change(parts[name])
    return pack(parts, **options)  # type: ignore[arg-type]


def sub(pattern: bytes, replacement: bytes, content: bytes) -> bytes:
    """Return ``content`` with ``pattern`` replaced once; fail loudly if it is not there."""
    changed, count = re.subn(pattern, replacement, content, count=1, flags=re.DOTALL)
    assert count == 1, pattern
    return changed


def cell(ref: str, inner: bytes, kind: bytes = b"") -> Callable[[bytes], bytes]:
    """Return a change that replaces the cell ``ref`` of a sheet with new contents."""
    attrs = b' t="' + kind + b'"' if kind else b""
    pattern = rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)'
    new = b'<c r="' + ref.encode() + b'" s="4"' + attrs + b">" + inner + b"</c>"
    return lambda xml: sub(pattern, new, xml)


def add_part(
    parts: dict[str, bytes], name: str, content: bytes, content_type: str, rel_type: str
) -> None:
    """Add a part to a package with its content type and a relationship from the workbook."""
    parts[name] = content
    parts[CONTENT_TYPES] = sub(
        rb"</Types>",
        f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>'.encode(),
        parts[CONTENT_TYPES],
    )
    target = name.removeprefix("xl/")
    parts[WORKBOOK_RELS] = sub(
        rb"</Relationships>",
        f'<Relationship Id="rId{len(parts)}" Type="{_RELS}/{rel_type}" Target="{target}"/>'
        "</Relationships>".encode(),
        parts[WORKBOOK_RELS],
    )


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Return the zip with the uncompressed size of ``name`` rewritten in both its headers."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    patched = bytearray(data)
    struct.pack_into("<I", patched, info.header_offset + 22, size)  # local file header
    at = patched.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", patched, at + 28)[0]
        if patched[at + 46 : at + 46 + length] == name.encode():
            struct.pack_into("<I", patched, at + 24, size)  # central directory entry
            return bytes(patched)
        at = patched.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def _sheet_state(name: str, state: bytes) -> Callable[[bytes], bytes]:
    return lambda xml: sub(
        rb'(<sheet [^>]*name="' + name.encode("ascii", "xmlcharrefreplace") + rb'"[^>]*state=")'
        rb'[^"]*',
        rb"\g<1>" + state,
        xml,
    )


# --- Not a workbook at all ---


def empty(base: bytes) -> bytes:
    """A 0-byte file (a failed upload or copy)."""
    return b""


def truncated_zip(base: bytes) -> bytes:
    """The first half of a real submission: the zip's directory at the end is gone."""
    return base[: len(base) // 2]


def random_bytes(base: bytes) -> bytes:
    """Noise of the same size as a real submission."""
    return random.Random(2021).randbytes(len(base))


def csv_renamed(base: bytes) -> bytes:
    """A CSV saved by Japanese Excel (Shift_JIS) and renamed to .xlsx."""
    return "事業ID,評価\ni049,A\n".encode("cp932")


def ole_compound_file(base: bytes) -> bytes:
    """A legacy .xls or a password-encrypted .xlsx: both are OLE compound files."""
    return OLE_MAGIC + bytes(504) + random.Random(7).randbytes(4096)


def ods_renamed(base: bytes) -> bytes:
    """An OpenDocument spreadsheet renamed to .xlsx (calamine would read it unguarded)."""
    content = (
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
        b"<office:body><office:spreadsheet/></office:body></office:document-content>"
    )
    return pack(
        {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": content},
        stored=frozenset({"mimetype"}),
    )


# --- Active content and references out of the file ---


def vba_project(base: bytes) -> bytes:
    """A workbook carrying a VBA project (xl/vbaProject.bin)."""
    parts = parts_of(base)
    add_part(
        parts,
        "xl/vbaProject.bin",
        OLE_MAGIC + bytes(504),
        "application/vnd.ms-office.vbaProject",
        "vbaProject",
    )
    return pack(parts)


def xlsm_content_type(base: bytes) -> bytes:
    """A macro-enabled workbook (.xlsm content type) renamed to .xlsx, with no VBA part."""
    return edit(
        base,
        CONTENT_TYPES,
        lambda xml: sub(
            rb"spreadsheetml\.sheet\.main\+xml",
            b"ms-excel.sheet.macroEnabled.main+xml",
            xml,
        ),
    )


def external_link(base: bytes) -> bytes:
    """A link to another workbook (xl/externalLinks), as left by a copy from another file."""
    parts = parts_of(base)
    add_part(
        parts,
        "xl/externalLinks/externalLink1.xml",
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' xmlns:r="' + _RELS.encode() + b'"><externalBook r:id="rId1"/></externalLink>',
        "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml",
        "externalLink",
    )
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="' + _RELS.encode() + b'/externalLinkPath"'
        b' Target="file:///C:/secret/other.xlsx" TargetMode="External"/></Relationships>'
    )
    return pack(parts)


_XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def xxe_in_sheet(base: bytes) -> bytes:
    """An external entity in the main sheet, used in an input cell."""
    return edit(
        base,
        MAIN,
        lambda xml: _XXE + cell("I6", b"<is><t>&xxe;</t></is>", b"inlineStr")(xml),
    )


def xxe_in_shared_strings(base: bytes) -> bytes:
    """An external entity in the shared strings, used by an input cell."""
    parts = parts_of(base)
    add_part(
        parts,
        "xl/sharedStrings.xml",
        _XXE + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>',
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
        "sharedStrings",
    )
    parts[MAIN] = cell("I6", b"<v>0</v>", b"s")(parts[MAIN])
    return pack(parts)


def billion_laughs(base: bytes) -> bytes:
    """Nested entities that expand to 10⁹ "lol"s, in the main sheet."""
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10)
    )
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [' + entities + b"]>"
    return edit(
        base, MAIN, lambda xml: doctype + cell("I6", b"<is><t>&lol9;</t></is>", b"inlineStr")(xml)
    )


# --- Zip bombs and other excess ---


def _padded(xml: bytes, size: int, filler: bytes = b" ") -> bytes:
    return sub(rb"<sheetData>", b"<sheetData>" + filler * size, xml)


def zip_bomb(base: bytes) -> bytes:
    """A main sheet that honestly declares and inflates to 60 MB (whitespace, ~1000:1)."""
    return edit(base, MAIN, lambda xml: _padded(xml, BOMB_BYTES), level=1)


def zip_bomb_lying_header(base: bytes) -> bytes:
    """The same bomb with headers that declare the sheet's original, small size."""
    size = len(parts_of(base)[MAIN])
    return declare_size(zip_bomb(base), MAIN, size)


def lying_header_low_ratio(base: bytes, size: int = 2 * 1024 * 1024) -> bytes:
    """A "picture" of ``size`` bytes of four-letter noise (deflates only ~4:1, so no ratio
    alarm) whose headers declare 1 KB: only reading with a byte cap can stop it."""
    noise = random.Random(3).randbytes(size).translate(bytes(b"ACGT"[n % 4] for n in range(256)))
    parts = parts_of(base)
    parts["xl/media/image1.png"] = noise
    return declare_size(pack(parts, level=1), "xl/media/image1.png", 1024)


def whitespace_padded(base: bytes) -> bytes:
    """A main sheet padded with 8 MB of whitespace between its elements, deflated."""
    return edit(base, MAIN, lambda xml: _padded(xml, 4 * 1024 * 1024, b"\r\n"))


def whitespace_padded_stored(base: bytes) -> bytes:
    """The same padding stored uncompressed: an 8 MB file that is a valid workbook."""
    return edit(
        base,
        MAIN,
        lambda xml: _padded(xml, 4 * 1024 * 1024, b"\r\n"),
        stored=frozenset({MAIN}),
    )


def too_many_entries(base: bytes) -> bytes:
    """3,000 extra empty parts in the zip."""
    parts = parts_of(base)
    parts.update({f"customXml/item{n}.bin": b"" for n in range(3000)})
    return pack(parts, level=1)


def corrupt_part(base: bytes) -> bytes:
    """Bytes flipped in the middle of the main sheet's deflated data (a bad disk or upload)."""
    info = zipfile.ZipFile(io.BytesIO(base)).getinfo(MAIN)
    names = struct.unpack_from("<HH", base, info.header_offset + 26)
    start = info.header_offset + 30 + sum(names) + info.compress_size // 2
    broken = bytearray(base)
    broken[start : start + 16] = bytes(b ^ 0xFF for b in broken[start : start + 16])
    return bytes(broken)


def bzip2_part(base: bytes) -> bytes:
    """The main sheet compressed with bzip2, which Excel never writes."""
    return pack(parts_of(base), compression={MAIN: zipfile.ZIP_BZIP2})


# --- Sheets too large for a form ---

_FAR_ROW = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'


def far_cell(base: bytes) -> bytes:
    """One value in XFD1048576 of the main sheet (calamine would allocate 17 billion cells)."""
    return edit(base, MAIN, lambda xml: sub(rb"</sheetData>", _FAR_ROW + b"</sheetData>", xml))


def far_cell_and_dimension(base: bytes) -> bytes:
    """The same value, and the sheet's dimension claiming A1:XFD1048576."""
    return edit(
        far_cell(base),
        MAIN,
        lambda xml: sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml),
    )


def many_cells(base: bytes) -> bytes:
    """Two million empty cells, all within A1:BL5000, in the main sheet."""
    letters = [chr(65 + n) for n in range(26)] + [f"A{chr(65 + n)}" for n in range(26)]
    columns = [c.encode() for c in letters + [f"B{chr(65 + n)}" for n in range(12)]]
    rows = b"".join(
        b'<row r="%d">' % r + b"".join(b'<c r="%s%d"/>' % (c, r) for c in columns) + b"</row>"
        for r in range(9, 5000)
    )
    return edit(
        base, MAIN, lambda xml: sub(rb"</sheetData>", rows * 7 + b"</sheetData>", xml), level=1
    )


# --- What people do to cells and sheets ---


def formulas(base: bytes) -> bytes:
    """Formulas in input cells: =1+1 with and without a cached value, =HYPERLINK, shared."""
    changes = [
        cell("K6", b"<f>1+1</f><v>2</v>"),
        cell("K7", b"<f>1+1</f>"),
        cell("K8", b'<f>HYPERLINK("http://example.com/","A")</f><v>A</v>', b"str"),
        cell("L6", b'<f t="shared" ref="L6:L7" si="0">K6</f><v>2</v>'),
        cell("L7", b'<f t="shared" si="0"/><v>2</v>'),
    ]

    def apply(xml: bytes) -> bytes:
        for change in changes:
            xml = change(xml)
        return xml

    return edit(base, MAIN, apply)


def control_characters(base: bytes) -> bytes:
    """Control characters in a text, escaped the way Excel writes them (_x0007_)."""
    return edit(
        base,
        MAIN,
        cell("I6", "<is><t>計画_x0007_の記入_x001B_です</t></is>".encode(), b"inlineStr"),
    )


def merged_input_cells(base: bytes) -> bytes:
    """Input cells I6:J7 merged into one."""
    return edit(
        base,
        MAIN,
        lambda xml: sub(
            rb"<dataValidations",
            b'<mergeCells count="1"><mergeCell ref="I6:J7"/></mergeCells><dataValidations',
            xml,
        ),
    )


def main_renamed(base: bytes) -> bytes:
    """The main sheet renamed to Sheet1."""
    return edit(
        base,
        WORKBOOK,
        lambda xml: sub(rb'name="[^"]*" sheetId="1"', b'name="Sheet1" sheetId="1"', xml),
    )


def main_hidden(base: bytes) -> bytes:
    """The main sheet hidden."""
    return edit(
        base, WORKBOOK, lambda xml: sub(rb'(sheetId="1" state=")visible', rb"\1hidden", xml)
    )


def identity_visible(base: bytes) -> bytes:
    """The very hidden identity sheet made visible."""
    return edit(base, WORKBOOK, lambda xml: sub(rb'state="veryHidden"', b'state="visible"', xml))


def identity_deleted(base: bytes) -> bytes:
    """The identity sheet deleted: gone from the workbook, its part and relationship too."""
    parts = parts_of(base)
    parts[WORKBOOK] = sub(rb'<sheet [^>]*name="_shiryo"[^>]*/>', b"", parts[WORKBOOK])
    parts[WORKBOOK_RELS] = sub(
        rb'<Relationship [^>]*sheet3\.xml"[^>]*/>', b"", parts[WORKBOOK_RELS]
    )
    parts[CONTENT_TYPES] = sub(
        rb'<Override PartName="/xl/worksheets/sheet3\.xml"[^>]*/>', b"", parts[CONTENT_TYPES]
    )
    del parts[IDENTITY]
    return pack(parts)


def zero_sheets(base: bytes) -> bytes:
    """A workbook whose sheet list is empty."""

    def strip(xml: bytes) -> bytes:
        xml = sub(rb"<definedNames>.*</definedNames>", b"", xml)
        return sub(rb"<sheets>.*</sheets>", b"<sheets/>", xml)

    return edit(base, WORKBOOK, strip)


def strict_ooxml(base: bytes) -> bytes:
    """The workbook saved as Strict Open XML (other namespaces and relationship types)."""
    parts = {
        name: content.replace(
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ).replace(
            b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            b"http://purl.oclc.org/ooxml/officeDocument/relationships",
        )
        for name, content in parts_of(base).items()
    }
    return pack(parts)


def extra_rows_and_sheet(base: bytes) -> bytes:
    """A note typed in the rows below the data, and a sheet of notes added."""
    workbook = load_workbook(io.BytesIO(base))
    sheet = workbook.worksheets[0]
    sheet.cell(row=12, column=1, value="メモ")
    sheet.cell(row=12, column=10, value="来年度に見直し")
    notes = workbook.create_sheet("メモ")
    notes["A1"] = "課内の作業メモ"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- More of the same, for issue 13: every XML part, ZIP64, names inside the zip, cells ---

XML_PARTS = (
    CONTENT_TYPES,
    "_rels/.rels",
    WORKBOOK,
    WORKBOOK_RELS,
    "xl/styles.xml",
    "docProps/core.xml",
    "docProps/app.xml",
    MAIN,
    "xl/worksheets/sheet2.xml",
    IDENTITY,
)
"""Every XML part of the base workbook: each gets its own external entity and laughs."""


def _with_doctype(doctype: bytes) -> Callable[[bytes], bytes]:
    # The part's own XML declaration stays out: the DOCTYPE must precede the root element.
    return lambda xml: doctype + re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)


def xxe_in(part: str) -> Callable[[bytes], bytes]:
    """Return a builder that puts an external entity (file:///etc/passwd) in ``part``."""

    def build(base: bytes) -> bytes:
        return edit(base, part, _with_doctype(_XXE))

    build.__name__ = f"xxe_in_{_slug(part)}"
    return build


def laughs_in(part: str) -> Callable[[bytes], bytes]:
    """Return a builder that declares the billion laughs in ``part``."""
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10)
    )

    def build(base: bytes) -> bytes:
        return edit(
            base, part, _with_doctype(b'<?xml version="1.0"?><!DOCTYPE x [' + entities + b"]>")
        )

    build.__name__ = f"billion_laughs_in_{_slug(part)}"
    return build


def _slug(part: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_")


def zip64_bomb(base: bytes) -> bytes:
    """The 60 MB whitespace sheet written with ZIP64 headers (sizes in the ZIP64 extra field)."""
    parts = parts_of(base)
    parts[MAIN] = _padded(parts[MAIN], BOMB_BYTES)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in parts.items():
            with archive.open(name, "w", force_zip64=True) as handle:
                handle.write(content)
    return out.getvalue()


def zip_slip(base: bytes) -> bytes:
    """Members named ../../evil.xml, /etc/cron.d/x and ..\\..\\win.xml (a zip-slip attempt)."""
    parts = parts_of(base)
    parts["../../evil.xml"] = b"<x/>"
    parts["/etc/cron.d/x"] = b"* * * * * root touch /tmp/pwned"
    parts["..\\..\\win.xml"] = b"<x/>"
    return pack(parts)


def duplicate_members(base: bytes) -> bytes:
    """The main sheet twice in the zip, the second copy with other values."""
    parts = parts_of(base)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
        second = cell("I6", b"<is><t>second</t></is>", b"inlineStr")(parts[MAIN])
        with warnings.catch_warnings():  # zipfile warns of the very duplicate made here
            warnings.simplefilter("ignore", UserWarning)
            archive.writestr(MAIN, second)
    return out.getvalue()


def zip64(base: bytes) -> bytes:
    """The same workbook with ZIP64 headers on every member (legal, never written by Excel)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts_of(base).items():
            info = zipfile.ZipInfo(name, (2021, 6, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                member.write(content)
    return out.getvalue()


def dimension_claims_full_sheet(base: bytes) -> bytes:
    """Only the dimension claims A1:XFD1048576; every cell is where it was."""
    return edit(
        base,
        MAIN,
        lambda xml: sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml),
    )


def million_tiny_cells(base: bytes) -> bytes:
    """A million cells holding the number 1 each, within A1:BL5000, in the main sheet."""
    columns = [f"{'A' if n >= 26 else ''}{chr(65 + n % 26)}".encode() for n in range(50)]
    rows = b"".join(
        b'<row r="%d">' % r
        + b"".join(b'<c r="%s%d"><v>1</v></c>' % (c, r) for c in columns)
        + b"</row>"
        for r in range(9, 4000)
    )
    return edit(
        base, MAIN, lambda xml: sub(rb"</sheetData>", rows * 5 + b"</sheetData>", xml), level=1
    )


_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _with_shared_strings(base: bytes, table: bytes, index: bytes) -> bytes:
    """Return ``base`` with a shared-strings table (its tail after <sst) and I6 pointing in."""
    parts = parts_of(base)
    add_part(parts, "xl/sharedStrings.xml", _SST + table, _SST_TYPE, "sharedStrings")
    parts[MAIN] = cell("I6", b"<v>" + index + b"</v>", b"s")(parts[MAIN])
    return pack(parts)


def shared_string_out_of_range(base: bytes) -> bytes:
    """An input cell pointing at shared string 999999 of a table holding one."""
    return _with_shared_strings(base, b' count="1"><si><t>a</t></si></sst>', b"999999")


def shared_strings_count_lies(base: bytes) -> bytes:
    """A shared-string table claiming two billion strings (a reader that preallocates dies)."""
    table = b' count="2000000000" uniqueCount="2000000000"><si><t>a</t></si></sst>'
    return _with_shared_strings(base, table, b"0")


def shared_strings_flood(base: bytes) -> bytes:
    """300,000 shared strings, none used (calamine loads them all up front)."""
    parts = parts_of(base)
    strings = b"<si><t>x</t></si>" * 300_000
    add_part(
        parts, "xl/sharedStrings.xml", _SST + b">" + strings + b"</sst>", _SST_TYPE, "sharedStrings"
    )
    return pack(parts)


def dde_formula(base: bytes) -> bytes:
    """A DDE formula in an input cell (=cmd|' /C calc'!A0), its cached value a harmless text."""
    return edit(base, MAIN, cell("K6", b"<f>cmd|' /C calc'!A0</f><v>A</v>", b"str"))


def dde_link(base: bytes) -> bytes:
    """A DDE link part (externalLink with ddeLink), as a copy from a DDE-fed sheet leaves."""
    parts = parts_of(base)
    add_part(
        parts,
        "xl/externalLinks/externalLink1.xml",
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<ddeLink ddeService="cmd" ddeTopic="/C calc"/></externalLink>',
        "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml",
        "externalLink",
    )
    return pack(parts)


def file_hyperlink(base: bytes) -> bytes:
    """A hyperlink on an input cell to file:///etc/passwd (a relationship nobody follows)."""
    parts = parts_of(base)
    parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rIdH1" Type="' + _RELS.encode() + b'/hyperlink"'
        b' Target="file:///etc/passwd" TargetMode="External"/></Relationships>'
    )
    parts[MAIN] = sub(
        rb"</sheetData>",
        b'</sheetData><hyperlinks><hyperlink ref="I6" r:id="rIdH1" xmlns:r="'
        + _RELS.encode()
        + b'"/></hyperlinks>',
        parts[MAIN],
    )
    return pack(parts)


def date1904(base: bytes) -> bytes:
    """The workbook switched to the 1904 date system (old Mac Excel)."""

    def switch(xml: bytes) -> bytes:
        if b"<workbookPr" in xml:
            return sub(rb"<workbookPr", b'<workbookPr date1904="1"', xml)
        return sub(rb"(<workbook[^>]*>)", rb'\1<workbookPr date1904="1"/>', xml)

    return edit(base, WORKBOOK, switch)


def error_cells(base: bytes) -> bytes:
    """Error values (#DIV/0!, #N/A, #REF!) in input cells, typed t="e" as Excel writes them."""
    changes = [
        cell("I6", b"<v>#DIV/0!</v>", b"e"),
        cell("K6", b"<v>#N/A</v>", b"e"),
        cell("L7", b"<v>#REF!</v>", b"e"),
    ]

    def apply(xml: bytes) -> bytes:
        for change in changes:
            xml = change(xml)
        return xml

    return edit(base, MAIN, apply)


def indicators_hidden(base: bytes) -> bytes:
    """The indicator sheet hidden."""
    return edit(
        base,
        WORKBOOK,
        lambda xml: sub(
            rb'(<sheet [^>]*name="\xe6\x8c\x87\xe6\xa8\x99"[^>]*state=")[^"]*', rb"\g<1>hidden", xml
        ),
    )


def merged_header(base: bytes) -> bytes:
    """Header cells A5:B5 of the main sheet merged."""
    return edit(
        base,
        MAIN,
        lambda xml: sub(
            rb"<dataValidations",
            b'<mergeCells count="1"><mergeCell ref="A5:B5"/></mergeCells><dataValidations',
            xml,
        ),
    )


def long_cell(base: bytes) -> bytes:
    """40,000 characters in a text input cell (Excel itself stops at 32,767)."""
    return edit(
        base, MAIN, cell("I6", b"<is><t>" + "長".encode() * 40_000 + b"</t></is>", b"inlineStr")
    )


def rare_kanji(base: bytes) -> bytes:
    """Characters beyond the BMP and 異体字 in a text (𠮷野家, 𩸽, 髙, 﨑, 葛󠄀)."""
    text = "𠮷野家の𩸽、髙橋﨑、葛󠄀飾の記入".encode()
    return edit(base, MAIN, cell("I6", b"<is><t>" + text + b"</t></is>", b"inlineStr"))


def encrypted_member(base: bytes) -> bytes:
    """The main sheet's entry flagged as encrypted (ZipCrypto), as a password tool leaves it."""
    data = bytearray(pack(parts_of(base)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(MAIN)
    struct.pack_into("<H", data, info.header_offset + 6, info.flag_bits | 0x1)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == MAIN.encode():
            struct.pack_into("<H", data, at + 8, info.flag_bits | 0x1)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def styles_count_lies(base: bytes) -> bytes:
    """A style table claiming two billion cell formats."""
    return edit(
        base,
        "xl/styles.xml",
        lambda xml: sub(rb'<cellXfs count="\d+"', b'<cellXfs count="2000000000"', xml),
    )


def xls_biff_renamed(base: bytes) -> bytes:
    """An old BIFF5 .xls stream without the OLE wrapper, renamed to .xlsx."""
    return b"\x09\x08\x08\x00\x00\x05\x05\x00" + bytes(200)


def html_renamed(base: bytes) -> bytes:
    """A web page saved "as Excel" (HTML with an .xlsx name), as some systems export."""
    return "<html><body><table><tr><td>事業ID</td></tr></table></body></html>".encode()


def numbers_overflow(base: bytes) -> bytes:
    """Numbers that overflow or are not numbers (1e999, NaN, -0) in input cells."""
    changes = [cell("K6", b"<v>1e999</v>"), cell("K7", b"<v>NaN</v>"), cell("K8", b"<v>-0</v>")]

    def apply(xml: bytes) -> bytes:
        for change in changes:
            xml = change(xml)
        return xml

    return edit(base, MAIN, apply)


# --- What a department types: text that must stay data everywhere (issue 22) ---
#
# These are written into the product's own 調査票 (``filled_workbook`` starts from
# ``tasks.call.workbook.build_submission_workbook``), the way a department's Excel stores
# them: typed text as text cells, numbers as number cells.

HOSTILE_TEXTS = [
    # template syntax: Jinja's tags and docxtpl's own escapes of them
    "{{7*7}} と {% if true %}x{% endif %}、{_{ raw }_} {_% x %_} {# 注 #}",
    # a formula, and texts that start like one
    '=HYPERLINK("http://evil.example/","クリック")',
    "+81-3-1234-5678 ／ -5人 ／ @担当者",
    # markup: HTML, WordprocessingML, XML entities
    "<script>alert(1)</script><w:p><w:r><w:t>x</w:t></w:r></w:p>&amp;&lt;",
    # Markdown: a link, emphasis, a table
    "[リンク](javascript:alert(1)) **太字** | 表 | --- |",
    # bidi overrides and isolates: 報告exe.xlsx would read as 報告xslx.exe
    "報告\u202eexe.xlsx\u202c の\u2066向き\u2069",
    # zero widths, a byte order mark, a soft hyphen, a word joiner
    "見えない\u200b文字\ufeff\u2060と\u00adハイフン",
    # C1 controls: a CSI (ANSI escape) and a NEL
    "制御\x9b31m文字\x85の後",
    # private use (外字), in the BMP and beyond
    "外字\ue000と\U000f0000です",
    # paths, shell, format strings
    "../../etc/passwd C:\\Windows\\win.ini %2e%2e%2f $(id) `id` ${HOME} %s %(x)s {0} $column",
    # a noncharacter
    "非文字\ufdd0です",
    # words pandas would read as missing, and an error value typed as text
    "NA",
    "#N/A",
]
"""Texts a department may type (or paste) into any free-text cell of its 調査票."""


def ansi_escape(base: bytes) -> bytes:
    """An ANSI colour escape, a bell and a NUL in a comment, as Excel stores C0 controls
    (_x001B_)."""
    text = "色_x001B_[31m赤_x0007__x0000_".encode()
    return edit(base, MAIN, cell("L6", b"<is><t>" + text + b"</t></is>", b"inlineStr"))


def typed_text(plan: Plan, department_id: str, texts: list[str] | None = None) -> bytes:
    """A department's valid 調査票 with hostile text in every free-text cell and indicator note."""
    texts = texts or HOSTILE_TEXTS

    def type_text(workbook: Workbook) -> None:
        sheet = workbook[plan.submission.sheet_name]
        headers = {c.value: c.column for c in sheet[HEADER_ROW]}
        fields = [f for f in plan.submission.fields if f.kind == "text"]
        number = 0
        for row in range(HEADER_ROW + 1, sheet.max_row + 1):
            for field in fields:
                cell = sheet.cell(row=row, column=headers[field_label(plan, field.label)])
                cell.value = texts[number % len(texts)]
                cell.data_type = "s"  # typed as text ('=1+1 in Excel)
                number += 1
        if plan.submission.indicator_sheet_name in workbook.sheetnames:
            indicators = workbook[plan.submission.indicator_sheet_name]
            notes = {c.value: c.column for c in indicators[HEADER_ROW]}[INDICATOR_NOTE_HEADER]
            for row in range(HEADER_ROW + 1, indicators.max_row + 1):
                cell = indicators.cell(row=row, column=notes)
                cell.value, cell.data_type = texts[number % len(texts)], "s"
                number += 1

    return filled_workbook(plan, department_id, edit=type_text)


NOT_NUMBERS_STORED = {"I6": b"NaN", "J6": b"1e999", "I7": b"0x10", "J7": b"-INF"}
"""Number cells of the main sheet whose stored value is no number (Excel never writes one)."""


def numbers_not_numbers(base: bytes) -> bytes:
    """Number cells holding NaN, 1e999, 0x10 and -INF where 計画 and 実績 are asked for."""
    changes = [cell(ref, b"<v>" + value + b"</v>") for ref, value in NOT_NUMBERS_STORED.items()]

    def apply(xml: bytes) -> bytes:
        for change in changes:
            xml = change(xml)
        return xml

    return edit(base, MAIN, apply)


NOT_NUMBER_TEXTS = ["NaN", "1e999", "0x10", "inf", "10²", "①", "9" * 400]
"""Indicator results typed as text that no reading makes a finite decimal number."""


def indicator_texts(plan: Plan, department_id: str, texts: list[str]) -> bytes:
    """A 調査票 whose indicator results are the given texts (typed as text), one per row."""

    def type_results(workbook: Workbook) -> None:
        sheet = workbook[plan.submission.indicator_sheet_name]
        column = {c.value: c.column for c in sheet[HEADER_ROW]}[
            INDICATOR_INPUT_HEADER.format(year=plan.fiscal_year.current)
        ]
        for row, text in zip(range(HEADER_ROW + 1, sheet.max_row + 1), texts, strict=False):
            result = sheet.cell(row=row, column=column)
            result.value, result.data_type = text, "s"

    return filled_workbook(plan, department_id, edit=type_results)
