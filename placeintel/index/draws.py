"""esda's permutation draws, and processes that make them beside the build.

esda's conditional randomisation draws, from its seed, `permutations` rows of random
positions among the other n - 1 areas (`vec_permutations`: NumPy's legacy
`RandomState.choice` without replacement, a whole legacy shuffle per row). Nationally that
is 9,999 shuffles of 35,315 LSOAs and of 7,046 wards, about 4 s of CPU, and NumPy's legacy
shuffle keeps Python's GIL while it runs (its `Generator` lets it go; `RandomState`, kept
frozen for reproducibility, does not): drawn on the hot spots' thread, the draws stopped
every other thread of the build for those 4 s, the weight Monte Carlo's among them.

The draws depend only on n, the seed and the number of permutations (a row's first k
positions are the first k of its shuffle whatever k is), so `BackgroundDraws` has them
made by this module run as a script, a process per level started when the hot spots'
stage begins, `WIDTH` positions a row; the hot spots take them (`take`) when they get to
them, or draw in-process, as before, for anything no process was asked for, draws too
narrow, or a process that failed. Same rows either way: the same function draws them.

This module imports only NumPy, so a process starts in a tenth of a second.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import IO, Any

import numpy as np

#: Positions kept per row (7.7 MB a level at 9,999 permutations): more queen neighbours
#: than areas have (Greater Manchester's most: 15 for an LSOA, 9 for a ward). Contiguity
#: with more is drawn in-process.
WIDTH = 96

#: Areas (all levels together) from which the processes pay: below it, its start-up
#: (a tenth of a second) costs about what drawing them here does.
BACKGROUND_FROM = 5_000

State = tuple[Any, ...]
#: Each answer's head: n, rows, width, the state's position and has_gauss (int64), and
#: its cached Gaussian (float64); then the rows (int64) and the state's 624 keys (uint32).
_HEAD = struct.Struct("<5qd")
_KEYS = 624


def draw_rows(n: int, width: int, permutations: int, seed: int) -> tuple[np.ndarray, State]:
    """esda's (permutations, width) random positions among the other n - 1 areas, and the
    legacy random state they leave (esda seeds NumPy's global state and draws from it;
    the same calls on a `RandomState` of its own give the same rows)."""
    state = np.random.RandomState(seed)
    ids = np.empty((permutations, width), dtype=np.int64)
    for row in range(permutations):
        # The legacy choice(n - 1, size, replace=False) is permutation(n - 1)[:size]
        # (a frozen stream); called directly, without choice's checks: 5 us less each.
        ids[row] = state.permutation(n - 1)[:width]
    return ids, state.get_state()


def _write(out: IO[bytes], n: int, ids: np.ndarray, state: State) -> None:
    _, keys, position, has_gauss, gaussian = state
    out.write(_HEAD.pack(n, ids.shape[0], ids.shape[1], position, has_gauss, gaussian))
    out.write(np.ascontiguousarray(ids, dtype="<i8").tobytes())
    out.write(np.asarray(keys, dtype="<u4").tobytes())
    out.flush()


def _read_exactly(source: IO[bytes], size: int) -> bytes:
    data = source.read(size)
    if data is None or len(data) != size:
        raise EOFError("the draws' process ended mid-answer")
    return data


def _read(source: IO[bytes], n: int, rows: int, width: int) -> tuple[np.ndarray, State] | None:
    """The answer for n's `rows` x `width` draws, or None if the process said nothing; a
    ValueError if what it said is anything else (the state's position, which NumPy takes
    on trust, included: out of range it crashes the next draw from the global state)."""
    head = source.read(_HEAD.size)
    if not head:
        return None
    if len(head) != _HEAD.size:
        raise EOFError("the draws' process ended mid-answer")
    said, said_rows, said_width, position, has_gauss, gaussian = _HEAD.unpack(head)
    if (said, said_rows, said_width) != (n, rows, width) or not (
        0 <= position <= _KEYS and has_gauss in (0, 1)
    ):
        raise ValueError("the draws' process answered something else")
    ids = np.frombuffer(_read_exactly(source, rows * width * 8), dtype="<i8")
    keys = np.frombuffer(_read_exactly(source, _KEYS * 4), dtype="<u4").astype(np.uint32)
    if ids.size and (ids.min() < 0 or ids.max() >= n - 1):
        raise ValueError("the draws' process answered positions out of range")
    state = ("MT19937", keys, position, has_gauss, gaussian)
    return ids.reshape(rows, width).astype(np.int64, copy=False), state


def main(argv: list[str]) -> int:
    """`WIDTH PERMUTATIONS SEED N [N ...]`: each N's draws, in that order, to stdout."""
    width, permutations, seed, *counts = (int(a) for a in argv)
    for n in counts:
        ids, state = draw_rows(n, min(width, n - 1), permutations, seed)
        _write(sys.stdout.buffer, n, ids, state)
    return 0


