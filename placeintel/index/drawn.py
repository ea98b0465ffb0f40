"""`deri.combine`'s DERI for many weight draws over fixed values, the same numbers for less work.

The weight Monte Carlo (`uncertainty.py`) scores the same areas for 1,000 weight sets, a
block of areas and a chunk of draws at a time. `combine` works out afresh, for every
block and chunk, what depends only on the values (which indicators each area has, their
patterns, NaN as 0), and combines the components through masks (`np.where(has, ...) *
(weight * has)`, a total `> 0` test) that cost four or five passes over a (areas x
draws) array per component even where every area has every component, as nearly all
do. Here what depends on the values is prepared once per block of areas, a component
every area of the block has is added with one product and one addition, exactly the
terms `combine` adds, and a component that weighs 0 in every draw (access, by default)
is left out, as adding its +-0 terms changes nothing; any other component, or a block
where a total is not positive, takes `combine`'s own expressions. Each number is
therefore the result of the same floating-point operations in the same order as
`combine`'s (tests/index/test_drawn.py compares them bit for bit, sign of zero included).
CPU for 1,000 draws, national synthetic region: LSOAs 1.6-2.2 s with `combine`, 0.7 s
here; wards 0.6 and 0.2 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from placeintel.index.deri import Layout, combine


@dataclass(frozen=True)
class _Patterns:
    """Which of a few terms each area has, as distinct patterns and each area's pattern."""

    patterns: np.ndarray  # (distinct patterns, terms) bool
    which: np.ndarray  # (areas,) the pattern of each area

    @classmethod
    def of(cls, present: np.ndarray) -> _Patterns:
        """As `deri._by_pattern` finds them (the set of patterns; their order does not
        change the sums each area gets)."""
        if present.shape[1] < 63:
            codes = present.astype(np.int64) @ (np.int64(1) << np.arange(present.shape[1]))
            _, first, which = np.unique(codes, return_index=True, return_inverse=True)
            return cls(present[first], which.reshape(-1))
        patterns, which = np.unique(present, axis=0, return_inverse=True)
        return cls(patterns, which.reshape(-1))

    def sums(self, weights: np.ndarray) -> np.ndarray:
        """(patterns, draws): `deri._by_pattern`'s sums, one term at a time from 0."""
        sums = np.zeros((len(self.patterns), weights.shape[0]))
        for t in range(self.patterns.shape[1]):
            sums += self.patterns[:, t, None] * weights[None, :, t]
        return sums


@dataclass(frozen=True)
class _Block:
    """What `combine` derives from one block of areas' values alone."""

    rows: slice
    values: np.ndarray  # (areas, indicators) scaled, NaN where missing
    filled: np.ndarray  # (areas, indicators) NaN as 0
    bounded: bool  # every value NaN or within +-BOUND (see `_bounded`)
    members: list[_Patterns]  # per component, the patterns of its indicators


#: Values and weights within +-BOUND, and nonzero weights at least 1 / BOUND: a product is
#: then below 1e200, a sum of up to 63 of them finite, and a component (a sum over a sum
#: of weights) below 1e302, finite: no infinity, so no NaN that combine's masks would
#: catch and the shortcuts here would not.
BOUND = 1e100


def _bounded(array: np.ndarray) -> bool:
    size = np.abs(array)
    return bool(((size <= BOUND) & ((size == 0) | (size >= 1 / BOUND))).all())


class DrawnScores:
    """DERI (areas, draws) for chunks of weight draws on one level's scaled values."""

    def __init__(self, values: np.ndarray, plan: Layout, rows: int) -> None:
        self.plan = plan
        self.areas = values.shape[0]
        self.blocks = []
        for start in range(0, values.shape[0], rows):
            part = values[start : start + rows]
            present = ~np.isnan(part)
            self.blocks.append(
                _Block(
                    slice(start, start + rows),
                    part,
                    np.where(present, part, 0.0),
                    _bounded(part[present]),
                    [_Patterns.of(present[:, positions]) for positions in plan.members],
                )
            )

    def scores(self, weights: np.ndarray, component_weights: np.ndarray) -> np.ndarray:
        """`combine(values, plan, weights, component_weights)[1]`, block by block."""
        deri = np.empty((self.areas, weights.shape[0]))
        bounded = _bounded(weights) and _bounded(component_weights)
        for block in self.blocks:
            if bounded and block.bounded:
                deri[block.rows] = self._block(block, weights, component_weights)
            else:  # where a sum could overflow, combine's masks decide
                deri[block.rows] = combine(block.values, self.plan, weights, component_weights)[1]
        return deri

    def _block(self, block: _Block, weights: np.ndarray, cw: np.ndarray) -> np.ndarray:
        plan = self.plan
        shape = (block.filled.shape[0], weights.shape[0])
        term = np.empty(shape)
        components, has = [], []
        for c, (positions, patterns) in enumerate(zip(plan.members, block.members, strict=True)):
            if not cw[:, c].any():
                # combine adds where(has, component, 0) * (0 * has): +-0 (the component
                # is finite, see `_bounded`) to a sum that starts at +0 and so is never
                # -0, which leaves it as it is; likewise 0 * has to the total.
                components.append(None)
                has.append(None)
                continue
            numerator = np.zeros(shape)
            for position in positions:
                np.multiply(block.filled[:, position, None], weights[None, :, position], out=term)
                numerator += term
            sums = patterns.sums(weights[:, positions])
            if (sums > 0).all():  # every pattern is some area's
                # No NaN: the numerator is finite (see `_bounded`), the denominator
                # positive; so combine's `has` is true throughout.
                numerator /= sums[patterns.which]
                components.append(numerator)
                has.append(None)
            else:
                denominator = sums[patterns.which]
                with np.errstate(invalid="ignore", divide="ignore"):
                    component = np.where(denominator > 0, numerator / denominator, np.nan)
                components.append(component)
                has.append(~np.isnan(component))
        numerator = np.zeros(shape)
        for c, component in enumerate(components):
            if component is None:
                continue
            if has[c] is None:  # combine's where(has, component, 0) * (cw * has), has all true
                np.multiply(component, cw[None, :, c], out=term)
                numerator += term
            else:
                weight = cw[None, :, c] * has[c]
                numerator += np.where(has[c], component, 0.0) * weight
        total = self._total(shape, has, cw)  # (areas, draws), or (1, draws) for all areas
        if (total > 0).all():
            numerator /= total
            return numerator
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, numerator / total, np.nan)

    def _total(
        self, shape: tuple[int, int], has: list[np.ndarray | None], cw: np.ndarray
    ) -> np.ndarray:
        """combine's sum of the weights of the components each area has, per draw: the
        same sums, made once for each pattern of components (one row when every area
        has every component)."""
        if not has or not shape[1]:
            return np.zeros(shape)
        if all(h is None for h in has):
            return _Patterns(np.ones((1, len(has)), dtype=bool), np.zeros(1, np.intp)).sums(cw)
        masks = [np.ones(shape, dtype=bool) if h is None else h for h in has]
        if all((m == m[:, :1]).all() for m in masks):
            first = np.stack([m[:, 0] for m in masks], axis=1)  # (areas, components)
            patterns = _Patterns.of(first)
            return patterns.sums(cw)[patterns.which]
        total = np.zeros(shape)
        for c, mask in enumerate(masks):
            total += cw[None, :, c] * mask
        return total
