"""The map pages: shipped assets only, the data behind every popup, escaped text, district maps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from placeintel.maps.risk_map import build_map, script_json
from placeintel.pipeline import Release
from tests.test_cli import placeintel


def page_data(html: str) -> dict:
    """The JSON the page's script builds every popup, tooltip and legend from."""
    match = re.search(r"placeintelMap\(\{map: \w+, control: \w+, data: (.*)\}\);", html)
    assert match, "placeintelMap() call not found"
    return json.loads(match.group(1))


def test_map_uses_only_shipped_assets(demo_release: Release) -> None:
    html = demo_release.map_path.read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    styles = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert scripts == [
        "assets/leaflet/leaflet.js",
        "assets/markercluster/leaflet.markercluster.js",
        "assets/placeintel/placeintel-map.js",
        "assets/placeintel/placeintel-weights.js",
        "assets/placeintel/placeintel-export.js",
    ]
    assert all(s.startswith("assets/") for s in styles)
    for asset in scripts + styles:
        assert (demo_release.path / asset).is_file(), asset
    assert "District boundaries" in html and "Contains OS data" in html


def test_popup_data_for_a_known_ward(demo_release: Release) -> None:
    data = page_data(demo_release.map_path.read_text(encoding="utf-8"))
    ward = demo_release.wards.set_index("ward_code").loc["E05990010"]
    feature = next(f for f in data["wards"]["features"] if f["properties"]["code"] == "E05990010")
    p = feature["properties"]
    assert p["name"] == ward["ward_name"] and p["district"] == ward["lad_name"]
    views = [v["key"] for v in data["meta"]["views"]]
    assert views[:4] == ["deri_score", "demography_score", "broadband_score", "deprivation_score"]
    assert p["scores"][0] == pytest.approx(ward["deri_score"], abs=1e-3)
    assert (p["rank"], p["rankLow"], p["rankHigh"]) == (
        ward["deri_rank"],
        ward["deri_rank_low"],
        ward["deri_rank_high"],
    )
    assert p["hotspot"] == ward["hotspot"]
    labels = [i["key"] for i in data["meta"]["indicators"]]
    value, scaled, contribution = p["indicators"][labels.index("pct_aged_65_plus")]
    assert value == pytest.approx(ward["pct_aged_65_plus"], abs=0.01)
    assert contribution == pytest.approx(ward["pct_aged_65_plus_contribution"], abs=1e-3)
    metres = [near["metres"] for near in p["nearest"]]
    assert len(metres) == 3 and metres == sorted(metres)
    # Five classes per view, in the palette's order; the legend's bounds come with them.
    assert {k for f in data["wards"]["features"] for k in f["properties"]["classes"]} <= set(
        range(-1, 5)
    )
    assert len(data["meta"]["views"][0]["bins"]) == 5


def test_dataset_text_cannot_break_out_of_the_page(demo_release: Release) -> None:
    wards = demo_release.wards.copy()
    wards.loc[wards.index[0], "ward_name"] = "</script><script>alert(1)</script>"
    services = gpd.GeoDataFrame(
        {"name": ['<img src=x onerror="alert(2)">'], "category": ["library"], "address": ["x"]},
        geometry=[wards.geometry.iloc[0].representative_point()],
        crs="EPSG:27700",
    )
    html = build_map(wards, services, "T & <b>", "attribution").get_root().render()
    assert "</script><script>alert(1)" not in html
    assert '<img src=x onerror="alert(2)">' not in html
    data = page_data(html)
    names = {f["properties"]["name"] for f in data["wards"]["features"]}
    assert "</script><script>alert(1)</script>" in names  # kept as data, shown as text
    assert script_json({"x": "<&>\u2028"}) == '{"x":"\\u003c\\u0026\\u003e\\u2028"}'


def test_region_and_district_maps_in_the_release(demo_release: Release) -> None:
    for lad_code in sorted(set(demo_release.wards["lad_code"])):
        html = (demo_release.path / f"map-{lad_code}.html").read_text(encoding="utf-8")
        codes = {f["properties"]["code"] for f in page_data(html)["wards"]["features"]}
        assert codes == set(
            demo_release.wards.loc[demo_release.wards["lad_code"] == lad_code, "ward_code"]
        )


def test_shared_borders_stay_shared(demo_release: Release) -> None:
    """Simplification keeps neighbours meeting exactly: no gaps or overlaps appear."""
    data = page_data(demo_release.map_path.read_text(encoding="utf-8"))
    shapes = [shapely.geometry.shape(f["geometry"]) for f in data["wards"]["features"]]
    union_area = shapely.union_all(shapes).area
    assert sum(s.area for s in shapes) == pytest.approx(union_area, rel=1e-6)


def test_map_command(demo_release: Release, releases_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "north.html"
    result = placeintel(
        "map",
        "demo",
        "--district",
        "E08000991",
        "--scheme",
        "natural-breaks",
        "--releases",
        str(releases_dir),
        "--output",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    data = page_data(out.read_text(encoding="utf-8"))
    assert data["meta"]["scheme"] == "natural breaks"
    assert {f["properties"]["district"] for f in data["wards"]["features"]} == {"Northmoor"}
    assert (tmp_path / "assets" / "placeintel" / "placeintel-map.js").is_file()
    bad = placeintel("map", "demo", "--district", "E99999999", "--releases", str(releases_dir))
    assert bad.returncode == 2 and "no district" in bad.stderr


def test_the_lsoa_layer_carries_each_lsoa(demo_release: Release) -> None:
    """The map holds the index at LSOA level too: its own classes, ranks and hot spots."""
    data = page_data(demo_release.map_path.read_text(encoding="utf-8"))
    lsoas = demo_release.lsoas.set_index("lsoa21_code")
    layer = data["lsoas"]
    assert layer["count"] == len(lsoas) == 160
    assert len(layer["areas"]["features"]) == 160
    assert [len(b) for b in layer["bins"]] == [5] * len(data["meta"]["views"])
    for feature in layer["areas"]["features"][:20]:
        p = feature["properties"]
        lsoa = lsoas.loc[p["code"]]
        assert (p["name"], p["ward"], p["hotspot"]) == (
            lsoa["lsoa21_name"],
            lsoa["ward_name"],
            lsoa["hotspot"],
        )
        assert p["scores"][0] == pytest.approx(lsoa["deri_score"], abs=1e-3)
        assert p["rank"] == lsoa["deri_rank"]
    # A ward's popup data says how much of it lives in hot-spot LSOAs.
    ward = data["wards"]["features"][0]["properties"]
    assert "hotShare" in ward


def test_the_maps_colours_live_in_one_python_module(demo_release: Release) -> None:
    """The page is told the style as data; neither the script nor the stylesheet holds a
    colour of its own, so changing one in maps/style.py changes the map and its legend."""
    import placeintel.maps.risk_map as risk_map
    from placeintel.maps import style

    static = Path(risk_map.__file__).parent / "static"
    for name in ("placeintel-map.js", "placeintel-map.css"):
        assert not re.findall(r"#[0-9a-fA-F]{3,8}\b", (static / name).read_text()), name
    data = page_data(demo_release.map_path.read_text(encoding="utf-8"))
    assert data["style"]["palette"] == list(style.RISK_PALETTE)
    assert data["style"]["outlines"]["hot"]["color"] == style.OUTLINES["hot"]["color"]
    library = next(c for c in data["meta"]["categories"] if c["key"] == "library")
    assert (library["letter"], library["colour"]) == style.CATEGORY_MARKS["library"]
