"""The layers a release publishes, each declared once: the registry behind every list of them.

A layer is a table with geometry that becomes four files in the release, a resource
of its data package, an OGC API collection, and a PostGIS table. Each entry says
what it is (title, description, keywords), how rows are identified (key, title
field), what its columns mean, and how the build makes it from what it computed.
The data package, the pygeoapi resources (generated, not written by hand in
pygeoapi-config.yml), `placeintel publish` and the pipeline all read this list, so a
new collection is one entry here and the builder it names.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS as ProjCRS
from pyproj import Transformer

from placeintel.publish import geojson_jobs
from placeintel.publish.columns import descriptions
from placeintel.publish.descriptors import Dataset
from placeintel.publish.package import ResourceSpec
from placeintel.publish.writers import write_csv, write_geojson, write_gpkg, write_parquet

if TYPE_CHECKING:
    from placeintel.indicators import AreaIndicators

LOGGER = logging.getLogger(__name__)
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
#: Where the API's base URL and the served release are known at run time (`serve` sets them).
BASE_URL = "${PLACEINTEL_URL:-http://127.0.0.1:5000}"
RELEASE = "${PLACEINTEL_RELEASE}"
CRS = [
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/27700",
]
STORAGE_CRS = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: Until a release says its own extent, a collection claims the United Kingdom's.
UK_BBOX = [-8.65, 49.86, 1.77, 60.86]
#: A layer with this many rows or more has its GeoJSON written in a worker process: below
#: it, the worker's reading and imports (about 1 CPU second) cost more than they save.
GEOJSON_WORKER_ROWS = 10_000


@dataclass
class Published:
    """What a build publishes, handed to each layer's builder."""

    wards: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    indicators: AreaIndicators
    labels: dict[str, str]
    component_weights: dict[str, float]
    ward_hotspot_rule: str
    lsoa_hotspot_rule: str


@dataclass(frozen=True)
class Layer:
    """One published layer: its identity, its meaning, and how the build makes it."""

    name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    key: str
    title_field: str
    build: Callable[[Published], gpd.GeoDataFrame]
    #: What each column means, for the data package's Table Schema.
    columns: Callable[[Published], dict[str, str]] | None = None
    #: Further links of its API collection: (media type, relation, title, path under the API).
    related: tuple[tuple[str, str, str, str], ...] = field(default_factory=tuple)


LAYERS: tuple[Layer, ...] = (
    Layer(
        name="wards",
        title="Wards and their Digital Exclusion Risk Index",
        description="Electoral wards with every DERI indicator (value, numerator, denominator, "
        "0-10 score and contribution), component scores, deri_score and deri_rank, the rank "
        "interval over 1,000 weightings, and Gi* hotspot classes.",
        keywords=("wards", "digital exclusion", "DERI", "hotspots"),
        key="ward_code",
        title_field="ward_name",
        build=lambda p: p.wards,
        columns=lambda p: descriptions(p.labels, "ward", p.ward_hotspot_rule, p.component_weights),
        related=(
            ("text/html", "related", "Hotspot map", "/map/"),
            ("text/markdown", "describedby", "Method", "/release/method.md"),
        ),
    ),
    Layer(
        name="lsoas",
        title="LSOAs (2021) with DERI scores",
        description="The Digital Exclusion Risk Index at its native resolution, the 2021 LSOAs, "
        "with each indicator, its 0-10 score and contribution, the component scores, Gi* hot "
        "spots and rank intervals, and the electoral ward and district each LSOA belongs to "
        "(ONS best-fit lookup).",
        keywords=("LSOA", "digital exclusion", "DERI", "hotspots"),
        key="lsoa21_code",
        title_field="lsoa21_name",
        build=lambda p: p.lsoas,
        columns=lambda p: descriptions(p.labels, "lsoa", p.lsoa_hotspot_rule, p.component_weights),
    ),
    Layer(
        name="services",
        title="Digital-support and other services",
        description="Libraries, digital-support venues, tablet lending, free-data points and "
        "other services, as points (building polygons reduced to a point inside).",
        keywords=("libraries", "digital inclusion", "services"),
        key="service_id",
        title_field="name",
        build=lambda p: p.services,
    ),
    Layer(
        name="broadband",
        title="Fixed broadband by output area (Ofcom Connected Nations)",
        description="Premises and connections by speed band per 2021 output area, with "
        "percentages computed from the counts. Empty where a region has no Ofcom files.",
        keywords=("broadband", "Ofcom", "Connected Nations"),
        key="oa21_code",
        title_field="oa21_code",
        build=lambda p: p.indicators.layers["broadband"],
    ),
    Layer(
        name="deprivation",
        title="Indices of Deprivation by LSOA, on their own geography",
        description="The region's Indices of Deprivation (IoD2025 on 2021 LSOAs, or IMD 2019 on "
        "2011 LSOAs; the edition and LSOA vintage are on every row) - IMD score, rank and "
        "decile, domain scores and rates, and the underlying indicators the index uses.",
        keywords=("IMD", "deprivation"),
        key="lsoa_code",
        title_field="lsoa_name",
        build=lambda p: p.indicators.layers["deprivation"],
    ),
)
BY_NAME = {layer.name: layer for layer in LAYERS}


