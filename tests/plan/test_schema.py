"""plan.yaml's JSON Schema and its Japanese chapter stay true to the models."""

from __future__ import annotations

from tasks.plan.schema import SCHEMA_PATH, key_paths, schema_text
from tasks.settings import REPO_ROOT

CHAPTER = REPO_ROOT / "docs" / "new-municipality.md"


def test_the_committed_schema_is_what_the_models_say() -> None:
    """It ships config/plan.schema.json as generated (python -m tasks.plan.schema)."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def test_the_chapter_explains_every_key() -> None:
    """It names every key of plan.yaml in 新しい自治体を設定する, with what it means."""
    chapter = CHAPTER.read_text(encoding="utf-8")
    missing = [path for path in key_paths() if f"`{path}`" not in chapter]
    assert missing == []
