"""A release's dataset descriptors are checked before anything serves them: a bad entry is
left out with a reason naming it, and what is kept cannot lead out of the release."""

from __future__ import annotations

import copy
import json
import logging

import pytest

from placeintel.pipeline import Release
from placeintel.publish.descriptors import released_datasets


@pytest.fixture(scope="module")
def built(demo_release: Release) -> dict[str, dict]:
    """The demo build's own entries (warm-spaces and grants), by id."""
    package = json.loads((demo_release.path / "datapackage.json").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in package["placeintel"]["datasets"]}


@pytest.fixture
def descriptor(built: dict[str, dict]):
    """A fresh copy of a built entry, to change."""
    return lambda identifier: copy.deepcopy(built[identifier])


@pytest.fixture
def warm_entry(descriptor):
    """The warm spaces' entry, with `changes` applied."""

    def changed(**changes: object) -> dict:
        entry = descriptor("warm-spaces")
        entry.update(bbox=[-1.7, 52.5, -1.4, 52.6])
        entry.update(changes)
        return entry

    return changed


def _served(*entries: object) -> list[str]:
    return [d.id for d in released_datasets({"placeintel": {"datasets": list(entries)}})]


def test_a_good_entry_is_kept_as_given(warm_entry) -> None:
    [dataset] = released_datasets({"placeintel": {"datasets": [warm_entry()]}})
    assert dataset.title == "Warm spaces (synthetic)" and dataset.rows == 25
    assert dataset.bbox == (-1.7, 52.5, -1.4, 52.6)
    assert dataset.licence.path.startswith("https://www.nationalarchives.gov.uk/")
    assert dataset.contact == {
        "name": "Demo City Region open data team (synthetic)",
        "email": "opendata@demo-city-region.example",
    }
    assert dataset.files == {k: f"warm-spaces.{k}" for k in ("csv", "geojson", "gpkg", "parquet")}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": "wards"}, "an index layer's or the service's own name"),
        ({"id": "catalog"}, "an index layer's or the service's own name"),
        ({"id": "../etc"}, "is not a slug"),
        ({"id": "Warm Spaces"}, "is not a slug"),
        ({"id": 7}, "is not a slug"),
        ({"files": {"csv": "../../x.csv", "parquet": "warm-spaces.parquet"}}, "files.csv"),
        ({"files": {"csv": "warm-spaces.csv"}}, "must name the CSV and the GeoParquet"),
        ({"files": "warm-spaces.csv"}, "files is not a mapping"),
        ({"geometry": "blob"}, "geometry 'blob'"),
        ({"bbox": [0, 0, "x", 1]}, "not a number"),
        ({"bbox": [10, 0, 5, 1]}, "not a lon/lat box"),
        ({"bbox": [float("nan"), 0, 1, 1]}, "not a lon/lat box"),
        ({"key": ""}, "no key"),
    ],
)
def test_a_bad_entry_is_left_out_with_its_reason(
    changes: dict, reason: str, caplog: pytest.LogCaptureFixture, warm_entry, descriptor
) -> None:
    with caplog.at_level(logging.WARNING):
        assert _served(warm_entry(**changes), descriptor("grants")) == ["grants"]
    assert "placeintel.datasets[0]" in caplog.text and reason in caplog.text


def test_links_that_are_not_web_addresses_are_dropped(warm_entry) -> None:
    entry = warm_entry(
        licence={"title": "Ours", "path": "javascript:alert(1)"},
        contact={"name": "x", "email": "not an address", "url": "data:text/html,x"},
    )
    [dataset] = released_datasets({"placeintel": {"datasets": [entry]}})
    assert dataset.licence.path == "" and dataset.licence.title == "Ours"
    assert dataset.contact == {"name": "x"}


def test_a_repeated_id_is_served_once_and_odd_shapes_are_no_datasets(
    caplog: pytest.LogCaptureFixture, warm_entry
) -> None:
    assert _served(warm_entry(), warm_entry(title="again")) == ["warm-spaces"]
    assert "listed twice" in caplog.text
    assert released_datasets({"placeintel": {"datasets": {"id": "x"}}}) == []
    assert released_datasets({"placeintel": "x"}) == []
    assert released_datasets({}) == []
    assert _served("not a mapping", None) == []
