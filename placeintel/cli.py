"""The `placeintel` command: each command calls exactly one function of the Python API.

Exit codes: 0 success, 1 invalid data, 2 usage error. A user's mistake is one
clear line on stderr, never a traceback. Options mean one thing everywhere
(`placeintel.cli_options`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

import placeintel
from placeintel.api.limits import ServerLimits
from placeintel.cli_options import (
    data_dir_opt,
    deprecated,
    out_as_output,
    out_as_releases,
    region_arg,
    releases_opt,
    scheme_opt,
)
from placeintel.errors import PlaceintelError, UsageError

#: Set by a command whose work is done and committed (a build's release), so that the
#: program may end without the interpreter's teardown (`placeintel.leave`). It holds the
#: result too, so that its frames are not freed one by one just before the process ends.
_finished: list[object] = []


class _Group(click.Group):
    """Turn placeintel's own errors into a message and an exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except PlaceintelError as error:
            click.secho(f"Error: {error}", fg="red", err=True)
            ctx.exit(error.exit_code)

    def main(self, args=None, *rest, **kwargs):  # type: ignore[override]
        """As the program (no `args`: click reads the command line), a successful build
        ends at once (`placeintel.leave`); called from Python (tests, click's runner), as
        click does. As the program, Ctrl+C never leaves it hanging (`placeintel.interrupt`)."""
        if args is None:
            from placeintel.interrupt import install

            install()
        try:
            return super().main(args, *rest, **kwargs)
        except SystemExit as done:
            if args is None and done.code in (0, None) and _finished:
                from placeintel.leave import exit_now

                exit_now(0)  # returns if it is not safe, and the exit goes on as usual
            raise
        finally:
            _finished.clear()  # called from Python, the caller's memory is its own again


def _weights(values: tuple[str, ...]) -> dict[str, float]:
    weights = {}
    for value in values:
        key, sep, number = value.partition("=")
        try:
            weights[key.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            raise click.BadParameter(f"expected NAME=NUMBER, got {value!r}", param_hint="--weight")
    return weights


@click.group(cls=_Group)
@click.version_option(package_name="placeintel")
def main() -> None:
    """Validate and publish council open data, and map digital-exclusion risk by LSOA and ward."""


@main.command()
@region_arg
@data_dir_opt
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
def validate(region: str, data_dir: Path | None, output: str) -> None:
    """Check a region's sources and report every problem with file, row and field."""
    report = placeintel.validate(region, data_dir)
    click.echo(report.to_json() if output == "json" else report.to_text())
    sys.exit(0 if report.ok else 1)


@main.command()
@region_arg
@data_dir_opt
@releases_opt
@out_as_releases
@click.option(
    "--base",
    type=click.Choice(["region", "local-authority", "nation"]),
    help="Scale indicators within the region, each local authority, or the nation "
    "(the manifest's nation: files, or --reference).",
)
@click.option(
    "--reference",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="For --base nation: a national release folder whose ranges set the 0-10 scale.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "default", "dask"]),
    default="auto",
    show_default=True,
    help="Where the heavy work runs: in this process (default), on Dask (dask), or on "
    "whichever is predicted faster for the region's size and the cores or cluster at "
    "hand (auto; the build says which it picked and why).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="A Dask scheduler to use with --engine dask or auto (default: a local cluster).",
)
@click.option(
    "--weight",
    "weights",
    multiple=True,
    metavar="NAME=N",
    help="Override an indicator or component weight (0-10); repeatable.",
)
def build(
    region: str,
    data_dir: Path | None,
    releases: Path,
    base: str | None,
    reference: Path | None,
    engine: str,
    scheduler: str | None,
    weights: tuple[str, ...],
) -> None:
    """Build a region's release: indicators, index, data package, maps."""
    release = placeintel.build(
        region,
        releases,
        data_dir=data_dir,
        weights=_weights(weights),
        base=base,
        reference=reference,
        engine=engine,
        scheduler=scheduler,
        echo=click.echo,
    )
    _finished.append(release)


@main.command()
@click.argument("region", required=False)
@releases_opt
@deprecated("--region", "the REGION argument", "region")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads.")
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="Serve this pygeoapi configuration (e.g. the PostGIS one from `publish`).",
)
@click.option(
    "--url",
    metavar="URL",
    help="Public base URL written into links, e.g. https://data.example.gov.uk/placeintel "
    "behind a reverse proxy (default: http://HOST:PORT).",
)
@click.option(
    "--connection-limit",
    type=click.IntRange(min=1),
    default=ServerLimits.connection_limit,
    show_default=True,
    help="Open connections at most; beyond it new ones wait.",
)
@click.option(
    "--channel-timeout",
    type=click.IntRange(min=1),
    default=ServerLimits.channel_timeout,
    show_default=True,
    help="Seconds before an idle connection is closed.",
)
@click.option(
    "--max-request-body",
    type=click.IntRange(min=0),
    default=ServerLimits.max_request_body,
    show_default=True,
    help="Largest request body in bytes (the API is read-only; 413 beyond it).",
)
@click.option(
    "--trusted-proxy",
    metavar="ADDRESS",
    help="The reverse proxy's IP address; only its X-Forwarded-* headers are believed.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Server processes, sharing the loaded release (default: one per core).",
)
def serve(
    region: str | None,
    releases: Path,
    host: str,
    port: int,
    threads: int,
    config: Path | None,
    url: str | None,
    connection_limit: int,
    channel_timeout: int,
    max_request_body: int,
    trusted_proxy: str | None,
    workers: int | None,
) -> None:
    """Serve REGION's current release as OGC API - Features (pygeoapi) with waitress, one
    process per core."""
    if not region:
        raise UsageError("give the region to serve: placeintel serve REGION")
    placeintel.serve(
        region,
        releases,
        host,
        port,
        threads,
        config,
        echo=click.echo,
        url=url,
        connection_limit=connection_limit,
        channel_timeout=channel_timeout,
        max_request_body=max_request_body,
        trusted_proxy=trusted_proxy,
        workers=workers,
    )


