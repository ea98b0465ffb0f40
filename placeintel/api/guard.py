"""A thin guard in front of pygeoapi 0.21: standard filters, and queries it gets wrong.

- Filters: Part 3's `filter-lang=cql2-text` and `cql2-json` are accepted alongside
  pygeoapi's older `cql-text` and `cql-json`. The guard parses the filter in the
  language the request names (placeintel.api.filters), answers a bad one with a 400
  that says why, and hands pygeoapi a `filter-lang` it knows. pygeoapi's filter
  readers are replaced by the same parser (`install`), so both encodings work on GET
  and CQL2 JSON works in a POST body as before.
- Parameters pygeoapi answers with a 200 although they are wrong (non-finite bbox,
  unreadable datetime, skipGeometry=maybe) get a 400 naming the parameter
  (placeintel.api.params).
- pygeoapi 0.21 indexes each `sortby` entry's first character, so an empty entry
  (`sortby=` or `sortby=,name`) raises IndexError and becomes a 500; a 400 here instead.
- `/conformance` answers with placeintel.api.conformance's list.
- `?f=csv` on a table without geometry works (pygeoapi's CSV writer assumed one).
- Geometries in filters get an SRID PostGIS knows (filters.with_postgis_srids).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from placeintel.api import conformance, filters, params

_ITEMS = re.compile(r"/collections/[^/]+/items/?")


def install() -> None:
    """Point pygeoapi's filter readers and conformance answer at placeintel's.

    pygeoapi's Flask views look these up as module attributes on every request, so
    replacing the attributes is enough. If a pygeoapi release renames one, serving
    stops here with a clear error rather than silently losing the standard filters.
    """
    import pygeoapi.api as core
    import pygeoapi.api.itemtypes as itemtypes

    needed = (
        (itemtypes, "parse_ecql_text"),
        (itemtypes, "parse_cql2_json"),
        (itemtypes, "modify_pygeofilter"),
        (core, "conformance"),
    )
    for module, name in needed:
        if not callable(getattr(module, name, None)):
            raise RuntimeError(
                f"pygeoapi has no {module.__name__}.{name} any more; placeintel.api.guard "
                "needs updating for this pygeoapi release"
            )
    itemtypes.parse_ecql_text = filters.parse_any
    itemtypes.parse_cql2_json = filters.parse_json
    core.conformance = conformance.conformance
    modify = itemtypes.modify_pygeofilter
    if not getattr(modify, "placeintel", False):  # wrap pygeoapi's own, once

        def modify_for_postgis(tree: Any, **kwargs: Any) -> Any:
            return filters.with_postgis_srids(modify(tree, **kwargs))

        modify_for_postgis.placeintel = True  # type: ignore[attr-defined]
        itemtypes.modify_pygeofilter = modify_for_postgis
    _csv_without_geometry()


def _csv_without_geometry() -> None:
    """pygeoapi 0.21's CSV formatter reads the first feature's geometry type, so `?f=csv`
    on a table without geometry (a council's grants register) was a 500: such a page is
    written without the x/y columns instead."""
    from pygeoapi.formatter.csv_ import CSVFormatter

    write = CSVFormatter.write
    if getattr(write, "placeintel", False):
        return

    def tolerant(self: Any, options: dict | None = None, data: dict | None = None) -> str:
        features = (data or {}).get("features") or []
        if not (self.geom and features and features[0].get("geometry") is None):
            return write(self, options or {}, data)
        self.geom = False
        try:
            return write(self, options or {}, data)
        finally:
            self.geom = True

    tolerant.placeintel = True  # type: ignore[attr-defined]
    CSVFormatter.write = tolerant


def problem(pairs: list[tuple[str, str]], items: bool = True) -> tuple[str, str] | None:
    """The parameter pygeoapi would get wrong, and why; None if there is none.

    `items` says whether the request lists a collection's items, where the query
    parameters below mean something; elsewhere pygeoapi ignores them.
    """
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    for value in values.get("sortby", []):
        if any(not item.strip("+- ") for item in value.split(",")):
            return "sortby", (
                "sortby has an empty property name (expected e.g. sortby=name,-deri_score)"
            )
    if not items:
        return None
    crs = (values.get("bbox-crs") or [None])[0]
    checks: tuple[tuple[str, Callable[[str], str | None]], ...] = (
        ("bbox", lambda value: params.bbox(value, crs)),
        ("datetime", params.datetime_),
        ("skipGeometry", params.skip_geometry),
    )
    for name, check in checks:
        for value in values.get(name, []):
            reason = check(value)
            if reason:
                return name, reason
    for value in values.get("filter-crs", []):
        if not params.crs_uri(value):  # pygeoapi would answer "Bad CQL text"
            return "filter-crs", (
                f"filter-crs {value[:100]!r} is not a CRS URI such as "
                "http://www.opengis.net/def/crs/EPSG/0/27700 or "
                "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
            )
    languages = values.get("filter-lang", [])
    for language in languages:
        if language not in filters.LANGUAGES:
            return "filter-lang", (
                f"filter-lang {language!r} is not supported; use one of "
                + ", ".join(filters.LANGUAGES)
            )
    for text in values.get("filter", []):
        try:
            filters.parse(text, languages[0] if languages else None)
        except filters.FilterError as error:
            return "filter", str(error)
    return None


def for_pygeoapi(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The query with `filter-lang` in pygeoapi 0.21's names (text is its default)."""
    out = []
    for key, value in pairs:
        if key == "filter-lang":
            name = filters.PYGEOAPI_NAME.get(value, value)
            if name is None:
                continue
            value = name
        out.append((key, value))
    return out


class QueryGuard:
    """WSGI middleware applying the fixes above."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        install()
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        query = environ.get("QUERY_STRING", "")
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            items = bool(_ITEMS.fullmatch(environ.get("PATH_INFO", "")))
            found = problem(pairs, items)
            if found:
                return self.refuse(start_response, *found)
            rewritten = for_pygeoapi(pairs)
            if rewritten != pairs:
                environ["QUERY_STRING"] = urlencode(rewritten)
        return self.app(environ, start_response)

    @staticmethod
    def refuse(start_response: Callable[..., Any], parameter: str, reason: str) -> list[bytes]:
        """A 400 in pygeoapi's exception shape, with the parameter as OWS's `locator`."""
        body = json.dumps(
            {
                "code": "InvalidParameterValue",
                "type": "InvalidParameterValue",
                "locator": parameter,
                "description": reason,
            }
        ).encode()
        start_response(
            "400 Bad Request",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]
