"""A map whose scripts, stylesheets and their images travel inside the page, for notebooks.

Jupyter shows a folium map as an `<iframe srcdoc=...>` inside the notebook's own page,
so the map's links resolve against wherever the notebook is served from: a relative
`assets/leaflet/leaflet.js` is a 404 on the Jupyter server (and a release read from the
API has no assets folder at all), and a `file://` link is refused by any page served
over http(s). Either way Leaflet never loads and the map is blank.

So every asset the build ships beside `map.html` is put into the page itself as a
`data:` URL, in folium's own lists (`default_js`, `default_css`), and the images a
stylesheet names (Leaflet's layer icons) are put inside the stylesheet the same way.
The assets are taken from a map written by `write_map` into a temporary folder,
because `write_map` is the one place that knows which files a map needs and where they
sit: what a notebook shows is then exactly what a release ships, whatever is added to
the map later.
"""

from __future__ import annotations

import base64
import mimetypes
import posixpath
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import folium
from branca.element import CssLink, Element, JavascriptLink

from placeintel.maps.risk_map import write_map

#: `url(...)` in CSS, quoted or not; `#fragment` (IE's VML behaviour) and absolute
#: URLs are left as they are.
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)""")


def inline_assets(fmap: folium.Map) -> folium.Map:
    """The same map, every local asset link replaced by a `data:` URL of its content.

    Links that are already absolute (`https://`, `data:`) are kept: a CDN link still
    works in a notebook with the internet, and only the basemap's tiles are fetched.
    A local link whose file the map does not ship is an error here, not a blank map.
    """
    with tempfile.TemporaryDirectory(prefix="placeintel-explore-") as folder:
        page = write_map(fmap, Path(folder) / "map.html")
        root = page.parent
        for element in _elements(fmap.get_root()):
            for attribute in ("default_js", "default_css"):
                links = getattr(element, attribute, None)
                if links:
                    setattr(element, attribute, [(n, _inlined(root, u)) for n, u in links])
            # Links added straight to the page's head (not through the lists above).
            if isinstance(element, JavascriptLink | CssLink):
                element.url = _inlined(root, element.url)
    return fmap


def _elements(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _elements(child)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("#")


def _inlined(root: Path, url: str) -> str:
    """`url` as a data: URL when it names a file beside the page, else unchanged."""
    if url.startswith("file:"):
        return _data_url(Path(unquote(urlsplit(url).path)), root)
    if not _is_local(url):
        return url
    return _data_url(_beside(root, url), root)


def _beside(root: Path, relative: str) -> Path:
    """The file a relative link of a page in `root` names; never outside `root`."""
    clean = posixpath.normpath(unquote(urlsplit(relative).path))
    target = (root / clean).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        raise FileNotFoundError(f"the map links {relative!r}, which write_map did not ship")
    return target


def _data_url(path: Path, root: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind == "text/css":
        return _encoded("text/css", _css_inlined(path, root).encode("utf-8"))
    if kind in ("application/javascript", "text/javascript"):
        kind = "text/javascript"
    return _encoded(kind, path.read_bytes())


def _encoded(kind: str, content: bytes) -> str:
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


def _css_inlined(path: Path, root: Path) -> str:
    """The stylesheet with each local image it names (relative to itself) inlined."""
    text = path.read_text(encoding="utf-8")
    folder = path.parent

    def replace(match: re.Match[str]) -> str:
        url = match.group(2)
        if not _is_local(url):
            return match.group(0)
        target = (folder / posixpath.normpath(unquote(urlsplit(url).path))).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return match.group(0)  # a missing icon is a missing icon, not a blank map
        return f'url("{_data_url(target, root)}")'

    return _CSS_URL.sub(replace, text)
