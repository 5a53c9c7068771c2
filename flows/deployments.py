"""The deployments of the annual cycle, read from ``prefect.yaml`` (one source of truth).

``prefect deploy --all`` reads the same file; ``shiryo serve`` turns it into served
deployments on one machine without a separate worker.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tasks.settings import PREFECT_YAML, REPO_ROOT, load_yaml_model


class ScheduleSpec(BaseModel):
    """A cron schedule in a time zone."""

    model_config = ConfigDict(extra="ignore")

    cron: str
    timezone: str = "Asia/Tokyo"


class DeploymentSpec(BaseModel):
    """One deployment: which flow, with which parameters, when."""

    model_config = ConfigDict(extra="ignore")

    name: str
    description: str = ""
    entrypoint: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    schedules: list[ScheduleSpec] = Field(default_factory=list)

    @property
    def flow_name(self) -> str:
        """Return the flow function's name from the entrypoint (``file.py:function``)."""
        return self.entrypoint.rsplit(":", 1)[1]


class PrefectProject(BaseModel):
    """The part of ``prefect.yaml`` shiryo reads: its deployments."""

    model_config = ConfigDict(extra="ignore")

    deployments: list[DeploymentSpec]


def load_deployment_specs(path: str | None = None) -> list[DeploymentSpec]:
    """Return the deployments declared in prefect.yaml."""
    source = PREFECT_YAML if path is None else REPO_ROOT / path
    return load_yaml_model(source, PrefectProject, "自動実行の設定（prefect.yaml）").deployments