class BackgroundDraws:
    """The draws for each of `counts` (area counts of the levels the hot spots test), each
    made by a process of its own, all started at once: the wards' (a fifth of the work)
    are not queued behind the LSOAs', nor the LSOAs' behind the wards'. `take` waits for
    the ones it asks for; `close` stops any process still drawing. Without processes
    (fewer than `from_areas` areas in all, or none could start), `take` declines
    everything and the caller draws."""

    def __init__(
        self,
        counts: Iterable[int],
        permutations: int,
        seed: int,
        width: int = WIDTH,
        from_areas: int | None = None,
    ) -> None:
        self.counts = [n for n in dict.fromkeys(counts) if n >= 2]
        if sum(self.counts) < (BACKGROUND_FROM if from_areas is None else from_areas):
            self.counts = []
        self.permutations, self.seed, self.width = permutations, seed, width
        self._drawn: dict[int, tuple[np.ndarray, State]] = {}
        self._ended: set[int] = set()  # counts whose process has ended (or never began)
        self._done = threading.Condition()
        self._processes: list[subprocess.Popen] = []
        self._readers: list[threading.Thread] = []
        try:
            for n in self.counts:
                self._start(n)
        except BaseException:  # interrupted while starting them: leave none behind
            self.close()
            raise

    def _start(self, n: int) -> None:
        if not sys.executable:  # an embedded Python without an interpreter to start
            self._ended.add(n)
            return
        try:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, this file
                [sys.executable, "-I", __file__]
                + [str(a) for a in (self.width, self.permutations, self.seed, n)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:  # none could start: draw in-process
            self._ended.add(n)
            return
        self._processes.append(process)
        reader = threading.Thread(target=self._receive, args=(n, process), name="draws")
        reader.daemon = True
        self._readers.append(reader)
        reader.start()

    def _receive(self, n: int, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        try:
            answer = _read(process.stdout, n, self.permutations, min(self.width, n - 1))
            if answer is not None:
                with self._done:
                    self._drawn[n] = answer
        except Exception:  # noqa: BLE001 - any failed or garbled answer: the caller draws
            process.kill()  # it may be blocked writing what was not read
        finally:
            process.stdout.close()
            process.wait()
            with self._done:
                self._ended.add(n)
                self._done.notify_all()

    def take(
        self, n: int, width: int, permutations: int, seed: int
    ) -> tuple[np.ndarray, State] | None:
        """n's rows, `width` positions each, and the state they leave, if they are the ones
        drawn here (same n, seed and permutations; the width covered); else None, at once
        if they were never asked for, or when their process ends without them."""
        if (permutations, seed) != (self.permutations, self.seed) or n not in self.counts:
            return None
        with self._done:
            self._done.wait_for(lambda: n in self._drawn or n in self._ended)
            drawn = self._drawn.pop(n, None)
        if drawn is None or drawn[0].shape[1] < width:
            return None
        ids, state = drawn
        return np.ascontiguousarray(ids[:, :width]), state

    def close(self) -> None:
        """Stop any process still drawing, and wait for them to end."""
        for process in self._processes:
            if process.poll() is None:
                process.kill()
        for reader in self._readers:
            reader.join()

    def __enter__(self) -> BackgroundDraws:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
