"""The map in a real headless Chromium, from a local file with no network.

Checks what a planner would notice: the page draws (the screenshot is not
blank), no JavaScript error is logged, a ward's popup shows its numbers, and
hostile names show as text instead of running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from placeintel.maps import write_map
from placeintel.maps.risk_map import build_map
from placeintel.pipeline import Release
from tests.cdp import CHROMIUM, FLAGS

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


def browser_environment() -> dict[str, str]:
    """This process's environment without the OpenMP (KMP_*) settings a geo library sets
    on import: Chromium started with KMP_INIT_AT_FORK=FALSE hangs in headless mode."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KMP_")}


def chromium(page: Path, folder: Path, *action: str) -> str:
    """Run Chromium on a page; return its log (console messages included)."""
    log = folder / f"chromium-{len(list(folder.glob('chromium-*')))}.log"
    # Log to a file, not a pipe: Chromium's helper processes inherit the pipe and hold
    # it open after the browser exits, which would block the test.
    with log.open("w") as sink:
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={folder / 'profile'}",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,860",
                "--virtual-time-budget=5000",
                *action,
                page.as_uri(),
            ],
            stdout=sink,
            stderr=sink,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
            env=browser_environment(),
        )
    return log.read_text(errors="replace")


def dom_after(page: Path, folder: Path, script: str) -> str:
    """The page's DOM after running `script` once the map is ready (via --dump-dom)."""
    copy = folder / f"{page.stem}-probe.html"
    if page.parent != folder:  # the page loads Leaflet from assets/ beside it
        shutil.copytree(page.parent / "assets", folder / "assets", dirs_exist_ok=True)
    html = page.read_text(encoding="utf-8")
    copy.write_text(
        html.replace("</html>", f"<script>setTimeout(function(){{{script}}}, 50);</script></html>"),
        encoding="utf-8",
    )
    dom = folder / "dom.html"
    with dom.open("w") as sink:
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={folder / 'profile2'}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                copy.as_uri(),
            ],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
            env=browser_environment(),
        )
    return dom.read_text(errors="replace")


def errors_in(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
    ]


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_map_draws_without_errors(demo_release: Release, tmp_path: Path) -> None:
    screenshot = tmp_path / "map.png"
    log = chromium(demo_release.map_path, tmp_path, f"--screenshot={screenshot}")
    assert screenshot.is_file(), log[-2000:]
    with rasterio.open(screenshot) as image:
        pixels = image.read().astype(float)
    # A blank page (Leaflet failed to load) is one flat colour; a map has many.
    assert pixels.std() > 20
    assert len(np.unique(pixels.reshape(pixels.shape[0], -1), axis=1)[0]) > 50
    assert errors_in(log) == []


def test_a_wards_popup_shows_its_numbers(demo_release: Release, tmp_path: Path) -> None:
    ward = demo_release.wards.sort_values("deri_rank").iloc[0]
    dom = dom_after(
        demo_release.map_path,
        tmp_path,
        "placeintel.wards.eachLayer(function(l){if(l.feature.properties.code==="
        f"'{ward['ward_code']}'){{l.openPopup();}}}});",
    )
    popup = dom[dom.find("leaflet-popup-content") :]
    assert ward["ward_name"] in popup
    assert f"DERI {ward['deri_score']:.2f}" in popup and "rank 1 of 40" in popup
    assert "Nearest digital-support services" in popup and "% aged 65+" in popup


def test_hostile_names_render_as_text(demo_release: Release, tmp_path: Path) -> None:
    wards = demo_release.wards.copy()
    target = wards["ward_code"].iloc[0]
    wards.loc[wards.index[0], "ward_name"] = "<img src=x onerror=\"document.title='pwned'\">"
    page = write_map(
        build_map(wards, demo_release.services, "Test", "attribution"), tmp_path / "hostile.html"
    )
    dom = dom_after(
        page,
        tmp_path,
        f"placeintel.wards.eachLayer(function(l){{if(l.feature.properties.code==="
        f"'{target}'){{l.openPopup();}}}});",
    )
    assert "<title>pwned</title>" not in dom
    assert "&lt;img src=x onerror=" in dom  # shown to the reader as text
    assert '<img src="x"' not in dom


