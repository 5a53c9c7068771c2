"""Loading a plan: a preset name or a plan.yaml path in, a validated :class:`Plan` out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tasks.errors import ConfigError
from tasks.plan.model import Plan
from tasks.plan.parts import FiscalYears
from tasks.settings import PRESETS_DIR, describe_validation_error, read_yaml


def resolve_config_path(config: str | Path) -> Path:
    """Return the plan file for a preset name or a path to a plan.yaml or its folder.

    A folder holding a plan.yaml wins over a preset of the same name; any other file or
    folder of that name (a workspace named like the preset, say) does not hide the preset.
    """
    candidate = Path(config)
    if candidate.is_dir():
        candidate = candidate / "plan.yaml"
    preset = PRESETS_DIR / str(config) / "plan.yaml"
    if not candidate.is_file() and preset.is_file():
        candidate = preset
    if not candidate.is_file():
        shadow = (
            f"（{Path(config).resolve()} にも plan.yaml がありません）"
            if Path(config).exists()
            else ""
        )
        raise ConfigError(
            f"{config}: そのようなプリセットや plan.yaml はありません{shadow}"
            f"（同梱のプリセット: {', '.join(list_presets())}）"
        )
    return candidate


def list_presets() -> list[str]:
    """Return the names of the shipped presets."""
    return sorted(p.name for p in PRESETS_DIR.iterdir() if (p / "plan.yaml").is_file())


_LOADED: dict[tuple[Path, bytes], Plan] = {}
"""Plans validated in this process, by file and content: a warm service (``shiryo serve``)
and one command's several steps parse a 1,000-initiative plan.yaml once, not per use."""


def load_plan(config: str | Path) -> Plan:
    """Load and validate a plan; a malformed file stops with file, key path and problem."""
    path = resolve_config_path(config)
    try:
        text = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: 計画のファイルを読めません: {err}") from err
    key = (path.resolve(), hashlib.sha256(text).digest())
    plan = _LOADED.get(key)
    if plan is None:
        raw = read_yaml(path, "計画", text)
        try:
            plan = Plan.model_validate(raw)
        except ValidationError as err:
            raise ConfigError(describe_validation_error(path, err, "計画の設定")) from err
        if len(_LOADED) >= 32:  # a service serving many municipalities: the oldest goes
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = plan  # frozen: safe to hand out again
    return _with_local_report_files(plan, path.parent)


def _with_local_report_files(plan: Plan, folder: Path) -> Plan:
    """Return the plan with its suites and templates found beside plan.yaml made absolute.

    A municipality's configuration is one folder anywhere: ``suite: rules.json`` or
    ``docx_template: shiryo.docx`` name files in it. Names not found there are the shipped
    ones (``expectations/``, ``templates/``).
    """
    updates: dict[str, str] = {}
    for key in ("suite", "indicator_suite", "docx_template", "xlsx_template"):
        value = getattr(plan.report, key)
        if value is None or Path(value).is_absolute():
            continue
        is_suite_name = "suite" in key and not value.endswith(".json") and "/" not in value
        local = folder / (f"{value}.json" if is_suite_name else value)
        if local.is_file():
            updates[key] = str(local.resolve())
    if not updates:
        return plan
    return plan.model_copy(update={"report": plan.report.model_copy(update=updates)})


_CONTACTS: dict[str, Any] = {"departments": {"__all__": {"email", "contact"}}}
"""Whom reminders go to: changes nothing any step makes, so it is left out of both hashes
(a contact added mid-season neither re-issues a 調査票 nor re-runs a cached step)."""


def plan_hash(plan: Plan) -> str:
    """Return a short content hash of the plan, embedded in workbooks and cache keys."""
    canonical = plan.model_dump_json(exclude_none=False, exclude=_CONTACTS).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


def call_version(plan: Plan) -> str:
    """Return a short hash of what departments see: the plan without its report profile.

    Embedded in every submission workbook (調査票) and checked on return: an edit of the
    資料's layout, suites or templates changes no distributed workbook.
    """
    canonical = plan.model_dump_json(exclude={"report": True, "overview": True, **_CONTACTS})
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def plan_for_year(plan: Plan, fiscal_year: int | None) -> Plan:
    """Return the plan reporting on ``fiscal_year`` (the year before as previous).

    The plan's own years (its first and target year) stay as they are.
    """
    if fiscal_year is None or fiscal_year == plan.fiscal_year.current:
        return plan
    years = FiscalYears(
        current=fiscal_year,
        previous=fiscal_year - 1,
        final=plan.fiscal_year.final,
        first=plan.fiscal_year.first,
    )
    return plan.model_copy(update={"fiscal_year": years})
