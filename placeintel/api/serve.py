"""Run pygeoapi over a region's current release, with the map and downloads alongside.

pygeoapi reads its configuration from environment variables when its Flask
module is imported, so `create_app` sets them, writes the OpenAPI document
next to the releases, and (re)loads that module.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import ipaddress
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import xstatic.pkg.leaflet as xstatic_leaflet
import xstatic.pkg.leaflet_markercluster as xstatic_markercluster
import yaml
from flask import Flask, abort, redirect, request, send_file, send_from_directory

from placeintel.api import crs, encoder
from placeintel.api.caching import LinkedRelease, ReleaseCaching
from placeintel.api.guard import QueryGuard
from placeintel.api.headers import SecurityHeaders, page_policy, tile_origin
from placeintel.api.heap import release_free_memory
from placeintel.api.limits import ServerLimits, allow_open_files
from placeintel.api.metadata import (
    Literal,
    dump,
    load_keeping_quotes,
    read_package,
    service_metadata,
)
from placeintel.api.openapi import describe_filters
from placeintel.api.release import (
    human_size,
    method_page,
    release_files,
    release_zip,
    zip_name,
)
from placeintel.errors import UsageError
from placeintel.publish import current_release
from placeintel.publish.catalog import NAME as CATALOG_NAME
from placeintel.publish.catalog import absolute, catalog
from placeintel.publish.descriptors import FORMATS, Dataset, released_datasets
from placeintel.publish.layers import BASE_URL, BY_NAME, collections, file_extent
from placeintel.publish.writers import neutralise_csv_text
from placeintel.region import DATASETS_DIR

CONFIG = DATASETS_DIR.parent / "pygeoapi-config.yml"
DEFAULT_LIMITS = ServerLimits()
#: A stored catalog.jsonld bigger than this is made afresh from the data package instead.
MAX_CATALOG_BYTES = 50 * 1024 * 1024
#: The API's HTML pages: the project's templates (pygeoapi's own for the pages they do not
#: replace) and their scripts and styles, served at /static/.
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
#: Leaflet for the API pages' maps, from the same packages the planners' map ships.
VENDOR = {
    "leaflet": Path(xstatic_leaflet.BASE_DIR),
    "markercluster": Path(xstatic_markercluster.BASE_DIR),
}


def with_templates(text: str) -> str:
    """The configuration with the project's templates, unless it names its own.

    pygeoapi 0.21's stock templates write features into a <script> unescaped, so a ward
    name could run as script; ours escape it and keep every script in a file, which
    lets the Content-Security-Policy forbid inline script.
    """
    # Quoted values stay quoted: pygeoapi expands `${NAME}` only in plain ones, and a
    # council's text (the PostGIS configuration carries it) must not be expanded.
    settings = load_keeping_quotes(text)
    settings.setdefault("server", {}).setdefault(
        "templates", {"path": str(TEMPLATES), "static": str(STATIC)}
    )
    return dump(settings)


def runtime_config(release: Path, config: Path = CONFIG) -> str:
    """The top-level configuration, its collections generated from the layer registry and
    the release's council datasets (`placeintel.datasets` of its datapackage.json), each
    with its real extent and download sizes from the release; the service's title, licence,
    publisher and contact from the release (its region manifest), and the project's
    templates."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    package = read_package(release)
    settings["metadata"] = service_metadata(package, settings.get("metadata") or {})
    datasets = released_datasets(package)
    settings.setdefault("server", {}).setdefault(
        "templates", {"path": str(TEMPLATES), "static": str(STATIC)}
    )
    region_extent = file_extent(release / "wards.parquet")
    settings["resources"] = collections(datasets, region_extent)
    for name, resource in settings["resources"].items():
        for link in resource.get("links", []):
            # pygeoapi HEAD-requests every enclosure without a length, on every request and
            # to itself; the release knows its file sizes, so say them.
            download = release / str(link.get("href", "")).rsplit("/release/", 1)[-1]
            if link.get("rel") == "enclosure" and download.is_file():
                link["length"] = download.stat().st_size
        if name in BY_NAME and (extent := file_extent(release / f"{name}.parquet")):
            # an empty layer keeps the configured (national) extent
            resource["extents"]["spatial"]["bbox"] = extent
        _as_text(resource)
    # For the pages: the region (its downloads' names are slugs) and its datasets.
    settings["placeintel"] = {
        "region": release.parent.name,
        "catalog": True,
        "datasets": [_listing(release, package, d) for d in datasets],
    }
    return dump(settings)


