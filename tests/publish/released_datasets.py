"""A copy of the demo release with two council datasets, as the build publishes them.

Until the build writes council datasets itself (issue 16, core's part), the API tests
add them to a copy of a built demo release exactly as the contract between core and api
says: the files beside wards.parquet, the resources and the `placeintel.datasets` entries
in datapackage.json. `warm-spaces` has point geometry (placed at the demo's services);
`grants` has none.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

from placeintel.publish.catalog import write_catalog

OGL = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}
HOURS = ("Mon-Fri 09:00-17:00", "Sat 10:00-16:00", "Tue, Thu 13:00-19:00")


def warm_spaces(services: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One warm space at each of the first 25 services, with opening hours and seats."""
    places = services.head(25).reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "space_id": [f"WS{n:03d}" for n in range(1, len(places) + 1)],
            "name": [f"Warm space at {name}" for name in places["name"]],
            "opening_hours": [HOURS[n % 3] for n in range(len(places))],
            "seats": [10 + 5 * (n % 7) for n in range(len(places))],
            "postcode": places["postcode"],
        },
        geometry=places.geometry.to_numpy(),
        crs=services.crs,
    )


def grants() -> gpd.GeoDataFrame:
    """A grants register: 30 rows and no geometry (the geometry column is all null)."""
    count = 30
    return gpd.GeoDataFrame(
        {
            "grant_id": [f"G{n:04d}" for n in range(1, count + 1)],
            "recipient": [f"Community group {n}" for n in range(1, count + 1)],
            "amount": [500.0 + 250 * (n % 9) for n in range(count)],
            "awarded": pd.date_range("2025-04-01", periods=count, freq="7D").strftime("%Y-%m-%d"),
        },
        geometry=gpd.GeoSeries([None] * count, crs="EPSG:27700"),
    )


def _resource(name: str, path: Path, title: str, fmt: str, mediatype: str) -> dict:
    return {
        "name": name,
        "title": title,
        "path": path.name,
        "type": "table" if fmt == "csv" else "file",
        "format": fmt,
        "mediatype": mediatype,
        "bytes": path.stat().st_size,
        "licenses": [OGL],
    }


def _publish(folder: Path, frame: gpd.GeoDataFrame, entry: dict) -> dict:
    """Write the dataset's files and return its data package resources, per the contract."""
    identifier = entry["id"]
    csv = folder / f"{identifier}.csv"
    pd.DataFrame(frame.drop(columns="geometry")).to_csv(csv, index=False)
    frame.to_crs("EPSG:27700").to_parquet(folder / f"{identifier}.parquet")
    resources = [_resource(f"{identifier}-csv", csv, entry["title"], "csv", "text/csv")]
    files = {"csv": csv.name, "parquet": f"{identifier}.parquet"}
    if entry["geometry"]:
        frame.to_crs("OGC:CRS84").to_file(folder / f"{identifier}.geojson", driver="GeoJSON")
        frame.to_crs("EPSG:27700").to_file(
            folder / f"{identifier}.gpkg", layer=identifier, driver="GPKG"
        )
        for suffix, media in (
            ("geojson", "application/geo+json"),
            ("gpkg", "application/geopackage+sqlite3"),
            ("parquet", "application/vnd.apache.parquet"),
        ):
            path = folder / f"{identifier}.{suffix}"
            resources.append(
                _resource(f"{identifier}-{suffix}", path, entry["title"], suffix, media)
            )
            files[suffix] = path.name
        entry["bbox"] = [round(v, 6) for v in frame.to_crs("OGC:CRS84").total_bounds]
    entry["files"] = files
    entry["rows"] = len(frame)
    return resources


def descriptor(identifier: str, geometry: str | None) -> dict:
    """A `placeintel.datasets` entry as the contract gives it (files, rows and bbox are
    filled in by `_publish`)."""
    entry = {
        "id": identifier,
        "title": identifier.replace("-", " ").capitalize(),
        "description": f"The council's {identifier.replace('-', ' ')}.",
        "keywords": [identifier, "council"],
        "licence": dict(OGL),
        "attribution": "Contains public sector information licensed under the OGL v3.0.",
        "publisher": "Demo City Council",
        "contact": {"name": "Open data team", "email": "opendata@demo-city.example"},
        "update_frequency": "monthly",
        "key": "space_id" if geometry else "grant_id",
        "title_field": "name" if geometry else "recipient",
        "geometry": geometry,
        "bbox": None,
        "modified": "2026-10-01",
        "source": {"path": f"{identifier}.csv", "url": "https://demo-city.example/data"},
    }
    return entry


def with_datasets(
    release: Path, root: Path, *, warm: dict | None = None, grant: dict | None = None
) -> Path:
    """A copy of `release` under `root/releases/demo/` (with `current` pointing at it) that
    publishes `warm-spaces` and `grants`; `warm` and `grant` change their descriptors
    after the files are written.
    Returns the releases folder to serve."""
    folder = root / "releases" / "demo" / release.name
    shutil.copytree(release, folder, symlinks=True)
    (folder.parent / "current").symlink_to(folder.name, target_is_directory=True)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    services = gpd.read_parquet(folder / "services.parquet")
    entries = [descriptor("warm-spaces", "point"), descriptor("grants", None)]
    for entry, frame in zip(entries, [warm_spaces(services), grants()], strict=True):
        package["resources"] += _publish(folder, frame, entry)
    # A test's changes come after the files are written: they can make a descriptor lie.
    entries[0].update(warm or {})
    entries[1].update(grant or {})
    package.setdefault("placeintel", {})["datasets"] = entries
    (folder / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
    write_catalog(folder)  # as the build does, once datapackage.json is written
    return root / "releases"
