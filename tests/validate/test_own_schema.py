"""A council's own Table Schema for a source, named in the manifest (the docs' walk-through)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from placeintel.errors import ManifestError
from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.validate import validate_sources

SCHEMA = {
    "fields": [
        {"name": "name", "type": "string", "constraints": {"required": True, "maxLength": 120}},
        {"name": "address", "type": "string"},
        {
            "name": "postcode",
            "type": "string",
            "constraints": {"pattern": "[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}"},
        },
        {
            "name": "type",
            "type": "string",
            "constraints": {
                "enum": ["Local authority run library", "Digital support venue", "Jobcentre Plus"]
            },
        },
        {"name": "website", "type": "string", "constraints": {"pattern": "https://.*"}},
        {"name": "area_name", "type": "string"},
        {"name": "area_code", "type": "string"},
        {"name": "lon", "type": "number", "constraints": {"minimum": -8.7, "maximum": 1.8}},
        {"name": "lat", "type": "number", "constraints": {"minimum": 49.8, "maximum": 60.9}},
    ],
}


def _region(tmp_path: Path) -> Path:
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    (region / "schemas").mkdir()
    (region / "schemas" / "digital-inclusion-services.json").write_text(json.dumps(SCHEMA))
    manifest = yaml.safe_load((region / "region.yml").read_text())
    next(s for s in manifest["sources"] if s["id"] == "council-services")["schema"] = (
        "schemas/digital-inclusion-services.json"
    )
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return region


def test_a_valid_file_passes_its_own_schema(tmp_path: Path) -> None:
    _, report = validate_sources(load_manifest(_region(tmp_path)))
    assert report.ok, report.to_text()


def test_own_schema_findings_name_row_and_field(tmp_path: Path) -> None:
    region = _region(tmp_path)
    services = region / "services" / "council_digital_inclusion_services.csv"
    lines = services.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("https://", "ftp://")
    services.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, report = validate_sources(load_manifest(region))
    finding = next(f for f in report.errors if f.field == "website")
    assert (finding.row, finding.rule) == (4, "constraint-error")
    assert "digital-inclusion-services.json" in finding.hint


def test_a_sources_wrong_options_are_findings_not_crashes(tmp_path: Path) -> None:
    """A manifest's options for one file (no code_field, a metadata file without labels)
    are reported with the rest, and validation goes on; options of the wrong type
    (measures not a mapping) are refused with the manifest, naming the key."""
    import yaml

    from placeintel.region import load_manifest
    from placeintel.validate import validate_sources

    (tmp_path / "ts062.csv").write_text("OA,ts0620001\nE00024141,262\n", encoding="utf-8")
    (tmp_path / "meta.csv").write_text("new_names,other\nts0620001,x\n", encoding="utf-8")
    sources = [
        {"measures": {"nssec_base": "ts0620001"}, "code_field": "Nope"},
        {"measures": {"nssec_base": "ts0620001"}},
        {"measures": {"nssec_base": "ts0620001"}, "code_field": "OA", "metadata": "meta.csv"},
    ]
    manifest = {
        "name": "options",
        "sources": [
            {
                "id": f"t{n}",
                "role": "census",
                "reader": "census-table",
                "path": "ts062.csv",
                **extra,
            }
            for n, extra in enumerate(sources)
        ],
    }
    (tmp_path / "region.yml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    _, report = validate_sources(load_manifest(tmp_path))
    messages = [f.message for f in report.errors]
    assert any("needs `code_field`" in m for m in messages)
    assert any("no label column" in m for m in messages)
    manifest["sources"][0]["measures"] = ["ts0620001"]
    (tmp_path / "region.yml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    with pytest.raises(ManifestError) as raised:
        load_manifest(tmp_path)
    assert raised.value.field == "sources[0].measures"
