"""Open-data layers below ward level: broadband by output area, deprivation on its own LSOAs.

These are published beside the wards and LSOAs so that developers can reach the
small-area data behind the index through the same API. A layer whose sources a
region lacks is published empty, with its columns, so every release has the same
collections.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from placeintel.sources import RegionData, ofcom

BNG = "EPSG:27700"
BROADBAND_COLUMNS = [
    "oa21_code",
    "lsoa21_code",
    *ofcom.COUNTS,
    *ofcom.SHARES,
    "avg_download_mbit",
]
#: The deprivation file on its own geography (2011 LSOAs for IMD 2019, 2021 for IoD2025).
DEPRIVATION_COLUMNS = [
    "lsoa_code",
    "lsoa_name",
    "lsoa_vintage",
    "edition",
    "imd_score",
    "imd_rank",
    "imd_decile",
    "income_deprivation_rate",
    "employment_deprivation_rate",
    "education_score",
    "health_score",
    "crime_score",
    "barriers_score",
    "living_environment_score",
    "income_numerator",
    "idaopi_numerator",
    "employment_numerator",
    "digital_connectivity",
    "population_total",
]


_TEXT = ("_code", "_name", "_vintage", "edition")


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype="str" if c.endswith(_TEXT) else float) for c in columns},
        geometry=gpd.GeoSeries([], crs=BNG),
        crs=BNG,
    )


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
    for share, (part, whole) in ofcom.SHARES.items():
        if part in out and whole in out:
            out[share] = _percent(out[part], out[whole])
    keep = [c for c in BROADBAND_COLUMNS if c in out]
    return gpd.GeoDataFrame(out[keep + ["geometry"]], geometry="geometry", crs=BNG)


def deprivation_layer(data: RegionData, imd: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The deprivation file on its own geography: 2011 LSOAs (IMD 2019) or 2021 (IoD2025),
    with the edition on every row so that no score is read as another edition's."""
    if imd is None:
        return _empty(DEPRIVATION_COLUMNS)
    level = imd.attrs["key"].removesuffix("_code")
    boundaries = data.one(level)
    if boundaries is None:
        return _empty(DEPRIVATION_COLUMNS)
    out = boundaries.merge(
        imd.drop(columns=[f"{level}_name"], errors="ignore"), on=f"{level}_code", how="left"
    )
    out = out.rename(columns={f"{level}_code": "lsoa_code", f"{level}_name": "lsoa_name"})
    out["lsoa_vintage"] = "20" + level.removeprefix("lsoa")
    out["edition"] = imd.attrs["edition"]
    for whole in ("imd_rank", "imd_decile"):  # ranks and deciles are whole numbers
        if whole in out:
            out[whole] = pd.array(out[whole].round(), dtype="Int64")
    keep = [c for c in DEPRIVATION_COLUMNS if c in out]
    return gpd.GeoDataFrame(out[keep + ["geometry"]], geometry="geometry", crs=BNG)


def _percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (100 * part / whole.where(whole > 0)).round(3).astype(float).fillna(np.nan)
