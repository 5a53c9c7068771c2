"""The edge where settings come in: the repository's folders, the environment, YAML files.

Everything the product reads from outside its arguments passes here once:

- where the shipped configuration, suites and templates are (``REPO_ROOT`` and its folders);
- what the environment says (:class:`Environment`, read by :func:`environment`), with the
  telemetry defaults written once (:data:`QUIET_DEFAULTS`, applied by :func:`quiet_environment`);
- YAML files validated into pydantic models (:func:`load_yaml_model`), every mistake reported
  in one Japanese format: the file, then one line per problem naming the key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tasks.errors import ConfigError

if TYPE_CHECKING:  # imported where a YAML file is read: ``shiryo run`` handing over needs neither
    from pydantic import BaseModel, ValidationError

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout: ``tasks/`` and ``flows/`` beside ``config/``, ``templates/``, ``expectations/``."""
CONFIG_DIR = REPO_ROOT / "config"
PRESETS_DIR = CONFIG_DIR / "presets"
NOTIFICATIONS_YAML = CONFIG_DIR / "notifications.yaml"
REMINDERS_YAML = CONFIG_DIR / "reminders.yaml"
TEMPLATES_DIR = REPO_ROOT / "templates"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
PREFECT_YAML = REPO_ROOT / "prefect.yaml"
CODE_DIRS = (REPO_ROOT / "tasks", REPO_ROOT / "flows")
"""The product's own code: what a cached step's key covers (``tasks.cycle.caching``)."""


def read_code_version(root: Path = REPO_ROOT, folders: tuple[Path, ...] = CODE_DIRS) -> str:
    """Return a hash of the product's own code (every module under tasks/ and flows/), by
    path relative to ``root``: the same code at another path has the same version."""
    digest = hashlib.sha256()
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


QUIET_DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The embedded server needs time to start on a busy two-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}
"""Telemetry off and patient start-up, unless the user set otherwise (Prefect and GX read
these at import, so they are applied before either is imported)."""

TASK_RUNNER_VARIABLE = "SHIRYO_TASK_RUNNER"


def quiet_environment() -> None:
    """Set the telemetry defaults in this process where the user has not set them."""
    for name, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(name, value)


@dataclass(frozen=True)
class Environment:
    """What the environment says to shiryo (secrets stay with boto3's own chain)."""

    prefect_api_url: str | None
    """A running Prefect server to use (``PREFECT_API_URL``); None: start an embedded one."""
    task_runner: str
    """``SHIRYO_TASK_RUNNER``: how a flow spreads its batches (``flows.runners``)."""


def environment() -> Environment:
    """Read the environment now (a test or the CLI may have changed it since import)."""
    return Environment(
        prefect_api_url=os.environ.get("PREFECT_API_URL") or None,
        task_runner=os.environ.get(TASK_RUNNER_VARIABLE, "").strip(),
    )


def secret_from(variable: str) -> str | None:
    """Return the value of the environment variable a configuration file names, if set."""
    return os.environ.get(variable) or None


Model = TypeVar("Model", bound="BaseModel")


def read_yaml(path: Path, what: str, content: bytes | None = None) -> object:
    """Return a YAML file's data (``content``: its bytes, already read); an unreadable or
    malformed file names itself in Japanese."""
    import yaml

    try:
        # libyaml's loader when PyYAML was built with it: a large plan loads ~10x faster.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        text = path.read_bytes() if content is None else content
        return yaml.load(text.decode("utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {what}のファイルを読めません: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(
            f"{path}: YAML として読めません（インデントや記号を確認してください）: {err}"
        ) from err


def load_yaml_model(path: Path, model: type[Model], what: str) -> Model:
    """Load a YAML file into ``model``; a mistake names the file and each key in Japanese."""
    from pydantic import ValidationError

    raw = read_yaml(path, what)
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(describe_validation_error(path, err, what)) from err


def describe_validation_error(path: Path, err: ValidationError, what: str) -> str:
    """Return the file, then one line per problem: the key's path and what is wrong."""
    lines = [f"{path}: {what}に {err.error_count()} 件の問題があります"]
    for problem in err.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        reason = _REASONS_JA.get(problem["type"], problem["msg"])
        if problem["type"] == "value_error":  # a plan's own rule: its message, no prefix
            reason = str(problem.get("ctx", {}).get("error", reason))
        if problem["type"] == "literal_error":
            reason = f"使える値は {problem.get('ctx', {}).get('expected', '')} です"
        lines.append(f"  場所 {location}: {reason}")
    return "\n".join(lines)


_REASONS_JA = {
    "missing": "必要な項目がありません",
    "extra_forbidden": "知らない項目です。綴りを確かめてください",
    "bool_type": "true か false を書いてください",
    "bool_parsing": "true か false を書いてください",
    "string_type": "文字列を書いてください",
    "int_parsing": "整数を書いてください",
    "int_type": "整数を書いてください",
    "float_parsing": "数値を書いてください",
    "dict_type": "「名前: 値」の形で書いてください",
    "model_type": "「名前: 値」の形で書いてください",
    "list_type": "一覧（- で始まる行、または [ ]）で書いてください",
}
"""Pydantic's generic problems in Japanese; a plan's own rules keep their own message."""
