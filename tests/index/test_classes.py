"""risk_classes' quantiles are mapclassify's, class for class and bound for bound."""

from __future__ import annotations

import warnings

import mapclassify
import numpy as np
import pytest

from placeintel.index.classes import quantile_classes, risk_classes


def _cases() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    cases = [rng.normal(size=n) for n in (5, 6, 7, 11, 32, 101, 1_000)]
    cases += [np.round(rng.uniform(0, 10, size=n), 1) for n in (5, 9, 40, 500)]  # ties
    cases += [np.array([1.0, 1, 1, 1, 2]), np.array([3.0] * 8), np.arange(10.0)]
    cases += [rng.integers(0, 3, size=50).astype(float)]
    return cases


@pytest.mark.parametrize("y", _cases(), ids=lambda y: f"n{len(y)}")
@pytest.mark.parametrize("k", [3, 5])
def test_same_as_mapclassify(y: np.ndarray, k: int) -> None:
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = mapclassify.Quantiles(y, k=k)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        classes, bins = quantile_classes(y, k)
    assert np.array_equal(classes, expected.yb)
    assert np.array_equal(bins, expected.bins)  # exactly: the same arithmetic
    assert [str(w.message) for w in ours] == [
        str(w.message) for w in theirs if "unique values" in str(w.message)
    ]


def test_missing_values_stay_unclassed() -> None:
    values = np.array([np.nan, 1.0, 2, 3, 4, 5, np.inf, 6])
    classes, bins = risk_classes(values)
    assert classes[0] == -1 and classes[6] == -1
    assert np.array_equal(
        classes[[1, 2, 3, 4, 5, 7]], mapclassify.Quantiles(values[[1, 2, 3, 4, 5, 7]]).yb
    )
    assert bins == [float(b) for b in mapclassify.Quantiles(values[[1, 2, 3, 4, 5, 7]]).bins]
