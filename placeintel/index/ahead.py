"""esda's permutations drawn ahead, on a thread of their own, before the hot spots need them.

The hot spots' draws (`permutation.permuted_ids`: 9,999 legacy shuffles of the n - 1
other areas, about 4 s of CPU for England's 35,316 LSOAs and 0.8 s for its 7,047 wards)
depend on the number of areas, the seed and the number of permutations only: on no score
and no boundary. A row's first k positions are the first k of one shuffle whatever k is,
so rows drawn `WIDTH` wide serve any contiguity with at most `WIDTH` neighbours. Started
once the build can tell how many areas each level will test (`expected_counts`, from the
boundaries and the LSOA -> ward lookup, read early in stage 1), they run in cores the
build leaves idle, where the hot spots (stage 4) used to draw them on their critical path.

The counts are a guess made before the index exists (an area whose score is missing is
not tested), so `DrawsAhead.take` hands rows over only for the very n, seed, number of
permutations and a width they cover; anything else is drawn at stage 4 as before. The
draws never touch NumPy's global random state; `take` returns the state esda's draws
leave, for the caller to set where esda would have set it (mapclassify reads it later).
`close` stops the thread within one shuffle and joins it, so a build that fails or is
interrupted leaves no thread behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import CancelledError, Future, TimeoutError
from types import TracebackType
from typing import Any

import numpy as np

from placeintel.index.permutation import Drawn, draw
from placeintel.region import Manifest

#: Positions kept per draw (7.7 MB a level at 9,999 permutations): far more queen
#: neighbours than areas have (the most among Greater Manchester's LSOAs is 15, its wards
#: 9). A contiguity with more is simply drawn again at stage 4.
WIDTH = 96


def expected_counts(frames: Mapping[str, Any]) -> list[int]:
    """How many wards and LSOAs the hot spots will most likely test, from the frames by
    role: the wards with a boundary, and the lookup's LSOAs in those wards with a boundary
    (`indicators.geography.lsoa_frame`'s rows; scores are nearly always all present). A
    wrong guess costs only the draws, which `take` then declines."""
    wards = frames.get("wards")
    if wards is None or "ward_code" not in wards:
        return []
    shaped = ~(wards.geometry.isna() | wards.geometry.is_empty)
    counts = [int(shaped.sum())]
    lookup, boundaries = frames.get("lookup-lsoa-ward"), frames.get("lsoa21")
    if (
        lookup is not None
        and boundaries is not None
        and {"lsoa21_code", "ward_code"} <= set(lookup.columns)
        and "lsoa21_code" in boundaries
    ):
        drawn = boundaries[~(boundaries.geometry.isna() | boundaries.geometry.is_empty)]
        region = lookup[lookup["ward_code"].isin(wards["ward_code"])]
        counts.append(int(region["lsoa21_code"].isin(drawn["lsoa21_code"]).sum()))
    return counts


class DrawsAhead:
    """Draws for each level the build is likely to test, on one background thread; `take`
    waits for the ones it asks for. A context manager: leaving it stops and joins the
    thread. The thread starts from `start` (counts known) or `start_when_read` (counts
    found from the source files' frames as stage 1 reads them)."""

    def __init__(self, permutations: int, seed: int, width: int = WIDTH) -> None:
        self.permutations, self.seed, self.width = permutations, seed, width
        self.counts: list[int] = []
        self._stop = threading.Event()
        self._ready = threading.Condition()
        self._drawn: dict[int, Drawn] = {}
        self._started = self._finished = False
        self._thread: threading.Thread | None = None

    def start(self, counts: Iterable[int] | Callable[[threading.Event], Iterable[int]]) -> None:
        """Draw for each of `counts` (the wards' first: the hot spots take them first), or
        for those the callable returns on the thread (given the stop event to heed)."""
        with self._ready:
            if self._started or self._stop.is_set():
                return
            self._started = True
        self._thread = threading.Thread(
            target=self._run, args=(counts,), name="draws-ahead", daemon=True
        )
        self._thread.start()

    def start_when_read(self, manifest: Manifest) -> Callable[[Mapping[str, Future]], None]:
        """For `validate_sources(on_read=...)`: given each source's future (frame,
        findings) by id, start drawing once the boundaries and lookup are in."""
        roles = {s.role: s.id for s in reversed(manifest.sources)}  # each role's first
        wanted = {role: roles[role] for role in COUNTED if role in roles}

        def on_read(read: Mapping[str, Future]) -> None:
            futures = {role: read[i] for role, i in wanted.items() if i in read}
            self.start(lambda stop: _counts_when_read(futures, stop))

        return on_read

    def _run(self, counts: Iterable[int] | Callable[[threading.Event], Iterable[int]]) -> None:
        try:
            found = counts(self._stop) if callable(counts) else counts
            self.counts = [n for n in dict.fromkeys(found) if n >= 2]
            for n in self.counts:
                drawn = draw(n, self.width, self.permutations, self.seed, self._stop)
                if drawn is None:
                    return
                with self._ready:
                    self._drawn[n] = drawn
                    self._ready.notify_all()
        except (Exception, CancelledError):  # a failed guess only means stage 4 draws
            return
        finally:
            with self._ready:
                self._finished = True
                self._ready.notify_all()

    def take(self, n: int, width: int, permutations: int, seed: int) -> Drawn | None:
        """The draws for n areas, `width` positions a row (contiguous), if they are the
        ones being drawn here (same n, seed and permutations, the width covered); else
        None. Waits for them while the thread draws them."""
        if (permutations, seed) != (self.permutations, self.seed) or width > self.width:
            return None
        with self._ready:
            if not self._started:
                return None
            # The counts are set on the thread: wait for them, then for these draws.
            self._ready.wait_for(lambda: n in self._drawn or self._finished or self._gone(n))
            drawn = self._drawn.pop(n, None)
        if drawn is None or drawn.ids.shape[1] < width:
            return None
        return Drawn(np.ascontiguousarray(drawn.ids[:, :width]), drawn.state)

    def _gone(self, n: int) -> bool:
        """Whether n's draws will not come: the counts are known and n is not one of them."""
        return bool(self.counts) and n not in self.counts

    def close(self) -> None:
        """Stop drawing (within one shuffle) and wait for the thread to end."""
        self._stop.set()
        with self._ready:
            self._drawn.clear()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> DrawsAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


#: The roles `expected_counts` reads.
COUNTED = ("wards", "lookup-lsoa-ward", "lsoa21")


def _counts_when_read(futures: Mapping[str, Future], stop: threading.Event) -> list[int]:
    """`expected_counts` once each future is done (waiting in short steps, so that `stop`
    is heeded); none when a file is not read."""
    frames = {}
    for role, future in futures.items():
        while not stop.is_set():
            try:
                frames[role] = future.result(timeout=0.1)[0]
                break
            except TimeoutError:
                continue
        if stop.is_set() or frames[role] is None:
            return []
    return expected_counts(frames)
