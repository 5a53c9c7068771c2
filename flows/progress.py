"""A run's progress, as its stages begin: a line on the terminal and a bar in the Prefect UI.

A coordinator who starts a run wants to see that it moves and where it is: each stage prints
one Japanese line (``進捗 [■■□□□□] 3/6 提出ファイルの読み取り（50 件）``) through
:func:`flows.terminal.say`, so it reaches the terminal of the ``shiryo run`` that asked, also
when the warm service runs it. In the UI, the flow run's Artifacts tab shows a progress
artifact, with the stage under way as its description; a run that failed keeps the stage
where it stopped.

A run of many files reads them in several batches; each finished batch moves the bar.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar, cast
from uuid import UUID

from flows.terminal import say

CALL = "調査票の作成"
INTAKE = "提出ファイルの受付"
READ = "提出ファイルの読み取り"
CHECK = "内容の確認"
DATASET = "年度データの更新"
RENDER = "資料の作成"

CALL_STAGES = (CALL,)
COLLECT_STAGES = (INTAKE, READ, CHECK, DATASET)
PUBLISH_STAGES = (RENDER,)
CYCLE_STAGES = CALL_STAGES + COLLECT_STAGES + PUBLISH_STAGES

_BAR_CELLS = 10

T = TypeVar("T")


class RunProgress:
    """The stages of one flow run, in order; :meth:`begin` each as it starts."""

    def __init__(self, stages: tuple[str, ...]) -> None:
        self.stages = stages
        self._artifact: UUID | None = None
        self._done = 0.0

    def begin(self, stage: str, detail: str = "") -> None:
        """Say that ``stage`` begins (``detail``: what it works on, e.g. ``50 件``)."""
        index = self.stages.index(stage)
        self._done = float(index)
        shown = f"{stage}（{detail}）" if detail else stage
        say(f"進捗 [{self._bar()}] {index + 1}/{len(self.stages)} {shown}", err=True)
        self._show(f"{index + 1}/{len(self.stages)} {shown}")

    def parts(self, stage: str, parts: Iterable[T], count: int) -> Iterator[T]:
        """Yield ``parts`` of the stage under way, moving the bar as each is done."""
        index = self.stages.index(stage)
        for number, part in enumerate(parts, start=1):
            yield part
            self._done = index + number / max(count, 1)
            if count > 1:
                detail = f"{stage} {number}/{count}"
                say(f"進捗 [{self._bar()}] {detail}", err=True)
                self._show(f"{index + 1}/{len(self.stages)} {detail}")

    def finish(self) -> None:
        """Show the run as done in the UI (the terminal prints the run's summary next)."""
        self._done = float(len(self.stages))
        self._show("完了")

    def _bar(self) -> str:
        filled = int(self._done / len(self.stages) * _BAR_CELLS)
        return "■" * filled + "□" * (_BAR_CELLS - filled)

    def _show(self, description: str) -> None:
        """Create or move the flow run's progress artifact (nothing outside a flow run)."""
        from prefect.artifacts import create_progress_artifact, update_progress_artifact
        from prefect.context import FlowRunContext

        if FlowRunContext.get() is None:
            return
        percent = round(100 * self._done / len(self.stages), 1)
        text = f"進捗: {description}"
        if self._artifact is None:
            created = create_progress_artifact(percent, description=text)
            self._artifact = cast(UUID, created)  # called from a flow's thread: not a coroutine
        else:
            update_progress_artifact(self._artifact, percent, description=text)
