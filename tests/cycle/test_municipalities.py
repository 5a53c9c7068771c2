"""The list of municipalities (``municipalities.yaml``): checked on load, an entry's problem
kept with the entry so that the others are still collected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cycle.municipalities import load_municipalities
from tasks.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "municipalities.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_are_taken_from_the_list_files_folder(tmp_path: Path) -> None:
    """It resolves relative folders beside the list; a config naming no folder is a preset."""
    (tmp_path / "midorino").mkdir()
    path = _write(
        tmp_path,
        "municipalities:\n"
        "  - {config: midorino, workspace: ws/midorino}\n"
        "  - {config: niigata-minami, workspace: s3://bucket/minami/}\n",
    )
    first, second = load_municipalities(path)
    assert (first.config, first.workspace) == (
        str(tmp_path / "midorino"),
        str(tmp_path / "ws" / "midorino"),
    )
    assert (second.config, second.workspace) == ("niigata-minami", "s3://bucket/minami")
    assert first.problem is None and second.problem is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ws/a", "ws/a"),  # the same folder twice
        ("ws/a", "./ws/a/"),  # the same folder, written another way
        ("ws", "ws/intake/2021/b"),  # one inside the other: its files would be the other's
        ("s3://bucket/a", "s3://bucket/a/"),  # the same prefix
        ("s3://bucket", "s3://bucket/a"),  # a bucket and a prefix in it
    ],
)
def test_a_shared_workspace_holds_back_both_entries(
    tmp_path: Path, first: str, second: str
) -> None:
    """It marks both entries with a problem naming the file and the other entry; the rest stay."""
    path = _write(
        tmp_path,
        "municipalities:\n"
        f"  - {{config: niigata-minami, workspace: '{first}'}}\n"
        "  - {config: kitamoto, workspace: elsewhere}\n"
        f"  - {{config: nishitokyo, workspace: '{second}'}}\n",
    )
    one, other, three = load_municipalities(path)
    assert other.problem is None
    assert one.problem is not None and three.problem is not None
    assert str(path) in one.problem and "3 番目" in one.problem and "1 番目" in three.problem


def test_a_malformed_entry_is_held_back_alone(tmp_path: Path) -> None:
    """It keeps an entry with a missing or unknown key as a problem naming the file and entry."""
    path = _write(
        tmp_path,
        "municipalities:\n"
        "  - {config: niigata-minami}\n"
        "  - {config: kitamoto, workspace: ws, year: 2021}\n"
        "  - {config: nishitokyo, workspace: ok}\n",
    )
    missing, unknown, fine = load_municipalities(path)
    assert missing.problem and "1 番目" in missing.problem and "workspace" in missing.problem
    assert "必要な項目がありません" in missing.problem and str(path) in missing.problem
    assert unknown.problem and "year" in unknown.problem and "知らない項目" in unknown.problem
    assert fine.problem is None


@pytest.mark.parametrize(
    "text",
    [
        "municipalities: []\n",  # nobody to collect
        "- {config: a, workspace: b}\n",  # a list without its key
        "municipalities: [\n",  # not YAML
    ],
)
def test_a_file_that_is_no_list_stops_with_its_name(tmp_path: Path, text: str) -> None:
    """It raises ConfigError naming the file."""
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)):
        load_municipalities(path)
