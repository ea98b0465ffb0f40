"""The drawn scores are `combine`'s, bit for bit, whatever is missing or weighs nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeintel.index.deri import combine, layout
from placeintel.index.drawn import DrawnScores
from placeintel.indicators.catalogue import INDICATORS


def _values(rng: np.random.Generator, areas: int, missing: float) -> pd.DataFrame:
    keys = [i.key for i in INDICATORS]
    values = rng.uniform(0, 10, size=(areas, len(keys))).round(rng.integers(0, 4))
    values[rng.random(values.shape) < missing] = np.nan
    values[rng.random(values.shape) < 0.05] = 0.0  # zeros, and ties
    return pd.DataFrame(values, columns=keys)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("missing", [0.0, 0.1, 0.6])
@pytest.mark.parametrize("zero_component", [None, 0, 3])
def test_drawn_scores_are_combines(missing: float, zero_component: int | None) -> None:
    rng = np.random.default_rng(7)
    scaled = _values(rng, 500, missing)
    plan = layout(scaled)
    draws = 40
    weights = rng.integers(0, 11, size=len(plan.indicators)) * rng.uniform(
        0.5, 1.5, size=(draws, len(plan.indicators))
    )
    component_weights = rng.integers(1, 11, size=len(plan.components)) * rng.uniform(
        0.5, 1.5, size=(draws, len(plan.components))
    )
    if zero_component is not None:
        component_weights[:, zero_component] = 0.0
    component_weights[draws // 2, 1] = 0.0  # one draw only: not a component to skip
    values = scaled.to_numpy(dtype=float)
    expected = combine(values, plan, weights, component_weights)[1]
    for rows in (64, 500):
        got = DrawnScores(values, plan, rows).scores(weights, component_weights)
        assert _same(got, expected)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf x 0
def test_areas_without_a_component_and_huge_values_are_combines() -> None:
    rng = np.random.default_rng(3)
    scaled = _values(rng, 300, 0.1)
    plan = layout(scaled)
    values = scaled.to_numpy(dtype=float, copy=True)
    values[:50, plan.members[0]] = np.nan  # no demography at all
    values[60, 0] = 1e300  # beyond the shortcuts' bound: combine's own way
    values[61, 1] = np.inf
    weights = rng.uniform(0.5, 1.5, size=(30, len(plan.indicators)))
    component_weights = rng.uniform(0.5, 1.5, size=(30, len(plan.components)))
    component_weights[:, 2] = 0.0
    expected = combine(values, plan, weights, component_weights)[1]
    got = DrawnScores(values, plan, 32).scores(weights, component_weights)
    assert _same(got, expected)
    zero_weights = np.zeros_like(component_weights)  # no total: every score NaN
    assert _same(
        DrawnScores(values, plan, 32).scores(weights, zero_weights),
        combine(values, plan, weights, zero_weights)[1],
    )
