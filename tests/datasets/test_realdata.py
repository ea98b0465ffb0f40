"""Greater Manchester's pharmacies published as a council dataset, from the real file."""

from __future__ import annotations

from pathlib import Path

from frictionless import Resource, Schema

from placeintel.datasets.checks import validate_dataset
from placeintel.datasets.publish import write_datasets
from placeintel.region import load_manifest
from placeintel.sources import RegionData
from placeintel.validate.report import Report


def test_the_pharmacies_validate_and_publish_with_every_column(
    realdata: Path, tmp_path: Path
) -> None:
    manifest = load_manifest("greater-manchester", realdata)
    (pharmacies,) = manifest.datasets
    report = Report(manifest.name)
    frame = validate_dataset(RegionData(manifest), pharmacies, report)
    assert frame is not None and report.ok, report.to_text()
    specs, (descriptor,) = write_datasets(
        tmp_path, manifest, {"pharmacies": frame}, "20260101T000000Z"
    )
    assert descriptor["rows"] == 631 and descriptor["geometry"] == "point"
    assert descriptor["publisher"].startswith("NHS Business Services Authority")
    west, south, east, north = descriptor["bbox"]
    assert -2.8 < west < east < -1.9 and 53.3 < south < north < 53.7
    csv = next(s for s in specs if s.name == "pharmacies-csv")
    names = [f["name"] for f in csv.schema["fields"]]
    assert "opening_hours_sunday" in names and len(names) == 16
    resource = Resource(
        path=csv.path.name, basepath=str(tmp_path), schema=Schema.from_descriptor(csv.schema)
    )
    assert resource.validate().valid
