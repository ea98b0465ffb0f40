"""The build's own check of its data package: the descriptor, a sample of each table's
rows, every key and every file's size; and what it leaves to `frictionless validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from placeintel.digest import sha256
from placeintel.publish.package import ResourceSpec, resource_descriptor, validate_datapackage


def _package(root: Path, frame: pd.DataFrame, schema: dict | None = None) -> Path:
    """A package of one CSV, written from `frame` as the build writes its layers."""
    csv = root / "areas.csv"
    frame.to_csv(csv, index=False, lineterminator="\n")
    spec = ResourceSpec("areas-csv", csv, "Areas", frame, "code", schema=schema)
    path = root / "datapackage.json"
    descriptor = {"name": "test", "resources": [resource_descriptor(spec, root)]}
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    return path


def _areas(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"code": [f"E{n:08d}" for n in range(rows)], "score": [n / 7 for n in range(rows)]}
    )


def test_a_good_package_passes(tmp_path: Path) -> None:
    assert validate_datapackage(_package(tmp_path, _areas(3_000))) == []


def test_a_repeated_key_past_the_sample_is_found(tmp_path: Path) -> None:
    areas = _areas(3_000)
    areas.loc[2_999, "code"] = areas.loc[5, "code"]
    problems = validate_datapackage(_package(tmp_path, areas), sample_rows=100)
    assert problems == ["areas-csv: 1 row(s) repeat a code"]
    full = validate_datapackage(tmp_path / "datapackage.json", sample_rows=None)
    assert full and all("areas-csv" in p for p in full)


def test_a_missing_key_past_the_sample_is_found(tmp_path: Path) -> None:
    areas = _areas(3_000)
    areas.loc[2_500, "code"] = None
    problems = validate_datapackage(_package(tmp_path, areas), sample_rows=100)
    assert problems == ["areas-csv: 1 row(s) without a code"]


def test_a_wrong_type_in_the_sample_is_found(tmp_path: Path) -> None:
    areas = _areas(50).astype({"score": object})
    areas.loc[10, "score"] = "high"
    path = _package(tmp_path, areas)
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["resources"][0]["schema"]["fields"][1]["type"] = "number"
    path.write_text(json.dumps(descriptor), encoding="utf-8")
    problems = validate_datapackage(path)
    assert len(problems) == 1 and problems[0].startswith("areas-csv: Type error")


def test_a_bound_on_a_field_is_checked_on_every_row(tmp_path: Path) -> None:
    areas = _areas(3_000)
    schema = {
        "fields": [
            {"name": "code", "type": "string", "constraints": {"required": True, "unique": True}},
            {"name": "score", "type": "number", "constraints": {"maximum": 400}},
        ],
        "primaryKey": ["code"],
    }
    problems = validate_datapackage(_package(tmp_path, areas, schema), sample_rows=100)
    assert problems and all("row at position" in p and "maximum" in p for p in problems)
    assert "2803" in problems[0]  # past the sample


def test_a_file_of_another_size_is_found(tmp_path: Path) -> None:
    path = _package(tmp_path, _areas(10))
    with (tmp_path / "areas.csv").open("a", encoding="utf-8") as handle:
        handle.write("E99999999,1.0\n")
    assert validate_datapackage(path, sample_rows=5) == [
        "areas-csv: areas.csv has "
        f"{(tmp_path / 'areas.csv').stat().st_size} bytes, not the "
        f"{(tmp_path / 'areas.csv').stat().st_size - 14} the descriptor records"
    ]


def test_the_hash_is_left_to_a_full_validation(tmp_path: Path) -> None:
    path = _package(tmp_path, _areas(10))
    text = (tmp_path / "areas.csv").read_text(encoding="utf-8")
    (tmp_path / "areas.csv").write_text(text.replace("E00000001", "E00000099"), encoding="utf-8")
    assert sha256(tmp_path / "areas.csv") not in path.read_text(encoding="utf-8")
    # A table read whole (no longer than the sample) has its hash checked by frictionless.
    assert validate_datapackage(path, sample_rows=5) == []
    assert validate_datapackage(path) != []
    assert any("hash" in p.lower() for p in validate_datapackage(path, sample_rows=None))
