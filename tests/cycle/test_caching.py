"""Cache keys: what a Retry may skip changes whenever the code it ran changes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.cycle import caching
from tasks.settings import REPO_ROOT


@pytest.fixture
def code_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of tasks/ and flows/ that the code version is computed over."""
    root = tmp_path / "checkout"
    for folder in ("tasks", "flows"):
        shutil.copytree(REPO_ROOT / folder, root / folder)
    monkeypatch.setattr(caching, "REPO_ROOT", root)
    monkeypatch.setattr(caching, "CODE_DIRS", (root / "tasks", root / "flows"))
    caching.code_version.cache_clear()
    yield root
    caching.code_version.cache_clear()


@pytest.mark.parametrize(
    "module",
    [
        "tasks/check/validate.py",  # a module inside a stage package
        "tasks/render/indicators.py",  # another package, another depth of import
        "flows/steps.py",  # the Prefect glue
        "tasks/settings.py",  # a module at the top of tasks/
    ],
)
def test_editing_any_module_changes_the_code_version(code_copy: Path, module: str) -> None:
    """It gives another code version when any module of tasks/ or flows/ changes."""
    before = caching.code_version()
    path = code_copy / module
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    caching.code_version.cache_clear()
    assert caching.code_version() != before


def test_the_code_version_does_not_depend_on_where_the_checkout_is(
    code_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It gives the same version for the same code at another path (another worker)."""
    here = caching.code_version()
    moved = code_copy.parent / "elsewhere"
    shutil.copytree(code_copy, moved)
    monkeypatch.setattr(caching, "REPO_ROOT", moved)
    monkeypatch.setattr(caching, "CODE_DIRS", (moved / "tasks", moved / "flows"))
    caching.code_version.cache_clear()
    assert caching.code_version() == here


def test_the_call_key_follows_last_years_dataset(tmp_path: Path) -> None:
    """It changes the call step's cache key when last year's results change."""
    import pandas as pd

    from tasks.dataset.store import to_parquet
    from tasks.plan.load import load_plan
    from tasks.workspace.folder import FolderStorage

    plan = load_plan("niigata-minami")
    storage = FolderStorage(tmp_path)
    parameters = {"plan": plan, "storage": storage}
    before = caching.call_cache_key(None, parameters)
    frame = pd.DataFrame({"initiative_id": ["i001"], "department_id": ["kenko-fukushi"]})
    storage.write_bytes("curated/2020/consolidated.parquet", to_parquet(frame))
    assert caching.call_cache_key(None, parameters) != before
    assert caching.call_cache_key(None, parameters) == caching.call_cache_key(None, parameters)
