"""A corpus of broken inputs, each caught with the exact file, row, field and rule.

Every case copies the demo region, breaks one thing the way real files break,
and checks that validation names it precisely and that a build on top of a
good release leaves `current` exactly as it was.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
import shapely.affinity
import shapely.geometry
import yaml
from pyproj import CRS, Transformer
from rasterio.transform import from_origin

from placeintel import build
from placeintel.errors import PlaceintelError
from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.validate import validate_sources

DEMO = DATASETS_DIR / "demo"
IMD = "imd/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators.csv"
OA_LOOKUP = "lookups/OA21_LSOA21_MSOA21_LAD22_EW_LU.csv"
WARD_LOOKUP = "lookups/LSOA21_WD23_LAD23_EW_LU.csv"
CENSUS = "census/census2021-demography-oa21.csv"
COVERAGE = "broadband/202401_fixed_oa21_coverage_r01.csv"
PERFORMANCE = "broadband/202401_fixed_oa21_performance_r01.csv"
SERVICES = "services/council_digital_inclusion_services.csv"
TABLETS = "services/tablet_lending_and_free_data_points.geojson"
WARDS = "boundaries/Wards_May_2023_Boundaries_UK_BGC.geojson"
LSOA21 = "boundaries/LSOA_2021_EW_BGC.gpkg"
LSOA11 = "boundaries/LSOA_2011_EW_BGC.shp"
DWP = "dwp/pension-credit-claimants-lsoa21-may-2024.csv"
RASTER = "raster/population_100m.tif"
WARM_SPACES = "council/warm_spaces.csv"
GRANTS = "council/grants_register.csv"
ONLY_2011_LSOA = "E01990001"  # split in 2021, so absent from every 2021 file
ONLY_2021_LSOA = "E01990149"


# --- helpers that break files the way they break in practice ------------------------------


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, table: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)


def set_cell(name: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set the cell at file row `row` (header = 1) in the column headed `column`."""

    def mutate(region: Path) -> None:
        table = rows(region / name)
        table[row - 1][table[0].index(column)] = value
        write_rows(region / name, table)

    return mutate


def copy_cell(name: str, source_row: int, target_row: int, column: str) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        table = rows(region / name)
        index = table[0].index(column)
        table[target_row - 1][index] = table[source_row - 1][index]
        write_rows(region / name, table)

    return mutate


def rename_column(name: str, column: str, new: str) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        table = rows(region / name)
        table[0][table[0].index(column)] = new
        write_rows(region / name, table)

    return mutate


def edit_text(
    name: str, edit: Callable[[str], str], encoding: str = "utf-8"
) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        path = region / name
        # Bytes, not read_text: official CSVs end lines with CRLF and read_text would hide it.
        path.write_bytes(edit(path.read_bytes().decode("utf-8")).encode(encoding))

    return mutate


