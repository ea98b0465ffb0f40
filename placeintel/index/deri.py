"""The DERI method, exactly: min-max to 0-10 within a base, weights within and across components.

Each indicator is scaled to 0-10 across the wards of its base (the region, each
local authority, or the nation through a reference release's ranges),
reversed where a higher value means lower risk. Indicator weights are
normalised within their component over the indicators a ward has, and
component weights over the components a ward has; so a missing value's weight
is shared among the rest, never counted as zero. A component with weight 0 is
still scored and shown, but does not enter `deri_score`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from placeintel.errors import DataError
from placeintel.indicators.catalogue import COMPONENTS, DEFAULT_COMPONENT_WEIGHTS, INDICATORS
from placeintel.sources.tables import check_file, read_bytes

BASES = ("region", "local-authority", "nation")


@dataclass(frozen=True)
class IndexSettings:
    """Weights, scaling base and (for `nation`) the reference ranges; defaults are DERI v1.4's."""

    base: str = "region"
    indicator_weights: dict[str, float] = field(
        default_factory=lambda: {i.key: i.default_weight for i in INDICATORS}
    )
    component_weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_COMPONENT_WEIGHTS)
    )
    reference_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference: str = ""

    @classmethod
    def with_overrides(
        cls,
        index: dict[str, Any],
        where: str,
        weights: dict[str, float] | None = None,
        base: str | None = None,
        reference: str | Path | None = None,
    ) -> IndexSettings:
        """A manifest's settings with overrides; `where` is the manifest path, so a relative
        `index.reference` in it still resolves against the manifest's folder."""
        return cls.from_manifest(_merge_overrides(index, weights, base, reference), where)

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
        kinds = {k: "indicator_weights" for k in weights} | {
            k: "component_weights" for k in components
        }
        for key, value in {**weights, **components}.items():
            if key not in defaults.indicator_weights and key not in defaults.component_weights:
                raise DataError(
                    f"unknown indicator or component {key!r}", file=where, field="index"
                )
            whole = isinstance(value, int | float) and float(value).is_integer()
            if not whole or not 0 <= value <= 10:
                raise DataError(
                    f"weight must be a whole number from 0 to 10 (as in DERI), got {value!r}",
                    file=where,
                    field=f"index.{kinds[key]}.{key}",
                )
        reference = str(settings.get("reference") or "")
        ranges: dict[str, tuple[float, float]] = {}
        if base == "nation" and reference:
            folder = Path(where).parent / reference if where.endswith(".yml") else Path(reference)
            ranges = reference_ranges(folder)
        # Without index.reference, the nation's ranges come from the manifest's `nation:`
        # files at build time (see index.reference); the build says if there are none.
        return cls(base, weights, components, ranges, reference)

    def needs_nation_files(self) -> bool:
        """True when the nation base has no ranges yet: they must come from `nation:` files."""
        return self.base == "nation" and not self.reference_ranges


def _merge_overrides(
    index: dict[str, Any],
    weights: dict[str, float] | None,
    base: str | None,
    reference: str | Path | None,
) -> dict[str, Any]:
    """A manifest's `index:` with weights (indicator or component, by name), base and reference
    overridden, as the CLI and the Python API both allow."""
    config = dict(index)
    components = DEFAULT_COMPONENT_WEIGHTS
    for kind, keep in (
        ("indicator_weights", lambda k: k not in components),
        ("component_weights", lambda k: k in components),
    ):
        config[kind] = {
            **(config.get(kind) or {}),
            **{k: v for k, v in (weights or {}).items() if keep(k)},
        }
    if base:
        config["base"] = base
    if reference:
        config["reference"] = str(Path(reference).resolve())
    return config