def _as_text(resource: dict) -> None:
    """A dataset's words come from its publisher: none may be expanded as a `${NAME}` by
    pygeoapi's loader, so all are written double-quoted; only the service's own links
    (to its base URL) and the provider's path keep their variables."""
    for key in ("title", "description"):
        resource[key] = Literal(resource[key])
    resource["keywords"] = [Literal(k) for k in resource["keywords"]]
    for link in resource["links"]:
        link["title"] = Literal(link["title"])
        if not str(link["href"]).startswith(BASE_URL):
            link["href"] = Literal(link["href"])


def _listing(release: Path, package: dict, dataset: Dataset) -> dict:
    """What the home page says of a dataset: everything as text, every download with its
    size (files missing from the release are not offered)."""
    shown = dataset.files if dataset.geometry else {"csv": dataset.files["csv"]}
    downloads = []
    for kind in ("csv", "geojson", "gpkg", "parquet"):
        path = release / shown.get(kind, "-")
        if kind in shown and path.is_file():
            downloads.append(
                {
                    "format": FORMATS[kind][1],
                    "type": FORMATS[kind][0],
                    "file": shown[kind],
                    "size": human_size(path.stat().st_size),
                }
            )
    return {
        "id": dataset.id,
        "title": Literal(dataset.title),
        "description": Literal(dataset.description),
        "licence": Literal(dataset.licence.title or dataset.licence.name),
        "licence_url": Literal(dataset.licence.path),
        "publisher": Literal(dataset.publisher),
        "attribution": Literal(dataset.attribution),
        "rows": dataset.rows,
        "modified": dataset.modified,
        "released": str(package.get("created") or "")[:10],
        "version": release.name,
        "downloads": downloads,
    }


def configure(region: str, releases: Path, url: str, config: Path | None = None) -> Path:
    """Point pygeoapi at the region's `current` release; return the release folder.

    With `config` (e.g. the PostGIS configuration `placeintel publish` writes) that file is
    served as it is; otherwise the top-level configuration with the release's extents.
    """
    from pygeoapi.openapi import generate_openapi_document

    release = current_release(releases, region)  # raises a clear error if none yet
    link = (Path(releases) / region / "current").absolute()
    os.environ["PLACEINTEL_RELEASE"] = str(link)
    os.environ["PLACEINTEL_URL"] = url.rstrip("/")
    runtime = Path(releases) / f".pygeoapi-{region}.yml"
    if config is not None:
        if not Path(config).is_file():
            raise UsageError(f"no pygeoapi configuration at {config}")
        runtime.write_text(
            with_templates(Path(config).read_text(encoding="utf-8")), encoding="utf-8"
        )
    else:
        runtime.write_text(runtime_config(release, CONFIG), encoding="utf-8")
    os.environ["PYGEOAPI_CONFIG"] = str(runtime.absolute())
    openapi = Path(releases) / f".openapi-{region}.yml"
    document = describe_filters(generate_openapi_document(runtime, "yaml"))
    openapi.write_text(document, encoding="utf-8")
    os.environ["PYGEOAPI_OPENAPI"] = str(openapi.absolute())
    return release


def pygeoapi_app() -> Flask:
    """pygeoapi's Flask app for the configuration in PYGEOAPI_CONFIG/PYGEOAPI_OPENAPI.

    pygeoapi reads its configuration when its Flask module is imported, so the
    module is reloaded to take a new one (tests and benchmarks build several).
    """
    from pygeoapi import l10n

    # pygeoapi keeps each locale's translated configuration for the life of the process,
    # which would render a new configuration's pages with the old one's title and contact.
    getattr(l10n, "_cfg_cache", {}).clear()
    module = sys.modules.get("pygeoapi.flask_app")
    module = importlib.reload(module) if module else importlib.import_module("pygeoapi.flask_app")
    return module.APP


