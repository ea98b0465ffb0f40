"""Synthetic people, premises and deprivation for the demo region's output areas.

Three smooth latent surfaces drive everything: deprivation (an urban core and a
former mill town), age (older to the rural west and the mill town) and
remoteness (poor broadband away from the core). The mill town, where all
three meet, is the hotspot the index should find; the urban core is deprived
but well connected, so the components disagree there, as they do in real places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from placeintel.demo.layout import DEMO, Layout

CORE = (0.68, 0.45)
MILL_TOWN = (0.14, 0.78)
#: Seeds the placement of cores and mill towns in a mosaic of city regions.
TILE_SEED = 20232

#: 5-year census age bands (TS007A): label, lower age.
AGE_BANDS = [
    ("Aged 4 years and under", 0),
    ("Aged 5 to 9 years", 5),
    ("Aged 10 to 14 years", 10),
    ("Aged 15 to 19 years", 15),
    ("Aged 20 to 24 years", 20),
    ("Aged 25 to 29 years", 25),
    ("Aged 30 to 34 years", 30),
    ("Aged 35 to 39 years", 35),
    ("Aged 40 to 44 years", 40),
    ("Aged 45 to 49 years", 45),
    ("Aged 50 to 54 years", 50),
    ("Aged 55 to 59 years", 55),
    ("Aged 60 to 64 years", 60),
    ("Aged 65 to 69 years", 65),
    ("Aged 70 to 74 years", 70),
    ("Aged 75 to 79 years", 75),
    ("Aged 80 to 84 years", 80),
    ("Aged 85 years and over", 85),
]


@dataclass(frozen=True)
class Surfaces:
    """Latent 0..1 surfaces evaluated at each OA, aligned with the OA frame."""

    deprivation: np.ndarray
    age: np.ndarray
    remoteness: np.ndarray
    density: np.ndarray


def _bump(u: np.ndarray, v: np.ndarray, centre: tuple[float, float], width: float) -> np.ndarray:
    return np.exp(-((u - centre[0]) ** 2 + (v - centre[1]) ** 2) / (2 * width**2))


class Landscape:
    """Where a layout's urban cores and mill towns are, as smooth bumps over the region.

    The demo is one city region: one core, one mill town, and a rural west, in
    coordinates of the whole extent (exactly as first generated, so its files stay
    byte-identical). Larger layouts are a mosaic of city-region tiles, each with its
    own core and mill town placed by a fixed seed; bumps are summed over the
    neighbouring tiles so the surfaces stay continuous across tile edges.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        if layout.tile is None:
            return
        nx = math.ceil(layout.width / layout.tile)
        ny = math.ceil(layout.height / layout.tile)
        rng = np.random.default_rng([TILE_SEED, nx, ny])
        jitter = rng.uniform(-0.12, 0.12, size=(2, nx, ny, 2))
        corner = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij"), axis=-1)
        self._centres = {
            "core": (corner + np.array(CORE) + jitter[0]) * layout.tile,
            "mill": (corner + np.array(MILL_TOWN) + jitter[1]) * layout.tile,
        }

    def unit(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates as fractions of the whole extent (0..1 west-east, south-north)."""
        x0, y0 = self.layout.origin
        return (x - x0) / self.layout.width, (y - y0) / self.layout.height

    def bump(self, x: np.ndarray, y: np.ndarray, kind: str, width: float) -> np.ndarray:
        """Closeness to a core or mill town; `width` is a fraction of a city region."""
        if self.layout.tile is None:
            u, v = self.unit(x, y)
            return _bump(u, v, CORE if kind == "core" else MILL_TOWN, width)
        tile, centres = self.layout.tile, self._centres[kind]
        x0, y0 = self.layout.origin
        tx, ty = (x - x0) / tile, (y - y0) / tile
        ix, iy = np.floor(tx).astype(int), np.floor(ty).astype(int)
        total = np.zeros_like(tx)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                jx, jy = ix + dx, iy + dy
                inside = (jx >= 0) & (jx < centres.shape[0]) & (jy >= 0) & (jy < centres.shape[1])
                cx = centres[jx.clip(0, centres.shape[0] - 1), jy.clip(0, centres.shape[1] - 1)]
                d2 = (tx - cx[..., 0] / tile) ** 2 + (ty - cx[..., 1] / tile) ** 2
                total += np.where(inside, np.exp(-d2 / (2 * width**2)), 0.0)
        return total

    def west(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Rurality that does not come from distance to a core: the demo's rural west, or
        in a mosaic a gentle national east-west gradient."""
        u, _ = self.unit(x, y)
        return 1 - u if self.layout.tile is None else 1 - 0.5 * u


def surfaces_at(
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator | None = None,
    landscape: Landscape | None = None,
) -> Surfaces:
    """Evaluate the latent surfaces at points, with per-area noise when `rng` is given."""
    land = landscape or Landscape(DEMO)
    u, v = land.unit(x, y)
    noise = (lambda s: rng.normal(0, s, size=u.shape)) if rng is not None else (lambda s: 0.0)
    core, mill = land.bump, land.bump
    deprivation = 0.75 * core(x, y, "core", 0.14) + 0.8 * mill(x, y, "mill", 0.1)
    age = 0.55 * land.west(x, y) ** 2 + 0.6 * mill(x, y, "mill", 0.12) + 0.15 * v
    remoteness = 0.7 * (1 - np.minimum(core(x, y, "core", 0.3), 1)) * land.west(x, y) + 0.35 * mill(
        x, y, "mill", 0.1
    )
    density = 0.25 + core(x, y, "core", 0.18) + 0.5 * mill(x, y, "mill", 0.07)
    return Surfaces(
        deprivation=np.clip(deprivation + noise(0.06), 0, 1),
        age=np.clip(age + noise(0.05), 0, 1),
        remoteness=np.clip(remoteness + noise(0.05), 0, 1),
        density=density,
    )


def oa_people(
    oas: gpd.GeoDataFrame, rng: np.random.Generator, landscape: Landscape | None = None
) -> pd.DataFrame:
    """Counts per OA that the census, Ofcom and DWP files are drawn from."""
    centroids = oas.geometry.centroid
    s = surfaces_at(centroids.x.to_numpy(), centroids.y.to_numpy(), rng, landscape)
    n = len(oas)
    population = np.round(180 + 230 * np.clip(s.density, 0, 1.2) + rng.normal(0, 20, n)).astype(int)
    share_65 = 0.09 + 0.22 * s.age
    share_75 = share_65 * (0.40 + 0.1 * s.age)
    ages = _age_bands(population, share_65, share_75, rng)
    adults = ages[:, 4:].sum(axis=1) + np.round(ages[:, 3] * 0.2).astype(int)
    binomial = rng.binomial
    frame = pd.DataFrame({"oa21_code": oas["oa21_code"].to_numpy(), "population": population})
    for (label, _), column in zip(AGE_BANDS, ages.T, strict=True):
        frame[label] = column
    frame["adults"] = adults
    frame["aged_65_plus"] = ages[:, 13:].sum(axis=1)
    frame["limited_a_lot"] = binomial(
        population, np.clip(0.06 + 0.07 * s.deprivation + 0.05 * s.age, 0, 1)
    )
    frame["limited_a_little"] = binomial(
        population, np.clip(0.08 + 0.04 * s.deprivation + 0.04 * s.age, 0, 1)
    )
    frame["grade_total"] = np.round(adults * 0.97).astype(int)
    frame["grade_de"] = binomial(frame["grade_total"], np.clip(0.14 + 0.36 * s.deprivation, 0, 1))
    frame["grade_ab"] = binomial(frame["grade_total"] - frame["grade_de"], 0.35)
    frame["grade_c1"] = binomial(frame["grade_total"] - frame["grade_de"] - frame["grade_ab"], 0.55)
    frame["grade_c2"] = (
        frame["grade_total"] - frame["grade_de"] - frame["grade_ab"] - frame["grade_c1"]
    )
    frame["no_qualifications"] = binomial(
        adults, np.clip(0.10 + 0.26 * s.deprivation + 0.06 * s.age, 0, 1)
    )
    frame["unemployed"] = binomial(adults, np.clip(0.015 + 0.06 * s.deprivation, 0, 1))
    frame["pension_credit"] = binomial(
        frame["aged_65_plus"], np.clip(0.05 + 0.28 * s.deprivation, 0, 1)
    )
    frame["premises"] = np.round(population / rng.uniform(2.1, 2.5, n)).astype(int)
    frame["deprivation"], frame["age"], frame["remoteness"] = s.deprivation, s.age, s.remoteness
    return frame


def _age_bands(
    population: np.ndarray, share_65: np.ndarray, share_75: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Split each OA's population into the 18 census bands with the wanted 65+ and 75+ shares."""
    bands = np.zeros((population.size, len(AGE_BANDS)), dtype=int)
    for i, total in enumerate(population):
        old = rng.binomial(total, share_65[i])
        very_old = rng.binomial(old, min(share_75[i] / share_65[i], 1.0))
        young = total - old
        bands[i, :13] = rng.multinomial(young, np.full(13, 1 / 13))
        bands[i, 13:15] = rng.multinomial(old - very_old, [0.55, 0.45])
        bands[i, 15:] = rng.multinomial(very_old, [0.45, 0.33, 0.22])
    return bands


def broadband(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Ofcom-style coverage and performance counts per OA, worse with remoteness."""
    premises = people["premises"].to_numpy()
    remote = people["remoteness"].to_numpy()
    below_30 = rng.binomial(premises, np.clip(0.005 + 0.35 * remote**2, 0, 1))
    split = np.array([rng.multinomial(b, [0.15, 0.2, 0.25, 0.4]) for b in below_30])
    connections = rng.binomial(premises, 0.78)
    slow = np.clip(0.01 + 0.45 * remote**2, 0, 0.9)
    bands = np.array(
        [
            rng.multinomial(
                c,
                [
                    slow_i * 0.2,
                    slow_i * 0.3,
                    slow_i * 0.5,
                    (1 - slow_i) * 0.25,
                    (1 - slow_i) * 0.6,
                    (1 - slow_i) * 0.15,
                ],
            )
            for c, slow_i in zip(connections, slow, strict=True)
        ]
    )
    midpoints = np.array([1.2, 3.5, 7.5, 20, 80, 500])
    average = (bands * midpoints).sum(axis=1) / np.maximum(bands.sum(axis=1), 1)
    average = np.round(average * rng.uniform(0.85, 1.1, len(average)), 1)
    median = np.round(average * rng.uniform(0.55, 0.8, len(average)), 1)
    return pd.DataFrame(
        {
            "oa21_code": people["oa21_code"],
            "premises": premises,
            "below_30": below_30,
            "b0_2": split[:, 0],
            "b2_5": split[:, 1],
            "b5_10": split[:, 2],
            "b10_30": split[:, 3],
            "c0_2": bands[:, 0],
            "c2_5": bands[:, 1],
            "c5_10": bands[:, 2],
            "c10_30": bands[:, 3],
            "c30_300": bands[:, 4],
            "c300": bands[:, 5],
            "average": average,
            "median": median,
        }
    )
