"""Reading each format a dataset may have, and placing its rows by each kind of geometry."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from openpyxl import Workbook

from placeintel.datasets.manifest import Dataset, Geometry
from placeintel.datasets.read import place, read_dataset
from placeintel.errors import DataError

#: Three places in Manchester, lon/lat, and the same in British National Grid metres.
LONLAT = [(-2.2426, 53.4808), (-2.2935, 53.4631), (-2.2000, 53.5000)]


def dataset(path: str, form: str, kind: str = "none", columns=(), **more) -> Dataset:
    return Dataset("x", "X", path, "id", form, Geometry(kind, tuple(columns)), **more)


def frame(**more) -> gpd.GeoDataFrame:
    data = {"id": ["a", "b", "c"], "name": ["Hall", "Hub", "Café"], "count": [1, 2, 3], **more}
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(p) for p in LONLAT], crs="OGC:CRS84")


def test_csv_with_a_bom_and_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("id,name\r\na,Caf\xe9\r\n\r\nb,Hub\r\n".encode("cp1252"))
    read = read_dataset(path, dataset("a.csv", "csv"))
    assert list(read.index) == [2, 4]  # file lines: the blank line 3 is skipped, not renumbered
    assert read.loc[2, "name"] == "Café"
    bom = tmp_path / "b.csv"
    bom.write_bytes(b"\xef\xbb\xbf id ,name\na,x\n")
    assert list(read_dataset(bom, dataset("b.csv", "csv")).columns) == ["id", "name"]


def test_a_semicolon_csv_is_named_not_misread(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id;name\na;b\n", encoding="utf-8")
    with pytest.raises(DataError, match="not comma-separated") as raised:
        read_dataset(path, dataset("a.csv", "csv"))
    assert raised.value.rule == "delimiter"


def test_geojson_features_numbered_and_in_british_national_grid(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    frame().to_file(path, driver="GeoJSON")
    read = read_dataset(path, dataset("a.geojson", "geojson", "file"))
    assert read.crs.to_epsg() == 27700 and list(read.index) == [1, 2, 3]
    assert read.loc[2, "count"] == "2"  # attributes as text, as a CSV's are
    assert 380_000 < read.geometry[1].x < 390_000


def test_a_geopackage_layer_by_name(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    frame().to_file(path, layer="halls", driver="GPKG")
    frame(extra=["1", "2", "3"]).to_file(path, layer="hubs", driver="GPKG")
    read = read_dataset(path, dataset("a.gpkg", "gpkg", "file", layer="hubs"))
    assert "extra" in read.columns
    with pytest.raises(DataError, match="has 2 layers") as raised:
        read_dataset(path, dataset("a.gpkg", "gpkg", "file"))
    assert "halls, hubs" in raised.value.hint
    with pytest.raises(DataError, match="no layer 'nope'"):
        read_dataset(path, dataset("a.gpkg", "gpkg", "file", layer="nope"))


def _zip_shapefile(tmp_path: Path, copies: int = 1) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    for n in range(copies):
        frame().to_crs(27700).to_file(folder / f"halls{n}.shp")
    path = tmp_path / "halls.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return path


def test_a_zipped_shapefile(tmp_path: Path) -> None:
    path = _zip_shapefile(tmp_path)
    read = read_dataset(path, dataset("halls.zip", "shapefile", "file"))
    assert len(read) == 3 and read.crs.to_epsg() == 27700
    assert set(read["name"]) == {"Hall", "Hub", "Café"}


def test_a_zip_with_two_shapefiles_is_refused(tmp_path: Path) -> None:
    path = _zip_shapefile(tmp_path, copies=2)
    with pytest.raises(DataError, match="exactly one .shp, this zip holds 2"):
        read_dataset(path, dataset("halls.zip", "shapefile", "file"))


def test_a_zip_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(b"PK not really")
    with pytest.raises(DataError, match="not a readable zip"):
        read_dataset(path, dataset("a.zip", "shapefile", "file"))


def test_xlsx_sheet_rows_numbered_as_the_sheet_shows_them(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Grants")
    sheet.append(["grant_id", "amount", "awarded", "ok"])
    sheet.append(["G1", 1500, dt.datetime(2024, 5, 1), True])
    sheet.append([None, None, None, None])
    sheet.append(["G2", 12.5, dt.date(2024, 6, 2), False])
    path = tmp_path / "g.xlsx"
    book.save(path)
    read = read_dataset(path, dataset("g.xlsx", "xlsx", sheet="Grants"))
    assert list(read.index) == [2, 4]
    assert read.loc[2].tolist() == ["G1", "1500", "2024-05-01", "true"]
    assert read.loc[4, "amount"] == "12.5"
    with pytest.raises(DataError, match="has 2 sheets"):
        read_dataset(path, dataset("g.xlsx", "xlsx"))


def test_a_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "g.xlsx"
    path.write_text("id\n1\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a readable zip|cannot read the workbook"):
        read_dataset(path, dataset("g.xlsx", "xlsx"))


def _table(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.RangeIndex(2, 2 + len(next(iter(columns.values())))))


def test_lon_lat_columns_place_points_and_name_a_bad_row(tmp_path: Path) -> None:
    table = _table(id=["a", "b"], lon=["-2.24", "-2.29"], lat=["53.48", "53.46"])
    placed = place(table, dataset("a.csv", "csv", "lonlat", ("lon", "lat")), Path("a.csv"))
    assert placed.crs.to_epsg() == 27700 and list(placed.index) == [2, 3]
    bad = _table(id=["a", "b"], lon=["-2.24", "-2.29"], lat=["53.48", "953.46"])
    with pytest.raises(DataError) as raised:
        place(bad, dataset("a.csv", "csv", "lonlat", ("lon", "lat")), Path("a.csv"))
    assert (raised.value.row, raised.value.field, raised.value.rule) == (
        3,
        "lat",
        "invalid-coordinate",
    )


def test_easting_northing_columns_and_a_missing_one(tmp_path: Path) -> None:
    spec = dataset("a.csv", "csv", "bng", ("e", "n"))
    placed = place(_table(id=["a"], e=["383000"], n=["398000"]), spec, Path("a.csv"))
    assert placed.geometry[2].equals(shapely.Point(383000, 398000))
    with pytest.raises(DataError, match="northing is missing") as raised:
        place(_table(id=["a", "b"], e=["383000", "1"], n=["398000", ""]), spec, Path("a.csv"))
    assert raised.value.row == 3
    with pytest.raises(DataError, match="not a number"):
        place(_table(id=["a"], e=["inf"], n=["x"]), spec, Path("a.csv"))


def test_postcodes_placed_with_the_postcode_directory() -> None:
    onspd = pd.DataFrame(
        {
            "postcode": ["M11AA", "M21BB"],
            "oa21_code": ["E1", "E2"],
            "easting": [383000.0, 384000],
            "northing": [398000.0, 399000],
        }
    )
    spec = dataset("a.csv", "csv", "postcode", ("pc",))
    placed = place(_table(id=["a", "b"], pc=["m1 1aa", "M2  1BB"]), spec, Path("a.csv"), onspd)
    assert [p.x for p in placed.geometry] == [383000, 384000]
    with pytest.raises(DataError, match="'ZZ9 9ZZ' is not in the ONS Postcode Directory") as raised:
        place(_table(id=["a", "b"], pc=["M1 1AA", "ZZ9 9ZZ"]), spec, Path("a.csv"), onspd)
    assert (raised.value.row, raised.value.field) == (3, "pc")


def test_no_geometry_leaves_the_table_as_it_is() -> None:
    table = _table(id=["a"])
    assert place(table, dataset("a.csv", "csv"), Path("a.csv")) is table


def test_a_feature_without_geometry_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"a"},'
        '"geometry":{"type":"Point","coordinates":[-2.2,53.4]}},{"type":"Feature",'
        '"properties":{"id":"b"},"geometry":null}]}',
        encoding="utf-8",
    )
    spec = dataset("a.geojson", "geojson", "file")
    with pytest.raises(DataError, match="no geometry") as raised:
        place(read_dataset(path, spec), spec, path)
    assert raised.value.row == 2
