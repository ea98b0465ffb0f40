"""Large layers' GeoJSON is written by worker processes from the GeoParquet: the same bytes
as in the build's own process, and a failure is a clear error naming the file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from placeintel.publish import geojson_jobs
from placeintel.publish.writers import write_geojson, write_parquet


def _frame(rows: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [f"E{n:08d}" for n in range(rows)],
            "name": ['Ā & <b>"quoted"</b> =1+1' if n % 3 == 0 else None for n in range(rows)],
            "share": [n / 7 if n % 5 else float("nan") for n in range(rows)],
            "count": gpd.pd.array([n if n % 4 else None for n in range(rows)], dtype="Int64"),
            "flag": [n % 2 == 0 for n in range(rows)],
        },
        geometry=shapely.box(
            [400_000.0 + 10 * n for n in range(rows)],
            300_000.0,
            [400_007.25 + 10 * n for n in range(rows)],
            300_009.5,
        ),
        crs="EPSG:27700",
    )


def test_workers_write_the_same_bytes(tmp_path: Path) -> None:
    frames = {"big": _frame(300), "small": _frame(7), "middle": _frame(40)}
    jobs = []
    (tmp_path / "here").mkdir()  # the same file names: GDAL names the collection after it
    for name, frame in frames.items():
        write_geojson(frame, tmp_path / "here" / f"{name}.geojson")
        parquet = write_parquet(frame, tmp_path / f"{name}.parquet")
        jobs.append((parquet, tmp_path / f"{name}.geojson", len(frame)))
    with ThreadPoolExecutor(geojson_jobs.workers()) as pool:
        futures = geojson_jobs.start(pool, jobs)
        assert len(futures) == min(len(jobs), geojson_jobs.workers())
        for future in futures:
            future.result()
    for name in frames:
        here = (tmp_path / "here" / f"{name}.geojson").read_bytes()
        assert (tmp_path / f"{name}.geojson").read_bytes() == here


def test_a_failed_worker_names_its_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.parquet"
    with ThreadPoolExecutor(1) as pool:
        (future,) = geojson_jobs.start(pool, [(missing, tmp_path / "gone.geojson", 1)])
        with pytest.raises(RuntimeError, match=r"writing gone\.geojson failed: .*gone\.parquet"):
            future.result()
