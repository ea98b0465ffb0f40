"""Gi* and local Moran's I from the contiguity matrix are esda's, to the last bit: the
statistics, the analytic Gi* z, the quadrants and the weights the permutations read."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from esda import G_Local, Moran_Local
from scipy import sparse

from placeintel.index.contiguity import queen_adjacency
from placeintel.index.local import gi_star, local_moran
from tests.index.test_permutation import _map


def _same_matrix(found: sparse.csr_array, expected: sparse.csr_matrix) -> bool:
    expected = expected.tocsr()
    return (
        np.array_equal(found.indptr, expected.indptr)
        and np.array_equal(found.indices, expected.indices)
        and np.array_equal(found.data, expected.data)
    )


@pytest.mark.parametrize("seed", [5, 11])
def test_gi_star_is_esdas_bit_for_bit(seed: int) -> None:
    weights, areas, y = _map(seed=seed, with_areas=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = G_Local(y, weights, transform="B", star=True, permutations=0)
    found = gi_star(queen_adjacency(areas.geometry.to_numpy()), y)
    assert _same_matrix(found.weights, expected.w.sparse)  # the island's diagonal too
    assert np.array_equal(found.statistic, expected.Gs)
    assert np.array_equal(found.z, expected.Zs)


@pytest.mark.parametrize("seed", [5, 11])
def test_local_moran_is_esdas_bit_for_bit(seed: int) -> None:
    weights, areas, y = _map(seed=seed, with_areas=True)
    weights.transform = "R"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = Moran_Local(y, weights, permutations=0)
    found = local_moran(queen_adjacency(areas.geometry.to_numpy()), y)
    assert _same_matrix(found.weights, expected.w.sparse)
    assert np.array_equal(found.z, expected.z)
    assert np.array_equal(found.statistic, expected.Is)
    assert np.array_equal(found.quadrant, expected.q)
    assert set(np.unique(found.quadrant)) == {1, 2, 3, 4}
