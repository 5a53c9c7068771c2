"""The guides' images: each one referenced exists, each one there is referenced, all small."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from tasks.settings import REPO_ROOT

DOCS = REPO_ROOT / "docs"
IMAGES = DOCS / "images"
REFERENCE = re.compile(r"!\[[^\]]*\]\((images/[^)\s]+)\)")


def _references() -> dict[str, list[str]]:
    """Return image path (relative to docs/) → the guides that show it."""
    found: dict[str, list[str]] = {}
    for guide in sorted(DOCS.glob("*.md")):
        for target in REFERENCE.findall(guide.read_text(encoding="utf-8")):
            found.setdefault(target, []).append(guide.name)
    return found


def _png_width(path: Path) -> int:
    """Return a PNG's width from its IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return int(struct.unpack(">I", head[16:20])[0])


def test_every_image_a_guide_shows_exists() -> None:
    """It finds every `![…](images/…)` of docs/*.md under docs/images/."""
    missing = {t: g for t, g in _references().items() if not (DOCS / t).is_file()}
    assert not missing, missing


def test_every_image_is_shown_by_a_guide() -> None:
    """It leaves no image in docs/images/ that no guide shows (a stale screenshot)."""
    shown = {DOCS / t for t in _references()}
    unshown = sorted(p.name for p in IMAGES.iterdir() if p not in shown)
    assert not unshown, unshown


def test_the_images_stay_small() -> None:
    """It keeps each screenshot a PNG at most 1280 px wide, and all of them under 2 MB."""
    images = sorted(IMAGES.glob("*.png"))
    assert images, "docs/images holds no screenshots"
    wide = {p.name: w for p in images if (w := _png_width(p)) > 1280}
    assert not wide, wide
    total = sum(p.stat().st_size for p in images)
    assert total <= 2 * 1024 * 1024, total
