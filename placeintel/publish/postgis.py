"""Load a published release into PostGIS, for serving at national scale with pygeoapi's own
PostgreSQL provider: the same collections, from a database instead of files.

Everything happens in one transaction: tables are dropped and recreated inside it, so readers
see the previous release until the new one is complete, and a failure leaves the database as
it was. Each table gets its primary key and a GiST index on the geometry, stored in CRS84
(EPSG:4326, longitude first) as the API serves it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import URL, make_url

from placeintel.errors import UsageError
from placeintel.publish.layers import LAYERS as REGISTERED
from placeintel.publish.layers import collections

#: Layer -> primary key, from the layer registry (the same as the file-served API's).
LAYERS = {layer.name: layer.key for layer in REGISTERED}
GEOMETRY = "geom"


def engine_for(url: str) -> sa.Engine:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError(
            f"not a database URL: {url!r} (expected postgresql://user:pass@host/db)"
        ) from None
    if not parsed.drivername.startswith("postgresql"):
        raise UsageError(f"only PostgreSQL/PostGIS is supported, not {parsed.drivername!r}")
    return sa.create_engine(parsed.set(drivername="postgresql+psycopg2"), pool_pre_ping=True)


def publish_to_postgis(release: Path, url: str, schema: str = "placeintel") -> dict[str, int]:
    """Replace the schema's tables with the release's layers, in one transaction."""
    engine = engine_for(url)
    rows = {}
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            for name, key in LAYERS.items():
                path = release / f"{name}.parquet"
                if not path.is_file():
                    continue
                frame = gpd.read_parquet(path).to_crs("EPSG:4326").rename_geometry(GEOMETRY)
                connection.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}"."{name}"'))
                frame.to_postgis(name, connection, schema=schema, index=False)
                connection.execute(
                    sa.text(f'ALTER TABLE "{schema}"."{name}" ADD PRIMARY KEY ("{key}")')
                )
                connection.execute(
                    sa.text(
                        f'CREATE INDEX "{name}_{GEOMETRY}_gist" ON "{schema}"."{name}" '
                        f'USING GIST ("{GEOMETRY}")'
                    )
                )
                connection.execute(sa.text(f'ANALYZE "{schema}"."{name}"'))
                rows[name] = len(frame)
    except sa.exc.OperationalError as error:
        raise UsageError(f"cannot reach the database: {error.orig}".strip()) from None
    finally:
        engine.dispose()
    return rows


def postgres_config(template: Path, url: str, schema: str) -> dict[str, Any]:
    """The pygeoapi configuration that serves the same collections from PostGIS.

    pygeoapi's PostgreSQL provider keeps one pooled SQLAlchemy engine per process
    (with pre-ping), so each waitress thread borrows a connection rather than opening one.
    """
    parsed: URL = make_url(url)
    settings = yaml.safe_load(template.read_text(encoding="utf-8"))
    settings["resources"] = collections()
    connection = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "dbname": parsed.database,
        "user": parsed.username,
        "password": parsed.password or "",
        "search_path": [schema, "public"],
    }
    for name, resource in settings["resources"].items():
        provider = resource["providers"][0]
        resource["providers"] = [
            {
                "type": "feature",
                "name": "PostgreSQL",
                "data": connection,
                "id_field": LAYERS[name],
                "table": name,
                "geom_field": GEOMETRY,
                "title_field": provider.get("title_field"),
                "crs": provider.get("crs"),
                "storage_crs": provider.get("storage_crs"),
                # Passed to the driver: give up on a dead database quickly, keep idle links alive.
                "options": {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30},
            }
        ]
    return settings
