"""The analysts' Python API, re-exported by `placeintel`: the same functions the CLI wraps.

It is meant to feel like geopandas: plain GeoDataFrames in and out, one call per
step, and the same errors the CLI prints (`placeintel.PlaceintelError`).

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
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pyogrio

from placeintel.errors import PlaceintelError
from placeintel.index import IndexSettings
from placeintel.maps import district_lsoas
from placeintel.maps.attribution import compact_attribution
from placeintel.maps.hotspot_map import build_map, ranked
from placeintel.pipeline import Release, ValidationFailed
from placeintel.pipeline import build as _build
from placeintel.pipeline import load_release as _load_folder
from placeintel.region import load_manifest
from placeintel.validate import Report, validate_sources
from placeintel.validate import validate as _validate


def validate(region: str | Path, data_dir: str | Path | None = None) -> Report:
    """Check a region's sources: `.ok`, `.errors`, `.warnings`, `.to_frame()`, `.to_text()`.

    >>> import placeintel
    >>> placeintel.validate("demo").to_frame().columns.tolist()[:4]
    ['severity', 'rule', 'message', 'file']
    """
    return _validate(region, data_dir)


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
    out: str | Path | None = None,
    weights: dict[str, float] | None = None,
    base: str | None = None,
    data_dir: str | Path | None = None,
    quiet: bool = True,
) -> Release:
    """Build and publish a release; returns it with `.wards`, `.services`, `.package`, `.explain()`.

    `weights` overrides indicator or component weights by name (whole numbers 0-10), `base`
    is `region`, `local-authority` or `nation`. Without `out`, releases go to a temporary folder.

    >>> import placeintel
    >>> release = placeintel.build("demo", weights={"broadband": 6})
    >>> release.wards.sort_values("deri_rank").iloc[0]["ward_name"]
    'Chapel Brow'
    """
    manifest = load_manifest(region, data_dir)
    settings = IndexSettings.with_overrides(
        manifest.index, str(manifest.manifest_path), weights, base
    )
    target = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="placeintel-"))
    return _build(
        region,
        data_dir=data_dir,
        out=target,
        settings=settings,
        echo=(lambda line: None) if quiet else print,
    )


def load_release(path_or_url: str | Path) -> Release:
    """A published release from its folder, or from a running placeintel API (`http://...`).

    From an API the wards and services come through OGC API - Features (GDAL's OAPIF
    driver, as any client would read them) and the metadata from its data package.
    """
    text = str(path_or_url)
    if not text.startswith(("http://", "https://")):
        return _load_folder(Path(text))
    base = text.rstrip("/")
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
    wards, services, lsoas = (
        layers[name].to_crs("EPSG:27700").drop(columns=["id", "gml_id"], errors="ignore")
        for name in ("wards", "services", "lsoas")
    )
    return Release(
        path=Path(urllib.parse.urlparse(base).path or "/"),
        version=package["version"],
        wards=gpd.GeoDataFrame(wards),
        services=gpd.GeoDataFrame(services),
        metadata=package.get("placeintel", {}),
        lsoas=gpd.GeoDataFrame(lsoas),
    )


def explore(release: Release, district: str | None = None, scheme: str = "quantiles") -> folium.Map:
    """The planners' map as a folium object, for inline display in a notebook.

    Leaflet is loaded from the release's own assets when the release is a folder on disk.
    """
    wards, services, lsoas = release.wards, release.services, release.lsoas
    totals = (ranked(wards), ranked(lsoas))
    if district:
        wards = wards[wards["lad_code"] == district]
        lsoas = district_lsoas(lsoas, district)
    districts = wards.dissolve("lad_code", as_index=False)[["lad_code", "lad_name", "geometry"]]
    package = release.path / "datapackage.json"
    attribution = ""
    if package.is_file():
        attribution = compact_attribution(json.loads(package.read_text())["attribution"])
    fmap = build_map(
        gpd.GeoDataFrame(wards),
        services,
        release.metadata.get("region", ""),
        attribution,
        districts,
        scheme,
        lsoas if lsoas is not None and "deri_score" in lsoas else None,
        release.metadata.get("labels"),
        totals,
    )
    if (release.path / "assets").is_dir():
        fmap.default_js = [(n, (release.path / p).as_uri()) for n, p in fmap.default_js]
        fmap.default_css = [(n, (release.path / p).as_uri()) for n, p in fmap.default_css]
    return fmap


__all__ = ["Release", "Report", "build", "explore", "load_region", "load_release", "validate"]
