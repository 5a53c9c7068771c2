"""The grade chart of the 資料: grade counts per 基本目標 as a stacked bar chart (PNG).

matplotlib draws it with IPAexGothic, which the ``matplotlib-fontja`` package ships, so
Japanese labels render on any machine without system fonts. The PNG carries no timestamp or
version text, so the same counts give the same bytes.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

_COLOURS = ["#2E75B6", "#9DC3E6", "#F4B183", "#C00000", "#7F7F7F", "#A9D18E"]


def build_grade_chart(context: dict[str, Any]) -> bytes:
    """Return a PNG of the grade counts per goal from the report context."""
    goals = tuple(
        (f"{g['no']}. {_shorten(g['title'])}", tuple(g["counts"])) for g in context["goals"]
    )
    title = f"{context['legend_title']}の内訳（{context['year_label']}）"
    return _drawn(goals, tuple(context["grade_codes"]), title)


@lru_cache(maxsize=16)
def _drawn(
    goals: tuple[tuple[str, tuple[int, ...]], ...], codes: tuple[str, ...], title: str
) -> bytes:
    """Draw the chart (about 0.1 s); a re-run whose counts did not change reuses the PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  # registers IPAexGothic as the default font
    from matplotlib.ticker import MaxNLocator

    labels = [label for label, _ in goals]
    figure, axes = plt.subplots(figsize=(8, 0.6 * len(goals) + 1.2), dpi=150)
    left = [0] * len(goals)
    for index, code in enumerate(codes):
        counts = [goal_counts[index] for _, goal_counts in goals]
        axes.barh(labels, counts, left=left, color=_COLOURS[index % len(_COLOURS)], label=code)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel("件数")
    axes.set_title(title)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(title="評価", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _shorten(title: str, limit: int = 18) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
