"""axe-core, Deque's accessibility engine, run in headless Chromium on a served page.

axe-core comes from the npm registry (`make test` installs it into `.venv/axe` when npm
is there; `.ci/run` installs npm). Tests that need it skip, saying so, without it.
`PLACEINTEL_AXE_JS` may point at another copy of `axe.min.js`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.cdp import Browser

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = Path(
    os.environ.get("PLACEINTEL_AXE_JS", ROOT / ".venv/axe/node_modules/axe-core/axe.min.js")
)
#: The impacts that fail a page: a screen-reader or keyboard user cannot get past them.
BLOCKING = ("critical", "serious")

requires_axe = pytest.mark.skipif(
    not AXE_JS.is_file(),
    reason=f"axe-core not installed at {AXE_JS} (make test installs it with npm; "
    "or set PLACEINTEL_AXE_JS)",
)

_RUN = """
axe.run(document, {resultTypes: ['violations']}).then(function (result) {
  return JSON.stringify(result.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); })};
  }));
})
"""


def violations(
    browser: Browser,
    url: str,
    ready: str = "document.readyState === 'complete'",
    impacts: tuple[str, ...] = BLOCKING,
    viewport: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts on the page at `url`, once `ready`."""
    found = json.loads(
        browser.run_on(
            url, _RUN, ready, prelude=AXE_JS.read_text(encoding="utf-8"), viewport=viewport
        )
    )
    return [v for v in found if v["impact"] in impacts]
