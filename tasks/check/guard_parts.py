"""Read the parts of a submission's zip within the guard's byte and element budgets.

Every part is inflated by us, chunk by chunk, under the byte cap of ``tasks.check.guard_bounds``:
the sizes the zip headers declare are checked, never trusted. XML parts are streamed through
expat without namespace processing (as calamine reads them) and with DTDs refused as they
open, so that no entity is ever declared, expanded or fetched.
"""

from __future__ import annotations

import copy
import zipfile
import zlib
from collections.abc import Callable, Iterator
from xml.parsers import expat

from tasks.check import guard_bounds as bounds
from tasks.errors import SubmissionError

StartHandler = Callable[[str, dict[str, str]], bool | None]
"""Called as an element opens; True asks for the element's text (see ``Package.scan``)."""
EndHandler = Callable[[str], None]
TextHandler = Callable[[str], None]

_CHUNK_BYTES = 64 * 1024


class Package:
    """A submission's zip, read part by part within the byte, element and cell budgets."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.inflated = 0
        self.elements = 0
        self.cells = 0

    def chunks(self, entry: zipfile.ZipInfo) -> Iterator[bytes]:
        """Yield a part's bytes as inflated, refusing a bomb however its headers lie."""
        remaining = bounds.MAX_EXPANDED_BYTES - self.inflated
        # zipfile stops at the size the entry declares. Declare one chunk past our cap instead,
        # so that what stops it is the real end of the stream, or the cap.
        capped = copy.copy(entry)
        capped.file_size = remaining + _CHUNK_BYTES + 1
        produced = 0
        try:
            with self.archive.open(capped) as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    produced += len(chunk)
                    self.inflated += len(chunk)
                    if produced > remaining:
                        raise bounds.too_large_expanded()
                    if bounds.too_steep(produced, entry.compress_size):
                        raise bounds.too_steep_error(entry.filename)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as err:
            raise bounds.broken_part(entry.filename) from err
        if produced != entry.file_size:
            raise bounds.broken_part(entry.filename)

    def skip(self, entry: zipfile.ZipInfo) -> None:
        """Inflate a part nobody parses, only to hold it to the byte budget."""
        for _ in self.chunks(entry):
            pass

    def count(self, entry: zipfile.ZipInfo) -> None:
        """Scan an XML part only so that the element budget counts its elements."""
        self.scan(entry, _count_only)

    def scan(
        self,
        entry: zipfile.ZipInfo,
        start: StartHandler | None = None,
        end: EndHandler | None = None,
        sheet: str | None = None,
        text: TextHandler | None = None,
    ) -> None:
        """Stream an XML part through expat, refusing any DTD, and call the handlers.

        Parts with a ``start`` handler are held to the element budget: the handler costs
        Python time per element. Without one, expat runs at C speed and nothing is counted.
        ``text`` receives the text that follows an element whose ``start`` returned True, up
        to the next element (one call per text node): only what is asked for costs a call.
        """
        where = f"シート「{sheet}」" if sheet else entry.filename
        parser = expat.ParserCreate()

        def refuse_dtd(*_: object) -> None:
            raise SubmissionError(
                f"ブックの一部（{where}）に DTD（文書型定義・外部実体の参照）が含まれているため"
                f"読み込めません。{bounds.RESAVE}",
                sheet=sheet,
            )

        listening = False

        def count_then_start(name: str, attrs: dict[str, str]) -> None:
            nonlocal listening
            self.elements += 1
            if self.elements > bounds.MAX_SCANNED_ELEMENTS:
                raise bounds.too_many_cells(where, sheet)
            if start is not None and (start(name, attrs) is True) != listening and text:
                listening = not listening
                parser.CharacterDataHandler = text if listening else None

        # Rejecting the DOCTYPE as it opens means no entity is ever declared, let alone expanded.
        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_dtd
        if start is not None:
            parser.StartElementHandler = count_then_start
        if end is not None:
            parser.EndElementHandler = end
        parser.buffer_text = True  # a text node in one call, however the chunks split it
        try:
            for chunk in self.chunks(entry):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as err:
            raise bounds.broken_part(where, sheet) from err

    def collect(self, entry: zipfile.ZipInfo, *local_names: str) -> list[dict[str, str]]:
        """Return the attributes of every element of a part named one of ``local_names``."""
        found: list[dict[str, str]] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            if local_name(name) in local_names:
                found.append(attrs)

        self.scan(entry, start)
        return found


def local_name(name: str) -> str:
    """Return an element's name without its prefix."""
    # expat runs without namespace processing, as calamine does: match on the local name.
    return name.rpartition(":")[2]


def _count_only(name: str, attrs: dict[str, str]) -> None:
    """Handle an element only so that the element budget counts it."""
