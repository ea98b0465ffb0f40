"""The map pages: shipped assets only, the data behind every popup, escaped text, the district
filter and its ranks, and the title block that says what the map shows."""

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


def hot_spot_shapes(map_path: Path) -> list:
    """The wards that are hot or cold spots and the hot-spot LSOAs a map draws, as shapes:
    what district names and service marks must leave in view."""
    data = page_data(map_path.read_text(encoding="utf-8"))
    wards = data["wards"]["features"]
    lsoas = data["lsoas"]["areas"]["features"]
    spots = [f for f in wards if f["properties"]["hotspot"] != "not-significant"]
    spots += [f for f in lsoas if f["properties"]["hotspot"].startswith("hot")]
    return [shapely.geometry.shape(f["geometry"]) for f in spots]


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
    assert "Contains OS data" in html
    outlines = page_data(html)["districts"]["features"]
    assert sorted(f["properties"]["lad_name"] for f in outlines) == sorted(
        set(demo_release.wards["lad_name"])
    )


def test_the_page_has_a_language_and_allows_pinch_zoom(demo_release: Release) -> None:
    """Screen readers choose their voice by `lang`; people with low vision zoom with two
    fingers, which folium's own viewport (maximum-scale=1, user-scalable=no) forbids."""
    html = demo_release.map_path.read_text(encoding="utf-8")
    assert re.match(r'<!DOCTYPE html>\n<html lang="en-GB">', html)
    viewports = re.findall(r'<meta name="viewport" content="([^"]*)"', html)
    assert viewports == ["width=device-width, initial-scale=1"]


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


def test_template_syntax_in_the_data_is_kept_as_text(demo_release: Release) -> None:
    """folium renders each script as a Jinja template; the data must not be one."""
    wards = demo_release.wards.copy()
    wards.loc[wards.index[0], "ward_name"] = "{{ 7 * 7 }} {% if x %}"
    wards.loc[wards.index[1], "ward_name"] = "{# not a comment"
    html = build_map(wards, demo_release.services, "T", "attribution").get_root().render()
    names = {f["properties"]["name"] for f in page_data(html)["wards"]["features"]}
    assert {"{{ 7 * 7 }} {% if x %}", "{# not a comment"} <= names


def test_one_map_with_every_district_and_links_that_open_it_filtered(
    demo_release: Release,
) -> None:
    """The release holds one map; `map-<code>.html` opens it filtered to that district."""
    data = page_data(demo_release.map_path.read_text(encoding="utf-8"))
    assert {f["properties"]["code"] for f in data["wards"]["features"]} == set(
        demo_release.wards["ward_code"]
    )
    assert data["meta"]["partial"] is False and data["meta"]["district"] is None
    districts = demo_release.wards.groupby("lad_code")["lad_name"].first()
    assert {d["code"]: d["name"] for d in data["meta"]["districts"]} == districts.to_dict()
    for code, name in districts.items():
        page = (demo_release.path / f"map-{code}.html").read_text(encoding="utf-8")
        assert f'content="0; url=map.html?district={code}"' in page
        assert f'<a href="map.html?district={code}">Open the map of {name}</a>' in page
        assert '<html lang="en-GB">' in page and "<main>" in page and "<h1>" in page
        assert "placeintelMap" not in page  # a link, not a second copy of the data


def test_ranks_and_classes_within_each_district(demo_release: Release) -> None:
    """Filtered to a district, a ward is "n of N" with N the district's wards (never the
    regional rank over the district's count), and its class is a quintile of the district."""
    from placeintel.index.classes import risk_classes
    from placeintel.index.deri import ranks

    data = page_data(demo_release.map_path.read_text(encoding="utf-8"))
    meta = data["meta"]
    views = [v["key"] for v in meta["views"]]
    for level, frame, key, features in (
        ("wards", demo_release.wards, "ward_code", data["wards"]["features"]),
        ("lsoas", demo_release.lsoas, "lsoa21_code", data["lsoas"]["areas"]["features"]),
    ):
        shown = {f["properties"]["code"]: f["properties"] for f in features}
        for district in meta["districts"]:
            own = frame[frame["lad_code"] == district["code"]]
            assert district[level] == len(own)
            expected = ranks(own["deri_score"].to_numpy(dtype=float))
            assert [shown[c]["districtRank"] for c in own[key]] == [int(r) for r in expected]
            assert [shown[c]["rank"] for c in own[key]] == list(own["deri_rank"])
            bins = district["bins"] if level == "wards" else district["lsoaBins"]
            for v, view in enumerate(views):
                classes, upper = risk_classes(own[view].to_numpy(dtype=float))
                assert [shown[c]["districtClasses"][v] for c in own[key]] == list(classes)
                assert bins[v] == pytest.approx(upper, abs=1e-6)
    northmoor = next(d for d in meta["districts"] if d["name"] == "Northmoor")
    assert northmoor["wards"] < meta["wards"] == 40


