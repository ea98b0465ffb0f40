"""Conditional permutation tail counts, streamed: esda's draws without esda's N x P matrix.

esda's conditional randomisation (`esda.crand`) draws one matrix of random neighbour
positions from the seed, `permutations` rows of `max_neighbours` positions among the
other n - 1 areas, and reuses it for every area: area i's r-th simulated neighbourhood
is the first `cardinality(i)` positions of row r, read in the values with area i left
out. To test two-sided with ties counted in both tails, the build used to keep every
simulated statistic (`keep_simulations=True`: n x permutations floats, 2.8 GB per
statistic for England's 35,316 LSOAs) only to count, per area, how many lie at or
above and at or below the observed value.

This module counts those tails directly from the same draws (esda's
`vec_permutations`' own calls, so the same seed gives the same permutations, and the
global NumPy random state is left where esda leaves it), a block of areas at a time, so
memory is `permutations x block` floats whatever the region's size. Within a block
the neighbourhood sums for every area and permutation are one matrix product; the
few drawn positions that fall inside the block itself, where "left out" shifts the
value read by one, are corrected afterwards. esda's numba kernel does this area by
area; without numba that loop is pure Python (110 s nationally), and numba would be
a large dependency for one statistic, so the vectorised form is written here.

Sums are taken in a different order from esda's dot products, so a simulated value
can differ from esda's in its last bits; the counts use the same relative tolerance as
`hotspots.two_sided` (1e-9), far above that rounding, so they are the same counts
(tests/index/test_permutation.py compares them with esda's kept simulations).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy import sparse

from placeintel.index.draws import draw_rows
from placeintel.index.flat import row_starts

#: Most areas per block: a block holds permutations x BLOCK floats (20 MB for 9,999).
BLOCK = 256
#: Relative tolerance within which a simulated statistic ties with the observed one.
TIE = 1e-9

Statistic = Literal["gi_star", "moran"]


def permuted_ids(
    n: int, max_neighbours: int, permutations: int, seed: int, leave_state: bool = True
) -> np.ndarray:
    """esda's (permutations, max_neighbours) random positions among the other n - 1 areas.

    esda's `vec_permutations` (without numba, as here) seeds NumPy's global random state
    and draws each row with its legacy `choice`; `draws.draw_rows` makes the same calls on
    a `RandomState` of its own, so two levels' draws may run on two threads at once. With
    `leave_state` the global state is then set where esda leaves it, for seedless code
    that goes on to use it (mapclassify's natural breaks); the caller whose draws esda
    would have made last leaves it."""
    ids, state = draw_rows(n, max_neighbours, permutations, seed)
    if leave_state:
        np.random.set_state(state)
    return ids


def neighbour_weights(weights: sparse.sparray | sparse.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Each area's self weight and its other weights laid out by neighbour position,
    as esda's crand reads them: (n,) self weights and (max_neighbours, n) others, zero-
    padded. An island (no neighbour) gets self weight 0 and no other weight, as in esda
    with island_weight=0, so its every simulated statistic is 0."""
    adjacency = sparse.csr_array(weights, dtype=float, copy=True)
    own = adjacency.diagonal()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    cardinality = np.diff(adjacency.indptr)
    rows = np.repeat(np.arange(adjacency.shape[0]), cardinality)
    position = np.arange(adjacency.nnz) - np.repeat(adjacency.indptr[:-1], cardinality)
    others = np.zeros((int(cardinality.max(initial=0)), adjacency.shape[0]))
    others[position, rows] = adjacency.data
    return np.where(cardinality == 0, 0.0, own), others


def tail_counts(
    statistic: Statistic,
    observed: np.ndarray,
    z: np.ndarray,
    own: np.ndarray,
    others: np.ndarray,
    scaling: float,
    ids: np.ndarray,
    block: int = BLOCK,
    every_pair: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per area, how many simulated statistics are >= and <= the observed one (within TIE).

    `statistic` is esda's conditional-randomisation formula for Gi* ("gi_star":
    (sum + own * z_i) / scaling) or local Moran ("moran": z_i * (sum + own * z_i) *
    scaling), where sum is the weighted sum of the drawn neighbours' z; `own` and
    `others` come from `neighbour_weights`, `ids` from `permuted_ids`. Equal weights
    within each area (the hot spots' binary and row-standardised ones) take the sorted
    route (`_SortedTails`); `every_pair` computes every simulated statistic instead, as
    other weights do.
    """
    n = len(z)
    observed = np.asarray(observed, dtype=float)
    slack = TIE * np.maximum(1.0, np.abs(observed))
    at_least, at_most = observed - slack, observed + slack
    ids = ids[:, : others.shape[0]]
    sums = _NeighbourSums(z, others, ids)
    own_term = own * z
    # A block's own work (one gather, running sums and sort of permutations x neighbours)
    # is the same whatever its size, its in-block corrections grow as that x block^2 / n:
    # the total, n / block x (1 + block^2 / n), is least near block = sqrt(n). Measured
    # nationally (CPU, Gi* tails): 7,047 wards 1.09 s at 220 areas a block, 0.44 s at 84;
    # 35,316 LSOAs 1.0-1.1 s at 141-256.
    block = int(np.clip(np.sqrt(n), 16, block))
    finite = np.isfinite(scaling) and scaling != 0 and np.isfinite(z).all()
    if sums.uniform and finite and not every_pair:
        tails = _SortedTails(statistic, z, own_term, scaling, sums)
        return tails.counts(at_least, at_most, block)
    upper = np.zeros(n, dtype=np.int64)
    lower = np.zeros(n, dtype=np.int64)
    values = np.empty((len(ids), block))  # reused: fresh pages for every block cost more
    hits = np.empty((len(ids), block), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for start in range(0, n, block):
            stop = min(start + block, n)
            area = slice(start, stop)
            simulated, found = values[:, : stop - start], hits[:, : stop - start]
            sums.fill(simulated, start, stop)
            # esda's arithmetic, in its order, in place
            simulated += own_term[area]
            if statistic == "gi_star":
                simulated /= scaling
            else:
                simulated *= z[area]
                simulated *= scaling
            np.greater_equal(simulated, at_least[area], out=found)
            upper[area] = np.count_nonzero(found, axis=0)
            np.less_equal(simulated, at_most[area], out=found)
            lower[area] = np.count_nonzero(found, axis=0)
    return upper, lower


class _NeighbourSums:
    """Each area's weighted sum of its drawn neighbours' z, for every permutation.

    Area i reads drawn position j as z[j] below i and z[j + 1] from i on (itself left
    out). For a block of areas, positions before the block are below every area in it
    and positions after it above, so one gather serves the whole block; positions inside
    the block are read as z[j + 1] and put right afterwards for the areas above them.
    When each area's neighbours weigh the same (binary or row-standardised weights, the
    only ones the hot spots use), the sum over an area's first c positions is a column
    of the running sums along the draws' rows, times that weight; otherwise a matrix
    product.
    """

    def __init__(self, z: np.ndarray, others: np.ndarray, ids: np.ndarray) -> None:
        self.z, self.others, self.ids = z, others, ids
        self.count = np.count_nonzero(others, axis=0)
        first = others[0] if len(others) else np.zeros(others.shape[1])
        self.uniform = bool(np.all((others == first) | (others == 0)))
        self.weight = first
        self.binary = self.uniform and bool(np.all((first == 1) | (self.count == 0)))

    def fill(self, out: np.ndarray, start: int, stop: int) -> None:
        """Write the sums of areas start..stop into out (permutations, stop - start)."""
        ids, z = self.ids, self.z
        shifted = ids >= start
        drawn = z[ids + shifted]
        if self.uniform:
            running = np.zeros((len(ids), ids.shape[1] + 1))
            np.cumsum(drawn, axis=1, out=running[:, 1:])
            np.take(running, self.count[start:stop], axis=1, out=out)
            if not self.binary:
                out *= self.weight[start:stop]
        else:
            np.matmul(drawn, self.others[:, start:stop], out=out)
        draw, slot = np.nonzero(shifted & (ids < stop))
        if draw.size:  # already in draw order: np.nonzero walks the rows in order
            position = ids[draw, slot]
            above = np.arange(start, stop)[None, :] > position[:, None]
            change = (z[position] - z[position + 1])[:, None] * self.others[slot, start:stop]
            change *= above
            rows, first = np.unique(draw, return_index=True)
            out[rows] += np.add.reduceat(change, first, axis=0)


class _SortedTails:
    """Tail counts without simulating every (area, permutation) pair.

    With equal weights within each area, area i's sums for a block are one column of
    the running sums (the one for its number of neighbours), the same column for every
    area in the block with that many neighbours, except at the few draws that the
    in-block shift corrects. esda's statistic is a monotone function of the sum (an
    addition, then a division or multiplications by constants: rounding keeps order), so
    how many permutations reach a threshold is found by bisection in that column, sorted
    once per block; the corrected draws then move the counts one by one. Same counts as
    evaluating every pair (tests/index/test_permutation.py checks both against esda).
    """

    def __init__(
        self,
        statistic: Statistic,
        z: np.ndarray,
        own_term: np.ndarray,
        scaling: float,
        sums: _NeighbourSums,
    ) -> None:
        self.statistic, self.z, self.own_term, self.scaling = statistic, z, own_term, scaling
        self.sums = sums

    def _weighted(self, x: np.ndarray, areas: np.ndarray) -> np.ndarray:
        return x if self.sums.binary else x * self.sums.weight[areas]

    def _statistic(self, sums: np.ndarray, areas: np.ndarray) -> np.ndarray:
        """esda's statistic from the weighted sums of `areas`, in esda's order."""
        if self.statistic == "gi_star":
            return (sums + self.own_term[areas]) / self.scaling
        return self.z[areas] * (sums + self.own_term[areas]) * self.scaling

    def counts(
        self, at_least: np.ndarray, at_most: np.ndarray, block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.z)
        upper = np.zeros(n, dtype=np.int64)
        lower = np.zeros(n, dtype=np.int64)
        columns = _SortedColumns(self.sums.ids)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for start in range(0, n, block):
                stop = min(start + block, n)
                self._block(start, stop, at_least, at_most, upper, lower, columns)
        return upper, lower

    def _block(
        self,
        start: int,
        stop: int,
        at_least: np.ndarray,
        at_most: np.ndarray,
        upper: np.ndarray,
        lower: np.ndarray,
        columns: _SortedColumns,
    ) -> None:
        ids, z = self.sums.ids, self.z
        draws = len(ids)
        areas = np.arange(start, stop)
        shifted = ids >= start
        running = np.zeros((draws, ids.shape[1] + 1))
        np.cumsum(z[ids + shifted], axis=1, out=running[:, 1:])
        count = self.sums.count[areas]
        ordered = columns.sorted(running, start)  # (neighbour counts, draws), rows sorted

        def at(k: np.ndarray) -> np.ndarray:  # each area's statistic at sorted position k
            return self._statistic(self._weighted(ordered[count, k], areas), areas)

        rising = at(np.full(len(areas), draws - 1)) >= at(np.zeros(len(areas), dtype=int))
        low, high = at_least[areas], at_most[areas]
        # A rising statistic reaches `low` from some position on: count the rest; a
        # falling one up to some position. Likewise for `high` from the other side.
        size = len(areas)

        def reached(k: np.ndarray) -> np.ndarray:  # both bisections at once: (2, areas)
            value = at(k)
            return np.stack(
                [
                    np.where(rising, value[0] >= low, value[0] < low),
                    np.where(rising, value[1] > high, value[1] <= high),
                ]
            )

        first = _first_true(reached, draws, (2, size))
        upper[areas] = np.where(rising, draws - first[0], first[0])
        lower[areas] = np.where(rising, first[1], draws - first[1])
        draw, slot = np.nonzero(shifted & (ids < stop))
        if not draw.size:
            return
        position = ids[draw, slot]
        weights = self.sums.others[slot, start:stop]
        above = areas[None, :] > position[:, None]
        change = (z[position] - z[position + 1])[:, None] * weights * above
        rows, delta, moved = _per_draw(draw, change, (weights != 0) & above)
        row, area = np.nonzero(moved)
        base = self._weighted(running[rows[row], count[area]], areas[area])
        before = self._statistic(base, areas[area])
        after = self._statistic(base + delta[row, area], areas[area])
        up = (after >= low[area]).astype(int) - (before >= low[area])
        down = (after <= high[area]).astype(int) - (before <= high[area])
        upper[areas] += np.bincount(area, weights=up, minlength=size).astype(np.int64)
        lower[areas] += np.bincount(area, weights=down, minlength=size).astype(np.int64)


def _per_draw(
    draw: np.ndarray, change: np.ndarray, touched: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The draws with in-block positions (`draw`, nondecreasing: one entry per position),
    each one's summed `change` and any-of `touched`: what add/logical_or.reduceat over
    the draws' entries give, in the same order of additions. Nearly every draw has one
    such position, so its row is taken as it is and only the few others are added to
    it (reduceat copies every one-row segment on its own, 4x slower nationally)."""
    first = np.ones(len(draw), dtype=bool)
    np.not_equal(draw[1:], draw[:-1], out=first[1:])
    delta, moved = change[first], touched[first]
    others = np.flatnonzero(~first)
    if others.size:  # in entry order: a draw's sum is ((first + second) + third) ...
        owner = np.cumsum(first)[others] - 1
        np.add.at(delta, owner, change[others])
        np.logical_or.at(moved, owner, touched[others])
    return draw[first], delta, moved


