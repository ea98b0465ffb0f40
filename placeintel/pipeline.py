"""`build`: read -> validate -> indicators -> index -> publish -> map -> switch `current`.

The orchestration lives here, apart from the stages, so each stage stays a
plain function of values in and values out, and the CLI and notebooks share
one build with the same progress lines and timings.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from placeintel.engine import make_engine
from placeintel.errors import PlaceintelError
from placeintel.index import IndexResult, IndexSettings, compute_index
from placeintel.index.deri import indicator_ranges
from placeintel.index.hotspots import hotspots
from placeintel.index.uncertainty import weight_uncertainty
from placeintel.indicators import WardIndicators, ward_indicators
from placeintel.indicators.catalogue import COMPONENTS, INDICATORS
from placeintel.maps import write_maps
from placeintel.maps.attribution import compact_attribution
from placeintel.publish import abandon_release, begin_release, commit_release
from placeintel.publish.disclosure import DisclosureRule
from placeintel.publish.package import ResourceSpec, validate_datapackage, write_datapackage
from placeintel.publish.writers import write_csv, write_geojson, write_gpkg, write_parquet
from placeintel.region import Manifest, load_manifest
from placeintel.validate import Report, validate_sources

Echo = Callable[[str], None]
METHOD = Path(__file__).resolve().parent / "method.md"


class ValidationFailed(PlaceintelError):
    """The sources did not validate; the report says where."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(f"{len(report.errors)} validation error(s); no release was written")


@dataclass
class Release:
    """A published release: its folder, its ward and service layers, and its metadata."""

    path: Path
    version: str
    wards: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    metadata: dict[str, Any]

    @property
    def package(self):  # -> frictionless.Package; imported lazily, it is slow to import
        from frictionless import Package

        return Package(str(self.path / "datapackage.json"))

    @property
    def map_path(self) -> Path:
        return self.path / "map.html"

    def explain(self, ward_code: str) -> pd.DataFrame:
        """Why a ward ranks where it does: each indicator's value, 0-10 score and contribution."""
        match = self.wards[self.wards["ward_code"] == ward_code]
        if match.empty:
            raise PlaceintelError(f"no ward {ward_code!r} in this release")
        ward = match.iloc[0]
        weights = self.metadata["index"]["effective_weights"]
        rows = [
            {
                "indicator": i.key,
                "label": i.label,
                "component": i.component,
                "value": ward.get(i.key),
                "scaled_0_10": ward.get(f"{i.key}_scaled"),
                "weight": weights[i.key],
                "contribution": ward.get(f"{i.key}_contribution", 0.0),
            }
            for i in INDICATORS
            if i.key in weights
        ]
        return pd.DataFrame(rows).sort_values("contribution", ascending=False, ignore_index=True)


@contextmanager
def _stage(echo: Echo, number: int, total: int, name: str) -> Iterator[None]:
    started = time.perf_counter()
    echo(f"[{number}/{total}] {name} ...")
    yield
    echo(f"[{number}/{total}] {name} done in {time.perf_counter() - started:.2f}s")


def ward_columns(result: IndexResult) -> list[str]:
    """Published column order: identity, score, components, indicators, scaled values, counts."""
    frame = result.wards
    head = [
        "ward_code",
        "ward_name",
        "lad_code",
        "lad_name",
        "deri_score",
        "deri_rank",
        "deri_rank_low",
        "deri_rank_high",
        "p_top_decile",
        "weight_sensitive",
        "hotspot",
        "lisa_cluster",
        "gi_z",
        "gi_p_fdr",
        "lisa_p_fdr",
    ]
    head = [c for c in head if c in frame]
    head += [f"{c}_score" for c in COMPONENTS if f"{c}_score" in frame]
    head += [i.key for i in INDICATORS if i.key in frame]
    head += [f"{i.key}_scaled" for i in INDICATORS if f"{i.key}_scaled" in frame]
    head += [f"{i.key}_contribution" for i in INDICATORS if f"{i.key}_contribution" in frame]
    rest = [c for c in frame.columns if c not in head and c != "geometry"]
    return head + rest + ["geometry"]


