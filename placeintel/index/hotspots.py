r"""Where high-risk areas cluster: Getis-Ord Gi* hot spots and local Moran's I clusters.

The method, and why (docs/method.md has the full account, with references):

- **Gi\* at LSOA level, DERI's own resolution.** Greater Manchester has 1,702
  LSOAs against 215 wards: neighbourhoods of a few hundred households, where a
  cluster is a cluster rather than an average over a ward that mixes an estate
  with its suburbs, and enough areas for a correction over all of them to leave
  power. Neighbours share a border or a corner (queen contiguity, libpysal's
  definition, found by `contiguity.py`); each area's own value is in its
  neighbourhood (the "star"), with binary weights.
- **Conditional permutation inference** (Anselin 1995), as GeoDa and PySAL do:
  9,999 seeded permutations, two-sided, ties counted in both tails. Not the
  analytic normal z-scores that ArcGIS uses: DERI-like scores are skewed, and with
  about six neighbours the sum's upper tail is far heavier than a normal one. On
  shuffled skewed scores the analytic p-values raised a false hot spot in half of
  all maps at a 10 % false discovery rate; permutation p-values are exact
  whatever the distribution (tests/index/test_hotspots.py measures both).
- **False discovery rate across all areas at once**: Benjamini-Hochberg, as
  Caldas de Castro & Singer (2006) showed is valid for local statistics, whose
  tests are positively dependent. An area is `hot-99`, `hot-95` or `hot-90` when
  it passes at a false discovery rate of 1 %, 5 % or 10 % and its neighbourhood is
  above the mean; `cold-*` likewise below it. 9,999 permutations put the smallest
  p-value at 0.0002, which a correction over 1,702 LSOAs can pass once a few
  areas share it: a real cluster is many areas.
- **Wards from their LSOAs.** A ward is a hot spot at a confidence when most of
  its residents (half or more, by LSOA population) live in LSOAs that are hot
  spots at that confidence or higher; the shares are published, so a ward that is
  a quarter hot spot is visible too. No new test is made, so no new multiple-
  testing burden. Without LSOA boundaries, Gi\* runs on the wards themselves.

Local Moran's I (row-standardised, the same permutations and correction) gives a
second view: high-high and low-low clusters, and high-low / low-high outliers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import false_discovery_control

from placeintel.index.contiguity import queen_adjacency
from placeintel.index.draws import BackgroundDraws
from placeintel.index.local import gi_star as gi_star_statistic
from placeintel.index.local import local_moran
from placeintel.index.permutation import (
    Statistic,
    neighbour_weights,
    permuted_ids,
    tail_counts,
    two_sided_from_counts,
)

T = TypeVar("T")

PERMUTATIONS = 9_999
SEED = 20231
LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))
QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
NOT_SIGNIFICANT = "not-significant"
#: A ward is a hot (cold) spot when at least this share of its residents live in hot
#: (cold) LSOAs.
WARD_SHARE = 0.5


#: What a published `hotspot` column means, at each level and for wards made from LSOAs.
LSOA_RULE = (
    "Getis-Ord Gi* class (9,999 conditional permutations, Benjamini-Hochberg false "
    "discovery rate over the region's LSOAs): hot-99/95/90, cold-99/95/90 or not-significant"
)
WARD_FROM_LSOAS_RULE = (
    "Gi* hot/cold spot class of the ward: hot-99/95/90 when at least half its residents "
    "live in LSOAs that are Gi* hot spots at that confidence or higher (Benjamini-"
    "Hochberg false discovery rate 1/5/10 % over all the region's LSOAs); cold "
    "likewise; else not-significant"
)
WARD_RULE = (
    "Getis-Ord Gi* class after FDR correction over the region's wards: hot-99/95/90, "
    "cold-99/95/90 or not-significant"
)


def fdr(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values."""
    return (
        false_discovery_control(np.clip(p_values, 0, 1), method="bh") if p_values.size else p_values
    )


