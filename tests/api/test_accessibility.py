"""axe-core finds no critical or serious accessibility violation on any API page.

Every kind of HTML page the service has (tests/api/pages.py), served from the demo release
and opened in headless Chromium; the home page and an items page also at a phone's width.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from placeintel.pipeline import Release
from tests.api.pages import MAP_READY, api_pages
from tests.axe import BLOCKING, requires_axe, violations
from tests.cdp import CHROMIUM, Browser

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
    requires_axe,
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(tmp_path_factory.mktemp("chromium-axe")) as chromium:
        yield chromium


def _report(found: dict[str, list[dict]]) -> str:
    return "\n".join(
        f"{path}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
        for path, listed in found.items()
        for v in listed
    )


def test_no_blocking_violation_on_any_api_page(
    server: str, demo_release: Release, browser: Browser
) -> None:
    found = {}
    for page in api_pages(demo_release):
        listed = violations(browser, server + page.path, page.ready)
        if listed:
            found[page.path] = listed
    assert not found, _report(found)


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/?f=html", "document.readyState === 'complete'"),
        ("/collections/wards/items?f=html", MAP_READY),
        ("/release/", "document.readyState === 'complete'"),
    ],
)
def test_no_blocking_violation_at_a_phones_width(
    server: str, browser: Browser, path: str, ready: str
) -> None:
    listed = violations(browser, server + path, ready, viewport=(390, 844))
    assert not listed, _report({path: listed})


def test_axe_sees_what_the_issue_reported(server: str, browser: Browser, tmp_path) -> None:
    """Control: an empty title and an unnamed select, as pygeoapi's pages had them, are
    found (so an empty result above means the pages are clean, not that nothing ran)."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html lang="en"><head><title> </title></head><body><main>'
        "<h1>x</h1><select><option>10</option></select></main></body></html>",
        encoding="utf-8",
    )
    ids = {v["id"]: v["impact"] for v in violations(browser, page.as_uri(), impacts=BLOCKING)}
    assert ids.get("document-title") == "serious" and ids.get("select-name") == "critical"
