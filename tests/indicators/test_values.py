"""Indicator arithmetic at both levels, worked by hand: pairs of counts, weights, stand-ins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placeintel.indicators.values import indicator_values, resolve, rolled_counts


@pytest.fixture
def lsoas() -> tuple[pd.DataFrame, pd.Series]:
    counts = pd.DataFrame(
        {
            "idaopi_numerator": [50.0, np.nan, 10.0],  # L2's is suppressed, as IoD2025 does
            "aged_65_plus": [200.0, 300.0, 100.0],
            "imd_score": [30.0, 10.0, 20.0],
            "area_population": [1000.0, 3000.0, 1500.0],
        },
        index=pd.Index(["L1", "L2", "L3"], name="lsoa21_code"),
    )
    return counts, pd.Series({"L1": "A", "L2": "A", "L3": "B"})


def test_a_suppressed_numerator_leaves_its_lsoa_out_of_the_ward(lsoas) -> None:
    counts, ward_of = lsoas
    wards = indicator_values(counts, ["idaopi_per_1000_65_plus"], ward_of)
    # A: 1000 * 50 / 200 = 250 over L1 alone; counting L2's 300 people against a missing
    # numerator would give 1000 * 50 / 500 = 100, as if L2 had no income-deprived elders.
    assert wards.loc["A", "idaopi_per_1000_65_plus"] == pytest.approx(250.0)
    assert wards.loc["B", "idaopi_per_1000_65_plus"] == pytest.approx(100.0)
    by_lsoa = indicator_values(counts, ["idaopi_per_1000_65_plus"])
    assert by_lsoa["idaopi_per_1000_65_plus"].tolist()[0] == pytest.approx(250.0)
    assert np.isnan(by_lsoa.loc["L2", "idaopi_per_1000_65_plus"])  # missing, never zero


def test_a_score_is_population_weighted_not_averaged(lsoas) -> None:
    counts, ward_of = lsoas
    wards = indicator_values(counts, ["imd_score"], ward_of)
    # A: (30 * 1000 + 10 * 3000) / 4000 = 15, where a plain mean would say 20.
    assert wards.loc["A", "imd_score"] == pytest.approx(15.0)
    assert indicator_values(counts, ["imd_score"]).loc["L2", "imd_score"] == 10.0


def test_ward_counts_are_sums_and_rates_are_not_summed(lsoas) -> None:
    counts, ward_of = lsoas
    summed = rolled_counts(counts, ward_of, rates=["imd_score"])
    assert summed.loc["A", "aged_65_plus"] == 500.0
    assert summed.loc["A", "idaopi_numerator"] == 50.0  # the published part, not zero-filled
    assert "imd_score" not in summed


def test_a_substitute_only_where_the_official_indicator_cannot_be_made() -> None:
    nssec = {"nssec_l12_l14", "nssec_base"}
    alone = resolve(nssec)
    assert "pct_nssec_l12_l14" in alone.used
    assert "pct_nssec_l12_l14 stands in" in alone.missing["pct_social_grade_de"]
    both = resolve(nssec | {"social_grade_de", "social_grade_base"})
    assert "pct_social_grade_de" in both.used and "pct_nssec_l12_l14" not in both.used
    assert both.not_needed["pct_nssec_l12_l14"] == "not needed: pct_social_grade_de available"
    # Ofcom's three broadband indicators each replace the IoD2025 stand-in.
    ofcom = resolve(
        {"digital_connectivity", "area_population", "all_premises", "premises_below_30mbit"}
    )
    assert "pct_premises_below_30mbit" in ofcom.used and "digital_connectivity" not in ofcom.used
