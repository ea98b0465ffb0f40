"""No script from the data runs on any page the service serves, in a real browser.

The demo region is copied and every kind of text a council supplies (ward, district
and LSOA names, service names and addresses, the region's title, description,
publisher and contact, a source's attribution, and its council datasets' titles,
descriptions, keywords and cells) is given script payloads, then built by the
real build and served by `placeintel serve`. Headless Chromium opens every HTML page
twice:

- with the Content-Security-Policy switched off, so only the escaping stands between
  the payloads and the page: nothing may run;
- as served, with the policy on: nothing may run, and the policy must report no
  violation at all (a blocked payload is still an escaping failure, and a blocked
  asset of our own is a broken page).

Popups and tooltips of every layer are rendered too, since the maps build them from
the data on demand. A control test shows the check fails on pygeoapi's own templates.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import yaml

from placeintel import build
from placeintel.api.serve import runtime_config
from placeintel.pipeline import Release
from placeintel.region import DATASETS_DIR
from tests.cdp import CHROMIUM, Browser, Visit
from tests.conftest import running_server

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)

#: Each payload sets window.__pwned if it runs: breaking out of a <script> (and of a
#: <title>), out of an attribute, out of a JavaScript string, and line separators that
#: end a string in older JavaScript. `&amp;` checks that text is not decoded twice.
HOSTILE = (
    "</title></script><script>window.__pwned='script'</script>"
    '"><img src=x onerror="window.__pwned=\'attribute\'">'
    "';window.__pwned='string';//\u2028\u2029&amp;"
)
#: Exact cell values given the payload, wherever they occur (boundaries, lookups,
#: official tables, services): the build then sees consistent hostile names.
RENAMED = {
    "Abbey Fields": "Abbey Fields",  # ward E05990001
    "Ashworth": "Ashworth",
    "Northmoor": "Northmoor",  # district E08000991
    "Riverside": "Riverside",  # district E08000992
    "Northmoor 001A": "Northmoor 001A",  # LSOA E01990149
    "Birchfield Library": "Birchfield Library",
    "131 Albert Street, Birchfield, Northmoor": "131 Albert Street",
    "Dale End Tablet Lending": "Dale End Tablet Lending",
}
#: The payload first: the API's tables shorten long values, and must still show it.
HOSTILE_NAMES = {old: f"{HOSTILE} {new}" for old, new in RENAMED.items()}
SHOWN = "</script><script>window"  # how a payload reads when shown as text

MAP_READY = "window.placeintel && placeintel.wards.getLayers().length > 0"
API_MAP_READY = "window.placeintelItems && placeintelItems.map"
#: Renders every popup and tooltip of every layer, as opening them would (a string
#: content is parsed as HTML, which is what Leaflet does with a string).
EVERY_POPUP = """
(function () {
  var page = window.placeintel || window.placeintelItems, shown = 0;
  function show(content, layer) {
    var node = typeof content === 'function' ? content(layer) : content;
    var box = document.createElement('div');
    if (typeof node === 'string') { box.innerHTML = node; }
    else if (node && node.nodeType) { box.appendChild(node); }
    document.body.appendChild(box);
    shown += 1;
  }
  function visit(layer) {
    if (layer.eachLayer) { layer.eachLayer(visit); }
    ['getPopup', 'getTooltip'].forEach(function (get) {
      var overlay = layer[get] && layer[get]();
      if (overlay && overlay._content) { show(overlay._content, layer); }
    });
    if (layer instanceof L.DivOverlay && layer._content) { show(layer._content, layer); }
  }
  page.map.eachLayer(visit);
  if (page.lsoas) { visit(page.lsoas); }
  return shown;
})()
"""


def _rename_everywhere(region: Path) -> None:
    for path in region.rglob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            table = [[HOSTILE_NAMES.get(cell, cell) for cell in row] for row in csv.reader(handle)]
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\r\n").writerows(table)
    for path in region.rglob("*.geojson"):
        document = json.loads(path.read_text(encoding="utf-8"))
        for feature in document["features"]:
            feature["properties"] = {
                k: HOSTILE_NAMES.get(v, v) if isinstance(v, str) else v
                for k, v in feature["properties"].items()
            }
        path.write_text(json.dumps(document), encoding="utf-8")
    for path in [*region.rglob("*.gpkg"), *region.rglob("*.shp")]:
        frame = gpd.read_file(path)
        for column in frame.columns.drop("geometry"):
            frame[column] = frame[column].map(
                lambda v: HOSTILE_NAMES.get(v, v) if isinstance(v, str) else v
            )
        frame.to_file(path, driver="GPKG" if path.suffix == ".gpkg" else "ESRI Shapefile")
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    for key in ("title", "description", "publisher"):
        manifest[key] = f"{manifest[key]} {HOSTILE}"
    manifest["contact"]["name"] = f"{manifest['contact']['name']} {HOSTILE}"
    manifest["sources"][0]["attribution"] = f"{HOSTILE} {manifest['sources'][0]['attribution']}"
    for dataset in manifest["datasets"]:
        for key in ("title", "description", "attribution"):
            dataset[key] = f"{HOSTILE} {dataset[key]}"
        dataset["keywords"] = [
            *dataset["keywords"],
            "</script><script>window.__pwned='keyword'</script>",
        ]
    (region / "region.yml").write_text(
        yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Release]:
    """The demo region with payloads in every text field, through the real build."""
    folder = tmp_path_factory.mktemp("hostile")
    region = folder / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    _rename_everywhere(region)
    release = build(region, releases=folder / "releases", echo=lambda line: None)
    assert (release.wards["ward_name"] == HOSTILE_NAMES["Abbey Fields"]).any()
    return folder / "releases", release


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(tmp_path_factory.mktemp("chromium")) as chromium:
        yield chromium


def _pages(release: Release) -> list[tuple[str, str | None, bool]]:
    """(path, readiness check, whether the payload must be shown as text) for every page."""
    service = release.services.set_index("name").loc[HOSTILE_NAMES["Birchfield Library"]]
    pages: list[tuple[str, str | None, bool]] = [
        ("/?f=html", None, True),  # the region's title, publisher and contact
        ("/collections?f=html", None, False),
        ("/conformance?f=html", None, False),
        ("/openapi?f=html", None, False),
        ("/openapi?f=html&ui=redoc", None, False),
        ("/release/", None, True),  # the region's title
        ("/release/method.md?f=html", None, False),
        # Not found, with the payload as the id: pygeoapi's error page.
        (f"/collections/wards/items/{quote(HOSTILE, safe='')}?f=html", None, False),
    ]
    for name in ("wards", "lsoas", "services", "broadband", "deprivation"):
        shown = name in {"wards", "lsoas", "services", "deprivation"}
        pages += [
            (f"/collections/{name}?f=html", API_MAP_READY, False),
            (f"/collections/{name}/items?f=html&limit=1000", API_MAP_READY, shown),
            (f"/collections/{name}/queryables?f=html", None, False),
            (f"/collections/{name}/schema?f=html", None, False),
        ]
    pages += [
        ("/collections/wards/items/E05990001?f=html", API_MAP_READY, True),
        ("/collections/lsoas/items/E01990149?f=html", API_MAP_READY, True),
        (f"/collections/services/items/{service['service_id']}?f=html", API_MAP_READY, True),
        ("/map/", MAP_READY, True),
    ]
    # The council datasets: their titles and descriptions, and a warm space's ward name.
    pages += [
        ("/collections/warm-spaces?f=html", API_MAP_READY, True),
        ("/collections/warm-spaces/items?f=html&limit=1000", API_MAP_READY, True),
        ("/collections/warm-spaces/items/WS001?f=html", API_MAP_READY, True),
        ("/collections/warm-spaces/queryables?f=html", None, False),
        ("/collections/grants?f=html", None, True),
        ("/collections/grants/items?f=html&limit=1000", None, True),
        ("/collections/grants/items/GR-2024-001?f=html", None, False),
        ("/collections/grants/schema?f=html", None, False),
    ]
    pages += [
        (f"/map/map-{code}.html", MAP_READY, True)
        for code in sorted(set(release.wards["lad_code"]))
    ]
    return pages


def _check(visit: Visit, ready: str | None, shown: bool, policy_on: bool) -> list[str]:
    problems = []
    if visit.pwned is not None:
        problems.append(f"a payload ran ({visit.pwned})")
    if visit.dialogs:
        problems.append(f"dialogs opened: {visit.dialogs}")
    if visit.exceptions:
        problems.append(f"uncaught exceptions: {visit.exceptions}")
    if policy_on and visit.violations:
        problems.append(f"Content-Security-Policy violations: {visit.violations}")
    if ready and not visit.ready:
        problems.append(f"never became ready ({ready})")
    if shown and SHOWN not in visit.text:
        problems.append("the hostile name is not shown as text")
    return [f"{visit.url}: {p}" for p in problems]


@pytest.mark.parametrize("policy_on", [False, True], ids=["escaping-alone", "as-served"])
def test_no_payload_runs_on_any_page(
    hostile: tuple[Path, Release], browser: Browser, policy_on: bool
) -> None:
    releases, release = hostile
    problems = []
    with running_server(releases) as url:
        for path, ready, shown in _pages(release):
            visit = browser.visit(
                url + path,
                ready or "document.readyState === 'complete'",
                EVERY_POPUP if ready else None,
                bypass_csp=not policy_on,
            )
            problems += _check(visit, ready, shown, policy_on)
    assert not problems, "\n".join(problems)


def test_the_check_catches_pygeoapis_own_templates(
    hostile: tuple[Path, Release], browser: Browser, tmp_path: Path
) -> None:
    """pygeoapi 0.21's items page writes features into a <script> unescaped: the same
    check must see the ward name run there, and the policy report it when on."""
    import pygeoapi

    releases, release = hostile
    settings = yaml.safe_load(runtime_config(release.path))
    settings["server"]["templates"] = {"path": str(Path(pygeoapi.__file__).parent / "templates")}
    config = tmp_path / "stock-templates.yml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    page = "/collections/wards/items?f=html&limit=1000"
    with running_server(releases, "--config", str(config)) as url:
        escaping_alone = browser.visit(url + page, bypass_csp=True)
        as_served = browser.visit(url + page)
    assert escaping_alone.pwned == "script"
    assert as_served.pwned is None and any("script-src" in v for v in as_served.violations)
