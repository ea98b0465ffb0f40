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
    assert result.missing_components == ["deprivation"]
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
    with pytest.raises(DataError, match="unknown indicator"):
        IndexSettings.from_manifest({"indicator_weights": {"wifi_vibes": 1}})


def test_no_indicators_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="no indicator could be computed"):
        compute_index(pd.DataFrame({"ward_code": ["A"], "lad_code": ["L"]}))
