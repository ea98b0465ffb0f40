"""Live re-weighting on the map agrees with `placeintel build --weight`, exactly.

A planner sets weights (by the sliders, with the keyboard, or by opening a shared link)
on the demo release's published map; every ward's and LSOA's score, rank, class and
points, and the legend's breaks, are read back from the page and compared with a release
built by the CLI with the same `--weight` options: its published tables (6 decimals) and
its own map.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from placeintel import Release, load_release
from placeintel.errors import DataError
from placeintel.maps.weights import settings_of
from tests.axe import AXE_JS, BLOCKING, requires_axe
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import Page, tab

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

#: Weight settings a planner might try: a component up and an indicator out; a component
#: out and the unweighted access component in; a whole component emptied by its indicators.
SETTINGS = {
    "demography-up-imd-out": {"demography": 10, "imd_score": 0, "pct_unemployed": 7},
    "broadband-out-access-in": {"broadband": 0, "access": 4, "support_within_1km": 0},
    "broadband-emptied": {
        "pct_premises_below_30mbit": 0,
        "pct_connections_below_10mbit": 0,
        "avg_download_mbit": 0,
        "deprivation": 1,
    },
}
COMPONENTS = ("demography", "broadband", "deprivation", "access")


def cli_build(region: str, releases: Path, weights: dict[str, int], *extra: str) -> Release:
    """A release built the way a planner's colleague would: the CLI with --weight."""
    options = [f"--weight={k}={v}" for k, v in weights.items()]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "placeintel.cli",
            "build",
            region,
            "--releases",
            str(releases),
            *options,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return load_release(releases / region / "current")


def fragment(weights: dict[str, int]) -> str:
    return "#weights=" + ",".join(f"{k}:{v}" for k, v in weights.items())


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium-weights")) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory):
    """Demo releases built by the CLI with each setting, once per module."""
    made: dict[str, Release] = {}

    def get(name: str) -> Release:
        if name not in made:
            made[name] = cli_build("demo", tmp_path_factory.mktemp(name), SETTINGS[name])
        return made[name]

    return get


PAGE = """
(function () {
  var d = placeintel.data;
  function props(fc) { return fc.features.map(function (f) { var p = f.properties;
    return {code: p.code, scores: p.scores, classes: p.classes, rank: p.rank,
            districtClasses: p.districtClasses, districtRank: p.districtRank,
            indicators: p.indicators}; }); }
  return {wards: props(d.wards), lsoas: d.lsoas ? props(d.lsoas.areas) : [],
          views: d.meta.views.map(function (v) { return v.key; }),
          bins: d.meta.views.map(function (v) { return v.bins; }),
          lsoaBins: d.lsoas ? d.lsoas.bins : null, count: d.meta.wards,
          lsoaCount: d.lsoas ? d.lsoas.count : null,
          pageLsoaCount: d.meta.lsoaCount};
}())
"""


def page_numbers(page: Page) -> dict[str, Any]:
    """What the map draws and its popups show, as the page holds it now."""
    return page.js(PAGE)


def by_view(numbers: dict[str, Any], views: list[str]) -> dict[str, Any]:
    """The page's numbers for these views only, in this order.

    A component that a build's weights empty (every indicator at 0) has no column, so the
    build's map has no view of it; the page keeps the view, with no score in any area.
    """
    at = [numbers["views"].index(v) for v in views]
    out = json.loads(json.dumps(numbers))
    for level in ("wards", "lsoas"):
        for area in out[level]:
            area["scores"] = [area["scores"][i] for i in at]
            area["classes"] = [area["classes"][i] for i in at]
            area["districtClasses"] = [area["districtClasses"][i] for i in at]
    out["bins"] = [numbers["bins"][i] for i in at]
    if numbers["lsoaBins"] is not None:
        out["lsoaBins"] = [numbers["lsoaBins"][i] for i in at]
    out["views"] = views
    return out


