"""One open page in tests/cdp.py's Chromium, kept open while a test works with it.

`Browser.run_on` opens a page for one expression; re-weighting, printing and downloading
need several steps on the same page (keys pressed, a PDF printed, a file saved), and to
know afterwards whether the page threw.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.cdp import Browser

#: The map has drawn and its modules have started.
MAP_READY = (
    "!!(window.placeintel && window.placeintel.exports && document.readyState === 'complete')"
)
KEYS = {"ArrowRight": 39, "ArrowLeft": 37, "Enter": 13, "Tab": 9, " ": 32}


class Tab:
    """A page: evaluate JavaScript, press keys, print it, see what it threw."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> Any:
        return self.browser.send(method, params, self.session, timeout)

    def js(self, expression: str) -> Any:
        """The value of an expression (awaited if a promise), through JSON for structures."""
        text = self.browser.evaluate(self.session, f"JSON.stringify(({expression}))")
        return None if text is None else json.loads(text)

    def wait(self, expression: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.browser.evaluate(self.session, f"!!({expression})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true after {timeout} s: {expression}")
            self.browser._pump(0.1)

    def settle(self, seconds: float = 0.3) -> None:
        """Let timers, animation frames and events the page started run."""
        self.browser._pump(seconds)

    def press(self, key: str, times: int = 1) -> None:
        """Real key presses (trusted events: a slider moves, a summary opens)."""
        for _ in range(times):
            for kind in ("keyDown", "keyUp"):
                self.send(
                    "Input.dispatchKeyEvent",
                    {
                        "type": kind,
                        "key": key,
                        "code": key if len(key) > 1 else "Space",
                        "windowsVirtualKeyCode": KEYS[key],
                        **(
                            {"text": "\r" if key == "Enter" else key}
                            if kind == "keyDown" and key in ("Enter", " ")
                            else {}
                        ),
                    },
                )
            self.settle(0.05)

    def exceptions(self) -> list[str]:
        return [
            json.dumps(e["params"]["exceptionDetails"])[:500]
            for e in self.browser._events
            if e.get("method") == "Runtime.exceptionThrown" and e.get("sessionId") == self.session
        ]


@contextmanager
def tab(
    browser: Browser,
    url: str,
    ready: str = MAP_READY,
    viewport: tuple[int, int] | None = None,
    timeout: float = 40.0,
) -> Iterator[Tab]:
    """`url` open in a fresh tab, once `ready` holds; closed afterwards."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    page = Tab(browser, session)
    try:
        for method in ("Page.enable", "Runtime.enable"):
            page.send(method)
        if viewport is not None:
            width, height = viewport
            page.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            )
        page.send("Page.navigate", {"url": url})
        page.wait(ready, timeout)
        page.settle(0.3)
        yield page
    finally:
        browser.send("Target.closeTarget", {"targetId": target})


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
