"""Observed local statistics, Gi* and local Moran's I, from a contiguity matrix.

These are esda's formulas (`esda.G_Local` with binary weights and star=True, and
`esda.Moran_Local` with row-standardised weights), written in esda's arithmetic order
on the same sparse matrices, so they give the same numbers to the last bit
(tests/index/test_local.py compares them with esda's). They are written here because
esda takes a libpysal `W`, and building one, filling its diagonal for Gi* (through a
LIL matrix and a second `W`) and re-deriving its sparse matrix after each transform are
Python loops over every area: 6-9 s of CPU for England's LSOAs, against milliseconds
for the arithmetic itself. The permutation inference stays esda's draws
(`permutation.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class GiStar:
    """Gi* with binary weights, each area in its own neighbourhood."""

    weights: sparse.csr_array  # adjacency plus the diagonal, as esda's filled W.sparse
    statistic: np.ndarray  # esda's Gs
    z: np.ndarray  # esda's Zs (the analytic z-score)


@dataclass(frozen=True)
class LocalMoran:
    """Local Moran's I with row-standardised weights."""

    weights: sparse.csr_array  # each row's neighbours weigh 1 / their number
    z: np.ndarray  # the standardised values
    statistic: np.ndarray  # esda's Is
    quadrant: np.ndarray  # esda's q: 1 high-high, 2 low-high, 3 low-low, 4 high-low


def gi_star(adjacency: sparse.csr_array, y: np.ndarray) -> GiStar:
    """esda's `G_Local(y, w, transform="B", star=True)`: statistic and analytic z.

    `adjacency` is binary with sorted columns and no diagonal (`contiguity.
    queen_adjacency`); libpysal's `fill_diagonal(w, 1)` puts a 1 on every diagonal,
    islands included, and its W's sparse matrix keeps columns sorted, as here."""
    n = adjacency.shape[0]
    weights = sparse.csr_array(adjacency + sparse.identity(n, format="csr"), dtype=float)
    weights.sort_indices()
    weights.data[:] = 1.0
    # esda's G_Local.calc with remove_self = False, in its order.
    statistic = (weights @ y) / y.sum()
    empirical_mean = y.sum() / n
    mean_of_squares = (y**2).sum() / n
    empirical_variance = mean_of_squares - empirical_mean**2
    cardinality = np.asarray(weights.sum(axis=1)).squeeze()
    expected_value = cardinality / n
    expected_variance = cardinality * (n - cardinality)
    expected_variance /= n - 1
    expected_variance *= 1 / n**2
    expected_variance *= empirical_variance / (empirical_mean**2)
    z = (statistic - expected_value) / np.sqrt(expected_variance)
    return GiStar(weights, statistic, z)


def local_moran(adjacency: sparse.csr_array, y: np.ndarray) -> LocalMoran:
    """esda's `Moran_Local(y, w)` with w row-standardised: I, z and the quadrants.

    libpysal row-standardises each area's weights as w / sum(w): 1 / k for k binary
    neighbours; an island keeps no weight."""
    n = len(y)
    weights = sparse.csr_array(adjacency, dtype=float, copy=True)
    counts = np.diff(weights.indptr)
    weights.data = 1.0 / np.repeat(counts, counts).astype(float)
    z = y - y.mean()
    with np.errstate(all="ignore"):
        z /= y.std()
    lag = weights @ z
    statistic = (n - 1) * z * lag / (z * z).sum()
    high, lag_high = z > 0, lag > 0
    quadrant = (
        1 * (high * lag_high)
        + 2 * ((1 - high) * lag_high)
        + 3 * ((1 - high) * (1 - lag_high))
        + 4 * (high * (1 - lag_high))
    )
    return LocalMoran(weights, z, statistic, quadrant)
