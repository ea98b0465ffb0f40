"""Speed work must not move a published number: the GM-sized synthetic region, generated
and built as a user would, against the fingerprints of the release built before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from placeintel.cli import main
from placeintel.index import draws, hotspots
from tests.published import fingerprint

GOLDEN = Path(__file__).parent / "data" / "published-gm-synthetic.json"


@pytest.mark.parametrize("drawn_beside", [False, True], ids=["draws-here", "draws-beside"])
def test_gm_sized_build_publishes_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drawn_beside: bool
) -> None:
    """Also with esda's draws made by the second process, as national builds make them."""
    if drawn_beside:
        monkeypatch.setattr(draws, "BACKGROUND_FROM", 0)

        def not_here(*args: object) -> None:
            raise AssertionError("drawn in-process, not by the second process")

        monkeypatch.setattr(hotspots, "permuted_ids", not_here)
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
