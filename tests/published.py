"""Fingerprints of a release's published tables, to show a change left every number alone.

Each index layer's CSV (what users download) is read as text; per column, the values
(numbers as 6 significant digits, so the last bits of a float on another machine do not
count) are hashed in row order. `python -m tests.published RELEASE > FILE` writes them;
`tests/test_published.py` builds the GM-sized synthetic region and compares with the file
written before issue 18's speed work (tests/data/published-gm-synthetic.json). Regenerate
it only for a change that is meant to alter published numbers, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

#: The index layers and the indicator catalogue (council datasets are checked elsewhere).
TABLES = ("wards", "lsoas", "services", "broadband", "deprivation", "indicators")


def _cell(text: str) -> str:
    try:
        return f"{float(text):.6g}"
    except ValueError:
        return text


def fingerprint(release: Path) -> dict[str, dict]:
    """{table: {"rows": n, "columns": {column: sha256 of its values}}}."""
    out: dict[str, dict] = {}
    for table in TABLES:
        frame = pd.read_csv(release / f"{table}.csv", dtype=str, keep_default_na=False)
        columns = {
            name: hashlib.sha256("\n".join(map(_cell, frame[name])).encode()).hexdigest()[:16]
            for name in frame.columns
        }
        out[table] = {"rows": len(frame), "columns": columns}
    return out


if __name__ == "__main__":
    json.dump(fingerprint(Path(sys.argv[1])), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
