"""Load a published release into PostGIS, for serving at national scale with pygeoapi's own
PostgreSQL provider: the same collections, from a database instead of files.

The index layers and the release's council datasets (its datapackage.json's
`placeintel.datasets`, checked as the file-served API checks them) each become a table named
as its collection. Everything happens in one transaction: tables are dropped and recreated
inside it, so readers see the previous release until the new one is complete, and a failure
leaves the database as it was. Each table gets its primary key and a GiST index on the
geometry, stored in CRS84 (EPSG:4326, longitude first) as the API serves it; a dataset
without geometry keeps a geometry column of nulls, so it is served as features with null
geometry as from the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from placeintel.errors import UsageError
from placeintel.publish.descriptors import released_datasets
from placeintel.publish.layers import LAYERS as REGISTERED

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


def tables(release: Path) -> dict[str, tuple[Path, str]]:
    """Table name -> (GeoParquet file, primary key): the index layers, then the release's
    council datasets (ids are slugs that cannot take a layer's name)."""
    from placeintel.api.metadata import read_package

    found = {name: (release / f"{name}.parquet", key) for name, key in LAYERS.items()}
    for dataset in released_datasets(read_package(release)):
        found.setdefault(dataset.id, (release / dataset.files["parquet"], dataset.key))
    return found


def publish_to_postgis(release: Path, url: str, schema: str = "placeintel") -> dict[str, int]:
    """Replace the schema's tables with the release's layers and council datasets, in one
    transaction."""
    engine = engine_for(url)
    rows = {}
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            for name, (path, key) in tables(release).items():
                if not path.is_file():
                    continue
                frame = gpd.read_parquet(path).to_crs("EPSG:4326").rename_geometry(GEOMETRY)
                connection.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}"."{name}"'))
                if frame.geometry.isna().all():
                    # geopandas cannot type a column of nulls: the table, then the column
                    pd.DataFrame(frame.drop(columns=GEOMETRY)).to_sql(
                        name, connection, schema=schema, index=False
                    )
                    connection.execute(
                        sa.text(
                            f'ALTER TABLE "{schema}"."{name}" '
                            f'ADD COLUMN "{GEOMETRY}" geometry(Geometry, 4326)'
                        )
                    )
                else:
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


def postgres_config(template: Path, url: str, schema: str, release: Path) -> dict[str, Any]:
    """The pygeoapi configuration that serves the same collections from PostGIS: the one
    `placeintel serve` makes for the release (its metadata, extents, downloads and council
    datasets, their text kept from `${NAME}` expansion), each collection's provider
    swapped for pygeoapi's PostgreSQL one over its table. Write it with
    `placeintel.api.metadata.dump`, which keeps the quoting.

    pygeoapi's PostgreSQL provider keeps one pooled SQLAlchemy engine per process
    (with pre-ping), so each waitress thread borrows a connection rather than opening one.
    """
    from placeintel.api.metadata import load_keeping_quotes
    from placeintel.api.serve import runtime_config

    parsed: URL = make_url(url)
    settings = load_keeping_quotes(runtime_config(release, template))
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
                "id_field": provider["id_field"],
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