def edit_geojson(name: str, edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        document = json.loads((region / name).read_text(encoding="utf-8"))
        edit(document)
        (region / name).write_text(json.dumps(document), encoding="utf-8")

    return mutate


def edit_manifest(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
        edit(manifest)
        (region / "region.yml").write_text(
            yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8"
        )

    return mutate


def warm_spaces_by_coordinates(region: Path) -> None:
    """The demo's warm spaces given by easting/northing instead of postcode (columns taken
    from the postcode directory, schema and manifest entry to match), for coordinate cases."""
    header, *records = rows(region / "lookups/ONSPD_MAY_2024_UK.csv")
    pcds, east, north = (header.index(c) for c in ("pcds", "oseast1m", "osnrth1m"))
    directory = {row[pcds]: [row[east], row[north]] for row in records}
    table = rows(region / WARM_SPACES)
    at = table[0].index("postcode") + 1
    for n, row in enumerate(table):
        row[at:at] = ["easting", "northing"] if n == 0 else directory[row[at - 1]]
    write_rows(region / WARM_SPACES, table)
    schema_path = region / "council/warm-spaces.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["fields"][at:at] = [
        {"name": "easting", "type": "integer"},
        {"name": "northing", "type": "integer"},
    ]
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    edit_manifest(
        lambda manifest: manifest["datasets"][0].update(
            geometry={"easting": "easting", "northing": "northing"}
        )
    )(region)


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        for mutation in mutations:
            mutation(region)

    return mutate


def _feature(document: dict, n: int) -> dict:
    return document["features"][n - 1]


def _bowtie(document: dict) -> None:
    """A figure-of-eight twist in a ward's ring: the classic invalid polygon digitising
    errors produce. The ward keeps its shape (and so still covers its LSOAs)."""
    ring = _feature(document, 3)["geometry"]["coordinates"][0]
    x, y = ring[0]
    d = 0.001
    _feature(document, 3)["geometry"]["coordinates"][0] = [
        [x, y],
        [x + d, y + d],
        [x + d, y],
        [x, y + d],
        *ring,
    ]


def _wrong_crs_gpkg(region: Path) -> None:
    frame = gpd.read_file(region / LSOA21)
    frame.set_crs("EPSG:4326", allow_override=True).to_file(region / LSOA21, driver="GPKG")


def _personal_contact(region: Path) -> None:
    table = rows(region / SERVICES)
    table[0].append("contact")
    for line in table[1:]:
        line.append("")
    table[4][-1] = "jane.smith@example.org"
    write_rows(region / SERVICES, table)
    edit_manifest(
        lambda m: next(s for s in m["sources"] if s["id"] == "council-services").update(
            extra_fields=["contact"]
        )
    )(region)


def _service_in_unknown_ward(region: Path) -> None:
    table = rows(region / SERVICES)
    table[0].append("ward_code")
    for line in table[1:]:
        line.append("E05990001")
    table[9][-1] = "E05000650"  # a real 2017 Bolton ward: not in this region
    write_rows(region / SERVICES, table)
    edit_manifest(
        lambda m: next(s for s in m["sources"] if s["id"] == "council-services").update(
            ward_field="ward_code"
        )
    )(region)


def _services_column(column: str, row: int, value: str) -> Callable[[Path], None]:
    """A column published as an extra field of the services CSV, one cell filled in."""

    def mutate(region: Path) -> None:
        table = rows(region / SERVICES)
        table[0].append(column)
        for line in table[1:]:
            line.append("")
        table[row - 1][-1] = value
        write_rows(region / SERVICES, table)
        edit_manifest(
            lambda m: next(s for s in m["sources"] if s["id"] == "council-services").update(
                extra_fields=[column]
            )
        )(region)

    return mutate


# --- issue 14: geometry, raster and encoding (helpers) ---------------------------------------


def _region_box(document: dict) -> shapely.Polygon:
    return shapely.box(
        *shapely.union_all(
            [shapely.geometry.shape(f["geometry"]) for f in document["features"]]
        ).bounds
    )


def _ward_over_region(document: dict) -> None:
    """Ward 1 drawn over the whole region and as much again around it."""
    big = shapely.affinity.scale(_region_box(document), 2, 2)
    _feature(document, 1)["geometry"] = shapely.geometry.mapping(big)


def _ward_over_neighbours(document: dict) -> None:
    """Ward 5 grown by about 300 m (0.003 degrees) into each of its neighbours."""
    grown = shapely.geometry.shape(_feature(document, 5)["geometry"]).buffer(0.003)
    _feature(document, 5)["geometry"] = shapely.geometry.mapping(grown)


def _swap_ward_geometry(document: dict) -> None:
    """Wards 1 and 40 each given the other's polygon: no overlap, but wrong LSOAs inside."""
    first, last = _feature(document, 1), _feature(document, 40)
    first["geometry"], last["geometry"] = last["geometry"], first["geometry"]


def _point(n: int, lon: float, lat: float) -> Callable[[dict], None]:
    return lambda d: _feature(d, n).update(geometry={"type": "Point", "coordinates": [lon, lat]})


def _vertex(n: int, value: float) -> Callable[[dict], None]:
    """One vertex of feature n's outer ring set to a latitude that cannot be."""

    def edit(document: dict) -> None:
        geometry = _feature(document, n)["geometry"]
        ring = geometry["coordinates"][0]
        ring = ring[0] if geometry["type"] == "MultiPolygon" else ring
        ring[1][1] = value

    return edit


def edit_raster(
    name: str, edit: Callable[[rasterio.io.DatasetWriter], None]
) -> Callable[[Path], None]:
    def mutate(region: Path) -> None:
        with rasterio.open(region / name, "r+") as dataset:
            edit(dataset)

    return mutate


def _to_easting_northing(region: Path) -> None:
    """The services CSV with British National Grid columns instead of lon/lat."""
    table = rows(region / SERVICES)
    lon, lat = table[0].index("lon"), table[0].index("lat")
    to_bng = Transformer.from_crs("OGC:CRS84", "EPSG:27700", always_xy=True)
    table[0][lon], table[0][lat] = "easting", "northing"
    for line in table[1:]:
        x, y = to_bng.transform(float(line[lon]), float(line[lat]))
        line[lon], line[lat] = f"{x:.0f}", f"{y:.0f}"
    write_rows(region / SERVICES, table)


def encode(name: str, encoding: str, bom: bytes) -> Callable[[Path], None]:
    """Re-save a UTF-8 file in another Unicode encoding, with the byte-order mark given."""

    def mutate(region: Path) -> None:
        text = (region / name).read_bytes().decode("utf-8")
        text = text.replace("Birchfield Library", "Birchfield Café – Library")
        (region / name).write_bytes(bom + text.encode(encoding))

    return mutate


# --- issue 14: confinement and limits (helpers) -------------------------------------------

_DEMO_IDS = [s["id"] for s in yaml.safe_load((DEMO / "region.yml").read_text())["sources"]]


def source_key(source_id: str) -> str:
    """The manifest key of a demo source, as findings name it (`sources[9]`)."""
    return f"sources[{_DEMO_IDS.index(source_id)}]"


def set_source(source_id: str, **changes: str) -> Callable[[Path], None]:
    return edit_manifest(
        lambda m: next(s for s in m["sources"] if s["id"] == source_id).update(changes)
    )


def symlink(name: str, target: str) -> Callable[[Path], None]:
    return lambda region: (region / name).symlink_to(target)


def fifo(name: str) -> Callable[[Path], None]:
    return lambda region: os.mkfifo(region / name)


def wide_header(name: str, extra: int) -> Callable[[Path], None]:
    """A header of `extra` more columns than the file has (the 1-million-column attack)."""

    def mutate(region: Path) -> None:
        head, sep, rest = (region / name).read_bytes().partition(b"\r\n")
        more = ",".join(f"c{i}" for i in range(extra)).encode()
        (region / name).write_bytes(head + b"," + more + sep + rest)

    return mutate


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], None]
    file: str
    rule: str
    row: int | None = None
    field: str | None = None


