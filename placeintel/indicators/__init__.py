"""Ward-level indicators: every DERI indicator the sources hold, with numerators and denominators.

The result says, per indicator, how it was computed or why it is missing, so the
index can redistribute weight openly and the release can record the method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import geopandas as gpd
import numpy as np
import pandas as pd

from placeintel.engine import LOCAL
from placeintel.indicators.access import (
    PopulationPoints,
    access_measures,
    from_areas,
    from_grid,
    from_raster,
)
from placeintel.indicators.areas import broadband_layer, deprivation_layer, lsoa_layer
from placeintel.indicators.catalogue import BY_KEY, INDICATORS, Indicator
from placeintel.indicators.interpolate import interpolate_to_wards
from placeintel.indicators.rollup import to_wards
from placeintel.indicators.zonal import zonal
from placeintel.sources import RegionData
from placeintel.sources.services import DIGITAL_SUPPORT, SERVICE_COLUMNS

WARD_COLUMNS = ["ward_code", "ward_name", "lad_code", "lad_name"]


@dataclass
class WardIndicators:
    """Ward geometries with indicator values, and an account of how each was made."""

    wards: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    methods: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    #: Published small-area layers: lsoas, broadband (by output area), deprivation.
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @property
    def available(self) -> list[str]:
        return [i.key for i in INDICATORS if i.key in self.methods]


def ward_frame(data: RegionData) -> gpd.GeoDataFrame:
    """Wards with their district, from the boundaries and the best-fit lookup."""
    wards = data.require("wards", "the manifest names no ward boundaries").copy()
    lookup = data.one("lookup-lsoa-ward")
    if "lad_code" not in wards and lookup is not None and "lad_code" in lookup:
        lad = lookup.drop_duplicates("ward_code").set_index("ward_code")["lad_code"]
        wards["lad_code"] = wards["ward_code"].map(lad)
    districts = data.one("districts")
    names = {}
    if lookup is not None and "lad_name" in lookup:
        names.update(lookup.drop_duplicates("lad_code").set_index("lad_code")["lad_name"])
    if districts is not None:
        names.update(districts.set_index("lad_code")["lad_name"])
    if "lad_code" not in wards:
        wards["lad_code"] = ""
    wards["lad_name"] = wards["lad_code"].map(names).fillna("")
    return wards[WARD_COLUMNS + ["geometry"]].sort_values("ward_code").reset_index(drop=True)


def ward_indicators(data: RegionData, engine=LOCAL) -> WardIndicators:
    """Compute every indicator the region's sources allow, and record the rest as missing."""
    wards = ward_frame(data)
    counts: list[pd.DataFrame] = []
    methods: dict[str, str] = {}
    oa_lookup, ward_lookup = data.one("lookup-oa-lsoa"), data.one("lookup-lsoa-ward")

    def rolled(role: str, measures: list[str]) -> pd.DataFrame | None:
        found = data.role(role)
        if not found:
            return None
        data.require("lookup-lsoa-ward", f"{role} data needs an LSOA 2021 -> ward lookup")
        parts = [
            to_wards(
                frame,
                oa_lookup,
                ward_lookup,
                [m for m in measures if m in frame],
                str(source.resolve(data.manifest.data_dir)),
            )
            for source, frame in found
        ]
        return reduce(lambda a, b: a.add(b, fill_value=0), parts)

    census_measures = sorted(
        {
            m
            for i in INDICATORS
            for m in (i.numerator, i.denominator)
            if m and i.component != "broadband" and m != "imd_score"
        }
    )
    for role, measures, how in (
        ("census", census_measures, "census counts summed from output areas to wards"),
        (
            "pension-credit",
            ["pension_credit_claimants"],
            "DWP claimant counts summed from LSOAs to wards",
        ),
        (
            "broadband-coverage",
            ["all_premises", "premises_below_30mbit"],
            "Ofcom premises counts summed from output areas to wards",
        ),
        (
            "broadband-performance",
            [
                "connections_total",
                "connections_below_10mbit",
                "download_mbit_x_connections",
                "connections_with_speed",
            ],
            "Ofcom connection counts summed to wards; speed weighted by connections reporting one",
        ),
    ):
        if role == "broadband-performance":
            for _, frame in data.role(role):
                if "connections_with_speed" in frame:  # already summed from postcodes
                    continue
                has_speed = frame["avg_download_mbit"].notna()
                frame["download_mbit_x_connections"] = (
                    frame["avg_download_mbit"].fillna(0) * frame["connections_total"] * has_speed
                )
                frame["connections_with_speed"] = frame["connections_total"].where(has_speed, 0)
        summed = rolled(role, measures)
        if summed is not None:
            counts.append(summed)
            methods.update({m: how for m in summed.columns})

    imd_table = _imd_table(data)
    if imd_table is not None and "imd_score" in imd_table:
        imd, methods["imd_score"] = _imd(data, imd_table, wards, engine)
        counts.append(imd)
    services = _services(data)
    support = services[services["digital_support"]]
    if not support.empty:
        measures, method = access_measures(
            wards, support, _population_points(data, imd_table, wards)
        )
        counts.append(measures)
        methods.update({m: method for m in measures.columns})

    context, context_methods = _raster_context(data, wards, engine)
    counts.append(context)
    table = pd.concat(counts, axis=1) if counts else pd.DataFrame(index=wards["ward_code"])
    result = wards.merge(table, left_on="ward_code", right_index=True, how="left")
    indicator_methods, missing = {}, {}
    for indicator in INDICATORS:
        needed = [indicator.numerator] + ([indicator.denominator] if indicator.denominator else [])
        absent = [m for m in needed if m not in result]
        if absent:
            missing[indicator.key] = f"no source provides {', '.join(absent)}"
            continue
        result[indicator.key] = _ratio(result, indicator)
        indicator_methods[indicator.key] = methods.get(indicator.numerator, "")
    layers = {
        "lsoas": lsoa_layer(data),
        "broadband": broadband_layer(data),
        "deprivation": deprivation_layer(data, imd_table),
    }
    return WardIndicators(
        result, services, {**indicator_methods, **context_methods}, missing, layers
    )


