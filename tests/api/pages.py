"""Every kind of HTML page the API serves, for the browser tests (offline, axe-core)."""

from __future__ import annotations

from dataclasses import dataclass

from placeintel.pipeline import Release
from placeintel.publish.layers import collections

#: A page with a Leaflet map is ready once its script has drawn the features.
MAP_READY = "window.placeintelItems && placeintelItems.items && placeintelItems.map"
LOADED = "document.readyState === 'complete'"


@dataclass(frozen=True)
class Page:
    path: str
    ready: str = LOADED
    status: int = 200

    @property
    def has_map(self) -> bool:
        return self.ready == MAP_READY


def api_pages(release: Release) -> list[Page]:
    """The home page, conformance, the collections, each collection with its items, an
    item, queryables and schema, the API definition, the downloads, the method and errors."""
    pages = [
        Page("/?f=html"),
        Page("/conformance?f=html"),
        # Linked from the service's JSON: pygeoapi's own pages, in the service's layout.
        Page("/TileMatrixSets?f=html"),
        Page("/TileMatrixSets/WebMercatorQuad?f=html"),
        Page("/processes?f=html"),
        Page("/jobs?f=html"),
        Page("/collections?f=html"),
        Page("/openapi?f=html"),
        Page("/openapi?f=html&ui=redoc"),
        Page("/release/"),
        Page("/release/method.md?f=html"),
        Page("/collections/nope?f=html", status=404),
        Page("/collections/wards/items/NOPE?f=html", status=404),
        Page("/collections/wards/items?f=html&limit=-1", status=400),
    ]
    for name in collections():
        pages += [
            Page(f"/collections/{name}?f=html", MAP_READY),
            Page(f"/collections/{name}/items?f=html&limit=1000", MAP_READY),
            Page(f"/collections/{name}/queryables?f=html"),
            Page(f"/collections/{name}/schema?f=html"),
        ]
    pages += [
        Page(f"/collections/wards/items/{release.wards['ward_code'].iloc[0]}?f=html", MAP_READY),
        Page(f"/collections/lsoas/items/{release.lsoas['lsoa21_code'].iloc[0]}?f=html", MAP_READY),
        Page(
            f"/collections/services/items/{release.services['service_id'].iloc[0]}?f=html",
            MAP_READY,
        ),
    ]
    return pages