def write_layers(
    root: Path, published: Published, lighter: Callable[[], None] | None = None
) -> list[ResourceSpec]:
    """Every layer in CSV (with its Table Schema), GeoJSON, GeoPackage and GeoParquet.

    GeoParquet first; then large layers' GeoJSON is written from it in worker processes
    (`geojson_jobs`) while this process writes the CSVs and GeoPackages.

    `lighter` is called once, from any thread, as soon as at most one worker is left
    running (at once when there are fewer than two; at the latest on the way out, whatever
    happened): the build then starts its maps beside the rest, when they no longer add
    their memory to two workers' (national: about 0.5 GB each)."""
    once = _once(lighter)
    try:
        return _write_layers(root, published, once)
    finally:
        once()


def _once(call: Callable[[], None] | None) -> Callable[[], None]:
    done = threading.Lock()

    def once() -> None:
        if call is not None and done.acquire(blocking=False):
            call()

    return once


def _when_one_left(running: list[Future], call: Callable[[], None]) -> None:
    """`call` (once-only) when at most one of `running` (one per worker process) is left:
    at once if fewer than two, else as they finish, counted, so that on a machine with more
    than two workers the first to finish does not call it early."""
    left, lock = [len(running)], threading.Lock()

    def finished(_: Future) -> None:
        with lock:
            left[0] -= 1
            few = left[0] <= 1
        if few:
            call()

    if len(running) < 2:
        call()
    for future in running:
        future.add_done_callback(finished)


def _write_layers(
    root: Path, published: Published, lighter: Callable[[], None]
) -> list[ResourceSpec]:
    frames = {layer.name: layer.build(published) for layer in LAYERS}
    parquet = {
        name: write_parquet(frame, root / f"{name}.parquet") for name, frame in frames.items()
    }
    geojson = {name: root / f"{name}.geojson" for name in frames}
    large = [name for name, frame in frames.items() if len(frame) >= GEOJSON_WORKER_ROWS]
    specs = []
    with ThreadPoolExecutor(geojson_jobs.workers()) as pool:
        pending = geojson_jobs.start(
            pool, [(parquet[name], geojson[name], len(frames[name])) for name in large]
        )
        _when_one_left(pending, lighter)
        for layer in LAYERS:
            frame = frames[layer.name]
            described = layer.columns(published) if layer.columns else None
            name, title = layer.name, layer.title
            if name not in large:
                write_geojson(frame, geojson[name])
            specs += [
                ResourceSpec(
                    f"{name}-csv",
                    write_csv(frame, root / f"{name}.csv"),
                    f"{title} (CSV, no geometry)",
                    frame.drop(columns="geometry"),
                    layer.key,
                    described,
                ),
                ResourceSpec(f"{name}-geojson", geojson[name], f"{title} (GeoJSON)"),
                ResourceSpec(
                    f"{name}-gpkg",
                    write_gpkg(frame, root / f"{name}.gpkg", name),
                    f"{title} (GeoPackage, EPSG:27700)",
                ),
                ResourceSpec(f"{name}-parquet", parquet[name], f"{title} (GeoParquet, EPSG:27700)"),
            ]
        for future in pending:
            future.result()
    return specs


#: What each published file is, by its suffix: (media type, the link's title).
DOWNLOADS = {
    "parquet": ("application/vnd.apache.parquet", "Download as GeoParquet"),
    "gpkg": ("application/geopackage+sqlite3", "Download as GeoPackage"),
    "geojson": ("application/geo+json", "Download as GeoJSON"),
    "csv": ("text/csv", "Download as CSV"),
}


@dataclass(frozen=True)
class Offer:
    """What a collection offers beside its features: the same shape for an index layer and
    a council dataset, so both become collections by one code path."""

    name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    key: str
    title_field: str
    #: Suffix -> file name in the release, in the order the links list them.
    files: dict[str, str]
    licence_title: str
    licence_url: str
    extent: list[float]
    has_geometry: bool = True
    related: tuple[tuple[str, str, str, str], ...] = ()


