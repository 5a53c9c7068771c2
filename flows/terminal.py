"""What the ``shiryo`` command says on the terminal when it does not do what was asked.

People read Japanese: a mistyped option, a missing ``--year`` or a Ctrl+C each end with one
Japanese line (and an exit code), never click's English usage box or a Python traceback.
A ShiryoError ends the command with its own message (:func:`guarded`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import typer

# typer vendors click and raises these (``typer.BadParameter`` is the one it re-exports).
from typer._click import exceptions as click_errors
from typer.core import TyperGroup

from tasks.plan.fiscal_year import fiscal_year_label, parse_fiscal_year

INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl+C (128 + SIGINT), as shells expect."""

INTERRUPTED_JA = (
    "中断しました（Ctrl+C）。途中まで行った処理は記録されています。"
    "同じコマンドをもう一度実行すると、続きから正しくやり直せます。"
)

T = TypeVar("T")

Echo = Callable[[str, bool], None]
"""Where the coordinator's lines go: ``(line, to_stderr)``."""

_LISTENER: ContextVar[Echo | None] = ContextVar("shiryo_listener", default=None)


def say(message: str = "", err: bool = False) -> None:
    """Print a line for the coordinator: on this terminal, or to the ``shiryo run`` that
    handed its run to the service (``flows.warm``)."""
    listener = _LISTENER.get()
    if listener is None:
        typer.echo(message, err=err)
    else:
        listener(message, err)


@contextmanager
def said_to(listener: Echo) -> Iterator[None]:
    """Within the block (and the steps it runs, which copy the context), send lines to
    ``listener``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def listening() -> Echo | None:
    """Return where this context's lines go, if not to the terminal."""
    return _LISTENER.get()


def on_a_terminal() -> bool:
    """Return whether a person reads this command's lines as they come (stderr is a terminal)."""
    return sys.stderr.isatty()


@contextmanager
def progress_not_log_lines() -> Iterator[None]:
    """On a terminal, show the run's Japanese progress lines (``flows.progress``) and its
    warnings, not Prefect's line for every step begun and finished: those stay in the UI and
    in a log that is not a terminal."""
    if not on_a_terminal():
        yield
        return
    import logging

    handlers = [
        h for h in logging.getLogger().handlers if type(h).__name__ == "PrefectConsoleHandler"
    ]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(max(handler.level, logging.WARNING))
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a ShiryoError ends the command with its message, not a traceback."""
    from tasks.errors import ShiryoError

    try:
        return action()
    except ShiryoError as err:
        say(f"エラー: {err}", err=True)
        raise typer.Exit(2) from err


def parse_year(text: str) -> int:
    """Return the fiscal year an option names: 2021, R3, 令和3年度, H30, 2021年度 …"""
    year = parse_fiscal_year(text)
    if year is None:
        raise typer.BadParameter(
            f"「{text}」を年度として読めません。2021、R3、令和3年度、H30 のように書いてください"
        )
    return year


def describe_year(year: int) -> str:
    """Return the year as both calendars name it, e.g. ``2021年度（令和3年度）``."""
    return fiscal_year_label(year)


class _Interruption:
    explained = False


_interruption = _Interruption()


def explain_interruption(message: str) -> int:
    """Say what a Ctrl+C left behind, instead of the usual line; return the exit code."""
    say(message, err=True)
    _interruption.explained = True
    return INTERRUPTED


class JapaneseGroup(TyperGroup):
    """The command group, ending every usage error and Ctrl+C with one Japanese line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; print what went wrong in Japanese; exit with its code."""
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except click_errors.NoArgsIsHelpError:
            code = 2  # the help has been shown
        except click_errors.UsageError as err:
            typer.echo(f"エラー: {usage_error_ja(err)}", err=True)
            code = 2
        except typer.Abort:
            code = INTERRUPTED  # input ended (Ctrl+D) where a command asked for some
        if code == INTERRUPTED and not _interruption.explained:
            typer.echo(INTERRUPTED_JA, err=True)
        if not standalone_mode:
            return code
        sys.exit(code)


def usage_error_ja(err: click_errors.UsageError) -> str:
    """Return a usage error of click as one Japanese sentence with where to find help."""
    command = err.ctx.command_path if err.ctx is not None else "shiryo"
    hint = f"使い方は {command} --help で見られます。"
    if isinstance(err, click_errors.MissingParameter):
        return f"{_option(err.param)} を指定してください。{hint}"
    if isinstance(err, click_errors.BadParameter):
        detail = err.message if _japanese(err.message) else _detail_ja(err.message)
        return f"{_option(err.param)} の値が正しくありません: {detail}。{hint}"
    if isinstance(err, click_errors.NoSuchOption):
        maybe = f"（{'、'.join(err.possibilities)} のことですか）" if err.possibilities else ""
        return f"{err.option_name} というオプションはありません{maybe}。{hint}"
    if isinstance(err, click_errors.BadOptionUsage):
        if "requires an argument" in err.message:
            return f"{err.option_name} の後に値を書いてください。{hint}"
        return f"{err.option_name} の後に値は書けません。{hint}"
    unknown = re.match(r"No such command '(.+?)'\.(?: Did you mean '(.+?)'\?)?", err.message)
    if unknown:
        maybe = f"（{unknown[2]} のことですか）" if unknown[2] else ""
        return (
            f"{unknown[1]} というコマンドはありません{maybe}。"
            "コマンドの一覧は shiryo --help で見られます。"
        )
    extra = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", err.message)
    if extra:
        return (
            f'余分な値があります: {extra[1]}。空白を含む場所や名前は "…" で囲んでください。{hint}'
        )
    return f"コマンドの書き方が正しくありません（{err.format_message()}）。{hint}"


def _option(param: Any) -> str:
    """Return an option's long name (``--year``), or a parameter's name."""
    if param is None:
        return "指定"
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return opts[0] if opts else str(getattr(param, "name", "指定"))


def _detail_ja(message: str) -> str:
    """Return what a library's English complaint about a value asks for, in Japanese."""
    if "integer" in message:
        return "半角の整数で書いてください"
    if "does not exist" in message:
        return "そのファイルやフォルダがありません"
    return "この値は使えません"


def _japanese(text: str) -> bool:
    return any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in text)
