"""Open-data layers below ward level: 2021 LSOAs, broadband by output area, IMD by 2011 LSOA.

These are published beside the wards so that developers can reach the small-area
data behind the index through the same API. A layer whose sources a region lacks
is published empty, with its columns, so every release has the same collections.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from placeintel.sources import RegionData

BNG = "EPSG:27700"
LSOA_COLUMNS = ["lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"]
BROADBAND_COLUMNS = [
    "oa21_code",
    "lsoa21_code",
    "all_premises",
    "premises_below_30mbit",
    "pct_premises_below_30mbit",
    "connections_total",
    "connections_below_10mbit",
    "pct_connections_below_10mbit",
    "avg_download_mbit",
]
DEPRIVATION_COLUMNS = [
    "lsoa11_code",
    "lsoa11_name",
    "imd_score",
    "imd_rank",
    "imd_decile",
    "income_rate",
    "employment_rate",
    "population_total",
]


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype="str" if c.endswith(("_code", "_name")) else float) for c in columns},
        geometry=gpd.GeoSeries([], crs=BNG),
        crs=BNG,
    )


def lsoa_layer(data: RegionData) -> gpd.GeoDataFrame:
    """2021 LSOAs with the ward and district they belong to (ONS best fit)."""
    lsoas, lookup = data.one("lsoa21"), data.one("lookup-lsoa-ward")
    if lsoas is None or lookup is None:
        return _empty(LSOA_COLUMNS)
    columns = [c for c in LSOA_COLUMNS[2:] if c in lookup]
    out = lsoas.merge(lookup[["lsoa21_code", *columns]], on="lsoa21_code", how="left")
    return out[[c for c in LSOA_COLUMNS if c in out] + ["geometry"]].reset_index(drop=True)


def broadband_layer(data: RegionData) -> gpd.GeoDataFrame:
    """Ofcom coverage and performance per 2021 output area, with percentages from counts."""
    oas = data.one("oa21")
    coverage, performance = data.one("broadband-coverage"), data.one("broadband-performance")
    if oas is None or (coverage is None and performance is None):
        return _empty(BROADBAND_COLUMNS)
    out = oas[["oa21_code", "geometry"]].copy()
    lookup = data.one("lookup-oa-lsoa")
    if lookup is not None:
        out = out.merge(lookup[["oa21_code", "lsoa21_code"]], on="oa21_code", how="left")
    for frame in (coverage, performance):
        if frame is not None:
            out = out.merge(
                frame.rename(columns={"area_code": "oa21_code"}), on="oa21_code", how="left"
            )
    if "all_premises" in out:
        out["pct_premises_below_30mbit"] = _percent(
            out["premises_below_30mbit"], out["all_premises"]
        )
    if "connections_total" in out:
        out["pct_connections_below_10mbit"] = _percent(
            out["connections_below_10mbit"], out["connections_total"]
        )
    keep = [c for c in BROADBAND_COLUMNS if c in out]
    return gpd.GeoDataFrame(out[keep + ["geometry"]], geometry="geometry", crs=BNG)


def deprivation_layer(data: RegionData, imd: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """IMD 2019 on its own geography, the 2011 LSOAs."""
    lsoa11 = data.one("lsoa11")
    if lsoa11 is None or imd is None:
        return _empty(DEPRIVATION_COLUMNS)
    out = lsoa11.merge(
        imd.drop(columns=["lsoa11_name"], errors="ignore"), on="lsoa11_code", how="left"
    )
    keep = [c for c in DEPRIVATION_COLUMNS if c in out]
    return gpd.GeoDataFrame(out[keep + ["geometry"]], geometry="geometry", crs=BNG)


def _percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (100 * part / whole.where(whole > 0)).round(3).astype(float).fillna(np.nan)
