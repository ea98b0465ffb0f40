"""Reading a council dataset's file into a frame of text cells numbered as the file is.

Every format comes out alike: one row per record, indexed by the number a user
finds it at (a CSV's line, a layer's feature number, a sheet's row), every
attribute as text with "" for an empty cell (so that its Table Schema is checked
the same way whatever the format), and for vector files the geometry in
EPSG:27700. Placing rows by coordinates or postcode is `place`.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from placeintel.datasets.manifest import Dataset
from placeintel.errors import DataError
from placeintel.limits import COLUMNS, human_bytes, source_bytes
from placeintel.sources.boundaries import BNG
from placeintel.sources.coordinates import point_problems, refuse_problems
from placeintel.sources.onspd import normalise
from placeintel.sources.tables import numeric, read_csv, read_header
from placeintel.sources.vector import read_vector

#: Rows read from one sheet of a workbook at most: a sheet has 1,048,576 rows.
MAX_SHEET_ROWS = 1_048_576


def read_dataset(path: Path, dataset: Dataset) -> pd.DataFrame:
    """The dataset's records as text cells (and geometry in EPSG:27700 for vector files)."""
    match dataset.format:
        case "csv":
            return _csv(path)
        case "xlsx":
            return _xlsx(path, dataset.sheet)
        case "gpkg":
            return _as_text(read_vector(path, "GeoPackage", layer=_layer(path, dataset.layer)))
        case "shapefile":
            return _as_text(read_vector(path, "shapefile", source=_shapefile_in_zip(path)))
        case _:
            return _as_text(read_vector(path, "GeoJSON"))


def _csv(path: Path) -> pd.DataFrame:
    header, _ = read_header(path)
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        raise DataError(
            "the header is one column holding ';', tab or '|': the file is not comma-separated",
            file=path,
            row=1,
            rule="delimiter",
            hint="save it as CSV with commas between the columns (Excel: CSV UTF-8)",
        )
    return read_csv(path)


def _layer(path: Path, wanted: str | None) -> str:
    """The GeoPackage layer to read: the one named, or the only one."""
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise DataError(f"cannot read GeoPackage: {exc}", file=path) from None
    if wanted is not None:
        if wanted not in layers:
            raise DataError(
                f"the GeoPackage has no layer {wanted!r}",
                file=path,
                field="layer",
                hint=f"its layers: {', '.join(layers[:20]) or 'none'}",
            )
        return wanted
    if len(layers) != 1:
        raise DataError(
            f"the GeoPackage has {len(layers)} layers; name the one to publish with `layer:`",
            file=path,
            field="layer",
            hint=f"its layers: {', '.join(layers[:20]) or 'none'}",
        )
    return layers[0]


def _check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """The members of a zip, refused when it would unpack to more than the source limit."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"not a readable zip file: {exc}", file=path) from None
    total = sum(m.file_size for m in members)
    if total > source_bytes():
        raise DataError(
            f"the zip unpacks to {human_bytes(total)}, more than the limit of "
            f"{human_bytes(source_bytes())}",
            file=path,
            rule="file-too-large",
        )
    return members


def _shapefile_in_zip(path: Path) -> str:
    """GDAL's name for the one shapefile inside a zip."""
    members = _check_zip(path)
    shapes = [m.filename for m in members if m.filename.lower().endswith(".shp")]
    if len(shapes) != 1:
        raise DataError(
            f"a zipped shapefile must hold exactly one .shp, this zip holds {len(shapes)}",
            file=path,
            hint="zip one shapefile's .shp, .shx, .dbf and .prj (and .cpg) together",
        )
    if shapes[0].startswith("/") or ".." in Path(shapes[0]).parts:
        raise DataError("the zip names its shapefile with an unsafe path", file=path)
    return f"/vsizip/{path}/{shapes[0]}"


