"""The demo region's nested geography: output areas, LSOAs (2011 and 2021), wards, districts.

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

BNG = "EPSG:27700"
#: South-west corner of the synthetic region, in British National Grid metres.
ORIGIN = (421_000.0, 291_000.0)
SPACING = 500.0
N_COLS, N_ROWS = 32, 20
DISTRICTS = (
    ("E08000991", "Northmoor"),
    ("E08000992", "Riverside"),
    ("E08000993", "Eastwick"),
)
WARD_NAMES = (
    "Abbey Fields",
    "Ashworth",
    "Bank Top",
    "Barrow Bridge",
    "Beacon Hill",
    "Birchfield",
    "Bradshaw Moor",
    "Brook Vale",
    "Castle Green",
    "Chapel Brow",
    "Church Lane",
    "Clough Head",
    "Coldhurst",
    "Cross Bank",
    "Dale End",
    "Deanfield",
    "Elm Park",
    "Fairfield",
    "Fern Hill",
    "Gorse Hall",
    "Greenmount",
    "Hall Lane",
    "Harper Green",
    "Heaton Mersey",
    "Highfield",
    "Holly Bank",
    "Kingsway",
    "Lark Hill",
    "Lowfield",
    "Market Cross",
    "Mill Brow",
    "Moss Lane",
    "Newtown",
    "Oakwood",
    "Old Quay",
    "Priory",
    "Queens Park",
    "Redbrook",
    "Sandy Lane",
    "Tanners Yard",
)
#: LSOA21 pairs (column, row of the left LSOA) that were a single LSOA in 2011.
SPLIT_COUNT = 12


@dataclass(frozen=True)
class Geography:
    """All demo boundary layers in EPSG:27700, plus the OA latent fields they derive from."""

    oas: gpd.GeoDataFrame
    lsoa21: gpd.GeoDataFrame
    lsoa11: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    outline: shapely.Polygon


def region_outline() -> shapely.Polygon:
    x0, y0 = ORIGIN
    return shapely.box(x0, y0, x0 + N_COLS * SPACING, y0 + N_ROWS * SPACING)


def build_geography(rng: np.random.Generator) -> Geography:
    """Tessellate the region and dissolve it into every official level."""
    outline = region_outline()
    cols, rows = np.meshgrid(np.arange(N_COLS), np.arange(N_ROWS), indexing="xy")
    cols, rows = cols.ravel(), rows.ravel()
    jitter = rng.uniform(-0.3, 0.3, size=(cols.size, 2)) * SPACING
    x = ORIGIN[0] + (cols + 0.5) * SPACING + jitter[:, 0]
    y = ORIGIN[1] + (rows + 0.5) * SPACING + jitter[:, 1]
    seeds = shapely.points(x, y)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline, ordered=True)
    cells = shapely.intersection(shapely.get_parts(cells), outline)
    cells = shapely.set_precision(cells, grid_size=0.1)

    lsoa_col, lsoa_row = cols // 2, rows // 2
    ward_col, ward_row = cols // 4, rows // 4
    district = np.select([ward_col <= 2, ward_col <= 5], [0, 1], 2)
    oas = gpd.GeoDataFrame(
        {
            "col": cols,
            "row": rows,
            "lsoa_key": lsoa_row * (N_COLS // 2) + lsoa_col,
            "ward_key": ward_row * (N_COLS // 4) + ward_col,
            "district": district,
        },
        geometry=cells,
        crs=BNG,
    )
    # Order codes as ONS does: by district, then west to east, south to north.
    oas = oas.sort_values(["district", "ward_key", "lsoa_key", "row", "col"]).reset_index(drop=True)
    oas["oa21_code"] = [f"E0099{n:04d}" for n in range(1, len(oas) + 1)]

    wards = _wards(oas)
    oas = oas.merge(wards[["ward_key", "ward_code"]], on="ward_key")
    lsoa21, lsoa11 = _lsoas(oas, rng)
    oas = oas.merge(
        lsoa21[
            ["lsoa_key", "lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "lsoa11_code"]
        ],
        on="lsoa_key",
    )
    districts = oas.dissolve("district", as_index=False)[["district", "geometry"]]
    districts["lad_code"] = [DISTRICTS[d][0] for d in districts["district"]]
    districts["lad_name"] = [DISTRICTS[d][1] for d in districts["district"]]
    return Geography(
        oas=oas, lsoa21=lsoa21, lsoa11=lsoa11, wards=wards, districts=districts, outline=outline
    )


def _wards(oas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    wards = oas.dissolve("ward_key", as_index=False, aggfunc={"district": "first"})
    wards = wards.sort_values(["district", "ward_key"]).reset_index(drop=True)
    wards["ward_code"] = [f"E0599{n:04d}" for n in range(1, len(wards) + 1)]
    wards["ward_name"] = list(WARD_NAMES[: len(wards)])
    wards["lad_code"] = [DISTRICTS[d][0] for d in wards["district"]]
    wards["lad_name"] = [DISTRICTS[d][1] for d in wards["district"]]
    return wards[
        ["ward_key", "ward_code", "ward_name", "lad_code", "lad_name", "district", "geometry"]
    ]


def _lsoas(
    oas: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    lsoas = oas.dissolve(
        "lsoa_key",
        as_index=False,
        aggfunc={"district": "first", "ward_code": "first", "col": "min", "row": "min"},
    )
    lsoas["lsoa_col"], lsoas["lsoa_row"] = lsoas["col"] // 2, lsoas["row"] // 2
    lsoas = lsoas.sort_values(["district", "ward_code", "lsoa_key"]).reset_index(drop=True)
    # MSOAs pair LSOAs within a ward; names follow ONS: "<District> 005A".
    lsoas["msoa_key"] = lsoas["lsoa_row"] * 100 + lsoas["lsoa_col"] // 2
    msoa_order = {k: n for n, k in enumerate(pd.unique(lsoas["msoa_key"]), start=1)}
    lsoas["msoa21_code"] = [f"E0299{msoa_order[k]:04d}" for k in lsoas["msoa_key"]]
    per_district: dict[int, dict[int, int]] = {}
    names, msoa_names = [], []
    for district, msoa_key in zip(lsoas["district"], lsoas["msoa_key"], strict=True):
        numbers = per_district.setdefault(district, {})
        numbers.setdefault(msoa_key, len(numbers) + 1)
        msoa_names.append(f"{DISTRICTS[district][1]} {numbers[msoa_key]:03d}")
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
        if len(pairs) == SPLIT_COUNT:
            break
    split_keys = {k for pair in pairs for k in pair}
    parent_of = {right: left for left, right in pairs}
    parent_of.update({left: left for left, _ in pairs})

    unchanged = [k for k in lsoas["lsoa_key"] if k not in split_keys or parent_of[k] == k]
    code11 = {k: f"E0199{n:04d}" for n, k in enumerate(unchanged, start=1)}
    next_number = len(code11) + 1
    code21 = {}
    for k in lsoas["lsoa_key"]:
        if k in split_keys:
            code21[k] = f"E0199{next_number:04d}"
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
    lsoa11 = lsoas.dissolve(
        "lsoa11_code", as_index=False, aggfunc={"lsoa21_name": "first", "district": "first"}
    )
    lsoa11 = lsoa11.rename(columns={"lsoa21_name": "lsoa11_name"})
    return lsoa21, lsoa11[["lsoa11_code", "lsoa11_name", "district", "geometry"]]