def two_sided(observed: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """Two-sided permutation p-values that count ties as at least as extreme, in both tails.

    esda's folded p-value counts a tie as "larger" and then folds, so an area whose
    value equals the most common permuted outcome (frequent when scores are
    discrete) comes out as highly significant. Counting ties in both tails and
    doubling the smaller tail is the standard, conservative alternative.
    """
    observed = observed[:, None]
    # Simulated statistics are computed along another arithmetic path, so an exact
    # tie can differ in the last bits; compare with a relative tolerance.
    slack = 1e-9 * np.maximum(1.0, np.abs(observed))
    upper = (simulated >= observed - slack).sum(axis=1)
    lower = (simulated <= observed + slack).sum(axis=1)
    tails = (np.minimum(upper, lower) + 1) / (simulated.shape[1] + 1)
    return np.minimum(1.0, 2 * tails)


def gi_star(
    values: np.ndarray,
    adjacency: sparse.csr_array,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores (binary weights, self included) and their BH-adjusted two-sided
    conditional-permutation p-values; `adjacency` as `contiguity.queen_adjacency`."""
    tests = _LocalTests(values, adjacency, permutations, seed)
    z, p, _, _ = tests.run()
    return z, p


class _LocalTests:
    """Gi* and local Moran on one set of values and contiguity, sharing one set of draws.

    `local.py` computes the observed statistics and the analytic Gi* z as esda does;
    the permutation tails are counted by `permutation.tail_counts` from esda's own
    draws, which both statistics share as they do in esda (same seed, same neighbour
    counts), so they are drawn once.
    """

    def __init__(
        self,
        values: np.ndarray,
        adjacency: sparse.csr_array,
        permutations: int,
        seed: int,
        leave_state: bool = True,
        drawn: BackgroundDraws | None = None,
    ) -> None:
        self.values = values
        self.drawn = drawn
        self.adjacency = adjacency
        self.permutations = permutations
        self.seed = seed
        self.leave_state = leave_state
        self._ids: np.ndarray | None = None

    def _draws(self, max_neighbours: int) -> np.ndarray:
        if self._ids is None or self._ids.shape[1] < max_neighbours:
            n = len(self.values)
            made = self.drawn and self.drawn.take(n, max_neighbours, self.permutations, self.seed)
            if made:
                self._ids, state = made
                if self.leave_state:  # where esda's own draws leave the global state
                    np.random.set_state(state)
            else:
                self._ids = permuted_ids(
                    n, max_neighbours, self.permutations, self.seed, self.leave_state
                )
        return self._ids

    def _p_values(
        self,
        statistic: Statistic,
        observed: np.ndarray,
        z: np.ndarray,
        laid_out: tuple[np.ndarray, np.ndarray],
        scaling: float,
        ids: np.ndarray,
    ) -> np.ndarray:
        own, others = laid_out
        upper, lower = tail_counts(statistic, observed, z, own, others, scaling, ids)
        return fdr(two_sided_from_counts(upper, lower, self.permutations))

    def run(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Gi* z and FDR p; local Moran quadrant and FDR p (row-standardised weights).

        The two statistics' tails are independent once drawn, and mostly NumPy work that
        lets go of the GIL: Moran's are counted on a thread beside Gi*'s (nationally the
        LSOAs' two took 1.2 s one after the other, at the end of stage 4)."""
        y = self.values
        gi = gi_star_statistic(self.adjacency, y)
        lisa = local_moran(self.adjacency, y)
        scaling = (len(y) - 1) / (lisa.z * lisa.z).sum()  # esda crand's, for Moran
        gi_laid, lisa_laid = neighbour_weights(gi.weights), neighbour_weights(lisa.weights)
        ids = self._draws(max(gi_laid[1].shape[0], lisa_laid[1].shape[0]))
        with ThreadPoolExecutor(1, thread_name_prefix="moran") as pool:
            moran = pool.submit(  # NumPy's error settings are per context, not inherited
                _with_errstate(np.geterr(), self._p_values),
                "moran",
                lisa.statistic,
                lisa.z,
                lisa_laid,
                scaling,
                ids,
            )
            gi_p = self._p_values("gi_star", gi.statistic, y, gi_laid, y.sum(), ids)
            lisa_p = moran.result()
        return np.asarray(gi.z, dtype=float), gi_p, np.asarray(lisa.quadrant), lisa_p


def _with_errstate(settings: dict[str, str], work: Callable[..., T]) -> Callable[..., T]:
    """`work` run under these NumPy error settings, on whichever thread calls it."""

    def run(*args: object) -> T:
        with np.errstate(**settings):
            return work(*args)

    return run


def hotspots(
    areas: gpd.GeoDataFrame,
    column: str = "deri_score",
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    leave_state: bool = True,
    drawn: BackgroundDraws | None = None,
) -> pd.DataFrame:
    """Gi* and local Moran results per area, aligned with `areas`' index.

    The permutations are esda's, drawn without touching NumPy's global random state,
    which is then left where esda's draws leave it; with `leave_state` False it is not
    touched at all, so that two levels' hot spots can run on two threads at once and the
    one esda would have drawn last leaves the state (`permutation.permuted_ids`). They are
    taken from `drawn` (a second process) where it made them."""
    out = pd.DataFrame(index=areas.index)
    out["gi_z"] = np.nan
    out["gi_p_fdr"] = np.nan
    out["hotspot"] = NOT_SIGNIFICANT
    out["lisa_p_fdr"] = np.nan
    out["lisa_cluster"] = NOT_SIGNIFICANT
    scored = _tested(areas, column)
    if len(scored) < MIN_AREAS:
        return out
    with warnings.catch_warnings():
        # Islands (areas with no neighbour) are handled below; esda's notice that its
        # default p-value is directional does not apply: we double it to two-sided.
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        warnings.filterwarnings("ignore", message=".*islands.*")
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        with np.errstate(divide="ignore", invalid="ignore"):  # islands divide by zero in esda
            return _statistics(out, scored, column, permutations, seed, leave_state, drawn)


#: Fewer areas than this with a score and a shape are not tested.
MIN_AREAS = 5


def _tested(areas: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """The areas the hot spots test: those with a finite score and a shape."""
    shaped = ~(areas.geometry.isna() | areas.geometry.is_empty)
    return areas[np.isfinite(areas[column].to_numpy(dtype=float)) & shaped]


def tested_count(areas: gpd.GeoDataFrame, column: str = "deri_score") -> int:
    """How many areas `hotspots` will test, and so draw permutations for (0: none)."""
    n = len(_tested(areas, column))
    return n if n >= MIN_AREAS else 0


def _statistics(
    out: pd.DataFrame,
    scored: gpd.GeoDataFrame,
    column: str,
    permutations: int,
    seed: int,
    leave_state: bool,
    drawn: BackgroundDraws | None,
) -> pd.DataFrame:
    adjacency = queen_adjacency(scored.geometry.to_numpy())
    islands = np.diff(adjacency.indptr) == 0
    y = scored[column].to_numpy(dtype=float)
    tests = _LocalTests(y, adjacency, permutations, seed, leave_state, drawn)
    z, gi_p, quadrant, lisa_p = tests.run()
    gi_p[islands] = 1.0  # an area with no neighbours has no neighbourhood to test
    out.loc[scored.index, "gi_z"] = np.round(z, 6)
    out.loc[scored.index, "gi_p_fdr"] = np.round(gi_p, 6)
    out.loc[scored.index, "hotspot"] = [_hot_or_cold(a, b) for a, b in zip(z, gi_p, strict=True)]
    lisa_p[islands] = 1.0
    out.loc[scored.index, "lisa_p_fdr"] = np.round(lisa_p, 6)
    out.loc[scored.index, "lisa_cluster"] = [
        QUADRANTS[q] if p < 0.05 else NOT_SIGNIFICANT for q, p in zip(quadrant, lisa_p, strict=True)
    ]
    return out


def _hot_or_cold(z: float, p: float) -> str:
    for threshold, confidence in LEVELS:
        if p < threshold:
            return f"{'hot' if z > 0 else 'cold'}-{confidence}"
    return NOT_SIGNIFICANT


def ward_hotspots(
    lsoa_hotspot: pd.Series, ward_of: pd.Series, population: pd.Series
) -> pd.DataFrame:
    """Wards' hot and cold spots from their LSOAs' (indexed by LSOA code): the shares of
    residents living in hot and in cold LSOAs, and the class most of them live in."""
    frame = pd.DataFrame(
        {
            "ward": ward_of.reindex(lsoa_hotspot.index),
            "hotspot": lsoa_hotspot,
            "people": population.reindex(lsoa_hotspot.index).fillna(0).clip(lower=0),
        }
    ).dropna(subset=["ward"])
    if frame["people"].sum() <= 0:  # no population: each LSOA counts the same
        frame["people"] = 1.0
    total = frame.groupby("ward")["people"].sum()
    out = pd.DataFrame(index=total.index)
    out["hotspot"] = NOT_SIGNIFICANT
    for kind in ("hot", "cold"):
        share = _share(frame, total, kind, [c for _, c in LEVELS])
        out[f"{kind}_lsoa_share"] = share.round(4)
    for kind in ("cold", "hot"):  # hot wins the (impossible) tie of two majorities
        for _, confidence in reversed(LEVELS):  # 90 first, so a higher confidence wins
            levels = [c for _, c in LEVELS if int(c) >= int(confidence)]
            share = _share(frame, total, kind, levels)
            out.loc[share >= WARD_SHARE, "hotspot"] = f"{kind}-{confidence}"
    return out


def _share(frame: pd.DataFrame, total: pd.Series, kind: str, levels: list[str]) -> pd.Series:
    """Share of each ward's residents in LSOAs of `kind` at any of `levels`."""
    hit = frame["hotspot"].isin([f"{kind}-{c}" for c in levels])
    people = frame["people"].where(hit, 0).groupby(frame["ward"]).sum()
    return (people / total.where(total > 0)).reindex(total.index).fillna(0)
