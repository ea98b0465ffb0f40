"""The region's two levels of geography: its wards, and the 2021 LSOAs that build them.

The LSOAs are those of the ONS best-fit LSOA -> ward lookup, so each belongs to
exactly one ward, and each ward is the sum of its LSOAs: the same rule ONS uses
to publish ward statistics from small areas.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from placeintel.sources import RegionData

BNG = "EPSG:27700"
WARD_COLUMNS = ["ward_code", "ward_name", "lad_code", "lad_name"]
LSOA_COLUMNS = ["lsoa21_code", "lsoa21_name", *WARD_COLUMNS]


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


def lsoa_frame(data: RegionData, wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The region's 2021 LSOAs with their ward and district, and their boundaries when the
    region has them (an LSOA without a boundary keeps an empty geometry)."""
    lookup = data.require("lookup-lsoa-ward", "small-area data needs an LSOA 2021 -> ward lookup")
    frame = lookup[["lsoa21_code", "ward_code"]].copy()
    frame = frame[frame["ward_code"].isin(wards["ward_code"])]
    frame = frame.merge(wards[WARD_COLUMNS], on="ward_code", how="left")
    boundaries = data.one("lsoa21")
    if boundaries is not None:
        frame = frame.merge(boundaries, on="lsoa21_code", how="left")
    else:
        frame["geometry"] = None
    if "lsoa21_name" not in frame or frame["lsoa21_name"].isna().all():
        names = lookup.set_index("lsoa21_code").get("lsoa21_name")
        frame["lsoa21_name"] = frame["lsoa21_code"].map(names) if names is not None else None
    frame["lsoa21_name"] = frame["lsoa21_name"].fillna(frame["lsoa21_code"])
    out = gpd.GeoDataFrame(frame[LSOA_COLUMNS + ["geometry"]], geometry="geometry", crs=BNG)
    return out.sort_values("lsoa21_code").reset_index(drop=True)


def ward_of(lsoas: pd.DataFrame) -> pd.Series:
    """LSOA code -> its ward's code."""
    return lsoas.set_index("lsoa21_code")["ward_code"]
