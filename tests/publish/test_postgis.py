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


@pytest.fixture(scope="module")
def postgis_server(demo_release: Release, releases_dir: Path, tmp_path_factory):
    schema = f"test_{os.getpid()}"
    config = tmp_path_factory.mktemp("pg") / "pygeoapi-postgres.yml"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "placeintel.cli",
            "publish",
            "demo",
            "--to",
            URL,
            "--schema",
            schema,
            "--releases",
            str(releases_dir),
            "--config-out",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "wards 40," in result.stdout and "services 60" in result.stdout
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
    for feature in from_files["features"]:
        theirs = by_id[str(feature["id"])]
        for key in ("deri_score", "imd_score", "name", "ward_name", "category"):
            if key in feature["properties"]:
                mine = feature["properties"][key]
                assert theirs[key] == (pytest.approx(mine) if isinstance(mine, float) else mine)


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
        assert set(keys) == set(postgis.LAYERS)
        assert {f"{name}_geom_gist" for name in postgis.LAYERS} <= set(indexes)
    engine.dispose()


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
