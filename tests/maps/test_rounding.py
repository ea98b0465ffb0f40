"""maps.rounding gives Python's round(x, digits), value for value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from placeintel.maps.rounding import rounded

EDGES = [
    0.1,
    1.0,
    1e-05,
    1e16,
    -0.0,
    0.0,
    np.nan,
    np.inf,
    -np.inf,
    5e-324,
    1e9,
    999999999.123456,
    1.7976931348623157e308,
    2.675,
    0.125,
    0.0000005,
    1.0000005,
    123.4567895,
    -2.5e-7,
]


@pytest.mark.parametrize("digits", [0, 2, 3, 4, 6])
def test_same_as_round(digits: int) -> None:
    rng = np.random.default_rng(digits)
    n = 100_000
    scale = 10.0 ** rng.integers(-8, 12, n)
    values = np.concatenate(
        [
            EDGES,
            rng.random(n) * scale,
            np.round(rng.normal(size=n) * 100, 6),
            np.round(rng.random(n) * scale, rng.integers(0, 9)),
            rng.integers(0, 2**63, n, dtype=np.uint64).view(np.float64),
        ]
    )
    expected = [round(v, digits) if math.isfinite(v) else None for v in values.tolist()]
    got = rounded(values, digits)
    # Compared by repr, so that -0.0 and 0.0 stay apart.
    assert [repr(v) for v in got] == [repr(v) for v in expected]
