"""Ctrl+C never leaves the program hanging (`placeintel.interrupt`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: A program like the build when an interrupted import has left the import lock held: a
#: thread that never finishes, which Python's exit would wait for forever.
STUCK = """
import subprocess, sys, threading
from placeintel.interrupt import install
install(grace={grace})
threading.Thread(target=threading.Event().wait, name="stuck").start()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
threading.Event().wait()
"""


def _program(code: str, sigint: object = signal.SIG_DFL) -> subprocess.Popen:
    """`python -c code` from the project's folder, its output read as text, started with
    SIGINT's disposition `sigint`: by default as from a terminal, whatever this test run
    inherited (a suite started in the background by a script has SIGINT ignored, and so
    would every program it starts)."""
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # noqa: PLW1509
    )


def _started(grace: float) -> tuple[subprocess.Popen, int]:
    process = _program(STUCK.format(grace=grace))
    assert process.stdout is not None
    child = int(process.stdout.readline())
    return process, child


def _gone(pid: int, within: float = 5.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # reaped by init once its parent is gone; a zombie still answers kill(0)
        if Path(f"/proc/{pid}/stat").is_file():
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                return True
        time.sleep(0.05)
    return False


def test_a_stop_that_hangs_ends_after_the_grace_period() -> None:
    process, child = _started(grace=1)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert time.monotonic() - started < 15
    assert "KeyboardInterrupt" in err  # the usual stop was tried first
    assert "interrupted: still stopping after 1 s: ending now" in err
    assert _gone(child), "the child process was left running"


def test_a_second_ctrl_c_ends_at_once() -> None:
    process, _ = _started(grace=600)
    process.send_signal(signal.SIGINT)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted: stopping at once (second Ctrl+C)" in err


def test_a_stop_that_finishes_is_the_usual_one() -> None:
    """Nothing stuck: KeyboardInterrupt unwinds, and Python ends the process by SIGINT as
    its own handler would have."""
    code = (
        "import threading; from placeintel.interrupt import install; install(grace=600);"
        "print('ready', flush=True); threading.Event().wait()"
    )
    process = _program(code)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGINT
    assert "KeyboardInterrupt" in err and "interrupted:" not in err


def test_the_program_installs_it_and_python_callers_keep_theirs() -> None:
    code = (
        "import signal, sys\n"
        "from placeintel.cli import main\n"
        "try:\n"
        "    main.main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
        "sys.argv = ['placeintel', '--version']\n"
        "try:\n"
        "    main.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    process = _program(code)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    answers = [line for line in out.splitlines() if line in ("True", "False")]
    assert answers == ["True", "False"], err


def test_a_program_started_with_sigint_ignored_keeps_ignoring_it() -> None:
    """As a script's `placeintel build &` is started: Ctrl+C in the script leaves it be."""
    code = (
        "import signal, threading; from placeintel.interrupt import install; install(grace=1);"
        "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN, flush=True);"
        "threading.Event().wait(3)"
    )
    process = _program(code, sigint=signal.SIG_IGN)
    assert process.stdout is not None and process.stdout.readline() == "True\n"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
