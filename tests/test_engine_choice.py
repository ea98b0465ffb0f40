"""`--engine auto`: Dask only where the measured costs predict it finishes sooner."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from placeintel import engine_choice
from placeintel.engine import LocalEngine, make_engine
from placeintel.engine_choice import (
    break_even,
    choose,
    predicted,
    region_lsoas,
    start_seconds,
)


def _region(lsoas: int | None, wards: int = 3, nation: object = None) -> SimpleNamespace:
    frames = {"wards": pd.DataFrame({"w": range(wards)})}
    if lsoas is not None:
        frames["lsoa21"] = pd.DataFrame({"l": range(lsoas)})
    return SimpleNamespace(one=frames.get, nation=nation)


def test_region_size_is_its_lsoas_and_the_nation_bases() -> None:
    assert region_lsoas(_region(1692)) == 1692
    assert region_lsoas(_region(None, wards=40)) == 40  # no LSOA boundaries: its wards
    assert region_lsoas(_region(1692, nation=_region(35316))) == 1692 + 35316


def test_small_regions_stay_in_process() -> None:
    choice = choose(1692, cores=2)
    assert choice.engine == "default"
    assert choice.reason.startswith("auto: 1,692 LSOAs on 2 local cores: predicted ")


def test_dask_only_where_it_is_predicted_faster() -> None:
    for lsoas in (40, 1692, 6768, 35316, 1_000_000):
        for cores, workers, remote in ((2, 2, False), (8, 8, False), (2, 64, True)):
            here, dask = predicted(lsoas, cores, workers, remote=remote)
            choice = choose(lsoas, cores, workers if remote else None, remote=remote)
            assert choice.engine == ("dask" if dask < here else "default")


def test_break_even_is_where_the_predictions_cross() -> None:
    for cores, workers, remote in ((2, 2, False), (16, 16, False), (2, 32, True)):
        threshold = break_even(cores, workers, remote=remote)
        if threshold is None:  # Dask never wins: its per-LSOA cost is no lower
            assert choose(10_000_000, cores, workers, remote=remote).engine == "default"
            continue
        above = int(threshold * 1.01) + 1
        assert choose(above, cores, workers, remote=remote).engine == "dask"
        assert choose(int(threshold * 0.99), cores, workers, remote=remote).engine == "default"


def test_a_local_cluster_has_no_more_workers_than_cores() -> None:
    """4 workers on 2 cores share the work no better than 2, and take longer to start."""
    four, two = predicted(35316, 2, 4, remote=False)[1], predicted(35316, 2, 2, remote=False)[1]
    assert four > two
    assert four - start_seconds(2, 4, remote=False) == pytest.approx(
        two - start_seconds(2, 2, remote=False)
    )


def test_auto_says_what_it_picked(monkeypatch: pytest.MonkeyPatch) -> None:
    heard: list[str] = []
    monkeypatch.setattr(engine_choice, "CLUSTER_START_S", 1e9)  # Dask could never win
    runner = make_engine("auto", None, _region(1692), heard.append)
    assert isinstance(runner, LocalEngine)
    assert heard and heard[0].startswith("  engine: default (auto: 1,692 LSOAs")
