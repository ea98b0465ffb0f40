"""`build`: read -> validate -> indicators -> index -> publish (maps beside) -> switch `current`.

The orchestration lives here, apart from the stages, so each stage stays a
plain function of values in and values out, and the CLI and notebooks share
one build with the same progress lines and timings.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from placeintel.areas import find_area
from placeintel.engine import make_engine
from placeintel.errors import DataError, PlaceintelError
from placeintel.index import IndexResult, IndexSettings, compute_index
from placeintel.index.deri import indicator_ranges
from placeintel.index.reference import NationReference, clipped, nation_reference
from placeintel.index.uncertainty import weight_uncertainty
from placeintel.indicators import AreaIndicators, area_indicators, nation_indicators
from placeintel.indicators.catalogue import BY_KEY, INDICATORS
from placeintel.publish import abandon_release, begin_release, commit_release
from placeintel.publish.columns import KEYS, area_columns
from placeintel.publish.disclosure import DisclosureRule
from placeintel.publish.writers import write_csv
from placeintel.region import Manifest
from placeintel.scratch import TemporaryReleases
from placeintel.validate import Report, validate_sources
from placeintel.warmup import warm_imports

if TYPE_CHECKING:
    from placeintel.maps import MapContent
    from placeintel.publish.layers import Published
    from placeintel.publish.package import ResourceSpec

# The hot spots (scipy.stats), maps (folium), layers and data package (frictionless) are
# imported where they are used, after the first stage: `warm_imports` loads them on a
# thread while the sources are read, so that reading starts ~1.5 s sooner.


def write_maps(folder: Path, content: MapContent) -> list[Path]:
    """`placeintel.maps.write_maps` (folium), imported on first use; a seam for tests."""
    from placeintel.maps import write_maps as write

    return write(folder, content)


def write_datasets(
    root: Path, manifest: Manifest, frames: dict[str, Any], version: str
) -> tuple[list[ResourceSpec], list[dict[str, Any]]]:
    """`placeintel.datasets.publish.write_datasets`, imported on first use."""
    from placeintel.datasets.publish import write_datasets as write

    return write(root, manifest, frames, version)


def write_layers(
    root: Path, published: Published, lighter: Callable[[], None] | None = None
) -> list[ResourceSpec]:
    """`placeintel.publish.layers.write_layers`, imported on first use."""
    from placeintel.publish.layers import write_layers as write

    return write(root, published, lighter)


Echo = Callable[[str], None]
METHOD = Path(__file__).resolve().parent / "method.md"
#: Files of the release the map links to from its title block.
MAP_LINKS = (
    ("How the score is made (method)", "method.md"),
    ("What each indicator is, and its weight", "indicators.csv"),
    ("The data package", "datapackage.json"),
)


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
    #: The index at LSOA level (DERI's native resolution), when the release has it.
    lsoas: gpd.GeoDataFrame | None = None
    #: The region's title and the attribution lines of its sources, as published.
    title: str = ""
    attribution: list[str] = field(default_factory=list)
    #: The temporary folder `build` wrote to when given no releases folder: it is kept
    #: while this release (or a copy of it) is in use, and removed after (scratch.py).
    temporary: TemporaryReleases | None = field(default=None, repr=False, compare=False)

    @property
    def package(self):  # -> frictionless.Package; imported lazily, it is slow to import
        from frictionless import Package

        return Package(str(self.path / "datapackage.json"))

    @property
    def map_path(self) -> Path:
        return self.path / "map.html"

    def explain(self, area: str) -> pd.DataFrame:
        """Why a ward or an LSOA ranks where it does: each indicator's value, 0-10 score and
        contribution.

        `area` is what `placeintel explain` takes: a code, or a name in any case
        ("harpurhey"); a name two areas share is a `UsageError` listing them with their
        districts and codes (`placeintel.areas.find_area`).
        """
        _, ward = find_area(self.wards, self.lsoas, area)
        weights = self.metadata["index"]["effective_weights"]
        labels = self.metadata.get("labels", {})
        rows = [
            {
                "indicator": i.key,
                "label": labels.get(i.key, i.label),
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


@dataclass
class Level:
    """One level of the index (wards or LSOAs): its scored frame and how it was scored."""

    name: str
    result: IndexResult
    frame: gpd.GeoDataFrame


def build_release(
    manifest: Manifest,
    settings: IndexSettings,
    releases: str | Path = "releases",
    echo: Echo = print,
    engine: str = "default",
    scheduler: str | None = None,
) -> Release:
    """Build and publish a region's release; `current` moves only if every stage succeeds.

    The stages in order, timing each, but for the maps, drawn in a thread while the data is
    published and its package written (their progress lines say so), from geometry made in
    another while the index is computed; `placeintel.build` is the public way in, which
    reads the manifest (once) and its settings.
    """
    total = 8
    disclosure = _disclosure_rule(manifest)
    if settings.needs_nation_files() and manifest.nation is None:
        raise DataError(
            "the nation base needs national files: a `nation:` block in the manifest, or "
            "index.reference (a national release folder whose ranges set the 0-10 scale)",
            file=manifest.manifest_path,
            field="index.reference",
        )
    echo(f"Building {manifest.title} from {manifest.data_dir}")
    warm_imports()
    with _stage(echo, 1, total, "read and validate sources"):
        data, report = validate_sources(manifest)
        if not report.ok:
            echo(report.to_text())
            raise ValidationFailed(report)
        for finding in report.warnings:
            where = f"{Path(finding.file).name}: " if finding.file else ""
            echo(
                f"WARNING: {where}{finding.message}"
                + (f" ({finding.hint})" if finding.hint else "")
            )
    with _stage(echo, 2, total, "indicators for LSOAs and wards"):
        runner = make_engine(engine, scheduler, data, echo)
        if runner.name != "default":
            echo(f"  heavy work on {runner.name}: {getattr(runner, 'client', '')}")
        try:
            indicators = area_indicators(data, runner, echo)
            nation = (
                nation_indicators(data.nation, runner)
                if settings.needs_nation_files() and data.nation is not None
                else None
            )
        finally:
            runner.close()
        echo(
            f"  indicators for {len(indicators.wards):,} wards and {len(indicators.lsoas):,} "
            f"LSOAs: {len(indicators.available)} available, {len(indicators.services):,} services"
        )
        for key, substitute in indicators.substitutes.items():
            echo(f"  substitute: {key} stands in for {', '.join(substitute['for'])}")
        # Past the indicators the build needs only which sources were read and the council's
        # datasets: letting the sources' frames go (1.7 million postcodes, the ONSPD, ...)
        # keeps them out of the publishing stages' peak, when worker processes write GeoJSON.
        used_sources, council_datasets = data.used_sources(), data.datasets
        del data
    # The areas' geometry is final now: the map's geometry-only parts (national: 6 s of
    # GEOS and PROJ, which let go of Python's lock) are made in a thread while the index
    # and hot spots are computed (`maps.shapes`). Measured nationally: the maps' tail after
    # publishing 6.1-6.4 -> 4.3-4.5 s, stages 3-4 about 1 s longer.
    from placeintel.maps.shapes import prepare

    shapes = _ahead(
        prepare, indicators.wards, indicators.lsoas if _has_lsoa_level(indicators) else None
    )
    with _stage(echo, 3, total, "index (DERI method)"):
        # Disclosure control comes first, so that the index is made from published values
        # only and nothing computed from a blanked count can give it back.
        raw_lsoas = indicators.lsoas
        indicators = _protect(indicators, disclosure, echo)
        reference = None
        if nation is not None:
            values, edition = nation
            nation = (disclosure.without_blanked(values, raw_lsoas, indicators.lsoas), edition)
            reference = _nation_base(manifest, indicators, nation, echo)
            settings = replace(
                settings, reference_ranges=reference.ranges, reference=reference.title
            )
        levels = {
            "ward": Level(
                "ward",
                compute_index(indicators.wards, settings, indicators.missing),
                indicators.wards,
            ),
        }
        if _has_lsoa_level(indicators):
            levels["lsoa"] = Level(
                "lsoa",
                compute_index(indicators.lsoas, settings, indicators.missing),
                indicators.lsoas,
            )
        _report_missing(echo, levels["ward"].result, report)
    with _stage(echo, 4, total, "hotspots and weight uncertainty"):
        hotspot_rule = _analyse(levels, indicators, settings, echo)
    frames = {
        name: gpd.GeoDataFrame(
            level.result.wards[area_columns(level.result.wards, name)],
            geometry="geometry",
            crs="EPSG:27700",
        )
        for name, level in levels.items()
    }
    wards = frames["ward"]
    lsoas = frames.get("lsoa", _empty_lsoas(indicators))
    services = indicators.services
    from placeintel.index.hotspots import LSOA_RULE
    from placeintel.maps import MapContent
    from placeintel.publish.catalog import write_catalog
    from placeintel.publish.layers import Published
    from placeintel.publish.package import validate_datapackage, write_datapackage

    staging = begin_release(Path(releases), manifest.name)
    try:
        attributions = sorted({s.attribution for s in used_sources if s.attribution})
        metadata = _metadata(manifest, indicators, levels, disclosure, reference, hotspot_rule)
        shown = MapContent(
            wards,
            services,
            manifest.title,
            attributions,
            lsoas=lsoas if "lsoa" in frames else None,
            labels=indicators.labels,
            metadata={"synthetic": manifest.synthetic, **metadata},
            version=staging.version,
            sources=[
                {"title": s.title or s.id, "version": str(s.vintage or "")} for s in used_sources
            ],
            links=MAP_LINKS,
            index=levels["ward"].result.settings,
            shapes=shapes,
        )
        # The maps need nothing publishing writes, so they are drawn in a thread beside it:
        # publishing's own work is mostly Arrow and GDAL (without the GIL) and worker
        # processes writing GeoJSON, and the maps (Python, one core) fill what is left. They
        # start once at most one GeoJSON worker is left (`room`), so that their memory
        # (national: about 0.6 GB at its height with the geometry made ahead, 0.8 GB
        # without) never adds to two workers'. If publishing fails first they are not
        # drawn; leaving the `with` waits for a map being drawn, so the staging folder is
        # never removed under it.
        room, failed = threading.Event(), threading.Event()

        def draw() -> tuple[list[Path], float] | None:
            room.wait()
            return None if failed.is_set() else _timed(write_maps, staging.path, shown)

        with ThreadPoolExecutor(1, thread_name_prefix="maps") as pool:
            drawn = pool.submit(draw)
            try:
                with _stage(echo, 5, total, "publish data"):
                    echo(f"[6/{total}] maps (beside publish data) ...")
                    published = Published(
                        wards=wards,
                        lsoas=lsoas,
                        services=services,
                        indicators=indicators,
                        labels={i.key: indicators.labels.get(i.key, i.label) for i in INDICATORS},
                        component_weights=levels["ward"].result.settings.component_weights,
                        ward_hotspot_rule=hotspot_rule,
                        lsoa_hotspot_rule=LSOA_RULE,
                    )
                    resources = _write_data(staging.path, published, levels, report, room.set)
                    dataset_specs, datasets = write_datasets(
                        staging.path, manifest, council_datasets, staging.version
                    )
                    resources += dataset_specs
                    for entry in datasets:
                        shape = entry["geometry"] or "no geometry"
                        echo(f"  dataset {entry['id']}: {entry['rows']:,} rows ({shape})")
            except BaseException:
                failed.set()
                raise
            finally:
                room.set()
            # The data package describes the published data only (the maps are no resource
            # of it), so it is written and checked while the maps are still being drawn.
            with _stage(echo, 7, total, "data package (beside the maps)"):
                package = write_datapackage(
                    staging.path,
                    manifest,
                    used_sources,
                    staging.version,
                    resources,
                    {**metadata, "datasets": datasets},
                )
                problems = validate_datapackage(package)
                if problems:
                    raise PlaceintelError(
                        "the data package did not validate: " + "; ".join(problems[:5])
                    )
                write_catalog(staging.path)  # DCAT, for portals' harvesters, from the package
            result = drawn.result()
            assert result is not None  # publishing succeeded, so the maps were drawn
            maps, seconds = result
            echo(f"  region map (with a district filter) and {len(maps) - 1} district link(s)")
            echo(f"[6/{total}] maps done in {seconds:.2f}s")
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
    return Release(
        final, staging.version, wards, services, metadata, lsoas, manifest.title, attributions
    )


def _ahead(work: Callable[..., Any], *args: Any) -> Future[Any]:
    """`work(*args)` started in a thread of its own, as a future of its result. The thread
    ends with the work (a build that fails meanwhile does not wait for it: the work only
    reads its arguments)."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="ahead")
    try:
        return pool.submit(work, *args)
    finally:
        pool.shutdown(wait=False)


