"""The map of the real Greater Manchester release at three screen sizes (skipped without
../shared/realdata): where the names a search trips on exist (Harpurhey, two Brooklands,
two Manors) and where the district filter matters (a district's "n of N")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from placeintel import build
from tests.axe import requires_axe
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import SIZES, Page
from tests.maps.test_interaction import OPTIONS, POPUP, typed
from tests.maps.test_layout import LABELS, assert_popup_fits, search
from tests.maps.test_map import hot_spot_shapes

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def gm_map(realdata: Path, tmp_path_factory: pytest.TempPathFactory):
    release = build(
        "greater-manchester",
        data_dir=realdata,
        releases=tmp_path_factory.mktemp("gm"),
        echo=lambda line: None,
    )
    return release


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.mark.parametrize("screen", list(SIZES))
def test_harpurhey_found_in_part_and_its_popup_fits(
    gm_map, browser: Browser, tmp_path: Path, screen: str
) -> None:
    with Page(browser, gm_map.map_path.as_uri(), SIZES[screen]) as page:
        options, _ = typed(page, "Harpur")
        assert options == ["Harpurhey (Manchester)"]
        page.run("document.getElementById('pi-search-input').value = ''; 0")
        search(page, "Harpur")
        assert page.run(POPUP).startswith("Harpurhey\nManchester \u00b7 E05011366")
        assert_popup_fits(page.boxes())
        page.run("document.querySelector('.leaflet-popup details summary').click()")
        page.settle(0.3)
        assert_popup_fits(page.boxes())
        page.screenshot(tmp_path / f"gm-{screen}-harpurhey.png")
        for name, places in (("Brooklands", ["Manchester", "Trafford"]), ("Manor", [])):
            options, _ = typed(page, name)
            for place in places:
                assert f"{name} ({place})" in options
        assert {"Manor (Stockport)", "Manor (Trafford)"} <= set(json.loads(page.run(OPTIONS)))
        assert page.exceptions() == []


@pytest.mark.parametrize("screen", list(SIZES))
def test_names_clear_of_hot_spots_and_services_clear_of_colours(
    gm_map, browser: Browser, screen: str
) -> None:
    spots = hot_spot_shapes(gm_map.map_path)
    with Page(browser, gm_map.map_path.as_uri(), SIZES[screen]) as page:
        labels = json.loads(page.run(LABELS))
        boxes = page.boxes()
    assert len(labels) >= 5, labels
    for label in labels:
        assert not any(shapely.box(*label["box"]).intersects(s) for s in spots), label["text"]
    area = (boxes["map"]["right"] - boxes["map"]["left"]) * (
        boxes["map"]["bottom"] - boxes["map"]["top"]
    )
    covered = sum((b["right"] - b["left"]) * (b["bottom"] - b["top"]) for b in boxes["services"])
    assert covered / area < 0.03, covered / area


def test_a_district_of_the_region_ranks_its_own_wards(gm_map, browser: Browser) -> None:
    wards = gm_map.wards
    manchester = wards[wards["lad_name"] == "Manchester"]
    harpurhey = manchester.set_index("ward_name").loc["Harpurhey"]
    own_rank = int((manchester["deri_score"] > harpurhey["deri_score"]).sum()) + 1
    url = (gm_map.path / f"map-{harpurhey['lad_code']}.html").as_uri()
    with Page(browser, url, SIZES["phone"]) as page:
        search(page, "Harpurhey")
        text = page.run(POPUP)
    assert f"rank {own_rank} of {len(manchester)} wards in Manchester" in text
    assert f"Rank {harpurhey['deri_rank']} of {len(wards)} wards in Greater Manchester" in text


@requires_axe
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_axe_on_the_real_map(gm_map, browser: Browser, screen: str) -> None:
    with Page(browser, gm_map.map_path.as_uri(), SIZES[screen]) as page:
        assert page.axe() == []
        search(page, "Brooklands (Trafford)")
        page.run("placeintel.map.addLayer(placeintel.lsoas); 0")
        page.settle(0.3)
        assert page.axe() == []
