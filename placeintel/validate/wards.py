"""Ward polygons that overlap each other, or that do not hold the LSOAs the lookup gives them.

A ward's counts are the sum of its LSOAs (ONS best fit), but where its residents live,
its services within reach and its map outline come from its polygon. A polygon drawn
over its neighbours takes their people (a ward covering the region twice over made
its population 50 times too large); a polygon in the wrong place measures someone
else's access. Neither can be seen in a table, so both are checked here, with
tolerances measured on ONS's generalised (BGC) boundaries.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeintel.sources import RegionData
from placeintel.validate.report import Report

#: ONS's generalised ward boundaries meet without overlapping (between Greater
#: Manchester's 215 May 2023 BGC wards: 0 m² anywhere); digitising slivers are far
#: below either bound. An overlap beyond 1% of the smaller ward, or beyond 5 ha, is not
#: generalisation.
OVERLAP_SHARE = 0.01
OVERLAP_M2 = 50_000.0
#: Best fit gives an LSOA to the ward holding most of its *people*, not its area, so an
#: LSOA may lie mostly in another ward: in Greater Manchester (1,702 LSOAs, 2025 best-fit
#: lookup, BGC boundaries) 97 have under half their area in their ward, and one, a 19.6 km²
#: rural LSOA, 1.2%. Below 0.5% only generalisation slivers are inside: no one lives there.
LSOA_INSIDE_SHARE = 0.005
MAX_FINDINGS = 20
#: Partners named in one overlap finding; the rest are counted.
NAMED = 5


def check_wards(data: RegionData, report: Report) -> None:
    """Overlapping wards, and wards that do not cover their LSOAs, as errors naming both."""
    for source, wards in data.role("wards"):
        path = str(source.resolve(data.manifest.data_dir))
        shaped = _shaped(wards)  # once: its validity test is the costly part
        _overlaps(shaped, path, report)
        _coverage(data, shaped, path, report)


def _shaped(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons with area, one per code: empty, non-polygon and repeated features are
    reported by the generic geometry checks, and would only repeat them here."""
    geometry = frame.geometry
    keep = (
        geometry.notna()
        & ~geometry.is_empty
        & geometry.geom_type.isin(["Polygon", "MultiPolygon"])
        & geometry.is_valid
    )
    code = next(c for c in frame.columns if c.endswith("_code"))
    return frame[keep & ~frame[code].duplicated()]


def _overlaps(wards: gpd.GeoDataFrame, path: str, report: Report) -> None:
    geoms = wards.geometry.to_numpy()
    if len(geoms) < 2:
        return
    # The pairs whose interiors meet: for valid polygons (`_shaped`), those where one
    # overlaps or contains the other. One DE-9IM test on the pairs whose boxes meet does
    # what two STRtree predicate queries did ("overlaps" alone misses a ward lying wholly
    # inside another), in a fifth of the time: national, 7,047 wards, 0.27 s against 1.45 s.
    pairs = shapely.STRtree(geoms).query(geoms)
    pairs = np.unique(pairs[:, pairs[0] < pairs[1]], axis=1)  # in order, as findings name them
    pairs = pairs[:, shapely.relate_pattern(geoms[pairs[0]], geoms[pairs[1]], "T********")]
    if pairs.size == 0:
        return
    first, second = pairs
    overlap = shapely.area(shapely.intersection(geoms[first], geoms[second]))
    smaller = np.minimum(shapely.area(geoms[first]), shapely.area(geoms[second]))
    flagged = (overlap > OVERLAP_SHARE * smaller) | (overlap > OVERLAP_M2)
    first, second, overlap = first[flagged], second[flagged], overlap[flagged]
    codes = wards["ward_code"].to_numpy()
    names = wards["ward_name"].to_numpy()
    # One finding per culprit: the ward in most overlapping pairs names its partners,
    # so a ward drawn over twenty neighbours is one finding, not twenty.
    remaining = np.ones(len(first), dtype=bool)
    findings = 0
    while remaining.any() and findings < MAX_FINDINGS:
        counts = np.bincount(np.concatenate([first[remaining], second[remaining]]))
        ward = int(np.argmax(counts))
        mine = remaining & ((first == ward) | (second == ward))
        partners = np.where(first[mine] == ward, second[mine], first[mine])
        named = ", ".join(f"{codes[p]} ({names[p]})" for p in partners[:NAMED])
        more = f" and {len(partners) - NAMED} more" if len(partners) > NAMED else ""
        report.add(
            "error",
            "ward-overlap",
            f"ward {codes[ward]} ({names[ward]}) overlaps ward(s) {named}{more} by "
            f"{overlap[mine].sum() / 1e6:,.2f} km² in all",
            file=path,
            row=int(wards.index[ward]),
            field="geometry",
            value=str(codes[ward]),
            hint="wards must not overlap: a ward drawn over its neighbours takes their "
            f"residents and services (tolerated: {OVERLAP_SHARE:.0%} of the smaller ward "
            f"or {OVERLAP_M2 / 10_000:g} ha); check the geometry of each",
        )
        remaining &= ~mine
        findings += 1
    if remaining.any():
        report.add(
            "error",
            "ward-overlap",
            f"{int(remaining.sum())} more overlapping pairs of wards",
            file=path,
            field="geometry",
        )


