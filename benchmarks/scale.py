"""How `build` grows from Greater Manchester's size to national, on each engine.

For each synthetic scale (1x, 4x and 16x GM, and England and Wales) the region
is generated once into benchmarks/out/synthetic/<scale> (reused on later runs)
and built in a fresh process by each engine. We record wall time and the peak
memory of the whole process tree (the build and, for Dask, its workers), sampled
with psutil every 0.2 s.

Machines here are shared and noisy, so the figures that matter are ratios from
the same run: time and memory against the 1x GM build (how cost grows with
size, next to how the ward count grows) and Dask against the default engine.

Scales and engines can be narrowed: PLACEINTEL_BENCH_SCALES=gm,gm-x4 and
PLACEINTEL_BENCH_ENGINES=default.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

OUT = Path(__file__).resolve().parent / "out" / "synthetic"
SCALES = ("gm", "gm-x4", "gm-x16", "national")
ENGINES = ("default", "dask")


@dataclass
class Run:
    scale: str
    engine: str
    seconds: float
    floor: float
    peak_mb: float
    stages: dict[str, float]
    wards: int


def _peak_tree_rss(process: psutil.Popen, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        try:
            procs = [process, *process.children(recursive=True)]
            total = sum(p.memory_info().rss for p in procs if p.is_running())
            peak[0] = max(peak[0], total)
        except psutil.Error:
            pass
        stop.wait(0.2)


def region(scale: str) -> Path:
    """The synthetic region for a scale, generated on first use."""
    folder = OUT / scale
    if not (folder / "region.yml").is_file():
        print(f"generating {scale} into {folder} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "placeintel.cli",
                "demo-data",
                "--scale",
                scale,
                "--output",
                str(folder),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return folder


def io_floor(scale: str) -> float:
    """Seconds to read every input of the region with pyarrow, pyogrio and rasterio, and do
    nothing else: the floor any build stands on (the issue's "I/O floor"), in a fresh process.
    """
    code = f"""
import time, pyarrow.csv as pc, pyogrio, rasterio
from placeintel.region import load_manifest
m = load_manifest({str(region(scale) / "region.yml")!r})
files = [m.source_path(s) for s in m.sources if not s.is_absent(m.data_dir)]
n = m.nation_manifest()
files += [n.source_path(s) for s in n.sources if not s.is_absent(n.data_dir)] if n else []
started = time.perf_counter()
for path in files:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        try:
            pc.read_csv(path, read_options=pc.ReadOptions(block_size=1 << 24))
        except Exception:  # a preamble above the header: read the bytes
            path.read_bytes()
    elif name.endswith((".geojson", ".gpkg", ".shp", ".json")):
        pyogrio.read_arrow(path)
    elif name.endswith((".tif", ".tiff")):
        with rasterio.open(path) as raster:
            raster.read()
    else:
        path.read_bytes()
print(time.perf_counter() - started)
"""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def build(scale: str, engine: str) -> Run:
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "placeintel.cli",
            "build",
            str(region(scale) / "region.yml"),
            "--releases",
            out,
            "--engine",
            engine,
        ]
        stop, peak = threading.Event(), [0.0]
        started = time.perf_counter()
        process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = threading.Thread(target=_peak_tree_rss, args=(process, stop, peak), daemon=True)
        sampler.start()
        output, _ = process.communicate()
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        if process.returncode != 0:
            raise RuntimeError(f"build {scale} --engine {engine} failed:\n{output[-3000:]}")
    stages = {
        name: float(value)
        for name, value in re.findall(r"\[\d/\d\] (.+?) done in ([\d.]+)s", output)
    }
    wards = int(re.search(r"([\d,]+) wards", output).group(1).replace(",", ""))
    return Run(scale, engine, seconds, io_floor(scale), peak[0] / 1e6, stages, wards)


def main() -> None:
    scales = [s for s in os.environ.get("PLACEINTEL_BENCH_SCALES", ",".join(SCALES)).split(",")]
    engines = [e for e in os.environ.get("PLACEINTEL_BENCH_ENGINES", ",".join(ENGINES)).split(",")]
    print(
        f"build at scale - {platform.node()} ({os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    runs: list[Run] = []
    for scale in scales:
        for engine in engines:
            run = build(scale, engine)
            runs.append(run)
            print(
                f"  {scale:<9} {engine:<8} {run.seconds:8.1f}s {run.peak_mb:8.0f} MB  "
                f"I/O floor {run.floor:.1f}s ({run.seconds / run.floor:.1f}x)  "
                + ", ".join(f"{k} {v:.1f}s" for k, v in run.stages.items()),
                flush=True,
            )
    report(runs)


def report(runs: list[Run]) -> None:
    base = {r.engine: r for r in runs if r.scale == runs[0].scale}
    default = {r.scale: r for r in runs if r.engine == "default"}
    print(
        f"\n{'scale':<10}{'engine':<9}{'wards':>7}{'x wards':>9}{'time s':>9}{'x time':>8}"
        f"{'peak MB':>9}{'x mem':>7}{'vs default':>12}{'I/O floor s':>13}{'/ floor':>9}"
    )
    for run in runs:
        first = base[run.engine]
        versus = run.seconds / default[run.scale].seconds if run.scale in default else float("nan")
        print(
            f"{run.scale:<10}{run.engine:<9}{run.wards:>7,}{run.wards / first.wards:>8.1f}x"
            f"{run.seconds:>9.1f}{run.seconds / first.seconds:>7.1f}x{run.peak_mb:>9,.0f}"
            f"{run.peak_mb / first.peak_mb:>6.1f}x{versus:>11.2f}x"
            f"{run.floor:>13.1f}{run.seconds / run.floor:>8.1f}x"
        )
    slowest = max(runs, key=lambda r: r.seconds)
    print(f"\nstage times of the slowest run ({slowest.scale}, {slowest.engine}):")
    for name, seconds in sorted(slowest.stages.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<36}{seconds:8.1f}s {seconds / slowest.seconds:6.0%}")


if __name__ == "__main__":
    main()
