"""What a map page may run: the hashes of the inline scripts and styles folium wrote into it.

folium writes the map's JavaScript (and its data) inline, so a Content Security Policy
that allows only the page's own files would stop the map. Allowing every inline script
('unsafe-inline') would also allow one smuggled in by a ward name. Instead the map is
written with the SHA-256 of each inline block folium *rendered* (not of what a parser
finds in the finished page): if a name ever broke out of its script, the block the
browser sees would no longer match its hash and nothing would run.

The hashes travel with the page, in a `<meta name="placeintel-csp">` written first in
its `<head>`, before any data, and `placeintel serve` puts them in the page's
Content-Security-Policy header. The meta is not itself a policy, so a map opened from
disk (file://) behaves as before in every browser.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from branca.element import Figure

META_NAME = "placeintel-csp"
#: The directives a page may add sources to, and the shape each source must have.
_SOURCE = {
    "script-src": re.compile(r"'sha256-[A-Za-z0-9+/]{43}='"),
    "style-src": re.compile(r"'sha256-[A-Za-z0-9+/]{43}='"),
    "img-src": re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?"),
}
_CARRIER = re.compile(
    r"\A<!DOCTYPE html>\s*<html[^>]*>\s*<head>\s*"
    rf'<meta name="{META_NAME}" content="([^"<>]*)">',
    re.IGNORECASE,
)


def source_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline block."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


class _InlineBlocks(HTMLParser):
    """The text of each inline <script> (without src) and <style> in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[str, str]] = []
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style" or (tag == "script" and not dict(attrs).get("src")):
            self._open = (tag, [])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            self.blocks.append((tag, "".join(self._open[1])))
            self._open = None


def render_with_hashes(figure: Figure, tiles: list[str]) -> str:
    """The page's HTML, with the meta naming its inline blocks and its tile servers."""
    page, cut, meta = render_parts(figure, tiles)
    return page[:cut] + meta + page[cut:]


#: Characters hashed or written at a time: the national map's page is 63 million, so each
#: whole-page copy (a slice, its UTF-8, a concatenation) would cost 130-250 MB at once.
CHUNK = 1 << 22


def render_parts(figure: Figure, tiles: list[str]) -> tuple[str, int, str]:
    """The page as folium renders it, where the meta goes (after `<head>`) and the meta
    naming its inline blocks and its tile servers: `page[:cut] + meta + page[cut:]` is
    the page, left for the caller to write piece by piece rather than copied whole.

    `figure.header` holds only folium's own fixed scripts and styles (no dataset text),
    so its blocks are read back; the map script, which carries the data, is hashed as
    folium rendered it and located in the page only to include the whitespace around it.
    """
    page = figure.render()
    sources: dict[str, list[str]] = {"script-src": [], "style-src": [], "img-src": []}
    header = _InlineBlocks()
    header.feed(figure.header.render())
    for tag, text in header.blocks:
        sources["script-src" if tag == "script" else "style-src"].append(source_hash(text))
    script = figure.script.render()
    at, length = page.index(script), len(script)
    del script
    opening = page.rindex("<script>", 0, at) + len("<script>")
    closing = page.index("</script>", at + length)
    if page[opening:at].strip() or page[at + length : closing].strip():
        raise RuntimeError("folium's page layout changed: the map script is not where expected")
    sources["script-src"].append(_span_hash(page, opening, closing))
    for url in tiles:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.netloc:
            sources["img-src"].append(f"https://{parts.netloc}")
    content = "; ".join(
        f"{name} {' '.join(dict.fromkeys(values))}" for name, values in sources.items() if values
    )
    head = re.match(r"\A<!DOCTYPE html>\s*<html[^>]*>\s*<head>\s*", page, re.IGNORECASE)
    if head is None:
        raise RuntimeError("folium's page layout changed: no <head> at the start of the page")
    return page, head.end(), f'<meta name="{META_NAME}" content="{content}">\n'


def _span_hash(page: str, start: int, end: int) -> str:
    """`source_hash(page[start:end])`, a piece at a time (UTF-8 of the pieces is the UTF-8
    of the whole: slices of a str never split a character)."""
    digest = hashlib.sha256()
    for at in range(start, end, CHUNK):
        digest.update(page[at : min(at + CHUNK, end)].encode("utf-8"))
    return f"'sha256-{base64.b64encode(digest.digest()).decode('ascii')}'"


def page_sources(start: str) -> dict[str, list[str]]:
    """The sources a page written by `render_with_hashes` asks for, read from its start.

    Only a meta at the very start of the page counts (nothing from a dataset comes
    before it), and only sources of the expected shapes: anything else is ignored, so
    a page can never widen its policy beyond its own hashes and https tile servers.
    """
    match = _CARRIER.match(start)
    if match is None:
        return {}
    sources: dict[str, list[str]] = {}
    for directive in match.group(1).split(";"):
        name, *values = directive.split() or [""]
        if name in _SOURCE:
            sources[name] = [v for v in values if _SOURCE[name].fullmatch(v)]
    return sources