def assert_page_equals_built(reweighted: dict[str, Any], built: dict[str, Any]) -> None:
    """Every area's shown scores, classes, rank and indicator cells; the legend's breaks."""
    for gone in set(reweighted["views"]) - set(built["views"]):
        v = reweighted["views"].index(gone)
        assert reweighted["bins"][v] == []
        for level in ("wards", "lsoas"):
            assert {(a["scores"][v], a["classes"][v]) for a in reweighted[level]} == {(None, -1)}
    reweighted = by_view(reweighted, built["views"])
    assert reweighted["bins"] == built["bins"]
    assert reweighted["count"] == built["count"]
    for level in ("wards", "lsoas"):
        ours = {a["code"]: a for a in reweighted[level]}
        theirs = {a["code"]: a for a in built[level]}
        assert ours.keys() == theirs.keys()
        for code, area in theirs.items():
            assert ours[code] == area, f"{level} {code}"
    if built["lsoaBins"] is not None:
        assert reweighted["lsoaBins"] == built["lsoaBins"]
        assert reweighted["pageLsoaCount"] == built["lsoaCount"]


def same(a: Any, b: Any) -> bool:
    """Equal published values; a blank (NaN/None) only equals a blank."""
    blank_a = a is None or (isinstance(a, float) and math.isnan(a))
    blank_b = b is None or (isinstance(b, float) and math.isnan(b))
    return blank_a == blank_b and (blank_a or a == b)


def assert_table_equals_release(rows: list[dict[str, Any]], frame: pd.DataFrame, key: str) -> None:
    """The page's 6-decimal numbers and ranks against the built release's own table
    (GeoParquet: the exact float64 values the build wrote)."""
    published = frame.set_index(key)
    assert {r["code"] for r in rows} == set(published.index)
    for row in rows:
        built = published.loc[row["code"]]
        assert same(row["scores"]["deri_score"], float(built["deri_score"])), row["code"]
        assert row["rank"] == (None if pd.isna(built["deri_rank"]) else int(built["deri_rank"]))
        for component in COMPONENTS:
            column = f"{component}_score"
            expected = float(built[column]) if column in published else None
            assert same(row["scores"][column], expected), (row["code"], column)
        for indicator, points in row["points"].items():
            column = f"{indicator}_contribution"
            expected = float(built[column]) if column in published else None
            assert same(points, expected), (row["code"], column)


def url_of(release: Release, name: str = "map.html") -> str:
    return (release.path / name).as_uri()


@pytest.mark.parametrize("name", list(SETTINGS))
def test_weights_in_the_address_give_the_builds_numbers(
    demo_release: Release, browser: Browser, builds, name: str
) -> None:
    weights = SETTINGS[name]
    built = builds(name)
    with tab(browser, url_of(built)) as page:
        expected = page_numbers(page)
    with tab(browser, url_of(demo_release) + fragment(weights)) as page:
        assert page.js("placeintel.weights.current()") == {
            **page.js("placeintel.weights.published()"),
            **weights,
        }
        assert_page_equals_built(page_numbers(page), expected)
        assert_table_equals_release(
            page.js("placeintel.weights.table('ward')"), built.wards, "ward_code"
        )
        assert_table_equals_release(
            page.js("placeintel.weights.table('lsoa')"), built.lsoas, "lsoa21_code"
        )
        assert "your weights" in page.js("document.querySelector('.pi-legend').textContent")
        assert page.exceptions() == []
    # Filtered to a district: its own quintiles and ranks within it, as the build's map
    # filtered to it (map-<LAD>.html opens map.html?district=<LAD>).
    district = sorted(built.wards["lad_code"].unique())[0]
    with tab(browser, url_of(built) + f"?district={district}") as page:
        expected = page_numbers(page)
        expected_legend = page.js("document.querySelector('.pi-legend').textContent")
    with tab(browser, url_of(demo_release) + f"?district={district}" + fragment(weights)) as page:
        assert page.js("placeintel.state.district") == district
        assert_page_equals_built(page_numbers(page), expected)
        legend = page.js("document.querySelector('.pi-legend').textContent")
        assert "your weights" in legend
        assert re.sub(r",? ?\(?your weights\)?", "", legend) == expected_legend


def test_the_published_weights_recomputed_give_the_published_numbers(
    demo_release: Release, browser: Browser
) -> None:
    """The page's arithmetic with the release's own weights is the release, to 6 decimals."""
    with tab(browser, url_of(demo_release)) as page:
        assert page.js("placeintel.weights.isCustom()") is False
        for level, frame, key in (
            ("ward", demo_release.wards, "ward_code"),
            ("lsoa", demo_release.lsoas, "lsoa21_code"),
        ):
            computed = page.js(f"placeintel.weights.compute({{}}, '{level}')")
            assert_table_equals_release(computed, frame, key)
            shown = page.js(f"placeintel.weights.table('{level}')")
            assert [r["classes"] for r in computed] == [r["classes"] for r in shown]