def layer_offer(layer: Layer) -> Offer:
    """An index layer: GeoParquet, GeoPackage and CSV under the Open Government Licence."""
    return Offer(
        name=layer.name,
        title=layer.title,
        description=layer.description,
        keywords=layer.keywords,
        key=layer.key,
        title_field=layer.title_field,
        files={suffix: f"{layer.name}.{suffix}" for suffix in ("parquet", "gpkg", "csv")},
        licence_title="Open Government Licence v3.0",
        licence_url=OGL_URL,
        extent=list(UK_BBOX),
        related=layer.related,
    )


def collection(offer: Offer | Layer) -> dict[str, Any]:
    """An index layer or a council dataset as a pygeoapi collection over the served
    release's GeoParquet file, with its licence and its downloads."""
    if isinstance(offer, Layer):
        offer = layer_offer(offer)
    links = [
        {
            "type": "application/json",
            "rel": "describedby",
            "title": "Data package (datapackage.json)",
            "href": f"{BASE_URL}/release/datapackage.json",
        },
    ]
    if offer.licence_url or offer.licence_title:
        links.append(
            {
                "type": "text/html",
                "rel": "license",
                "title": offer.licence_title or offer.licence_url,
                "href": offer.licence_url or f"{BASE_URL}/release/datapackage.json",
            }
        )
    for suffix in DOWNLOADS:
        if suffix not in offer.files:
            continue
        media, title = DOWNLOADS[suffix]
        if suffix == "csv" and offer.has_geometry:
            title += " (no geometry)"
        links.append(
            {
                "type": media,
                "rel": "enclosure",
                "title": title,
                "href": f"{BASE_URL}/release/{offer.files[suffix]}",
            }
        )
    links += [
        {"type": media, "rel": rel, "title": title, "href": f"{BASE_URL}{path}"}
        for media, rel, title, path in offer.related
    ]
    return {
        "type": "collection",
        "title": offer.title,
        "description": offer.description,
        "keywords": list(offer.keywords),
        "links": links,
        "extents": {"spatial": {"bbox": list(offer.extent), "crs": STORAGE_CRS}},
        "providers": [
            {
                "type": "feature",
                "name": "placeintel.api.provider.ReleaseProvider",
                "data": f"{RELEASE}/{offer.name}.parquet",
                "id_field": offer.key,
                "title_field": offer.title_field,
                "crs": list(CRS),
                "storage_crs": STORAGE_CRS,
            }
        ],
    }


def dataset_offer(dataset: Dataset, extent: list[float] | None = None) -> Offer:
    """A council dataset: its own licence and files; without geometry only its CSV is a
    download (its GeoParquet, all null geometry, is there for the API alone), and its
    extent is `extent` (the region's), as it has none of its own."""
    files = dataset.files if dataset.geometry else {"csv": dataset.files["csv"]}
    return Offer(
        name=dataset.id,
        title=dataset.title,
        description=dataset.description,
        keywords=dataset.keywords,
        key=dataset.key,
        title_field=dataset.title_field,
        files=files,
        licence_title=dataset.licence.title,
        licence_url=dataset.licence.path,
        extent=list(dataset.bbox or extent or UK_BBOX),
        has_geometry=dataset.geometry is not None,
    )


def file_extent(path: Path) -> list[float] | None:
    """A GeoParquet file's extent in lon/lat (from the bbox its metadata records), or None
    when it has no file, no rows or no geometry."""
    if not path.is_file():
        return None
    try:
        geo = json.loads(pq.read_metadata(path).metadata[b"geo"])
        column = geo["columns"][geo["primary_column"]]
    except (OSError, KeyError, TypeError, ValueError, pa.ArrowException):
        return None
    bounds = column.get("bbox")
    if not bounds or len(bounds) != 4 or not np.all(np.isfinite(bounds)):
        return None
    crs = ProjCRS.from_json_dict(column["crs"]) if column.get("crs") else ProjCRS("OGC:CRS84")
    box = Transformer.from_crs(crs, "OGC:CRS84", always_xy=True).transform_bounds(*bounds)
    return [round(v, 6) for v in box]


def collections(
    datasets: Sequence[Dataset] = (), extent: list[float] | None = None
) -> dict[str, dict[str, Any]]:
    """Every layer, then every council dataset, as a pygeoapi resource, for the
    `resources:` of the API configuration. A dataset whose id is already taken is left
    out with a warning (released_datasets refuses the index layers' names already)."""
    resources = {layer.name: collection(layer) for layer in LAYERS}
    for dataset in datasets:
        if dataset.id in resources:
            LOGGER.warning("dataset %r is not served: the name is taken", dataset.id)
            continue
        resources[dataset.id] = collection(dataset_offer(dataset, extent))
    return resources
