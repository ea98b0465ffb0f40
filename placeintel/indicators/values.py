"""Indicator values from counts, for one area or rolled up from LSOAs to wards.

One function serves both levels, so an LSOA and its ward are computed by the
same arithmetic. A ward's ratio is (sum of its LSOAs' numerators) / (sum of
their denominators), a ward's score or rate is the population-weighted mean of
its LSOAs'; both are taken over the LSOAs that have *both* parts, so a
suppressed numerator (IoD2025 blanks small counts) leaves its LSOA out of the
ward's ratio rather than counting as zero against a full denominator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeintel.indicators.catalogue import INDICATORS, SUBSTITUTES, Indicator


@dataclass(frozen=True)
class Resolution:
    """Which indicators a level can use, and why the others are not used."""

    used: list[str]
    missing: dict[str, str]
    #: Substitutes whose official indicators are available, so they are not needed.
    not_needed: dict[str, str]


def inputs(indicator: Indicator) -> list[str]:
    """The measures an indicator is computed from."""
    parts = [indicator.numerator, indicator.denominator, indicator.weight]
    return [p for p in parts if p]


def resolve(measures: set[str] | pd.Index) -> Resolution:
    """Official indicators where their inputs exist; a substitute only where none of the
    indicators it stands for can be computed."""
    present = set(measures)
    computable = {i.key for i in INDICATORS if set(inputs(i)) <= present}
    used, missing, not_needed = [], {}, {}
    for indicator in INDICATORS:
        if indicator.substitute_for:
            official = [k for k in indicator.substitute_for if k in computable]
            if official:
                not_needed[indicator.key] = f"not needed: {', '.join(official)} available"
                continue
        if indicator.key in computable:
            used.append(indicator.key)
            continue
        absent = [m for m in inputs(indicator) if m not in present]
        reason = f"no source provides {', '.join(absent)}"
        stand_ins = [s for s in SUBSTITUTES.get(indicator.key, []) if s in computable]
        if stand_ins:
            reason += f"; {', '.join(stand_ins)} stands in"
        if indicator.substitute_for:
            not_needed[indicator.key] = reason
        else:
            missing[indicator.key] = reason
    return Resolution(used, missing, not_needed)


def indicator_values(
    counts: pd.DataFrame, keys: list[str], groups: pd.Series | None = None
) -> pd.DataFrame:
    """Each indicator in `keys` per row of `counts`, or per group when `groups` maps rows
    (LSOAs) to wards."""
    columns = {}
    for indicator in (i for i in INDICATORS if i.key in keys):
        numerator = counts[indicator.numerator].astype(float)
        if indicator.denominator:
            part = counts[indicator.denominator].astype(float)
        elif indicator.weight:
            part = counts[indicator.weight].astype(float)
        else:
            part = None
        if part is None:
            value = numerator if groups is None else _sum(numerator, groups)
        elif groups is None:
            value = numerator / part.where(part > 0) if indicator.denominator else numerator
        else:
            both = numerator.notna() & part.notna() & (part > 0)
            top = numerator if indicator.denominator else numerator * part
            total = _sum(part.where(both), groups)
            value = _sum(top.where(both), groups) / total.where(total > 0)
        columns[indicator.key] = (indicator.scale * value).round(6)
    index = counts.index if groups is None else pd.Index(sorted(set(groups.dropna())))
    return pd.DataFrame(columns, index=index).reindex(columns=[k for k in keys if k in columns])


def _sum(values: pd.Series, groups: pd.Series) -> pd.Series:
    return values.groupby(groups.reindex(values.index).to_numpy()).sum(min_count=1)


def rolled_counts(
    counts: pd.DataFrame, groups: pd.Series, rates: list[str] | None = None
) -> pd.DataFrame:
    """Each count summed over the LSOAs of each ward (published beside the indicators).

    Scores and rates are not counts: they are left out (an indicator made from one is a
    weighted mean, computed by `indicator_values`).
    """
    not_counts = {i.numerator for i in INDICATORS if i.weight} | set(rates or [])
    columns = [c for c in counts.columns if c not in not_counts]
    summed = counts[columns].groupby(groups.reindex(counts.index).to_numpy()).sum(min_count=1)
    return summed.astype(float).where(np.isfinite(summed.astype(float)))