def _timed(work: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """`work(*args)` and the seconds it took (a stage run in a thread times itself)."""
    started = time.perf_counter()
    return work(*args), time.perf_counter() - started


def _disclosure_rule(manifest: Manifest) -> DisclosureRule:
    try:
        return DisclosureRule.from_manifest(manifest.publish)
    except DataError as error:
        error.file = error.file or manifest.manifest_path
        raise


def _protect(indicators: AreaIndicators, rule: DisclosureRule, echo: Echo) -> AreaIndicators:
    """The indicator tables as they will be published: small counts blanked, with
    everything that would give them back (see `publish/disclosure.py`)."""
    wards, lsoas = rule.protect(indicators.wards, indicators.lsoas)
    assert lsoas is not None
    layers = dict(indicators.layers)
    if "deprivation" in layers:
        layers["deprivation"] = rule.protect_layer(layers["deprivation"], "lsoa_code", lsoas)
    if rule.suppressed:
        complementary = sum(rule.complementary.values())
        withheld = sum(rule.withheld.values())
        echo(
            f"  disclosure control: blanked {sum(rule.suppressed.values())} count(s) "
            f"({', '.join(f'{k} {v}' for k, v in rule.suppressed.items())}): those below "
            f"{rule.minimum_count} and {complementary} more so that no ward total gives "
            f"them back; {withheld} ward value(s) withheld"
        )
    return replace(indicators, wards=wards, lsoas=lsoas, layers=layers)


def _has_lsoa_level(indicators: AreaIndicators) -> bool:
    """The LSOA level is scored when the region has LSOA boundaries and any LSOA indicator."""
    lsoas = indicators.lsoas
    shaped = ~(lsoas.geometry.isna() | lsoas.geometry.is_empty)
    return bool(shaped.any()) and any(k in lsoas for k in indicators.available)


def _empty_lsoas(indicators: AreaIndicators) -> gpd.GeoDataFrame:
    columns = [c for c in KEYS["lsoa"] if c in indicators.lsoas] + ["geometry"]
    return gpd.GeoDataFrame(indicators.lsoas[columns], geometry="geometry", crs="EPSG:27700")


def _nation_base(
    manifest: Manifest,
    indicators: AreaIndicators,
    nation: tuple[pd.DataFrame, str],
    echo: Echo,
) -> NationReference:
    """The nation base's bounds, checked against the region's edition, and said plainly."""
    values, edition = nation
    if edition and indicators.edition and edition != indicators.edition:
        raise DataError(
            f"the region's deprivation files are {indicators.edition} but the nation base's "
            f"are {edition}: their scores are on different scales",
            file=manifest.manifest_path,
            field="nation.sources",
        )
    assert manifest.nation is not None
    try:
        reference = nation_reference(values, manifest.nation, edition)
    except DataError as error:
        error.file = error.file or manifest.manifest_path
        raise
    echo(f"  nation base: {reference.title}: {reference.describe()['rule']}")
    for key, (a, b) in reference.ranges.items():
        if key not in indicators.available:
            continue
        lowest, highest = reference.extremes[key]
        if (a, b) == (lowest, highest):
            continue
        region_below, region_above = clipped(indicators.lsoas[key], (a, b))
        echo(
            f"    {key}: {a:,.4g} to {b:,.4g} (national min {lowest:,.4g}, max "
            f"{highest:,.4g}); {region_below + region_above} of the region's LSOAs beyond"
        )
    return reference


def _analyse(
    levels: dict[str, Level],
    indicators: AreaIndicators,
    settings: IndexSettings,
    echo: Echo,
) -> str:
    """Hot spots and weight uncertainty for each level; wards' hot spots from their LSOAs.

    The hot spots (one thread, level after level, as before: esda's draws seed and leave
    NumPy's global random state in the same order) run beside the weight uncertainty (this
    thread; its own seeded generator). Each is independent of the other and most of both is
    NumPy work that releases the GIL, so the two share the cores. esda's permutations are
    drawn by a process per level from the start (`index.draws`): NumPy's legacy shuffles
    keep the GIL, so on the hot spots' thread they held up the weight draws.
    """
    from placeintel.index.draws import BackgroundDraws
    from placeintel.index.hotspots import (
        NOT_SIGNIFICANT,
        PERMUTATIONS,
        SEED,
        WARD_FROM_LSOAS_RULE,
        WARD_RULE,
        hotspots,
        tested_count,
        ward_hotspots,
    )

    areas = {
        name: gpd.GeoDataFrame(level.result.wards, geometry="geometry", crs="EPSG:27700")
        for name, level in levels.items()
    }
    counts = [tested_count(frame) for frame in areas.values()]
    with BackgroundDraws(counts, PERMUTATIONS, SEED) as drawn, ThreadPoolExecutor(1) as pool:
        spotted = {name: pool.submit(hotspots, frame, drawn=drawn) for name, frame in areas.items()}
        uncertain = {
            name: weight_uncertainty(level.result.wards, settings) for name, level in levels.items()
        }
        spots = {name: done.result() for name, done in spotted.items()}
    for name, level in levels.items():
        level.result.wards = level.result.wards.join(spots[name]).join(uncertain[name])
    wards = levels["ward"].result.wards
    if "lsoa" in levels:
        lsoas = levels["lsoa"].result.wards.set_index("lsoa21_code")
        population = lsoas["population"] if "population" in lsoas else lsoas["area_population"]
        rolled = ward_hotspots(lsoas["hotspot"], lsoas["ward_code"], population)
        wards = wards.drop(columns="hotspot").merge(
            rolled, left_on="ward_code", right_index=True, how="left"
        )
        wards["hotspot"] = wards["hotspot"].fillna(NOT_SIGNIFICANT)
        levels["ward"].result.wards = wards
        rule = WARD_FROM_LSOAS_RULE
        echo(f"  Gi* over {len(lsoas):,} LSOAs: {_count_line(lsoas['hotspot'])}")
        echo(f"  wards (most residents in hot/cold LSOAs): {_count_line(wards['hotspot'])}")
    else:
        rule = WARD_RULE
        echo(f"  Gi* over {len(wards):,} wards: {_count_line(wards['hotspot'])}")
    echo(
        f"  weights: {int(wards['weight_sensitive'].sum())} of {len(wards)} wards change risk "
        "class when each weight varies by up to 50 %"
    )
    return rule


def _count_line(classes: pd.Series) -> str:
    """'hot spots 101 (39 at 99%, 40 at 95%, 22 at 90%); cold spots 122 (...)'."""
    counts = classes.value_counts()
    parts = []
    for kind in ("hot", "cold"):
        found = [
            (name.split("-")[1], int(counts[name]))
            for name in counts.index
            if name.startswith(kind)
        ]
        found.sort(reverse=True)
        total = sum(n for _, n in found)
        detail = f" ({', '.join(f'{n} at {c}%' for c, n in found)})" if found else ""
        parts.append(f"{kind} spots {total}{detail}")
    return "; ".join(parts)


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
    if result.scaled_within_region:
        echo(
            f"Note: {', '.join(result.scaled_within_region)} have no national files, so they "
            "are scaled within the region (their component weighs nothing in deri_score)"
        )
    for key, reason in result.missing_indicators.items():
        if BY_KEY[key].substitute_for:
            continue  # an unused stand-in is not a gap in the index
        report.add("warning", "missing-indicator", f"{key} not used: {reason}", field=key)


def _write_data(
    root: Path,
    published: Published,
    levels: dict[str, Level],
    report: Report,
    lighter: Callable[[], None] | None = None,
) -> list[ResourceSpec]:
    """Every registered layer in four formats, the indicator catalogue, method and report
    (`lighter`: see `write_layers`)."""
    from placeintel.publish.package import ResourceSpec

    specs = write_layers(root, published, lighter)
    catalogue = _catalogue(published.indicators, levels["ward"].result, published.labels)
    specs.append(
        ResourceSpec(
            "indicators",
            write_csv(catalogue, root / "indicators.csv"),
            "Indicator catalogue: weights, methods, substitutes and what is missing",
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


def _catalogue(
    indicators: AreaIndicators, result: IndexResult, labels: dict[str, str]
) -> pd.DataFrame:
    """indicators.csv: every indicator, whether it was used, and how or why not."""

    def status(key: str) -> str:
        if key in result.used_indicators:
            return "used"
        return "not needed" if key in indicators.not_needed else "missing"

    return pd.DataFrame(
        [
            {
                "indicator": i.key,
                "label": labels[i.key],
                "component": i.component,
                "unit": i.unit,
                "higher_is_worse": i.higher_is_worse,
                "weight": result.settings.indicator_weights.get(i.key),
                "effective_weight": result.effective_weights.get(i.key),
                "status": status(i.key),
                "method_or_reason": indicators.methods.get(i.key)
                or indicators.not_needed.get(i.key)
                or result.missing_indicators.get(i.key, ""),
                "substitute_for": ", ".join(i.substitute_for),
                "substitute_note": i.note,
            }
            for i in INDICATORS
        ]
    )


def _metadata(
    manifest: Manifest,
    indicators: AreaIndicators,
    levels: dict[str, Level],
    disclosure: DisclosureRule,
    reference: NationReference | None,
    hotspot_rule: str,
) -> dict[str, Any]:
    result = levels["ward"].result
    native = levels.get("lsoa", levels["ward"]).result
    return {
        "region": manifest.name,
        "index": {
            "method": "DERI: min-max 0-10 within base, weighted within and across components",
            "levels": list(levels),
            "base": result.settings.base,
            "indicator_weights": result.settings.indicator_weights,
            "component_weights": result.settings.component_weights,
            "effective_weights": {k: float(v) for k, v in result.effective_weights.items()},
            "used_components": result.used_components,
            "missing_components": result.missing_components,
            "missing_indicators": {
                k: v for k, v in result.missing_indicators.items() if k not in indicators.not_needed
            },
            "unweighted_components": result.unweighted_components,
            # This release's own LSOA minima and maxima (wards without LSOAs): what another
            # build may take as its `nation` reference, not the bounds this one used.
            "own_ranges": indicator_ranges(native.wards),
            "reference": result.settings.reference,
            "scaled_within_region": result.scaled_within_region,
            "nation": reference.describe() if reference is not None else None,
            "deprivation_edition": indicators.edition,
            "substitutes": indicators.substitutes,
            "hotspots": {
                "ward": hotspot_rule,
                "lsoa": "Getis-Ord Gi* (binary queen contiguity, self included), 9,999 "
                "conditional permutations, two-sided, Benjamini-Hochberg FDR over all LSOAs"
                if "lsoa" in levels
                else None,
            },
        },
        "labels": {k: v for k, v in indicators.labels.items()},
        "methods": indicators.methods,
        "disclosure": disclosure.describe(),
        "public_fields": sorted(manifest.public_fields),
    }
