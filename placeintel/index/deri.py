"""The DERI method, exactly: min-max to 0-10 within a base, weights within and across components.

Each indicator is scaled to 0-10 across the wards of its base (the whole region,
or each local authority), reversed where a higher value means lower risk.
Indicator weights are normalised within their component, and component
weights across components. Indicators or components with no data are reported
and their weight shared among the rest, never silently counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from placeintel.errors import DataError
from placeintel.indicators.catalogue import COMPONENTS, DEFAULT_COMPONENT_WEIGHTS, INDICATORS

BASES = ("region", "local-authority")


@dataclass(frozen=True)
class IndexSettings:
    """Weights and scaling base; defaults are GMCA's DERI v1.4 weights."""

    base: str = "region"
    indicator_weights: dict[str, float] = field(
        default_factory=lambda: {i.key: i.default_weight for i in INDICATORS}
    )
    component_weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_COMPONENT_WEIGHTS)
    )

    @classmethod
    def from_manifest(cls, settings: dict[str, Any], where: str = "region.yml") -> IndexSettings:
        """Read `index:` from a manifest, keeping defaults for anything it does not set."""
        defaults = cls()
        base = settings.get("base", defaults.base)
        if base not in BASES:
            raise DataError(
                f"unknown scaling base {base!r}",
                file=where,
                field="index.base",
                hint=f"one of {', '.join(BASES)}",
            )
        weights = {**defaults.indicator_weights, **(settings.get("indicator_weights") or {})}
        components = {**defaults.component_weights, **(settings.get("component_weights") or {})}
        for key, value in {**weights, **components}.items():
            if key not in defaults.indicator_weights and key not in defaults.component_weights:
                raise DataError(
                    f"unknown indicator or component {key!r}", file=where, field="index"
                )
            if not isinstance(value, int | float) or not 0 <= value <= 10:
                raise DataError(
                    f"weight must be a number from 0 to 10, got {value!r}",
                    file=where,
                    field=f"index.{key}",
                )
        return cls(base=base, indicator_weights=weights, component_weights=components)


@dataclass
class IndexResult:
    """Scores per ward, and an account of what the index was built from."""

    wards: pd.DataFrame
    used_indicators: list[str]
    missing_indicators: dict[str, str]
    used_components: list[str]
    missing_components: list[str]
    effective_weights: dict[str, float]
    settings: IndexSettings


def min_max(values: pd.Series, higher_is_worse: bool = True) -> pd.Series:
    """Scale to 0-10 (10 = highest risk); a constant indicator carries no information -> NaN."""
    low, high = values.min(), values.max()
    if not np.isfinite(low) or high == low:
        return pd.Series(np.nan, index=values.index)
    scaled = 10 * (values - low) / (high - low)
    return scaled if higher_is_worse else 10 - scaled


def compute_index(
    wards: pd.DataFrame,
    settings: IndexSettings | None = None,
    missing: dict[str, str] | None = None,
) -> IndexResult:
    """Add `<indicator>_scaled`, `<component>_score`, `deri_score` and `deri_rank` to wards."""
    settings = settings or IndexSettings()
    missing = dict(missing or {})
    out = wards.copy()
    used: list[str] = []
    groups = out.groupby("lad_code") if settings.base == "local-authority" else None
    for indicator in INDICATORS:
        if indicator.key not in out or settings.indicator_weights.get(indicator.key, 0) == 0:
            missing.setdefault(indicator.key, "weight is 0" if indicator.key in out else "no data")
            continue
        values = out[indicator.key].astype(float)
        if groups is not None:
            scaled = values.groupby(out["lad_code"]).transform(
                lambda v, worse=indicator.higher_is_worse: min_max(v, worse)
            )
        else:
            scaled = min_max(values, indicator.higher_is_worse)
        if scaled.isna().all():
            missing[indicator.key] = "the same value in every ward, so it cannot rank them"
            continue
        out[f"{indicator.key}_scaled"] = scaled.round(6)
        used.append(indicator.key)

    effective: dict[str, float] = {}
    used_components, missing_components = [], []
    for component in COMPONENTS:
        members = [i for i in INDICATORS if i.component == component and i.key in used]
        if not members or settings.component_weights.get(component, 0) == 0:
            missing_components.append(component)
            continue
        weights = np.array([settings.indicator_weights[i.key] for i in members], dtype=float)
        scaled = out[[f"{i.key}_scaled" for i in members]].to_numpy()
        present = ~np.isnan(scaled)
        # Per ward, a missing value's weight goes to the component's other indicators.
        weight_sum = (present * weights).sum(axis=1)
        component_score = np.where(
            weight_sum > 0,
            np.nansum(scaled * weights, axis=1) / np.where(weight_sum > 0, weight_sum, 1),
            np.nan,
        )
        out[f"{component}_score"] = np.round(component_score, 6)
        used_components.append(component)
        for indicator, weight in zip(members, weights / weights.sum(), strict=True):
            effective[indicator.key] = weight
    if not used_components:
        raise DataError(
            "no indicator could be computed, so there is no index to build",
            hint="check the manifest's sources: "
            + "; ".join(f"{k}: {v}" for k, v in list(missing.items())[:4]),
        )
    component_weights = np.array([settings.component_weights[c] for c in used_components], float)
    scores = out[[f"{c}_score" for c in used_components]].to_numpy()
    present = ~np.isnan(scores)
    total = (present * component_weights).sum(axis=1)
    out["deri_score"] = np.round(
        np.nansum(scores * component_weights, axis=1) / np.where(total > 0, total, np.nan), 6
    )
    out["deri_rank"] = out["deri_score"].rank(ascending=False, method="min").astype("Int64")
    shares = component_weights / component_weights.sum()
    for component, share in zip(used_components, shares, strict=True):
        for key in [i.key for i in INDICATORS if i.component == component and i.key in effective]:
            effective[key] = round(effective[key] * share, 6)
    return IndexResult(
        out,
        used,
        {k: v for k, v in missing.items() if k not in used},
        used_components,
        missing_components,
        effective,
        settings,
    )
