"""The map for people who use a keyboard, a screen reader or a magnifier.

axe-core finds no critical or serious violation on the map page, on a phone and on a
desktop, in every state a person brings it to (a popup expanded, the legend and "About
this map" open, search results listed, LSOAs shown). The page has a language, a main
landmark and one h1; its first Tab stop skips to the search; the search and controls
come before the wards; a ward has a visible focus ring, opens with Enter, and Escape
brings focus back to it.
"""

from __future__ import annotations

import json

import pytest

from placeintel.pipeline import Release
from tests.axe import requires_axe
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import SIZES, Page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

ACTIVE = """(function (n) {
  var label = n.id || n.getAttribute('aria-label') || (n.textContent || '').trim().slice(0, 40);
  return JSON.stringify([n.tagName.toLowerCase(), label, (n.getAttribute('class') || '')]);
})(document.activeElement)"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


@requires_axe
@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_axe_finds_nothing_serious_in_any_state(
    demo_release: Release, browser: Browser, screen: str
) -> None:
    ward = demo_release.wards["ward_name"].iloc[0]
    steps = {
        "as opened": "0",
        "popup expanded": (
            "placeintel.wards.getLayers()[0].openPopup();"
            "document.querySelector('.leaflet-popup details').open = true; 0"
        ),
        "legend and about open": (
            "placeintel.map.closePopup(); document.querySelector('.pi-legend').open = true;"
            "document.querySelector('.pi-about').open = true; 0"
        ),
        "search results": (
            "document.querySelector('.pi-about').open = false;"
            "var i = document.getElementById('pi-search-input'); i.value = "
            f"{json.dumps(ward[:3])}; i.dispatchEvent(new Event('input')); 0"
        ),
        "lsoas shown": "placeintel.map.addLayer(placeintel.lsoas); 0",
    }
    with Page(browser, demo_release.map_path.as_uri(), SIZES[screen]) as page:
        for state, action in steps.items():
            page.run(action)
            page.settle(0.3)
            assert page.axe() == [], state
        assert page.exceptions() == []


def test_landmarks_heading_language_and_zoom(demo_release: Release, browser: Browser) -> None:
    with Page(browser, demo_release.map_path.as_uri(), SIZES["phone"]) as page:
        facts = json.loads(
            page.run(
                "JSON.stringify({lang: document.documentElement.lang,"
                " main: document.querySelectorAll('main').length,"
                " h1: Array.prototype.map.call(document.querySelectorAll('h1'),"
                "  function (h) { return h.textContent; }),"
                " mapInMain: !!document.querySelector('main .leaflet-container'),"
                " viewport: document.querySelector('meta[name=viewport]').content})"
            )
        )
    assert facts["lang"] == "en-GB" and facts["main"] == 1 and facts["mapInMain"]
    assert facts["h1"] == ["Digital exclusion risk: Demo City Region (synthetic)"]
    assert "user-scalable=no" not in facts["viewport"]
    assert "maximum-scale" not in facts["viewport"]


def test_the_keyboard_reaches_the_search_then_the_controls_then_the_wards(
    demo_release: Release, browser: Browser
) -> None:
    with Page(browser, demo_release.map_path.as_uri(), SIZES["desktop"]) as page:
        page.key("Tab")
        assert json.loads(page.run(ACTIVE))[:2] == ["a", "Skip to the ward search"]
        page.key("Enter")
        assert json.loads(page.run(ACTIVE))[1] == "pi-search-input"
        seen = []
        for _ in range(60):
            page.key("Tab")
            active = json.loads(page.run(ACTIVE))
            seen.append(active)
            if "pi-ward" in active[2]:
                break
        ids = [a[1] for a in seen]
        assert "pi-ward" in seen[-1][2], seen
        # The colour and district choices and the legend come before the first ward.
        assert ids.index("pi-view") < ids.index("pi-district") < len(ids) - 1
        assert any(a[0] == "summary" and a[1].startswith("Legend") for a in seen)
        ward = seen[-1][1]
        # The focused ward has a ring (a thick stroke, not its hairline border).
        ring = json.loads(
            page.run(
                "var s = getComputedStyle(document.activeElement);"
                " JSON.stringify([s.strokeWidth, s.stroke])"
            )
        )
        assert ring[0] == "5px" and ring[1] in ("rgb(0, 0, 0)", "#000000")
        # Enter opens its popup with the focus on its name; Escape closes it and returns.
        page.key("Enter")
        page.settle(0.2)
        heading = page.run("document.activeElement.textContent")
        assert ward.startswith(heading + ", ")
        assert page.run("document.activeElement.closest('.leaflet-popup') !== null")
        page.key("Escape")
        page.settle(0.4)
        assert page.run("document.querySelector('.leaflet-popup') === null")
        assert json.loads(page.run(ACTIVE))[1] == ward
