"""PDF copies of the 資料 through LibreOffice, when it is installed (optional).

``soffice --headless --convert-to pdf`` runs in a private profile folder, so that two
conversions never fight over LibreOffice's user profile lock.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tasks.errors import RenderError

CONVERT_TIMEOUT_SECONDS = 300


def pdf_available() -> bool:
    """Return whether LibreOffice (soffice) is on this machine."""
    return shutil.which("soffice") is not None


def convert_to_pdf(data: bytes, suffix: str) -> bytes:
    """Return the PDF of a .docx or .xlsx document; raise RenderError if it cannot be made."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RenderError("LibreOffice (soffice) がインストールされていないため、PDF を作れません")
    with tempfile.TemporaryDirectory(prefix="shiryo-pdf-") as folder:
        source = Path(folder) / f"shiryo{suffix}"
        source.write_bytes(data)
        profile = (Path(folder) / "profile").as_uri()
        try:
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation={profile}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    folder,
                    str(source),
                ],
                check=True,
                capture_output=True,
                timeout=CONVERT_TIMEOUT_SECONDS,
            )
            return source.with_suffix(".pdf").read_bytes()
        except (OSError, subprocess.SubprocessError) as err:
            raise RenderError(
                f"LibreOffice で {suffix} を PDF に変換できませんでした: {err}"
            ) from err