def build(
    region: str | Path,
    data_dir: str | Path | None = None,
    out: str | Path = "releases",
    settings: IndexSettings | None = None,
    echo: Echo = print,
    engine: str = "default",
    scheduler: str | None = None,
) -> Release:
    """Build and publish a region's release; `current` moves only if every stage succeeds."""
    total = 8
    manifest = load_manifest(region, data_dir)
    echo(f"Building {manifest.title} from {manifest.data_dir}")
    with _stage(echo, 1, total, "read and validate sources"):
        data, report = validate_sources(manifest)
        if not report.ok:
            echo(report.to_text())
            raise ValidationFailed(report)
        for finding in report.warnings:
            echo(f"WARNING: {finding.message}" + (f" ({finding.hint})" if finding.hint else ""))
    with _stage(echo, 2, total, "ward indicators"):
        runner = make_engine(engine, scheduler)
        if runner.name != "default":
            echo(f"  heavy work on {runner.name}: {getattr(runner, 'client', '')}")
        try:
            indicators = ward_indicators(data, runner)
        finally:
            runner.close()
        echo(
            f"  indicators for {len(indicators.wards):,} wards: "
            f"{len(indicators.available)} available, {len(indicators.services):,} services"
        )
    with _stage(echo, 3, total, "index (DERI method)"):
        settings = settings or IndexSettings.from_manifest(
            manifest.index, str(manifest.manifest_path)
        )
        result = compute_index(indicators.wards, settings, indicators.missing)
        _report_missing(echo, result, report)
    with _stage(echo, 4, total, "hotspots and weight uncertainty"):
        scored = gpd.GeoDataFrame(result.wards, geometry="geometry", crs="EPSG:27700")
        result.wards = result.wards.join(hotspots(scored)).join(
            weight_uncertainty(result.wards, settings)
        )
        counts = result.wards["hotspot"].value_counts()
        echo(
            f"  Gi* hotspots: {_count_line(counts, 'hot')}; cold spots: "
            f"{_count_line(counts, 'cold')}; "
            f"{int(result.wards['weight_sensitive'].sum())} ward(s) change risk class with "
            "the weights"
        )
    disclosure = DisclosureRule.from_manifest(manifest.publish)
    wards = gpd.GeoDataFrame(
        disclosure.apply(result.wards[ward_columns(result)]), geometry="geometry", crs="EPSG:27700"
    )
    if disclosure.suppressed:
        echo(
            f"Disclosure control: blanked {sum(disclosure.suppressed.values())} count(s) below "
            f"{disclosure.minimum_count} ({', '.join(disclosure.suppressed)})"
        )
    services = indicators.services
    staging = begin_release(Path(out), manifest.name)
    try:
        with _stage(echo, 5, total, "publish data"):
            resources = _write_data(staging.path, wards, services, indicators, result, report)
        with _stage(echo, 6, total, "maps"):
            attribution = compact_attribution([s.attribution for s in data.used_sources()])
            maps = write_maps(
                staging.path, wards, services, manifest.title, attribution, data.one("districts")
            )
            echo(f"  region map and {len(maps) - 1} district map(s)")
        with _stage(echo, 7, total, "data package"):
            metadata = _metadata(manifest, indicators, result, disclosure)
            package = write_datapackage(
                staging.path, manifest, data.used_sources(), staging.version, resources, metadata
            )
            problems = validate_datapackage(package)
            if problems:
                raise PlaceintelError(
                    "the data package did not validate: " + "; ".join(problems[:5])
                )
        with _stage(echo, 8, total, "switch current"):
            final = commit_release(staging)
    except BaseException:
        abandon_release(staging)
        raise
    echo(f"Release {staging.version} written to {final}")
    echo(f"Map: {final / 'map.html'}")
    top = wards.sort_values("deri_rank").head(5)
    echo("Highest-risk wards:")
    for row in top.itertuples():
        echo(f"  {row.deri_rank:>3}. {row.ward_name} ({row.lad_name}) DERI {row.deri_score:.2f}")
    return Release(final, staging.version, wards, services, metadata)


def _count_line(counts: pd.Series, kind: str) -> str:
    found = [
        f"{counts[name]} at {name.split('-')[1]}%" for name in counts.index if name.startswith(kind)
    ]
    return ", ".join(sorted(found, key=lambda x: x.split(" at ")[1], reverse=True)) or "none"


def _report_missing(echo: Echo, result: IndexResult, report: Report) -> None:
    for component in result.missing_components:
        reasons = sorted(
            {
                result.missing_indicators[i.key]
                for i in INDICATORS
                if i.component == component and i.key in result.missing_indicators
            }
        )
        message = (
            f"{component} component missing ({'; '.join(reasons)}); "
            f"the index is built from {', '.join(result.used_components)} and this is "
            "recorded in the release's datapackage.json"
        )
        echo(f"WARNING: {message}")
        report.add("warning", "missing-component", message, field=component)
    for component in result.unweighted_components:
        echo(
            f"Note: the {component} component has weight 0: it is scored and shown, but not "
            "part of deri_score (set index.component_weights to include it)"
        )
    for key, reason in result.missing_indicators.items():
        report.add("warning", "missing-indicator", f"{key} not used: {reason}", field=key)