@main.command()
@region_arg
@click.option(
    "--to",
    "url",
    required=True,
    metavar="postgresql://USER:PASS@HOST:PORT/DB",
    help="The PostGIS database to load the current release into.",
)
@click.option("--schema", default="placeintel", show_default=True, help="Database schema.")
@releases_opt
@click.option(
    "--config-out",
    type=click.Path(path_type=Path),
    help="Where to write the pygeoapi configuration (default: pygeoapi-postgres-REGION.yml).",
)
def publish(region: str, url: str, schema: str, releases: Path, config_out: Path | None) -> None:
    """Load the current release into PostGIS and write a pygeoapi config that serves it."""
    rows, target = placeintel.publish(region, url, schema, releases, config_out)
    click.echo(
        f"Loaded the current release of {region} into schema {schema!r}: "
        + ", ".join(f"{name} {count:,}" for name, count in rows.items())
    )
    click.echo(f"Serve it with: placeintel serve {region} --config {target}")


@main.command("demo-data")
@click.option(
    "--scale",
    type=click.Choice(["demo", "gm", "gm-x4", "gm-x16", "national"]),
    default="demo",
    show_default=True,
    help="demo: the committed demo region. gm, gm-x4, gm-x16: Greater Manchester's size "
    "(215 wards) times 1, 4, 16. national: England and Wales (~7,000 wards, 190,000 output "
    "areas, 1.7 million postcodes).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write (default: datasets/demo for the demo, synthetic/<scale> otherwise).",
)
@out_as_output
def demo_data(scale: str, output: Path | None) -> None:
    """Generate a synthetic region in the official formats, byte for byte (fixed seed)."""
    if scale != "demo":
        click.echo(f"Generating the synthetic {scale} region ...")
    started = time.perf_counter()
    target, written = placeintel.demo_data(
        scale, output, echo=click.echo if scale != "demo" else (lambda line: None)
    )
    for path in written if scale == "demo" else []:
        click.echo(f"wrote {path}")
    if scale != "demo":
        size = sum(p.stat().st_size for p in written if p.is_file())
        click.echo(
            f"Wrote {len(written)} files ({size / 1e6:,.0f} MB) to {target} in "
            f"{time.perf_counter() - started:.0f}s. Build it with: "
            f"placeintel build {target / 'region.yml'}"
        )


@main.command()
@region_arg
@releases_opt
@out_as_releases
def releases(region: str, releases: Path) -> None:
    """List a region's releases, newest last; `*` marks current."""
    for path, is_current in placeintel.releases(region, releases):
        click.echo(f"{'*' if is_current else ' '} {path.name}")


@main.command("map")
@region_arg
@click.option("--district", help="A district code (e.g. E08000003) for that district's map.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="The HTML file to write (its assets/ folder goes beside it); "
    "default REGION-DISTRICT-map.html.",
)
@out_as_output
@scheme_opt
@releases_opt
def map_command(
    region: str, district: str | None, output: Path | None, scheme: str, releases: Path
) -> None:
    """Draw the map from the current release (the region, or one district)."""
    release = placeintel.current(region, releases)
    target = placeintel.save_map(
        release, output or Path(f"{region}-{district or 'region'}-map.html"), district, scheme
    )
    click.echo(f"Map written to {target} (open it in a browser; works offline)")


