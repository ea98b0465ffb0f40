"""Speed work must not move a published number: the GM-sized synthetic region, generated
and built as a user would, against the fingerprints of the release built before it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from placeintel.cli import main
from tests.published import fingerprint

GOLDEN = Path(__file__).parent / "data" / "published-gm-synthetic.json"


def test_gm_sized_build_publishes_the_same_tables(tmp_path: Path) -> None:
    runner = CliRunner()
    region = tmp_path / "gm"
    made = runner.invoke(main, ["demo-data", "--scale", "gm", "--output", str(region)])
    assert made.exit_code == 0, made.output
    built = runner.invoke(
        main, ["build", str(region / "region.yml"), "--releases", str(tmp_path / "rel")]
    )
    assert built.exit_code == 0, built.output
    got = fingerprint(tmp_path / "rel" / "synthetic-gm" / "current")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert {t: v["rows"] for t, v in got.items()} == {t: v["rows"] for t, v in want.items()}
    changed = [
        f"{table}.{column}"
        for table, entry in want.items()
        for column, digest in entry["columns"].items()
        if got[table]["columns"].get(column) != digest
    ]
    added = [
        f"{table}.{column}"
        for table, entry in got.items()
        for column in entry["columns"]
        if column not in want[table]["columns"]
    ]
    assert not changed and not added, f"changed: {changed}; new: {added}"
