"""Gi* and local Moran: by hand on a small lattice, and held to their promise on a larger map:
a planted cluster is found, and scores shuffled across the map raise false hot spots in no
more than the nominal share of maps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from esda import G_Local
from libpysal.weights import Queen

from placeintel.index.hotspots import hotspots, ward_hotspots


@pytest.fixture
def lattice() -> gpd.GeoDataFrame:
    """A 5 x 5 grid of 1 km squares; the 2 x 2 block in one corner scores 10, the rest 1."""
    cells, scores = [], []
    for row in range(5):
        for col in range(5):
            cells.append(shapely.box(col * 1000, row * 1000, (col + 1) * 1000, (row + 1) * 1000))
            scores.append(10.0 if row < 2 and col < 2 else 1.0)
    return gpd.GeoDataFrame(
        {"ward_code": [f"W{i:02d}" for i in range(25)], "deri_score": scores},
        geometry=cells,
        crs="EPSG:27700",
    )


def test_gi_star_matches_the_formula_by_hand(lattice: gpd.GeoDataFrame) -> None:
    result = hotspots(lattice)
    # Corner cell W00: queen neighbours W01, W05, W06 plus itself (Gi*), all scoring 10.
    #   sum(w x) = 40, sum(w) = 4, sum(w^2) = 4, n = 25
    #   mean = (4*10 + 21*1)/25 = 2.44;  S = sqrt((4*100 + 21*1)/25 - 2.44^2) = 3.299454
    #   Gi* = (40 - 2.44*4) / (S * sqrt((25*4 - 4^2)/(25 - 1))) = 30.24 / 6.172766 = 4.898979
    assert result.loc[0, "gi_z"] == pytest.approx(4.898979, abs=1e-5)
    # Far corner W24: neighbours W18, W19, W23 plus itself, all scoring 1:
    #   Gi* = (4 - 9.76) / 6.172766 = -0.933132
    assert result.loc[24, "gi_z"] == pytest.approx(-0.933132, abs=1e-5)


def test_the_hot_block_is_hot_and_the_rest_is_not(lattice: gpd.GeoDataFrame) -> None:
    result = hotspots(lattice)
    # The corner's neighbourhood is all high: permutations almost never match it.
    assert result.loc[0, "hotspot"] in {"hot-99", "hot-95"}
    assert result.loc[[1, 5], "hotspot"].str.startswith("hot").all()
    # W06 also touches five low cells (Gi* = (45 - 2.44*9) / (S * sqrt((225 - 81)/24)) = 2.85,
    # permutation p = 0.048): that does not survive the FDR correction across 25 cells.
    assert result.loc[6, "hotspot"] == "not-significant"
    # An all-low neighbourhood is the commonest permuted outcome, so it is not "cold":
    # this is what counting ties in both tails is for.
    assert not result["hotspot"].str.startswith("cold").any()
    assert not result.drop(index=[0, 1, 5, 6])["hotspot"].str.startswith("hot").any()
    assert "high-high" in set(result.loc[[0, 1, 5, 6], "lisa_cluster"])


def test_seeded_and_repeatable(lattice: gpd.GeoDataFrame) -> None:
    first, second = hotspots(lattice), hotspots(lattice)
    assert first.equals(second)


def test_unscored_wards_and_islands_are_not_significant(lattice: gpd.GeoDataFrame) -> None:
    lattice.loc[12, "deri_score"] = np.nan
    island = gpd.GeoDataFrame(
        {"ward_code": ["ISLAND"], "deri_score": [10.0]},
        geometry=[shapely.box(50_000, 50_000, 51_000, 51_000)],
        crs="EPSG:27700",
    )
    import pandas as pd

    frame = gpd.GeoDataFrame(pd.concat([lattice, island], ignore_index=True), crs="EPSG:27700")
    result = hotspots(frame)
    assert result.loc[12, "hotspot"] == "not-significant" and np.isnan(result.loc[12, "gi_z"])
    assert result.iloc[-1]["hotspot"] == "not-significant"


def _irregular_map(count: int, seed: int = 7) -> gpd.GeoDataFrame:
    """Irregular areas shaped like LSOAs (Voronoi cells of scattered points, ~6 neighbours)."""
    rng = np.random.default_rng(seed)
    side = 1_000 * np.sqrt(count)
    points = shapely.multipoints(rng.uniform(0, side, size=(count, 2)))
    frame = shapely.box(0, 0, side, side)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    return gpd.GeoDataFrame({"lsoa21_code": np.arange(len(cells))}, geometry=cells, crs=27700)


def _skewed_scores(areas: gpd.GeoDataFrame, seed: int = 11) -> np.ndarray:
    """Right-skewed scores: many middling areas and a long high tail."""
    return np.random.default_rng(seed).lognormal(mean=1.2, sigma=0.35, size=len(areas))


def test_a_planted_cluster_is_found() -> None:
    areas = _irregular_map(900)
    scores = _skewed_scores(areas)
    centre = shapely.Point(9_000, 21_000)
    distance = areas.geometry.centroid.distance(centre).to_numpy()
    planted = distance < 4_000  # about 56 areas, like a run of deprived estates
    scores[planted] += 3.0  # about 2.3 standard deviations
    areas["deri_score"] = scores
    hot = hotspots(areas)["hotspot"].str.startswith("hot").to_numpy()
    assert planted.sum() >= 45
    # Most of the cluster is found: its edge areas' neighbourhoods are half outside it,
    # so a local statistic cannot be sure of every one of them.
    assert hot[planted].mean() >= 0.5
    # ...and nothing else: every hot spot is in the cluster, and no cold spot is invented.
    assert hot[~planted].sum() == 0


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_shuffled_scores_raise_false_hot_spots_at_no_more_than_the_nominal_rate() -> None:
    """Scores shuffled across the map have no spatial structure, so every hot spot found is
    false. With all nulls true, a false discovery rate q means: something is flagged in at
    most a share q of maps. Seeded, 200 shuffles of skewed scores; the bound allows two
    binomial standard errors. The analytic normal p-values (ArcGIS's) are measured on the
    same maps: they fail, which is why the method uses permutations and why this test can."""
    from scipy.stats import norm

    from placeintel.index.hotspots import fdr, two_sided

    areas = _irregular_map(400)
    weights = Queen.from_dataframe(areas, use_index=False)
    scores = _skewed_scores(areas)
    rng = np.random.default_rng(2023)
    shuffles, levels = 200, (0.10, 0.05, 0.01)
    maps = {"permutation": dict.fromkeys(levels, 0), "analytic": dict.fromkeys(levels, 0)}
    hot_share = {"permutation": [], "analytic": []}
    for draw in range(shuffles):
        gi = G_Local(
            rng.permutation(scores),
            weights,
            transform="B",
            star=True,
            permutations=999,
            seed=draw,
            n_jobs=1,
            keep_simulations=True,
        )
        raw = {"permutation": two_sided(gi.Gs, gi.rGs), "analytic": 2 * norm.sf(abs(gi.Zs))}
        for method, p in raw.items():
            hot_share[method].append(((p < 0.05) & (gi.Zs > 0)).mean())
            adjusted = fdr(p)
            for q in levels:
                maps[method][q] += bool((adjusted < q).any())
    margin = {q: 2 * np.sqrt(q * (1 - q) / shuffles) for q in levels}
    for q in levels:
        assert maps["permutation"][q] / shuffles <= q + margin[q]
    # Unadjusted, a two-sided 5 % test puts 2.5 % of areas in the hot tail by chance.
    assert np.mean(hot_share["permutation"]) <= 0.025 + 0.003
    # The normal approximation does not hold on skewed scores: both checks fail for it.
    assert maps["analytic"][0.10] / shuffles > 0.10 + margin[0.10]
    assert np.mean(hot_share["analytic"]) > 0.025 + 0.003


def test_a_ward_is_a_hot_spot_when_most_of_its_residents_live_in_hot_lsoas() -> None:
    hotspot = pd.Series(
        ["hot-99", "hot-95", "not-significant", "hot-90", "cold-95", "cold-99", "hot-99"],
        index=["L1", "L2", "L3", "L4", "L5", "L6", "L7"],
    )
    ward_of = pd.Series(
        {"L1": "A", "L2": "A", "L3": "A", "L4": "B", "L5": "B", "L6": "C", "L7": "D"}
    )
    people = pd.Series(
        {"L1": 1000, "L2": 1500, "L3": 2000, "L4": 1000, "L5": 1000, "L6": 10, "L7": 0}
    )
    result = ward_hotspots(hotspot, ward_of, people)
    # A: 2,500 of 4,500 residents (56 %) in LSOAs hot at 95 % or more; only 22 % at 99 %.
    assert result.loc["A", "hotspot"] == "hot-95"
    assert result.loc["A", "hot_lsoa_share"] == pytest.approx(2500 / 4500, abs=1e-4)
    # B: half hot (90 %), half cold: the hot half reaches the threshold first... and the
    # cold half too; a tie of two halves is settled towards hot, flagged in both shares.
    assert result.loc["B", "hot_lsoa_share"] == 0.5 and result.loc["B", "cold_lsoa_share"] == 0.5
    assert result.loc["C", "hotspot"] == "cold-99"
    # D's only LSOA has no recorded residents: it still counts, as one LSOA among none.
    assert result.loc["D", "hotspot"] == "not-significant"