def test_a_planner_moves_sliders_by_keyboard_shares_the_link_and_resets(
    demo_release: Release, browser: Browser, builds
) -> None:
    name = "demography-up-imd-out"
    weights = SETTINGS[name]
    with tab(browser, url_of(demo_release)) as page:
        published = page_numbers(page)
        page.js("document.querySelector('.pi-weights > summary').focus()")
        page.press("Enter")  # opens the panel
        assert page.js("document.querySelector('.pi-weights').open") is True
        page.press("Tab")  # to the first slider: Demography
        assert page.js("document.activeElement.labels[0].textContent") == "Demography"
        page.press("ArrowRight", 7)  # 3 -> 10
        page.js("document.querySelector('.pi-advanced > summary').focus()")
        page.press("Enter")  # opens "Advanced: indicator weights"
        for key, target in (("imd_score", 0), ("pct_unemployed", 7)):
            index = page.js(f"placeintel.weights.indicators.indexOf('{key}')")
            page.js(f"document.getElementById('pi-w-i{index}').focus()")
            assert page.js("document.activeElement.id") == f"pi-w-i{index}"
            now = page.js("Number(document.activeElement.value)")
            page.press("ArrowRight" if target > now else "ArrowLeft", abs(target - now))
        page.settle(0.3)
        assert page.js("placeintel.weights.current()") == {
            **page.js("placeintel.weights.published()"),
            **weights,
        }
        address = page.js("location.href")
        assert address.endswith(fragment({"demography": 10, "imd_score": 0, "pct_unemployed": 7}))
        assert page.js("document.querySelector('.pi-weights > summary').textContent") == (
            "Weights: yours"
        )
        chosen = page_numbers(page)
        # A ward's popup shows its new score and rank, and says what still describes the
        # published weights.
        before = {a["code"]: a["rank"] for a in published["wards"]}
        moved = next(
            r for r in page.js("placeintel.weights.table('ward')") if r["rank"] != before[r["code"]]
        )
        popup = page.js(
            "(function () { var text = ''; placeintel.wards.eachLayer(function (l) {"
            f" if (l.feature.properties.code === '{moved['code']}') {{ l.openPopup();"
            " text = l.getPopup().getElement().textContent; } }); return text; }())"
        )
        assert moved["name"] in popup and f"rank {moved['rank']} of 40" in popup
        assert "refer to the published weights" in popup
        # Reset: exactly the published page again, and the address without weights.
        page.js(
            "Array.from(document.querySelectorAll('.pi-weights button'))"
            ".filter(function (b) { return /Reset/.test(b.textContent); })[0].click()"
        )
        page.settle(0.2)
        assert page_numbers(page) == published
        assert "weights=" not in page.js("location.href")
        assert page.exceptions() == []
    with tab(browser, address) as page:  # the shared link restores the view
        assert page_numbers(page) == chosen
        assert page.js("Number(document.getElementById('pi-w-c0').value)") == 10
    with tab(browser, url_of(builds(name))) as page:
        assert_page_equals_built(chosen, page_numbers(page))


def test_every_component_at_zero_is_no_index_as_the_build_says(
    demo_release: Release, browser: Browser, tmp_path: Path
) -> None:
    zeros = dict.fromkeys(COMPONENTS, 0)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "placeintel.cli",
            "build",
            "demo",
            "--releases",
            str(tmp_path),
            *[f"--weight={k}=0" for k in zeros],
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1 and "no index" in (done.stdout + done.stderr)
    with tab(browser, url_of(demo_release) + fragment(zeros)) as page:
        status = page.js("document.querySelector('.pi-weights-status').textContent")
        assert "no index" in status
        rows = page.js("placeintel.weights.table('ward')")
        assert all(r["rank"] is None and r["classes"]["deri_score"] == -1 for r in rows)
        assert page.exceptions() == []


def test_a_hostile_link_changes_only_what_is_valid(demo_release: Release, browser: Browser) -> None:
    hostile = (
        "#other=1&weights=demography:99,"
        "%3Cimg%20src%3Dx%20onerror%3Dwindow.__pwned%3D1%3E:3,"
        "imd_score:-1,access:4,toString:2,__proto__:5"
    )
    with tab(browser, url_of(demo_release) + hostile) as page:
        current, published = (
            page.js("placeintel.weights.current()"),
            page.js("placeintel.weights.published()"),
        )
        assert current == {**published, "access": 4}
        status = page.js("document.querySelector('.pi-weights-status').textContent")
        assert status.startswith("Ignored in the link: demography:99, <img src=x")
        assert page.js("window.__pwned === undefined && !document.querySelector('img[src=x]')")
        assert page.js("location.hash").endswith("&weights=access:4")  # other parts kept
        assert page.exceptions() == []


