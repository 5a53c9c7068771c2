"""Deterministic Office Open XML packages (.docx, .xlsx) and text that stays text.

openpyxl and python-docx stamp the current time into the zip entries and into
``docProps/core.xml``. Rewriting the package with fixed times makes the same inputs give the
same bytes, which is what lets a re-run prove it changed nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2000-01-01T00:00:00Z"

_CORE_TIME = re.compile(
    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)


def normalise_package(data: bytes, rewrite: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """Return the package rewritten with fixed entry times and fixed document times.

    ``rewrite`` (entry name, content) gives each entry's content to keep, if given.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if rewrite is not None:
                content = rewrite(info.filename, content)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(
                    lambda m: m.group(1) + FIXED_DOC_TIME.encode() + m.group(2), content
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()