def reference_ranges(folder: Path) -> dict[str, tuple[float, float]]:
    """Each indicator's national minimum and maximum, from a published release.

    A release records its exact ranges in datapackage.json (over its published values, so
    that no blanked cell is among them); an older or foreign release falls back to its
    wards.csv.
    """
    try:
        return _reference_ranges(folder)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as error:
        # a hand-edited or foreign release: JSON that does not parse, ranges not numbers
        raise DataError(
            f"the reference release cannot be read: {str(error)[:200]}",
            file=folder,
            field="index.reference",
            hint="point index.reference at a release folder placeintel built",
        ) from None


def _reference_ranges(folder: Path) -> dict[str, tuple[float, float]]:
    package = folder / "datapackage.json"
    if package.is_file():
        check_file(package)  # a regular file within the size limit
        recorded = json.loads(read_bytes(package).decode("utf-8"))
        index = recorded.get("placeintel", {}).get("index", {})
        ranges = index.get("own_ranges") or index.get("ranges")  # "ranges" before 2026-11
        if ranges:
            return {key: (float(low), float(high)) for key, (low, high) in ranges.items()}
    table = folder / "wards.csv"
    if not table.is_file():
        raise DataError(
            "reference release has no wards.csv",
            file=folder,
            field="index.reference",
            hint="point index.reference at a release folder, e.g. releases/england/current",
        )
    check_file(table)
    wards = pd.read_csv(table)
    return {
        i.key: (float(wards[i.key].min()), float(wards[i.key].max()))
        for i in INDICATORS
        if i.key in wards and wards[i.key].notna().any()
    }


def indicator_ranges(wards: pd.DataFrame) -> dict[str, list[float]]:
    """What a release records so that it can serve as another build's `nation` reference."""
    return {
        i.key: [float(wards[i.key].min()), float(wards[i.key].max())]
        for i in INDICATORS
        if i.key in wards and wards[i.key].notna().any()
    }


@dataclass
class IndexResult:
    """Scores per ward, and an account of what the index was built from."""

    wards: pd.DataFrame
    used_indicators: list[str]
    missing_indicators: dict[str, str]
    used_components: list[str]
    missing_components: list[str]
    unweighted_components: list[str]
    effective_weights: dict[str, float]
    settings: IndexSettings
    #: Indicators scaled within the region under the nation base (weightless components).
    scaled_within_region: list[str] = field(default_factory=list)


def min_max(
    values: pd.Series, higher_is_worse: bool = True, bounds: tuple[float, float] | None = None
) -> pd.Series:
    """Scale to 0-10 (10 = highest risk); a constant indicator carries no information -> NaN."""
    low, high = bounds if bounds is not None else (values.min(), values.max())
    if not np.isfinite(low) or not np.isfinite(high) or high == low:
        return pd.Series(np.nan, index=values.index)
    scaled = (10 * (values - low) / (high - low)).clip(0, 10)
    return scaled if higher_is_worse else 10 - scaled


