"""A workspace's result block: saved once on the server, then used as the server has it."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from flows import results
from flows.results import WorkspaceResults, workspace_results


def _document(name: str) -> tuple[object, object, dict[str, object]]:
    """Return the block document's id, last update and data, as the server has them."""
    with get_client(sync_client=True) as client:
        document = client.read_block_document_by_name(
            name=name, block_type_slug=WorkspaceResults.get_block_type_slug()
        )
    return document.id, document.updated, dict(document.data)


def test_a_known_workspace_block_is_read_not_saved_again(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new process finds the block a first run saved and leaves it untouched."""
    workspace = str(tmp_path / "workspace")
    first = workspace_results(workspace)
    name = first._block_document_name
    assert name is not None
    saved = _document(name)
    assert saved[2] == {"workspace": workspace}

    monkeypatch.setattr(results, "_SAVED", {})  # as a new process would start
    again = workspace_results(workspace)
    assert again is not first
    assert again._block_document_id == first._block_document_id
    assert _document(name) == saved  # not written again


def test_a_block_of_that_name_for_another_workspace_is_saved_over(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block under the workspace's name that names another workspace is corrected."""
    workspace = str(tmp_path / "workspace")
    name = workspace_results(workspace)._block_document_name
    assert name is not None
    WorkspaceResults(workspace=str(tmp_path / "elsewhere")).save(name, overwrite=True)

    monkeypatch.setattr(results, "_SAVED", {})
    assert workspace_results(workspace).workspace == workspace
    assert _document(name)[2] == {"workspace": workspace}
