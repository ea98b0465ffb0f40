"""Run pygeoapi over a region's current release, with the map and downloads alongside.

pygeoapi reads its configuration from environment variables when its Flask
module is imported, so `create_app` sets them, writes the OpenAPI document
next to the releases, and (re)loads that module.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask, abort, send_from_directory

from placeintel.errors import UsageError
from placeintel.publish import current_release
from placeintel.region import DATASETS_DIR

CONFIG = DATASETS_DIR.parent / "pygeoapi-config.yml"


def configure(region: str, releases: Path, url: str, config: Path = CONFIG) -> Path:
    """Point pygeoapi at the region's `current` release; return the release folder."""
    from pygeoapi.openapi import generate_openapi_document

    release = current_release(releases, region)  # raises a clear error if none yet
    link = (Path(releases) / region / "current").absolute()
    os.environ["PLACEINTEL_RELEASE"] = str(link)
    os.environ["PLACEINTEL_URL"] = url.rstrip("/")
    os.environ["PYGEOAPI_CONFIG"] = str(config)
    openapi = Path(releases) / f".openapi-{region}.yml"
    openapi.write_text(generate_openapi_document(config, "yaml"), encoding="utf-8")
    os.environ["PYGEOAPI_OPENAPI"] = str(openapi.absolute())
    return release


def create_app(
    region: str = "demo", releases: Path = Path("releases"), url: str = "http://127.0.0.1:5000"
) -> Flask:
    """A Flask app serving OGC API - Features, `/map/` and `/release/` downloads."""
    configure(region, releases, url)
    module = sys.modules.get("pygeoapi.flask_app")
    module = importlib.reload(module) if module else importlib.import_module("pygeoapi.flask_app")
    app: Flask = module.APP
    link = (Path(releases) / region / "current").absolute()

    def release_file(path: str):
        folder = link.resolve()
        if not (folder / path).is_file():
            abort(404)
        return send_from_directory(folder, path)

    app.add_url_rule("/map/", "placeintel_map", lambda: release_file("map.html"))
    app.add_url_rule("/map/<path:path>", "placeintel_map_assets", release_file)
    app.add_url_rule("/release/<path:path>", "placeintel_release", release_file)
    return app


def run(
    region: str,
    releases: Path,
    host: str,
    port: int,
    threads: int,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve with waitress, a production WSGI server, bound to loopback by default."""
    import waitress

    url = f"http://{host}:{port}"
    app = create_app(region, releases, url)
    release = current_release(releases, region)
    echo(f"Serving {region} release {release.name} (OGC API - Features) at {url}/")
    echo(f"  collections: {url}/collections")
    echo(f"  map:         {url}/map/   (file: {release / 'map.html'})")
    echo(f"  downloads:   {url}/release/datapackage.json")
    echo("Press Ctrl+C to stop.")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="placeintel")
    except OSError as error:  # most often: the port is taken by another server
        raise UsageError(
            f"cannot listen on {host}:{port}: {error.strerror}; choose another with --port"
        ) from None