def create_app(
    region: str = "demo",
    releases: Path = Path("releases"),
    url: str = "http://127.0.0.1:5000",
    config: Path | None = None,
) -> Flask:
    """A Flask app serving OGC API - Features, `/map/` and `/release/` downloads."""
    from pygeoapi.l10n import get_locales
    from pygeoapi.util import render_j2_template

    configure(region, releases, url, config)
    encoder.install()
    crs.install()
    app = pygeoapi_app()
    link = (Path(releases) / region / "current").absolute()
    settings = sys.modules["pygeoapi.flask_app"].CONFIG

    def base_url() -> str:
        return str(settings["server"]["url"]).rstrip("/")

    def page(template: str, data: dict) -> tuple[str, int, dict[str, str]]:
        """One of the service's own pages, in the same templates as pygeoapi's."""
        html = render_j2_template(
            settings,
            settings["server"]["templates"],
            template,
            {**data, "placeintel_page": True},  # no JSON-LD version of these pages
            get_locales(settings)[0],
        )
        return html, 200, {"Content-Type": "text/html; charset=utf-8"}

    tiles = tile_origin(
        sys.modules["pygeoapi.flask_app"].CONFIG["server"].get("map", {}).get("url")
    )
    images = [tiles] if tiles else []

    def release_file(path: str):
        folder = link.resolve()
        if path == "method.md" and request.args.get("f") == "html":
            return method(folder)
        if path.endswith(".zip") and "/" not in path and not (folder / path).exists():
            return release_zip_file(folder, path.removesuffix(".zip"))
        target = folder / path
        # The release's own files only: a symlink inside it must not lead elsewhere.
        if not target.is_file() or not target.resolve().is_relative_to(folder):
            abort(404)
        response = send_from_directory(folder, path)
        if path.endswith(".html"):  # a map: its own inline scripts, by their hashes
            response.headers["Content-Security-Policy"] = page_policy(
                folder / path, {"img-src": images}
            )
        return response

    def release_zip_file(folder: Path, name: str):
        """`<region>-<version>.zip` for the current release; `<region>.zip` leads to it, so
        a link to the latest release's zip never goes stale."""
        if name == folder.parent.name:
            response = redirect(f"{base_url()}/release/{zip_name(folder)}.zip", 302)
            response.headers["Cache-Control"] = "no-cache"
            return response
        if name != zip_name(folder):
            abort(404)
        made = release_zip(folder)
        return send_file(
            made,
            mimetype="application/zip",
            as_attachment=True,
            download_name=f"{name}.zip",
            conditional=isinstance(made, Path),
        )

    def release_index():
        """The release's files, with sizes and links: a page, or JSON with ?f=json."""
        folder = link.resolve()
        form = request.args.get("f", "html")
        if form not in ("html", "json"):
            return {"code": "InvalidParameterValue", "description": "f must be html or json"}, 400
        here = f"{base_url()}/release/"
        package = read_package(folder)
        files = [
            {
                "path": item.path,
                "href": here + quote(item.path),
                "bytes": item.bytes,
                "size": human_size(item.bytes),
                "mediatype": item.mediatype,
            }
            for item in release_files(folder)
        ]
        index = {
            "title": str(package.get("title") or folder.parent.name),
            "region": folder.parent.name,
            "version": folder.name,
            "created": str(package.get("created") or ""),
            "zip": f"{here}{quote(zip_name(folder))}.zip",
            "method": f"{here}method.md?f=html",
            "files": files,
            "links": [
                {"rel": "self", "type": "text/html", "href": f"{here}?f=html"},
                {"rel": "alternate", "type": "application/json", "href": f"{here}?f=json"},
            ],
        }
        if form == "json":
            return index
        return page("placeintel/release.html", index)

    def method(folder: Path):
        rendered = method_page(folder / "method.md")
        if rendered is None:
            abort(404)
        title, body = rendered
        here = f"{base_url()}/release/method.md"
        return page(
            "placeintel/method.html",
            {
                "title": title,
                "body": body,
                "links": [
                    {"rel": "self", "type": "text/html", "href": f"{here}?f=html"},
                    {"rel": "alternate", "type": "text/markdown", "href": here},
                ],
            },
        )

    def catalog_file():
        """The release's DCAT catalogue with every link absolute against this service's
        address. A release built before catalogues has no catalog.jsonld: it is made from
        its datapackage.json on the fly, the same way the build makes it."""
        folder = link.resolve()
        try:
            stored = folder / CATALOG_NAME
            if stored.is_file() and stored.stat().st_size <= MAX_CATALOG_BYTES:
                document = json.loads(stored.read_text(encoding="utf-8"))
            else:
                document = catalog(folder)
        except (OSError, ValueError):
            return {
                "code": "NotFound",
                "description": "this release has no readable datapackage.json, so no catalogue",
            }, 404
        body = json.dumps(absolute(document, f"{base_url()}/release/"), ensure_ascii=False)
        return body, 200, {"Content-Type": "application/ld+json; charset=utf-8"}

    def tile_matrix_sets(name: str | None = None):
        """The service's own HTML page for /TileMatrixSets (pygeoapi 0.21 renders it with
        its stock templates, which need Bootstrap from a CDN)."""
        from pygeoapi.models.provider.base import TileMatrixSetEnum

        known = {t.value.tileMatrixSet: t.value.title for t in TileMatrixSetEnum}
        if name is not None and name not in known:
            abort(404)
        chosen = {name: known[name]} if name else known
        return page(
            "placeintel/tilematrixsets.html",
            {"sets": [{"id": key, "title": title} for key, title in chosen.items()]},
        )

    def vendor_file(package: str, path: str):
        return send_from_directory(VENDOR[package], path)

    if _csv_formulas not in app.after_request_funcs.get(None, []):
        app.after_request(_csv_formulas)
    if not isinstance(app.wsgi_app, QueryGuard):
        app.wsgi_app = QueryGuard(app.wsgi_app)
    if not isinstance(app.wsgi_app, SecurityHeaders):
        app.wsgi_app = ReleaseCaching(app.wsgi_app, LinkedRelease(link), _fingerprint())
        app.wsgi_app = SecurityHeaders(app.wsgi_app, images)
    for rule in list(app.url_map.iter_rules()):
        if rule.rule.startswith("/TileMatrixSets"):
            app.view_functions[rule.endpoint] = _html_to(
                tile_matrix_sets, app.view_functions[rule.endpoint]
            )
    app.add_url_rule("/map/", "placeintel_map", lambda: release_file("map.html"))
    app.add_url_rule("/map/<path:path>", "placeintel_map_assets", release_file)
    app.add_url_rule("/release/", "placeintel_release_index", release_index)
    app.add_url_rule("/catalog.jsonld", "placeintel_catalog", catalog_file)
    app.add_url_rule(f"/release/{CATALOG_NAME}", "placeintel_release_catalog", catalog_file)
    app.add_url_rule("/release/<path:path>", "placeintel_release", release_file)
    app.add_url_rule(
        "/vendor/<any(leaflet, markercluster):package>/<path:path>",
        "placeintel_vendor",
        vendor_file,
    )
    return app


