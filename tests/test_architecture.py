"""The tree's rules: stages import one way, tasks/ stays free of Prefect, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tasks.settings import REPO_ROOT

LAYERS = [
    ("tasks.errors", "tasks.settings", "tasks.ooxml"),
    ("tasks.plan",),
    ("tasks.workspace",),
    ("tasks.call",),
    ("tasks.intake",),
    ("tasks.check",),
    ("tasks.dataset",),
    ("tasks.render",),
    ("tasks.cycle",),
    ("flows",),
]
"""The pipeline's order: a module may import from its own layer and the ones above it."""

MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(p for d in ("tasks", "flows") for p in (REPO_ROOT / d).rglob("*.py"))


def _dotted(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    if module == "tasks":
        return 0  # the package's own docstring
    for index, names in enumerate(LAYERS):
        if any(module == n or module.startswith(f"{n}.") for n in names):
            return index
    return None


def _imports(path: Path) -> list[str]:
    """Return every module the file imports, at the top or inside a function."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _dotted(p))
def test_imports_go_one_way(path: Path) -> None:
    """It imports only from its own stage and the stages before it."""
    own = _layer(_dotted(path))
    assert own is not None, f"{_dotted(path)} belongs to no layer of LAYERS"
    later = sorted(
        {name for name in _imports(path) if (layer := _layer(name)) is not None and layer > own}
    )
    assert later == [], f"{_dotted(path)} imports from a later stage: {later}"


@pytest.mark.parametrize(
    "path", [p for p in _modules() if p.is_relative_to(REPO_ROOT / "tasks")], ids=_dotted
)
def test_tasks_are_free_of_prefect(path: Path) -> None:
    """It does the work without Prefect: the orchestration lives in flows/."""
    prefect = [n for n in _imports(path) if n == "prefect" or n.startswith("prefect.")]
    assert prefect == []


@pytest.mark.parametrize("path", _modules(), ids=_dotted)
def test_modules_and_functions_stay_small(path: Path) -> None:
    """It keeps a module under 350 lines and each function under 60."""
    source = path.read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_tasks_top_holds_at_most_four_modules() -> None:
    """It keeps tasks/ a folder of stage packages, with few modules beside them."""
    top = sorted(p.name for p in (REPO_ROOT / "tasks").glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 4, top
    packages = sorted(
        p.name for p in (REPO_ROOT / "tasks").iterdir() if (p / "__init__.py").exists()
    )
    assert len(packages) >= 5, packages
    assert {f"tasks.{name}" for name in packages} <= {n for names in LAYERS for n in names}


def test_no_flows_module_shadows_a_package() -> None:
    """It names no module of flows/ after a top-level package: a deployment's entrypoint
    (``flows/annual_cycle.py:…``) is loaded with flows/ on the import path, where a
    ``flows/tasks.py`` would hide the ``tasks`` package and crash every served run."""
    shadowing = {p.stem for p in (REPO_ROOT / "flows").glob("*.py")} & {"tasks", "flows"}
    assert shadowing == set()


def test_each_step_is_cached_by_its_own_key_or_makes_none() -> None:
    """Every Prefect task of flows/ is cached by a key of ours, or makes no cache key at all:
    Prefect's default policy would hash every input (a plan, a round's files) on each call
    for a cache that is never used."""
    import importlib

    from prefect import Task
    from prefect.cache_policies import NO_CACHE

    steps: dict[str, Task[..., object]] = {}
    for path in sorted((REPO_ROOT / "flows").glob("*.py")):
        module = importlib.import_module(f"flows.{path.stem}")
        steps |= {value.name: value for value in vars(module).values() if isinstance(value, Task)}
    assert len(steps) > 20  # every step of the cycle, the list and the reminders
    hashing = [n for n, t in steps.items() if t.cache_key_fn is None and t.cache_policy != NO_CACHE]
    assert hashing == []
