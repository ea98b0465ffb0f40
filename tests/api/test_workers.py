"""`serve`'s worker processes stop when asked, whenever the signal comes."""

from __future__ import annotations

import os
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


REPLACED = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    from pathlib import Path
    from placeintel.api import workers

    workers.FAST_FAILURE = 0  # a worker ending at once is replaced, not the end of it all
    generations = Path(sys.argv[1])  # how many workers slot 1 has had

    def child(slot):
        os.write(1, f"worker in slot {slot}\\n".encode())  # one write: lines never mix
        if slot == 1:
            generation = int(generations.read_text() or 0) + 1
            generations.write_text(str(generation))
            if generation == 1:
                raise SystemExit(3)  # the first worker in slot 1 fails
            if generation == 2:
                time.sleep(0.5)
                return  # the second ends normally, flushing what it was forked with
        time.sleep(60)

    threading.Timer(3, os.kill, (os.getpid(), signal.SIGTERM)).start()
    workers.run_workers(2, child, echo=print)
    """
)


def test_a_replaced_worker_takes_the_slot_of_the_one_it_replaces(tmp_path) -> None:
    """Slots index the workers' shared connection counts (placeintel.api.balance): a
    replacement taking a new slot would leave the dead worker's count behind. And what the
    parent said before a fork is said once: a child once wrote its copy of the parent's
    unflushed output again when it ended."""
    (tmp_path / "generations").write_text("")
    done = subprocess.run(
        [sys.executable, "-c", REPLACED, str(tmp_path / "generations")],
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    slots = [line for line in done.stdout.splitlines() if line.startswith("worker in slot")]
    assert sorted(slots) == ["worker in slot 0"] + ["worker in slot 1"] * 3
    assert done.stdout.count("stopped (exit code 1); starting another") == 1
    assert done.stdout.count("stopped (exit code 0); starting another") == 1