def _write_data(
    root: Path,
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    indicators: WardIndicators,
    result: IndexResult,
    report: Report,
) -> list[ResourceSpec]:
    labels = {i.key: i.label for i in INDICATORS}
    labels |= {f"{i.key}_scaled": f"{i.label}, scaled 0-10 (10 = highest risk)" for i in INDICATORS}
    labels |= {
        "deri_score": "Digital Exclusion Risk Index, 0 (low) to 10 (high)",
        "deri_rank": "Rank of deri_score in the region (1 = highest risk)",
        "deri_rank_low": "5th percentile of the ward's rank over 1,000 weightings (+-50 %)",
        "deri_rank_high": "95th percentile of the ward's rank over 1,000 weightings (+-50 %)",
        "p_top_decile": "Share of the 1,000 weightings that put the ward in the top decile",
        "weight_sensitive": "True if the ward's risk quintile differs in >= 10 % of weightings",
        "hotspot": "Getis-Ord Gi* class after FDR correction: hot-99/95/90, cold-99/95/90 "
        "or not-significant",
        "lisa_cluster": "Local Moran's I cluster at 95 % after FDR: high-high, low-low, "
        "high-low, low-high or not-significant",
        "gi_z": "Gi* z-score of deri_score",
        "gi_p_fdr": "Gi* two-sided permutation p-value, Benjamini-Hochberg adjusted",
        "lisa_p_fdr": "Local Moran two-sided permutation p-value, Benjamini-Hochberg adjusted",
        "imd_score": "IMD 2019 score, population-weighted from 2011 LSOAs to the ward",
    }
    labels |= {
        f"{c}_score": f"{c.title()} component, 0 (low) to 10 (high risk)" for c in COMPONENTS
    }
    labels |= {
        f"{i.key}_contribution": f"Points of deri_score contributed by {i.label}"
        for i in INDICATORS
    }
    specs = []
    layers = indicators.layers
    for name, frame, key, title in (
        ("wards", wards, "ward_code", "Wards with DERI scores"),
        ("services", services, "service_id", "Digital-support and other services"),
        ("lsoas", layers["lsoas"], "lsoa21_code", "LSOAs (2021) with their ward and district"),
        ("broadband", layers["broadband"], "oa21_code", "Ofcom fixed broadband by output area"),
        ("deprivation", layers["deprivation"], "lsoa11_code", "IMD 2019 by LSOA (2011)"),
    ):
        specs += [
            ResourceSpec(
                f"{name}-csv",
                write_csv(frame, root / f"{name}.csv"),
                f"{title} (CSV, no geometry)",
                frame.drop(columns="geometry"),
                key,
                labels,
            ),
            ResourceSpec(
                f"{name}-geojson",
                write_geojson(frame, root / f"{name}.geojson"),
                f"{title} (GeoJSON)",
            ),
            ResourceSpec(
                f"{name}-gpkg",
                write_gpkg(frame, root / f"{name}.gpkg", name),
                f"{title} (GeoPackage, EPSG:27700)",
            ),
            ResourceSpec(
                f"{name}-parquet",
                write_parquet(frame, root / f"{name}.parquet"),
                f"{title} (GeoParquet, EPSG:27700)",
            ),
        ]
    catalogue = pd.DataFrame(
        [
            {
                "indicator": i.key,
                "label": i.label,
                "component": i.component,
                "unit": i.unit,
                "higher_is_worse": i.higher_is_worse,
                "weight": result.settings.indicator_weights.get(i.key),
                "effective_weight": result.effective_weights.get(i.key),
                "status": "used" if i.key in result.used_indicators else "missing",
                "method_or_reason": indicators.methods.get(i.key)
                or result.missing_indicators.get(i.key, ""),
            }
            for i in INDICATORS
        ]
    )
    specs.append(
        ResourceSpec(
            "indicators",
            write_csv(catalogue, root / "indicators.csv"),
            "Indicator catalogue: weights, methods and what is missing",
            catalogue,
            "indicator",
        )
    )
    # The method travels with the data, so a release explains itself wherever it is copied.
    method = root / "method.md"
    shutil.copy2(METHOD, method)
    specs.append(ResourceSpec("method", method, "How the indicators, index and hotspots are made"))
    report_path = root / "validation-report.json"
    report_path.write_text(report.to_json() + "\n", encoding="utf-8")
    specs.append(ResourceSpec("validation-report", report_path, "Validation report"))
    return specs


def _metadata(
    manifest: Manifest, indicators: WardIndicators, result: IndexResult, disclosure: DisclosureRule
) -> dict[str, Any]:
    return {
        "region": manifest.name,
        "index": {
            "method": "DERI: min-max 0-10 within base, weighted within and across components",
            "base": result.settings.base,
            "indicator_weights": result.settings.indicator_weights,
            "component_weights": result.settings.component_weights,
            "effective_weights": {k: float(v) for k, v in result.effective_weights.items()},
            "used_components": result.used_components,
            "missing_components": result.missing_components,
            "missing_indicators": result.missing_indicators,
            "unweighted_components": result.unweighted_components,
            "ranges": indicator_ranges(result.wards),
            "reference": result.settings.reference,
        },
        "methods": indicators.methods,
        "disclosure": disclosure.describe(),
        "public_fields": sorted(manifest.public_fields),
    }


def load_release(path: str | Path) -> Release:
    """Read a published release folder back (the `current` link or a version folder)."""
    folder = Path(path).resolve()
    descriptor = folder / "datapackage.json"
    if not descriptor.is_file():
        raise PlaceintelError(f"{folder} is not a placeintel release (no datapackage.json)")
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    return Release(
        folder,
        package["version"],
        gpd.read_parquet(folder / "wards.parquet"),
        gpd.read_parquet(folder / "services.parquet"),
        package.get("placeintel", {}),
    )
