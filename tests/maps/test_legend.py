"""The legend and the layer list say what is on the map, and only that.

A layer switched off leaves the legend; one switched on joins it; a layer with nothing in
it says so ("No significant hot-spot wards at 90 % confidence") instead of showing a line
for nothing. A popup gives a ward's range of ranks across 1,000 weightings only when it
is a range.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.maps import MapContent, assemble, write_map
from placeintel.pipeline import Release
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import SIZES, Page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

LEGEND = "document.querySelector('.pi-legend-body').innerText"
LINES = "document.querySelectorAll('.pi-legend-body svg').length"
LAYERS = (
    "Array.prototype.map.call(document.querySelectorAll("
    "'.leaflet-control-layers-overlays label'), function (l) { return l.textContent.trim(); })"
    ".join('\\n')"
)


def tick(name: str) -> str:
    """Script: click the layer list's checkbox whose label starts with `name`."""
    return (
        "Array.prototype.forEach.call(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label'), function (label) {"
        f" if (label.textContent.trim().indexOf({name!r}) === 0) {{"
        " label.querySelector('input').click(); } }); 0"
    )


def popup_of(code: str) -> str:
    return (
        "placeintel.wards.eachLayer(function (l) { if (l.feature.properties.code === "
        f"{code!r}) {{ l.openPopup(); }} }});"
        # The newest popup: a closed one fades out for a moment before it leaves the page.
        "Array.prototype.slice.call(document.querySelectorAll('.leaflet-popup-content')).pop()"
        ".innerText"
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


def test_the_legend_follows_the_layers_switched_on(demo_release: Release, browser: Browser) -> None:
    with Page(browser, demo_release.map_path.as_uri(), SIZES["desktop"]) as page:
        legend = page.run(LEGEND)
        for shown in ("district boundary", "hot-spot ward", "cold-spot ward", "hot-spot LSOA"):
            assert shown in legend
        for category in ("Library", "Digital-support venue", "Tablet lending", "Free-data point"):
            assert category in legend
        assert "depends on the weights" not in legend and "Jobcentre" not in legend
        page.run(tick("Wards whose class depends on the weights"))
        assert "rank class depends on the weights" in page.run(LEGEND)
        page.run(tick("Hot- and cold-spot wards"))
        page.run(tick("Services: Library"))
        page.run(tick("District boundaries"))
        legend = page.run(LEGEND)
        assert "hot-spot ward" not in legend and "cold-spot ward" not in legend
        assert "Library" not in legend and "district boundary" not in legend
        assert "Tablet lending" in legend and "hot-spot LSOA" in legend
        page.run(tick("Services: Jobcentre"))
        assert "Jobcentre" in page.run(LEGEND)
        assert page.exceptions() == []


def test_a_rank_range_is_shown_only_when_it_is_one(demo_release: Release, browser: Browser) -> None:
    wards = demo_release.wards
    spread = wards[wards["deri_rank_low"] != wards["deri_rank_high"]].iloc[0]
    fixed = wards[wards["deri_rank_low"] == wards["deri_rank_high"]]
    with Page(browser, demo_release.map_path.as_uri(), SIZES["desktop"]) as page:
        text = page.run(popup_of(spread["ward_code"]))
        assert (
            f"Rank {spread['deri_rank_low']}\u2013{spread['deri_rank_high']} in Demo City Region"
            f" (synthetic) across 1,000 weightings" in text
        )
        for code in fixed["ward_code"]:
            assert "1,000 weightings" not in page.run(popup_of(code))


@pytest.fixture(scope="module")
def empty_layers(demo_release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A map whose hot-spot and weight-sensitivity layers have nothing in them."""
    wards, lsoas = demo_release.wards.copy(), demo_release.lsoas.copy()
    wards["hotspot"] = "not-significant"
    wards["weight_sensitive"] = False
    lsoas["hotspot"] = "not-significant"
    content = MapContent(
        wards, demo_release.services, "Demo", ["attribution"], lsoas, metadata=None
    )
    return write_map(assemble(content), tmp_path_factory.mktemp("empty") / "map.html")


def test_an_empty_layer_says_it_is_empty(empty_layers: Path, browser: Browser) -> None:
    with Page(browser, empty_layers.as_uri(), SIZES["desktop"]) as page:
        layers = page.run(LAYERS)
        page.run(tick("Wards whose class depends on the weights"))
        legend = page.run(LEGEND)
        lines = page.run(LINES)
    assert "Hot- and cold-spot wards (most residents in hot or cold LSOAs): none at 90 %" in layers
    assert "Hot-spot LSOAs (Gi*): none at 90 %" in layers
    assert "Wards whose class depends on the weights: none" in layers
    for said in (
        "No significant hot-spot wards at 90 % confidence",
        "No significant cold-spot wards at 90 % confidence",
        "No significant hot-spot LSOAs at 90 % confidence",
        "No ward's class depends on the weights",
    ):
        assert said in legend
    assert lines == 1  # the district boundary's, and no line for an empty layer
