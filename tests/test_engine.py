"""The Dask engine gives exactly the release the default engine gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.test_cli import placeintel


def test_dask_engine_gives_the_same_release(tmp_path: Path) -> None:
    default = placeintel("build", "demo", "--releases", str(tmp_path / "default"))
    dask = placeintel("build", "demo", "--releases", str(tmp_path / "dask"), "--engine", "dask")
    assert default.returncode == 0 and dask.returncode == 0, dask.stderr[-2000:]
    assert "heavy work on dask" in dask.stdout
    # The build chooses by itself (auto) and says so: the demo's 160 LSOAs stay in-process.
    assert "engine: default (auto: 160 LSOAs on " in default.stdout, default.stdout
    for name in ("wards", "services", "lsoas", "broadband", "deprivation", "indicators"):
        ours = pd.read_csv(tmp_path / "default" / "demo" / "current" / f"{name}.csv")
        theirs = pd.read_csv(tmp_path / "dask" / "demo" / "current" / f"{name}.csv")
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_scheduler_needs_the_dask_engine(tmp_path: Path) -> None:
    result = placeintel(
        "build",
        "demo",
        "--releases",
        str(tmp_path),
        "--engine",
        "default",
        "--scheduler",
        "tcp://127.0.0.1:1",
    )
    assert result.returncode == 2 and "--engine dask" in result.stderr


def test_build_on_a_running_scheduler(tmp_path: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = placeintel(
            "build",
            "demo",
            "--out",
            str(tmp_path),
            "--engine",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert cluster.scheduler_address in result.stdout


def test_local_engine_threads_keep_rows_in_order() -> None:
    """Chunks that release the GIL run on threads; the rows come back in order."""
    import numpy as np

    from placeintel.engine import LocalEngine

    frame = pd.DataFrame({"v": np.arange(1001)})
    doubled = LocalEngine(threads=3).apply(
        frame, lambda chunk: chunk.assign(v=chunk["v"] * 2), frame, releases_gil=True
    )
    assert doubled["v"].tolist() == list(range(0, 2002, 2))


def test_dask_chunks_come_back_in_order_with_their_bound_frame() -> None:
    """The function (and a frame bound into it) goes to each worker once; rows keep order."""
    from functools import partial

    import numpy as np
    from distributed import LocalCluster

    from placeintel.engine import DaskEngine, LocalEngine, make_engine
    from tests.test_engine_choice import _region

    def _add(chunk: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
        return chunk.assign(v=chunk["v"] + other["w"].sum())

    frame = pd.DataFrame({"v": np.arange(101)})
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        engine = DaskEngine(cluster.scheduler_address, partitions=7)
        try:
            out = engine.apply(frame, partial(_add, other=pd.DataFrame({"w": [1, 2]})), frame)
        finally:
            engine.close()
        heard: list[str] = []
        chosen = make_engine("auto", cluster.scheduler_address, _region(160), heard.append)
    assert out["v"].tolist() == list(range(3, 104))
    assert isinstance(chosen, LocalEngine)
    assert heard[0].startswith("  engine: default (auto: 160 LSOAs on a cluster of 1 worker:")
