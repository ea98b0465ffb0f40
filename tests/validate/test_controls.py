"""Control characters: taken out of every published text, and each removal reported.

One build of the demo with NUL, escape, C1 and bidi characters in service names,
addresses, ward names and district names, then the published files are read
back byte by byte (the GeoPackage through SQLite, since GDAL would stop at a NUL
and hide it).
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from placeintel import Release, build
from placeintel.region import DATASETS_DIR
from placeintel.validate.controls import CONTROL, remove_control_characters
from placeintel.validate.report import Report

SERVICES = "services/council_digital_inclusion_services.csv"
TABLETS = "services/tablet_lending_and_free_data_points.geojson"
WARDS = "boundaries/Wards_May_2023_Boundaries_UK_BGC.geojson"
WARD_LOOKUP = "lookups/LSOA21_WD23_LAD23_EW_LU.csv"
#: The CSV reader refuses a file with a NUL in its first 64 KiB as binary; past that,
#: a NUL reaches the reader, as it does in a long export with one bad row.
PADDING_COPIES = 12


def _csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _write_csv(path: Path, table: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)


def _hostile_region(root: Path) -> tuple[Path, int]:
    """The demo with control characters in four files; returns it and the NUL's row."""
    region = root / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    services = _csv(region / SERVICES)
    name, address = services[0].index("name"), services[0].index("address")
    padding = [list(line) for _ in range(PADDING_COPIES) for line in services[1:]]
    services[2][name] = "Oak\x07wood \u202eLibrary"  # BEL, and right-to-left override
    services[3][address] = "\x1b[31m118 Mill Lane\x1b[0m, Tanners Yard"  # terminal colours
    services[4][name] = "Bank\u0085 Top\u2066 Library\u2069"  # C1 NEL, bidi isolate
    services[5][address] = "1 Mill Lane\nTanners Yard"  # a line break is kept
    services += padding
    services[-1][name] = "Last\x00 Library"
    _write_csv(region / SERVICES, services)
    assert len((region / SERVICES).read_bytes()) > 65_536
    tablets = json.loads((region / TABLETS).read_text(encoding="utf-8"))
    tablets["features"][1]["properties"]["Name"] = "Green\u202emount Tablet\u202c Lending\x07"
    (region / TABLETS).write_text(json.dumps(tablets), encoding="utf-8")
    wards = json.loads((region / WARDS).read_text(encoding="utf-8"))
    wards["features"][2]["properties"]["WD23NM"] = "Bank\u202e Top\x1b"
    (region / WARDS).write_text(json.dumps(wards), encoding="utf-8")
    lookup = _csv(region / WARD_LOOKUP)
    lookup[1][lookup[0].index("LAD23NM")] = "North\u2067moor\x08"
    _write_csv(region / WARD_LOOKUP, lookup)
    return region, len(services)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Release, int]:
    root = tmp_path_factory.mktemp("controls")
    region, nul_row = _hostile_region(root)
    return build(region, releases=root / "releases", echo=lambda line: None), nul_row


def test_each_removal_is_reported_with_file_row_and_field(hostile: tuple[Release, int]) -> None:
    release, nul_row = hostile
    report = json.loads((release.path / "validation-report.json").read_text(encoding="utf-8"))
    assert report["valid"]
    found = {
        (Path(f["file"]).name, f["row"], f["field"]): f["value"]
        for f in report["findings"]
        if f["rule"] == "control-characters"
    }
    assert found == {
        (Path(SERVICES).name, 3, "name"): "U+0007, U+202E",
        (Path(SERVICES).name, 4, "address"): "U+001B",
        (Path(SERVICES).name, 5, "name"): "U+0085, U+2066, U+2069",
        (Path(SERVICES).name, nul_row, "name"): "U+0000",
        (Path(TABLETS).name, 2, "name"): "U+0007, U+202C, U+202E",
        (Path(WARDS).name, 3, "ward_name"): "U+001B, U+202E",
        (Path(WARD_LOOKUP).name, 2, "lad_name"): "U+0008, U+2067",
    }
    assert all(f["severity"] == "warning" for f in report["findings"])


