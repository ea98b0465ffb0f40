"""PostGIS publishing: one transaction, and the same answers as the file-served API.

Needs a PostgreSQL with PostGIS: `.ci/run` starts one (scripts/start-postgis.sh) and sets
PLACEINTEL_TEST_POSTGRES; elsewhere these tests skip and say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from placeintel.pipeline import Release
from placeintel.publish import postgis
from tests.conftest import running_server

URL = os.environ.get("PLACEINTEL_TEST_POSTGRES")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="no PostGIS: set PLACEINTEL_TEST_POSTGRES (scripts/start-postgis.sh prints one; "
    ".ci/run starts it)",
)


def _get(base: str, collection: str, **query: str) -> dict:
    params = urllib.parse.urlencode({"f": "json", **query})
    with urllib.request.urlopen(f"{base}/collections/{collection}/items?{params}", timeout=30) as r:
        return json.load(r)


def publish_cli(releases: Path, schema: str, config: Path) -> subprocess.CompletedProcess[str]:
    """`placeintel publish demo` into `schema`, writing its pygeoapi configuration."""
    command = ["publish", "demo", "--to", URL, "--schema", schema, "--releases", str(releases)]
    return subprocess.run(
        [sys.executable, "-m", "placeintel.cli", *command, "--config-out", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def postgis_server(demo_release: Release, releases_dir: Path, tmp_path_factory):
    schema = f"test_{os.getpid()}"
    config = tmp_path_factory.mktemp("pg") / "pygeoapi-postgres.yml"
    result = publish_cli(releases_dir, schema, config)
    assert result.returncode == 0, result.stderr
    assert "wards 40," in result.stdout and "services 60" in result.stdout
    assert "warm-spaces 25" in result.stdout and "grants 40" in result.stdout
    with running_server(releases_dir, "--config", str(config)) as base:
        yield base, schema
    engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


QUERIES = [
    ("wards", {"limit": "100"}),
    ("wards", {"limit": "100", "sortby": "-deri_score"}),
    ("wards", {"limit": "100", "filter": "deri_score > 3 AND lad_name = 'Northmoor'"}),
    ("wards", {"limit": "100", "lad_code": "E08000992"}),
    ("wards", {"limit": "5", "offset": "10", "sortby": "ward_code"}),
    ("services", {"limit": "100", "bbox": "-1.65,52.52,-1.55,52.58"}),
    ("services", {"limit": "100", "category": "library"}),
    ("deprivation", {"limit": "20", "sortby": "-imd_score"}),
    # the council datasets: points, and a table without geometry
    ("warm-spaces", {"limit": "100"}),
    ("warm-spaces", {"limit": "5", "offset": "10", "sortby": "space_id"}),
    ("warm-spaces", {"limit": "100", "bbox": "-1.70,52.50,-1.60,52.56"}),
    ("warm-spaces", {"limit": "100", "filter": "free_wifi = true AND venue_type <> 'library'"}),
    ("warm-spaces", {"limit": "100", "sortby": "-postcode"}),
    ("grants", {"limit": "100"}),
    ("grants", {"limit": "100", "filter": "amount_gbp > 15000", "sortby": "-amount_gbp,grant_id"}),
]


@pytest.mark.parametrize(
    ("collection", "query"), QUERIES, ids=[f"{c}-{'&'.join(q)}" for c, q in QUERIES]
)
def test_same_items_as_the_file_served_api(
    server: str, postgis_server, collection: str, query: dict
) -> None:
    from_files = _get(server, collection, **query)
    from_postgis = _get(postgis_server[0], collection, **query)
    assert from_postgis["numberMatched"] == from_files["numberMatched"]
    ids = [f["id"] for f in from_files["features"]]
    if "sortby" not in query:  # without an order, compare as sets
        assert sorted(str(f["id"]) for f in from_postgis["features"]) == sorted(map(str, ids))
    else:
        assert [str(f["id"]) for f in from_postgis["features"]] == list(map(str, ids))
    by_id = {str(f["id"]): f["properties"] for f in from_postgis["features"]}
    by_geometry = {str(f["id"]): f["geometry"] for f in from_postgis["features"]}
    for feature in from_files["features"]:
        theirs = by_id[str(feature["id"])]
        for key in ("deri_score", "imd_score", "name", "ward_name", "category", "amount_gbp"):
            if key in feature["properties"]:
                mine = feature["properties"][key]
                assert theirs[key] == (pytest.approx(mine) if isinstance(mine, float) else mine)
        if feature["geometry"] is None:
            assert by_geometry[str(feature["id"])] is None
        elif feature["geometry"]["type"] == "Point":
            assert by_geometry[str(feature["id"])]["coordinates"] == pytest.approx(
                feature["geometry"]["coordinates"], abs=1e-6
            )


def test_tables_have_keys_and_spatial_indexes(postgis_server) -> None:
    _, schema = postgis_server
    engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.connect() as connection:
        keys = connection.execute(
            sa.text(
                "SELECT table_name FROM information_schema.table_constraints "
                "WHERE table_schema = :s AND constraint_type = 'PRIMARY KEY'"
            ),
            {"s": schema},
        ).scalars()
        indexes = connection.execute(
            sa.text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = :s AND indexdef LIKE '%gist%'"
            ),
            {"s": schema},
        ).scalars()
        tables = {*postgis.LAYERS, "warm-spaces", "grants"}
        assert set(keys) == tables
        assert {f"{name}_geom_gist" for name in tables} <= set(indexes)
    engine.dispose()


def test_the_datasets_are_collections_with_their_metadata(server: str, postgis_server) -> None:
    """The PostGIS configuration serves the datasets as the files do: the same title,
    extent, downloads and home-page listing; a null geometry stays null."""
    from owslib.ogcapi.features import Features

    files, database = Features(server), Features(postgis_server[0])
    ids = [c["id"] for c in database.collections()["collections"]]
    assert ids == [c["id"] for c in files.collections()["collections"]]
    assert ids[-2:] == ["warm-spaces", "grants"]
    for name in ("warm-spaces", "grants"):
        theirs, mine = database.collection(name), files.collection(name)
        for key in ("title", "description", "keywords", "extent"):
            assert theirs[key] == mine[key], (name, key)
        assert [x["href"] for x in theirs["links"] if x["rel"] == "enclosure"] == [
            x["href"].replace(server, postgis_server[0])
            for x in mine["links"]
            if x["rel"] == "enclosure"
        ]
    grants = database.collection_items("grants", limit=1000)
    assert grants["numberMatched"] == 40
    assert all(f["geometry"] is None for f in grants["features"])
    with urllib.request.urlopen(f"{postgis_server[0]}/?f=html", timeout=30) as response:
        home = response.read().decode("utf-8")
    assert 'id="dataset-warm-spaces"' in home and 'id="dataset-grants"' in home


def test_a_datasets_text_is_not_expanded_from_the_environment(
    hostile_releases: Path, tmp_path: Path
) -> None:
    """The PostGIS configuration carries the council's text: served with `--config`, a
    `${NAME}` in it stays text (the server's environment holds the secret)."""
    from tests.demo_copies import SECRET_NAME

    schema = f"test_hostile_{os.getpid()}"
    config = tmp_path / "pygeoapi-postgres.yml"
    published = publish_cli(hostile_releases, schema, config)
    assert published.returncode == 0, published.stderr
    os.environ[SECRET_NAME] = "s3cret-value"
    try:
        with (
            running_server(hostile_releases, "--config", str(config)) as base,
            urllib.request.urlopen(f"{base}/collections?f=json", timeout=30) as response,
        ):
            body = response.read().decode("utf-8")
    finally:
        del os.environ[SECRET_NAME]
        engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg2://"))
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    assert f"${{{SECRET_NAME}}}" in body and "s3cret-value" not in body


def test_a_failed_publication_changes_nothing(
    postgis_server, demo_release: Release, monkeypatch
) -> None:
    _, schema = postgis_server
    # The last layer's key does not exist, so the transaction fails after the other tables
    # were already dropped and rewritten inside it: all of that must roll back.
    monkeypatch.setattr(postgis, "LAYERS", {**postgis.LAYERS, "deprivation": "no_such_column"})
    engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as connection:
        connection.execute(
            sa.text(f'DELETE FROM "{schema}".wards WHERE ward_code = :c'), {"c": "E05990001"}
        )
    with pytest.raises(sa.exc.ProgrammingError):
        postgis.publish_to_postgis(demo_release.path, URL, schema)
    with engine.connect() as connection:
        count = connection.execute(sa.text(f'SELECT count(*) FROM "{schema}".wards')).scalar()
    engine.dispose()
    assert count == 39  # still the table as it was before the failed attempt


def test_unreachable_database_is_a_clear_error(demo_release: Release) -> None:
    from placeintel.errors import UsageError

    with pytest.raises(UsageError, match="cannot reach the database"):
        postgis.publish_to_postgis(
            demo_release.path, "postgresql://nobody:x@127.0.0.1:9/nothing", "x"
        )
    with pytest.raises(UsageError, match="only PostgreSQL"):
        postgis.publish_to_postgis(demo_release.path, "sqlite:///x.db", "x")
