"""Overlapping wards and wards that miss their LSOAs are errors; real generalised data is not.

The tolerances were measured on Greater Manchester's real files, and these tests
hold them there: its wards must pass, including the LSOA the 2025 best-fit lookup
gives a ward that holds only 1.2% of its area.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import shapely
import shapely.geometry

from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.sources import RegionData, read_source
from placeintel.validate import validate_sources
from placeintel.validate.report import Report
from placeintel.validate.wards import LSOA_INSIDE_SHARE, check_wards

WARDS = "boundaries/Wards_May_2023_Boundaries_UK_BGC.geojson"
ROLES = ("wards", "lsoa21", "lookup-lsoa-ward")


def _ward_findings(region: Path | str, data_dir: Path | None = None) -> tuple[Report, RegionData]:
    manifest = load_manifest(region, data_dir)
    data = RegionData(manifest)
    for source in manifest.sources:
        if source.role in ROLES:
            data.frames[source.id] = read_source(manifest, source)
    report = Report("wards")
    check_wards(data, report)
    return report, data


def _edit_wards(tmp_path: Path, edit) -> Path:
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    document = json.loads((region / WARDS).read_text(encoding="utf-8"))
    edit(document["features"])
    (region / WARDS).write_text(json.dumps(document), encoding="utf-8")
    return region


def _grow(features: list[dict], n: int, degrees: float) -> None:
    grown = shapely.geometry.shape(features[n - 1]["geometry"]).buffer(degrees)
    features[n - 1]["geometry"] = shapely.geometry.mapping(grown)


def test_real_greater_manchester_wards_pass(realdata: Path) -> None:
    report, data = _ward_findings("greater-manchester", realdata)
    assert report.findings == []
    # The tolerance is tested, not idle: this LSOA's people are in E05014045, most of
    # its area is in the next ward.
    lsoa = data.one("lsoa21").set_index("lsoa21_code").geometry["E01005499"]
    ward = data.one("wards").set_index("ward_code").geometry["E05014045"]
    share = lsoa.intersection(ward).area / lsoa.area
    assert LSOA_INSIDE_SHARE < share < 0.02


def test_demo_wards_pass() -> None:
    report, _ = _ward_findings("demo")
    assert report.findings == []


def test_a_digitising_sliver_is_tolerated(tmp_path: Path) -> None:
    """About 5 m along a ward's edge: a council's own digitising, not a wrong ward."""
    region = _edit_wards(tmp_path, lambda f: _grow(f, 5, 0.00005))
    report, _ = _ward_findings(region)
    assert [f for f in report.findings if f.rule == "ward-overlap"] == []


def test_two_overlapping_wards_are_both_named(tmp_path: Path) -> None:
    def overlap_one_neighbour(features: list[dict]) -> None:
        first = shapely.geometry.shape(features[0]["geometry"])
        second = shapely.geometry.shape(features[1]["geometry"])
        # Ward 1 takes half of ward 2 (which it borders), and nothing else.
        minx, miny, maxx, maxy = second.bounds
        half = second.intersection(shapely.box(minx, miny, (minx + maxx) / 2, maxy))
        features[0]["geometry"] = shapely.geometry.mapping(first.union(half))

    region = _edit_wards(tmp_path, overlap_one_neighbour)
    _, report = validate_sources(load_manifest(region))
    overlaps = [f for f in report.errors if f.rule == "ward-overlap"]
    assert len(overlaps) == 1
    finding = overlaps[0]
    assert "E05990001" in finding.message and "E05990002" in finding.message
    assert (finding.row, finding.field) in {(1, "geometry"), (2, "geometry")}


def test_a_ward_over_many_neighbours_is_one_finding_naming_it(tmp_path: Path) -> None:
    region = _edit_wards(tmp_path, lambda f: _grow(f, 5, 0.003))
    report, _ = _ward_findings(region)
    overlaps = [f for f in report.findings if f.rule == "ward-overlap"]
    assert len(overlaps) == 1
    assert overlaps[0].row == 5 and overlaps[0].value == "E05990005"


def test_swapped_polygons_name_the_ward_and_each_lsoa(tmp_path: Path) -> None:
    def swap(features: list[dict]) -> None:
        features[0]["geometry"], features[39]["geometry"] = (
            features[39]["geometry"],
            features[0]["geometry"],
        )

    report, data = _ward_findings(_edit_wards(tmp_path, swap))
    findings = {f.row: f for f in report.findings if f.rule == "ward-coverage"}
    assert set(findings) == {1, 40}
    lookup = data.one("lookup-lsoa-ward")
    for row, ward in ((1, "E05990001"), (40, "E05990040")):
        assert findings[row].value == ward
        for lsoa in lookup.loc[lookup["ward_code"] == ward, "lsoa21_code"]:
            assert lsoa in findings[row].message
