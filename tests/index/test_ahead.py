"""Permutations drawn ahead: the same rows and random state as drawn at stage 4, taken
only when they are the ones asked for, and a thread that always ends."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from placeintel import build, pipeline
from placeintel.index import hotspots as hot
from placeintel.index.ahead import DrawsAhead, expected_counts
from placeintel.index.permutation import permuted_ids

PERMUTATIONS = 999


def _same_state(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_wide_draws_cut_to_a_width_are_the_narrow_ones() -> None:
    """A row's first k positions do not depend on how many are drawn, and the state
    left after them is the same: so draws made wide serve any contiguity."""
    with DrawsAhead(PERMUTATIONS, 7, width=30) as ahead:
        ahead.start([500])
        drawn = ahead.take(500, 9, PERMUTATIONS, 7)
    assert drawn is not None and drawn.ids.flags.c_contiguous
    expected = permuted_ids(500, 9, PERMUTATIONS, 7)
    assert np.array_equal(drawn.ids, expected)
    assert _same_state(drawn.state, np.random.get_state())


@pytest.mark.parametrize(
    ("n", "width", "permutations", "seed"),
    [(501, 9, PERMUTATIONS, 7), (500, 31, PERMUTATIONS, 7), (500, 9, 99, 7), (500, 9, 999, 8)],
)
def test_other_draws_are_declined(n: int, width: int, permutations: int, seed: int) -> None:
    with DrawsAhead(PERMUTATIONS, 7, width=30) as ahead:
        ahead.start([500])
        assert ahead.take(n, width, permutations, seed) is None


def test_never_started_is_declined_at_once() -> None:
    with DrawsAhead(PERMUTATIONS, 7) as ahead:
        assert ahead.take(500, 9, PERMUTATIONS, 7) is None


def test_close_stops_the_thread_within_a_shuffle() -> None:
    ahead = DrawsAhead(1_000_000, 7)
    ahead.start([200_000])  # minutes of shuffles
    time.sleep(0.2)
    began = time.perf_counter()
    ahead.close()
    assert time.perf_counter() - began < 2
    assert not any(t.name == "draws-ahead" for t in threading.enumerate())
    assert ahead.take(200_000, 9, 1_000_000, 7) is None


def test_files_that_never_come_leave_no_thread_waiting() -> None:
    """A build stopped in stage 1 cancels the files' futures: the thread ends."""
    never: Future = Future()
    cancelled: Future = Future()
    cancelled.cancel()
    for future in (never, cancelled):
        ahead = DrawsAhead(PERMUTATIONS, 7)
        ahead.start(lambda stop, f=future: _wait(f, stop))
        time.sleep(0.2)
        ahead.close()
        assert not any(t.name == "draws-ahead" for t in threading.enumerate())


def _wait(future: Future, stop: threading.Event) -> list[int]:
    from placeintel.index.ahead import _counts_when_read

    return _counts_when_read({"wards": future}, stop)


def _squares(codes: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": codes}, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(len(codes))]
    )


def test_counts_are_the_shaped_wards_and_their_shaped_lsoas() -> None:
    wards = _squares(["W1", "W2", "W3"]).rename(columns={"code": "ward_code"})
    wards.loc[2, "geometry"] = None
    lsoas = _squares(["L1", "L2", "L3", "L4"]).rename(columns={"code": "lsoa21_code"})
    lsoas.loc[3, "geometry"] = shapely.Polygon()
    lookup = pd.DataFrame(
        {"lsoa21_code": ["L1", "L2", "L3", "L4", "L5"], "ward_code": ["W1", "W1", "X", "W2", "W2"]}
    )
    frames = {"wards": wards, "lookup-lsoa-ward": lookup, "lsoa21": lsoas}
    assert expected_counts(frames) == [2, 2]  # L3 is in no region ward, L4 and L5 unshaped
    assert expected_counts({"wards": wards}) == [2]
    assert expected_counts({}) == []


@pytest.mark.filterwarnings("ignore:The weights matrix is not fully connected")
def test_hot_spots_from_draws_ahead_are_the_same_and_leave_the_same_state() -> None:
    rng = np.random.default_rng(5)
    cells = shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 20_000, (400, 2))))
    areas = gpd.GeoDataFrame(geometry=list(shapely.get_parts(cells)), crs=27700)
    areas = areas[areas.intersects(shapely.box(0, 0, 20_000, 20_000))].reset_index(drop=True)
    areas["deri_score"] = np.round(rng.lognormal(1.2, 0.35, len(areas)), 6)
    np.random.seed(1)
    expected = hot.hotspots(areas, permutations=PERMUTATIONS)
    after = np.random.get_state()
    np.random.seed(1)
    with DrawsAhead(PERMUTATIONS, hot.SEED) as ahead:
        ahead.start([len(areas)])
        assert hot.hotspots(areas, permutations=PERMUTATIONS, ahead=ahead).equals(expected)
    assert _same_state(np.random.get_state(), after)


def test_a_build_takes_its_draws_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's counts are guessed right from its files: both levels take draws made
    ahead, and the thread is gone when the build returns."""
    taken = []
    take = DrawsAhead.take

    def recorded(self: DrawsAhead, *asked: int) -> object:
        drawn = take(self, *asked)
        taken.append(drawn is not None)
        return drawn

    monkeypatch.setattr(DrawsAhead, "take", recorded)
    build("demo", releases=tmp_path, echo=lambda line: None)
    assert taken == [True, True]
    assert not any(t.name == "draws-ahead" for t in threading.enumerate())


def test_a_failed_build_leaves_no_thread_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("stage 2 failed")

    monkeypatch.setattr(pipeline, "area_indicators", fail)
    with pytest.raises(RuntimeError, match="stage 2 failed"):
        build("demo", releases=tmp_path, echo=lambda line: None)
    assert not any(t.name == "draws-ahead" for t in threading.enumerate())
