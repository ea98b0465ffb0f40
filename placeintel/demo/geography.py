"""A synthetic region's nested geography: output areas, LSOAs (2011 and 2021), wards, districts.

Output areas are Voronoi cells of a jittered grid; every coarser level is a
dissolve of finer cells, so borders nest exactly as ONS geographies do. The
2011 LSOAs differ from the 2021 ones where a 2011 LSOA was later split in two
(as ONS did where population grew), which makes the IMD 2019 vintage gap real.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeintel.demo.layout import DEMO, DEMO_DISTRICTS, WARD_NAMES, Layout, district_names

BNG = "EPSG:27700"


@dataclass(frozen=True)
class Geography:
    """All boundary layers in EPSG:27700, plus the layout they were made from."""

    layout: Layout
    oas: gpd.GeoDataFrame
    lsoa21: gpd.GeoDataFrame
    lsoa11: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    outline: shapely.Polygon
    #: (code, name) per district number.
    district_names: tuple[tuple[str, str], ...]


def region_outline(layout: Layout) -> shapely.Polygon:
    x0, y0 = layout.origin
    return shapely.box(x0, y0, x0 + layout.width, y0 + layout.height)


def build_geography(rng: np.random.Generator, layout: Layout = DEMO) -> Geography:
    """Tessellate the region and dissolve it into every official level."""
    outline = region_outline(layout)
    spacing, (x0, y0) = layout.spacing, layout.origin
    cols, rows = np.meshgrid(np.arange(layout.n_cols), np.arange(layout.n_rows), indexing="xy")
    cols, rows = cols.ravel(), rows.ravel()
    jitter = rng.uniform(-0.3, 0.3, size=(cols.size, 2)) * spacing
    x = x0 + (cols + 0.5) * spacing + jitter[:, 0]
    y = y0 + (rows + 0.5) * spacing + jitter[:, 1]
    seeds = shapely.points(x, y)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline, ordered=True)
    cells = shapely.intersection(shapely.get_parts(cells), outline)
    cells = shapely.set_precision(cells, grid_size=0.1)

    lsoa_col, lsoa_row = layout.blocks(cols, 0, "lsoa"), layout.blocks(rows, 1, "lsoa")
    ward_col, ward_row = layout.blocks(lsoa_col, 0, "ward"), layout.blocks(lsoa_row, 1, "ward")
    lsoa_cols = layout.count(layout.n_cols, 0, "lsoa")
    ward_cols = layout.count(lsoa_cols, 0, "ward")
    if layout.district_step is None:
        district = np.select([ward_col <= 2, ward_col <= 5], [0, 1], 2)
        names = DEMO_DISTRICTS
    else:
        district_cols = layout.count(ward_cols, 0, "district")
        district = layout.blocks(ward_row, 1, "district") * district_cols + layout.blocks(
            ward_col, 0, "district"
        )
        # Number districts densely in grid order (a fractional step can leave gaps).
        district = np.unique(district, return_inverse=True)[1]
        count = int(district.max()) + 1
        names = tuple(
            (layout.code("E08", n), name) for n, name in enumerate(district_names(count), start=1)
        )
    oas = gpd.GeoDataFrame(
        {
            "col": cols,
            "row": rows,
            "lsoa_col": lsoa_col,
            "lsoa_row": lsoa_row,
            "lsoa_key": lsoa_row * lsoa_cols + lsoa_col,
            "ward_key": ward_row * ward_cols + ward_col,
            "district": district,
        },
        geometry=cells,
        crs=BNG,
    )
    # Order codes as ONS does: by district, then west to east, south to north.
    oas = oas.sort_values(["district", "ward_key", "lsoa_key", "row", "col"]).reset_index(drop=True)
    oas["oa21_code"] = [layout.oa_code(n) for n in range(1, len(oas) + 1)]

    wards = _wards(oas, layout, names)
    oas = oas.merge(wards[["ward_key", "ward_code"]], on="ward_key")
    lsoa21, lsoa11 = _lsoas(oas, rng, layout, names)
    oas = oas.merge(
        lsoa21[
            ["lsoa_key", "lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "lsoa11_code"]
        ],
        on="lsoa_key",
    )
    districts = _dissolve(oas, "district", layout)[["district", "geometry"]]
    districts["lad_code"] = [names[d][0] for d in districts["district"]]
    districts["lad_name"] = [names[d][1] for d in districts["district"]]
    return Geography(
        layout=layout,
        oas=oas,
        lsoa21=lsoa21,
        lsoa11=lsoa11,
        wards=wards,
        districts=districts,
        outline=outline,
        district_names=names,
    )


def _dissolve(frame: gpd.GeoDataFrame, by: str, layout: Layout, **kwargs) -> gpd.GeoDataFrame:
    """Dissolve cells that tile the plane; the demo keeps GEOS's overlay union so its files
    stay byte-identical, larger layouts use the much faster coverage union."""
    method = "unary" if layout.name == "demo" else "coverage"
    return frame.dissolve(by, as_index=False, method=method, **kwargs)


def _wards(
    oas: gpd.GeoDataFrame, layout: Layout, districts: tuple[tuple[str, str], ...]
) -> gpd.GeoDataFrame:
    wards = _dissolve(oas, "ward_key", layout, aggfunc={"district": "first"})
    wards = wards.sort_values(["district", "ward_key"]).reset_index(drop=True)
    wards["ward_code"] = [layout.code("E05", n) for n in range(1, len(wards) + 1)]
    if layout.district_step is None:
        wards["ward_name"] = list(WARD_NAMES[: len(wards)])
    else:
        # Names repeat across districts (as "Central" does in real life), never within one.
        within = wards.groupby("district").cumcount().to_numpy()
        start = wards["district"].to_numpy() * 7
        wards["ward_name"] = [
            WARD_NAMES[(s + w) % len(WARD_NAMES)] + ("" if w < len(WARD_NAMES) else f" {w}")
            for s, w in zip(start, within, strict=True)
        ]
    wards["lad_code"] = [districts[d][0] for d in wards["district"]]
    wards["lad_name"] = [districts[d][1] for d in wards["district"]]
    return wards[
        ["ward_key", "ward_code", "ward_name", "lad_code", "lad_name", "district", "geometry"]
    ]


def _lsoas(
    oas: gpd.GeoDataFrame,
    rng: np.random.Generator,
    layout: Layout,
    districts: tuple[tuple[str, str], ...],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    lsoas = _dissolve(
        oas,
        "lsoa_key",
        layout,
        aggfunc={
            "district": "first",
            "ward_code": "first",
            "ward_key": "first",
            "lsoa_col": "first",
            "lsoa_row": "first",
        },
    )
    lsoas = lsoas.sort_values(["district", "ward_code", "lsoa_key"]).reset_index(drop=True)
    # MSOAs pair neighbouring LSOAs within a ward; names follow ONS: "<District> 005A".
    first_col = lsoas.groupby("ward_key")["lsoa_col"].transform("min")
    lsoas["msoa_key"] = (
        lsoas["ward_key"] * 1_000_000
        + lsoas["lsoa_row"] * 1_000
        + (lsoas["lsoa_col"] - first_col) // 2
    )
    msoa_order = {k: n for n, k in enumerate(pd.unique(lsoas["msoa_key"]), start=1)}
    lsoas["msoa21_code"] = [layout.code("E02", msoa_order[k]) for k in lsoas["msoa_key"]]
    per_district: dict[int, dict[int, int]] = {}
    names, msoa_names = [], []
    for district, msoa_key in zip(lsoas["district"], lsoas["msoa_key"], strict=True):
        numbers = per_district.setdefault(district, {})
        numbers.setdefault(msoa_key, len(numbers) + 1)
        msoa_names.append(f"{districts[district][1]} {numbers[msoa_key]:03d}")
    letters: dict[str, int] = {}
    for msoa_name in msoa_names:
        letters[msoa_name] = letters.get(msoa_name, 0) + 1
        names.append(f"{msoa_name}{chr(64 + letters[msoa_name])}")
    lsoas["msoa21_name"], lsoas["lsoa21_name"] = msoa_names, names

    # Choose left/right neighbour pairs that were one LSOA in 2011, some of them
    # straddling a ward border so that the 2011 geography does not nest in wards.
    by_cell = {
        (c, r): k
        for k, c, r in zip(lsoas["lsoa_key"], lsoas["lsoa_col"], lsoas["lsoa_row"], strict=True)
    }
    candidates = sorted((c, r) for (c, r) in by_cell if (c + 1, r) in by_cell)
    order = rng.permutation(len(candidates))
    used: set[tuple[int, int]] = set()
    pairs: list[tuple[int, int]] = []
    for index in order:
        c, r = candidates[index]
        if {(c, r), (c + 1, r)} & used:
            continue
        used |= {(c, r), (c + 1, r)}
        pairs.append((by_cell[(c, r)], by_cell[(c + 1, r)]))
        if len(pairs) == layout.split_count:
            break
    split_keys = {k for pair in pairs for k in pair}
    parent_of = {right: left for left, right in pairs}
    parent_of.update({left: left for left, _ in pairs})

    unchanged = [k for k in lsoas["lsoa_key"] if k not in split_keys or parent_of[k] == k]
    code11 = {k: layout.code("E01", n) for n, k in enumerate(unchanged, start=1)}
    next_number = len(code11) + 1
    code21 = {}
    for k in lsoas["lsoa_key"]:
        if k in split_keys:
            code21[k] = layout.code("E01", next_number)
            next_number += 1
        else:
            code21[k] = code11[k]
    lsoas["lsoa21_code"] = lsoas["lsoa_key"].map(code21)
    lsoas["lsoa11_key"] = lsoas["lsoa_key"].map(lambda k: parent_of.get(k, k))
    lsoas["lsoa11_code"] = lsoas["lsoa11_key"].map(code11)
    lsoa21 = lsoas[
        [
            "lsoa_key",
            "lsoa21_code",
            "lsoa21_name",
            "msoa21_code",
            "msoa21_name",
            "lsoa11_code",
            "ward_code",
            "district",
            "geometry",
        ]
    ].copy()
    lsoa11 = _dissolve(
        lsoas, "lsoa11_code", layout, aggfunc={"lsoa21_name": "first", "district": "first"}
    )
    lsoa11 = lsoa11.rename(columns={"lsoa21_name": "lsoa11_name"})
    return lsoa21, lsoa11[["lsoa11_code", "lsoa11_name", "district", "geometry"]]