def _fingerprint() -> str:
    """What shapes answers besides the release: the service's configuration (its URL,
    collections, templates) and OpenAPI document, and pygeoapi's version."""
    import pygeoapi

    parts = [pygeoapi.__version__]
    for variable in ("PYGEOAPI_CONFIG", "PYGEOAPI_OPENAPI"):
        with contextlib.suppress(OSError):
            parts.append(Path(os.environ[variable]).read_text(encoding="utf-8"))
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _csv_formulas(response: Any) -> Any:
    """pygeoapi's `?f=csv` pages (a download named <collection>.csv) with the published
    CSVs' formula rule; the release's own files are already written so."""
    # pygeoapi replaces the headers with a plain dict, where werkzeug's `mimetype` (which
    # asks for "content-type") finds nothing.
    kind = next((v for k, v in response.headers.items() if k.lower() == "content-type"), "")
    if kind.split(";")[0].strip() == "text/csv" and not response.direct_passthrough:
        response.set_data(neutralise_csv_text(response.get_data(as_text=True)))
    return response


def _html_to(own: Callable[..., Any], pygeoapi: Callable[..., Any]) -> Callable[..., Any]:
    """A view answering HTML requests with `own` (given the tile matrix set's id, if any)
    and every other format with pygeoapi's view."""

    def view(**arguments: Any) -> Any:
        asked = request.args.get("f")
        if asked == "html" or (asked is None and request.accept_mimetypes.best == "text/html"):
            return own(arguments.get("tileMatrixSetId"))
        return pygeoapi(**arguments)

    return view


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def warm(app: Flask) -> list[str]:
    """Load every layer served from the release's files, before workers are forked, so they
    share it (copy-on-write) instead of each loading its own; returns the layers' names."""
    from placeintel.api.provider import ReleaseProvider, load_layer

    loaded = []
    resources = sys.modules["pygeoapi.flask_app"].CONFIG.get("resources", {})
    for name, resource in resources.items():
        for provider in resource.get("providers", []):
            if provider.get("name") != f"{ReleaseProvider.__module__}.ReleaseProvider":
                continue
            data = os.path.expandvars(str(provider.get("data", "")))
            if Path(data).is_file():
                load_layer(data, provider["id_field"], provider.get("options"))
                loaded.append(name)
    return loaded