def _clear_point(area: BaseGeometry, services: gpd.GeoDataFrame) -> tuple[float, float]:
    """(lat, lon) of a point well inside `area` and away from every service marker.

    The area's centre can sit under a service's marker, and a click there rightly opens
    the service's popup; whether the marker is drawn yet when the click lands depends on
    the machine's load, which made this test flaky. Both are in British National Grid
    metres; at zoom 14 a pixel is ~6 m here, so 200 m keeps clear of a marker.
    """
    points = shapely.MultiPoint(shapely.get_coordinates(services.geometry.values))
    clear = area.difference(points.buffer(200))
    parts = list(getattr(clear, "geoms", [clear]))
    assert parts and not clear.is_empty, "every point of the area is under a marker"
    inside = polylabel(max(parts, key=lambda part: part.area), tolerance=1)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(inside.x, inside.y)
    return lat, lon


def _click_at(at: tuple[float, float]) -> str:
    """Script: click, as a pointer would, at `at` (lat, lon): whatever element is on top
    there receives the click, as in a real browser.

    The click waits a second after the zoom, as a person would: the service markers come
    in chunks and glide out of their clusters after a zoom, and one passing over the point
    would take the click (the page runs on Chromium's virtual clock, so the wait is free).
    """
    return (
        # Centre the map on it, with the legend folded, so no control covers the point.
        "document.querySelectorAll('.pi-legend').forEach(function (d) { d.open = false; });"
        f"var at = L.latLng({at[0]!r}, {at[1]!r});"
        "placeintel.map.setView(at, 14, {animate: false});"
        "setTimeout(function () {"
        "var p = placeintel.map.latLngToContainerPoint(at);"
        "var box = placeintel.map.getContainer().getBoundingClientRect();"
        "var x = box.left + p.x, y = box.top + p.y;"
        "var under = document.elementFromPoint(x, y);"
        "['mousedown', 'mouseup', 'click'].forEach(function (kind) {"
        "under.dispatchEvent(new MouseEvent(kind, {bubbles: true, clientX: x, clientY: y}));});"
        "}, 1000);"
    )


@pytest.mark.parametrize("canvas", [False, True], ids=["svg", "canvas"])
def test_a_planner_clicks_a_ward_then_switches_to_lsoas(
    demo_release: Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canvas: bool
) -> None:
    """Through the layer list and the pointer, as a planner works: large maps draw on canvas,
    where a pane on top catches every click unless it lets the pointer through."""
    from placeintel.maps import risk_map

    monkeypatch.setattr(risk_map, "CANVAS_FROM", 0 if canvas else 10_000)
    release = demo_release
    page = write_map(
        build_map(
            release.wards,
            release.services,
            "Demo",
            "attribution",
            None,
            "quantiles",
            release.lsoas,
            release.metadata.get("labels"),
            (40, 160),
        ),
        tmp_path / "map.html",
    )
    ward = release.wards.sort_values("deri_rank").iloc[0]
    at = _clear_point(ward.geometry, release.services)
    dom = dom_after(page, tmp_path, _click_at(at))
    popup = dom[dom.find("leaflet-popup-content") :]
    assert ward["ward_name"] in popup and "rank 1 of 40 wards" in popup
    lsoa = release.lsoas.sort_values("deri_rank").iloc[0]
    tick = (
        "var labels = document.querySelectorAll('.leaflet-control-layers-overlays label');"
        "labels.forEach(function (label) { if (label.textContent.indexOf('Small areas') >= 0)"
        " { label.querySelector('input').click(); } });"
    )
    at = _clear_point(lsoa.geometry, release.services)
    dom = dom_after(page, tmp_path, tick + _click_at(at))
    popup = dom[dom.find("leaflet-popup-content") :]
    assert lsoa["lsoa21_name"] in popup and f"{lsoa['ward_name']} ward" in popup
    assert "rank 1 of 160 LSOAs" in popup and f"DERI {lsoa['deri_score']:.2f}" in popup
    assert "quintiles of the 160 LSOAs" in dom  # the legend follows the layer shown
