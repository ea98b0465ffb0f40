"""Write frames in every published format: CSV, GeoJSON, GeoPackage, GeoParquet.

Published CSV is safe to open in a spreadsheet: text cells that begin with
`=`, `+`, `-` or `@` are prefixed with an apostrophe so that they are shown as
text rather than run as formulas (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from placeintel.publish.csv_text import write_csv_text
from placeintel.publish.geojson import write_geojson

__all__ = ["write_csv", "write_geojson", "write_gpkg", "write_parquet"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text that a spreadsheet would treat as a formula; leave numbers alone."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            text = out[column].astype("string")
            risky = text.str.startswith(FORMULA_START).fillna(False)
            if risky.any():
                out[column] = text.mask(risky, "'" + text)
    return out


def neutralise_csv_text(text: str) -> str:
    """The same rule for CSV already written by someone else (pygeoapi's `?f=csv`, where
    every cell is text): a cell that starts like a formula and is not a number gets the
    apostrophe."""
    rows = csv.reader(io.StringIO(text, newline=""))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["'" + cell if _formula_like(cell) else cell for cell in row])
    return out.getvalue()


def _formula_like(cell: str) -> bool:
    if not cell.startswith(FORMULA_START):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False  # -2.5, +3: numbers, which a spreadsheet reads as numbers


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """The frame less its geometry, formulas neutralised, as pandas' `to_csv` writes it
    (`csv_text`: the same bytes, a column at a time in Arrow, 4x faster and mostly without
    the GIL)."""
    table = frame.drop(columns="geometry", errors="ignore")
    return write_csv_text(neutralise_formulas(pd.DataFrame(table)), path)


def write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str) -> Path:
    """Through Arrow too: the same table, 2-3x faster than feature by feature."""
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", use_arrow=True)
    return path


def write_parquet(frame: gpd.GeoDataFrame, path: Path) -> Path:
    """GeoParquet with a bounding-box column, so readers can filter without decoding WKB."""
    frame.to_parquet(path, index=False, write_covering_bbox=True)
    return path
