"""The JSON Schema of plan.yaml, generated from the models, for editors and the guide.

``config/plan.schema.json`` is this module's output (``python -m tasks.plan.schema``); a test
keeps it equal to what the models say. An editor with a YAML language server validates a
plan.yaml that starts with ``# yaml-language-server: $schema=<path to plan.schema.json>``.
"""

from __future__ import annotations

import json
from typing import Any

from tasks.plan.model import Plan
from tasks.settings import CONFIG_DIR

SCHEMA_PATH = CONFIG_DIR / "plan.schema.json"


def plan_schema() -> dict[str, Any]:
    """Return the JSON Schema of plan.yaml."""
    schema = Plan.model_json_schema(mode="validation")
    schema["title"] = "shiryo plan.yaml"
    return schema


def schema_text() -> str:
    """Return the schema as the committed file holds it."""
    return json.dumps(plan_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def key_paths() -> list[str]:
    """Return every key path of plan.yaml (``report.suite``, ``goals[].children[]`` …)."""
    schema = plan_schema()
    definitions = schema.get("$defs", {})
    paths: list[str] = []

    def walk(node: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        for ref in _refs(node):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                walk(definitions[name], prefix, seen | {name})
        for key, child in node.get("properties", {}).items():
            path = f"{prefix}{key}"
            paths.append(path)
            walk(child, f"{path}.", seen)
        if "items" in node:
            walk(node["items"], prefix.removesuffix(".") + "[].", seen)

    walk(schema, "", frozenset())
    return sorted(set(paths))


def _refs(node: dict[str, Any]) -> list[str]:
    found = [node["$ref"]] if "$ref" in node else []
    for option in node.get("anyOf", []) + node.get("allOf", []):
        found += _refs(option)
    return found


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
