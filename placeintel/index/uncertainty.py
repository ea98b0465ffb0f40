"""How sure we are: how much each ward's rank depends on the choice of weights.

Every indicator and component weight is redrawn uniformly within +-50 % of its
setting (1,000 draws, seeded), the index is recomputed with exactly the same
method for each draw, and each ward gets: the 5th-95th percentile of its rank
(`deri_rank_low`/`deri_rank_high`), the share of draws that put it in the top
decile (`p_top_decile`), and a flag when its risk class (quintile) differs from
its class under the chosen weights in at least 10 % of draws (`weight_sensitive`).
Weights set to 0 stay 0: a choice to leave something out is not uncertain.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from placeintel.index.classes import risk_classes
from placeintel.index.deri import IndexSettings, combine, layout, ranks

DRAWS = 1_000
SPREAD = 0.5
SEED = 20231
SENSITIVE_SHARE = 0.10


def weight_uncertainty(
    wards: pd.DataFrame,
    settings: IndexSettings,
    draws: int = DRAWS,
    spread: float = SPREAD,
    seed: int = SEED,
) -> pd.DataFrame:
    """Rank interval, top-decile probability and weight sensitivity per ward."""
    scaled = wards[[c for c in wards.columns if c.endswith("_scaled")]]
    scaled.columns = [c.removesuffix("_scaled") for c in scaled.columns]
    plan = layout(scaled)
    rng = np.random.default_rng(seed)
    base_w = np.array([settings.indicator_weights[k] for k in plan.indicators], dtype=float)
    base_cw = np.array([settings.component_weights.get(c, 0) for c in plan.components], float)
    w = base_w * rng.uniform(1 - spread, 1 + spread, size=(draws, base_w.size))
    cw = base_cw * rng.uniform(1 - spread, 1 + spread, size=(draws, base_cw.size))
    _, deri = combine(scaled.to_numpy(dtype=float), plan, w, cw)  # (wards, draws)
    drawn_ranks = ranks(deri)
    scored = np.isfinite(wards["deri_score"].to_numpy(dtype=float))
    top = math.ceil(scored.sum() / 10)
    out = pd.DataFrame(index=wards.index)
    with np.errstate(invalid="ignore"):
        out["deri_rank_low"] = pd.array(
            np.round(np.nanpercentile(drawn_ranks, 5, axis=1)), dtype="Int64"
        )
        out["deri_rank_high"] = pd.array(
            np.round(np.nanpercentile(drawn_ranks, 95, axis=1)), dtype="Int64"
        )
    out["p_top_decile"] = np.round((drawn_ranks <= top).mean(axis=1), 4)
    default_class, _ = risk_classes(wards["deri_score"].to_numpy(dtype=float))
    moved = np.zeros(len(wards))
    for d in range(draws):
        drawn_class, _ = risk_classes(deri[:, d])
        moved += drawn_class != default_class
    out["weight_sensitive"] = (moved / draws >= SENSITIVE_SHARE) & scored
    out.loc[~scored, ["deri_rank_low", "deri_rank_high"]] = pd.NA
    out.loc[~scored, "p_top_decile"] = np.nan
    return out
