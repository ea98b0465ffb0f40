"""esda's draws made by a second process are the very rows, and leave the same state."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from esda.crand import vec_permutations

from placeintel.index import draws
from placeintel.index import hotspots as hot
from placeintel.index.draws import BackgroundDraws, draw_rows
from tests.index.test_permutation import _map, _same_state

PERMUTATIONS = 999


def _esda(n: int, width: int, seed: int) -> tuple[np.ndarray, tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = vec_permutations(width, n, PERMUTATIONS, seed)
    return rows, np.random.get_state()


def test_the_second_process_draws_esdas_rows_and_state() -> None:
    with BackgroundDraws([300, 1_200], PERMUTATIONS, 7, from_areas=0) as drawn:
        for n, width in ((300, 6), (1_200, 11)):
            rows, state = drawn.take(n, width, PERMUTATIONS, 7)
            expected_rows, expected_state = _esda(n, width, 7)
            assert np.array_equal(rows, expected_rows)
            assert rows.flags.c_contiguous
            assert _same_state(state, expected_state)


def test_it_declines_what_it_was_not_asked_for() -> None:
    with BackgroundDraws([300], PERMUTATIONS, 7, width=8, from_areas=0) as drawn:
        assert drawn.take(301, 6, PERMUTATIONS, 7) is None  # another n
        assert drawn.take(300, 6, PERMUTATIONS, 8) is None  # another seed
        assert drawn.take(300, 6, 99, 7) is None  # other permutations
        assert drawn.take(300, 9, PERMUTATIONS, 7) is None  # wider than drawn
    with BackgroundDraws([300], PERMUTATIONS, 7, width=8, from_areas=0) as drawn:
        rows, _ = drawn.take(300, 8, PERMUTATIONS, 7)
        assert rows.shape == (PERMUTATIONS, 8)
        assert drawn.take(300, 8, PERMUTATIONS, 7) is None  # handed over once


def test_small_regions_draw_in_process() -> None:
    drawn = BackgroundDraws([300, 40], PERMUTATIONS, 7)  # below BACKGROUND_FROM
    assert drawn.take(300, 6, PERMUTATIONS, 7) is None
    drawn.close()


def test_a_stopped_process_hands_nothing_over_and_does_not_hang() -> None:
    drawn = BackgroundDraws([2_000_000], 9_999, 7, from_areas=0)  # minutes of drawing
    started = time.monotonic()
    drawn.close()
    assert drawn.take(2_000_000, 6, 9_999, 7) is None
    assert time.monotonic() - started < 10


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
def test_hot_spots_from_the_second_process_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    _, areas, y = _map(600, with_areas=True)
    areas["deri_score"] = y
    np.random.seed(1)
    expected = hot.hotspots(areas)
    after = np.random.get_state()
    n = hot.tested_count(areas)
    assert n == len(areas)
    np.random.seed(1)

    def not_here(*args: object) -> None:
        raise AssertionError("drawn in-process, not taken from the second process")

    monkeypatch.setattr(hot, "permuted_ids", not_here)
    with BackgroundDraws([n], hot.PERMUTATIONS, hot.SEED, from_areas=0) as drawn:
        assert hot.hotspots(areas, drawn=drawn).equals(expected)
    assert _same_state(np.random.get_state(), after)


def test_draw_rows_is_one_shuffle_per_row() -> None:
    rows, _ = draw_rows(50, 49, 20, 3)
    assert all(sorted(row) == list(range(49)) for row in rows.tolist())


#: Stand-ins for the draws' process that answer wrongly: what they write to stdout.
LIARS = {
    "banner": "import sys; sys.stdout.buffer.write(b'hello from sitecustomize\\n' * 50)",
    # A header claiming 10**12 rows, then a process that never ends on its own.
    "huge": (
        "import struct, sys, time; sys.stdout.buffer.write(struct.pack('<5qd', int(sys.argv[4]),"
        " 10**12, 6, 5, 0, 0.0)); sys.stdout.flush(); time.sleep(600)"
    ),
    # Well formed, but 5 rows where 999 were asked for.
    "rows": (
        "import struct, sys; n = int(sys.argv[4]); out = sys.stdout.buffer;"
        " out.write(struct.pack('<5qd', n, 5, 6, 5, 0, 0.0)); out.write(bytes(5 * 6 * 8));"
        " out.write(bytes(624 * 4))"
    ),
    # Well formed and the right shape, but a state NumPy would crash on.
    "state": (
        "import struct, sys; n, p = int(sys.argv[4]), int(sys.argv[2]); out = sys.stdout.buffer;"
        " out.write(struct.pack('<5qd', n, p, 6, 10**8, 0, 0.0)); out.write(bytes(p * 6 * 8));"
        " out.write(bytes(624 * 4))"
    ),
}


@pytest.mark.parametrize("liar", sorted(LIARS))
def test_a_wrong_answer_is_declined_at_once(
    liar: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller then draws itself: never a hang, a wrong draw or a bad random state."""
    fake = tmp_path / "fake.py"
    fake.write_text(LIARS[liar])
    monkeypatch.setattr(draws, "__file__", str(fake))
    started = time.monotonic()
    with BackgroundDraws([300], PERMUTATIONS, 7, width=6, from_areas=0) as drawn:
        assert drawn.take(300, 6, PERMUTATIONS, 7) is None
    assert time.monotonic() - started < 20
