"""The `placeintel` command: thin wrappers over the Python API.

Exit codes: 0 success, 1 invalid data, 2 usage error. A user's mistake is one
clear line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import pandas as pd

from placeintel.errors import PlaceintelError, UsageError


class _Group(click.Group):
    """Turn placeintel's own errors into a message and an exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except PlaceintelError as error:
            click.secho(f"Error: {error}", fg="red", err=True)
            ctx.exit(error.exit_code)


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
    """Validate and publish council open data, and map digital-exclusion risk by ward."""


@main.command()
@click.argument("region")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Folder holding the source files."
)
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
    from placeintel.validate import validate as run_validation

    report = run_validation(region, data_dir)
    click.echo(report.to_json() if output == "json" else report.to_text())
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("region")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Folder holding the source files."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("releases"),
    show_default=True,
    help="Where releases go: <out>/<region>/<version> and <out>/<region>/current.",
)
@click.option(
    "--base",
    type=click.Choice(["region", "local-authority", "nation"]),
    help="Scale indicators within the region, each local authority, or the nation "
    "(with --reference).",
)
@click.option(
    "--reference",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="For --base nation: a national release folder whose ward ranges set the 0-10 scale.",
)
@click.option(
    "--engine",
    type=click.Choice(["default", "dask"]),
    default="default",
    show_default=True,
    help="Run the heavy stages here, or on Dask (dask-geopandas).",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="A Dask scheduler to use with --engine dask (default: a local cluster).",
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
    out: Path,
    base: str | None,
    reference: Path | None,
    engine: str,
    scheduler: str | None,
    weights: tuple[str, ...],
) -> None:
    """Build a region's release: indicators, index, data package, map."""
    from placeintel.index import IndexSettings
    from placeintel.pipeline import build as run_build
    from placeintel.region import load_manifest

    manifest = load_manifest(region, data_dir)
    settings = IndexSettings.with_overrides(
        manifest.index, str(manifest.manifest_path), _weights(weights), base, reference
    )
    if scheduler and engine != "dask":
        raise UsageError("--scheduler goes with --engine dask")
    run_build(
        region,
        data_dir=data_dir,
        out=out,
        settings=settings,
        echo=click.echo,
        engine=engine,
        scheduler=scheduler,
    )


@main.command()
@click.option(
    "--region", default="demo", show_default=True, help="Region whose current release to serve."
)
@click.option(
    "--releases",
    type=click.Path(path_type=Path),
    default=Path("releases"),
    show_default=True,
    help="Folder of releases.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="Serve this pygeoapi configuration (e.g. the PostGIS one from `publish`).",
)
def serve(
    region: str, releases: Path, host: str, port: int, threads: int, config: Path | None
) -> None:
    """Serve the current release as OGC API - Features (pygeoapi) with waitress."""
    from placeintel.api.serve import run

    run(
        region=region,
        releases=releases,
        host=host,
        port=port,
        threads=threads,
        echo=click.echo,
        config=config,
    )


@main.command()
@click.argument("region")
@click.option(
    "--to",
    "url",
    required=True,
    metavar="postgresql://USER:PASS@HOST:PORT/DB",
    help="The PostGIS database to load the current release into.",
)
@click.option("--schema", default="placeintel", show_default=True)
@click.option(
    "--releases", type=click.Path(path_type=Path), default=Path("releases"), show_default=True
)
@click.option(
    "--config-out",
    type=click.Path(path_type=Path),
    help="Where to write the pygeoapi configuration (default: pygeoapi-postgres-REGION.yml).",
)
def publish(region: str, url: str, schema: str, releases: Path, config_out: Path | None) -> None:
    """Load the current release into PostGIS and write a pygeoapi config that serves it."""
    import yaml

    from placeintel.api.serve import CONFIG
    from placeintel.publish import current_release
    from placeintel.publish.postgis import postgres_config, publish_to_postgis

    release = current_release(releases, region)
    rows = publish_to_postgis(release, url, schema)
    target = config_out or Path(f"pygeoapi-postgres-{region}.yml")
    target.write_text(
        yaml.safe_dump(postgres_config(CONFIG, url, schema), sort_keys=False), encoding="utf-8"
    )
    click.echo(
        f"Loaded release {release.name} into schema {schema!r}: "
        + ", ".join(f"{name} {count:,}" for name, count in rows.items())
    )
    click.echo(f"Serve it with: placeintel serve --region {region} --config {target}")


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
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write (default: datasets/demo for the demo, synthetic/<scale> otherwise).",
)
def demo_data(scale: str, out: Path | None) -> None:
    """Generate a synthetic region in the official formats, byte for byte (fixed seed)."""
    from placeintel.demo.generate import generate
    from placeintel.demo.layout import LAYOUTS
    from placeintel.region import DATASETS_DIR

    target = out or (DATASETS_DIR / "demo" if scale == "demo" else Path("synthetic") / scale)
    if scale != "demo":
        click.echo(f"Generating the synthetic {scale} region in {target} ...")
    started = time.perf_counter()
    written = generate(target, LAYOUTS[scale], echo=click.echo if scale != "demo" else None)
    for path in written if scale == "demo" else []:
        click.echo(f"wrote {path}")
    if scale != "demo":
        size = sum(p.stat().st_size for p in written if p.is_file())
        click.echo(
            f"Wrote {len(written)} files ({size / 1e6:,.0f} MB) in "
            f"{time.perf_counter() - started:.0f}s. Build it with: "
            f"placeintel build {target / 'region.yml'}"
        )


