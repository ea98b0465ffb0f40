"""Indicators for both levels, LSOAs and wards: every DERI indicator the sources hold.

Counts, scores and rates are first brought to 2021 LSOAs (`small_areas`); each
LSOA's indicators come straight from them and each ward's from its LSOAs
(`values`), so both levels share one table and one arithmetic. Measures that
depend on shapes (distance to help, raster summaries) are made for each level
from its own boundaries, from one set of population points: each point's distance
to help is computed once. The result says, per indicator, how it was computed,
why it is missing, or which substitute stands in, so the index can share weight
openly and the release can record the method.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import geopandas as gpd
import numpy as np
import pandas as pd

from placeintel.engine import LOCAL
from placeintel.indicators.access import (
    Places,
    PopulationPoints,
    access_measures,
    from_areas,
    from_grid,
    from_raster_levels,
    level_distances,
)
from placeintel.indicators.areas import broadband_layer, deprivation_layer
from placeintel.indicators.catalogue import BY_KEY, INDICATORS
from placeintel.indicators.geography import WARD_COLUMNS, lsoa_frame, ward_frame, ward_of
from placeintel.indicators.small_areas import SmallAreaCounts, deprivation_table, lsoa_counts
from placeintel.indicators.values import indicator_values, inputs, resolve, rolled_counts
from placeintel.indicators.zonal import KnownSums, LevelStatistics, forget_rasters
from placeintel.sources import RegionData
from placeintel.sources.raster import RasterSource
from placeintel.sources.services import DIGITAL_SUPPORT, SERVICE_COLUMNS


@dataclass
class AreaIndicators:
    """Wards and LSOAs with indicator values, and an account of how each was made."""

    wards: gpd.GeoDataFrame
    lsoas: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    methods: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    #: Substitutes not used, because the official indicator they stand in for is there.
    not_needed: dict[str, str] = field(default_factory=dict)
    #: Labels that say which edition a value comes from ("IoD2025: IMD score ...").
    labels: dict[str, str] = field(default_factory=dict)
    #: The deprivation edition used ("IoD2025", "IMD 2019"), or "" without one.
    edition: str = ""
    #: Published small-area layers: broadband (by output area), deprivation (its own LSOAs).
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @property
    def available(self) -> list[str]:
        return [i.key for i in INDICATORS if i.key in self.wards]

    @property
    def substitutes(self) -> dict[str, dict[str, object]]:
        """Each substitute in use: what it stands in for, and why it is a fair stand-in."""
        return {
            key: {"for": list(BY_KEY[key].substitute_for), "why": BY_KEY[key].note}
            for key in self.available
            if BY_KEY[key].substitute_for
        }


def area_indicators(
    data: RegionData, engine=LOCAL, echo: Callable[[str], None] | None = None
) -> AreaIndicators:
    """Compute every indicator the region's sources allow, for LSOAs and for wards.

    `echo` hears about work redone here when a second process fails (default: stderr)."""
    try:
        return _area_indicators(data, engine, echo)
    finally:
        forget_rasters()


def _area_indicators(
    data: RegionData, engine=LOCAL, echo: Callable[[str], None] | None = None
) -> AreaIndicators:
    wards = ward_frame(data)
    lsoas = lsoa_frame(data, wards)
    shaped = lsoas[~(lsoas.geometry.isna() | lsoas.geometry.is_empty)]
    # The raster summaries of wards and LSOAs need nothing else: they are started first,
    # and may run in a second process while the rest is computed here.
    summaries = _raster_summaries(data)
    rasters = LevelStatistics(
        [(raster, statistic) for _, raster, statistic, _, _ in summaries],
        [wards, shaped],
        engine,
        echo=echo,
    )
    try:
        return _indicators(data, wards, lsoas, shaped, summaries, rasters, engine)
    finally:
        rasters.close()


def _indicators(
    data: RegionData,
    wards: gpd.GeoDataFrame,
    lsoas: gpd.GeoDataFrame,
    shaped: gpd.GeoDataFrame,
    summaries: list[_Summary],
    rasters: LevelStatistics,
    engine=LOCAL,
) -> AreaIndicators:
    services = _services(data)
    support = services[services["digital_support"]]
    with ThreadPoolExecutor(1, thread_name_prefix="access") as pool:
        levels = [(wards, "ward_code"), (shaped, "lsoa21_code")]
        early = (
            pool.submit(_access_tables, data, levels, support, None, engine)
            if _access_first(data, engine)
            else None
        )
        small = lsoa_counts(data, engine, _known_people(data, summaries, rasters, shaped))
        counts = small.table.reindex(lsoas["lsoa21_code"])
        counts = counts.loc[:, counts.notna().any()]  # a measure with no value is no measure
        groups = ward_of(lsoas)
        if early is not None:
            ward_access, lsoa_access = early.result()
        else:
            people = _population_points(data, counts, lsoas)
            ward_access, lsoa_access = _access_tables(data, levels, support, people, engine)
    ward_rasters, lsoa_rasters = rasters.result()
    ward_place, place_methods = _place_measures(
        wards, "ward_code", ward_access, summaries, ward_rasters
    )
    lsoa_place, _ = _place_measures(shaped, "lsoa21_code", lsoa_access, summaries, lsoa_rasters)
    resolution = resolve(set(counts.columns) | set(ward_place.columns))
    rollable = [k for k in resolution.used if set(inputs(BY_KEY[k])) <= set(counts.columns)]
    local = [k for k in resolution.used if k not in rollable]
    ward_table = pd.concat(
        [
            rolled_counts(counts, groups, small.rates),
            ward_place,
            indicator_values(counts, rollable, groups),
            indicator_values(ward_place, local),
        ],
        axis=1,
    )
    lsoa_table = pd.concat(
        [
            counts,
            lsoa_place,
            indicator_values(counts, rollable),
            indicator_values(lsoa_place, local),
        ],
        axis=1,
    )
    methods = {**small.methods, **place_methods}
    return AreaIndicators(
        wards=_attach(wards, ward_table, "ward_code"),
        lsoas=_attach(lsoas, lsoa_table, "lsoa21_code"),
        services=services,
        methods={
            **_raster_methods(place_methods),
            **_indicator_methods(resolution.used, rollable, methods, small),
        },
        missing=resolution.missing,
        not_needed=resolution.not_needed,
        labels=_edition_labels(small.edition, set(small.deprivation)),
        edition=small.edition,
        layers={
            "broadband": broadband_layer(data),
            "deprivation": deprivation_layer(data, deprivation_table(data)),
        },
    )


def nation_indicators(nation: RegionData, engine=LOCAL) -> tuple[pd.DataFrame, str]:
    """Every LSOA indicator the nation base's files allow (indexed by LSOA code), and the
    deprivation edition they carry: the same code as the region's LSOAs, without wards."""
    try:
        small = lsoa_counts(nation, engine)
    finally:
        forget_rasters()
    counts = small.table.loc[:, small.table.notna().any()]
    return indicator_values(counts, resolve(counts.columns).used), small.edition


