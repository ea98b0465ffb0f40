"""`/conformance`: the classes this service implements, and no others.

pygeoapi 0.21 builds the list from its own constants: it leaves out Part 3's filter
and CQL2 classes (so generic clients never send a filter) and claims Part 4's
create/replace/delete, which this read-only service refuses. Its builder also
appends to a module-level list on every request, so the list grows with each call.
This answer is a fixed list; every entry is exercised by tests/api/test_conformance.py.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pygeoapi.api import F_HTML
from pygeoapi.util import render_j2_template, to_json

COMMON = "http://www.opengis.net/spec/ogcapi-common-{}/1.0/conf/{}"
FEATURES = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{}"

CONFORMS_TO: tuple[str, ...] = (
    COMMON.format(1, "core"),
    COMMON.format(1, "landing-page"),
    COMMON.format(1, "json"),
    COMMON.format(1, "html"),
    COMMON.format(1, "oas30"),
    COMMON.format(2, "collections"),
    FEATURES.format(1, "core"),
    FEATURES.format(1, "geojson"),
    FEATURES.format(1, "html"),
    FEATURES.format(1, "oas30"),
    FEATURES.format(2, "crs"),  # crs=, bbox-crs=, filter-crs=
    FEATURES.format(3, "queryables"),
    FEATURES.format(3, "queryables-query-parameters"),  # ?lad_name=...
    FEATURES.format(3, "filter"),
    FEATURES.format(3, "features-filter"),
    FEATURES.format(5, "schemas"),
    FEATURES.format(5, "core-roles-features"),
    CQL2.format("cql2-text"),
    CQL2.format("cql2-json"),
    CQL2.format("basic-cql2"),  # = <> < <= > >=, AND OR NOT, IS NULL
    CQL2.format("advanced-comparison-operators"),  # LIKE, BETWEEN, IN
    CQL2.format("basic-spatial-functions"),  # S_INTERSECTS with POINT and BBOX
    CQL2.format("basic-spatial-functions-plus"),  # ... and every other geometry type
    CQL2.format("spatial-functions"),  # S_EQUALS, S_DISJOINT, S_TOUCHES, S_WITHIN ...
    CQL2.format("property-property"),  # deri_score > deprivation_score
)


def conformance(api: Any, request: Any) -> tuple[dict, int, str]:
    """pygeoapi's `conformance` handler, answering with `CONFORMS_TO`."""
    body = {"conformsTo": list(CONFORMS_TO)}
    headers = request.get_response_headers(**api.api_headers)
    if request.format == F_HTML:
        content = render_j2_template(
            api.tpl_config,
            api.config["server"]["templates"],
            "conformance.html",
            body,
            request.locale,
        )
        return headers, HTTPStatus.OK, content
    return headers, HTTPStatus.OK, to_json(body, api.pretty_print)
