"""The program ends at once after a build, but only when nothing is left unfinished."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from placeintel import leave


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_exit_now_flushes_output_runs_exit_handlers_and_exits_with_the_code() -> None:
    done = _run(
        "import atexit, sys; from placeintel.leave import exit_now; "
        "atexit.register(lambda: print('handler ran')); "
        "print('buffered line', end=' '); sys.stderr.write('to stderr'); exit_now(3); "
        "print('not reached')"
    )
    assert done.returncode == 3
    assert done.stdout == "buffered line handler ran\n" and done.stderr == "to stderr"


def test_exit_now_returns_while_a_file_is_open_for_writing(tmp_path: Path) -> None:
    """In a process of its own (pytest keeps files open for writing to capture output)."""
    target = tmp_path / "half-written.txt"
    done = _run(
        "from placeintel.leave import exit_now\n"
        f"handle = open({str(target)!r}, 'w'); handle.write('not flushed yet')\n"
        "exit_now(5); print('stayed while writing')\n"
        "handle.close(); reading = open(handle.name)\n"
        "exit_now(6); print('not reached')\n"
    )
    assert done.returncode == 6, done.stderr  # reading is no reason to stay
    assert done.stdout == "stayed while writing\n"
    assert target.read_text() == "not flushed yet"


def test_exit_now_returns_while_another_thread_or_a_child_process_runs() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert worker in leave._other_threads()
        assert not leave._safe_to_skip_teardown()
    finally:
        release.set()
        worker.join()
    assert worker not in leave._other_threads()
    # A child process, in a process of its own (pytest's may have children of its own).
    done = _run(
        "import subprocess, sys; from placeintel.leave import exit_now\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "exit_now(5); print('stayed for the child')\n"
        "child.kill(); child.wait(); exit_now(6)\n"
    )
    assert done.returncode == 6 and done.stdout == "stayed for the child\n", done.stderr


def test_a_program_that_did_not_finish_a_build_exits_as_usual() -> None:
    """Only a successful build ends early; an error keeps its message and exit code."""
    done = _run(
        "import sys; sys.argv = ['placeintel', 'build', 'no-such-region']; "
        "from placeintel.cli import main; main()"
    )
    assert done.returncode == 2 and "unknown region 'no-such-region'" in done.stderr


def test_a_build_called_from_python_returns_and_keeps_nothing(tmp_path: Path) -> None:
    """click's runner (and any caller passing arguments) gets the usual return: only the
    program itself ends early, and the release is not held past the call."""
    from click.testing import CliRunner

    from placeintel import cli

    result = CliRunner().invoke(cli.main, ["build", "demo", "--releases", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Highest-risk wards:" in result.output
    assert cli._finished == []


def test_a_thread_gone_while_children_are_listed_is_passed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = leave._tasks()
    monkeypatch.setattr(leave, "_tasks", lambda: [Path("/proc/self/task/0"), *real])
    assert leave.child_pids() == [
        int(p) for task in real for p in task.joinpath("children").read_text().split()
    ]
