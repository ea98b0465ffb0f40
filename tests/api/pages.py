"""Every kind of HTML page the API serves, for the browser tests (offline, axe-core)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from placeintel.api.metadata import read_package
from placeintel.pipeline import Release
from placeintel.publish.descriptors import released_datasets
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
    """The home page, conformance, the collections, each collection (index layers and
    the release's council datasets) with its items, an item, queryables and schema, the
    API definition, the downloads, the method and errors. A dataset without geometry has
    no map of items to wait for (its collection page maps the region's extent)."""
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
    for dataset in released_datasets(read_package(release.path)):
        ready = MAP_READY if dataset.geometry else LOADED
        first = pd.read_parquet(release.path / dataset.files["parquet"], columns=[dataset.key])
        pages += [
            Page(f"/collections/{dataset.id}?f=html", MAP_READY),  # its (or the region's) extent
            Page(f"/collections/{dataset.id}/items?f=html&limit=1000", ready),
            Page(f"/collections/{dataset.id}/items/{first[dataset.key].iloc[0]}?f=html", ready),
            Page(f"/collections/{dataset.id}/queryables?f=html"),
            Page(f"/collections/{dataset.id}/schema?f=html"),
        ]
    return pages
