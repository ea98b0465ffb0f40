"""One map page kept open in headless Chromium at a given screen size, driven like a person.

`tests/cdp.py`'s Browser opens a page per question; a layout test needs one page for a
sequence of steps (type in the search, press Enter, expand a section, measure, take a
screenshot), with real key presses so that focus and Tab order are the browser's own.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from tests.axe import _RUN, AXE_JS, BLOCKING
from tests.cdp import Browser

SIZES = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1366, 768)}
KEYS = {
    "Tab": ("Tab", 9, ""),
    "Enter": ("Enter", 13, "\r"),
    "Escape": ("Escape", 27, ""),
    "ArrowDown": ("ArrowDown", 40, ""),
    "ArrowUp": ("ArrowUp", 38, ""),
}
#: Measures, in the page, the boxes a layout test compares (CSS pixels, viewport origin).
BOXES = """
(function () {
  function box(n) {
    if (!n) { return null; }
    var r = n.getBoundingClientRect();
    if (!r.width && !r.height) { return null; }
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  }
  var popup = Array.prototype.slice.call(document.querySelectorAll('.leaflet-popup')).pop();
  var map = placeintel.map.getContainer();
  return JSON.stringify({
    viewport: {width: innerWidth, height: innerHeight},
    map: box(map),
    header: box(document.getElementById('pi-title')),
    popup: box(popup),
    heading: popup ? box(popup.querySelector('h2')) : null,
    controls: Array.prototype.map.call(map.querySelectorAll('.leaflet-control'), function (n) {
      return {name: n.className.split(' ')[0], box: box(n)};
    }).filter(function (c) { return c.box; }),
    legendOpen: document.querySelector('.pi-legend').open,
    legend: box(document.querySelector('.pi-legend')),
    legendBody: (function (b) { return {scroll: b.scrollHeight, client: b.clientHeight}; })(
      document.querySelector('.pi-legend-body')),
    services: Array.prototype.map.call(document.querySelectorAll('.leaflet-marker-icon'),
      function (n) { return box(n.firstElementChild || n); }).filter(Boolean)
  });
})()
"""


def inside(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (
        inner["left"] >= outer["left"] - slack
        and inner["top"] >= outer["top"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def overlap(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


class Page:
    """A map page open in a tab of `browser` at `size` (width, height) until closed."""

    def __init__(
        self,
        browser: Browser,
        url: str,
        size: tuple[int, int],
        ready: str = "!!window.placeintel",
        timeout: float = 30.0,
    ) -> None:
        self.browser = browser
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send(
            "Target.attachToTarget", {"targetId": self.target, "flatten": True}
        )["sessionId"]
        browser._events = []
        for method in ("Page.enable", "Runtime.enable"):
            self.send(method)
        width, height = size
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        # A background tab has no focus: without this, focus rings and focus events differ
        # from what a person at the screen gets.
        self.send("Emulation.setFocusEmulationEnabled", {"enabled": True})
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not self.run(f"!!({ready}) && document.readyState === 'complete'"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: not ready after {timeout} s")
            browser._pump(0.2)
        self.settle()

    def send(self, method: str, params: dict | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def run(self, expression: str) -> Any:
        return self.browser.evaluate(self.session, expression)

    def settle(self, seconds: float = 0.3) -> None:
        self.browser._pump(seconds)

    def key(self, name: str, times: int = 1) -> None:
        key, code, text = KEYS[name]
        for _ in range(times):
            for kind in ("keyDown", "keyUp"):
                params = {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}
                if kind == "keyDown" and text:
                    params["text"] = text
                self.send("Input.dispatchKeyEvent", params)
        self.settle(0.15)

    def type(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})
        self.settle(0.15)

    def boxes(self) -> dict[str, Any]:
        return json.loads(self.run(BOXES))

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's critical and serious violations on the page as it is now."""
        self.run(AXE_JS.read_text(encoding="utf-8"))
        found = json.loads(self.run(_RUN))
        return [v for v in found if v["impact"] in BLOCKING]

    def exceptions(self) -> list[str]:
        return [
            json.dumps(e["params"]["exceptionDetails"])[:500]
            for e in self.browser._events
            if e.get("method") == "Runtime.exceptionThrown" and e.get("sessionId") == self.session
        ]

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
