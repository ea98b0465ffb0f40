"""Where high-risk wards cluster: Getis-Ord Gi* hotspots and local Moran's I clusters.

Neighbours are wards that share a border or a corner (queen contiguity,
libpysal). Gi* (esda) compares each ward's neighbourhood, itself included, with
the whole region; significance comes from 9,999 conditional permutations
(seeded), made two-sided, then corrected for testing every ward at once with
the Benjamini-Hochberg false-discovery rate (scipy). Why 9,999 and not the
usual 999: the smallest p-value permutations can give is 2/(n+1), and after
FDR correction over m wards it is multiplied by up to m, so with 999
permutations no ward of a 215-ward region could ever reach 90 % confidence. A ward is `hot-99`,
`hot-95` or `hot-90` when its corrected p-value is below 0.01, 0.05 or 0.10 and
its neighbourhood is above the mean; `cold-*` likewise below it. Local Moran's
I (row-standardised weights, same inference) gives a second view: high-high
and low-low clusters, and high-low / low-high outliers.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
from esda import G_Local, Moran_Local
from libpysal.weights import Queen
from scipy.stats import false_discovery_control

PERMUTATIONS = 9_999
SEED = 20231
LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))
QUADRANTS = {1: "high-high", 2: "low-high", 3: "low-low", 4: "high-low"}
NOT_SIGNIFICANT = "not-significant"


def fdr(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values."""
    return (
        false_discovery_control(np.clip(p_values, 0, 1), method="bh") if p_values.size else p_values
    )


def two_sided(observed: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """Two-sided permutation p-values that count ties as at least as extreme, in both tails.

    esda's folded p-value counts a tie as "larger" and then folds, so a ward whose
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


def hotspots(
    wards: gpd.GeoDataFrame,
    column: str = "deri_score",
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Gi* and local Moran results per ward, aligned with `wards`' index."""
    out = pd.DataFrame(index=wards.index)
    out["gi_z"] = np.nan
    out["gi_p_fdr"] = np.nan
    out["hotspot"] = NOT_SIGNIFICANT
    out["lisa_p_fdr"] = np.nan
    out["lisa_cluster"] = NOT_SIGNIFICANT
    scored = wards[np.isfinite(wards[column].to_numpy(dtype=float))]
    if len(scored) < 5:
        return out
    with warnings.catch_warnings():
        # Islands (wards with no neighbour) are handled below; esda's notice that its
        # default p-value is directional does not apply: we double it to two-sided.
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        warnings.filterwarnings("ignore", message=".*islands.*")
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        with np.errstate(divide="ignore", invalid="ignore"):  # islands divide by zero in esda
            return _statistics(out, scored, column, permutations, seed)


def _statistics(
    out: pd.DataFrame, scored: gpd.GeoDataFrame, column: str, permutations: int, seed: int
) -> pd.DataFrame:
    weights = Queen.from_dataframe(scored, use_index=False)
    islands = np.array([weights.cardinalities[i] == 0 for i in range(len(scored))])
    y = scored[column].to_numpy(dtype=float)
    gi = G_Local(
        y,
        weights,
        transform="B",
        permutations=permutations,
        star=True,
        n_jobs=1,
        seed=seed,
        keep_simulations=True,
    )
    gi_p = fdr(two_sided(gi.Gs, gi.rGs))
    gi_p[islands] = 1.0  # a ward with no neighbours has no neighbourhood to test
    out.loc[scored.index, "gi_z"] = np.round(gi.Zs, 6)
    out.loc[scored.index, "gi_p_fdr"] = np.round(gi_p, 6)
    out.loc[scored.index, "hotspot"] = [
        _hot_or_cold(z, p) for z, p in zip(gi.Zs, gi_p, strict=True)
    ]
    weights.transform = "R"
    lisa = Moran_Local(
        y, weights, permutations=permutations, n_jobs=1, seed=seed, keep_simulations=True
    )
    lisa_p = fdr(two_sided(lisa.Is, lisa.rlisas))
    lisa_p[islands] = 1.0
    out.loc[scored.index, "lisa_p_fdr"] = np.round(lisa_p, 6)
    out.loc[scored.index, "lisa_cluster"] = [
        QUADRANTS[q] if p < 0.05 else NOT_SIGNIFICANT for q, p in zip(lisa.q, lisa_p, strict=True)
    ]
    return out


def _hot_or_cold(z: float, p: float) -> str:
    for threshold, confidence in LEVELS:
        if p < threshold:
            return f"{'hot' if z > 0 else 'cold'}-{confidence}"
    return NOT_SIGNIFICANT
