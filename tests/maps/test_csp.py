"""A map page names the hashes of its inline blocks, and only of those folium rendered."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from placeintel.maps import MapContent, assemble, write_map
from placeintel.maps import risk_map as risk_map_module
from placeintel.maps.csp import META_NAME, page_sources, source_hash
from placeintel.pipeline import Release

TITLE = "</title><script>window.__pwned=1</script>"


class _Blocks(HTMLParser):
    """Inline <script>/<style> blocks as a browser would split the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._tag: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "style" or (tag == "script" and not dict(attrs).get("src")):
            self._tag = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_data(self, data) -> None:
        if self._tag:
            target = self.scripts if self._tag == "script" else self.styles
            target[-1] += data

    def handle_endtag(self, tag) -> None:
        if tag == self._tag:
            self._tag = None


def _blocks(page: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(page)
    return parser


def _hostile_district_map(release: Release, folder: Path) -> tuple[Path, str]:
    wards = release.wards.copy()
    code = wards["lad_code"].iloc[0]
    wards.loc[wards["lad_code"] == code, "lad_name"] = TITLE
    content = MapContent(wards, release.services, f"Region {TITLE}", ["Source & <b>x</b>"])
    return write_map(assemble(content, code), folder / "map.html"), code


def test_titles_are_escaped_on_region_and_district_maps(
    demo_release: Release, tmp_path: Path
) -> None:
    page, _ = _hostile_district_map(demo_release, tmp_path)
    html = page.read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    escaped = "&lt;/title&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;"
    assert title == f"Region {escaped}: {escaped}"
    assert "<script>window.__pwned" not in html
    # The attribution: escaped for Leaflet, which shows it as HTML, inside folium's JSON.
    assert "<b>x</b>" not in html and "Source \\u0026amp; \\u0026lt;b\\u0026gt;x" in html


def test_the_page_allows_exactly_its_own_inline_blocks(
    demo_release: Release, tmp_path: Path
) -> None:
    page, _ = _hostile_district_map(demo_release, tmp_path)
    html = page.read_text(encoding="utf-8")
    assert html.startswith(
        f'<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta name="{META_NAME}"'
    )
    sources = page_sources(html)
    blocks = _blocks(html)
    assert sorted(sources["script-src"]) == sorted(source_hash(s) for s in blocks.scripts)
    assert sorted(sources["style-src"]) == sorted(source_hash(s) for s in blocks.styles)
    assert sources["img-src"] == ["https://tile.openstreetmap.org"]
    assert len(blocks.scripts) == 2  # folium's settings and the map itself


def test_a_name_that_escaped_its_script_would_not_be_allowed(
    demo_release: Release, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the escaping ever failed, the hashes are of what folium meant to write: the
    browser would see a cut-short map script and an extra one, neither allowed."""
    monkeypatch.setattr(risk_map_module, "script_json", lambda value: str(value))
    wards = demo_release.wards.copy()
    wards.loc[wards.index[0], "ward_name"] = "</script><script>window.__pwned=1</script>"
    content = MapContent(wards, demo_release.services, "Region", ["Source"])
    html = write_map(assemble(content), tmp_path / "map.html").read_text(encoding="utf-8")
    allowed = set(page_sources(html)["script-src"])
    scripts = _blocks(html).scripts
    injected = [s for s in scripts if s == "window.__pwned=1"]
    assert injected and source_hash(injected[0]) not in allowed
    assert sum(source_hash(s) in allowed for s in scripts) == 1  # folium's settings only


@pytest.mark.parametrize(
    "start",
    [
        "<!DOCTYPE html><html><head><title>x</title>"
        f'<meta name="{META_NAME}" content="script-src \'unsafe-inline\'">',
        f'<p>data</p><!DOCTYPE html><html><head><meta name="{META_NAME}" content="x">',
    ],
    ids=["not-first-in-head", "not-at-the-start"],
)
def test_only_a_meta_at_the_very_start_counts(start: str) -> None:
    assert page_sources(start) == {}


def test_sources_of_another_shape_are_ignored() -> None:
    good = "'sha256-" + "A" * 43 + "='"
    start = (
        f'<!DOCTYPE html>\n<html>\n<head>\n<meta name="{META_NAME}" content="'
        f"script-src 'unsafe-inline' * {good}; style-src 'unsafe-inline'; "
        'img-src http://insecure.example https://tile.example:8443; frame-ancestors *;">'
    )
    assert page_sources(start) == {
        "script-src": [good],
        "style-src": [],
        "img-src": ["https://tile.example:8443"],
    }
