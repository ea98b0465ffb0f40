"""Print and export from the map, as a planner does it in Chromium.

Printing goes through Chromium's own print-to-PDF (A4 landscape) and the PDF's text is
read back; the PNG and CSV buttons are clicked and the files Chromium saves are read.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from placeintel import Release
from placeintel.index.deri import IndexSettings
from placeintel.maps import MapContent, assemble, write_map
from placeintel.maps.style import NO_DATA, PAGE, RISK_PALETTE
from tests.cdp import CHROMIUM, Browser
from tests.maps.page import Page, downloaded, downloads_to, tab

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

#: Words of the on-screen controls that must not be printed.
CONTROLS = (
    "Colour the map by",
    "Find a ward",
    "Wards coloured by the chosen measure",  # the layer list
    "Services: Library",
    "Weights:",
    "Print or export",
    "Reset to published weights",
    "Zoom in",
    "\u2212",  # the zoom-out button
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with Browser(tmp_path_factory.mktemp("chromium-export")) as chromium:
        yield chromium


def click(page: Page, label: str) -> None:
    """Open the export panel and click the button with this label, as a person would."""
    page.js("document.querySelector('.pi-export').open = true")
    page.js(
        "Array.from(document.querySelectorAll('.pi-export button'))"
        f".filter(function (b) {{ return b.textContent === {label!r}; }})[0].click()"
    )


def printed_text(page: Page) -> tuple[pypdf.PdfReader, str]:
    pdf = page.send(
        "Page.printToPDF",
        {"landscape": True, "preferCSSPageSize": True, "printBackground": True},
        timeout=120,
    )
    reader = pypdf.PdfReader(io.BytesIO(base64.b64decode(pdf["data"])))
    return reader, "\n".join(p.extract_text() for p in reader.pages)


def test_printing_gives_one_clean_a4_landscape_sheet(
    demo_release: Release, browser: Browser
) -> None:
    url = demo_release.map_path.as_uri() + "#weights=demography:10,imd_score:0"
    with tab(browser, url) as page:
        page.js("document.querySelector('.pi-weights').open = true")  # opened on screen
        reader, text = printed_text(page)
        assert page.exceptions() == []
        # After printing, the screen is as it was: no print layout left behind.
        assert page.js("document.documentElement.classList.contains('pi-printing')") is False
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4, landscape
    flat = re.sub(r"\s+", " ", text)
    assert demo_release.title in flat
    assert "DERI score (your weights), quintiles of the 40 wards of " in flat
    assert "Your weights: demography 10, broadband 3, deprivation 3, access 0" in flat
    assert re.search(r"Release of \d{1,2} \w+ 20\d\d", flat)
    assert re.search(r"Printed \d{1,2} \w+ 20\d\d", flat)
    assert re.search(r"Scale about 1:[\d,]+", flat) and re.search(
        r"(?<![\d,.])\d+ (km|m)(?![a-z])", flat
    )
    assert "Source:" in flat and "OpenStreetMap contributors" in flat
    assert "Contains OS data" in flat  # the release's own attribution
    assert "no data" in flat  # the legend
    # Outlines as the screen's legend lists them: the layers on the map, not those off.
    assert "Outlines: district boundary" in flat and "hot-spot LSOA" in flat
    assert "depends on the weights" not in flat
    for control in CONTROLS:
        assert control not in text, control


def expected_fill(colour: str, opacity: float) -> np.ndarray:
    """A class colour as the canvas blends it over the page's background."""

    def rgb(hex_colour: str) -> np.ndarray:
        return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)

    return opacity * rgb(colour) + (1 - opacity) * rgb(PAGE["background"])


def test_the_png_button_saves_the_view_with_its_colours(
    demo_release: Release, browser: Browser, tmp_path: Path
) -> None:
    downloads_to(browser, tmp_path)
    with tab(browser, demo_release.map_path.as_uri()) as page:
        size = page.js("placeintel.map.getSize()")
        classes = page.js(
            "placeintel.data.wards.features.map(function (f) { return f.properties.classes[0]; })"
        )
        click(page, "Download the view as PNG")
        saved = downloaded(tmp_path, ".png")
        assert page.exceptions() == []
    image = Image.open(saved).convert("RGB")
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.width == size["x"] and image.height > size["y"] + 100  # map, title, legend
    pixels = np.asarray(image, dtype=float).reshape(-1, 3)
    for k in sorted(set(classes)):
        colour = RISK_PALETTE[k] if k >= 0 else NO_DATA
        near = np.abs(pixels - expected_fill(colour, 0.75)).max(axis=1) <= 3
        assert near.sum() > 500, f"class {k} ({colour}) is not drawn"
    # The title band: dark text on white.
    top = np.asarray(image.crop((0, 0, image.width, 30)), dtype=float)
    assert (top.max(axis=2) < 80).sum() > 200


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_csv_button_saves_the_wards_in_view_with_their_weights(
    demo_release: Release, browser: Browser, tmp_path: Path
) -> None:
    downloads_to(browser, tmp_path / "all")
    url = demo_release.map_path.as_uri() + "#weights=deprivation:6,pct_unemployed:0"
    with tab(browser, url) as page:
        table = {r["code"]: r for r in page.js("placeintel.weights.table('ward')")}
        click(page, "Download the areas in view as CSV")
        rows = rows_of(downloaded(tmp_path / "all", ".csv"))
        assert {r["ward_code"] for r in rows} == set(table)  # the whole region is in view
        for row in rows:
            ours = table[row["ward_code"]]
            assert float(row["deri_score"]) == ours["scores"]["deri_score"]
            assert int(row["deri_rank"]) == ours["rank"] and row["ranked_areas"] == "40"
            assert int(row["deri_class"]) == ours["classes"]["deri_score"] + 1
            assert row["weights"] == "custom"
            assert (row["weight_deprivation"], row["weight_pct_unemployed"]) == ("6", "0")
            assert (row["weight_demography"], row["weight_imd_score"]) == ("3", "2")
        # Zoomed in on one ward: only the wards touching the view.
        code = rows[0]["ward_code"]
        page.js(
            "(function () { var target; placeintel.wards.eachLayer(function (l) {"
            f" if (l.feature.properties.code === '{code}') {{ target = l; }} }});"
            " placeintel.map.setView(target.getCenter(), 15, {animate: false}); }())"
        )
        page.settle(0.3)
        downloads_to(browser, tmp_path / "zoomed")
        click(page, "Download the areas in view as CSV")
        zoomed = rows_of(downloaded(tmp_path / "zoomed", ".csv"))
        assert code in {r["ward_code"] for r in zoomed} and len(zoomed) < len(rows)
        assert page.exceptions() == []


