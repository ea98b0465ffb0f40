"""Property tests for the parsers every official file goes through: numbers and coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placeintel.errors import DataError
from placeintel.sources.services import read_services
from placeintel.sources.tables import MISSING_MARKERS, parse_number
from placeintel.validate.checks import UK_EXTENT


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_thousands_separated_integers_round_trip(n: int) -> None:
    assert parse_number(f"{n:,}") == n
    assert parse_number(str(n)) == n
    assert parse_number(f"  {n:,}  ") == n


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 6))
def test_decimals_round_trip(x: float, places: int) -> None:
    text = f"{x:,.{places}f}"
    assert parse_number(text) == pytest.approx(round(x, places), rel=1e-12, abs=10**-places)


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        value = parse_number(text)
    except ValueError:
        return
    assert np.isnan(value) or np.isfinite(value)
    if text.strip().lower() in MISSING_MARKERS:
        assert np.isnan(value)


@given(st.from_regex(r"[0-9]{1,3}(,[0-9]{4,})+", fullmatch=True))
def test_misplaced_separators_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@settings(max_examples=40, deadline=None)
@given(st.floats(-7.5, 1.7), st.floats(50.0, 58.5))
def test_uk_lon_lat_lands_in_british_national_grid(
    tmp_path_factory, lon: float, lat: float
) -> None:
    path = tmp_path_factory.mktemp("p") / "s.csv"
    path.write_text(f"name,lon,lat\nA,{lon!r},{lat!r}\n", encoding="utf-8")
    point = read_services(path, "services", {"category": "library"}).geometry.iloc[0]
    assert point.within(UK_EXTENT)
    assert 0 <= point.x <= 700_000 and 0 <= point.y <= 1_300_000


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(180.01, 1e7), st.floats(-1e7, -180.01)), st.floats(-89, 89))
def test_impossible_longitudes_name_row_and_field(tmp_path_factory, lon: float, lat: float) -> None:
    path: Path = tmp_path_factory.mktemp("p") / "s.csv"
    path.write_text(f"name,lon,lat\nA,1.0,52.0\nB,{lon!r},{lat!r}\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_services(path, "services", {"category": "library"})
    assert (caught.value.row, caught.value.field) == (3, "lon")
