"""The `datasets:` section: every mistake is a usage error naming its manifest key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from placeintel.errors import ManifestError
from placeintel.region import load_manifest
from tests.datasets.helpers import DEMO, entry, region_with


def test_the_demo_lists_its_two_datasets() -> None:
    manifest = load_manifest("demo")
    warm, grants = manifest.datasets
    assert (warm.id, warm.geometry.kind, warm.geometry.columns) == (
        "warm-spaces",
        "postcode",
        ("postcode",),
    )
    assert [s.id for s in manifest.sources if s.role == "lookup-postcode"] == ["onspd"]
    assert grants.geometry.kind == "none" and grants.key == "grant_id"
    assert warm.licence["path"].startswith("https://www.nationalarchives.gov.uk/")
    assert manifest.dataset_schema(warm).name == "warm-spaces.schema.json"


@pytest.mark.parametrize(
    ("dataset", "key", "words"),
    [
        (entry("Warm", "a.csv", "id", geometry="none"), "datasets[0].id", "must be a slug"),
        (entry("wards", "a.csv", "id", geometry="none"), "datasets[0].id", "not a name"),
        (entry("catalog", "a.csv", "id", geometry="none"), "datasets[0].id", "not a name"),
        (entry("x", "a.csv", "id", geometry="none", colour=1), "datasets[0].colour", "unknown"),
        ({"id": "x", "title": "t", "path": "a.csv"}, "datasets[0].key", "missing required"),
        (entry("x", "a.csv", "id"), "datasets[0].geometry", "must say where its rows are"),
        (entry("x", "a.csv", "id", geometry={"lon": "x"}), "datasets[0].geometry", "must be"),
        (entry("x", "a.csv", "id", geometry="file"), "datasets[0].geometry", "needs a file"),
        (
            entry("x", "a.geojson", "id", geometry={"lon": "a", "lat": "b"}),
            "datasets[0].geometry",
            "own geometry",
        ),
        (entry("x", "a.txt", "id", geometry="none"), "datasets[0].path", "must be one of"),
        (entry("x", "a.csv", "id", geometry="none", layer="l"), "datasets[0].layer", "GPKG"),
        (
            entry("x", "a.csv", "id", geometry="none", licence={"title": "t"}),
            "datasets[0].licence.name",
            "missing required key",
        ),
        (
            entry("x", "a.csv", "id", geometry="none", licence=3),
            "datasets[0].licence",
            "licence name",
        ),
        (
            entry("x", "a.csv", "id", geometry="none", contact={"email": "no"}),
            "datasets[0].contact.email",
            "one email address",
        ),
    ],
)
def test_a_wrong_dataset_entry_names_its_key(
    dataset: dict, key: str, words: str, tmp_path: Path
) -> None:
    region = region_with(tmp_path, [dataset])
    with pytest.raises(ManifestError) as raised:
        load_manifest(region)
    assert raised.value.field == key, raised.value
    assert words in str(raised.value)


def test_two_datasets_with_one_id(tmp_path: Path) -> None:
    twice = entry("x", "a.csv", "id", geometry="none")
    with pytest.raises(ManifestError, match="duplicate dataset id") as raised:
        load_manifest(region_with(tmp_path, [twice, dict(twice)]))
    assert raised.value.field == "datasets[1].id"


def test_a_postcode_geometry_needs_the_postcode_directory(tmp_path: Path) -> None:
    """Without an ONSPD source, placing by postcode is refused before any file is read."""
    sources = yaml.safe_load((DEMO / "region.yml").read_text(encoding="utf-8"))["sources"]
    region = region_with(
        tmp_path,
        [entry("x", "a.csv", "id", geometry={"postcode": "pc"})],
        sources=[s for s in sources if s["role"] != "lookup-postcode"],
    )
    with pytest.raises(ManifestError, match="no source with role lookup-postcode") as raised:
        load_manifest(region)
    assert raised.value.field == "datasets[0].geometry.postcode"


def test_a_schema_path_is_confined(tmp_path: Path) -> None:
    region = region_with(
        tmp_path, [entry("x", "a.csv", "id", geometry="none", schema="../../etc/passwd")]
    )
    manifest = load_manifest(region)
    with pytest.raises(ManifestError, match="leads outside"):
        manifest.dataset_schema(manifest.datasets[0])


def test_licence_by_name_or_in_full(tmp_path: Path) -> None:
    region = region_with(
        tmp_path,
        [
            entry("a", "a.csv", "id", geometry="none", licence="CC-BY-4.0"),
            entry(
                "b",
                "b.csv",
                "id",
                geometry="none",
                licence={"name": "Council-1", "path": "https://council.example/licence"},
            ),
        ],
    )
    a, b = load_manifest(region).datasets
    assert a.licence == {
        "name": "CC-BY-4.0",
        "title": "Creative Commons Attribution 4.0",
        "path": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert b.licence == {
        "name": "Council-1",
        "title": "Council-1",
        "path": "https://council.example/licence",
    }
