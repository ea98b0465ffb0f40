"""GeoJSON as the release publishes it; `geojson_jobs` runs `main` in worker processes, so
this module imports only what writing GeoJSON needs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pyogrio

from placeintel.publish.geojson_text import write_geojson_text


def write_geojson(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """RFC 7946: WGS84 coordinates and counter-clockwise exterior rings (GDAL does both).

    The text GDAL would write, made from whole columns (`geojson_text`: the same bytes in
    about a third of GDAL's CPU time, national layers 19.5 -> 8.4 s); GDAL itself (through
    Arrow) for any frame that module does not handle.
    """
    shaped = frame.to_crs("OGC:CRS84")
    if write_geojson_text(shaped, path.stem, path):
        return path
    pyogrio.write_dataframe(
        shaped,
        path,
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "WRITE_BBOX": "YES"},
        use_arrow=True,
    )
    return path


def main(argv: Sequence[str]) -> int:
    """`PARQUET GEOJSON [PARQUET GEOJSON ...]`: each GeoJSON from a release's GeoParquet."""
    if not argv or len(argv) % 2:
        print("usage: PARQUET GEOJSON [PARQUET GEOJSON ...]", file=sys.stderr)
        return 2
    for parquet, geojson in zip(argv[::2], argv[1::2], strict=True):
        write_geojson(gpd.read_parquet(parquet), Path(geojson))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
