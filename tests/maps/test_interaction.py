"""Finding a ward, filtering to a district and re-ranking, in a real browser.

Search is what a person expects: part of a name, any case, with or without accents, the
district beside names that occur twice, a message when nothing matches, and the ward's
popup even while the LSOAs are shown. The district filter ranks within the district
("n of N" with the district's N) and its link opens the map filtered. The page's own
ranking and classing (`placeintel.restyle`, which live re-weighting calls) agrees exactly
with placeintel.index.classes and placeintel.index.deri.ranks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from placeintel.index.classes import risk_classes
from placeintel.index.deri import ranks
from placeintel.maps import MapContent, assemble, write_map
from placeintel.pipeline import Release
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import SIZES, Page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

OPTIONS = "JSON.stringify(Array.prototype.map.call(document.querySelectorAll("
OPTIONS += "'#pi-search-results li'), function (li) { return li.textContent; }))"
STATUS = "document.querySelector('.pi-search-status').textContent"
# The newest popup: a closed one fades out for a moment before it leaves the page.
POPUP = (
    "(Array.prototype.slice.call(document.querySelectorAll('.leaflet-popup-content')).pop()"
    " || {innerText: ''}).innerText"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.fixture(scope="module")
def renamed(demo_release: Release, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The demo map with the names that trip a search up: the same name in two districts
    (as Brooklands in Manchester and Trafford) and an accented one."""
    wards = demo_release.wards.copy()
    first = wards.groupby("lad_name").head(1).set_index("lad_name")["ward_code"]
    names = {
        first["Riverside"]: "Brooklands",
        first["Eastwick"]: "Brooklands",
        first["Northmoor"]: "Hârpurhey Vale",
    }
    wards["ward_name"] = wards["ward_code"].map(names).fillna(wards["ward_name"])
    content = MapContent(
        wards,
        demo_release.services,
        "Demo",
        ["attribution"],
        demo_release.lsoas,
        demo_release.metadata.get("labels"),
        metadata=demo_release.metadata,
        version=demo_release.version,
    )
    folder = tmp_path_factory.mktemp("renamed")
    return write_map(assemble(content), folder / "map.html"), names


def typed(page: Page, text: str) -> tuple[list[str], str]:
    page.run("var i = document.getElementById('pi-search-input'); i.value = ''; i.focus(); 0")
    page.type(text)
    return json.loads(page.run(OPTIONS)), page.run(STATUS)


def test_search_finds_what_a_person_types(renamed, browser: Browser) -> None:
    page_path, _ = renamed
    with Page(browser, page_path.as_uri(), SIZES["desktop"]) as page:
        options, status = typed(page, "brookla")
        assert options == ["Brooklands (Eastwick)", "Brooklands (Riverside)"]
        assert status == "2 wards match."
        for text in ("HARPUR", "harpurhey", "Hârpur", "rpurhey v"):  # part, case, accents
            options, _ = typed(page, text)
            assert options == ["Hârpurhey Vale (Northmoor)"], text
        options, status = typed(page, "zzqx")
        assert options == [] and status == "No ward matches \u201czzqx\u201d. Try part of its name."
        # Down to the second Brooklands, Enter: that ward's popup, with its district.
        typed(page, "Brooklands")
        page.key("ArrowDown", 2)
        page.key("Enter")
        page.settle(0.3)
        text = page.run(POPUP)
        assert text.startswith("Brooklands\nRiverside \u00b7 ")
        assert page.run("document.getElementById('pi-search-input').value") == (
            "Brooklands (Riverside)"
        )
        assert page.exceptions() == []


def test_search_opens_the_wards_popup_while_lsoas_are_shown(
    demo_release: Release, browser: Browser
) -> None:
    ward = demo_release.wards.sort_values("deri_rank").iloc[-1]
    with Page(browser, demo_release.map_path.as_uri(), SIZES["phone"]) as page:
        page.run(  # tick "Small areas (LSOAs)" in the layer list, as a planner does
            "Array.prototype.forEach.call(document.querySelectorAll("
            "'.leaflet-control-layers-overlays label'), function (label) {"
            " if (label.textContent.indexOf('Small areas') >= 0) {"
            " label.querySelector('input').click(); } }); 0"
        )
        assert page.run("placeintel.state.lsoas") is True
        typed(page, ward["ward_name"])
        page.key("Enter")
        page.settle(0.3)
        text = page.run(POPUP)
    assert text.startswith(f"{ward['ward_name']}\n{ward['lad_name']} \u00b7 {ward['ward_code']}")
    assert f"rank {ward['deri_rank']} of 40 wards" in text


