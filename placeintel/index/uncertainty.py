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

from placeintel.index.classes import CLASSES, risk_classes
from placeintel.index.deri import IndexSettings, layout
from placeintel.index.drawn import DrawnScores
from placeintel.index.flat import row_starts

DRAWS = 1_000
SPREAD = 0.5
SEED = 20231
SENSITIVE_SHARE = 0.10
#: Draws scored, ranked and classed at a time: (areas x CHUNK) arrays, not (areas x DRAWS)
#: ones (England's LSOAs x 1,000 draws is 280 MB per array, and the index makes several).
CHUNK = 50
#: Areas scored at a time within a chunk of draws: `combine` makes a dozen (areas x CHUNK)
#: temporaries; for England's LSOAs each is 14 MB, fresh pages the kernel must fault in on
#: every call, where 2,048 areas' (800 kB) stay in the allocator's heap and the cache.
ROWS = 2_048


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
    values = scaled.to_numpy(dtype=float)
    default_class, _ = risk_classes(wards["deri_score"].to_numpy(dtype=float))
    # Ranks are whole numbers below 2**24, exact in float32: half the memory of float64.
    drawn_ranks = np.empty((len(wards), draws), dtype=np.float32)
    moved = np.zeros(len(wards), dtype=np.int64)
    scored = np.isfinite(wards["deri_score"].to_numpy(dtype=float))
    top = math.ceil(scored.sum() / 10)
    in_top = np.zeros(len(wards), dtype=np.int64)  # draws that rank each area in the top decile
    scores = DrawnScores(values, plan, ROWS)
    for start in range(0, draws, CHUNK):
        part = slice(start, min(start + CHUNK, draws))
        # Each draw's scores depend on its own weights only: chunks give the same numbers.
        deri = scores.scores(w[part], cw[part])  # (wards, draws in the chunk)
        ranked, ascending = _ranks_and_order(deri)
        drawn_ranks[:, part] = ranked
        in_top += (top >= ranked.T).sum(axis=0)  # along the draws' rows: contiguous
        moved += _class_changes(deri, ascending, default_class)
    out = pd.DataFrame(index=wards.index)
    low, high = _rank_interval(drawn_ranks)
    out["deri_rank_low"] = pd.array(np.round(low), dtype="Int64")
    out["deri_rank_high"] = pd.array(np.round(high), dtype="Int64")
    # The mean of the draws' hits, as (drawn_ranks <= top).mean(axis=1) takes it: their
    # count (exact in float64) over the number of draws.
    with np.errstate(invalid="ignore", divide="ignore"):
        out["p_top_decile"] = np.round(in_top / draws, 4)
    out["weight_sensitive"] = (moved / draws >= SENSITIVE_SHARE) & scored
    out.loc[~scored, ["deri_rank_low", "deri_rank_high"]] = pd.NA
    out.loc[~scored, "p_top_decile"] = np.nan
    return out


def _rank_interval(drawn_ranks: np.ndarray, rows: int = 2_000) -> tuple[np.ndarray, np.ndarray]:
    """Each area's 5th and 95th percentile rank over the draws (NaN when never ranked).

    np.nanpercentile along rows runs a Python function per row; an area is ranked in
    every draw or in none (its weights are never drawn to 0), so the rows ranked in
    every draw are interpolated at once (`_percentiles`: np.percentile's numbers from one
    sort of the rows)."""
    n = len(drawn_ranks)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    missing = np.isnan(drawn_ranks).any(axis=1)
    complete = np.flatnonzero(~missing)
    for start in range(0, len(complete), rows):
        chunk = complete[start : start + rows]
        low[chunk], high[chunk] = _percentiles(drawn_ranks[chunk], PERCENTILES)
    partial = np.flatnonzero(missing & ~np.isnan(drawn_ranks).all(axis=1))
    if partial.size:  # not expected (see above), but kept exact if it happens
        ranked = drawn_ranks[partial].astype(float)
        low[partial], high[partial] = np.nanpercentile(ranked, PERCENTILES, axis=1)
    return low, high


#: The rank interval's percentiles.
PERCENTILES = (5, 95)


