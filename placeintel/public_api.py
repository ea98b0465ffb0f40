"""The public Python API, re-exported by `placeintel`: every CLI command calls one of these.

It is meant to feel like geopandas: plain GeoDataFrames in and out, one call per
step, and the same errors the CLI prints (`placeintel.PlaceintelError`). As with
rasterio's `rio`, the command line is a thin layer over these functions, so a
notebook and a terminal do the same thing the same way.

>>> import placeintel
>>> report = placeintel.validate("demo")
>>> report.ok
True
>>> sources = placeintel.load_region("demo")
>>> len(sources["wards"]), sources["wards"].crs.to_epsg()
(40, 27700)
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from placeintel import _PUBLIC_API, areas
from placeintel.api.limits import ServerLimits
from placeintel.errors import PlaceintelError, UsageError
from placeintel.index import IndexSettings
from placeintel.pipeline import Release, ValidationFailed, build_release
from placeintel.publish import current_release, list_releases
from placeintel.region import load_manifest
from placeintel.scratch import TemporaryReleases
from placeintel.validate import Report, validate_sources

if TYPE_CHECKING:
    import folium

    from placeintel.publish.diff import ReleaseDiff

# The maps (folium) and diffs are imported by the functions that use them: a build loads
# them on a thread while it reads its sources (`placeintel.warmup`), not before it starts.

Echo = Callable[[str], None]
DEFAULT_RELEASES = Path("releases")


def _silent(line: str) -> None:
    return None


def validate(region: str | Path, data_dir: str | Path | None = None) -> Report:
    """Check a region's sources: `.ok`, `.errors`, `.warnings`, `.to_frame()`, `.to_text()`.

    >>> import placeintel
    >>> placeintel.validate("demo").to_frame().columns.tolist()[:4]
    ['severity', 'rule', 'message', 'file']
    """
    return validate_sources(load_manifest(region, data_dir))[1]


def load_region(region: str | Path, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Every source of a region, validated, by source id (frames in EPSG:27700).

    Raises `ValidationFailed` (with `.report`) if any source has an error, so an analysis
    never starts from data the build would refuse.
    """
    data, report = validate_sources(load_manifest(region, data_dir))
    if not report.ok:
        raise ValidationFailed(report)
    return dict(data.frames)


def build(
    region: str | Path,
    releases: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
    weights: dict[str, float] | None = None,
    base: str | None = None,
    reference: str | Path | None = None,
    engine: str = "auto",
    scheduler: str | None = None,
    echo: Echo | None = None,
) -> Release:
    """Build and publish a release; returns it with `.wards`, `.lsoas`, `.services`,
    `.package`, `.explain()`.

    `releases` is the folder releases go in (`<releases>/<region>/<version>`, and
    `current`). Without it, a temporary `placeintel-*` folder (`echo` is told where)
    that lasts as long as the returned release: it is removed once nothing refers to the
    release any more, or when Python exits, so a notebook can build as often as it
    likes without filling the disk; pass `releases` to keep the files. `weights`
    overrides indicator or component weights by name (whole numbers 0-10), `base` is
    `region`, `local-authority` or `nation`, `reference` a national release folder for
    the nation base. `engine="dask"` runs the heavy stages on Dask (a local cluster, or
    the one at `scheduler`), `"default"` in this process, and `"auto"` on whichever is
    predicted faster for the region's size and the cores or cluster at hand. `echo`
    receives the progress lines (`print` shows them).

    >>> import placeintel
    >>> release = placeintel.build("demo", weights={"broadband": 6})
    >>> release.wards.sort_values("deri_rank").iloc[0]["ward_name"]
    'Chapel Brow'
    """
    echo = echo or _silent
    if scheduler and engine not in ("dask", "auto"):
        raise UsageError("a scheduler goes with the dask engine (--engine dask or auto)")
    if scheduler:
        _reach(scheduler)  # before any work: a wrong address is the first thing to say
    manifest = load_manifest(region, data_dir)
    settings = IndexSettings.with_overrides(
        manifest.index, str(manifest.manifest_path), weights, base, reference
    )
    if releases is not None:
        return build_release(manifest, settings, releases, echo, engine, scheduler)
    temporary = TemporaryReleases()
    echo(
        f"(releases go to a temporary folder, {temporary.path}, removed when this release "
        "is no longer used or Python exits; pass releases= to keep them)"
    )
    try:
        release = build_release(manifest, settings, temporary.path, echo, engine, scheduler)
    except BaseException:
        temporary.cleanup()
        raise
    release.temporary = temporary
    return release


def _reach(scheduler: str) -> None:
    """A Dask scheduler that answers, or a usage error saying which address did not."""
    from distributed import Client

    try:
        Client(scheduler, timeout=10).close()
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None