def test_the_district_filter_ranks_within_the_district(
    demo_release: Release, browser: Browser
) -> None:
    wards = demo_release.wards
    code = "E08000991"
    own = wards[wards["lad_code"] == code].sort_values("deri_score", ascending=False)
    top, name, count = own.iloc[0], own["lad_name"].iloc[0], len(own)
    with Page(browser, demo_release.map_path.as_uri(), SIZES["tablet"]) as page:
        page.run(
            f"var s = document.getElementById('pi-district'); s.value = '{code}';"
            " s.dispatchEvent(new Event('change')); 0"
        )
        assert page.run("location.search") == f"?district={code}"
        legend = page.run("document.querySelector('.pi-legend-head').textContent")
        assert legend.endswith(f"quintiles of {name}\u2019s {count} wards")
        page.run(
            "placeintel.wards.eachLayer(function (l) {"
            f" if (l.feature.properties.code === '{top['ward_code']}') {{ l.openPopup(); }} }}); 0"
        )
        page.settle(0.3)
        text = page.run(POPUP)
        # The district's wards in view, the others only outlined.
        inside = page.run(
            "var n = 0; placeintel.wards.eachLayer(function (l) {"
            " if (l.options.fillOpacity > 0) { n += 1; } }); n"
        )
    assert f"rank 1 of {count} wards in {name}" in text
    assert f"Rank {top['deri_rank']} of 40 wards in Demo City Region (synthetic)" in text
    assert inside == count
    # The district's link opens the one map, filtered.
    with Page(browser, (demo_release.path / f"map-{code}.html").as_uri(), SIZES["phone"]) as page:
        state = json.loads(
            page.run(
                "JSON.stringify([placeintel.state.district,"
                " document.getElementById('pi-district').value, location.pathname])"
            )
        )
    assert state[0] == state[1] == code and state[2].endswith("/map.html")


PAGE_STATE = """JSON.stringify(['wards', 'lsoas'].map(function (name) {
  return placeintel[name].getLayers().map(function (l) {
    var p = l.feature.properties;
    return [p.code, p.lad, p.scores[0], p.rank, p.districtRank, p.classes, p.districtClasses];
  });
}))"""


def _python(rows: list[list], views: int) -> dict[str, tuple]:
    """Ranks and classes as placeintel computes them, for the page's own scores."""
    codes = [r[0] for r in rows]
    lads = np.array([r[1] for r in rows])
    scores = np.array([r[2] for r in rows], dtype=float)
    expected = {c: [None, None, [0] * views, [0] * views] for c in codes}
    for code, rank in zip(codes, ranks(scores), strict=True):
        expected[code][0] = int(rank)
    for lad in np.unique(lads):
        inside = lads == lad
        for code, rank in zip(np.array(codes)[inside], ranks(scores[inside]), strict=True):
            expected[code][1] = int(rank)
    return expected


def test_the_pages_ranks_and_classes_agree_with_python(
    demo_release: Release, browser: Browser
) -> None:
    """Recomputed in the browser from the published scores, and from changed ones (as a
    re-weighting script changes them), they are placeintel's own ranks and quintiles."""
    with Page(browser, demo_release.map_path.as_uri(), SIZES["desktop"]) as page:
        published = json.loads(page.run(PAGE_STATE))
        page.run("placeintel.restyle({recompute: true}); 0")
        assert json.loads(page.run(PAGE_STATE)) == published
        # Change every area's scores (reversed: 10 - s) and let the page rank and class them.
        page.run(
            "['wards', 'lsoas'].forEach(function (name) { placeintel[name].eachLayer(function (l) {"
            " var p = l.feature.properties; p.scores = p.scores.map(function (s) {"
            " return s === null ? null : Math.round((10 - s) * 1e6) / 1e6; }); }); });"
            " placeintel.restyle(); 0"
        )
        changed = json.loads(page.run(PAGE_STATE))
        assert page.run("placeintel.state.custom") is True
        legend = page.run("document.querySelector('.pi-legend-head').textContent")
        assert "your weights" in legend
        # Back to the published scores: published ranks, and the popups say nothing extra.
        page.run(
            "['wards', 'lsoas'].forEach(function (name) { placeintel[name].eachLayer(function (l) {"
            " l.feature.properties.scores = l.feature.properties.published.scores.slice(); }); });"
            " placeintel.restyle(); 0"
        )
        assert page.run("placeintel.state.custom") is False
        assert json.loads(page.run(PAGE_STATE)) == published
    views = len(published[0][0][5])
    for rows in changed:
        expected = _python(rows, views)
        scores = np.array([r[2] for r in rows], dtype=float)
        lads = np.array([r[1] for r in rows])
        for code, _, _, rank, own_rank, _, _ in rows:
            assert (rank, own_rank) == tuple(expected[code][:2]), code
        # The DERI view's classes, in the region and in each district.
        region, _ = risk_classes(scores)
        assert [r[5][0] for r in rows] == list(region)
        for lad in np.unique(lads):
            inside = lads == lad
            own, _ = risk_classes(scores[inside])
            assert [r[6][0] for r, keep in zip(rows, inside, strict=True) if keep] == list(own)


def test_a_shared_link_keeps_what_the_map_is_coloured_by(
    demo_release: Release, browser: Browser
) -> None:
    with Page(browser, demo_release.map_path.as_uri(), SIZES["tablet"]) as page:
        page.run(
            "var s = document.getElementById('pi-view'); s.value = '2';"
            " s.dispatchEvent(new Event('change')); 0"
        )
        key = page.run("placeintel.meta.views[2].key")
        shared = page.run("location.href")
        assert f"view={key}" in shared
    with Page(browser, shared, SIZES["phone"]) as page:
        chosen = json.loads(
            page.run(
                "JSON.stringify([placeintel.state.view, document.getElementById('pi-view').value,"
                " document.querySelector('.pi-legend summary').textContent])"
            )
        )
        label = page.run("placeintel.meta.views[2].label")
    assert chosen[:2] == [2, "2"] and label in chosen[2]
