"""The checks made beside the CSVs (validate/early.py) find and give what the checks made
after them do: the same findings in the same places, the same frames."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from placeintel.demo.generate import generate
from placeintel.demo.layout import DEMO
from placeintel.region import load_manifest
from placeintel.validate import early, validate_sources
from tests.validate.test_controls import WARD_LOOKUP, WARDS, _csv, _hostile_region, _write_csv


def _bowtie_ward(region: Path) -> None:
    """A figure-of-eight twist in a ward's ring (as test_corpus's), which the geometry
    check repairs and reports."""
    path = region / WARDS
    wards = json.loads(path.read_text(encoding="utf-8"))
    geometry = wards["features"][2]["geometry"]
    ring = geometry["coordinates"][0]
    x, y = ring[0]
    d = 0.001
    geometry["coordinates"][0] = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], *ring]
    path.write_text(json.dumps(wards), encoding="utf-8")


def _late(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make check_region and validate_sources ignore every early result."""
    monkeypatch.setattr(early.EarlyChecks, "cleaned_for", lambda self, i, f: None)
    monkeypatch.setattr(early.EarlyChecks, "boundaries_hold_for", lambda self, d: False)
    monkeypatch.setattr(early.Placed, "holds_for", lambda self, d: False)


def _frames_equal(a: object, b: object) -> bool:
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        return a.equals(b) and a.attrs.keys() == b.attrs.keys()
    return type(a) is type(b)


def _postcode_region(root: Path) -> Path:
    """The demo's layout with Ofcom's files by postcode and an ONSPD (as national
    regions have), a twisted ward and a control character in the ward lookup."""
    region = root / "postcodes"
    generate(region, dataclasses.replace(DEMO, name="demo-postcodes", postcodes=True))
    lookup = _csv(region / WARD_LOOKUP)
    lookup[1][lookup[0].index("LAD23NM")] += "\x08"
    _write_csv(region / WARD_LOOKUP, lookup)
    return region


def _hostile_demo(root: Path) -> Path:
    return _hostile_region(root)[0]


@pytest.mark.parametrize("make", [_hostile_demo, _postcode_region])
def test_early_checks_give_what_the_late_ones_do(
    make: Callable[[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = make(tmp_path)
    _bowtie_ward(region)
    early_data, early_report = validate_sources(load_manifest(region))
    _late(monkeypatch)
    late_data, late_report = validate_sources(load_manifest(region))
    assert early_report.findings == late_report.findings
    assert {"control-characters", "invalid-geometry"} <= {f.rule for f in early_report.findings}
    assert early_data.frames.keys() == late_data.frames.keys()
    for key, frame in early_data.frames.items():
        assert _frames_equal(frame, late_data.frames[key]), key
    assert early_data.ward_extent(2_000).equals(late_data.ward_extent(2_000))
    placed = [f for f in early_data.frames.values() if getattr(f, "attrs", {}).get("placed_from")]
    assert bool(placed) == (make is _postcode_region)  # postcodes placed in output areas


def _unknown_postcode_region(root: Path) -> Path:
    """The postcode region with a postcode of Ofcom's performance file the directory
    does not know: placing it fails, and the check of area codes names the row."""
    region = _postcode_region(root)
    path = next((region / "broadband").glob("*performance*.csv"))
    table = _csv(path)
    table[3][0] = "ZZ99 9ZZ"
    _write_csv(path, table)
    return region


def test_the_placings_look_up_answers_the_area_code_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which postcodes the directory knows comes from the look-up that placed them:
    the same dangling-code findings, and the directory not looked up again."""
    from placeintel.validate import checks

    region = _unknown_postcode_region(tmp_path)
    looked_up: list[int] = []
    isin_many = checks.isin_many

    def spy(columns: list[pd.Series], allowed: pd.Series) -> list:
        looked_up.append(len(columns))
        return isin_many(columns, allowed)

    monkeypatch.setattr(checks, "isin_many", spy)
    _, early_report = validate_sources(load_manifest(region))
    assert looked_up == [0, 2]  # no postcodes (they were placed); the census's and DWP's
    _late(monkeypatch)
    looked_up.clear()
    _, late_report = validate_sources(load_manifest(region))
    assert looked_up == [2, 2]  # the two Ofcom files' postcodes, then as above
    assert early_report.findings == late_report.findings
    dangling = [f for f in early_report.findings if f.rule == "dangling-code"]
    assert [(f.row, f.value) for f in dangling] == [(4, "ZZ999ZZ")]  # the fourth line