def _ratio(frame: pd.DataFrame, indicator: Indicator) -> pd.Series:
    if indicator.denominator is None:
        return frame[indicator.numerator].astype(float)
    denominator = frame[indicator.denominator].astype(float)
    values = (
        indicator.scale
        * frame[indicator.numerator].astype(float)
        / denominator.where(denominator > 0)
    )
    return values.round(6)


def _raster_context(
    data: RegionData, wards: gpd.GeoDataFrame, engine=LOCAL
) -> tuple[pd.DataFrame, dict]:
    """Raster sources summarised per ward for context (exact cell fractions, exactextract):
    people counted from the population raster, coverage rasters averaged."""
    table = pd.DataFrame(index=pd.Index(wards["ward_code"].to_numpy(), name="ward_code"))
    methods = {}
    for source, raster in data.role("population-raster"):
        table["population_raster"] = np.round(zonal(raster, wards, "sum", engine), 1)
        methods["population_raster"] = (
            f"exact zonal sum (exactextract) of {source.title or source.id}"
        )
    for source, raster in data.role("coverage-raster"):
        column = source.options.get("column", f"{source.id.replace('-', '_')}_mean")
        table[column] = np.round(zonal(raster, wards, "mean", engine), 2)
        methods[column] = (
            f"exact zonal mean (exactextract, weighted by the share of each cell "
            f"inside the ward) of {source.title or source.id}"
        )
    return table, methods


def _imd_table(data: RegionData) -> pd.DataFrame | None:
    """Every IMD file of the region merged on the LSOA 2011 code."""
    frames = [frame for _, frame in data.role("imd")]
    if not frames:
        return None
    return reduce(
        lambda a, b: a.merge(
            b.drop(columns=[c for c in b if c in a and c != "lsoa11_code"]),
            on="lsoa11_code",
            how="outer",
        ),
        frames,
    )


def _population_points(
    data: RegionData, imd: pd.DataFrame | None, wards: gpd.GeoDataFrame
) -> PopulationPoints:
    """The best available stand-in for where people live (see indicators.access)."""
    raster = data.one("population-raster")
    if raster is not None:
        return from_raster(wards, raster)
    lsoa11 = data.one("lsoa11")
    if lsoa11 is not None and imd is not None and "population_total" in imd:
        areas = lsoa11.merge(imd[["lsoa11_code", "population_total"]], on="lsoa11_code")
        return from_areas(
            wards,
            areas,
            areas["population_total"],
            "the 2011 LSOAs' mid-2015 population (IMD 2019 denominators)",
        )
    return from_grid(wards)


def _imd(
    data: RegionData, merged: pd.DataFrame, wards: gpd.GeoDataFrame, engine=LOCAL
) -> tuple[pd.DataFrame, str]:
    """Interpolate the IMD score from 2011 LSOAs to wards, population-weighted."""
    lsoa11 = data.require(
        "lsoa11", "IMD 2019 is on 2011 LSOAs: the manifest needs their boundaries"
    )
    values = merged[
        ["lsoa11_code", "imd_score"] + [c for c in ("population_total",) if c in merged]
    ].dropna(subset=["imd_score"])
    result, method = interpolate_to_wards(
        values,
        lsoa11,
        wards,
        rates=["imd_score"],
        counts=[],
        raster=data.one("population-raster"),
        engine=engine,
    )
    return result[["imd_score"]], method


def _services(data: RegionData) -> gpd.GeoDataFrame:
    found = [frame for _, frame in data.role("services")]
    if not found:
        return gpd.GeoDataFrame(columns=SERVICE_COLUMNS, geometry="geometry", crs="EPSG:27700")
    services = pd.concat(found, ignore_index=True)
    services["digital_support"] = services["category"].isin(DIGITAL_SUPPORT)
    return gpd.GeoDataFrame(services, geometry="geometry", crs="EPSG:27700")


__all__ = ["BY_KEY", "INDICATORS", "WardIndicators", "ward_indicators"]
