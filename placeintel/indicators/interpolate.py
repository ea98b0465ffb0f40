"""Move LSOA 2011 values (IMD 2019) onto 2021 LSOAs (or wards) by areal interpolation.

IMD 2019 sits on 2011 LSOAs, which do not nest in 2021 LSOAs or 2023 wards, so
centroid joins misplace whole areas. We use tobler's areal interpolation with a
source-by-target weight table: by default the intersection areas, or - when
the region has a population raster - the people living in each intersection
(dasymetric weighting). The IMD score is a per-person rate, so a target's score is
the population-weighted mean of the parts of 2011 LSOAs that fall inside it.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeintel.engine import LOCAL
from placeintel.indicators.zonal import KnownSums, zonal_sums
from placeintel.sources.raster import RasterSource

if TYPE_CHECKING:
    from scipy import sparse

# scipy (sparse) and tobler are imported where they are used, not here: a build's first
# stage needs neither, and importing `placeintel.indicators` (whose catalogue is needed
# before it) should not pay ~0.5 s for them.


def _pieces(
    sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, plain: bool = False
) -> gpd.GeoDataFrame:
    """Each intersection of these source areas with every target (one chunk); `plain`
    says both are valid polygons (`_plain_polygons`), checked once for all chunks."""
    if sources.empty:
        return _PIECES.copy()
    if not plain:
        pieces = gpd.overlay(sources, targets, how="intersection", keep_geom_type=True)
        pieces = pieces[["_s", "_t", "geometry"]]
        pieces.insert(2, "_whole", False)
        return pieces
    return _area_pieces(sources, targets)


#: shapely's type ids of Polygon and MultiPolygon, and of GeometryCollection.
_POLYGONAL = [3, 6]
_COLLECTION = 7


def _plain_polygons(frame: gpd.GeoDataFrame) -> bool:
    """Valid polygons only: what `gpd.overlay` intersects as they are (it repairs invalid
    inputs and refuses mixed types first, which `_area_pieces` leaves to it)."""
    geometry = frame.geometry.to_numpy()
    return bool(
        np.isin(shapely.get_type_id(geometry), _POLYGONAL).all()
        and shapely.is_valid(geometry).all()
    )


def _area_pieces(sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`gpd.overlay(sources, targets, "intersection", keep_geom_type=True)` for valid
    polygons, with the same pieces in the same order, without intersecting pairs that
    only touch.

    Neighbouring areas share edges, so most pairs the spatial index finds touch along
    a boundary and nothing more (national synthetic LSOAs: 235,138 pairs, 35,316 with
    area). Their intersection is lines and points, which overlay computes and then
    drops (keep_geom_type); GEOS's relate says they only touch for a quarter of the
    cost of intersecting them (1.8 s against 6.6 s CPU), so only the pairs whose
    interiors meet are intersected, then treated exactly as overlay treats them:
    polygonal results made valid, polygons kept from collections (and merged, as its
    `dissolve` does), anything else dropped.

    Most 2021 LSOAs are a 2011 LSOA unchanged or a part of one split in two: a target
    that its source covers is the whole of their intersection, so that piece is the
    target itself (column `_whole`), not a copy GEOS rebuilds vertex by vertex (same
    area; coordinates in its own order). Prepared sources answer "covers" for all pairs
    in a fraction of an intersection's cost (national: every one of the 35,316 pieces).
    """
    left, right = targets.sindex.query(sources.geometry, predicate="intersects", sort=True)
    a = sources.geometry.to_numpy()[left]
    b = targets.geometry.to_numpy()[right]
    shapely.prepare(a)
    try:
        whole = shapely.covers(a, b)
        meet = whole.copy()
        rest = np.flatnonzero(~whole)
        meet[rest] = ~shapely.touches(a[rest], b[rest])
    finally:
        shapely.destroy_prepared(a)
    left, right, whole = left[meet], right[meet], whole[meet]
    pieces = b[meet]
    cut = np.flatnonzero(~whole)
    pieces[cut] = shapely.intersection(a[meet][cut], pieces[cut])
    # A whole target is a valid polygon already (`_plain_polygons`): as overlay leaves it.
    polygonal = ~whole & np.isin(shapely.get_type_id(pieces), _POLYGONAL)
    pieces[polygonal] = shapely.make_valid(pieces[polygonal])
    # Collections (as they are after that, like overlay's): their polygons, merged.
    for i in np.flatnonzero(shapely.get_type_id(pieces) == _COLLECTION):
        parts = shapely.get_parts(pieces[i])
        parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
        pieces[i] = shapely.union_all(parts) if len(parts) else None
    keep = np.isin(shapely.get_type_id(pieces), _POLYGONAL)
    return gpd.GeoDataFrame(
        {
            "_s": sources["_s"].to_numpy()[left[keep]],
            "_t": targets["_t"].to_numpy()[right[keep]],
            "_whole": whole[keep],
        },
        geometry=pieces[keep],
        crs=sources.crs,
    )


