"""csv_text writes what pandas' to_csv writes, byte for byte, for every kind of column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from placeintel.publish.csv_text import NEEDS_QUOTES, float_text, write_csv_text
from placeintel.publish.writers import neutralise_formulas, write_csv

FLOATS = [
    1.0, 0.1, 1e-05, 1e-4, 0.0001, 9.999e-05, 1e16, 1e15, 9999999999999998.0, 1e+16 + 2,
    123456789012345678.0, 0.0, -0.0, 1e300, 5e-324, 1e22, 1e21, 1e-7, 0.00012, 2.5e-5,
    100.0, 1e17, -1.5, 146249005932.12158, 3436395907061190.5, 0.30000000000000004,
    np.nan, np.inf, -np.inf, 1 / 3, -2 / 3, 12.5, 1234567.0,
]  # fmt: skip


def pandas_bytes(frame: pd.DataFrame, tmp_path: Path) -> bytes:
    path = tmp_path / "pandas.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    return path.read_bytes()


def ours(frame: pd.DataFrame, tmp_path: Path) -> bytes:
    return write_csv_text(frame, tmp_path / "ours.csv").read_bytes()


def test_floats_are_written_as_repr(tmp_path: Path) -> None:
    rng = np.random.default_rng(18)
    values = np.concatenate(
        [
            FLOATS,
            rng.random(20_000),
            rng.normal(size=20_000) * 1e6,
            np.exp(rng.uniform(-60, 60, 20_000)),
            -np.exp(rng.uniform(-60, 60, 20_000)),
            np.round(rng.random(20_000) * 100, 2),
            rng.integers(0, 10**9, 20_000).astype(float),
            np.nextafter(10.0 ** np.arange(-6, 18), 0),
            np.nextafter(10.0 ** np.arange(-6, 18), np.inf),
        ]
    )
    expected = ["" if np.isnan(v) else repr(float(v)) for v in values]
    assert float_text(values).to_pylist() == expected
    frame = pd.DataFrame({"x": values, "y": values[::-1]})
    assert ours(frame, tmp_path) == pandas_bytes(frame, tmp_path)


def test_every_kind_of_column(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "float": [1.0, np.nan, -0.0, 1e-05, 1e16],
            "int": [1, -2, 0, 2**62, 7],
            "nullable": pd.array([1, None, 3, None, -5], dtype="Int64"),
            "flag": [True, False, True, True, False],
            "nullable flag": pd.array([True, None, False, True, None], dtype="boolean"),
            "text": ["a,b", 'say "hi"', "two\nlines", "", None],
            "formula": ["=SUM(A1)", "+1", "-x", "@me", "\tx"],
            "carriage": ["a\rb", " lead", "trail ", "é ü 中", "x"],
            "category": pd.Categorical(["hot", "cold", None, "hot", "not, significant"]),
            "object": pd.Series([1, "two", 3.5, None, True], dtype=object),
            "float32": np.array([0.1, 1.5, np.nan, 3, 1e-05], dtype=np.float32),
            "Float64": pd.array([0.1, None, 2.0, 1e16, -0.0], dtype="Float64"),
            "int32": np.array([1, 2, 3, 4, 5], dtype=np.int32),
            "when": pd.to_datetime(["2024-01-01", None, "2024-03-01", "2024-04-01", "2025-1-1"]),
            'head,"quoted"': ["x"] * 5,
        }
    )
    frame = neutralise_formulas(frame)
    assert ours(frame, tmp_path) == pandas_bytes(frame, tmp_path)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"only": ["", "a", None, '"']}),
        pd.DataFrame({"only": [np.nan, 1.0]}),
        pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=str)}),
        pd.DataFrame({"a": ["", ""], "b": [None, ""]}),
        pd.DataFrame(),
        pd.DataFrame({"a": [1.5, 2.5]}, index=[10, 20]),
        pd.DataFrame({1: [1.0], 2.5: ["x"]}),
    ],
    ids=["one empty cell", "one float", "no rows", "all empty", "nothing", "index", "labels"],
)
def test_shapes(frame: pd.DataFrame, tmp_path: Path) -> None:
    assert ours(frame, tmp_path) == pandas_bytes(frame, tmp_path)


def test_quoting_rule_is_csv_modules() -> None:
    """Every code point csv.writer quotes is in NEEDS_QUOTES, and nothing else."""
    import re

    quoted = set()
    for point in range(0x10000):
        if 0xD800 <= point < 0xE000:
            continue
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([f"a{chr(point)}b"])
        if out.getvalue() != f"a{chr(point)}b\n":
            quoted.add(chr(point))
    assert quoted == {c for c in map(chr, range(0x10000)) if re.fullmatch(NEEDS_QUOTES, c)}


def test_write_csv_drops_geometry_and_neutralises(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    frame = gpd.GeoDataFrame(
        {"name": ["=cmd", "ok"], "value": [0.5, 2.0]},
        geometry=[Point(0, 0), Point(1, 1)],
        crs="EPSG:27700",
    )
    written = write_csv(frame, tmp_path / "x.csv").read_text()
    assert written == "name,value\n'=cmd,0.5\nok,2.0\n"
