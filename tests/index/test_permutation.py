"""Streamed permutation tails give exactly the p-values of esda's kept simulations.

The hot spots count, per area, the simulated statistics at or beyond the observed one
without keeping the simulations; these tests hold those counts to esda's own
`keep_simulations=True` path on an LSOA-shaped map (irregular areas, about six
neighbours, an island, skewed scores rounded to six decimals as deri_score is, and
some ties), for Gi* and local Moran, with esda's seeds."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from esda import G_Local, Moran_Local
from esda.crand import vec_permutations
from libpysal.weights import Queen, W

from placeintel.index import hotspots as hot
from placeintel.index.contiguity import queen_adjacency
from placeintel.index.hotspots import two_sided
from placeintel.index.permutation import (
    _SortedColumns,
    neighbour_weights,
    permuted_ids,
    tail_counts,
    two_sided_from_counts,
)

PERMUTATIONS = 999


def _map(count: int = 1_200, seed: int = 5, with_areas: bool = False):
    """Voronoi cells shaped like LSOAs plus one island, and rounded skewed scores: their
    libpysal weights and scores, and with `with_areas` the areas too."""
    rng = np.random.default_rng(seed)
    side = 1_000 * np.sqrt(count)
    points = shapely.multipoints(rng.uniform(0, side, size=(count, 2)))
    frame = shapely.box(0, 0, side, side)
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame)), frame
    )
    island = shapely.box(10 * side, 10 * side, 10 * side + 500, 10 * side + 500)
    areas = gpd.GeoDataFrame(geometry=[*cells, island], crs=27700)
    scores = np.round(rng.lognormal(1.2, 0.35, size=len(areas)), 6)
    scores[: count // 10] = np.round(scores[: count // 10], 1)  # discrete ones tie often
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = Queen.from_dataframe(areas, use_index=False)
    return (weights, areas, scores) if with_areas else (weights, scores)


def _esda(statistic: str, y: np.ndarray, weights: W, seed: int, permutations: int = PERMUTATIONS):
    """esda's statistic; with permutations=0, before its crand zeroes the self weights."""
    kept = {"seed": seed, "n_jobs": 1, "keep_simulations": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if statistic == "gi_star":
            return G_Local(y, weights, transform="B", star=True, permutations=permutations, **kept)
        weights.transform = "R"
        return Moran_Local(y, weights, permutations=permutations, **kept)


@pytest.mark.parametrize("statistic", ["gi_star", "moran"])
@pytest.mark.parametrize("seed", [20231, 4])
def test_streamed_p_values_are_esdas_kept_ones(statistic: str, seed: int) -> None:
    weights, y = _map()
    esda = _esda(statistic, y, weights, seed)
    if statistic == "gi_star":
        observed, simulated, z, scaling = esda.Gs, esda.rGs, y, y.sum()
    else:
        observed, simulated, z = esda.Is, esda.rlisas, esda.z
        scaling = (len(z) - 1) / (z * z).sum()
    own, others = neighbour_weights(_esda(statistic, y, weights, seed, 0).w.sparse)
    ids = permuted_ids(len(y), others.shape[0], PERMUTATIONS, seed)
    expected = two_sided(observed, simulated)
    assert expected.min() < 0.01 and (expected == 1).sum() > 1  # both tails and ties occur
    for block in (16, 100, 256):  # blocks never change a count
        for every_pair in (False, True):  # sorted and bisected, or every pair evaluated
            upper, lower = tail_counts(
                statistic, observed, z, own, others, scaling, ids, block, every_pair
            )
            assert np.array_equal(two_sided_from_counts(upper, lower, PERMUTATIONS), expected)


def test_unequal_weights_take_the_general_path() -> None:
    """Weights that differ within a row (not what the hot spots use) still match esda."""
    weights, y = _map(400)
    rng = np.random.default_rng(1)
    unequal = W(
        weights.neighbors,
        {k: list(rng.uniform(0.5, 2, len(v))) for k, v in weights.neighbors.items()},
        silence_warnings=True,
    )
    own, others = neighbour_weights(unequal.sparse)  # before esda zeroes its diagonal
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        esda = Moran_Local(
            y, unequal, transformation="O", permutations=PERMUTATIONS, seed=3, n_jobs=1
        )
    ids = permuted_ids(len(y), others.shape[0], PERMUTATIONS, 3)
    scaling = (len(y) - 1) / (esda.z * esda.z).sum()
    upper, lower = tail_counts("moran", esda.Is, esda.z, own, others, scaling, ids)
    expected = two_sided(esda.Is, esda.rlisas)
    assert np.array_equal(two_sided_from_counts(upper, lower, PERMUTATIONS), expected)


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
def test_hotspots_leave_the_global_random_state_where_esda_did() -> None:
    """Seedless code after the hot spots (mapclassify's natural breaks) sees the same
    NumPy global random state as when esda drew the permutations itself."""
    weights, areas, y = _map(300, with_areas=True)
    _esda("gi_star", y, weights, hot.SEED)
    expected = np.random.get_state()[1].copy()
    np.random.seed(0)
    adjacency = queen_adjacency(areas.geometry.to_numpy())
    tests = hot._LocalTests(y, adjacency, PERMUTATIONS, hot.SEED)
    tests.run()
    assert np.array_equal(np.random.get_state()[1], expected)


def test_sorted_columns_merged_block_by_block_are_a_fresh_sort() -> None:
    """Each block's columns, kept sorted by merging the draws that changed, equal
    NumPy's own sort of them, ties and all (so the bisected counts are the same)."""
    rng = np.random.default_rng(7)
    n, draws = 500, 2_000
    z = np.round(rng.normal(size=n + 1), 1)  # coarse: many equal sums
    ids = np.asarray(permuted_ids(n, 6, draws, 11))
    columns = _SortedColumns(ids)
    for start in range(0, n, 37):
        running = np.zeros((draws, ids.shape[1] + 1))
        np.cumsum(z[ids + (ids >= start)], axis=1, out=running[:, 1:])
        assert np.array_equal(columns.sorted(running, start), np.sort(running.T, axis=1))


@pytest.mark.parametrize(("n", "neighbours", "seed"), [(1_200, 9, 20231), (40, 39, 4), (2, 1, 0)])
def test_draws_are_esdas_and_leave_its_global_state(n: int, neighbours: int, seed: int) -> None:
    """The draws are esda's rows; the global state is esda's after them, or untouched."""
    expected = vec_permutations(neighbours, n, PERMUTATIONS, seed)
    after = np.random.get_state()
    np.random.seed(99)
    before = np.random.get_state()
    assert np.array_equal(permuted_ids(n, neighbours, PERMUTATIONS, seed, False), expected)
    assert _same_state(np.random.get_state(), before)
    assert np.array_equal(permuted_ids(n, neighbours, PERMUTATIONS, seed), expected)
    assert _same_state(np.random.get_state(), after)


def _same_state(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
def test_hot_spots_that_leave_no_state_are_the_same_and_touch_none() -> None:
    """hotspots(leave_state=False), for a level drawn on another thread, gives the same
    results and leaves NumPy's global random state as it found it."""
    _, areas, y = _map(300, with_areas=True)
    areas["deri_score"] = y
    expected = hot.hotspots(areas)
    np.random.seed(3)
    before = np.random.get_state()
    assert hot.hotspots(areas, leave_state=False).equals(expected)
    assert _same_state(np.random.get_state(), before)
