"""One map page kept open in headless Chromium at a given screen size, driven like a person.

`tests/cdp.py`'s Browser opens a page per question; layout, re-weighting, printing and
downloading need one page for a sequence of steps (type in the search, press Enter, move a
slider, measure, print, take a screenshot), with real key presses so that focus and Tab
order are the browser's own, and to know afterwards whether the page threw.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.axe import _RUN, AXE_JS, BLOCKING
from tests.cdp import Browser

SIZES = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1366, 768)}
#: The map has drawn and its modules have started.
MAP_READY = (
    "!!(window.placeintel && window.placeintel.exports && document.readyState === 'complete')"
)
KEYS = {  # key: (code, key code, text typed)
    "Tab": ("Tab", 9, ""),
    "Enter": ("Enter", 13, "\r"),
    "Escape": ("Escape", 27, ""),
    "ArrowDown": ("ArrowDown", 40, ""),
    "ArrowUp": ("ArrowUp", 38, ""),
    "ArrowRight": ("ArrowRight", 39, ""),
    "ArrowLeft": ("ArrowLeft", 37, ""),
    " ": ("Space", 32, " "),
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
    """A page open in a tab of `browser` (at `size`, width and height, if given) until closed."""

    def __init__(
        self,
        browser: Browser,
        url: str,
        size: tuple[int, int] | None = None,
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
        if size is not None:
            width, height = size
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            )
        # A background tab has no focus: without this, focus rings and focus events differ
        # from what a person at the screen gets.
        self.send("Emulation.setFocusEmulationEnabled", {"enabled": True})
        self.send("Page.navigate", {"url": url})
        try:
            self.wait(f"({ready}) && document.readyState === 'complete'", timeout)
        except TimeoutError:
            self.close()
            raise TimeoutError(f"{url}: not ready after {timeout} s") from None
        self.settle()

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> Any:
        return self.browser.send(method, params, self.session, timeout)

    def run(self, expression: str) -> Any:
        return self.browser.evaluate(self.session, expression)

    def js(self, expression: str) -> Any:
        """The value of an expression (awaited if a promise), through JSON for structures."""
        text = self.run(f"JSON.stringify(({expression}))")
        return None if text is None else json.loads(text)

    def wait(self, expression: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.run(f"!!({expression})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true after {timeout} s: {expression}")
            self.browser._pump(0.1)

    def settle(self, seconds: float = 0.3) -> None:
        """Let timers, animation frames and events the page started run."""
        self.browser._pump(seconds)

    def key(self, name: str, times: int = 1, pause: float = 0.15) -> None:
        """Real key presses (trusted events: focus moves, a slider moves, a summary opens)."""
        code, number, text = KEYS[name]
        for _ in range(times):
            for kind in ("keyDown", "keyUp"):
                params = {"type": kind, "key": name, "code": code, "windowsVirtualKeyCode": number}
                if kind == "keyDown" and text:
                    params["text"] = text
                self.send("Input.dispatchKeyEvent", params)
            self.settle(pause)

    def press(self, name: str, times: int = 1) -> None:
        """`key` with a short pause, for many presses in a row (a slider's steps)."""
        self.key(name, times, pause=0.05)

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


@contextmanager
def tab(
    browser: Browser,
    url: str,
    ready: str = MAP_READY,
    viewport: tuple[int, int] | None = None,
    timeout: float = 40.0,
) -> Iterator[Page]:
    """`url` open in a fresh tab once `ready` holds (by default: the map and its modules
    have started); closed afterwards."""
    with Page(browser, url, viewport, ready, timeout) as page:
        yield page


def downloads_to(browser: Browser, folder: Path) -> None:
    """Save every download of this browser into `folder`, without asking."""
    folder.mkdir(parents=True, exist_ok=True)
    browser.send(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(folder), "eventsEnabled": True},
    )


def downloaded(folder: Path, suffix: str, timeout: float = 20.0) -> Path:
    """The finished download with this suffix in `folder`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise TimeoutError(f"no {suffix} download in {folder} after {timeout} s")
