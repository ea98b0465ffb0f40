"""The API's pages work with no internet: everything they load comes from the service.

Headless Chromium opens every kind of HTML page of the served demo release with every
request to a host other than the server failed as if the network were down (DevTools'
Fetch domain answers each one), and records every request. Only the basemap tiles of the
configured tile server may be asked for (they are decoration, as on the planners' map);
every style, script, font and image comes from the service, every one of them loads, and
the maps draw their features with the tiles gone.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from placeintel.api.serve import CONFIG
from placeintel.pipeline import Release
from tests.api.pages import Page, api_pages
from tests.cdp import CHROMIUM, Browser

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)

SERVER_HOST = "127.0.0.1"
#: The basemap's tile server (pygeoapi-config.yml `server.map.url`): its host only.
TILES = urlsplit(yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["server"]["map"]["url"])

#: What the page drew, read from the page itself.
DRAWN = """
(function () {
  function style(selector, property) {
    var node = document.querySelector(selector);
    return node ? getComputedStyle(node)[property] : null;
  }
  var items = window.placeintelItems && placeintelItems.items;
  return JSON.stringify({
    sheets: Array.from(document.styleSheets).map(function (s) { return s.href; }),
    styled: style('.site-bar', 'display'),
    layers: items ? (items.getLayers ? items.getLayers().length : 1) : 0,
    shapes: document.querySelectorAll('.leaflet-overlay-pane path').length,
    markers: document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length,
    leafletStyled: style('.leaflet-container', 'overflow')
  });
})()
"""


class OfflineBrowser(Browser):
    """Chromium whose pages reach only the server: any other request fails as a network
    error would, and every request and response is recorded."""

    def _handle(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Fetch.requestPaused":
            params = message["params"]
            address = urlsplit(params["request"]["url"])
            local = address.hostname == SERVER_HOST or address.scheme == "file"
            reply: dict[str, Any] = {"requestId": params["requestId"]}
            if not local:
                reply["errorReason"] = "InternetDisconnected"
            request = {
                "id": 0,
                "method": "Fetch.continueRequest" if local else "Fetch.failRequest",
                "params": reply,
                "sessionId": message.get("sessionId"),
            }
            os.write(self._write, json.dumps(request).encode() + b"\0")
        super()._handle(message)

    def open_offline(self, url: str, ready: str, timeout: float = 30.0) -> dict[str, Any]:
        """Open `url` offline; what it requested, how each local request was answered,
        whether it became ready, and what it drew."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self._events = []
        try:
            self.send("Network.enable", session=session)
            self.send("Network.setCacheDisabled", {"cacheDisabled": True}, session)
            self.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}, session)
            self.send("Page.enable", session=session)
            self.send("Page.navigate", {"url": url}, session)
            is_ready = self._wait(session, ready, timeout)
            self._pump(0.5)  # tiles, the JSON-LD, anything started late
            drawn = json.loads(self.evaluate(session, DRAWN))
            events = list(self._events)
        finally:
            self.send("Target.closeTarget", {"targetId": target})
        return {
            "ready": is_ready,
            "requested": [
                (e["params"]["request"]["url"], e["params"].get("resourceType"))
                for e in events
                if e.get("method") == "Fetch.requestPaused"
            ],
            "answered": {
                e["params"]["response"]["url"]: e["params"]["response"]["status"]
                for e in events
                if e.get("method") == "Network.responseReceived"
            },
            "drawn": drawn,
        }

    def _wait(self, session: str, ready: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._pump(0.2)
            if self.evaluate(session, f"!!({ready})"):
                return True
        return False


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineBrowser]:
    with OfflineBrowser(tmp_path_factory.mktemp("chromium-offline")) as chromium:
        yield chromium


def _problems(page: Page, url: str, seen: dict[str, Any]) -> list[str]:
    problems = []
    if not seen["ready"]:
        problems.append(f"never became ready ({page.ready})")
    outside = [
        (address, kind)
        for address, kind in seen["requested"]
        if urlsplit(address).hostname != SERVER_HOST
        and not (
            page.has_map
            and kind == "Image"
            and (urlsplit(address).scheme, urlsplit(address).hostname)
            == (TILES.scheme, TILES.hostname)
        )
    ]
    if outside:
        problems.append(f"asked the internet for {outside}")
    for address, status in seen["answered"].items():
        expected = page.status if address == url else 200
        if urlsplit(address).hostname == SERVER_HOST and status != expected:
            problems.append(f"{address} answered {status}")
    drawn = seen["drawn"]
    if drawn["styled"] != "flex":
        problems.append("the service's stylesheet is not applied")
    if not drawn["sheets"] or any(
        urlsplit(s).hostname != SERVER_HOST for s in drawn["sheets"] if s
    ):
        problems.append(f"stylesheets: {drawn['sheets']}")
    if page.has_map:
        if drawn["leafletStyled"] != "hidden":
            problems.append("Leaflet's stylesheet is not applied")
        if drawn["layers"] < 1 or drawn["shapes"] + drawn["markers"] < 1:
            problems.append(f"the map drew nothing: {drawn}")
    return [f"{page.path}: {p}" for p in problems]


def test_every_page_loads_only_the_services_own_files(
    server: str, demo_release: Release, browser: OfflineBrowser
) -> None:
    problems = []
    for page in api_pages(demo_release):
        url = server + page.path
        problems += _problems(page, url, browser.open_offline(url, page.ready))
    assert not problems, "\n".join(problems)


def test_the_items_map_draws_every_feature_offline(
    server: str, demo_release: Release, browser: OfflineBrowser
) -> None:
    """Each ward is a shape on the items map, and each service a marker or in a cluster,
    with the basemap unreachable."""
    wards = browser.open_offline(
        f"{server}/collections/wards/items?f=html&limit=1000", "window.placeintelItems"
    )
    assert wards["drawn"]["layers"] == len(demo_release.wards)
    assert wards["drawn"]["shapes"] == len(demo_release.wards)
    tiles = [a for a, _ in wards["requested"] if urlsplit(a).hostname == TILES.hostname]
    assert tiles, "the basemap was not even tried: the check would not see a blocked request"
    services = browser.open_offline(
        f"{server}/collections/services/items?f=html&limit=1000", "window.placeintelItems"
    )
    assert services["drawn"]["layers"] == len(demo_release.services)
    assert services["drawn"]["markers"] >= 1
    icons = [a for a in services["answered"] if "/vendor/leaflet/images/" in a]
    assert all(services["answered"][a] == 200 for a in icons)


def test_the_check_sees_a_page_that_needs_the_internet(
    server: str, browser: OfflineBrowser, tmp_path: Path
) -> None:
    """Control: a page that loads a stylesheet from a CDN is caught, and stays unstyled."""
    page = tmp_path / "cdn.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title>t</title>'
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@5/dist/css/'
        'bootstrap.min.css"></head><body><div class="site-bar">x</div></body></html>',
        encoding="utf-8",
    )
    seen = browser.open_offline(page.as_uri(), "document.readyState === 'complete'")
    assert any(urlsplit(a).hostname == "cdn.jsdelivr.net" for a, _ in seen["requested"])
    problems = _problems(Page("/cdn.html"), page.as_uri(), seen)
    assert any("asked the internet" in p for p in problems)
    assert any("stylesheet is not applied" in p for p in problems)
