"""The list of municipalities one service collects (``municipalities.yaml``): each entry its
configuration folder and its workspace.

A prefecture or a vendor runs one ``collect-municipalities`` flow over the list. The file
is checked once, when it is loaded: a file that is not such a list stops with its name; an
entry that cannot be collected (a key missing or unknown, a workspace that another entry
names too, or that lies inside another's) is kept with its problem in Japanese, naming the
file and the entry, so that the other municipalities are still collected. Relative paths are
taken from the list file's folder; a ``config`` that names no folder there is a preset name.

    municipalities:
      - config: niigata-minami            # a preset, or a folder holding plan.yaml
        workspace: /srv/shiryo/minami     # a folder, or s3://bucket/prefix
      - config: midorino
        workspace: s3://shiryo-pref/midorino
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasks.call.record import load_call_record
from tasks.check.submissions import ReadBatch
from tasks.check.together import PlanFrames, SharedCheck, validate_together
from tasks.check.validate import stack_batches
from tasks.cycle.steps import CollectionSummary
from tasks.errors import CollectionError, ConfigError, ShiryoError
from tasks.plan.model import Plan
from tasks.settings import describe_validation_error, read_yaml
from tasks.workspace.storage import Storage

WHAT = "自治体の一覧"


class _Entry(BaseModel):
    """One entry as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: str = Field(min_length=1)
    """A preset name, or a folder holding plan.yaml (or the plan.yaml itself)."""
    workspace: str = Field(min_length=1)
    """A folder, or ``s3://bucket/prefix``."""


class _ListFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    municipalities: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Municipality:
    """One municipality of the list (自治体): where its plan is and where its files are."""

    number: int
    """Its place in the list, from 1: how messages name it."""
    config: str
    """As ``shiryo run --config`` takes it: a preset name or an absolute folder."""
    workspace: str
    """The workspace's location: an absolute folder or ``s3://bucket/prefix``."""
    problem: str | None = None
    """Why it cannot be collected, in Japanese, naming the file and the entry; None if it can."""

    @property
    def label(self) -> str:
        """Return how the coordinator's messages name the entry."""
        return f"{self.number} 番目（{self.workspace or '作業フォルダ不明'}）"


def load_municipalities(path: Path) -> list[Municipality]:
    """Return the list's municipalities in order, each with its problem if it has one.

    Raises ConfigError, naming the file, when the file is not such a list at all.
    """
    raw = read_yaml(path, WHAT)
    try:
        entries = _ListFile.model_validate(raw).municipalities
    except ValidationError as err:
        raise ConfigError(describe_validation_error(path, err, WHAT)) from err
    folder = path.resolve().parent
    municipalities = [_entry(path, folder, number, e) for number, e in enumerate(entries, 1)]
    return _without_shared_workspaces(path, municipalities)


def _entry(path: Path, folder: Path, number: int, raw: dict[str, Any]) -> Municipality:
    try:
        entry = _Entry.model_validate(raw)
    except ValidationError as err:
        where = f"{WHAT}の {number} 番目"
        problem = describe_validation_error(path, err, where).replace("\n", " ")
        workspace = raw.get("workspace")
        return Municipality(
            number, "", _location(folder, workspace) if isinstance(workspace, str) else "", problem
        )
    return Municipality(number, _config(folder, entry.config), _location(folder, entry.workspace))


def _config(folder: Path, config: str) -> str:
    """Return a config as the list means it: a folder beside the list, else a preset name."""
    candidate = Path(config) if Path(config).is_absolute() else folder / config
    return str(candidate.resolve()) if candidate.exists() else config


def _location(folder: Path, workspace: str) -> str:
    """Return a workspace as a location that means the same from any folder."""
    if workspace.startswith("s3://"):
        return workspace.rstrip("/")
    path = Path(workspace) if Path(workspace).is_absolute() else folder / workspace
    return str(path.resolve())


def _without_shared_workspaces(
    path: Path, municipalities: list[Municipality]
) -> list[Municipality]:
    """Return the list with every entry whose workspace another entry shares marked.

    Two municipalities in one workspace would mix their ledgers and 資料; one inside
    another's would find the other's files in its intake. Both entries are held back.
    """
    result = []
    for municipality in municipalities:
        others = [
            o.number
            for o in municipalities
            if o.number != municipality.number
            and o.workspace
            and municipality.workspace
            and _overlap(o.workspace, municipality.workspace)
        ]
        if municipality.problem is None and others:
            names = "・".join(f"{n} 番目" for n in others)
            problem = (
                f"{path}: {WHAT}の {municipality.number} 番目の workspace"
                f"（{municipality.workspace}）は {names}と同じ場所か、その中か外側です。"
                "自治体ごとに別の作業フォルダを指定してください（どちらも取り込んでいません）。"
            )
            municipality = Municipality(
                municipality.number, municipality.config, municipality.workspace, problem
            )
        result.append(municipality)
    return result


def _overlap(first: str, second: str) -> bool:
    """Return whether two workspaces are the same place or one lies inside the other."""
    a, b = PurePosixPath(first.removeprefix("s3://")), PurePosixPath(second.removeprefix("s3://"))
    if first.startswith("s3://") != second.startswith("s3://"):
        return False
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


@dataclass(frozen=True)
class MunicipalityOutcome:
    """What became of one municipality in a collection over the list."""

    number: int
    workspace: str
    municipality: str | None = None
    """Its name from its plan (None when the plan could not be loaded)."""
    summary: CollectionSummary | None = None
    """Its collection, when it ran to the end."""
    shiryo: list[str] = field(default_factory=list)
    """The keys of the 資料 rendered after the collection, when they were asked for."""
    error: str | None = None
    """Why it failed, in Japanese (its place in the list, then the error); None if it did not."""


def failed_outcome(municipality: Municipality, err: BaseException | str) -> MunicipalityOutcome:
    """Return a municipality's failure, its message naming the entry and the error."""
    reason = err if isinstance(err, str) else _reason(err)
    return MunicipalityOutcome(
        municipality.number,
        municipality.workspace,
        error=reason if isinstance(err, str) else f"{WHAT}の {municipality.label}: {reason}",
    )


def _reason(err: BaseException) -> str:
    # Our errors carry a Japanese message; anything else is named by its type as well.
    return (
        str(err)
        if isinstance(err, ShiryoError)
        else f"想定外のエラー（{type(err).__name__}）: {err}"
    )


def collection_error(outcomes: list[MunicipalityOutcome]) -> CollectionError | None:
    """Return the error that ends a collection over the list Failed, or None if none failed."""
    failed = [o for o in outcomes if o.error]
    if not failed:
        return None
    lines = [
        f"{len(outcomes)} 自治体のうち {len(failed)} 自治体を取り込めませんでした"
        "（ほかの自治体は取り込みました）:"
    ]
    lines += [f"  {o.error}" for o in failed]
    return CollectionError("\n".join(lines), list(outcomes))


def check_together(
    pending: list[tuple[Plan, Storage, list[ReadBatch]]],
) -> list[SharedCheck | None]:
    """Run the suites over every municipality's files read, one GX run per shared suite.

    Each municipality's share goes to its own ``check_pending`` (its findings, its Data
    Docs); None for one whose checks could not run with the others (it runs them alone).
    """
    plans = [
        PlanFrames(
            plan,
            stack_batches([r.staged for r in reads]),
            load_call_record(storage, plan.fiscal_year.current),
        )
        for plan, storage, reads in pending
    ]
    return validate_together(plans)