def _attach(frame: gpd.GeoDataFrame, table: pd.DataFrame, key: str) -> gpd.GeoDataFrame:
    table = table.loc[:, ~table.columns.duplicated()]
    out = frame.merge(table, left_on=key, right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


def _indicator_methods(
    used: list[str], rollable: list[str], methods: dict[str, str], small: SmallAreaCounts
) -> dict[str, str]:
    """How each indicator in use was made, at LSOA level and when LSOAs become wards."""
    out = {}
    for key in used:
        indicator = BY_KEY[key]
        how = methods.get(indicator.numerator, "")
        if key not in rollable:
            out[key] = how
            continue
        if indicator.weight:
            combine = (
                "a ward's value is the mean of its LSOAs' weighted by "
                f"{methods.get(indicator.weight, indicator.weight)}"
            )
        elif indicator.denominator:
            combine = (
                f"{_described(indicator.numerator, small)} / "
                f"{_described(indicator.denominator, small)}; a ward's value is the "
                "sum of its LSOAs' numerators over the sum of their denominators, over the "
                "LSOAs that have both"
            )
        else:
            combine = "summed over a ward's LSOAs"
        out[key] = f"{how}; {combine}" if how else combine
    return out


def _raster_methods(methods: dict[str, str]) -> dict[str, str]:
    """How the raster summaries shown beside the indicators were made."""
    return {k: v for k, v in methods.items() if "exactextract" in v}


def _described(measure: str, small: SmallAreaCounts) -> str:
    """`measure` with the columns it sums, named by their ONS labels where known."""
    columns = small.columns.get(measure, [])
    if not columns or columns == [measure]:
        return measure
    named = [f"{c} ({small.labels[c]})" if c in small.labels else c for c in columns]
    return f"{measure} = {' + '.join(named)}"


def _edition_labels(edition: str, deprivation_measures: set[str]) -> dict[str, str]:
    """Labels naming the edition for indicators made from the deprivation file."""
    if not edition:
        return {}
    return {
        i.key: f"{edition}: {i.label}" for i in INDICATORS if i.numerator in deprivation_measures
    }


#: A raster summary shown beside the indicators: (column, raster, statistic, decimals,
#: how it was made).
_Summary = tuple[str, RasterSource, str, int, str]


def _raster_summaries(data: RegionData) -> list[_Summary]:
    """The raster summaries each area gets, in the order their columns appear."""
    summaries: list[_Summary] = []
    for source, raster in data.role("population-raster"):
        method = f"exact zonal sum (exactextract) of {source.title or source.id}"
        summaries.append(("population_raster", raster, "sum", 1, method))
    for source, raster in data.role("coverage-raster"):
        column = source.options.get("column", f"{source.id.replace('-', '_')}_mean")
        method = (
            f"exact zonal mean (exactextract, weighted by the share of each cell "
            f"inside the area) of {source.title or source.id}"
        )
        summaries.append((column, raster, "mean", 2, method))
    return summaries


def _place_measures(
    zones: gpd.GeoDataFrame,
    key: str,
    access: tuple[pd.DataFrame, str] | None,
    summaries: list[_Summary],
    rasters: list[np.ndarray],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Measures that depend on each area's shape: access to help (`access`: its table and
    method, from `_access_tables`), and the raster summaries (`rasters`: one array per
    summary, computed by `LevelStatistics`)."""
    table = pd.DataFrame(index=pd.Index(zones[key].to_numpy(), name=key))
    methods: dict[str, str] = {}
    if zones.empty:
        return table, methods
    if access is not None:
        measures, method = access
        table = table.join(measures)
        methods.update({m: method for m in measures.columns})
    for (column, _, _, decimals, method), values in zip(summaries, rasters, strict=True):
        table[column] = np.round(values, decimals)
        methods[column] = method
    return table, methods


def _population_points(
    data: RegionData, counts: pd.DataFrame, lsoas: gpd.GeoDataFrame
) -> PopulationPoints | None:
    """Where people live, as LSOA points with their Census population, when the region has
    2021 LSOA boundaries and a census population; None means "decide per level" (raster,
    2011 LSOAs or a grid, see `_points_for`)."""
    if data.one("population-raster") is not None or "population" not in counts:
        return None
    shaped = lsoas[~(lsoas.geometry.isna() | lsoas.geometry.is_empty)]
    if shaped.empty:
        return None
    weights = counts["population"].reindex(shaped["lsoa21_code"]).fillna(0)
    x, y = _points(shaped)
    return PopulationPoints(
        x,
        y,
        weights.to_numpy(dtype=float),
        np.arange(len(shaped)),
        "weighted by the 2021 LSOAs' Census population, each at a point inside its LSOA",
        Places(x, y),
        np.arange(len(shaped)),
    )


def _access(
    data: RegionData,
    levels: list[gpd.GeoDataFrame],
    support: gpd.GeoDataFrame,
    people: PopulationPoints | None,
    engine=LOCAL,
) -> list[tuple[PopulationPoints, np.ndarray] | None]:
    """Where people live in each level (None for a level without shapes, or when no
    service offers digital support), with each point's distance to help: computed once
    for a point both levels use."""
    shaped = [i for i, zones in enumerate(levels) if not zones.empty]
    out: list[tuple[PopulationPoints, np.ndarray] | None] = [None] * len(levels)
    if support.empty or not shaped:
        return out
    raster = data.one("population-raster")
    if raster is not None:
        points = from_raster_levels([levels[i] for i in shaped], raster)
    else:
        points = [_points_for(data, levels[i], people) for i in shaped]
    distances = level_distances(points, support, engine)
    for i, found, distance in zip(shaped, points, distances, strict=True):
        out[i] = (found, distance)
    return out


def _known_people(
    data: RegionData, summaries: list[_Summary], rasters: LevelStatistics, lsoas: gpd.GeoDataFrame
) -> KnownSums | None:
    """The population raster's sums over the LSOAs, which the raster summaries compute
    anyway, for the interpolation to reuse (asked for when it needs them)."""
    raster = data.one("population-raster")
    for position, (_, summarised, statistic, _, _) in enumerate(summaries):
        if raster is not None and summarised is raster and statistic == "sum":
            return KnownSums(
                str(raster.path),
                lsoas.crs,
                pd.Index(lsoas["lsoa21_code"]),
                lsoas.geometry.to_numpy(),
                partial(_lsoa_summary, rasters, position),
            )
    return None


def _lsoa_summary(rasters: LevelStatistics, position: int) -> np.ndarray:
    """The LSOAs' (the second level's) `position`-th raster summary."""
    return rasters.result()[1][position]


def _access_first(data: RegionData, engine) -> bool:
    """Whether the access step can run on a thread beside the LSOA counts: with a
    population raster it needs nothing from them (people are the raster's cells). Its
    heaviest parts (NumPy over 15M cells at national scale, scipy's KD-tree query)
    release the GIL, as do the counts' GEOS overlay and their wait for the second
    process's LSOA sums, so the two share the cores rather than take turns. Only the
    default engine: Dask's client is left to the thread that made it."""
    return data.one("population-raster") is not None and getattr(engine, "name", "") == "default"


def _access_tables(
    data: RegionData,
    levels: list[tuple[gpd.GeoDataFrame, str]],
    support: gpd.GeoDataFrame,
    people: PopulationPoints | None,
    engine=LOCAL,
) -> list[tuple[pd.DataFrame, str] | None]:
    """Each level's (zones, key) access measures and how they were made (None: no
    shapes, or no digital support). Only these small tables leave: the points and their
    distances (at national scale 15M of each, about 1 GB) go as soon as they are summed."""
    found = _access(data, [zones for zones, _ in levels], support, people, engine)
    return [
        None
        if access is None
        else access_measures(zones, support, access[0], engine, key, access[1])
        for (zones, key), access in zip(levels, found, strict=True)
    ]


def _points(areas: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    inside = areas.geometry.representative_point()
    return inside.x.to_numpy(), inside.y.to_numpy()


def _points_for(
    data: RegionData, zones: gpd.GeoDataFrame, people: PopulationPoints | None
) -> PopulationPoints:
    """The best available stand-in for where people live, assigned to these zones (a
    population raster is handled for all levels at once, by `from_raster_levels`)."""
    raster = data.one("population-raster")
    if raster is not None:
        return from_raster_levels([zones], raster)[0]
    if people is not None:
        return _reassign(people, zones)
    lsoa11 = data.one("lsoa11")
    imd = deprivation_table(data)
    if (
        lsoa11 is not None
        and imd is not None
        and "population_total" in imd
        and ("lsoa11_code" in imd)
    ):
        areas = lsoa11.merge(imd[["lsoa11_code", "population_total"]], on="lsoa11_code")
        return from_areas(
            zones,
            areas,
            areas["population_total"],
            "the 2011 LSOAs' mid-2015 population (IMD 2019 denominators)",
        )
    return from_grid(zones)


def _reassign(people: PopulationPoints, zones: gpd.GeoDataFrame) -> PopulationPoints:
    """The same population points, each given the zone (ward or LSOA) that holds it (and
    still known as the same places, so both levels share their distances)."""
    points = gpd.GeoDataFrame(
        {"weight": people.weight},
        geometry=gpd.points_from_xy(people.x, people.y),
        crs=zones.crs,
    )
    joined = gpd.sjoin(points, zones[["geometry"]].reset_index(drop=True), predicate="within")
    joined = joined[~joined.index.duplicated()]
    return PopulationPoints(
        people.x[joined.index],
        people.y[joined.index],
        people.weight[joined.index],
        joined["index_right"].to_numpy(),
        people.method,
        people.places,
        None
        if people.places is None
        else (np.asarray(joined.index) if people.place is None else people.place[joined.index]),
    )


def _services(data: RegionData) -> gpd.GeoDataFrame:
    found = [frame for _, frame in data.role("services")]
    if not found:
        return gpd.GeoDataFrame(columns=SERVICE_COLUMNS, geometry="geometry", crs="EPSG:27700")
    services = pd.concat(found, ignore_index=True)
    services["digital_support"] = services["category"].isin(DIGITAL_SUPPORT)
    return gpd.GeoDataFrame(services, geometry="geometry", crs="EPSG:27700")


__all__ = [
    "BY_KEY",
    "INDICATORS",
    "WARD_COLUMNS",
    "AreaIndicators",
    "area_indicators",
    "nation_indicators",
]
