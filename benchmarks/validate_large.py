"""Large-file validation: the column-wise checker against frictionless's row-by-row pass.

A national-shaped Ofcom coverage file is synthesised from the demo's (unique area codes,
one-decimal percentages, two planted errors). The baseline is frictionless validating
the same file row by row in the same run; both must report the same findings.
"""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from placeintel.region import load_manifest
from placeintel.sources import FORMATS
from placeintel.sources.tables import read_header
from placeintel.validate.report import Report
from placeintel.validate.tables import load_schema, validate_table

DEMO = Path(__file__).resolve().parents[1] / "datasets" / "demo"
SIZES = (200_000, 1_700_000)  # a large region; England's postcode-level file


def _file(folder: Path, rows: int) -> Path:
    demo = pd.read_csv(DEMO / "broadband" / "202401_fixed_oa21_coverage_r01.csv", dtype=str)
    rng = np.random.default_rng(1)
    frame = demo.sample(rows, replace=True, random_state=1).reset_index(drop=True)
    frame[frame.columns[0]] = [f"E{i:08d}" for i in range(rows)]
    frame[frame.columns[2]] = np.round(rng.uniform(0, 100, rows), 1).astype(str)
    frame.loc[rows // 7, frame.columns[2]] = "101.5"
    frame.loc[rows // 2, frame.columns[1]] = "-3"
    path = folder / f"coverage_{rows}.csv"
    frame.to_csv(path, index=False)
    return path


def _check(path: Path, bulk: bool) -> tuple[float, set]:
    manifest = load_manifest(DEMO)
    source = next(s for s in manifest.sources if "coverage" in s.path)
    header, _ = read_header(path)
    options = {"source_id": source.id, **source.options}
    mapping = FORMATS[source.reader].header_map([h.strip() for h in header], source.role, options)
    report = Report("bench")
    start = time.perf_counter()
    validate_table(
        path, load_schema(FORMATS[source.reader].schema_for(source)), mapping, report, bulk
    )
    found = {(f.rule, f.row, f.field, f.value) for f in report.errors}
    return time.perf_counter() - start, found


def main() -> None:
    print(f"## Large-file validation ({platform.node()}, {time.strftime('%Y-%m-%d')})")
    print("| rows | frictionless (s) | column-wise (s) | speed-up | same findings |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for rows in SIZES:
            path = _file(Path(folder), rows)
            slow, expected = _check(path, bulk=False)
            fast, found = _check(path, bulk=True)
            print(
                f"| {rows:,} | {slow:.1f} | {fast:.1f} | {slow / fast:.1f}× | {found == expected} |"
            )


if __name__ == "__main__":
    main()