_PIECES = gpd.GeoDataFrame(
    {
        "_s": pd.Series(dtype="int64"),
        "_t": pd.Series(dtype="int64"),
        "_whole": pd.Series(dtype="bool"),
    },
    geometry=gpd.GeoSeries([], crs="EPSG:27700"),
)


def population_table(
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    raster: RasterSource,
    engine=LOCAL,
    known: KnownSums | None = None,
    codes: pd.Series | None = None,
) -> sparse.csr_matrix:
    """People in each (source, target) intersection, summed exactly from the raster.

    Each source area's pieces are independent, so the engine may compute them in chunks.
    A piece that is a whole target (`_area_pieces`) whose sum is `known` (by the
    targets' `codes`) takes that sum; the others are summed here.
    """
    left = gpd.GeoDataFrame(
        {"_s": np.arange(len(source))}, geometry=source.geometry.values, crs=source.crs
    )
    right = gpd.GeoDataFrame(
        {"_t": np.arange(len(target))}, geometry=target.geometry.values, crs=target.crs
    )
    meta = _PIECES.set_crs(source.crs, allow_override=True)
    # The intersections (GEOS, outside the GIL) run on threads in the default engine;
    # the people in them are summed after, one exactextract pass for all pieces.
    plain = _plain_polygons(left) and _plain_polygons(right)
    pieces = engine.apply(
        left, partial(_pieces, targets=right, plain=plain), meta, releases_gil=True
    )
    people = _piece_people(pieces, target, raster, engine, known, codes)
    from scipy import sparse

    table = sparse.coo_matrix(
        (people, (pieces["_s"].to_numpy(), pieces["_t"].to_numpy())),
        shape=(len(source), len(target)),
    ).tocsr()
    # A source with no raster people (a sliver, or an area the raster misses) still
    # has to hand its counts on: fall back to its area shares for that row only.
    empty = np.asarray(table.sum(axis=1)).ravel() == 0
    if empty.any():
        areas = intersection_areas(source, target)
        rows = sparse.diags(empty.astype(float)) @ areas
        totals = np.asarray(rows.sum(axis=1)).ravel()
        rows = sparse.diags(np.where(totals > 0, 1e-6 / np.maximum(totals, 1e-12), 0)) @ rows
        table = (table + rows).tocsr()
    return table


def _piece_people(
    pieces: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    raster: RasterSource,
    engine=LOCAL,
    known: KnownSums | None = None,
    codes: pd.Series | None = None,
) -> np.ndarray:
    """The raster's people in each piece: taken from `known` for a whole target it
    holds, summed by exactextract for the rest."""
    if known is None or codes is None or pieces.empty:
        return zonal_sums(raster, pieces, engine)
    at = known.known(raster, pieces.crs, codes, target.geometry.to_numpy())
    whole = pieces["_whole"].to_numpy(dtype=bool)
    targets = pieces["_t"].to_numpy()
    reuse = np.flatnonzero(whole & (at[targets] >= 0))
    if len(reuse) == 0:
        return zonal_sums(raster, pieces, engine)
    people = np.empty(len(pieces))
    rest = np.ones(len(pieces), dtype=bool)
    rest[reuse] = False
    if rest.any():
        people[rest] = zonal_sums(raster, pieces[rest], engine)
    # As `zonal_sums` gives them: a zone the raster misses sums to 0.
    people[reuse] = np.nan_to_num(known.sums()[at[targets[reuse]]])
    return people


