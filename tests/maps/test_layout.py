"""The map on a phone, a tablet and a desktop screen, used as a person uses it.

At 390×844, 768×1024 and 1366×768: no control covers another; a ward found with the
search opens a popup that fits the screen and stays clear of the controls, also once "Why
it ranks here" is expanded;
the legend starts folded on a phone and fits (nothing cut off) on a desktop; services do
not hide the ward colours; district names do not cover hot spots. Each screenshot is kept
beside the test's files for a person to look at.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rasterio
import shapely

from placeintel.pipeline import Release
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import SIZES, Page, inside, overlap
from tests.maps.test_map import hot_spot_shapes

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


def search(page: Page, text: str) -> None:
    """Type into the search box as a person does, and press Enter."""
    page.run("document.getElementById('pi-search-input').focus()")
    page.type(text)
    page.key("Enter")
    page.settle(0.3)


def assert_popup_fits(boxes: dict) -> None:
    screen = {"left": 0, "top": 0, **{"right": 0, "bottom": 0}}
    screen["right"], screen["bottom"] = boxes["viewport"]["width"], boxes["viewport"]["height"]
    popup = boxes["popup"]
    assert popup is not None, "no popup open"
    assert inside(popup, screen), (popup, screen)
    assert inside(popup, boxes["map"]), (popup, boxes["map"])
    assert inside(boxes["heading"], boxes["map"])  # the ward's name shows
    for control in boxes["controls"]:
        assert not overlap(popup, control["box"]), (control, popup)


def not_blank(png: Path) -> bool:
    with rasterio.open(png) as image:
        pixels = image.read().astype(float)
    return pixels.std() > 20


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize("screen", list(SIZES))
def test_a_ward_found_by_search_fits_the_screen(
    demo_release: Release, browser: Browser, tmp_path: Path, screen: str
) -> None:
    ward = demo_release.wards.sort_values("deri_rank").iloc[0]
    with Page(browser, demo_release.map_path.as_uri(), SIZES[screen]) as page:
        before = page.boxes()
        controls = before["controls"]
        for at, control in enumerate(controls):  # every control readable, none under another
            for other in controls[at + 1 :]:
                assert not overlap(control["box"], other["box"]), (control, other)
        assert not_blank(page.screenshot(tmp_path / f"{screen}-map.png"))
        search(page, ward["ward_name"][:5].lower())  # part of the name, any case
        boxes = page.boxes()
        assert (
            page.run("document.querySelector('.leaflet-popup h2').textContent")
            == (ward["ward_name"])
        )
        assert_popup_fits(boxes)
        assert boxes["popup"]["right"] - boxes["popup"]["left"] <= SIZES[screen][0] - 16
        page.screenshot(tmp_path / f"{screen}-popup.png")
        # "Why it ranks here" makes the popup taller: it is refitted, the name still shows.
        page.run("document.querySelector('.leaflet-popup details summary').click()")
        page.settle(0.3)
        grown = page.boxes()
        assert page.run("document.querySelector('.leaflet-popup details').open")
        assert_popup_fits(grown)
        page.screenshot(tmp_path / f"{screen}-why.png")
        assert page.exceptions() == []
    # The legend: folded on a phone; open elsewhere, inside the screen, nothing cut off.
    if screen == "phone":
        assert before["legendOpen"] is False
    else:
        assert before["legendOpen"] is True
        assert inside(before["legend"], before["map"])
        body = before["legendBody"]
        assert body["scroll"] <= body["client"] + 1, body
    others = [c["box"] for c in before["controls"] if c["name"] != "pi-legend"]
    assert not any(overlap(before["legend"], box) for box in others)


@pytest.mark.parametrize("screen", list(SIZES))
def test_services_leave_the_ward_colours_visible(
    demo_release: Release, browser: Browser, screen: str
) -> None:
    """At the region's zoom services are small dots and clusters small bubbles: together
    they cover under 3 % of the map."""
    with Page(browser, demo_release.map_path.as_uri(), SIZES[screen]) as page:
        boxes = page.boxes()
    area = (boxes["map"]["right"] - boxes["map"]["left"]) * (
        boxes["map"]["bottom"] - boxes["map"]["top"]
    )
    covered = sum((b["right"] - b["left"]) * (b["bottom"] - b["top"]) for b in boxes["services"])
    assert boxes["services"] and covered / area < 0.03, covered / area


LABELS = """JSON.stringify(Array.prototype.map.call(document.querySelectorAll('.pi-label-district'),
function (n) {
  var box = placeintel.map.getContainer().getBoundingClientRect(), r = n.getBoundingClientRect();
  var a = placeintel.map.containerPointToLatLng([r.left - box.left, r.bottom - box.top]);
  var b = placeintel.map.containerPointToLatLng([r.right - box.left, r.top - box.top]);
  return {text: n.textContent, box: [a.lng, a.lat, b.lng, b.lat]};
}))"""


@pytest.mark.parametrize("screen", list(SIZES))
def test_district_names_do_not_cover_hot_spots(
    demo_release: Release, browser: Browser, screen: str
) -> None:
    spots = hot_spot_shapes(demo_release.map_path)
    assert spots
    with Page(browser, demo_release.map_path.as_uri(), SIZES[screen]) as page:
        labels = json.loads(page.run(LABELS))
    assert labels, "no district named on the map"
    for label in labels:
        box = shapely.box(*label["box"])
        assert not any(box.intersects(spot) for spot in spots), label["text"]
    names = [label["text"] for label in labels]
    assert len(names) == len(set(names))


def test_district_boundaries_draw_above_the_lsoas(demo_release: Release, browser: Browser) -> None:
    with Page(browser, demo_release.map_path.as_uri(), SIZES["desktop"]) as page:
        page.run("placeintel.map.addLayer(placeintel.lsoas); true")
        z = json.loads(
            page.run(
                "JSON.stringify(['pi-lsoas', 'pi-districts', 'pi-outlines'].map(function (n) {"
                " var p = placeintel.map.getPane(n); return [Number(getComputedStyle(p).zIndex),"
                " p.querySelectorAll('path').length]; }))"
            )
        )
    (lsoas, lsoa_paths), (districts, district_paths), (outlines, _) = z
    assert lsoas < districts < outlines
    assert lsoa_paths == len(demo_release.lsoas) and district_paths > 0


def test_on_a_phone_a_popup_folds_the_open_panels(demo_release: Release, browser: Browser) -> None:
    """With the weights panel open (it fills much of a phone's screen), finding a ward
    folds it so the popup fits clear of every control; the weights stay as chosen."""
    ward = demo_release.wards.sort_values("deri_rank").iloc[0]
    url = demo_release.map_path.as_uri() + "#weights=deprivation:5"
    with Page(browser, url, SIZES["phone"]) as page:
        page.run("document.querySelector('.pi-weights').open = true; true")
        page.settle(0.2)
        opened = page.boxes()
        weights = next(c["box"] for c in opened["controls"] if c["name"] == "pi-weights")
        assert weights["bottom"] <= 0.75 * opened["viewport"]["height"]  # the map shows below
        search(page, ward["ward_name"])
        assert page.run("document.querySelector('.pi-weights').open") is False
        assert_popup_fits(page.boxes())
        assert page.run("location.hash") == "#weights=deprivation:5"
        assert page.exceptions() == []