def _coverage(data: RegionData, wards: gpd.GeoDataFrame, path: str, report: Report) -> None:
    lsoas, lookup = data.one("lsoa21"), data.one("lookup-lsoa-ward")
    if lsoas is None or lookup is None or wards.empty:
        return
    lsoas = _shaped(lsoas)
    lsoas = lsoas[shapely.area(lsoas.geometry.to_numpy()) > 0]
    # Codes that link nowhere are the foreign-key check's findings, not this one's.
    known = lookup["lsoa21_code"].isin(lsoas["lsoa21_code"]) & lookup["ward_code"].isin(
        wards["ward_code"]
    )
    pairs = lookup[known].drop_duplicates("lsoa21_code")
    if pairs.empty:
        return
    ward_at = pd.Series(np.arange(len(wards)), index=wards["ward_code"].to_numpy())
    lsoa_at = pd.Series(np.arange(len(lsoas)), index=lsoas["lsoa21_code"].to_numpy())
    ward_geoms = wards.geometry.to_numpy()[ward_at[pairs["ward_code"]].to_numpy()]
    lsoa_geoms = lsoas.geometry.to_numpy()[lsoa_at[pairs["lsoa21_code"]].to_numpy()]
    share = _share_inside(lsoa_geoms, ward_geoms)
    outside = pairs.assign(share=share)[share < LSOA_INSIDE_SHARE]
    lookup_path = next(
        (str(s.resolve(data.manifest.data_dir)) for s, _ in data.role("lookup-lsoa-ward")), ""
    )
    for findings, (ward, rows) in enumerate(outside.groupby("ward_code", sort=False)):
        if findings == MAX_FINDINGS:
            report.add(
                "error",
                "ward-coverage",
                f"{outside['ward_code'].nunique() - MAX_FINDINGS} more wards do not cover "
                "LSOAs the lookup gives them",
                file=path,
                field="geometry",
            )
            break
        at = ward_at[ward]
        listed = ", ".join(
            f"{code} (lookup row {row}, {inside:.1%} of its area inside)"
            for row, code, inside in zip(
                rows.index, rows["lsoa21_code"], rows["share"], strict=True
            )
        )
        report.add(
            "error",
            "ward-coverage",
            f"ward {ward} ({wards['ward_name'].iat[at]}) does not cover the LSOA(s) the "
            f"lookup gives it: {listed}",
            file=path,
            row=int(wards.index[at]),
            field="geometry",
            value=str(ward),
            hint=f"best fit puts an LSOA in the ward where most of its people live, so "
            f"more than {LSOA_INSIDE_SHARE:.1%} of it must lie inside; the ward's geometry or "
            f"the lookup ({lookup_path}) is wrong",
        )


def _share_inside(lsoas: np.ndarray, wards: np.ndarray) -> np.ndarray:
    """The share of each LSOA's area inside its ward (pairs of equal length).

    Where LSOAs nest in wards, `covers` says so far faster than the overlay an
    intersection needs; such an LSOA is given a share of 1 without its intersection
    being computed: the share is only shown for LSOAs under `LSOA_INSIDE_SHARE`, which a
    covered LSOA never is. (On the synthetic national region few nest, so little is saved
    there; unprepared `covers` was as fast as prepared on its 35,316 pairs.)
    """
    share = np.ones(len(lsoas))
    rest = ~shapely.covers(wards, lsoas)
    share[rest] = shapely.area(shapely.intersection(lsoas[rest], wards[rest])) / shapely.area(
        lsoas[rest]
    )
    return share
