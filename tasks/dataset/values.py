"""What a cell of the dataset holds, read one way everywhere: missing, text or number.

Parquet gives back ``None``, ``pd.NA``, NaN or numpy scalars for what a department left
empty or wrote; every reader of the dataset (merge, the 資料) asks these three functions, so
that "missing" means the same thing in each.
"""

from __future__ import annotations

import pandas as pd


def is_missing(value: object) -> bool:
    """Return whether a dataset value stands for nothing (None, pd.NA, NaN, NaT)."""
    if value is None:
        return True
    if isinstance(value, str | bool | int):  # the common cells, asked tens of thousands of times
        return False
    if isinstance(value, float):
        return value != value  # NaN only
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))  # type: ignore[call-overload]


def text_of(value: object) -> str:
    """Return a value as text; "" when it is missing."""
    return "" if is_missing(value) else str(value)


def optional_text(value: object) -> str | None:
    """Return a value as text; None when it is missing (what the dataset stores for it)."""
    return None if is_missing(value) else str(value)


def number_of(value: object) -> float | None:
    """Return a value as a number; None when it is missing."""
    return None if is_missing(value) else float(value)  # type: ignore[arg-type]


def plain_value(value: object) -> object:
    """Return a value as a plain Python object (numpy scalars unwrapped); None when missing."""
    if is_missing(value):
        return None
    return value.item() if hasattr(value, "item") else value
