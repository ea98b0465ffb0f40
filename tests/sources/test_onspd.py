"""The ONS Postcode Directory reader and the placing of postcode rows in output areas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from placeintel.demo.postcodes import ONSPD_HEADER
from placeintel.errors import DataError
from placeintel.sources.onspd import read_onspd, to_output_areas


def _onspd(path: Path, rows: list[dict[str, str]]) -> Path:
    frame = pd.DataFrame([{c: row.get(c, "") for c in ONSPD_HEADER} for row in rows])
    frame.to_csv(path, index=False)
    return path


def test_reads_postcode_and_output_area_in_one_spelling(tmp_path: Path) -> None:
    path = _onspd(
        tmp_path / "ONSPD.csv",
        [
            {"pcds": "M1 1AE", "oa21": "E00025678"},
            {"pcds": "m14 5ra", "oa21": "E00026000", "doterm": "202305"},
            {"pcds": "M60 2LA", "oa21": ""},  # a large user's PO box: no OA
        ],
    )
    frame = read_onspd(path, "lookup-postcode", {})
    assert frame["postcode"].tolist() == ["M11AE", "M145RA"]
    assert frame["oa21_code"].tolist() == ["E00025678", "E00026000"]
    assert frame["terminated"].tolist() == [False, True]
    assert frame.index.tolist() == [2, 3]  # file row numbers survive


def test_a_postcode_listed_twice_is_named_with_its_row(tmp_path: Path) -> None:
    path = _onspd(
        tmp_path / "ONSPD.csv",
        [{"pcds": "M1 1AE", "oa21": "E00025678"}, {"pcds": "M11AE", "oa21": "E00025679"}],
    )
    with pytest.raises(DataError) as caught:
        read_onspd(path, "lookup-postcode", {})
    assert caught.value.row == 3 and "M11AE" in caught.value.message


def test_postcodes_sum_into_output_areas_with_line_weighted_speed() -> None:
    lookup = pd.DataFrame(
        {"postcode": ["A11AA", "A11AB", "A11AD"], "oa21_code": ["E1", "E1", "E2"]}
    )
    performance = pd.DataFrame(
        {
            "area_code": ["A11AA", "A11AB", "A11AD"],
            "connections_total": [10.0, 30.0, 2.0],
            "connections_below_10mbit": [1.0, 3.0, 0.0],
            "avg_download_mbit": [100.0, 20.0, float("nan")],  # withheld for 2 lines
            "median_download_mbit": [80.0, 15.0, float("nan")],
        },
        index=[2, 3, 4],
    )
    out = to_output_areas(performance, lookup, "performance.csv").set_index("area_code")
    assert out.loc["E1", "connections_total"] == 40
    assert out.loc["E1", "avg_download_mbit"] == pytest.approx((100 * 10 + 20 * 30) / 40)
    assert out.loc["E2", "connections_total"] == 2
    assert pd.isna(out.loc["E2", "avg_download_mbit"])
    assert "median_download_mbit" not in out  # a median cannot be summed


def test_an_unknown_postcode_is_an_error_not_a_silent_drop() -> None:
    lookup = pd.DataFrame({"postcode": ["A11AA"], "oa21_code": ["E1"]})
    coverage = pd.DataFrame(
        {"area_code": ["A11AA", "ZZ99ZZ"], "all_premises": [5.0, 7.0]}, index=[2, 3]
    )
    with pytest.raises(DataError) as caught:
        to_output_areas(coverage, lookup, "coverage.csv")
    assert caught.value.row == 3 and "ZZ99ZZ" in caught.value.message
