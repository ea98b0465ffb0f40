"""The map in a real headless Chromium, from a local file with no network.

Checks what a planner would notice: the page draws (the screenshot is not
blank) and no JavaScript error is logged.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import rasterio

from placeintel.pipeline import Release

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_environment() -> dict[str, str]:
    """This process's environment without the OpenMP (KMP_*) settings a geo library sets
    on import: Chromium started with KMP_INIT_AT_FORK=FALSE hangs in headless mode."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KMP_")}


@pytest.fixture(scope="module")
def rendered(demo_release: Release, tmp_path_factory: pytest.TempPathFactory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("chromium")
    screenshot, log = folder / "map.png", folder / "chromium.log"
    # Log to a file, not a pipe: Chromium's helper processes inherit the pipe and hold
    # it open after the browser exits, which would block the test.
    with log.open("w") as sink:
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={folder / 'profile'}",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1280,860",
                "--virtual-time-budget=5000",
                f"--screenshot={screenshot}",
                demo_release.map_path.as_uri(),
            ],
            stdout=sink,
            stderr=sink,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    return screenshot, log.read_text(errors="replace")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_map_draws_something(rendered) -> None:
    screenshot, log = rendered
    assert screenshot.is_file(), log[-2000:]
    with rasterio.open(screenshot) as image:
        pixels = image.read().astype(float)
    # A blank page (Leaflet failed to load) is one flat colour; a map has many.
    assert pixels.std() > 20
    assert len(np.unique(pixels.reshape(pixels.shape[0], -1), axis=1)[0]) > 50


def test_map_logs_no_javascript_errors(rendered) -> None:
    _, log = rendered
    errors = [
        line
        for line in log.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
    ]
    assert errors == []