def test_the_title_block_says_what_the_score_is_made_of(demo_release: Release) -> None:
    about = page_data(demo_release.map_path.read_text(encoding="utf-8"))["meta"]["about"]
    index = demo_release.metadata["index"]
    assert about["region"] == "Demo City Region (synthetic)"
    assert about["synthetic"] is True  # the title block says so, as the data package does
    assert about["version"] == demo_release.version and about["released"]
    status = {c["key"]: (c["status"], c["weight"]) for c in about["components"]}
    assert status == {
        "demography": ("used", 3),
        "broadband": ("used", 3),
        "deprivation": ("used", 3),
        "access": ("unweighted", 0),
    }
    assert about["deprivationEdition"] == index["deprivation_edition"] == "IMD 2019"
    package = json.loads((demo_release.path / "datapackage.json").read_text(encoding="utf-8"))
    assert {(s["title"], s["version"]) for s in about["sources"]} == {
        (s["title"], s.get("version", "")) for s in package["sources"]
    }
    assert about["base"] == "each indicator scaled 0–10 over the region's own areas"
    for link in about["links"]:  # the files it points to are beside the map
        assert (demo_release.path / link["href"]).is_file(), link


def test_the_title_block_names_missing_components_and_substitutes() -> None:
    """What a build without broadband data and with a substitute would say (as the real
    Greater Manchester build once did: only some components, stand-ins for others)."""
    from placeintel.maps.about import describe

    metadata = {
        "index": {
            "component_weights": {"demography": 3, "broadband": 3, "deprivation": 3, "access": 0},
            "used_components": ["demography", "deprivation"],
            "missing_components": ["broadband"],
            "missing_indicators": {
                "pct_social_grade_de": "no source provides social_grade_de",
                "pct_unemployed": "no source provides unemployed",
            },
            "substitutes": {
                "pct_nssec_l12_l14": {"for": ["pct_social_grade_de"], "why": "nearest class"}
            },
            "base": "nation",
            "nation": {"title": "England (2021 LSOAs)"},
            "deprivation_edition": "IoD2025",
        },
        "labels": {"pct_unemployed": "% unemployed (relabelled)"},
    }
    about = describe("Somewhere", "20261122T083646Z", metadata, [{"title": "T", "version": "V"}])
    assert about["released"] == "22 November 2026"
    assert [c["status"] for c in about["components"]] == ["used", "missing", "used", "unweighted"]
    assert about["substitutes"] == [
        {
            "label": "% in NS-SeC L12-L14 (semi-routine, routine, never worked or long-term "
            "unemployed)",
            "for": ["% in social grade DE"],
            "why": "nearest class",
        }
    ]
    # A replaced indicator is a substitute's business; one with no stand-in is left out.
    assert about["missingIndicators"] == [
        {"label": "% unemployed (relabelled)", "reason": "no source provides unemployed"}
    ]
    assert about["base"] == "each indicator scaled 0–10 over England (2021 LSOAs)"
    assert describe("X", "not-a-version", None)["released"] == ""


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
    # One district's own map: ranks within it, the regional rank kept beside, each "of" its N.
    meta = data["meta"]
    assert meta["partial"] is True and meta["district"] == "E08000991"
    assert meta["wards"] == 40 and [d["code"] for d in meta["districts"]] == ["E08000991"]
    own = sorted(f["properties"]["districtRank"] for f in data["wards"]["features"])
    assert own == list(range(1, meta["districts"][0]["wards"] + 1))
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


def test_service_marks_are_told_apart_and_readable() -> None:
    """Every category has its own colour (no greys shared between kinds) and its letter
    reads at WCAG AA (4.5:1) on it."""
    from placeintel.maps import style

    colours = [colour for _, colour in style.CATEGORY_MARKS.values()]
    assert len(set(colours)) == len(colours)
    letters = [letter for letter, _ in style.CATEGORY_MARKS.values()]
    assert len(set(letters)) == len(letters)
    for _, colour in style.CATEGORY_MARKS.values():
        assert style.contrast(style.marker_text(colour), colour) >= 4.5, colour