def test_published_files_hold_no_control_character(hostile: tuple[Release, int]) -> None:
    release, _ = hostile
    for layer in ("services", "wards", "lsoas"):
        for suffix in ("csv", "geojson"):
            text = (release.path / f"{layer}.{suffix}").read_bytes().decode("utf-8")
            assert not CONTROL.search(text), f"{layer}.{suffix}"
        with sqlite3.connect(release.path / f"{layer}.gpkg") as db:
            cells = [
                value
                for (table,) in db.execute("SELECT table_name FROM gpkg_contents")
                for row in db.execute(f'SELECT * FROM "{table}"')
                for value in row
                if isinstance(value, str)
            ]
        assert cells and not [c for c in cells if CONTROL.search(c)], f"{layer}.gpkg"
    assert not CONTROL.search(release.map_path.read_text(encoding="utf-8"))


def test_the_text_itself_is_published_whole(hostile: tuple[Release, int]) -> None:
    release, _ = hostile
    services = pd.read_csv(release.path / "services.csv", dtype=str, keep_default_na=False)
    names = set(services["name"])
    for name in (
        "Oakwood Library",
        "Bank Top Library",
        "Last Library",  # not cut at the NUL
        "Greenmount Tablet Lending",
    ):
        assert name in names
    # The escape is gone; what it would have introduced stays as harmless text.
    assert "[31m118 Mill Lane[0m, Tanners Yard" in set(services["address"])
    assert "1 Mill Lane\nTanners Yard" in set(services["address"])
    wards = pd.read_csv(release.path / "wards.csv", dtype=str)
    assert "Bank Top" in set(wards["ward_name"])
    assert "Northmoor" in set(wards["lad_name"])


def test_a_clean_frame_is_returned_as_it_is() -> None:
    frame = pd.DataFrame({"name": ["Library", "Hub\twith tab", "Line\r\nbreak"], "n": [1, 2, 3]})
    report = Report("t")
    assert remove_control_characters(frame, "f.csv", report) is frame
    assert not report.findings


def test_removal_keeps_numbers_missing_values_and_the_readers_notes() -> None:
    rows = pd.RangeIndex(2, 6)  # file rows, as the CSV reader numbers them
    # object dtype: arrow-backed strings cannot hold a lone surrogate at all
    names = pd.Series(["A\x00B", None, "C\ud800D", "E"], index=rows, dtype=object)
    frame = pd.DataFrame({"name": names, "n": [1, 2, 3, 4]}, index=rows)
    frame.attrs["encoding"] = "utf-8"
    report = Report("t")
    cleaned = remove_control_characters(frame, "f.csv", report)
    assert cleaned["name"].tolist()[0] == "AB" and cleaned["name"].tolist()[2] == "CD"
    assert cleaned["name"].isna().tolist() == [False, True, False, False]
    assert cleaned["n"].tolist() == [1, 2, 3, 4]
    assert cleaned.attrs["encoding"] == "utf-8"
    assert frame["name"].iloc[0] == "A\x00B"  # the reader's frame is not changed under it
    assert [(f.row, f.field, f.value) for f in report.findings] == [
        (2, "name", "U+0000"),
        (4, "name", "U+D800"),
    ]


def test_measure_labels_from_a_metadata_file_are_cleaned_too() -> None:
    frame = pd.DataFrame({"area_code": ["E00000001"], "m": [3]})
    frame.attrs["labels"] = {"m": "Disabled\u202e under the Equality Act", "n": "Clean"}
    report = Report("t")
    cleaned = remove_control_characters(frame, "ts038.csv", report)
    assert cleaned.attrs["labels"] == {"m": "Disabled under the Equality Act", "n": "Clean"}
    assert frame.attrs["labels"]["m"] == "Disabled\u202e under the Equality Act"
    assert [(f.field, f.value) for f in report.findings] == [("m", "U+202E")]