@main.command()
@click.argument("region")
@click.option("--out", type=click.Path(path_type=Path), default=Path("releases"), show_default=True)
def releases(region: str, out: Path) -> None:
    """List a region's releases, newest last; `*` marks current."""
    from placeintel.publish import list_releases

    found = list_releases(out, region)
    if not found:
        raise UsageError(f"no releases for {region!r} in {out}")
    current = (out / region / "current").resolve() if (out / region / "current").exists() else None
    for path in found:
        click.echo(f"{'*' if path == current else ' '} {path.name}")


@main.command("map")
@click.argument("region")
@click.option("--district", help="A district code (e.g. E08000003) for that district's map.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    help="Where to write the HTML (its assets/ folder goes beside it).",
)
@click.option(
    "--scheme",
    type=click.Choice(["quantiles", "natural-breaks"]),
    default="quantiles",
    show_default=True,
    help="How wards are classed.",
)
@click.option(
    "--releases", type=click.Path(path_type=Path), default=Path("releases"), show_default=True
)
def map_command(
    region: str, district: str | None, out_file: Path | None, scheme: str, releases: Path
) -> None:
    """Draw the hotspot map from the current release (the region, or one district)."""
    import geopandas as gpd

    from placeintel.maps import build_map, district_lsoas, district_subset, write_map
    from placeintel.maps.hotspot_map import ranked
    from placeintel.pipeline import load_release
    from placeintel.publish import current_release

    release = load_release(current_release(releases, region))
    wards, services, lsoas = release.wards, release.services, release.lsoas
    totals = (ranked(wards), ranked(lsoas))
    districts = wards.dissolve("lad_code", as_index=False)[["lad_code", "lad_name", "geometry"]]
    package = json.loads((release.path / "datapackage.json").read_text(encoding="utf-8"))
    title, attribution = package["title"], "; ".join(package.get("attribution", []))
    if district:
        if district not in set(wards["lad_code"]):
            known = ", ".join(sorted(set(wards["lad_code"])))
            raise UsageError(f"no district {district!r} in {region}; districts: {known}")
        wards, services, districts = district_subset(wards, services, districts, district)
        lsoas = district_lsoas(lsoas, district)
        title = f"{title}: {wards['lad_name'].iloc[0]}"
    target = out_file or Path(f"{region}-{district or 'region'}-map.html")
    fmap = build_map(
        gpd.GeoDataFrame(wards),
        services,
        title,
        attribution,
        districts,
        scheme,
        lsoas if lsoas is not None and "deri_score" in lsoas else None,
        release.metadata.get("labels"),
        totals,
    )
    write_map(fmap, target.resolve())
    click.echo(f"Map written to {target.resolve()} (open it in a browser; works offline)")


@main.command()
@click.argument("region")
@click.argument("ward")
@click.option("--out", type=click.Path(path_type=Path), default=Path("releases"), show_default=True)
def explain(region: str, ward: str, out: Path) -> None:
    """Why WARD (a ward code or name, or an LSOA code) ranks where it does in the current
    release."""
    from placeintel.pipeline import load_release
    from placeintel.publish import current_release

    release = load_release(current_release(out, region))
    areas, code, name, unit = release.wards, "ward_code", "ward_name", "wards"
    match = areas[(areas[code] == ward) | (areas[name].str.lower() == ward.lower())]
    lsoas = release.lsoas
    if match.empty and lsoas is not None and "deri_score" in lsoas:
        areas, code, name, unit = lsoas, "lsoa21_code", "lsoa21_name", "LSOAs"
        match = areas[(areas[code] == ward) | (areas[name].str.lower() == ward.lower())]
    if match.empty:
        raise UsageError(
            f"no ward {ward!r} in {region}; give a ward code or its exact name, or an LSOA code"
        )
    row = match.iloc[0]
    place = (
        row["lad_name"] if code == "ward_code" else f"{row['ward_name']} ward, {row['lad_name']}"
    )
    click.echo(f"{row[name]} ({row[code]}, {place})")
    click.echo(
        f"DERI {row['deri_score']:.2f}, rank {row['deri_rank']} of {len(areas)} {unit} "
        f"({row['deri_rank_low']}-{row['deri_rank_high']} across weightings; "
        f"top decile in {row['p_top_decile']:.0%} of them); hotspot: {row['hotspot']}"
    )
    table = release.explain(row[code])
    click.echo(f"{'indicator':<62}{'value':>10}{'0-10':>7}{'points':>8}")
    for item in table.itertuples():
        value = "n/a" if pd.isna(item.value) else f"{item.value:.1f}"
        scaled = "n/a" if pd.isna(item.scaled_0_10) else f"{item.scaled_0_10:.1f}"
        points = "n/a" if pd.isna(item.contribution) else f"{item.contribution:.2f}"
        click.echo(f"{item.label[:61]:<62}{value:>10}{scaled:>7}{points:>8}")


@main.command()
@click.argument("region")
@click.argument("before")
@click.argument("after", default="current")
@click.option("--out", type=click.Path(path_type=Path), default=Path("releases"), show_default=True)
def diff(region: str, before: str, after: str, out: Path) -> None:
    """What changed from release BEFORE to AFTER (default: current)."""
    from placeintel.publish.diff import diff_releases

    folders = []
    for version in (before, after):
        folder = out / region / version
        if not folder.is_dir():
            raise UsageError(
                f"no release {version!r} for {region!r} in {out}; "
                f"see `placeintel releases {region}`"
            )
        folders.append(folder.resolve())
    click.echo(diff_releases(*folders).to_text())


if __name__ == "__main__":
    main()