def test_csv_cells_a_spreadsheet_would_run_are_text(
    demo_release: Release, browser: Browser, tmp_path: Path
) -> None:
    wards = demo_release.wards.copy()
    hostile = [
        '=HYPERLINK("http://x.example","y")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        '"quoted", and\nnew',
    ]
    for n, name in enumerate(hostile):
        wards.loc[wards.index[n], "ward_name"] = name
    content = MapContent(
        wards,
        demo_release.services,
        "Demo",
        ["Source"],
        index=IndexSettings(),
        version="20261122T1",
    )
    page_path = write_map(assemble(content), tmp_path / "map.html")
    with tab(browser, page_path.as_uri()) as page:
        text = page.js("placeintel.exports.csv()")
        assert page.exceptions() == []
    names = {r["ward_code"]: r["ward_name"] for r in csv.DictReader(io.StringIO(text))}
    shown = [names[wards["ward_code"].iloc[n]] for n in range(len(hostile))]
    assert shown == ["'" + name for name in hostile[:4]] + [hostile[4]]
    assert all(not r["deri_score"].startswith("'") for r in csv.DictReader(io.StringIO(text)))


def test_with_a_district_chosen_exports_rank_and_class_within_it(
    demo_release: Release, browser: Browser
) -> None:
    """The map then ranks and classes within the district: the CSV and the printed legend
    say the same, and leave out the uncoloured wards of the other districts."""
    wards = demo_release.wards
    code, name = wards.groupby("lad_code")["lad_name"].first().items().__next__()
    own = wards[wards["lad_code"] == code]
    expected = own.set_index("ward_code")["deri_score"].rank(ascending=False, method="min")
    with tab(browser, demo_release.map_path.as_uri() + f"?district={code}") as page:
        text = page.js("placeintel.exports.csv()")
        _, printed = printed_text(page)
        assert page.exceptions() == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["ward_code"] for r in rows} <= set(own["ward_code"]) and rows
    for row in rows:
        assert int(row["district_rank"]) == expected[row["ward_code"]]
        assert row["district_ranked_areas"] == str(len(own))
        assert row["ranked_areas"] == str(len(wards))  # the region's rank is kept beside it
    classes = {int(r["district_class"]) for r in rows}
    assert classes == {1, 2, 3, 4, 5} or len(rows) < len(own)
    assert f"quintiles of the {len(own)} wards of {name}" in re.sub(r"\s+", " ", printed)


PRINTED_BOXES = """(function () {
  function box(n) { var r = n.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, height: r.height, width: r.width,
            shown: getComputedStyle(n).display !== 'none'}; }
  return {map: box(placeintel.map.getContainer()),
          head: box(document.querySelector('.pi-print-head')),
          foot: box(document.querySelector('.pi-print-foot')),
          header: box(document.getElementById('pi-title'))};
}())"""


@pytest.mark.parametrize("district", [False, True])
def test_on_paper_the_map_is_full_size_between_its_title_and_legend(
    demo_release: Release, browser: Browser, district: bool
) -> None:
    """Laid out as the print stylesheet lays it out (A4 landscape: a 281 x 130 mm map),
    the sheet's title sits above the map and its legend and source below, none covered."""
    code, name = next(iter(demo_release.wards.groupby("lad_code")["lad_name"].first().items()))
    url = demo_release.map_path.as_uri() + (f"?district={code}" if district else "")
    mm = 96 / 25.4  # CSS pixels per millimetre
    with tab(browser, url) as page:
        # The paper's width inside its margins, so text wraps as it will on the sheet.
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": round(281 * mm),
                "height": round(194 * mm),
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        page.send("Emulation.setEmulatedMedia", {"media": "print"})
        page.js("placeintel.exports.beforePrint()")
        page.settle(0.3)
        boxes = page.js(PRINTED_BOXES)
        title = page.js("document.querySelector('.pi-print-title').textContent")
        page.js("placeintel.exports.afterPrint()")
        page.send("Emulation.setEmulatedMedia", {"media": ""})
        assert page.exceptions() == []
    assert abs(boxes["map"]["height"] - 130 * mm) < 2 and abs(boxes["map"]["width"] - 281 * mm) < 2
    assert boxes["head"]["shown"] and boxes["foot"]["shown"] and not boxes["header"]["shown"]
    assert boxes["head"]["bottom"] <= boxes["map"]["top"] + 1
    assert boxes["foot"]["top"] >= boxes["map"]["bottom"] - 1 and boxes["foot"]["height"] > 20
    assert boxes["foot"]["bottom"] - boxes["head"]["top"] <= 194 * mm  # one A4 page inside margins
    assert title == (f"{demo_release.title}: {name}" if district else demo_release.title)