def load_release(path_or_url: str | Path) -> Release:
    """A published release from its folder (a version, `current`, or the region's folder,
    meaning its current release), or from a running
    placeintel API (`http://...`).

    From an API the layers come through OGC API - Features (GDAL's OAPIF driver, as any
    client would read them) and the metadata from its data package.
    """
    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        return _from_api(text.rstrip("/"))
    folder = Path(text).resolve()
    if not (folder / "datapackage.json").exists() and (folder / "current").is_dir():
        folder = (folder / "current").resolve()  # a region's folder: its current release
    package = _package(folder)
    missing = [n for n in ("wards", "services") if not (folder / f"{n}.parquet").is_file()]
    if missing:
        raise PlaceintelError(
            f"{folder} is not a complete placeintel release: {missing[0]}.parquet is missing"
        )
    lsoas = folder / "lsoas.parquet"
    return Release(
        folder,
        package["version"],
        gpd.read_parquet(folder / "wards.parquet"),
        gpd.read_parquet(folder / "services.parquet"),
        package.get("placeintel", {}),
        gpd.read_parquet(lsoas) if lsoas.is_file() else None,
        package.get("title", ""),
        list(package.get("attribution", [])),
    )


def _package(folder: Path) -> dict[str, Any]:
    descriptor = folder / "datapackage.json"
    if not descriptor.is_file():
        raise PlaceintelError(f"{folder} is not a placeintel release (no datapackage.json)")
    try:
        return json.loads(descriptor.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PlaceintelError(f"{descriptor} is not readable JSON: {error}") from None


def _from_api(base: str) -> Release:
    try:
        with urllib.request.urlopen(f"{base}/release/datapackage.json", timeout=30) as response:
            package = json.load(response)
        layers = {
            name: pyogrio.read_dataframe(f"OAPIF:{base}", layer=name)
            for name in ("wards", "services", "lsoas")
        }
    except (OSError, pyogrio.errors.DataSourceError) as error:
        raise PlaceintelError(f"cannot read a release from {base}: {error}") from None
    # GDAL adds its own feature-id columns; the release's own keys are the ids that matter.
    frames = {
        name: gpd.GeoDataFrame(
            frame.to_crs("EPSG:27700").drop(columns=["id", "gml_id"], errors="ignore")
        )
        for name, frame in layers.items()
    }
    return Release(
        path=Path(urllib.parse.urlparse(base).path or "/"),
        version=package["version"],
        wards=frames["wards"],
        services=frames["services"],
        metadata=package.get("placeintel", {}),
        lsoas=frames["lsoas"],
        title=package.get("title", ""),
        attribution=list(package.get("attribution", [])),
    )


def current(region: str, releases: str | Path = DEFAULT_RELEASES) -> Release:
    """The region's `current` release in a releases folder."""
    return load_release(current_release(Path(releases), region))


def _release_map(release: Release, district: str | None, scheme: str) -> folium.Map:
    from placeintel.maps import MapContent, assemble
    from placeintel.maps.weights import settings_of

    if district is not None and district not in set(release.wards["lad_code"]):
        known = ", ".join(sorted(set(release.wards["lad_code"])))
        raise UsageError(f"no district {district!r} in this release; districts: {known}")
    # A release scaled to the nation records its bounds to 6 decimals only (maps/weights.py).
    index = settings_of(release.metadata)
    content = MapContent(
        release.wards,
        release.services,
        release.title or release.metadata.get("region", ""),
        release.attribution,
        release.lsoas,
        release.metadata.get("labels"),
        metadata=release.metadata,
        version=release.version,
        sources=_sources(release),
        index=index,
        exact_index=index is None or index.base != "nation",
    )
    return assemble(content, district, scheme)


def _sources(release: Release) -> list[dict[str, Any]]:
    """The data package's sources (title and edition), for the map's title block."""
    try:
        package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    sources = package.get("sources") if isinstance(package, dict) else None
    return [s for s in sources if isinstance(s, dict)] if isinstance(sources, list) else []


def explore(release: Release, district: str | None = None, scheme: str = "quantiles") -> folium.Map:
    """The planners' map as a folium object, for inline display in a notebook.

    The same map the build writes (one assembly, `placeintel.maps.assemble`), with
    Leaflet, its plugins and the map's own script and styles carried inside the page
    (`placeintel.maps.inline`): Jupyter shows a map in an iframe of the notebook's own
    page, where neither `file://` links nor a release's relative `assets/` links load.
    So it draws in Jupyter served over HTTP, in VS Code, and for a release read from a
    running API, with no network but for the basemap; `fmap.save("x.html")` writes one
    self-contained file.
    """
    from placeintel.maps.inline import inline_assets

    return inline_assets(_release_map(release, district, scheme))


def save_map(
    release: Release,
    output: str | Path,
    district: str | None = None,
    scheme: str = "quantiles",
) -> Path:
    """The map written to `output`, with Leaflet and the map's assets beside it (offline)."""
    from placeintel.maps import write_map

    return write_map(_release_map(release, district, scheme), Path(output).resolve())


def find_area(release: Release, code_or_name: str) -> tuple[str, pd.Series]:
    """A ward (by code or name) or an LSOA (by code or name) of a release: its level and row.

    A name two wards share (Brooklands in Manchester and in Trafford) is a usage error
    that lists them with their districts and codes, so the user can say which; the CLI's
    `explain` and `Release.explain` ask the same function (`placeintel.areas`).
    """
    return areas.find_area(release.wards, release.lsoas, code_or_name)


def diff(
    region: str, before: str, after: str = "current", releases: str | Path = DEFAULT_RELEASES
) -> ReleaseDiff:
    """What changed from release `before` to `after` (versions, or `current`)."""
    from placeintel.publish.diff import diff_releases

    folders = []
    for version in (before, after):
        folder = Path(releases) / region / version
        if not folder.is_dir():
            raise UsageError(
                f"no release {version!r} for {region!r} in {releases}; "
                f"see `placeintel releases {region}`"
            )
        folders.append(folder.resolve())
    return diff_releases(*folders)


def releases(region: str, releases: str | Path = DEFAULT_RELEASES) -> list[tuple[Path, bool]]:
    """A region's releases, oldest first, each with whether it is `current`."""
    found = list_releases(Path(releases), region)
    if not found:
        raise UsageError(f"no releases for {region!r} in {releases}")
    link = Path(releases) / region / "current"
    now = link.resolve() if link.exists() else None
    return [(path, path == now) for path in found]


def serve(
    region: str,
    releases: str | Path = DEFAULT_RELEASES,
    host: str = "127.0.0.1",
    port: int = 5000,
    threads: int = 8,
    config: str | Path | None = None,
    echo: Echo = print,
    *,
    url: str | None = None,
    connection_limit: int = ServerLimits.connection_limit,
    channel_timeout: int = ServerLimits.channel_timeout,
    max_request_body: int = ServerLimits.max_request_body,
    trusted_proxy: str | None = None,
    workers: int | None = None,
) -> None:
    """Serve the region's current release as OGC API - Features, with the map and downloads.

    `url` is the public base URL for links (behind a reverse proxy); the limits bound what
    clients can hold (placeintel.api.limits); `trusted_proxy` is the proxy whose
    X-Forwarded-* headers are believed; `workers` processes serve (default: one per core).
    """
    from placeintel.api.serve import run

    run(
        region,
        Path(releases),
        host,
        port,
        threads,
        echo,
        Path(config) if config else None,
        url=url,
        limits=ServerLimits(connection_limit, channel_timeout, max_request_body),
        trusted_proxy=trusted_proxy,
        workers=workers,
    )


def publish(
    region: str,
    url: str,
    schema: str = "placeintel",
    releases: str | Path = DEFAULT_RELEASES,
    config_out: str | Path | None = None,
) -> tuple[dict[str, int], Path]:
    """Load the current release into PostGIS; returns the rows per table, and the path of
    the pygeoapi configuration written to serve it."""
    from placeintel.api.metadata import dump
    from placeintel.api.serve import CONFIG
    from placeintel.publish.postgis import postgres_config, publish_to_postgis

    release = current_release(Path(releases), region)
    rows = publish_to_postgis(release, url, schema)
    target = Path(config_out or f"pygeoapi-postgres-{region}.yml")
    target.write_text(dump(postgres_config(CONFIG, url, schema, release)), encoding="utf-8")
    return rows, target


def demo_data(scale: str = "demo", output: str | Path | None = None, echo: Echo = _silent):
    """Generate a synthetic region in the official formats, byte for byte (fixed seed):
    the committed demo, or one at Greater Manchester's or national size. Returns the
    files written."""
    from placeintel.demo.generate import generate
    from placeintel.demo.layout import LAYOUTS
    from placeintel.region import DATASETS_DIR

    if scale not in LAYOUTS:
        raise UsageError(f"unknown scale {scale!r}; one of {', '.join(LAYOUTS)}")
    target = (
        Path(output)
        if output
        else (DATASETS_DIR / "demo" if scale == "demo" else Path("synthetic") / scale)
    )
    return target, generate(target, LAYOUTS[scale], echo=echo if scale != "demo" else None)


def describe(path: str | Path, sheet: str | None = None, layer: str | None = None):
    """A draft Table Schema for a council dataset's file (CSV, GeoJSON, GeoPackage, zipped
    shapefile, XLSX), inferred by frictionless from every row: `.schema` (a dict to review
    and commit), `.rows`, and `.keys` (columns filled and unique: candidates for `key:`)."""
    from placeintel.datasets.describe import draft_schema

    return draft_schema(Path(path), sheet=sheet, layer=layer)


def list_datasets(
    region: str | Path,
    data_dir: str | Path | None = None,
    releases: str | Path = DEFAULT_RELEASES,
) -> list[dict[str, str]]:
    """A region's council datasets (`datasets:` in its manifest): id, title, format,
    geometry, rows in the current release (when built) and licence, one dict each."""
    from placeintel.datasets.describe import dataset_rows

    return dataset_rows(load_manifest(region, data_dir), Path(releases))


#: The names `import placeintel` offers, listed once, in the package (which imports this module
#: on first use of one of them).
__all__ = list(_PUBLIC_API)
