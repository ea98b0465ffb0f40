"""Map size, build time and browser time-to-ready: demo, Greater Manchester, 7,000 wards.

Baselines measured in the same run:
- size: the same wards as plain GeoJSON with the same simplification (the data itself);
- time to ready: a bare Leaflet page with one polygon, timed the same way.

Time to ready is `performance.now()` when the map's script has finished building every
layer, read back from the page in headless Chromium (so it excludes browser start-up).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeintel import build, load_release
from placeintel.index.classes import risk_classes
from placeintel.maps.risk_map import build_map, write_map
from placeintel.maps.shapes import simplify_coverage, tolerance_for

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Appended after folium's own script (which comes after </body>), so it runs once the map is built.
READY = "<script>document.title = 'ready:' + performance.now().toFixed(1);</script>"
BARE = (
    '<!DOCTYPE html><html><head><link rel="stylesheet" href="assets/leaflet/leaflet.css">'
    '<script src="assets/leaflet/leaflet.js"></script></head><body>'
    '<div id="m" style="height:800px"></div>'
    "<script>var m = L.map('m').setView([53, -2], 9);"
    "L.polygon([[53, -2], [53.1, -2], [53.1, -1.9]]).addTo(m);</script></body>" + READY + "</html>"
)


def national_wards(n: int = 7_000, seed: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """7,000 Voronoi 'wards' over England's extent, with every column a map reads."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(150_000, 650_000, n), rng.uniform(50_000, 650_000, n)
    box = shapely.box(150_000, 50_000, 650_000, 650_000)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(shapely.points(x, y)), extend_to=box, ordered=True
    )
    cells = shapely.set_precision(shapely.intersection(shapely.get_parts(cells), box), 1.0)
    score = rng.uniform(0, 10, n)
    wards = gpd.GeoDataFrame(
        {
            "ward_code": [f"E05{i:06d}" for i in range(n)],
            "ward_name": [f"Ward {i}" for i in range(n)],
            "lad_code": [f"E0700{i // 22:04d}" for i in range(n)],
            "lad_name": [f"District {i // 22}" for i in range(n)],
            "deri_score": score,
            "demography_score": rng.uniform(0, 10, n),
            "broadband_score": rng.uniform(0, 10, n),
            "deprivation_score": rng.uniform(0, 10, n),
            "access_score": rng.uniform(0, 10, n),
            "imd_score": rng.uniform(2, 80, n),
            "imd_score_scaled": rng.uniform(0, 10, n),
            "imd_score_contribution": score / 3,
            "p_top_decile": rng.uniform(0, 1, n),
            "weight_sensitive": rng.uniform(0, 1, n) < 0.2,
            "hotspot": rng.choice(
                ["not-significant", "hot-99", "hot-95", "cold-90"], n, p=[0.85, 0.05, 0.05, 0.05]
            ),
        },
        geometry=cells,
        crs="EPSG:27700",
    )
    wards["deri_rank"] = pd.Series(score).rank(ascending=False, method="min").astype(int)
    wards["deri_rank_low"] = np.maximum(1, wards["deri_rank"] - 50)
    wards["deri_rank_high"] = wards["deri_rank"] + 50
    k = 20_000
    services = gpd.GeoDataFrame(
        {
            "name": [f"Service {i}" for i in range(k)],
            "category": rng.choice(
                ["library", "digital-support", "tablet-lending", "free-data"], k
            ),
            "address": [""] * k,
        },
        geometry=gpd.points_from_xy(
            rng.uniform(150_000, 650_000, k), rng.uniform(50_000, 650_000, k)
        ),
        crs="EPSG:27700",
    )
    return wards, services


def ready_ms(page: Path, folder: Path) -> float | None:
    """Milliseconds from navigation to the map script finishing, in headless Chromium."""
    if CHROMIUM is None:
        return None
    probe = page.with_name(f"{page.stem}-probe.html")
    head, _, tail = page.read_text(encoding="utf-8").rpartition("</html>")
    probe.write_text(head + READY + "</html>" + tail, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMP_")}
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={folder / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    ).stdout
    match = re.search(r"<title>ready:([\d.]+)</title>", dom)
    return float(match.group(1)) if match else None


def measure(
    label: str,
    wards: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None,
    folder: Path,
) -> dict:
    started = time.perf_counter()
    page = write_map(
        build_map(wards, services, label, "attribution", districts),
        folder / f"{label.replace(' ', '_')}.html",
    )
    seconds = time.perf_counter() - started
    data = folder / f"{label.replace(' ', '_')}.geojson"
    simplify_coverage(wards[["ward_code", "geometry"]], tolerance_for(wards)).to_crs(
        "OGC:CRS84"
    ).to_file(data, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 5})
    return {
        "map": label,
        "wards": len(wards),
        "services": len(services),
        "html MB": page.stat().st_size / 1e6,
        "GeoJSON MB": data.stat().st_size / 1e6,
        "build s": seconds,
        "ready ms": ready_ms(page, folder),
    }


def main() -> None:
    print(
        f"maps - {platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        demo = build("demo", releases=folder / "releases", echo=lambda line: None)
        bare = folder / "bare.html"
        write_map(build_map(demo.wards, demo.services, "x", "x"), folder / "x.html")
        bare.write_text(BARE, encoding="utf-8")
        floor = ready_ms(bare, folder)
        rows.append(measure("demo", demo.wards, demo.services, None, folder))
        if (REALDATA / "gm_wards_2023_generalised.geojson").is_file():
            gm = build("greater-manchester", folder / "releases", data_dir=REALDATA)
            gm = load_release(gm.path)
            districts = gm.wards.dissolve("lad_code", as_index=False)
            rows.append(measure("greater-manchester", gm.wards, gm.services, districts, folder))
        else:
            print(f"(skipping Greater Manchester: {REALDATA} not present)")
        wards, services = national_wards()
        wards["k"] = risk_classes(wards["deri_score"].to_numpy())[0]
        rows.append(
            measure("national 7,000 wards", wards.drop(columns="k"), services, None, folder)
        )
    table = pd.DataFrame(rows)
    table["html / GeoJSON"] = table["html MB"] / table["GeoJSON MB"]
    if floor:
        table["ready / bare Leaflet"] = table["ready ms"] / floor
    print(f"bare Leaflet page ready in {floor} ms")
    print(table.round(3).to_string(index=False))
    print(
        "Targets: Greater Manchester under 1.5 MB and rendered in under 2 s; "
        "7,000 wards under 10 MB."
    )


if __name__ == "__main__":
    main()
