"""ONS boundary files (wards, districts, LSOAs, OAs) in any of their published forms.

ONS publishes the same boundaries as GeoJSON in CRS84 and as GeoPackage or
shapefile in British National Grid; all are brought to EPSG:27700 because every
later stage measures areas and distances in metres.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from placeintel.sources.formats import Format
from placeintel.sources.tables import find_column
from placeintel.sources.vector import read_vector

BNG = "EPSG:27700"

#: The code column ONS uses for each level, newest vintage first.
_DEFAULT_CODE_FIELDS = {
    "ward": ("WD25CD", "WD24CD", "WD23CD", "WD22CD", "area_code"),
    "lad": ("LAD25CD", "LAD24CD", "LAD23CD", "LAD22CD", "area_code"),
    "lsoa21": ("LSOA21CD", "area_code"),
    "lsoa11": ("LSOA11CD", "area_code"),
    "oa21": ("OA21CD", "area_code"),
}
LEVEL_OF_ROLE = {
    "wards": "ward",
    "districts": "lad",
    "lsoa21": "lsoa21",
    "lsoa11": "lsoa11",
    "oa21": "oa21",
}


def read_boundaries(path: Path, role: str, options: dict) -> gpd.GeoDataFrame:
    """Read boundaries as `<level>_code`, `<level>_name` and geometry in EPSG:27700."""
    level = LEVEL_OF_ROLE[role]
    frame = read_vector(path, "boundaries")
    code_field = options.get("code_field")
    code = find_column(
        frame, *([code_field] if code_field else _DEFAULT_CODE_FIELDS[level]), path=path
    )
    name_field = options.get("name_field") or code.replace("CD", "NM").replace("cd", "nm")
    if code == "area_code":
        name_field = options.get("name_field", "area_name")
    name = find_column(frame, name_field, path=path, required=False)
    out = gpd.GeoDataFrame(
        {f"{level}_code": frame[code].astype(str).str.strip()},
        geometry=frame.geometry.to_crs(BNG),
        crs=BNG,
    )
    out[f"{level}_name"] = frame[name].astype(str).str.strip() if name else out[f"{level}_code"]
    lad_field = options.get("lad_code_field")
    if lad_field and level != "lad":
        out["lad_code"] = frame[find_column(frame, lad_field, path=path)].astype(str)
    out.attrs["code_field"] = code
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


FORMAT = Format("ons-boundaries", read_boundaries)
