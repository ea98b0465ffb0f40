"""The query parameters pygeoapi 0.21's OpenAPI document leaves out of the items operations.

pygeoapi describes bbox, limit, sortby and the rest, but not Part 3's `filter`,
`filter-lang` and `filter-crs`, nor `datetime` for collections without a time extent.
Clients that build requests from the document (and schemathesis) then never send them.
They are added here as components, referenced from every `/collections/{id}/items` GET.
"""

from __future__ import annotations

from typing import Any

import yaml

from placeintel.api.filters import LANGUAGES
from placeintel.api.metadata import dump_as_written

PARAMETERS: dict[str, dict[str, Any]] = {
    "filter": {
        "name": "filter",
        "in": "query",
        "required": False,
        "description": "A CQL2 filter on the queryables, e.g. "
        "`deri_score > 5 AND S_INTERSECTS(geometry, BBOX(-1.7,52.5,-1.6,52.6))` "
        "(cql2-text) or the same as a CQL2 JSON object (with filter-lang=cql2-json).",
        "schema": {"type": "string"},
    },
    "filter-lang": {
        "name": "filter-lang",
        "in": "query",
        "required": False,
        "description": "The encoding of `filter`. cql-text and cql-json are the names "
        "pygeoapi 0.21 used, kept for older clients.",
        "schema": {"type": "string", "enum": list(LANGUAGES), "default": "cql2-text"},
    },
    "filter-crs": {
        "name": "filter-crs",
        "in": "query",
        "required": False,
        "description": "The coordinate reference system of the geometries in `filter`.",
        "schema": {
            "type": "string",
            "format": "uri",
            "default": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        },
    },
    "datetime": {
        "name": "datetime",
        "in": "query",
        "required": False,
        "description": "An RFC 3339 date or date-time, or an interval start/end with '..' "
        "for an open end. The published layers carry no time, so a valid value selects "
        "every feature; an invalid one is a 400.",
        "schema": {"type": "string"},
    },
}


def describe_filters(document: str) -> str:
    """The YAML OpenAPI document, with the parameters above on every items listing."""
    openapi = yaml.safe_load(document)
    components = openapi.setdefault("components", {}).setdefault("parameters", {})
    for name, parameter in PARAMETERS.items():
        components.setdefault(name, parameter)
    for path, operations in openapi.get("paths", {}).items():
        if not (path.startswith("/collections/") and path.endswith("/items")):
            continue
        get = operations.get("get")
        if not get:
            continue
        listed = get.setdefault("parameters", [])
        present = {p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1] for p in listed}
        listed.extend(
            {"$ref": f"#/components/parameters/{name}"}
            for name in PARAMETERS
            if name not in present
        )
    return dump_as_written(openapi)
