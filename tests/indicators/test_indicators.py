"""Ward indicators on the demo: sums not averages, and interpolation that conserves people."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeintel.indicators import ward_indicators
from placeintel.indicators.interpolate import interpolate_to_wards
from placeintel.indicators.rollup import to_wards
from placeintel.region import load_manifest
from placeintel.sources import read_region


@pytest.fixture(scope="module")
def demo_data():
    return read_region(load_manifest("demo"))


def test_percentages_come_from_summed_counts(demo_data) -> None:
    result = ward_indicators(demo_data)
    census = demo_data.frames["census2021"]
    oa_lookup = demo_data.frames["lookup-oa21-lsoa21"]
    ward_lookup = demo_data.frames["lookup-lsoa21-ward23"]
    ward_of_oa = oa_lookup.set_index("oa21_code")["lsoa21_code"].map(
        ward_lookup.set_index("lsoa21_code")["ward_code"]
    )
    first = result.wards.iloc[0]
    oas = census[census["area_code"].map(ward_of_oa) == first["ward_code"]]
    expected = 100 * oas["aged_65_plus"].sum() / oas["population"].sum()
    assert first["pct_aged_65_plus"] == pytest.approx(expected, rel=1e-6)
    # ...which is not the mean of the OA percentages: the method matters.
    assert expected != pytest.approx(
        (100 * oas["aged_65_plus"] / oas["population"]).mean(), rel=1e-6
    )


def test_every_indicator_present_on_demo(demo_data) -> None:
    result = ward_indicators(demo_data)
    assert result.missing == {}
    assert len(result.wards) == 40
    assert result.wards["pct_premises_below_30mbit"].between(0, 100).all()
    assert "areal interpolation" in result.methods["imd_score"]


def test_rollup_names_an_unknown_code() -> None:
    # Indexed by file row number, as every reader's frame is.
    frame = pd.DataFrame({"area_code": ["E01000001", "E01999999"], "n": [1, 2]}, index=[2, 3])
    lookup = pd.DataFrame({"lsoa21_code": ["E01000001"], "ward_code": ["W1"]})
    with pytest.raises(Exception, match="E01999999") as caught:
        to_wards(frame, None, lookup, ["n"], "pc.csv")
    assert caught.value.row == 3


def test_interpolation_conserves_population_and_splits_by_area() -> None:
    # One 2011 LSOA straddles two wards 3:1 by area; a second lies inside ward W2.
    lsoa11 = gpd.GeoDataFrame(
        {"lsoa11_code": ["S1", "S2"]},
        geometry=[shapely.box(0, 0, 400, 100), shapely.box(400, 0, 500, 100)],
        crs="EPSG:27700",
    )
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1", "W2"]},
        geometry=[shapely.box(0, 0, 300, 100), shapely.box(300, 0, 500, 100)],
        crs="EPSG:27700",
    )
    values = pd.DataFrame(
        {
            "lsoa11_code": ["S1", "S2"],
            "imd_score": [40.0, 10.0],
            "population_total": [1000.0, 3000.0],
        }
    )
    result, method = interpolate_to_wards(
        values, lsoa11, wards, rates=["imd_score"], counts=["population_total"], raster=None
    )
    # S1 gives 750 people to W1, 250 to W2; S2 gives all 3000 to W2.
    assert result["population_total"].tolist() == pytest.approx([750.0, 3250.0])
    # W1 is all S1 (40); W2 is (250*40 + 3000*10) / 3250 = 12.307692.
    assert result["imd_score"].tolist() == pytest.approx([40.0, 12.307692])
    assert "intersection areas" in method


def test_raster_weighting_follows_people(demo_data) -> None:
    raster = demo_data.frames["population-raster"]
    lsoa11 = demo_data.frames["lsoa11"]
    wards = demo_data.frames["wards"]
    imd = demo_data.frames["imd2019"][["lsoa11_code", "imd_score", "population_total"]]
    result, method = interpolate_to_wards(
        imd, lsoa11, wards, ["imd_score"], ["population_total"], raster
    )
    assert "population raster" in method
    assert result["population_total"].sum() == pytest.approx(
        imd["population_total"].sum(), rel=1e-6
    )
    assert np.isfinite(result["imd_score"]).all()


def test_access_measures_by_hand() -> None:
    from placeintel.indicators.access import PopulationPoints, access_measures

    wards = gpd.GeoDataFrame(
        {"ward_code": ["A", "B", "C"]},
        geometry=[
            shapely.box(0, 0, 1000, 1000),
            shapely.box(1000, 0, 2000, 1000),
            shapely.box(3500, 0, 4500, 1000),
        ],
        crs="EPSG:27700",
    )
    support = gpd.GeoDataFrame(geometry=[shapely.Point(500, 500)], crs="EPSG:27700")
    # 100 people at the service's door in A; in B 300 people 1 km away and 100 at 1.5 km.
    people = PopulationPoints(
        np.array([500.0, 1500, 2000]),
        np.array([500.0, 500, 500]),
        np.array([100.0, 300, 100]),
        np.array([0, 1, 1]),
        "test",
    )
    measures, _ = access_measures(wards, support, people)
    # A: mean distance 0. B: (300*1000 + 100*1500) / 400 = 1125 m. C: nobody placed there.
    distance = measures["distance_x_population"] / measures["population_for_distance"]
    assert distance["A"] == 0 and distance["B"] == pytest.approx(1125.0)
    assert measures.loc["C", "population_for_distance"] == 0
    # Within 1 km of any part of the ward: A (inside) and B (500 m from its edge); C is 3 km.
    assert measures["support_within_1km"].tolist() == [1, 1, 0]
    assert measures["support_within_2km"].tolist() == [1, 1, 0]


def test_zonal_statistics_conserve_the_raster(demo_data) -> None:
    import rasterio

    result = ward_indicators(demo_data)
    with rasterio.open(demo_data.frames["population-raster"].path) as raster:
        total = float(raster.read(1, masked=True).sum())
    assert result.wards["population_raster"].sum() == pytest.approx(total, rel=1e-4)
    coverage = result.wards["mobile_4g_outdoor_coverage_pct"]
    assert coverage.between(0, 100).all()
    assert "exactextract" in result.methods["mobile_4g_outdoor_coverage_pct"]
    # Remote, poorly connected wards have weaker mobile coverage too (synthetic design).
    slow = (
        result.wards["pct_premises_below_30mbit"]
        > result.wards["pct_premises_below_30mbit"].median()
    )
    assert coverage[slow].mean() < coverage[~slow].mean()
