"""What counts as missing in the dataset, whatever type Parquet or pandas gives back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tasks.dataset.values import is_missing, text_of


@pytest.mark.parametrize(
    "value", [None, float("nan"), np.float64("nan"), pd.NA, pd.NaT, np.datetime64("NaT")]
)
def test_nothing_is_missing(value: object) -> None:
    assert is_missing(value)
    assert text_of(value) == ""


@pytest.mark.parametrize(
    "value",
    ["", "A", "－", 0, 0.0, np.float64(1.5), np.int64(0), False, np.bool_(False), 10**20],
)
def test_a_value_a_department_wrote_is_not_missing(value: object) -> None:
    assert not is_missing(value)
