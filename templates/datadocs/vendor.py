"""Refresh the Data Docs' vendored scripts, styles and fonts from the npm registry.

GX's Data Docs templates load bootstrap, jquery, font-awesome, vega and others from internet
CDNs; on a closed network (LGWAN) the pages stay empty. ``assets.json`` names, for each CDN
URL the templates use, the npm package release that URL serves and the file kept here; this
script fetches those releases with ``npm pack`` (the registry's ordinary client), copies only
the listed files (and each package's licence) into ``vendor/<package>-<version>/`` and writes
``vendor/SHA256SUMS``. Run it after a GX upgrade that changes the URLs (the tests say so):
``python templates/datadocs/vendor.py``. Nothing runs it at publish time.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"


def folder_of(package: dict[str, object]) -> str:
    """Return a package's folder under ``vendor/``: its unscoped name and version."""
    return f"{str(package['name']).split('/')[-1]}-{package['version']}"


def fetch_all() -> None:
    """Fetch every package of ``assets.json`` and keep its listed files; write SHA256SUMS."""
    manifest = json.loads((HERE / "assets.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        for package in manifest["packages"]:
            spec = f"{package['name']}@{package['version']}"
            subprocess.run(
                ["npm", "pack", "--silent", spec], cwd=tmp, check=True, stdout=subprocess.DEVNULL
            )
            tarball = next(Path(tmp).glob("*.tgz"))
            unpacked = Path(tmp) / "package"
            with tarfile.open(tarball) as archive:
                archive.extractall(tmp, filter="data")
            target = VENDOR / folder_of(package)
            for source, kept in package["files"].items():
                (target / kept).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(unpacked / source, target / kept)
            shutil.rmtree(unpacked)
            tarball.unlink()
    write_sums()


def write_sums() -> None:
    """Write ``vendor/SHA256SUMS`` (sha256sum's format) over every vendored file."""
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(VENDOR).as_posix()}"
        for path in sorted(VENDOR.rglob("*"))
        if path.is_file() and path.name != "SHA256SUMS"
    ]
    (VENDOR / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    fetch_all()
