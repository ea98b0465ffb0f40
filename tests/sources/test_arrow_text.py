"""`isin_many` gives each column what `isin` gives it alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from placeintel.sources.arrow_text import arrow_strings, isin, isin_many


def test_isin_many_matches_isin_column_by_column() -> None:
    allowed = pd.Series(["A1", "B2", "C3", None], dtype="str")
    columns = [
        pd.Series(["A1", "Z9", None, "C3"], dtype="str"),
        pd.Series(["B2", "B2", "X"], dtype="str"),
        pd.Series([], dtype="str"),
        pd.Series([1, 2], dtype="int64"),  # not text: pandas decides, as in `isin`
    ]
    got = isin_many(columns, allowed)
    for column, found in zip(columns, got, strict=True):
        np.testing.assert_array_equal(found, isin(column, allowed))
        assert len(found) == len(column)


def test_isin_many_without_a_missing_value_in_the_set() -> None:
    allowed = pd.Series(["A1", "B2"], dtype="str")
    columns = [pd.Series(["A1", None], dtype="str"), pd.Series([None, "B2"], dtype="str")]
    assert [list(f) for f in isin_many(columns, allowed)] == [[True, False], [False, True]]


def test_isin_many_joins_string_and_large_string_columns() -> None:
    allowed = pd.Series(["A1", "B2"], dtype="str")
    small = pd.Series(pd.arrays.ArrowStringArray(pa.array(["A1", "Q"], type=pa.string())))
    large = pd.Series(pd.arrays.ArrowStringArray(pa.array(["B2"], type=pa.large_string())))
    assert arrow_strings(small) is not None and arrow_strings(allowed) is not None
    assert [list(f) for f in isin_many([small, large], allowed)] == [[True, False], [True]]
