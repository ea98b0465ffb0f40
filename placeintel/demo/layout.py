"""How big a synthetic region is and how its levels nest: demo, Greater Manchester sizes, national.

Every scale is the same recipe (a jittered grid of output areas dissolved into
LSOAs, wards and districts) with different numbers, so a benchmark at 16x GM
or at national scale exercises exactly the code paths the demo does.

Nesting steps may be fractional: with 2.7 OA rows per LSOA, blocks alternate
between two and three rows, which is how the national counts (about 5.4 OAs per
LSOA, 5 LSOAs per ward) come out without odd-shaped areas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The demo's three named districts (code, name); larger layouts generate theirs.
DEMO_DISTRICTS = (
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
_TOWN_STEMS = (
    "Ash", "Black", "Brad", "Bram", "Burn", "Castle", "Chad", "Clay", "Dun", "Elm",
    "Fair", "Glen", "Hal", "Hart", "Kirk", "Lang", "Marsh", "Mill", "North", "Oak",
    "Pen", "Red", "Ring", "Shaw", "Stan",
)  # fmt: skip
_TOWN_ENDINGS = (
    "bury", "by", "caster", "den", "field", "ford", "gate", "ham", "ley", "mouth",
    "port", "stead", "stow", "thorpe", "ton", "wick", "worth",
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """The size and nesting of one synthetic region (all lengths in BNG metres)."""

    name: str
    n_cols: int
    n_rows: int
    spacing: float
    origin: tuple[float, float]
    #: OA cells per LSOA and LSOAs per ward and wards per district, as (columns, rows).
    lsoa_step: tuple[float, float] = (2, 2)
    ward_step: tuple[float, float] = (2, 2)
    #: None: the demo's three named districts, split by ward column.
    district_step: tuple[float, float] | None = None
    #: Size of one "city region" of the latent surfaces; None: the whole extent is one.
    tile: float | None = None
    #: Multiple of the demo's 60 services.
    service_factor: int = 1
    #: Broadband at postcode level with an ONSPD lookup (national files) instead of by OA.
    postcodes: bool = False
    #: Codes are prefix + six digits counted from here; the demo's 99xxxx keeps clear of
    #: real codes, larger layouts use ranges no real area has (E00 5xxxxx, E01 9xxxxx).
    oa_code_base: int = 990_000
    code_base: int = 990_000

    def code(self, prefix: str, number: int, base: int | None = None) -> str:
        return f"{prefix}{(self.code_base if base is None else base) + number:06d}"

    def oa_code(self, number: int) -> str:
        return self.code("E00", number, self.oa_code_base)

    @property
    def width(self) -> float:
        return self.n_cols * self.spacing

    @property
    def height(self) -> float:
        return self.n_rows * self.spacing

    def blocks(self, index: np.ndarray, axis: int, level: str) -> np.ndarray:
        """Which LSOA (or ward, district) column/row each OA (or LSOA, ward) column/row is in."""
        step = {"lsoa": self.lsoa_step, "ward": self.ward_step, "district": self.district_step}
        return np.floor(index / step[level][axis]).astype(index.dtype)

    def count(self, cells: int, axis: int, level: str) -> int:
        """How many blocks `cells` columns (axis 0) or rows (axis 1) make."""
        step = {"lsoa": self.lsoa_step, "ward": self.ward_step, "district": self.district_step}
        return math.floor((cells - 1) / step[level][axis]) + 1

    @property
    def split_count(self) -> int:
        """2011 LSOAs that ONS split in two for 2021: about 7.5% of them, as in the demo."""
        lsoas = self.count(self.n_cols, 0, "lsoa") * self.count(self.n_rows, 1, "lsoa")
        return round(0.075 * lsoas)


def district_names(count: int) -> list[str]:
    """Distinct invented town names, e.g. "Ashford", "Blackbury"; deterministic."""
    names = [stem + ending for ending in _TOWN_ENDINGS for stem in _TOWN_STEMS]
    if count > len(names):
        raise ValueError(f"at most {len(names)} synthetic district names")
    return names[:count]


DEMO = Layout("demo", 32, 20, 500.0, (421_000.0, 291_000.0))


def _gm_like(name: str, multiple: int) -> Layout:
    """Greater Manchester's size (about 215 wards, 1,700 LSOAs, 8,800 OAs) times `multiple`,
    as a square of GM-sized city regions."""
    side = 94 * math.isqrt(multiple)
    return Layout(
        name,
        side,
        side,
        400.0,
        (340_000.0, 370_000.0),
        lsoa_step=(2, 2.6),
        ward_step=(2.8, 2.8),
        district_step=(5, 4.5),
        tile=94 * 400.0,
        service_factor=max(1, round(multiple * 600 / 60)),
        postcodes=True,
        oa_code_base=500_000,
        code_base=900_000,
    )


#: England and Wales: ~190,000 OAs, ~35,000 LSOAs, ~7,000 wards, ~320 districts, 20,000
#: services; 900 m OA spacing gives the real land area (about 150,000 km2).
NATIONAL = Layout(
    "national",
    436,
    436,
    900.0,
    (150_000.0, 100_000.0),
    lsoa_step=(2, 2.7),
    ward_step=(2.5, 2),
    district_step=(5, 4.5),
    tile=94 * 400.0,
    service_factor=334,
    postcodes=True,
    oa_code_base=500_000,
    code_base=900_000,
)

LAYOUTS = {
    layout.name: layout
    for layout in (DEMO, _gm_like("gm", 1), _gm_like("gm-x4", 4), _gm_like("gm-x16", 16), NATIONAL)
}
