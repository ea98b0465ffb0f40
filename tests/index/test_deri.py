"""The DERI method on a tiny fixture whose every number is worked out by hand below."""

from __future__ import annotations

import pandas as pd
import pytest

from placeintel.errors import DataError
from placeintel.index import IndexSettings, compute_index


@pytest.fixture
def three_wards() -> pd.DataFrame:
    # Only three indicators are present, from two components; deprivation is missing.
    return pd.DataFrame(
        {
            "ward_code": ["A", "B", "C"],
            "lad_code": ["L1", "L1", "L2"],
            "pct_aged_65_plus": [10.0, 20.0, 30.0],
            "pct_aged_75_plus": [4.0, 10.0, 7.0],
            "avg_download_mbit": [100.0, 50.0, 25.0],
        }
    )


def test_hand_computed_scores(three_wards: pd.DataFrame) -> None:
    result = compute_index(three_wards)
    wards = result.wards.set_index("ward_code")
    # 65+: min 10, max 30 -> A 0, B 5, C 10.
    assert wards["pct_aged_65_plus_scaled"].tolist() == [0.0, 5.0, 10.0]
    # 75+: min 4, max 10 -> A 0, B 10, C (7-4)/6*10 = 5.
    assert wards["pct_aged_75_plus_scaled"].tolist() == [0.0, 10.0, 5.0]
    # Speed is reversed (faster = lower risk): 10 - 10*(x-25)/75 -> A 0, B 6.666667, C 10.
    assert wards["avg_download_mbit_scaled"].tolist() == pytest.approx([0.0, 6.666667, 10.0])
    # Demography: weights 5 and 5 -> plain mean: A 0, B 7.5, C 7.5.
    assert wards["demography_score"].tolist() == pytest.approx([0.0, 7.5, 7.5])
    # Broadband has only speed present, so its weight takes the whole component.
    assert wards["broadband_score"].tolist() == pytest.approx([0.0, 6.666667, 10.0])
    # Deprivation is missing: components 3 and 3 -> mean of the two.
    # A 0, B (7.5 + 6.666667)/2 = 7.083333, C (7.5 + 10)/2 = 8.75.
    assert wards["deri_score"].tolist() == pytest.approx([0.0, 7.083333, 8.75])
    assert wards["deri_rank"].tolist() == [3, 2, 1]
    assert result.missing_components == ["deprivation", "access"]
    assert "deprivation_score" not in wards


def test_weights_move_scores(three_wards: pd.DataFrame) -> None:
    settings = IndexSettings(component_weights={"demography": 6, "broadband": 3, "deprivation": 3})
    wards = compute_index(three_wards, settings).wards.set_index("ward_code")
    # B = (6*7.5 + 3*6.666667)/9 = 7.222222; C = (6*7.5 + 3*10)/9 = 8.333333.
    assert wards["deri_score"].tolist() == pytest.approx([0.0, 7.222222, 8.333333])


def test_effective_weights_sum_to_one(three_wards: pd.DataFrame) -> None:
    result = compute_index(three_wards)
    assert sum(result.effective_weights.values()) == pytest.approx(1.0, abs=1e-5)
    # Within demography 5:5, demography is half the index -> 0.25 each; speed 0.5.
    assert result.effective_weights["pct_aged_65_plus"] == pytest.approx(0.25)
    assert result.effective_weights["avg_download_mbit"] == pytest.approx(0.5)


def test_constant_indicator_is_reported_not_zeroed(three_wards: pd.DataFrame) -> None:
    three_wards["pct_aged_75_plus"] = 5.0
    result = compute_index(three_wards)
    assert "pct_aged_75_plus" in result.missing_indicators
    # Demography then rests on 65+ alone: A 0, B 5, C 10.
    assert result.wards["demography_score"].tolist() == pytest.approx([0.0, 5.0, 10.0])


def test_missing_ward_value_redistributes_weight(three_wards: pd.DataFrame) -> None:
    three_wards.loc[1, "pct_aged_75_plus"] = float("nan")
    wards = compute_index(three_wards).wards.set_index("ward_code")
    # 75+ now spans 4..7: A 0, C 10; B has no value so its demography is 65+ alone (5).
    assert wards.loc["B", "demography_score"] == pytest.approx(5.0)
    assert wards.loc["C", "demography_score"] == pytest.approx(10.0)


