"""Security headers on every response the service sends, whoever produced it.

A WSGI middleware rather than Flask's `after_request`, because some answers never
reach Flask (the query guard's 400s) and every one must carry the headers.

The Content-Security-Policy allows only the service's own files: the API pages'
scripts and styles are files under `/static/` and `/vendor/` (no inline script, no
CDN), and a map page adds the hashes of the inline blocks folium wrote (maps/csp.py).
Images may also come from the basemap's tile server (tiles are pictures, which cannot
run, and the map says the basemap needs the internet) and from `data:` URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from placeintel.maps.csp import page_sources

#: The policy of every response; a map page extends `script-src`, `style-src`, `img-src`.
BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # data: for Leaflet's blank image (it swaps a cancelled tile for a 1-pixel GIF).
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def tile_origin(url: str | None) -> str | None:
    """`https://tile.openstreetmap.org` for a tile URL template; None if not https."""
    parts = urlsplit(url or "")
    return f"https://{parts.netloc}" if parts.scheme == "https" and parts.netloc else None


def policy(extra: Mapping[str, Iterable[str]] | None = None) -> str:
    """The header value: the base policy with `extra` sources added to their directives."""
    directives = {name: list(values) for name, values in BASE_POLICY.items()}
    for name, values in (extra or {}).items():
        directives.setdefault(name, ["'self'"]).extend(values)
    return "; ".join(
        f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items()
    )


def page_policy(page: Path, extra: Mapping[str, Iterable[str]] | None = None) -> str:
    """The policy for an HTML file of a release: the base one, the sources the page names
    at its start (a map's hashes and tile server), and `extra`."""
    with page.open("rb") as handle:
        start = handle.read(8192).decode("utf-8", errors="replace")
    sources = {name: list(values) for name, values in (extra or {}).items()}
    for name, values in page_sources(start).items():
        sources.setdefault(name, []).extend(values)
    return policy(sources)


class SecurityHeaders:
    """WSGI middleware: CSP, nosniff, frame and referrer rules on every response, and a
    charset on HTML (pygeoapi sends `text/html` bare). A response that already has a
    Content-Security-Policy (a map page's, with its hashes) keeps it."""

    def __init__(self, app: Callable[..., Iterable[bytes]], images: Iterable[str] = ()) -> None:
        self.app = app
        self.csp = policy({"img-src": list(images)})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        def secured(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            present = {name.lower() for name, _ in headers}
            out = []
            for name, value in headers:
                if name.lower() == "content-type" and _bare_text(value):
                    value = f"{value}; charset=utf-8"
                out.append((name, value))
            if "content-security-policy" not in present:
                out.append(("Content-Security-Policy", self.csp))
            out += [(k, v) for k, v in HEADERS.items() if k.lower() not in present]
            return start_response(status, out, exc_info)

        return self.app(environ, secured)


def _bare_text(content_type: str) -> bool:
    """HTML (or other text) without a charset, which a browser would have to guess."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in {"text/html", "text/plain", "text/css"} and "charset" not in content_type.lower()