def scale(
    wards: pd.DataFrame, settings: IndexSettings
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Scaled 0-10 scores for every usable indicator, why the others are not used, and which
    were scaled within the region although the base is the nation.

    That last happens only to indicators of a component that weighs nothing (access to
    help, which DERI lacks and no national file covers): shown on the map, scaled within
    the region, never part of deri_score, and recorded as such.
    """
    scaled, missing, within_region = {}, {}, []
    for indicator in INDICATORS:
        if indicator.key not in wards:
            missing[indicator.key] = "no data"
            continue
        if settings.indicator_weights.get(indicator.key, 0) == 0:
            missing[indicator.key] = "weight is 0"
            continue
        values = wards[indicator.key].astype(float)
        worse = indicator.higher_is_worse
        if settings.base == "local-authority":
            result = values.groupby(wards["lad_code"]).transform(lambda v, w=worse: min_max(v, w))
        elif settings.base == "nation":
            bounds = settings.reference_ranges.get(indicator.key)
            if bounds is None and settings.component_weights.get(indicator.component, 0) == 0:
                within_region.append(indicator.key)
                result = min_max(values, worse)
            elif bounds is None:
                missing[indicator.key] = "not in the national reference"
                continue
            else:
                result = min_max(values, worse, bounds)
        else:
            result = min_max(values, worse)
        if values.isna().all():  # e.g. every value blanked by disclosure control
            missing[indicator.key] = "no value in any area"
            continue
        if result.isna().all():
            missing[indicator.key] = "the same value in every area, so it cannot rank them"
            continue
        scaled[indicator.key] = result
    return pd.DataFrame(scaled, index=wards.index), missing, within_region


@dataclass(frozen=True)
class Layout:
    """Which scaled columns belong to which component: fixed for a build, shared by every draw."""

    indicators: list[str]
    components: list[str]
    members: list[np.ndarray]  # per component, positions in `indicators`


def layout(scaled: pd.DataFrame) -> Layout:
    keys = list(scaled.columns)
    components, members = [], []
    for component in COMPONENTS:
        positions = [
            keys.index(i.key) for i in INDICATORS if i.component == component and i.key in keys
        ]
        if positions:
            components.append(component)
            members.append(np.array(positions))
    return Layout(keys, components, members)


def combine(
    values: np.ndarray, plan: Layout, weights: np.ndarray, component_weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Component scores and DERI for one or many weight sets at once.

    values: (wards, indicators) scaled 0-10 with NaN for missing;
    weights: (draws, indicators); component_weights: (draws, components).
    Returns components (components, wards, draws) and deri (wards, draws).

    Every sum is taken one term at a time, in catalogue order, with a rounded product
    before each addition, rather than by a matrix product: BLAS orders and fuses its
    additions differently on different processors, so a score could differ in its last
    bit between machines, and the map's live re-weighting (`maps/weights.py`), which
    repeats this arithmetic in the browser, could not match the build exactly.
    """
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    shape = (values.shape[0], weights.shape[0])
    components = np.empty((len(plan.components), *shape))
    term = np.empty(shape)
    for c, positions in enumerate(plan.members):
        numerator = np.zeros(shape)
        for position in positions:
            np.multiply(filled[:, position, None], weights[None, :, position], out=term)
            numerator += term
        denominator = _by_pattern(present[:, positions], weights[:, positions])
        with np.errstate(invalid="ignore", divide="ignore"):
            components[c] = np.where(denominator > 0, numerator / denominator, np.nan)
    has = ~np.isnan(components)  # (components, wards, draws)
    numerator = np.zeros(shape)
    for c in range(len(plan.components)):
        weight = component_weights[None, :, c] * has[c]  # (wards, draws)
        numerator += np.where(has[c], components[c], 0.0) * weight
    if len(plan.components) and shape[1] and (has == has[:, :, :1]).all():
        # A ward has a component in every draw or in none (weights are never drawn to 0)
        total = _by_pattern(has[:, :, 0].T, component_weights)
    else:
        total = np.zeros(shape)
        for c in range(len(plan.components)):
            total += component_weights[None, :, c] * has[c]
    with np.errstate(invalid="ignore", divide="ignore"):
        deri = np.where(total > 0, numerator / total, np.nan)
    return components, deri


def _by_pattern(present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(wards, draws): each ward's sum of the weights of what it has, one term at a time.

    Only which terms a ward has matters, and wards share a handful of such patterns, so
    each pattern's sums are made once (adding a weight of 0 for a missing term, exactly
    as the ward-by-ward sum does) and handed to its wards. present: (wards, terms);
    weights: (draws, terms)."""
    if present.shape[1] < 63:  # each row as the bits of one integer: a fast 1-d unique
        codes = present.astype(np.int64) @ (np.int64(1) << np.arange(present.shape[1]))
        _, first, which = np.unique(codes, return_index=True, return_inverse=True)
        patterns = present[first]
    else:
        patterns, which = np.unique(present, axis=0, return_inverse=True)
    sums = np.zeros((len(patterns), weights.shape[0]))
    for t in range(present.shape[1]):
        sums += patterns[:, t, None] * weights[None, :, t]
    return sums[which.reshape(-1)]


def ranks(scores: np.ndarray) -> np.ndarray:
    """Rank 1 = highest risk, ties share the best rank; NaN scores get no rank (NaN)."""
    # scipy.stats takes ~0.6 s to import; here, not at the top, it stays off the path to a
    # build's first stage (`IndexSettings`, from this module, is needed before it).
    from scipy.stats import rankdata

    out = rankdata(-np.where(np.isnan(scores), -np.inf, scores), method="min", axis=0).astype(float)
    out[np.isnan(scores)] = np.nan
    return out


def compute_index(
    wards: pd.DataFrame,
    settings: IndexSettings | None = None,
    missing: dict[str, str] | None = None,
) -> IndexResult:
    """Add scaled scores, component scores, `deri_score`, `deri_rank` and contributions."""
    settings = settings or IndexSettings()
    scaled, not_used, within_region = scale(wards, settings)
    missing = {**(missing or {}), **{k: v for k, v in not_used.items() if k not in (missing or {})}}
    plan = layout(scaled)
    weighted = [c for c in plan.components if settings.component_weights.get(c, 0) > 0]
    if not weighted:
        raise DataError(
            "no indicator could be computed, so there is no index to build",
            hint="check the manifest's sources: "
            + "; ".join(f"{k}: {v}" for k, v in list(missing.items())[:4]),
        )
    values = scaled.to_numpy(dtype=float)
    w = np.array([[settings.indicator_weights[k] for k in plan.indicators]], dtype=float)
    cw = np.array([[settings.component_weights.get(c, 0) for c in plan.components]], dtype=float)
    components, deri = combine(values, plan, w, cw)
    out = wards.copy()
    for key in plan.indicators:
        out[f"{key}_scaled"] = scaled[key].round(6)
    for c, component in enumerate(plan.components):
        out[f"{component}_score"] = np.round(components[c, :, 0], 6)
    out["deri_score"] = np.round(deri[:, 0], 6)
    out["deri_rank"] = pd.array(ranks(deri[:, 0]), dtype="Int64")
    _contributions(out, values, plan, w[0], cw[0], components[:, :, 0])
    effective = _effective_weights(plan, w[0], cw[0])
    return IndexResult(
        out,
        plan.indicators,
        {k: v for k, v in missing.items() if k not in plan.indicators},
        weighted,
        [c for c in COMPONENTS if c not in plan.components],
        [c for c in plan.components if c not in weighted],
        effective,
        settings,
        within_region,
    )


def _contributions(
    out: pd.DataFrame,
    values: np.ndarray,
    plan: Layout,
    w: np.ndarray,
    cw: np.ndarray,
    components: np.ndarray,
) -> None:
    """`<indicator>_contribution`: its share of this ward's deri_score; they sum to the score."""
    has = ~np.isnan(components)  # (components, wards)
    share = cw[:, None] * has
    share = np.divide(
        share, share.sum(axis=0), out=np.zeros_like(share), where=share.sum(axis=0) > 0
    )
    present = ~np.isnan(values)
    for c, positions in enumerate(plan.members):
        within = present[:, positions] * w[positions]
        totals = within.sum(axis=1, keepdims=True)
        within = np.divide(within, totals, out=np.zeros_like(within), where=totals > 0)
        for j, position in enumerate(positions):
            # An indicator the area lacks contributes nothing, and says so: blank, not 0.
            contribution = np.where(
                present[:, position],
                share[c] * within[:, j] * np.nan_to_num(values[:, position]),
                np.nan,
            )
            out[f"{plan.indicators[position]}_contribution"] = np.round(contribution, 6)


def _effective_weights(plan: Layout, w: np.ndarray, cw: np.ndarray) -> dict[str, float]:
    """Each indicator's share of the index for a ward with every value present."""
    effective = {}
    component_total = cw.sum()
    for c, positions in enumerate(plan.members):
        for position in positions:
            effective[plan.indicators[position]] = round(
                float(cw[c] / component_total * w[position] / w[positions].sum()), 6
            )
    return effective
