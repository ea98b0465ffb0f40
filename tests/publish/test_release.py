"""A demo release: its contents, frictionless accepts it, and `current` only moves forward."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from placeintel import Release, build, load_release
from placeintel.errors import PlaceintelError
from placeintel.publish.writers import neutralise_formulas
from tests.conftest import WARD_FIELDS

EXPECTED_FILES = {
    "datapackage.json",
    "wards.csv",
    "wards.geojson",
    "wards.gpkg",
    "wards.parquet",
    "services.csv",
    "services.geojson",
    "services.gpkg",
    "services.parquet",
    "indicators.csv",
    "validation-report.json",
    "map.html",
    "assets/leaflet/leaflet.js",
}


def test_release_contents(demo_release: Release) -> None:
    files = {p.relative_to(demo_release.path).as_posix() for p in demo_release.path.rglob("*")}
    assert files >= EXPECTED_FILES
    assert (demo_release.path.parent / "current").resolve() == demo_release.path
    wards = gpd.read_file(demo_release.path / "wards.gpkg")
    assert len(wards) == 40 and wards.crs.to_epsg() == 27700
    for column in WARD_FIELDS:
        assert column in wards
    assert wards["deri_score"].between(0, 10).all()
    assert sorted(wards["deri_rank"]) == list(range(1, 41))
    csv = pd.read_csv(demo_release.path / "wards.csv")
    assert "geometry" not in csv and len(csv) == 40
    services = gpd.read_parquet(demo_release.path / "services.parquet")
    assert len(services) == 60 and set(services.geom_type) == {"Point"}


def test_geojson_is_rfc7946(demo_release: Release) -> None:
    document = json.loads((demo_release.path / "wards.geojson").read_text())
    assert "crs" not in document  # RFC 7946: WGS84 only, no crs member
    ring = document["features"][0]["geometry"]["coordinates"][0]
    if document["features"][0]["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    lon, lat = ring[0]
    assert -10 < lon < 2 and 49 < lat < 61
    signed_area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))
    assert signed_area > 0  # exterior ring counter-clockwise (right-hand rule)


def test_datapackage_v2_metadata(demo_release: Release) -> None:
    package = json.loads((demo_release.path / "datapackage.json").read_text())
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert package["licenses"][0]["name"] == "OGL-UK-3.0"
    assert package["version"] == demo_release.version
    assert any("Crown copyright" in a for a in package["attribution"])
    assert package["placeintel"]["synthetic"] is True
    resources = {r["name"]: r for r in package["resources"]}
    assert resources["wards-csv"]["schema"]["primaryKey"] == ["ward_code"]
    assert all(r["hash"].startswith("sha256:") and r["bytes"] > 0 for r in resources.values())
    assert {r["format"] for r in resources.values()} >= {"csv", "geojson", "gpkg", "parquet"}


def test_frictionless_cli_validates_release(demo_release: Release) -> None:
    command = [
        str(Path(sys.executable).parent / "frictionless"),
        "validate",
        str(demo_release.path / "datapackage.json"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_frictionless_catches_tampering(demo_release: Release, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(demo_release.path, copy)
    with (copy / "wards.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    from frictionless import Package

    assert not Package(str(copy / "datapackage.json")).validate().valid


def test_load_release_round_trips(demo_release: Release) -> None:
    again = load_release(demo_release.path.parent / "current")
    assert again.version == demo_release.version
    assert again.wards["ward_code"].tolist() == demo_release.wards["ward_code"].tolist()
    worst = again.wards.sort_values("deri_rank").iloc[0]["ward_code"]
    explanation = demo_release.explain(worst)
    assert explanation["contribution"].sum() == pytest.approx(
        demo_release.wards.set_index("ward_code").loc[worst, "deri_score"], abs=0.05
    )


def test_failed_build_leaves_current_untouched(tmp_path: Path, monkeypatch) -> None:
    first = build("demo", releases=tmp_path, echo=lambda line: None)
    import placeintel.pipeline as pipeline

    def broken_map(*args, **kwargs):
        raise PlaceintelError("map stage exploded")

    monkeypatch.setattr(pipeline, "write_maps", broken_map)
    with pytest.raises(PlaceintelError, match="exploded"):
        build("demo", releases=tmp_path, echo=lambda line: None)
    assert (tmp_path / "demo" / "current").resolve() == first.path
    assert [p.name for p in (tmp_path / "demo").iterdir() if p.name.startswith(".staging")] == []
    assert len([p for p in (tmp_path / "demo").iterdir() if not p.name.startswith(".")]) == 2


def test_a_failed_publish_waits_for_the_maps_before_removing_the_staging_folder(
    tmp_path: Path, monkeypatch
) -> None:
    """The maps are drawn in a thread beside publishing: when publishing fails while a map
    is being drawn, the map finishes in its folder before the folder is removed; when it
    fails before the maps started, they are not drawn at all."""
    import time

    import placeintel.pipeline as pipeline

    first = build("demo", releases=tmp_path, echo=lambda line: None)
    real, drawn = pipeline.write_maps, []

    def slow_map(folder, content, *args, **kwargs):
        time.sleep(0.5)
        drawn.append(real(folder, content, *args, **kwargs))

    def broken(*args, **kwargs):
        raise PlaceintelError("publish exploded")

    monkeypatch.setattr(pipeline, "write_maps", slow_map)
    for stage, expected in (("write_datasets", 1), ("_write_data", 0)):
        with monkeypatch.context() as patch:
            patch.setattr(pipeline, stage, broken)
            drawn.clear()
            with pytest.raises(PlaceintelError, match="publish exploded"):
                build("demo", releases=tmp_path, echo=lambda line: None)
        assert len(drawn) == expected
        assert (tmp_path / "demo" / "current").resolve() == first.path
        staging = [p.name for p in (tmp_path / "demo").iterdir() if p.name.startswith(".")]
        assert staging == []


def test_formula_injection_neutralised() -> None:
    frame = pd.DataFrame(
        {"name": ['=HYPERLINK("http://x")', "+44 161", "@SUM(A1)", "Library"], "n": [-1, 2, 3, 4]}
    )
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist() == ['\'=HYPERLINK("http://x")', "'+44 161", "'@SUM(A1)", "Library"]
    assert safe["n"].tolist() == [-1, 2, 3, 4]


# --- issue 14: nothing is written outside the releases folder ------------------------------


def test_a_release_folder_must_be_a_slug_inside_the_releases_folder(tmp_path: Path) -> None:
    from placeintel.errors import UsageError
    from placeintel.publish.release import begin_release, current_release, list_releases

    releases = tmp_path / "releases"
    for name in ("../../x", "/etc", "a/b", "", "Demo", ".staging"):
        for action in (begin_release, current_release, list_releases):
            with pytest.raises(UsageError, match="not a region name"):
                action(releases, name)
    assert not any(tmp_path.rglob("x"))
    releases.mkdir()
    (releases / "linked").symlink_to(tmp_path)  # a region folder that is a link out
    with pytest.raises(UsageError, match="outside the releases folder"):
        begin_release(releases, "linked")


def test_a_district_code_cannot_write_a_map_outside_the_release(
    tmp_path: Path, demo_release: Release, releases_dir: Path
) -> None:
    """District maps are named from the data (`map-<code>.html`); a code like
    `../../x` stops the build, writes nothing outside, and leaves `current` alone."""
    import hashlib
    import shutil

    import yaml

    from placeintel.region import DATASETS_DIR

    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    wards = region / "boundaries" / "Wards_May_2023_Boundaries_UK_BGC.geojson"
    document = json.loads(wards.read_text(encoding="utf-8"))
    for n, feature in enumerate(document["features"]):
        feature["properties"]["LAD"] = "../../../../escaped" if n == 0 else "E08990001"
    wards.write_text(json.dumps(document), encoding="utf-8")
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    manifest["sources"][0]["lad_code_field"] = "LAD"
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))

    def current() -> str:
        package = (releases_dir / "demo" / "current" / "datapackage.json").read_bytes()
        return hashlib.sha256(package).hexdigest()

    before = current()
    with pytest.raises(PlaceintelError, match="cannot name a file of the release"):
        build(region, releases=releases_dir, echo=lambda line: None)
    assert current() == before
    assert not list(releases_dir.parent.rglob("escaped*"))
    assert not [p for p in (releases_dir / "demo").iterdir() if p.name.startswith(".staging")]
