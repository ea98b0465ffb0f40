"""A release's dataset descriptors are checked before anything serves them: a bad entry is
left out with a reason naming it, and what is kept cannot lead out of the release."""

from __future__ import annotations

import logging

import pytest

from placeintel.publish.descriptors import released_datasets
from tests.publish.released_datasets import descriptor


def _entry(**changes: object) -> dict:
    entry = descriptor("warm-spaces", "point")
    entry.update(
        files={k: f"warm-spaces.{k}" for k in ("csv", "geojson", "gpkg", "parquet")},
        rows=25,
        bbox=[-1.7, 52.5, -1.4, 52.6],
    )
    entry.update(changes)
    return entry


def _served(*entries: object) -> list[str]:
    return [d.id for d in released_datasets({"placeintel": {"datasets": list(entries)}})]


def test_a_good_entry_is_kept_as_given() -> None:
    [dataset] = released_datasets({"placeintel": {"datasets": [_entry()]}})
    assert dataset.title == "Warm spaces" and dataset.rows == 25
    assert dataset.bbox == (-1.7, 52.5, -1.4, 52.6)
    assert dataset.licence.path.startswith("https://www.nationalarchives.gov.uk/")
    assert dataset.contact == {"name": "Open data team", "email": "opendata@demo-city.example"}


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
    changes: dict, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert _served(
            _entry(**changes),
            descriptor("grants", None)
            | {"files": {"csv": "grants.csv", "parquet": "grants.parquet"}},
        ) == ["grants"]
    assert "placeintel.datasets[0]" in caplog.text and reason in caplog.text


def test_links_that_are_not_web_addresses_are_dropped() -> None:
    entry = _entry(
        licence={"title": "Ours", "path": "javascript:alert(1)"},
        contact={"name": "x", "email": "not an address", "url": "data:text/html,x"},
    )
    [dataset] = released_datasets({"placeintel": {"datasets": [entry]}})
    assert dataset.licence.path == "" and dataset.licence.title == "Ours"
    assert dataset.contact == {"name": "x"}


def test_a_repeated_id_is_served_once_and_odd_shapes_are_no_datasets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert _served(_entry(), _entry(title="again")) == ["warm-spaces"]
    assert "listed twice" in caplog.text
    assert released_datasets({"placeintel": {"datasets": {"id": "x"}}}) == []
    assert released_datasets({"placeintel": "x"}) == []
    assert released_datasets({}) == []
    assert _served("not a mapping", None) == []