@requires_axe
def test_the_panel_passes_axe_and_fits_a_phone(demo_release: Release, browser: Browser) -> None:
    for viewport in ((390, 844), (1366, 768)):
        with tab(browser, url_of(demo_release), viewport=viewport) as page:
            assert page.js("document.querySelector('.pi-weights').open") is False  # folded
            page.js("document.querySelector('.pi-weights').open = true")
            page.js("document.querySelector('.pi-advanced').open = true")
            page.js("document.querySelector('.pi-export').open = true")
            page.settle(0.2)
            box = page.js("document.querySelector('.pi-weights').getBoundingClientRect().toJSON()")
            assert box["left"] >= 0 and box["right"] <= viewport[0]
            assert box["bottom"] <= viewport[1]
            sliders = page.js(
                "Array.from(document.querySelectorAll('.pi-weights input[type=range]'))"
                ".map(function (s) { return [s.labels.length, s.labels[0].textContent,"
                " s.min, s.max, s.step]; })"
            )
            assert len(sliders) == 4 + 14  # the demo's components and indicators
            assert all(n == 1 and text and rng == ["0", "10", "1"] for n, text, *rng in sliders)
            browser.evaluate(page.session, AXE_JS.read_text(encoding="utf-8"))
            found = page.js(
                "axe.run({include: [['.pi-weights'], ['.pi-export']]},"
                " {resultTypes: ['violations']}).then(function (r) { return r.violations.map("
                "function (v) { return {id: v.id, impact: v.impact, nodes: v.nodes.length}; }); })"
            )
            assert [v for v in found if v["impact"] in BLOCKING] == []


def test_a_release_records_the_settings_its_map_reweights_from(demo_release: Release) -> None:
    settings = settings_of(demo_release.metadata)
    assert settings is not None and settings.base == "region"
    assert settings.component_weights == {
        "demography": 3,
        "broadband": 3,
        "deprivation": 3,
        "access": 0,
    }
    broken = json.loads(json.dumps(demo_release.metadata))
    broken["index"]["indicator_weights"]["imd_score"] = 11
    with pytest.raises(DataError) as error:
        settings_of(broken)
    assert error.value.file == "datapackage.json" and "imd_score" in str(error.value)
    assert settings_of({}) is None  # a release from before: a map without re-weighting


def test_a_map_redrawn_from_a_release_reweights_exactly(
    demo_release: Release, browser: Browser, builds, tmp_path: Path
) -> None:
    """`placeintel map` (a region scaled within itself): the same numbers as the build."""
    name = "broadband-out-access-in"
    output = tmp_path / "redrawn.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "placeintel.cli",
            "map",
            "demo",
            "--releases",
            str(demo_release.path.parent.parent),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with tab(browser, url_of(builds(name))) as page:
        expected = page_numbers(page)
    with tab(browser, output.as_uri() + fragment(SETTINGS[name])) as page:
        assert_page_equals_built(page_numbers(page), expected)


def test_greater_manchester_scaled_to_england_reweights_exactly(
    realdata: Path, browser: Browser, tmp_path: Path
) -> None:
    """The real release: England's bounds, substitutes, and access to help (no national
    files, so scaled within the region) dropped once its component weighs more than 0."""
    region = "greater-manchester"
    weights = {"access": 3, "imd_score": 0, "demography": 5, "pct_aged_75_plus": 0}
    published = cli_build(region, tmp_path / "published", {}, "--data-dir", str(realdata))
    built = cli_build(region, tmp_path / "weighted", weights, "--data-dir", str(realdata))
    assert "access_score" not in built.wards  # as the page must show it: no access score
    with tab(browser, url_of(built), timeout=120) as page:
        expected = page_numbers(page)
    with tab(browser, url_of(published) + fragment(weights), timeout=120) as page:
        assert_page_equals_built(page_numbers(page), expected)
        assert_table_equals_release(
            page.js("placeintel.weights.table('ward')"), built.wards, "ward_code"
        )
        assert_table_equals_release(
            page.js("placeintel.weights.table('lsoa')"), built.lsoas, "lsoa21_code"
        )
        assert page.exceptions() == []