@main.command()
@region_arg
@click.argument("area")
@releases_opt
@out_as_releases
def explain(region: str, area: str, releases: Path) -> None:
    """Why AREA ranks where it does in the current release: a ward's code or name, or an
    LSOA's code or name."""
    release = placeintel.current(region, releases)
    level, row = placeintel.find_area(release, area)
    code, name, unit = (
        ("ward_code", "ward_name", "wards")
        if level == "ward"
        else ("lsoa21_code", "lsoa21_name", "LSOAs")
    )
    areas = release.wards if level == "ward" else release.lsoas
    place = row["lad_name"] if level == "ward" else f"{row['ward_name']} ward, {row['lad_name']}"
    click.echo(f"{row[name]} ({row[code]}, {place})")
    click.echo(
        f"DERI {row['deri_score']:.2f}, rank {row['deri_rank']} of {len(areas):,} {unit} "
        f"({row['deri_rank_low']}-{row['deri_rank_high']} across weightings; "
        f"top decile in {row['p_top_decile']:.0%} of them); hotspot: {row['hotspot']}"
    )
    import pandas as pd  # here, not at the top: `placeintel --help` need not load pandas

    table = release.explain(row[code])
    click.echo(f"{'indicator':<62}{'value':>10}{'0-10':>7}{'points':>8}")
    for item in table.itertuples():
        value = "n/a" if pd.isna(item.value) else f"{item.value:.1f}"
        scaled = "n/a" if pd.isna(item.scaled_0_10) else f"{item.scaled_0_10:.1f}"
        points = "n/a" if pd.isna(item.contribution) else f"{item.contribution:.2f}"
        click.echo(f"{item.label[:61]:<62}{value:>10}{scaled:>7}{points:>8}")


@main.command()
@region_arg
@click.argument("before")
@click.argument("after", default="current")
@releases_opt
@out_as_releases
def diff(region: str, before: str, after: str, releases: Path) -> None:
    """What changed from release BEFORE to AFTER (default: current)."""
    click.echo(placeintel.diff(region, before, after, releases).to_text())


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--output",
    "--out",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the schema (default: print it).",
)
@click.option("--sheet", help="For a workbook with several sheets: the sheet to describe.")
@click.option("--layer", help="For a GeoPackage with several layers: the layer to describe.")
def describe(file: Path, output: Path | None, sheet: str | None, layer: str | None) -> None:
    """Draft a Table Schema for a council dataset (CSV, GeoJSON, GeoPackage, zipped
    shapefile or XLSX), to review and commit beside region.yml."""
    from placeintel.datasets.describe import review_notes, write_draft

    draft = placeintel.describe(file, sheet=sheet, layer=layer)
    if output is None:
        click.echo(json.dumps(draft.schema, indent=2, ensure_ascii=False))
    else:
        write_draft(draft, output)
        click.echo(f"Wrote {output}")
    for line in review_notes(draft, file, output):
        click.echo(line, err=output is None)


@main.command()
@region_arg
@data_dir_opt
@releases_opt
def datasets(region: str, data_dir: Path | None, releases: Path) -> None:
    """List REGION's council datasets: id, title, format, geometry, rows in the current
    release (when built), licence."""
    from placeintel.datasets.describe import table

    rows = placeintel.list_datasets(region, data_dir, releases)
    if not rows:
        click.echo(f"{region} has no datasets: add a datasets: section to its region.yml")
        return
    click.echo(table(rows))


@main.command("fetch")
@region_arg
@data_dir_opt
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="ID",
    help="Fetch only this source (repeatable, or comma-separated); default every source "
    "with a download block.",
)
@click.option("--refresh", is_flag=True, help="Download again even what matches the lock.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Download nothing: report each file that differs from sources.lock.json (exit 1).",
)
def fetch_command(
    region: str, data_dir: Path | None, only: tuple[str, ...], refresh: bool, check_only: bool
) -> None:
    """Download REGION's sources (their download: blocks) into the data folder, with a lock."""
    from placeintel import fetch as fetching

    if check_only:
        differences = fetching.check(region, data_dir)
        for difference in differences:
            click.echo(f"differs: {difference}")
        click.echo(
            f"{len(differences)} file(s) differ from the lock"
            if differences
            else "every locked file matches sources.lock.json"
        )
        sys.exit(1 if differences else 0)
    only = tuple(name.strip() for names in only for name in names.split(",") if name.strip())
    progress = _progress()
    echo = progress.echo if progress else click.echo
    fetching.fetch(region, data_dir, only, refresh, echo=echo, on_progress=progress)


class _Progress:
    """A live bytes/rows line on a terminal, erased before any other line is printed."""

    def __init__(self) -> None:
        self.shown = 0.0
        self.live = False

    def __call__(self, source: str, done: int, rows: int) -> None:
        now = time.monotonic()
        if now - self.shown >= 0.25:
            self.shown = now
            extra = f", {rows:,} rows" if rows else ""
            click.echo(f"\r\x1b[K  {source}: {done / 1e6:,.1f} MB{extra}", nl=False, err=True)
            self.live = True

    def echo(self, message: str) -> None:
        if self.live:  # erase the progress line, so the result line is not written over it
            click.echo("\r\x1b[K", nl=False, err=True)
            self.live = False
        click.echo(message)


def _progress() -> _Progress | None:
    """Progress only on a terminal (none when output is piped or logged)."""
    return _Progress() if sys.stderr.isatty() else None


if __name__ == "__main__":
    main()