IMD_SCORE = "Index of Multiple Deprivation (IMD) Score"
IMD_RANK = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
IMD_DECILE = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
IMD_CODE = "LSOA code (2011)"
POP = "Total population: mid 2015 (excluding prisoners)"
AGE_TOTAL = "Age: Total"

CASES = [
    # IMD 2019 File 7
    Case(
        "imd-score-not-a-number",
        set_cell(IMD, 5, IMD_SCORE, "abc"),
        IMD,
        "type-error",
        5,
        IMD_SCORE,
    ),
    Case(
        "imd-score-over-100",
        set_cell(IMD, 6, IMD_SCORE, "150"),
        IMD,
        "constraint-error",
        6,
        IMD_SCORE,
    ),
    Case(
        "imd-rank-malformed-separators",
        set_cell(IMD, 7, IMD_RANK, "29,19,9"),
        IMD,
        "type-error",
        7,
        IMD_RANK,
    ),
    Case(
        "imd-decile-eleven",
        set_cell(IMD, 8, IMD_DECILE, "11"),
        IMD,
        "constraint-error",
        8,
        IMD_DECILE,
    ),
    Case("imd-duplicate-lsoa", copy_cell(IMD, 5, 6, IMD_CODE), IMD, "primary-key", 6),
    Case(
        "imd-code-too-short",
        set_cell(IMD, 9, IMD_CODE, "E0199001"),
        IMD,
        "constraint-error",
        9,
        IMD_CODE,
    ),
    Case(
        "imd-code-column-missing",
        rename_column(IMD, IMD_CODE, "Area"),
        IMD,
        "missing-column",
        None,
        IMD_CODE,
    ),
    Case("imd-negative-population", set_cell(IMD, 10, POP, "-5"), IMD, "constraint-error", 10, POP),
    Case(
        "imd-2021-code-in-2011-file",
        set_cell(IMD, 4, IMD_CODE, ONLY_2021_LSOA),
        IMD,
        "wrong-vintage",
        4,
        "lsoa11_code",
    ),
    Case(
        "imd-unknown-code",
        set_cell(IMD, 3, IMD_CODE, "E01999999"),
        IMD,
        "dangling-code",
        3,
        "lsoa11_code",
    ),
    Case("imd-empty-file", edit_text(IMD, lambda t: ""), IMD, "empty-file"),
    Case(
        "imd-truncated",
        edit_text(IMD, lambda t: t.rstrip("\r\n").rsplit(",", 9)[0] + "\r\n"),
        IMD,
        "missing-cell",
        149,
    ),
    Case(
        "imd-blank-row",
        edit_text(IMD, lambda t: t.replace("\r\n", "\r\n\r\n", 3).replace("\r\n\r\n", "\r\n", 2)),
        IMD,
        "blank-row",
        4,
    ),
    Case(
        "imd-unquoted-comma",
        edit_text(
            IMD,
            lambda t: t.replace("Northmoor,", "Northmoor,extra,", 2).replace(
                "Northmoor,extra,", "Northmoor,", 1
            ),
        ),
        IMD,
        "extra-cell",
    ),
    # ONS lookups
    Case(
        "oa-lookup-duplicate-oa", copy_cell(OA_LOOKUP, 2, 3, "OA21CD"), OA_LOOKUP, "primary-key", 3
    ),
    Case(
        "oa-lookup-bad-oa-code",
        set_cell(OA_LOOKUP, 4, "OA21CD", "X00990003"),
        OA_LOOKUP,
        "constraint-error",
        4,
        "OA21CD",
    ),
    Case(
        "oa-lookup-no-lsoa-column",
        rename_column(OA_LOOKUP, "LSOA21CD", "LSOA"),
        OA_LOOKUP,
        "missing-column",
        None,
        "LSOA21CD",
    ),
    Case(
        "oa-lookup-dangling-lsoa",
        set_cell(OA_LOOKUP, 5, "LSOA21CD", "E01999998"),
        OA_LOOKUP,
        "dangling-code",
        5,
        "lsoa21_code",
    ),
    Case(
        "ward-lookup-ward-not-in-boundaries",
        set_cell(WARD_LOOKUP, 2, "WD23CD", "E05000650"),
        WARD_LOOKUP,
        "dangling-code",
        2,
        "ward_code",
    ),
    Case(
        "ward-lookup-blank-ward",
        set_cell(WARD_LOOKUP, 3, "WD23CD", ""),
        WARD_LOOKUP,
        "constraint-error",
        3,
        "WD23CD",
    ),
    # Census (Nomis bulk layout)
    Case(
        "census-negative-count",
        set_cell(CENSUS, 6, AGE_TOTAL, "-1"),
        CENSUS,
        "constraint-error",
        6,
        AGE_TOTAL,
    ),
    Case(
        "census-text-count",
        set_cell(CENSUS, 7, AGE_TOTAL, "lots"),
        CENSUS,
        "type-error",
        7,
        AGE_TOTAL,
    ),
    Case(
        "census-measure-missing",
        rename_column(CENSUS, AGE_TOTAL, "Age total"),
        CENSUS,
        "missing-column",
        None,
        AGE_TOTAL,
    ),
    Case(
        "census-2011-lsoa-code",
        set_cell(CENSUS, 8, "geography code", ONLY_2011_LSOA),
        CENSUS,
        "wrong-vintage",
        8,
        "area_code",
    ),
    Case(
        "census-duplicate-area", copy_cell(CENSUS, 2, 9, "geography code"), CENSUS, "primary-key", 9
    ),
    # Ofcom Connected Nations
    Case(
        "ofcom-percent-over-100",
        set_cell(COVERAGE, 5, "% of premises unable to receive 30Mbit/s", "130"),
        COVERAGE,
        "constraint-error",
        5,
        "% of premises unable to receive 30Mbit/s",
    ),
    Case(
        "ofcom-no-premises-column",
        rename_column(COVERAGE, "All Premises", "Premises"),
        COVERAGE,
        "missing-column",
        None,
        "All Premises",
    ),
    Case(
        "ofcom-negative-premises",
        set_cell(COVERAGE, 6, "All Premises", "-3"),
        COVERAGE,
        "constraint-error",
        6,
        "All Premises",
    ),
    Case(
        "ofcom-speed-text",
        set_cell(PERFORMANCE, 7, "Average download speed (Mbit/s)", "fast"),
        PERFORMANCE,
        "type-error",
        7,
        "Average download speed (Mbit/s)",
    ),
    Case(
        "ofcom-band-missing",
        rename_column(PERFORMANCE, "Number of connections 5<10 Mbit/s (number of lines)", "5-10"),
        PERFORMANCE,
        "missing-column",
        None,
        "Number of connections 5<10 Mbit/s (number of lines)",
    ),
    Case(
        "ofcom-unknown-area",
        set_cell(COVERAGE, 8, "output_area", "E00999999"),
        COVERAGE,
        "dangling-code",
        8,
        "area_code",
    ),
    # Council services
    Case(
        "services-latitude-out-of-range",
        set_cell(SERVICES, 4, "lat", "953.48"),
        SERVICES,
        "constraint-error",
        4,
        "lat",
    ),
    Case(
        "services-lon-lat-swapped",
        both(set_cell(SERVICES, 5, "lon", "52.57"), set_cell(SERVICES, 5, "lat", "-1.55")),
        SERVICES,
        "outside-region",
        5,
        "geometry",
    ),
    Case(
        "services-blank-name",
        set_cell(SERVICES, 6, "name", ""),
        SERVICES,
        "constraint-error",
        6,
        "name",
    ),
    Case(
        "services-huge-cell",
        set_cell(SERVICES, 7, "name", "A" * 100_000),
        SERVICES,
        "constraint-error",
        7,
        "name",
    ),
    Case(
        "services-unknown-category",
        set_cell(SERVICES, 8, "type", "Bingo hall"),
        SERVICES,
        "read",
        8,
        "type",
    ),
    Case("services-personal-email", _personal_contact, SERVICES, "personal-data", None, "contact"),
    Case(
        "services-ward-not-in-region",
        _service_in_unknown_ward,
        SERVICES,
        "dangling-code",
        10,
        "ward_code",
    ),
    Case(
        "geojson-null-geometry",
        edit_geojson(TABLETS, lambda d: _feature(d, 2).update(geometry=None)),
        TABLETS,
        "read",
        2,
        "geometry",
    ),
    Case(
        "geojson-metres-labelled-crs84",
        edit_geojson(
            TABLETS, lambda d: _feature(d, 2)["geometry"].update(coordinates=[431000.0, 296000.0])
        ),
        TABLETS,
        "read",
        None,
        "crs",
    ),
    # Boundaries
    Case(
        "wards-duplicate-code",
        edit_geojson(
            WARDS,
            lambda d: _feature(d, 5)["properties"].update(
                WD23CD=_feature(d, 4)["properties"]["WD23CD"]
            ),
        ),
        WARDS,
        "duplicate-id",
        5,
        "ward_code",
    ),
    Case(
        "wards-null-geometry",
        edit_geojson(WARDS, lambda d: _feature(d, 6).update(geometry=None)),
        WARDS,
        "empty-geometry",
        6,
        "geometry",
    ),
    Case(
        "wards-point-geometry",
        edit_geojson(
            WARDS,
            lambda d: _feature(d, 7).update(
                geometry={"type": "Point", "coordinates": [-1.6, 52.55]}
            ),
        ),
        WARDS,
        "geometry-type",
        7,
        "geometry",
    ),
    Case("lsoa21-degrees-labelled-bng", _wrong_crs_gpkg, LSOA21, "read", None, "crs"),
    Case("lsoa11-no-prj", lambda r: (r / LSOA11).with_suffix(".prj").unlink(), LSOA11, "read"),
    # Other formats
    Case(
        "dwp-count-not-a-number",
        edit_text(
            DWP,
            lambda t: t.replace(
                '"E01990002 : Northmoor 002A",15', '"E01990002 : Northmoor 002A",lots'
            ).replace("E01990002 : Northmoor 002A,15", "E01990002 : Northmoor 002A,lots"),
        ),
        DWP,
        "read",
        7,
    ),
    Case(
        "raster-truncated",
        lambda r: (r / RASTER).write_bytes((r / RASTER).read_bytes()[:500]),
        RASTER,
        "read",
    ),
    # --- issue 14: personal data
    # The demo lists `email` under publish.public_fields: it no longer makes the column public.
    Case(
        "services-gmail-address-in-public-column",
        _services_column("email", 3, "jsmith@gmail.com"),
        SERVICES,
        "personal-data",
        3,
        "email",
    ),
    Case(
        "services-gmail-address-with-digits",
        _services_column("contact_email", 4, "jane.smith84@gmail.com"),
        SERVICES,
        "personal-data",
        4,
        "contact_email",
    ),
    Case(
        "services-mobile-spaced",
        _services_column("phone", 5, "0770 090 0123"),
        SERVICES,
        "personal-data",
        5,
        "phone",
    ),
    Case(
        "services-mobile-international",
        _services_column("telephone", 6, "+44 (0)7700 900123"),
        SERVICES,
        "personal-data",
        6,
        "telephone",
    ),
    Case(
        "services-staff-name",
        _services_column("staff_name", 7, "Jane Smith"),
        SERVICES,
        "personal-data",
        7,
        "staff_name",
    ),
    Case(
        "services-coordinator-name",
        _services_column("coordinator", 8, "Mrs Patel"),
        SERVICES,
        "personal-data",
        8,
        "coordinator",
    ),
    # --- issue 14: geometry, raster and encoding
    Case(
        "wards-one-covers-region-twice",
        edit_geojson(WARDS, _ward_over_region),
        WARDS,
        "ward-overlap",
        1,
        "geometry",
    ),
    Case(
        "wards-one-grown-over-neighbours",
        edit_geojson(WARDS, _ward_over_neighbours),
        WARDS,
        "ward-overlap",
        5,
        "geometry",
    ),
    Case(
        "wards-polygons-swapped",
        edit_geojson(WARDS, _swap_ward_geometry),
        WARDS,
        "ward-coverage",
        40,
        "geometry",
    ),
    Case(
        "raster-outside-region",
        edit_raster(
            RASTER, lambda r: setattr(r, "transform", from_origin(521_000, 301_000, 100, 100))
        ),
        RASTER,
        "raster-outside-region",
        None,
        "extent",
    ),
    Case(
        "raster-bng-labelled-wgs84",
        edit_raster(RASTER, lambda r: setattr(r, "crs", CRS.from_epsg(4326))),
        RASTER,
        "raster-outside-region",
        None,
        "crs",
    ),
    Case(
        "raster-all-nodata",
        edit_raster(RASTER, lambda r: r.write(np.full(r.shape, -1, dtype="float32"), 1)),
        RASTER,
        "raster-no-data",
        None,
        "nodata",
    ),
    Case(
        "raster-no-people",
        edit_raster(RASTER, lambda r: r.write(np.zeros(r.shape, dtype="float32"), 1)),
        RASTER,
        "raster-no-population",
        None,
        "band 1",
    ),
    Case("services-lon-nan", set_cell(SERVICES, 4, "lon", "NaN"), SERVICES, "type-error", 4, "lon"),
    Case(
        "services-lat-infinity",
        set_cell(SERVICES, 5, "lat", "-Infinity"),
        SERVICES,
        "type-error",
        5,
        "lat",
    ),
    Case(
        "services-lon-1e308",
        set_cell(SERVICES, 6, "lon", "1e308"),
        SERVICES,
        "constraint-error",
        6,
        "lon",
    ),
    Case(
        "services-easting-nan",
        both(_to_easting_northing, set_cell(SERVICES, 7, "easting", "nan")),
        SERVICES,
        "type-error",
        7,
        "easting",
    ),
    Case(
        "services-northing-1e308",
        both(_to_easting_northing, set_cell(SERVICES, 8, "northing", "1e308")),
        SERVICES,
        "constraint-error",
        8,
        "northing",
    ),
    Case(
        "geojson-nan-longitude",
        edit_geojson(TABLETS, _point(2, float("nan"), 52.55)),
        TABLETS,
        "invalid-coordinate",
        2,
        "geometry",
    ),
    Case(
        "geojson-infinite-latitude",
        edit_geojson(TABLETS, _point(3, -1.55, float("inf"))),
        TABLETS,
        "invalid-coordinate",
        3,
        "geometry",
    ),
    Case(
        "geojson-1e308-longitude",
        edit_geojson(TABLETS, _point(4, 1e308, 52.55)),
        TABLETS,
        "invalid-coordinate",
        4,
        "geometry",
    ),
    Case(
        "wards-vertex-latitude-1e308",
        edit_geojson(WARDS, _vertex(9, 1e308)),
        WARDS,
        "invalid-coordinate",
        9,
        "geometry",
    ),
    Case(
        "services-utf16-without-bom",
        encode(SERVICES, "utf-16-le", b""),
        SERVICES,
        "encoding",
    ),
    # --- issue 14: confinement and limits
    Case(
        "path-climbs-out-of-the-data-folder",
        set_source("pension-credit", path="../../../../../../../../../etc/passwd"),
        "region.yml",
        "path-outside-data",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    Case(
        "path-absolute",
        set_source("pension-credit", path="/etc/passwd"),
        "region.yml",
        "path-outside-data",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    Case(
        "path-a-device",
        set_source("pension-credit", path="/dev/zero"),
        "region.yml",
        "path-outside-data",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    Case(
        "path-symlink-out-of-the-data-folder",
        both(
            symlink("dwp/zero.csv", "/dev/zero"), set_source("pension-credit", path="dwp/zero.csv")
        ),
        "region.yml",
        "path-outside-data",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    Case(
        "path-a-named-pipe",
        both(fifo("dwp/pipe.csv"), set_source("pension-credit", path="dwp/pipe.csv")),
        "dwp/pipe.csv",
        "not-a-file",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    # --- issue 14: found by the hostile review after the merge
    Case(
        "geojson-nul-in-a-service-name",
        edit_geojson(TABLETS, lambda d: _feature(d, 2)["properties"].update(Name="Bad\x00Name")),
        TABLETS,
        "control-characters",
        2,
        "Name",
    ),
    Case(
        "geojson-nul-in-a-ward-name",
        edit_geojson(WARDS, lambda d: _feature(d, 4)["properties"].update(WD23NM="Ab\x00bey")),
        WARDS,
        "control-characters",
        4,
        "WD23NM",
    ),
    Case(
        "path-the-data-folder-itself",
        set_source("pension-credit", path="."),
        "demo",  # the finding names the data folder, the region's copy of datasets/demo
        "not-a-file",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    Case(
        "path-a-folder",
        set_source("pension-credit", path="dwp"),
        "dwp",
        "not-a-file",
        None,
        f"{source_key('pension-credit')}.path",
    ),
    Case(
        "own-schema-outside-the-manifest-folder",
        set_source("council-services", schema="../../../../../../../../etc/passwd"),
        "region.yml",
        "path-outside-data",
        None,
        f"{source_key('council-services')}.schema",
    ),
    Case(
        "csv-header-of-a-million-columns",
        wide_header(IMD, 1_000_000),
        IMD,
        "too-many-columns",
        1,
    ),
    Case(
        "csv-5mb-cell-in-a-large-file",
        set_cell(IMD, 5, IMD_SCORE, "A" * 5_000_000),
        IMD,
        "cell-too-long",
        5,
        IMD_SCORE,
    ),
    Case(
        "csv-200k-character-cell-in-a-small-file",
        set_cell(SERVICES, 3, "name", "x" * 200_000),
        SERVICES,
        "cell-too-long",
        3,
        "name",
    ),
    # --- issue 16: core (council datasets, validated into the same report)
    Case(
        "dataset-coordinate-not-a-number",
        both(warm_spaces_by_coordinates, set_cell(WARM_SPACES, 3, "easting", "abc")),
        WARM_SPACES,
        "type-error",
        3,
        "easting",
    ),
    Case(
        "dataset-duplicate-key",
        copy_cell(WARM_SPACES, 2, 4, "space_id"),
        WARM_SPACES,
        "primary-key",
        4,
        "space_id",
    ),
    Case(
        "dataset-missing-key",
        set_cell(GRANTS, 6, "grant_id", ""),
        GRANTS,
        "constraint-error",
        6,
        "grant_id",
    ),
    Case(
        "dataset-personal-mobile",
        set_cell(WARM_SPACES, 5, "phone", "07700 900123"),
        WARM_SPACES,
        "personal-data",
        5,
        "phone",
    ),
    Case(
        "dataset-swapped-easting-northing",
        both(
            warm_spaces_by_coordinates,
            set_cell(WARM_SPACES, 2, "easting", "292098"),
            set_cell(WARM_SPACES, 2, "northing", "421933"),
        ),
        WARM_SPACES,
        "outside-region",
        2,
        "geometry",
    ),
    Case(
        "dataset-schema-missing",
        lambda region: (region / "council" / "grants.schema.json").unlink(),
        "grants.schema.json",
        "schema-missing",
    ),
    # --- issue 16: postcode (the demo's warm spaces are placed with its ONSPD)
    Case(
        "dataset-postcode-not-in-the-directory",
        set_cell(WARM_SPACES, 4, "postcode", "QZ9 9ZZ"),
        WARM_SPACES,
        "unknown-postcode",
        4,
        "postcode",
    ),
]


@pytest.fixture(scope="module")
def good_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus-releases")
    build("demo", releases=out, echo=lambda line: None)
    return out


def _snapshot(out: Path) -> tuple[Path, str]:
    current = (out / "demo" / "current").resolve()
    return current, hashlib.sha256((current / "datapackage.json").read_bytes()).hexdigest()


def _broken_region(tmp_path: Path, mutate: Callable[[Path], None]) -> Path:
    region = tmp_path / "demo"
    shutil.copytree(DEMO, region)
    mutate(region)
    return region


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_input_is_named_exactly(case: Case, tmp_path: Path, good_release: Path) -> None:
    region = _broken_region(tmp_path, case.mutate)
    _, report = validate_sources(load_manifest(region))
    matches = [
        f
        for f in report.errors
        if f.rule == case.rule
        and Path(f.file).name == Path(case.file).name
        and (case.row is None or f.row == case.row)
        and (case.field is None or f.field == case.field)
    ]
    assert matches, "\n" + report.to_text()
    before = _snapshot(good_release)
    with pytest.raises(PlaceintelError):
        build(region, releases=good_release, echo=lambda line: None)
    assert _snapshot(good_release) == before
    assert not [p for p in (good_release / "demo").iterdir() if p.name.startswith(".staging")]


TOLERATED = [
    ("utf8-bom", edit_text(IMD, lambda t: "\ufeff" + t)),
    (
        "cp1252",
        edit_text(
            SERVICES,
            lambda t: t.replace("Birchfield Library", "Birchfield Café – Library"),
            "cp1252",
        ),
    ),
    ("header-whitespace", rename_column(COVERAGE, "All Premises", " All Premises ")),
    ("thousands-separators", set_cell(CENSUS, 2, AGE_TOTAL, "1,235")),
    ("self-intersecting-ward", edit_geojson(WARDS, _bowtie)),
    (
        "formula-and-script-names",
        both(
            set_cell(SERVICES, 2, "name", '=HYPERLINK("http://evil")'),
            set_cell(SERVICES, 3, "name", "<script>alert(1)</script>"),
        ),
    ),
    # --- issue 14: geometry, raster and encoding
    ("utf16-le-bom", encode(SERVICES, "utf-16-le", codecs.BOM_UTF16_LE)),
    ("utf16-be-bom", encode(SERVICES, "utf-16-be", codecs.BOM_UTF16_BE)),
    ("utf32-le-bom", encode(SERVICES, "utf-32-le", codecs.BOM_UTF32_LE)),
    ("utf32-be-bom", encode(SERVICES, "utf-32-be", codecs.BOM_UTF32_BE)),
]


@pytest.mark.parametrize(("name", "mutate"), TOLERATED, ids=[t[0] for t in TOLERATED])
def test_real_world_quirks_are_tolerated(name: str, mutate, tmp_path: Path) -> None:
    region = _broken_region(tmp_path, mutate)
    release = build(region, releases=tmp_path / "out", echo=lambda line: None)
    report = json.loads((release.path / "validation-report.json").read_text())
    assert report["valid"]
    rules = {f["rule"] for f in report["findings"]}
    if name == "cp1252":
        assert "encoding" in rules
        assert "Birchfield Café – Library" in set(release.services["name"])
    if name == "self-intersecting-ward":
        assert "invalid-geometry" in rules and release.wards.geometry.is_valid.all()
    if name.startswith(("utf16-", "utf32-")):  # issue 14: decoded, not guessed as cp1252
        assert "encoding" not in rules
        assert "Birchfield Café – Library" in set(release.services["name"])
    if name == "formula-and-script-names":
        published = (release.path / "services.csv").read_text(encoding="utf-8")
        assert "'=HYPERLINK" in published and "\n=HYPERLINK" not in published
        assert "<script>alert(1)</script>" not in release.map_path.read_text(encoding="utf-8")


def test_shapely_sanity() -> None:
    assert not shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]).is_valid