def _xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    """One sheet, header on row 1, values as text; rows keep their sheet numbers."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(path)
    try:
        # Formulas, not their cached results: a formula is refused below (its result
        # depends on the spreadsheet that last saved it, and a HYPERLINK would publish
        # its display text silently).
        book = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataError(f"cannot read the workbook: {exc}", file=path) from None
    try:
        names = book.sheetnames
        if sheet is None and len(names) != 1:
            raise DataError(
                f"the workbook has {len(names)} sheets; name the one to publish with `sheet:`",
                file=path,
                field="sheet",
                hint=f"its sheets: {', '.join(names[:20])}",
            )
        if sheet is not None and sheet not in names:
            raise DataError(
                f"the workbook has no sheet {sheet!r}",
                file=path,
                field="sheet",
                hint=f"its sheets: {', '.join(names[:20])}",
            )
        rows = book[sheet or names[0]].iter_rows()
        header = next(rows, None)
        if header is None:
            raise DataError("the sheet is empty", file=path)
        labels = _labels(tuple(cell.value for cell in header), path)
        records, numbers, formulas = [], [], []
        for number, row in enumerate(rows, start=2):
            if number > MAX_SHEET_ROWS:
                break
            for position, cell in enumerate(row[: len(labels)]):
                if getattr(cell, "data_type", None) == "f" and len(formulas) < 20:
                    formulas.append(
                        DataError(
                            "the cell holds a formula, not a value",
                            file=path,
                            row=number,
                            field=labels[position],
                            rule="formula-cell",
                            hint="publish values: copy the sheet and paste it as values "
                            "before saving",
                        )
                    )
            cells = [_text(cell.value) for cell in row[: len(labels)]]
            if any(cells):
                records.append(cells + [""] * (len(labels) - len(cells)))
                numbers.append(number)
    finally:
        book.close()
    if formulas:
        first, *more = formulas
        raise DataError(
            first.message,
            file=first.file,
            row=first.row,
            field=first.field,
            rule=first.rule,
            hint=first.hint,
            more=tuple(more),
        )
    return pd.DataFrame(records, columns=labels, index=pd.Index(numbers, dtype="int64"))


def _labels(header: tuple[Any, ...], path: Path) -> list[str]:
    labels = [_text(v).strip() for v in header]
    while labels and not labels[-1]:
        labels.pop()  # a sheet's used range often runs past its last column
    if len(labels) > COLUMNS:
        raise DataError(f"the header has more than {COLUMNS:,} columns", file=path, row=1)
    return labels


def _text(value: Any) -> str:
    """A cell as text, as a spreadsheet shows it: 12 not 12.0, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(float(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is pd.NaT:
        return ""
    return str(value)


def _as_text(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A vector file's attributes as text; its geometry in EPSG:27700."""
    out = gpd.GeoDataFrame(
        {
            str(c): frame[c].map(_text).astype(object)
            for c in frame.columns
            if c != frame.geometry.name
        },
        geometry=frame.geometry.to_crs(BNG).values,
        crs=BNG,
        index=frame.index,
    )
    return out


def place(
    frame: pd.DataFrame,
    dataset: Dataset,
    path: Path,
    postcodes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The frame with its rows placed, as the manifest says: a GeoDataFrame in EPSG:27700,
    or the frame as it is for `geometry: none`.

    Every coordinate that cannot be a place is an error naming its row and column
    (`coordinates.refuse_problems`); so is a postcode the directory does not know.
    """
    kind, columns = dataset.geometry.kind, dataset.geometry.columns
    if kind in ("none", "file"):
        if kind == "file":
            _refuse_empty(frame, path)
        return frame
    for column in columns:
        if column not in frame.columns:
            raise DataError(
                "the column the manifest names for the geometry is missing",
                file=path,
                field=column,
                rule="missing-column",
                hint=f"columns present: {', '.join(map(str, frame.columns[:12]))}",
            )
    if kind == "postcode":
        x, y = _postcode_points(frame, columns[0], path, postcodes)
        crs, fields = BNG, (columns[0], columns[0])
    else:
        x, y = numeric(frame, columns[0], path), numeric(frame, columns[1], path)
        crs, fields = (CRS("OGC:CRS84") if kind == "lonlat" else BNG), (columns[0], columns[1])
    refuse_problems(point_problems(x, y, CRS(crs), fields), path)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=crs)
    return points.to_crs(BNG)


def _refuse_empty(frame: pd.DataFrame, path: Path) -> None:
    empty = frame.geometry.isna() | frame.geometry.is_empty
    if empty.any():
        rows = [int(r) for r in frame.index[empty.to_numpy()][:20]]
        first, *more = [
            DataError(
                "feature has no geometry",
                file=path,
                row=row,
                field="geometry",
                rule="invalid-coordinate",
                hint="every feature needs a place; publish it as a table with geometry: none "
                "if it has none",
            )
            for row in rows
        ]
        first.more = tuple(more)
        raise first


def _postcode_points(
    frame: pd.DataFrame, column: str, path: Path, postcodes: pd.DataFrame | None
) -> tuple[pd.Series, pd.Series]:
    """Each row's postcode centroid (ONSPD's grid reference, EPSG:27700)."""
    if postcodes is None or "easting" not in postcodes:
        raise DataError(
            "the ONS Postcode Directory was not read, or has no grid reference columns "
            "(oseast1m, osnrth1m), so rows cannot be placed by postcode",
            file=path,
            field=column,
            rule="postcode-lookup",
        )
    codes = normalise(frame[column].astype(str))
    # Only the directory's rows for these postcodes (a council's few dozen against 1.7
    # million nationally: indexing them all cost about a second); the first row of each,
    # as before, since filtering keeps their order.
    wanted = postcodes[postcodes["postcode"].isin(codes.unique())]
    lookup = wanted.drop_duplicates("postcode").set_index("postcode")
    x = codes.map(lookup["easting"])
    y = codes.map(lookup["northing"])
    unknown = x.isna() | y.isna()
    if unknown.any():
        rows = [int(r) for r in frame.index[unknown.to_numpy()]]
        errors = [
            DataError(
                f"postcode {frame[column][row]!r} is not in the ONS Postcode Directory, or has "
                "no grid reference there",
                file=path,
                row=row,
                field=column,
                rule="unknown-postcode",
                hint="check the postcode; a new postcode needs a newer ONSPD edition",
            )
            for row in rows[:20]
        ]
        if len(rows) > 20:
            errors.append(
                DataError(
                    f"{len(rows) - 20} more rows with unknown postcodes",
                    file=path,
                    field=column,
                    rule="unknown-postcode",
                )
            )
        first, *more = errors
        first.more = tuple(more)
        raise first
    return x.astype(float), y.astype(float)
