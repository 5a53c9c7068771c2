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

import contextvars
import functools
import logging
import queue
import threading
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

EACH_BEGUN = "各自治体の受付と読み取り"
ALL_CHECKED = "まとめての内容の確認"
EACH_FINISHED = "各自治体の年度データの更新"
MANY_STAGES = (EACH_BEGUN, ALL_CHECKED, EACH_FINISHED)
"""``collect-municipalities``: its three passes over the list, each municipality a part."""

_BAR_CELLS = 10

T = TypeVar("T")


class RunProgress:
    """The stages of one flow run, in order; :meth:`begin` each as it starts.

    Use it as a context manager: the UI's bar is moved by a thread of its own, so that the
    run never waits on the server for it, and leaving the block waits until the bar shows the
    last stage begun (also when the run fails).
    """

    def __init__(self, stages: tuple[str, ...], shown: bool = True) -> None:
        self.stages = stages
        self.shown = shown
        """False: a part of a larger run that says nothing itself (``collect-municipalities``)."""
        self._done = 0.0
        self._round = (0, 1)
        self._shown: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self._mover: threading.Thread | None = None

    def __enter__(self) -> RunProgress:
        from prefect.context import FlowRunContext

        # Outside a flow run there is no bar to move.
        if self.shown and FlowRunContext.get() is not None:
            # The thread reaches the server this run uses: it runs in a copy of the context.
            mover = functools.partial(contextvars.copy_context().run, self._move_bar)
            self._mover = threading.Thread(target=mover, name="shiryo-progress", daemon=True)
            self._mover.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._mover is not None:
            self._shown.put(None)
            self._mover.join()

    def begin(self, stage: str, detail: str = "") -> None:
        """Say that ``stage`` begins (``detail``: what it works on, e.g. ``50 件``)."""
        index = self.stages.index(stage)
        self._done = float(index)
        if not self.shown:
            return
        detail = "、".join(d for d in (detail, self._round_named()) if d)
        shown = f"{stage}（{detail}）" if detail else stage
        say(f"進捗 [{self._bar()}] {index + 1}/{len(self.stages)} {shown}", err=True)
        self._show(f"{index + 1}/{len(self.stages)} {shown}")

    def parts(self, stage: str, parts: Iterable[T], count: int) -> Iterator[T]:
        """Yield ``parts`` of the stage under way, moving the bar as each is done."""
        index = self.stages.index(stage)
        for number, part in enumerate(parts, start=1):
            yield part
            self._done = index + number / max(count, 1)
            if count > 1 and self.shown:
                named = self._round_named()
                detail = f"{stage} {number}/{count}" + (f"（{named}）" if named else "")
                say(f"進捗 [{self._bar()}] {detail}", err=True)
                self._show(f"{index + 1}/{len(self.stages)} {detail}")

    def round_of(self, number: int, rounds: int) -> None:
        """Go through the stages again as round ``number`` of ``rounds``: the bar spans every
        round and each line names its own (``collect-municipalities`` takes a long list in
        rounds)."""
        self._round = (number - 1, rounds)

    def finish(self) -> None:
        """Show the run as done in the UI (the terminal prints the run's summary next)."""
        self._round = (self._round[1] - 1, self._round[1])
        self._done = float(len(self.stages))
        self._show("完了")

    def _fraction(self) -> float:
        before, rounds = self._round
        return (before + self._done / len(self.stages)) / rounds

    def _round_named(self) -> str:
        before, rounds = self._round
        return f"{before + 1}/{rounds} 回目" if rounds > 1 else ""

    def _bar(self) -> str:
        filled = int(self._fraction() * _BAR_CELLS)
        return "■" * filled + "□" * (_BAR_CELLS - filled)

    def _show(self, description: str) -> None:
        if self._mover is not None:
            self._shown.put((round(100 * self._fraction(), 1), description))

    def _move_bar(self) -> None:
        """Create the flow run's progress artifact, then move it, until the run's end."""
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        artifact: UUID | None = None
        while (shown := self._shown.get()) is not None:
            percent, description = shown
            text = f"進捗: {description}"
            try:
                if artifact is None:
                    created = create_progress_artifact(percent, description=text)
                    artifact = cast(UUID, created)  # from a thread: not a coroutine
                else:
                    update_progress_artifact(artifact, percent, description=text)
            except Exception:  # the bar is a view: a server hiccup never fails the run
                logging.getLogger(__name__).warning(
                    "進捗の表示を更新できませんでした。", exc_info=True
                )
