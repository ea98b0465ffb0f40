"""Headless Chromium driven through the DevTools protocol, to see what a page really runs.

The protocol is spoken over `--remote-debugging-pipe` (JSON messages ending in a NUL
byte on file descriptors 3 and 4), which needs nothing but the standard library; the
usual websocket transport would need a websocket client the project does not otherwise
use. Each page load records, from inside the page, every Content-Security-Policy
violation, every uncaught exception and every dialog, so a test can tell "nothing ran
that should not have" from "nothing was checked".
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BASH = shutil.which("bash") or "/bin/bash"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WINDOW = "--window-size=1280,860"
#: Runs before any script of the page (DevTools scripts are not subject to its CSP).
RECORDER = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') +
                           (e.sample ? ': ' + e.sample : ''));
});
"""


def _environment() -> dict[str, str]:
    """Without the OpenMP (KMP_*) settings a geo library sets on import: Chromium started
    with KMP_INIT_AT_FORK=FALSE hangs in headless mode."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KMP_")}


@dataclass
class Visit:
    """What happened while a page was open."""

    url: str
    ready: bool
    pwned: Any
    violations: list[str]
    exceptions: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    text: str = ""


class Browser:
    """One Chromium process; `visit` opens a page in a fresh tab and reports on it."""

    def __init__(self, profile: Path) -> None:
        if CHROMIUM is None:
            raise RuntimeError("chromium is not installed")
        to_browser_read, self._write = os.pipe()
        self._read, from_browser_write = os.pipe()
        # bash gives Chromium the two pipe ends as fds 3 and 4, where it expects them
        # (POSIX sh only redirects descriptors 0-9, and ours are often higher).
        script = f'exec "$0" "$@" 3<&{to_browser_read} 4>&{from_browser_write}'
        self._process = subprocess.Popen(
            [
                BASH,
                "-c",
                script,
                CHROMIUM,
                *FLAGS,
                WINDOW,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_environment(),
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.send("Browser.close", timeout=10)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._write)
        os.close(self._read)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the protocol -------------------------------------------------------------------

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout=30.0
    ) -> dict[str, Any]:
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._write, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Page.javascriptDialogOpening":
            # Answer at once, or the page (and this test) would wait for a person.
            request = {
                "id": 0,
                "method": "Page.handleJavaScriptDialog",
                "params": {"accept": False},
                "sessionId": message.get("sessionId"),
            }
            os.write(self._write, json.dumps(request).encode() + b"\0")
        self._events.append(message)

    def _pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._handle(self._message(deadline))
        except TimeoutError:
            pass

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session,
        )
        return result.get("result", {}).get("value")

    # --- a page -------------------------------------------------------------------------

    def run_on(
        self,
        url: str,
        expression: str,
        ready: str = "document.readyState === 'complete'",
        prelude: str = "",
        timeout: float = 30.0,
        viewport: tuple[int, int] | None = None,
    ) -> Any:
        """Open `url` in a fresh tab, wait until `ready` holds, evaluate `prelude` (e.g. a
        library to inject) and then `expression` (awaited if a promise); its value."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            self.send("Page.enable", session=session)
            if viewport is not None:
                width, height = viewport
                self.send(
                    "Emulation.setDeviceMetricsOverride",
                    {
                        "width": width,
                        "height": height,
                        "deviceScaleFactor": 1,
                        "mobile": width < 600,
                    },
                    session,
                )
            self.send("Page.navigate", {"url": url}, session)
            deadline = time.monotonic() + timeout
            while not self.evaluate(session, f"!!({ready})"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url}: not ready ({ready}) after {timeout} s")
                self._pump(0.2)
            if prelude:
                self.evaluate(session, prelude)
            return self.evaluate(session, expression)
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def visit(
        self,
        url: str,
        ready: str = "document.readyState === 'complete'",
        action: str | None = None,
        bypass_csp: bool = False,
        timeout: float = 30.0,
    ) -> Visit:
        """Open `url`, wait until `ready` (a JS expression) holds, run `action`, and report.

        With `bypass_csp` the page's Content-Security-Policy is switched off, so what is
        checked is the escaping alone: any script smuggled in by the data would run.
        """
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self._events = []
        try:
            for method in ("Page.enable", "Runtime.enable"):
                self.send(method, session=session)
            self.send("Page.setBypassCSP", {"enabled": bypass_csp}, session)
            self.send("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER}, session)
            self.send("Page.navigate", {"url": url}, session)
            deadline = time.monotonic() + timeout
            is_ready = False
            while time.monotonic() < deadline:
                self._pump(0.2)
                if self.evaluate(session, f"!!({ready})"):
                    is_ready = True
                    break
            if is_ready and action:
                self.evaluate(session, action)
            self._pump(0.5)  # let anything the page or the action started happen
            state = self.evaluate(
                session,
                "JSON.stringify({pwned: window.__pwned === undefined ? null : window.__pwned,"
                " violations: window.__violations || ['recorder did not run'],"
                " text: document.body ? document.body.innerText : ''})",
            )
            state = json.loads(state)
            return Visit(
                url,
                is_ready,
                state["pwned"],
                state["violations"],
                [
                    json.dumps(e["params"]["exceptionDetails"])[:500]
                    for e in self._events
                    if e.get("method") == "Runtime.exceptionThrown"
                ],
                [
                    e["params"].get("message", "")
                    for e in self._events
                    if e.get("method") == "Page.javascriptDialogOpening"
                ],
                state["text"],
            )
        finally:
            self.send("Target.closeTarget", {"targetId": target})
