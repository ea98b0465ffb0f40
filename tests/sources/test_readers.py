"""Readers on files shaped like the official ones, quirks included."""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.errors import DataError
from placeintel.sources.dwp import read_stat_xplore
from placeintel.sources.imd import read_imd
from placeintel.sources.lookups import read_lookup
from placeintel.sources.ofcom import read_coverage, read_performance
from placeintel.sources.services import read_services


def test_imd_file1_thousands_separators(tmp_path: Path) -> None:
    path = tmp_path / "file1.csv"
    path.write_text(
        "LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
        "Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,"
        "Index of Multiple Deprivation (IMD) Decile\n"
        'E01004766,Bolton 005A,E08000001,Bolton,"29,199",9\n',
        encoding="utf-8",
    )
    frame = read_imd(path, "imd", {})
    assert frame.loc[2, "imd_rank"] == 29199  # row 2 of the file: rows keep their numbers
    assert frame.loc[2, "lsoa11_code"] == "E01004766"


def test_mysociety_scores_and_rates(tmp_path: Path) -> None:
    path = tmp_path / "ms.csv"
    path.write_text(
        "nation,lsoa,overall_local_score,income_score,employment_score\n"
        "E,E01005482,79.3,51.2,44.9\nW,W01000001,10,1,1\n",
        encoding="utf-8",
    )
    frame = read_imd(path, "imd", {})
    assert len(frame) == 1  # only English rows carry the English IMD
    assert frame.loc[2, "imd_score"] == pytest.approx(79.3)
    assert frame.loc[2, "income_deprivation_rate"] == pytest.approx(0.512)


def test_ofcom_old_and_new_keys(tmp_path: Path) -> None:
    for key in ("oa11", "output_area"):
        path = tmp_path / f"{key}.csv"
        path.write_text(
            f"{key},All Premises,% of premises unable to receive 30Mbit/s\n"
            "E00000001,200,10\nE00000002,0,\n",
            encoding="utf-8",
        )
        frame = read_coverage(path, "broadband-coverage", {})
        assert frame["premises_below_30mbit"].tolist()[0] == 20
        assert frame.attrs["key_kind"] == ("oa11" if key == "oa11" else "oa21")


def test_ofcom_performance_needs_every_band(tmp_path: Path) -> None:
    path = tmp_path / "perf.csv"
    path.write_text("output_area,Average download speed (Mbit/s)\nE00000001,50\n", encoding="utf-8")
    with pytest.raises(DataError, match="Number of connections"):
        read_performance(path, "broadband-performance", {})


def test_lookup_recognises_lower_case_ons_columns(tmp_path: Path) -> None:
    path = tmp_path / "lu.csv"
    path.write_text(
        "lsoa21cd,lsoa21nm,wd25cd,wd25nm,lad25cd,lad25nm\n"
        "E01004766,Bolton 005A,E05014818,Astley Bridge,E08000001,Bolton\n",
        encoding="utf-8",
    )
    frame = read_lookup(path, "lookup-lsoa-ward", {})
    assert list(frame.columns) == [
        "lsoa21_code",
        "lsoa21_name",
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
    ]
    assert frame.attrs["vintages"]["ward"] == "WD25"


def test_lookup_rejects_an_lsoa_mapped_twice(tmp_path: Path) -> None:
    path = tmp_path / "lu.csv"
    path.write_text("LSOA21CD,WD23CD\nE01000001,E05000001\nE01000001,E05000002\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_lookup(path, "lookup-lsoa-ward", {})
    assert caught.value.row == 3


def test_stat_xplore_export(tmp_path: Path) -> None:
    path = tmp_path / "pc.csv"
    path.write_text(
        '"Title:","Pension Credit"\n\n"Lower Layer Super Output Areas (2021)","May-24"\n'
        '"E01000001 : City of London 001A","1,005"\n"Total","1,005"\n',
        encoding="utf-8",
    )
    frame = read_stat_xplore(path, "pension-credit", {"measure": "claimants"})
    assert frame.to_dict("records") == [{"area_code": "E01000001", "claimants": 1005.0}]


def test_services_csv_lon_lat_and_bad_coordinate(tmp_path: Path) -> None:
    path = tmp_path / "libs.csv"
    path.write_text(
        "name,address,postcode,lon,lat\nCentral Library,1 St,M1 1AA,-2.24,53.48\n", encoding="utf-8"
    )
    frame = read_services(path, "services", {"category": "library", "source_id": "libs"})
    assert frame.crs.to_epsg() == 27700
    assert 383_000 < frame.geometry.x.iloc[0] < 385_000  # Manchester in metres
    path.write_text("name,lon,lat\nA,-2.24,53.48\nB,-2.24,953.48\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        read_services(path, "services", {"category": "library"})
    assert (caught.value.row, caught.value.field) == (3, "lat")


def test_service_polygons_become_points_inside(tmp_path: Path) -> None:
    path = tmp_path / "po.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"Name":"Post Office"},"geometry":{"type":"Polygon","coordinates":'
        "[[[-2.0,53.0],[-1.999,53.0],[-1.999,53.001],[-2.0,53.001],[-2.0,53.0]]]}}]}",
        encoding="utf-8",
    )
    frame = read_services(path, "services", {"category": "post-office"})
    assert frame.geom_type.tolist() == ["Point"]
    assert "representative point" in frame["location_note"].iloc[0]


def test_unknown_category_is_named(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("name,type,lon,lat\nA,Bingo hall,-2.2,53.4\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown service category 'Bingo hall'"):
        read_services(path, "services", {"category_field": "type"})
