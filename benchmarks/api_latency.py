"""API latency at a million features: placeintel's provider against pygeoapi's own and two floors.

One run, one process, the same data for everyone (the machines are shared and
noisy, so only same-run ratios mean much):

- placeintel's ReleaseProvider over GeoParquet, 1,000,000 points and 7,000 polygons;
- pygeoapi's stock GeoJSON provider and stock Parquet provider on the same points;
- pygeoapi's floor: the stock GeoJSON provider on a 100-feature file;
- the bare floor: a Flask route returning the same pre-serialised page bytes.

Each query asks for a 100-item page: plain, bbox, CQL2-filtered and sorted.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
import yaml
from flask import Flask, Response

from placeintel.api.serve import CONFIG, pygeoapi_app

N_POINTS = 1_000_000
N_WARDS = 7_000
SEED = 7
QUERIES = {
    "100-item page": "limit=100",
    "bbox page": "limit=100&bbox=-2.05,52.95,-2.00,53.00",
    "CQL2-filtered page": "limit=100&filter=value%20%3E%20900%20AND%20category%3D%27library%27",
    "sorted page": "limit=100&sortby=-value",
}
REPEATS = {
    "placeintel": 300,
    "stock Parquet": 15,
    "stock GeoJSON": 3,
    "pygeoapi floor": 300,
    "bare Flask floor": 1000,
}


def make_points(folder: Path) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(SEED)
    lon, lat = rng.uniform(-3, -1, N_POINTS), rng.uniform(52, 54, N_POINTS)
    categories = np.array(
        ["library", "digital-support", "tablet-lending", "free-data", "jobcentre", "pharmacy"]
    )
    points = gpd.GeoDataFrame(
        {
            "point_id": [f"P{i:07d}" for i in range(N_POINTS)],
            "category": categories[rng.integers(0, len(categories), N_POINTS)],
            "value": np.round(rng.uniform(0, 1000, N_POINTS), 3),
            "lon": lon,
            "lat": lat,  # the stock Parquet provider needs x/y columns for bbox
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="OGC:CRS84",
    )
    points.to_parquet(folder / "points.parquet", index=False, write_covering_bbox=True)
    pyogrio.write_dataframe(points, folder / "points.geojson", driver="GeoJSON")
    pyogrio.write_dataframe(points.iloc[:100], folder / "tiny.geojson", driver="GeoJSON")
    return points


def make_wards(folder: Path) -> None:
    """7,000 polygons on a 100 x 70 grid, each a slightly irregular hexagon-ish shape."""
    rng = np.random.default_rng(SEED)
    cols, rows = np.meshgrid(np.arange(100), np.arange(70))
    x, y = -3 + cols.ravel() * 0.02, 52 + rows.ravel() * 0.028
    shapes = [
        shapely.Polygon(
            [
                (a, b),
                (a + 0.02, b),
                (a + 0.021, b + 0.014),
                (a + 0.02, b + 0.028),
                (a, b + 0.028),
                (a - 0.001, b + 0.014),
            ]
        )
        for a, b in zip(x, y, strict=True)
    ]
    wards = gpd.GeoDataFrame(
        {
            "ward_code": [f"E05{i:06d}" for i in range(N_WARDS)],
            "deri_score": np.round(rng.uniform(0, 10, N_WARDS), 6),
        },
        geometry=shapes,
        crs="OGC:CRS84",
    )
    wards.to_parquet(folder / "wards.parquet", index=False)


def configure(folder: Path) -> None:
    settings = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))

    def collection(name: str, provider: dict) -> dict:
        return {
            "type": "collection",
            "title": name,
            "description": name,
            "keywords": [name],
            "extents": {
                "spatial": {
                    "bbox": [-3, 52, -1, 54],
                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                }
            },
            "providers": [{"type": "feature", **provider}],
        }

    ours = "placeintel.api.provider.ReleaseProvider"
    settings["resources"] = {
        "placeintel": collection(
            "placeintel",
            {"name": ours, "data": str(folder / "points.parquet"), "id_field": "point_id"},
        ),
        "placeintel-wards": collection(
            "wards", {"name": ours, "data": str(folder / "wards.parquet"), "id_field": "ward_code"}
        ),
        "stock-parquet": collection(
            "stock-parquet",
            {
                "name": "Parquet",
                "data": {"source": str(folder / "points.parquet")},
                "id_field": "point_id",
                "x_field": "lon",
                "y_field": "lat",
            },
        ),
        "stock-geojson": collection(
            "stock-geojson",
            {"name": "GeoJSON", "data": str(folder / "points.geojson"), "id_field": "point_id"},
        ),
        "pygeoapi-floor": collection(
            "pygeoapi-floor",
            {"name": "GeoJSON", "data": str(folder / "tiny.geojson"), "id_field": "point_id"},
        ),
    }
    config = folder / "pygeoapi.yml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    os.environ["PYGEOAPI_CONFIG"] = str(config)
    os.environ.setdefault("PLACEINTEL_URL", "http://127.0.0.1:5000")
    from pygeoapi.openapi import generate_openapi_document

    openapi = folder / "openapi.yml"
    openapi.write_text(generate_openapi_document(config, "yaml"), encoding="utf-8")
    os.environ["PYGEOAPI_OPENAPI"] = str(openapi)


def timings(client, url: str, repeats: int) -> tuple[list[float], int]:
    """Seconds per request after one warm-up request, and the status code."""
    status = client.get(url).status_code
    if status != 200:
        return [], status
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - started)
    return times, status


def floor_app(body: bytes) -> Flask:
    app = Flask("floor")

    @app.route("/page")
    def page() -> Response:
        return Response(body, mimetype="application/geo+json")

    return app


def main() -> None:
    print(
        f"API latency - {platform.node()} ({os.cpu_count()} cores), Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        make_points(folder)
        make_wards(folder)
        configure(folder)
        client = pygeoapi_app().test_client()
        print(
            f"data and config ready in {time.perf_counter() - started:.1f}s "
            f"({N_POINTS:,} points, {N_WARDS:,} polygons)"
        )
        rows = []
        for query, params in QUERIES.items():
            results = {}
            for label, collection in (
                ("placeintel", "placeintel"),
                ("stock Parquet", "stock-parquet"),
                ("stock GeoJSON", "stock-geojson"),
                ("pygeoapi floor", "pygeoapi-floor"),
            ):
                url = f"/collections/{collection}/items?f=json&{params}"
                results[label] = timings(client, url, REPEATS[label])
            body = client.get(f"/collections/placeintel/items?f=json&{params}").data
            floor = floor_app(body).test_client()
            results["bare Flask floor"] = timings(floor, "/page", REPEATS["bare Flask floor"])
            wards = timings(
                client,
                f"/collections/placeintel-wards/items?f=json&"
                f"{params.replace('value', 'deri_score').replace('%3E%20900', '%3E%209')}".replace(
                    "%20AND%20category%3D%27library%27", ""
                ),
                100,
            )
            results["placeintel, 7,000 polygons"] = wards
            rows.append((query, results))
        report(rows)


def report(rows: list[tuple[str, dict]]) -> None:
    print(
        f"\n{'query':<20}{'provider':<28}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}"
        f"{'vs placeintel':>15}"
    )
    for query, results in rows:
        ours = statistics.median(results["placeintel"][0])
        for label, (times, status) in results.items():
            if not times:
                print(f"{query:<20}{label:<28}{'HTTP ' + str(status):>9}   (not supported)")
                continue
            p50 = statistics.median(times)
            p95 = float(np.percentile(times, 95))
            print(
                f"{query:<20}{label:<28}{p50 * 1e3:>9.2f}{p95 * 1e3:>9.2f}"
                f"{1 / statistics.mean(times):>9.0f}{p50 / ours:>14.1f}x"
            )
    bbox = dict(rows)["bbox page"]
    ours = statistics.median(bbox["placeintel"][0])
    print("\nTargets for the 100-item bbox page on 1M points:")
    print(f"  p50 {ours * 1e3:.2f} ms (target < 20 ms)")
    for label, target in (("stock GeoJSON", 100), ("stock Parquet", 10)):
        times = bbox[label][0]
        if times:
            ratio = statistics.median(times) / ours
            print(f"  {ratio:,.0f}x faster than {label} (target >= {target}x)")
        else:
            print(f"  {label}: HTTP {bbox[label][1]} (cannot answer a bbox query)")
    for label in ("pygeoapi floor", "bare Flask floor"):
        print(
            f"  {ours / statistics.median(bbox[label][0]):.1f}x the {label}"
            + (" (target within 3x)" if label == "pygeoapi floor" else "")
        )


if __name__ == "__main__":
    main()