class _SortedColumns:
    """Each column of a block's running sums, sorted: by merging, not sorting afresh.

    From one block to the next, a draw's running sums change only where it drew a
    position between the two blocks' starts (it is read as z[j] rather than z[j + 1]
    from then on): a few per cent of the draws nationally. The others keep their order,
    so each column's order is the last one without the changed draws, merged with the
    changed draws' new sums sorted: a stable sort of two sorted runs, which NumPy's
    timsort merges in one pass, where a fresh sort of 9,999 sums per column took
    eight times as long (1.3 s of the 2.6 s of CPU for England's LSOAs' two tails).
    The sorted values are the same multiset as a fresh sort's, so the same array."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        self.order: np.ndarray | None = None  # (columns, draws) draws by each column's sum
        self.start = 0

    def sorted(self, running: np.ndarray, start: int) -> np.ndarray:
        """`running` (draws, columns) for the block at `start`, each column sorted, as
        (columns, draws); blocks must come in increasing order of `start`."""
        columns = np.ascontiguousarray(running.T)
        rows = row_starts(*columns.shape)
        if self.order is None or start < self.start:
            self.order = np.argsort(columns, axis=1)
            self.start = start
            return columns.take(self.order + rows)
        moved = ((self.ids >= self.start) & (self.ids < start)).any(axis=1)
        fresh = np.flatnonzero(moved)
        kept = self.order[~moved[self.order]].reshape(len(columns), -1)
        fresh = fresh[np.argsort(columns[:, fresh], axis=1)]
        merged = np.concatenate([kept, fresh], axis=1)
        runs = columns.take(merged + rows)
        merge = np.argsort(runs, axis=1, kind="stable") + rows
        self.order = merged.take(merge)
        self.start = start
        return runs.take(merge)


def _first_true(
    test: Callable[[np.ndarray], np.ndarray], size: int, areas: tuple[int, ...]
) -> np.ndarray:
    """Per area, the first position in 0..size at which `test` holds (false, then true
    along the positions), by bisection: log2(size) evaluations per area; `areas` is
    the shape of the positions `test` takes and of its answer."""
    low = np.zeros(areas, dtype=np.intp)
    high = np.full(areas, size, dtype=np.intp)
    while (open_ := low < high).any():
        middle = (low + high) // 2
        hit = test(np.minimum(middle, size - 1))
        high = np.where(open_ & hit, middle, high)
        low = np.where(open_ & ~hit, middle + 1, low)
    return low


def two_sided_from_counts(upper: np.ndarray, lower: np.ndarray, permutations: int) -> np.ndarray:
    """Two-sided p-values from the tail counts: the smaller tail, ties in both, doubled."""
    tails = (np.minimum(upper, lower) + 1) / (permutations + 1)
    return np.minimum(1.0, 2 * tails)