def intersection_areas(source: gpd.GeoDataFrame, target: gpd.GeoDataFrame) -> sparse.csr_matrix:
    """Area of each (source, target) intersection, as a sparse table.

    tobler builds the same table inside `area_interpolate` but offers it only through a
    private function; two STRtree queries and shapely's vectorised intersection give it
    here without reaching into tobler's internals.
    """
    from scipy import sparse

    rows, columns = target.sindex.query(source.geometry.to_numpy(), predicate="intersects")
    overlap = shapely.area(
        shapely.intersection(source.geometry.to_numpy()[rows], target.geometry.to_numpy()[columns])
    )
    return sparse.coo_matrix((overlap, (rows, columns)), shape=(len(source), len(target))).tocsr()


def interpolate_areas(
    values: pd.DataFrame,
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    rates: list[str],
    counts: list[str],
    raster: RasterSource | None,
    engine=LOCAL,
    known: KnownSums | None = None,
) -> tuple[pd.DataFrame, str]:
    """Interpolate `rates` (per person) and `counts` from source areas onto target areas.

    `values` and `sources` are keyed by `source_code`, `targets` by `target_code`; the
    result is indexed by `target_code`. Rates are weighted by the sources'
    `population_total` when the values carry it, else by area. `known`: the raster's
    sums over targets (by code) already being computed, to reuse (`population_table`).
    """
    source = sources.merge(values, on="source_code", how="inner")
    table = (
        population_table(source, targets, raster, engine, known, targets["target_code"])
        if raster is not None
        else None
    )
    weight = "population_total" if "population_total" in source else None
    extensive = list(counts)
    if weight:
        for rate in rates:
            source[f"{rate}__x_pop"] = source[rate] * source[weight]
            extensive.append(f"{rate}__x_pop")
        if weight not in extensive:
            extensive.append(weight)
    from tobler.area_weighted import area_interpolate

    with warnings.catch_warnings():
        # tobler builds an int64 sparse diagonal that scipy >= 1.15 warns about; not ours to fix.
        warnings.filterwarnings("ignore", category=FutureWarning, module="scipy")
        result = area_interpolate(
            source,
            targets,
            extensive_variables=extensive or None,
            intensive_variables=None if weight else rates,
            table=table,
        )
    out = pd.DataFrame({"target_code": targets["target_code"].to_numpy()})
    for column in counts:
        out[column] = result[column].to_numpy()
    for rate in rates:
        if weight:
            pop = result[weight].to_numpy()
            out[rate] = np.where(
                pop > 0, result[f"{rate}__x_pop"].to_numpy() / np.where(pop > 0, pop, 1), np.nan
            )
        else:
            out[rate] = result[rate].to_numpy()
    split = (
        "the population raster (people in each intersection, exactextract)"
        if raster
        else "intersection areas"
    )
    method = f"areal interpolation (tobler), split by {split}; " + (
        "rates weighted by each area's population" if weight else "rates area-weighted"
    )
    return out.set_index("target_code"), method


def interpolate_to_wards(
    values: pd.DataFrame,
    lsoa11: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    rates: list[str],
    counts: list[str],
    raster: RasterSource | None,
    engine=LOCAL,
) -> tuple[pd.DataFrame, str]:
    """Interpolate LSOA 2011 values straight onto wards (indexed by `ward_code`)."""
    out, method = interpolate_areas(
        values.rename(columns={"lsoa11_code": "source_code"}),
        lsoa11.rename(columns={"lsoa11_code": "source_code"}),
        wards.rename(columns={"ward_code": "target_code"}),
        rates,
        counts,
        raster,
        engine,
    )
    return out.rename_axis("ward_code"), method