def _percentiles(rows: np.ndarray, percents: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """np.percentile(rows.astype(float), percents, axis=1) ("linear") for rows without NaN.

    np.percentile moves the axis to the front and partitions a float64 copy along it;
    here the rows are sorted along their own axis, in their own dtype (float32 ranks
    are exact), which NumPy's SIMD sort does three times faster than either partition
    (2,000 rows of 1,000 ranks: 12 ms against 36 ms), and NumPy's own interpolation is
    applied to the same order statistics, term for term (`_lerp` in
    numpy/lib/_function_base_impl.py): the same floats.
    """
    count = rows.shape[1]
    if count < 2:
        return tuple(np.percentile(rows.astype(float), percents, axis=1))
    # As NumPy's "linear" method: virtual index (n - 1) * q, its floor and the next one.
    virtual = (count - 1) * (np.asarray(percents, dtype=float) / 100)
    previous = np.floor(virtual).astype(np.intp)
    following = np.minimum(previous + 1, count - 1)
    gamma = virtual - previous
    ordered = np.sort(rows, axis=1)
    out = []
    for k, below, above in zip(gamma, previous, following, strict=True):
        a, b = ordered[:, below].astype(float), ordered[:, above].astype(float)
        step = b - a
        value = a + step * k
        if k >= 0.5:  # NumPy's _lerp: from the upper bound when nearer it
            value = b - step * (1 - k)
        out.append(value)
    return tuple(out)


def _ranks_and_order(deri: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """`deri.ranks` of each draw (a column of `deri`), and each draw's finite scores in
    ascending order (draws x scored areas), from one sort per draw.

    scipy's rankdata spends half its time beyond the sort, and the quintile bounds would
    sort every draw again; here one argsort of each draw serves both. The order is None
    when draws score different numbers of areas (see `_class_changes`)."""
    unranked = np.isnan(deri)
    # As deri.ranks: rank 1 = highest; a NaN sorts last (as -inf), then gets no rank.
    keys = np.ascontiguousarray(-np.where(unranked, -np.inf, deri).T)  # (draws, areas)
    order = np.argsort(keys, axis=1)
    order += row_starts(*keys.shape)  # flat positions: one `take`, one assignment
    ordered = keys.take(order)
    first = np.ones(ordered.shape, dtype=bool)
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=first[:, 1:])
    # Ranks are whole numbers below 2**24: exact in float32, the caller's store's type.
    ranked = np.empty(keys.shape, dtype=np.float32)
    if first.all():  # no ties (as usual): the ranks are the positions plus one
        ranked.ravel()[order] = np.arange(1, keys.shape[1] + 1, dtype=np.float32)
    else:
        position = np.where(first, np.arange(ordered.shape[1]), 0)
        np.maximum.accumulate(position, axis=1, out=position)  # ties share the first one
        ranked.ravel()[order] = (position + 1).astype(np.float32)
    ranked[unranked.T] = np.nan
    scored = (~unranked).sum(axis=0)
    if deri.shape[1] == 0 or not (scored == scored[0]).all():
        return ranked.T, None
    # Negating back is exact: the finite scores, highest first, reversed.
    return ranked.T, -ordered[:, scored[0] - 1 :: -1] if scored[0] else ordered[:, :0]


def _quintile_bounds(ascending: np.ndarray) -> np.ndarray:
    """Each draw's (row's) class bounds as mapclassify's quantiles compute them: scipy's
    scoreatpercentile at 20, 40, ... 100 % ("fraction" interpolation), term for term,
    on rows already sorted. Returns (CLASSES, draws)."""
    size = ascending.shape[1]
    step = 100.0 / CLASSES
    percents = np.arange(step, 100 + step, step)  # as mapclassify.classifiers.quantile
    percents[-1] = min(percents[-1], 100.0)
    bounds = []
    for per in percents:
        idx = per / 100.0 * (size - 1)
        i = int(idx)
        if i == idx:
            bounds.append(ascending[:, i] * np.array(1) / 1.0)
        else:
            weights = np.array([(i + 1 - idx), (idx - i)], float)
            pair = ascending[:, i] * weights[0] + ascending[:, i + 1] * weights[1]
            bounds.append(pair / weights.sum())
    return np.array(bounds)


def _class_changes(
    deri: np.ndarray, ascending: np.ndarray | None, default_class: np.ndarray
) -> np.ndarray:
    """Per area, in how many of these draws its risk class differs from `default_class`.

    The classes are `risk_classes`' (mapclassify's quantiles, duplicate bounds dropped,
    an area in the first class whose bound it does not exceed), for all draws at once:
    calling mapclassify once per draw spent most of its time on summaries the build
    never reads. `ascending` is each draw's finite scores in order (`_ranks_and_order`)."""
    finite = np.isfinite(deri)
    if ascending is None or not (finite == finite[:, :1]).all():  # one by one
        return sum(
            (risk_classes(deri[:, d])[0] != default_class).astype(np.int64)
            for d in range(deri.shape[1])
        )
    rows = finite[:, 0] if deri.shape[1] else finite.any(axis=1)
    if rows.sum() < CLASSES:  # no classes drawn: every area is unclassed (-1)
        return (default_class != -1).astype(np.int64) * deri.shape[1]
    y = deri if rows.all() else deri[rows]  # no copy in the usual case
    bounds = np.sort(_quintile_bounds(ascending), axis=0)
    distinct = np.ones(bounds.shape, dtype=bool)
    distinct[1:] = bounds[1:] != bounds[:-1]
    # Classes are 0-4 (-1 unclassed): int8 counts and one reused mask, an eighth of the
    # memory traffic of int64 counts and fresh masks.
    counted = np.zeros(y.shape, dtype=np.int8)
    above = np.empty(y.shape, dtype=bool)
    for bound, keep in zip(bounds, distinct, strict=True):
        np.greater(y, bound, out=above)
        above &= keep
        counted += above
    if rows.all():
        return (counted != default_class.astype(np.int8)[:, None]).sum(axis=1)
    classes = np.full(deri.shape, -1)
    classes[rows] = counted
    return (classes != default_class[:, None]).sum(axis=1)