def run(
    region: str,
    releases: Path,
    host: str,
    port: int,
    threads: int,
    echo: Callable[[str], None] = print,
    config: Path | None = None,
    *,
    url: str | None = None,
    limits: ServerLimits = DEFAULT_LIMITS,
    trusted_proxy: str | None = None,
    workers: int | None = None,
) -> None:
    """Serve with waitress, a production WSGI server, bound to loopback by default: one
    process per core (placeintel.api.workers), each with `threads` threads.

    Threads per worker (the CLI's default, 8, kept): issue 18 found 1 thread faster than
    8 with a single process, but with a worker per core the measurement turns round.
    wrk on the GM synthetic release, 2 workers, 5 s runs on a shared 2-core machine
    (noisy; two rounds): 1 or 2 threads gave 0.3-0.7x the req/s of 4 or 8 on the
    100-ward page, an output area by id and an output-area bbox page, at 16 and 64
    connections, with worse p99 (up to 1.9 s at 64); 4 and 8 were within the noise of
    each other. Threads also keep one slow query (a national CQL2 filter) or a slow
    reader from holding up every other request of its worker.

    `url` is the public base URL written into every link (behind a reverse proxy, the
    proxy's address); `trusted_proxy` is the proxy's address, whose X-Forwarded-*
    headers waitress then honours (and drops from anyone else). The connection limit is
    the whole server's: each of the `workers` processes takes its share.
    """
    import waitress.adjustments
    import waitress.server

    from placeintel.api.balance import BalancedServer, ConnectionShares
    from placeintel.api.workers import listening_socket, run_workers

    url = (url or f"http://{host}:{port}").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, got {url!r}")
    if trusted_proxy and trusted_proxy not in ("*", "localhost"):
        try:
            ipaddress.ip_address(trusted_proxy)
        except ValueError:
            raise UsageError(
                f"--trusted-proxy takes the proxy's IP address, got {trusted_proxy!r}"
            ) from None
    workers = workers or default_workers()
    share = max(1, limits.connection_limit // workers)
    allow_open_files(limits.open_files())  # the whole limit: a worker never needs more
    settings = ServerLimits(share, limits.channel_timeout, limits.max_request_body)
    try:  # waitress's own checks, before any worker starts
        waitress.adjustments.Adjustments(threads=threads, **settings.waitress(trusted_proxy))
    except ValueError as error:  # waitress refusing a setting, e.g. --trusted-proxy
        raise UsageError(f"cannot serve with these settings: {error}") from None
    app = create_app(region, releases, url, config)
    release = current_release(releases, region)
    try:
        sock = listening_socket(host, port)
    except OSError as error:  # most often: the port is taken by another server
        raise UsageError(
            f"cannot listen on {host}:{port}: {error.strerror}; choose another with --port"
        ) from None
    started = time.perf_counter()
    layers = warm(app)
    release_free_memory()  # before the fork: the workers share only the live data
    echo(f"Serving {region} release {release.name} (OGC API - Features) at {url}/")
    echo(f"  collections: {url}/collections")
    echo(f"  map:         {url}/map/   (file: {release / 'map.html'})")
    echo(f"  downloads:   {url}/release/   (the data package: {url}/release/datapackage.json)")
    echo(f"  catalogue:   {url}/catalog.jsonld   (DCAT, for data portals' harvesters)")
    echo(
        f"Loaded {len(layers)} layers in {time.perf_counter() - started:.1f} s; running "
        f"{workers} waitress worker process{'es' if workers > 1 else ''} "
        f"(--workers; default one per core) of {threads} threads each, sharing them"
    )
    echo(
        f"Listening on {host}:{port}: at most {share * workers} connections"
        + (f" ({share} per worker)" if workers > 1 else "")
        + f", idle ones closed after {limits.channel_timeout} s, request bodies up to "
        f"{limits.max_request_body:,} bytes"
        + (f"; X-Forwarded-* trusted from {trusted_proxy}" if trusted_proxy else "")
    )
    echo("Press Ctrl+C to stop.")

    shares = ConnectionShares(workers)

    def worker(slot: int) -> None:
        logging.basicConfig()  # as waitress.serve does: its warnings reach stderr
        server = waitress.server.create_server(
            app,
            sockets=[sock],
            threads=threads,
            ident="placeintel",
            **settings.waitress(trusted_proxy),
        )
        if workers == 1:
            server.run()
        else:
            BalancedServer(server, shares).run(slot)

    try:
        if workers == 1:
            worker(0)
        else:
            run_workers(workers, worker, echo)
    finally:
        sock.close()
