"""How long `build` takes, as a multiple of just reading the region's sources.

Machines here are shared and noisy, so the figure that matters is the ratio to
a baseline measured in the same run: reading every source file (the I/O floor
of any build). Each is the median of several repeats.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from placeintel import build
from placeintel.region import load_manifest
from placeintel.sources import read_source

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
REPEATS = 5


def _median_seconds(task: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        task()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _read_all(manifest) -> None:
    """Every file the build reads, read and nothing more: the region's and the nation base's."""
    for each in (manifest, manifest.nation_manifest()):
        for source in each.sources if each is not None else ():
            if not source.is_absent(each.data_dir):
                read_source(each, source)


def measure(region: str, data_dir: Path | None) -> tuple[float, float]:
    manifest = load_manifest(region, data_dir)
    baseline = _median_seconds(lambda: _read_all(manifest))
    with tempfile.TemporaryDirectory() as out:
        total = _median_seconds(lambda: build(region, out, data_dir=data_dir))
    return baseline, total


def main() -> None:
    print(
        f"build time — {platform.node()} ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print(f"{'region':<22}{'read sources (s)':>18}{'full build (s)':>16}{'build / read':>14}")
    regions: list[tuple[str, Path | None]] = [("demo", None)]
    if (REALDATA / "gm_wards_2023_generalised.geojson").is_file():
        regions.append(("greater-manchester", REALDATA))
    else:
        print(f"(skipping greater-manchester: {REALDATA} not present)")
    for region, data_dir in regions:
        baseline, total = measure(region, data_dir)
        print(f"{region:<22}{baseline:>18.3f}{total:>16.3f}{total / baseline:>13.1f}x")


if __name__ == "__main__":
    main()
