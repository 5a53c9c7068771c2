"""Which workspace a command works on: a folder or ``s3://``, checked before anything runs."""

from __future__ import annotations

from pathlib import Path

from flows.terminal import guarded


def location_of(workspace: str) -> str:
    """Return a workspace option as a location that means the same from any folder."""
    return workspace if workspace.startswith("s3://") else str(Path(workspace).resolve())


def checked_location(
    workspace: str, config: str, *, create: bool = False, year: int | None = None
) -> str:
    """Return the workspace's location; stop unless the plan loads and the location holds a
    workspace (and the year).

    The plan is checked first: a coordinator checks an edited plan.yaml with any command.
    With ``create``, a location that holds no workspace becomes one; the year is then not
    asked for (a new workspace has none yet).
    """
    from tasks.plan.load import load_plan
    from tasks.workspace.presence import mark_workspace, require_workspace, require_year
    from tasks.workspace.storage import open_storage

    location = location_of(workspace)

    def check() -> None:
        load_plan(config)
        storage = open_storage(location)
        if create and mark_workspace(storage):
            return
        require_workspace(storage)
        if year is not None:
            require_year(storage, year)

    guarded(check)
    return location
