"""The published columns of the index layers (wards and LSOAs): their order and meaning.

One order and one set of descriptions serve both levels, so an analyst reading
`lsoas.csv` finds the same columns, meaning the same things, as in `wards.csv`.
"""

from __future__ import annotations

import pandas as pd

from placeintel.indicators.catalogue import COMPONENTS, INDICATORS, MEASURES

#: The identity columns of each level, in the order they are published.
KEYS = {
    "ward": ["ward_code", "ward_name", "lad_code", "lad_name"],
    "lsoa": ["lsoa21_code", "lsoa21_name", "ward_code", "ward_name", "lad_code", "lad_name"],
}
_ANALYSIS = [
    "deri_score",
    "deri_rank",
    "deri_rank_low",
    "deri_rank_high",
    "p_top_decile",
    "weight_sensitive",
    "hotspot",
    "hot_lsoa_share",
    "cold_lsoa_share",
    "lisa_cluster",
    "gi_z",
    "gi_p_fdr",
    "lisa_p_fdr",
]


def area_columns(frame: pd.DataFrame, level: str) -> list[str]:
    """Identity, score, components, indicators, scaled values, contributions, then counts."""
    head = [c for c in KEYS[level] + _ANALYSIS if c in frame]
    head += [f"{c}_score" for c in COMPONENTS if f"{c}_score" in frame]
    head += [i.key for i in INDICATORS if i.key in frame]
    head += [f"{i.key}_scaled" for i in INDICATORS if f"{i.key}_scaled" in frame]
    head += [f"{i.key}_contribution" for i in INDICATORS if f"{i.key}_contribution" in frame]
    rest = [c for c in frame.columns if c not in head and c != "geometry"]
    return head + rest + ["geometry"]


def descriptions(
    labels: dict[str, str],
    level: str,
    hotspot_rule: str,
    component_weights: dict[str, float] | None = None,
) -> dict[str, str]:
    """What each published column means; `labels` are the indicators' (edition-aware) labels."""
    unit = "ward" if level == "ward" else "LSOA"
    weights = component_weights or {}
    out = dict(MEASURES)
    out |= {
        f"{m}_suppressed": f"True where {m} was blanked by disclosure control (below the "
        "threshold, or so that another blanked count cannot be worked out)"
        for m in MEASURES
    }
    out |= {
        i.key: labels.get(i.key, i.label)
        + (
            "; the population-weighted mean of the ward's LSOAs"
            if i.weight and level == "ward"
            else ""
        )
        for i in INDICATORS
    }
    out |= {
        f"{i.key}_scaled": f"{labels.get(i.key, i.label)}, scaled 0-10 (10 = highest risk)"
        for i in INDICATORS
    }
    out |= {
        f"{i.key}_contribution": f"Points of deri_score contributed by {labels.get(i.key, i.label)}"
        for i in INDICATORS
    }
    out |= {
        f"{c}_score": f"{c.title()} component, 0 (low) to 10 (high risk)"
        + (" (weight 0: shown, not part of deri_score)" if weights.get(c, 1) == 0 else "")
        for c in COMPONENTS
    }
    out |= {
        "deri_score": "Digital Exclusion Risk Index, 0 (low) to 10 (high)",
        "deri_rank": f"Rank of deri_score among the region's {unit}s (1 = highest risk)",
        "deri_rank_low": f"5th percentile of the {unit}'s rank over 1,000 weightings (+-50 %)",
        "deri_rank_high": f"95th percentile of the {unit}'s rank over 1,000 weightings (+-50 %)",
        "p_top_decile": f"Share of the 1,000 weightings that put the {unit} in the top decile",
        "weight_sensitive": f"True if the {unit}'s risk quintile differs in >= 10 % of weightings",
        "hotspot": hotspot_rule,
        "hot_lsoa_share": "Share of the ward's residents living in LSOAs that are Gi* hot spots",
        "cold_lsoa_share": "Share of the ward's residents living in LSOAs that are Gi* cold spots",
        "lisa_cluster": "Local Moran's I cluster at 95 % after FDR: high-high, low-low, "
        "high-low, low-high or not-significant",
        "gi_z": f"Gi* z-score of the {unit}'s own deri_score among the region's {unit}s"
        + ("; the hotspot column comes from the ward's LSOAs instead" if unit == "ward" else ""),
        "gi_p_fdr": f"Gi* two-sided p-value from 9,999 conditional permutations among the "
        f"region's {unit}s, Benjamini-Hochberg adjusted",
        "lisa_p_fdr": "Local Moran two-sided permutation p-value, Benjamini-Hochberg adjusted",
    }
    return out
