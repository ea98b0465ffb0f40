"""Gi* and local Moran on a lattice small enough to check by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from placeintel.index.hotspots import hotspots


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
    # permutation p = 0.048): that does not survive the FDR correction across 25 wards.
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