def test_manifest_settings_are_checked() -> None:
    with pytest.raises(DataError, match="unknown scaling base"):
        IndexSettings.from_manifest({"base": "galaxy"})
    with pytest.raises(DataError, match="from 0 to 10"):
        IndexSettings.from_manifest({"indicator_weights": {"imd_score": 99}})
    with pytest.raises(DataError, match="whole number"):
        IndexSettings.from_manifest({"indicator_weights": {"imd_score": 2.5}})
    assert (
        IndexSettings.from_manifest({"indicator_weights": {"imd_score": 4.0}}).indicator_weights[
            "imd_score"
        ]
        == 4
    )
    with pytest.raises(DataError, match="unknown indicator"):
        IndexSettings.from_manifest({"indicator_weights": {"wifi_vibes": 1}})


def test_no_indicators_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="no indicator could be computed"):
        compute_index(pd.DataFrame({"ward_code": ["A"], "lad_code": ["L"]}))


def test_contributions_explain_the_score(three_wards: pd.DataFrame) -> None:
    wards = compute_index(three_wards).wards.set_index("ward_code")
    # Ward B: demography and broadband each carry half of the index.
    # 65+: 0.5 (component) * 0.5 (5 of 10 within) * 5 = 1.25
    # 75+: 0.5 * 0.5 * 10 = 2.5; speed: 0.5 * 1 * 6.666667 = 3.333333. Sum = 7.083333.
    b = wards.loc["B"]
    assert b["pct_aged_65_plus_contribution"] == pytest.approx(1.25)
    assert b["pct_aged_75_plus_contribution"] == pytest.approx(2.5)
    assert b["avg_download_mbit_contribution"] == pytest.approx(3.333333)
    contributions = wards.filter(like="_contribution").sum(axis=1)
    assert contributions.tolist() == pytest.approx(wards["deri_score"].tolist())


def test_local_authority_base(three_wards: pd.DataFrame) -> None:
    wards = compute_index(three_wards, IndexSettings(base="local-authority")).wards
    wards = wards.set_index("ward_code")
    # A and B are scaled against each other (L1): A is 0 and B is 10 on every indicator.
    assert wards.loc["A", "deri_score"] == pytest.approx(0.0)
    assert wards.loc["B", "deri_score"] == pytest.approx(10.0)
    # C is alone in L2: min = max, so it cannot be scaled and gets no score or rank.
    assert pd.isna(wards.loc["C", "deri_score"]) and pd.isna(wards.loc["C", "deri_rank"])


def test_nation_base_uses_reference_ranges(three_wards: pd.DataFrame) -> None:
    ranges = {
        "pct_aged_65_plus": (0.0, 40.0),
        "pct_aged_75_plus": (0.0, 20.0),
        "avg_download_mbit": (0.0, 200.0),
    }
    wards = compute_index(three_wards, IndexSettings(base="nation", reference_ranges=ranges)).wards
    # A: 65+ 10/40*10 = 2.5, 75+ 4/20*10 = 2, speed 10 - 100/200*10 = 5
    #    -> demography 2.25, broadband 5 -> DERI 3.625.
    # B: 5, 5, 7.5 -> 5, 7.5 -> 6.25.  C: 7.5, 3.5, 8.75 -> 5.5, 8.75 -> 7.125.
    assert wards["deri_score"].tolist() == pytest.approx([3.625, 6.25, 7.125])


def test_nation_values_outside_reference_are_clipped(three_wards: pd.DataFrame) -> None:
    ranges = {"pct_aged_65_plus": (0.0, 20.0)}
    wards = compute_index(three_wards, IndexSettings(base="nation", reference_ranges=ranges)).wards
    assert wards["pct_aged_65_plus_scaled"].tolist() == [5.0, 10.0, 10.0]


def test_zero_weight_component_is_shown_not_counted(three_wards: pd.DataFrame) -> None:
    three_wards["support_distance_m"] = [300.0, 900.0, 600.0]
    result = compute_index(three_wards)  # access weighs 0 by default, as in DERI
    assert result.unweighted_components == ["access"]
    assert result.wards["access_score"].tolist() == pytest.approx([0.0, 10.0, 5.0])
    assert result.wards["deri_score"].tolist() == pytest.approx([0.0, 7.083333, 8.75])
    weighted = IndexSettings(
        component_weights={"demography": 3, "broadband": 3, "deprivation": 3, "access": 3}
    )
    # Now a third of the index: B = (7.5 + 6.666667 + 10) / 3 = 8.055556.
    assert compute_index(three_wards, weighted).wards["deri_score"][1] == pytest.approx(8.055556)
