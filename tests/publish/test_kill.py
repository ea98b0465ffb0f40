"""Interrupting `build` at any stage leaves `current` on a complete release that validates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from frictionless import Package

from placeintel import build

STAGES = 8
#: Each stage is interrupted by a different signal, so a hard kill, a polite
#: termination and Ctrl+C all get covered.
SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]


def _interrupt_at(stage: int, sig: signal.Signals, out: Path) -> int:
    """Start a build, send `sig` as soon as it announces `stage`, return its exit code."""
    process = subprocess.Popen(
        [sys.executable, "-m", "placeintel.cli", "build", "demo", "--releases", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(f"[{stage}/{STAGES}]") and line.rstrip().endswith("..."):
            process.send_signal(sig)
            break
    process.stdout.close()
    try:
        return process.wait(timeout=120)
    except subprocess.TimeoutExpired:  # a hang is the failure; leave no process behind
        process.kill()
        process.wait()
        raise


@pytest.mark.parametrize("stage", range(1, STAGES + 1))
def test_interrupted_build_leaves_current_valid(stage: int, tmp_path: Path) -> None:
    first = build("demo", releases=tmp_path, echo=lambda line: None)
    code = _interrupt_at(stage, SIGNALS[stage % len(SIGNALS)], tmp_path)
    current = (tmp_path / "demo" / "current").resolve()
    if stage < STAGES:
        assert code != 0
        assert current == first.path, "current moved although the build was interrupted"
    else:
        # Interrupted while switching: either the old or the complete new release.
        assert current.parent == first.path.parent
    assert Package(str(current / "datapackage.json")).validate().valid
    visible = [p for p in (tmp_path / "demo").iterdir() if not p.name.startswith(".")]
    assert all((p / "datapackage.json").is_file() for p in visible if p.name != "current")
    # The next build clears what the interrupted one left behind.
    build("demo", releases=tmp_path, echo=lambda line: None)
    assert not list((tmp_path / "demo").glob(".staging-*"))
