"""`serve`'s worker processes stop when asked, whenever the signal comes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, signal, time
    from placeintel.api import workers

    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:  # the stop arrives just after a fork, before the parent records the pid
            os.kill(os.getpid(), signal.SIGTERM)
        return pid

    os.fork = fork
    started = time.monotonic()
    workers.run_workers(2, lambda slot: time.sleep(60), echo=print)
    print(f"stopped after {time.monotonic() - started:.1f} s")
    """
)


def test_a_stop_arriving_during_a_fork_stops_every_worker() -> None:
    """Once a SIGTERM landing between fork() and the pid's record left that worker
    unsignalled, and the parent waiting for it (a test server that never exited)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "stopped after" in done.stdout
    assert float(done.stdout.split("stopped after ")[1].split()[0]) < 10
