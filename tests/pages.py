"""What a page loads, and a plain http server to load it from, for the notebook-map tests.

Jupyter puts a folium map in an `<iframe srcdoc>` of the notebook's page, so every link
in the map resolves against the Jupyter server: only `data:` and absolute `https:`
URLs load there. These helpers list a page's asset URLs (its stylesheets' `url()`s
included, also inside stylesheets carried as `data:` URLs) and serve a folder over
http, recording what was asked for.
"""

from __future__ import annotations

import base64
import http.server
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path


def asset_urls(html: str) -> list[str]:
    """Every URL the page loads: script and stylesheet links, images, and the url()s
    of its styles, including those inside stylesheets carried as data: URLs."""
    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if tag in ("script", "img", "iframe") and named.get("src"):
                found.append(named["src"])
            if tag == "link" and named.get("href"):
                found.append(named["href"])
            found.extend(_css_urls(named.get("style") or ""))

        def handle_data(self, data: str) -> None:
            found.extend(_css_urls(data) if "url(" in data else [])

    Links().feed(html)
    for url in list(found):
        if url.startswith("data:text/css;base64,"):
            css = base64.b64decode(url.split(",", 1)[1]).decode("utf-8")
            found.extend(_css_urls(css))
    return found


def _css_urls(css: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"""url\(\s*(['"]?)([^'")]+?)\1\s*\)""", css)]


def unloadable_in_jupyter(html: str) -> list[str]:
    """The URLs that would not load in a notebook's iframe served over http: file://
    links and relative ones (which resolve against the Jupyter server: 404)."""
    return [url for url in asset_urls(html) if not url.startswith(("data:", "https://", "#"))]


@contextmanager
def http_server(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """A plain http.server over `folder` on a free port; yields its URL and the paths
    requested from it."""
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
