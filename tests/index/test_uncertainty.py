"""The weight Monte Carlo: intervals that contain the rank, and sensitivity that means something."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeintel.index import IndexSettings, compute_index
from placeintel.index.uncertainty import (
    PERCENTILES,
    _percentiles,
    weight_uncertainty,
)
from placeintel.pipeline import Release


@pytest.fixture
def two_views() -> pd.DataFrame:
    """Wards that the two components rank in opposite orders, so weights decide the middle."""
    return pd.DataFrame(
        {
            "ward_code": list("ABCDEFGHIJ"),
            "lad_code": ["L"] * 10,
            "pct_aged_65_plus": [float(v) for v in range(10)],
            "avg_download_mbit": [10.0, 15, 30, 35, 60, 65, 70, 90, 95, 100],  # faster = lower risk
            "imd_score": [50.0, 40, 5, 5, 5, 5, 5, 5, 40, 50],
        }
    )


def test_interval_contains_rank_and_is_reproducible(two_views: pd.DataFrame) -> None:
    result = compute_index(two_views)
    first = weight_uncertainty(result.wards, result.settings, draws=200)
    assert (first["deri_rank_low"] <= result.wards["deri_rank"]).all()
    assert (first["deri_rank_high"] >= result.wards["deri_rank"]).all()
    assert first.equals(weight_uncertainty(result.wards, result.settings, draws=200))
    assert first["p_top_decile"].between(0, 1).all()


def test_one_indicator_means_no_weight_uncertainty() -> None:
    wards = pd.DataFrame(
        {"ward_code": list("ABCDEF"), "lad_code": ["L"] * 6, "imd_score": [1.0, 2, 3, 4, 5, 6]}
    )
    result = compute_index(wards)
    spread = weight_uncertainty(result.wards, result.settings, draws=100)
    assert (spread["deri_rank_low"] == spread["deri_rank_high"]).all()
    assert not spread["weight_sensitive"].any()
    assert spread["p_top_decile"].tolist() == [0, 0, 0, 0, 0, 1]


def test_zero_weights_stay_zero(two_views: pd.DataFrame) -> None:
    settings = IndexSettings(
        component_weights={"demography": 3, "broadband": 0, "deprivation": 0, "access": 0}
    )
    result = compute_index(two_views, settings)
    spread = weight_uncertainty(result.wards, settings, draws=100)
    # Only demography counts, and it has a single indicator: nothing to be unsure about.
    assert (spread["deri_rank_low"] == spread["deri_rank_high"]).all()


def test_published_wards_carry_the_analysis(demo_release: Release) -> None:
    wards = pd.read_csv(demo_release.path / "wards.csv")
    for column in (
        "imd_score",
        "demography_score",
        "broadband_score",
        "deprivation_score",
        "access_score",
        "deri_score",
        "deri_rank",
        "deri_rank_low",
        "deri_rank_high",
        "p_top_decile",
        "hotspot",
        "lisa_cluster",
        "weight_sensitive",
    ):
        assert column in wards, column
    assert set(wards["hotspot"]) <= {
        "hot-99",
        "hot-95",
        "hot-90",
        "cold-99",
        "cold-95",
        "cold-90",
        "not-significant",
    }
    # The synthetic mill town is built to be the hotspot: its wards lead and are hot.
    leaders = wards.sort_values("deri_rank").head(4)
    assert leaders["hotspot"].str.startswith("hot").sum() >= 3
    assert (leaders["p_top_decile"] == 1).all()
    assert (wards["deri_rank_low"] <= wards["deri_rank"]).all()
    contributions = wards.filter(like="_contribution").sum(axis=1)
    assert contributions.tolist() == pytest.approx(wards["deri_score"].tolist(), abs=1e-4)


@pytest.mark.filterwarnings("ignore:Not enough unique values")
def test_classes_and_intervals_of_all_draws_at_once_are_the_per_draw_ones() -> None:
    """The vectorised quintile classes and rank percentiles equal mapclassify's and
    np.nanpercentile's, draw by draw, with ties (repeated scores) and unscored areas."""
    import warnings

    import numpy as np

    from placeintel.index.classes import risk_classes
    from placeintel.index.deri import ranks
    from placeintel.index.uncertainty import _class_changes, _rank_interval, _ranks_and_order

    rng = np.random.default_rng(3)
    deri = np.round(rng.gamma(2.0, 1.5, size=(500, 40)), 1)  # rounded: many ties
    deri[[7, 99, 250]] = np.nan
    deri[:, 5] = 2.0  # a draw where every area scores the same: one class
    default = risk_classes(np.round(rng.gamma(2.0, 1.5, size=500), 1))[0]
    expected = sum((risk_classes(deri[:, d])[0] != default).astype(int) for d in range(40))
    ranked, ascending = _ranks_and_order(deri)
    assert np.array_equal(ranked, ranks(deri), equal_nan=True)
    assert np.array_equal(_class_changes(deri, ascending, default), expected)
    drawn = ranked.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN rows
        low, high = np.nanpercentile(ranks(deri), [5, 95], axis=1)
    assert all(
        np.array_equal(a, b, equal_nan=True)
        for a, b in zip(_rank_interval(drawn), (low, high), strict=True)
    )


@pytest.mark.parametrize("draws", [2, 3, 7, 20, 999, 1_000])
def test_percentiles_from_one_sort_are_numpys(draws: int) -> None:
    rng = np.random.default_rng(draws)
    ranks = rng.integers(1, 5_000, size=(200, draws)).astype(np.float32)
    expected = np.percentile(ranks.astype(float), PERCENTILES, axis=1)
    got = _percentiles(ranks.copy(), PERCENTILES)
    assert all(np.array_equal(e, g) for e, g in zip(expected, got, strict=True))
