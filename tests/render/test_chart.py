"""Tests of the grade chart drawn for the Word 資料."""

from __future__ import annotations

from typing import Any


def _context(counts: list[list[int]]) -> dict[str, Any]:
    return {
        "goals": [
            {"no": n, "title": f"基本目標その{n}　安心して暮らせるまち", "counts": c}
            for n, c in enumerate(counts, start=1)
        ],
        "grade_codes": ["A", "B", "C", "D"],
        "legend_title": "評価の指標",
        "year_label": "2021年度（令和3年度）",
    }


def test_it_draws_the_same_png_for_the_same_counts() -> None:
    """It returns PNG bytes that depend only on the counts (no time stamp, no version)."""
    from tasks.render.chart import build_grade_chart

    first = build_grade_chart(_context([[7, 1, 1, 0], [14, 2, 1, 2]]))
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == build_grade_chart(_context([[7, 1, 1, 0], [14, 2, 1, 2]]))
    assert first != build_grade_chart(_context([[7, 1, 1, 0], [13, 2, 1, 3]]))


def test_it_draws_japanese_with_a_font_that_has_it() -> None:
    """It uses the packaged IPAexGothic, so labels are not empty boxes."""
    from matplotlib import font_manager, rcParams

    from tasks.render.chart import build_grade_chart

    build_grade_chart(_context([[1, 0, 0, 0]]))
    family = rcParams["font.family"][0]
    path = font_manager.findfont(family, fallback_to_default=False)
    assert "ipaex" in path.lower()
