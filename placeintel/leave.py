"""Leave the `placeintel` program at once after a successful build, skipping the teardown.

After a national build has printed its last line, the interpreter's own exit took about
0.7 s more: freeing the release's frames object by object (millions of strings and
geometries in object columns) and a last garbage collection walking every object still
alive, work whose only result is memory the operating system takes back anyway when the
process ends. So once the release is committed the program flushes its output, runs the
`atexit` handlers (logging's, `weakref.finalize`'s, multiprocessing's) and ends with
`os._exit`, which skips only that teardown.

Only where it is safe: the caller says the work is done (the release is committed), and
every other non-daemon thread has finished, no child process is left, and no file but
the standard streams is open for writing (on Linux, from /proc; elsewhere, or if in any
doubt, the interpreter exits as usual; so does a process handed a file open for writing by
its parent, e.g. under GNU `time -o`). A build run from Python (a notebook, a test, the
CLI through click's test runner) never comes here: only the program itself does.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from pathlib import Path

#: Access mode bits of an open file's flags (O_ACCMODE), and the read-only mode.
_ACCESS_MODE = 0o3
_READ_ONLY = 0o0


def exit_now(code: int = 0) -> None:
    """End the process with `code` without the interpreter's teardown, if it is safe;
    otherwise return, and the caller exits as usual."""
    if not _safe_to_skip_teardown():
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        _run_exit_handlers()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:  # a closed or broken stream: let the usual exit report it
        return
    os._exit(code)


def _run_exit_handlers() -> None:
    run = getattr(atexit, "_run_exitfuncs", None)  # what Python's own exit calls
    if run is None:
        raise RuntimeError("no way to run the atexit handlers here")
    run()


def _safe_to_skip_teardown() -> bool:
    return not _other_threads() and not _child_processes() and not _files_open_for_writing()


def _other_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


def _child_processes() -> bool:
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.active_children():
        return True
    try:
        return bool(child_pids())
    except OSError:
        return True  # cannot tell: assume there may be some


def child_pids() -> list[int]:
    """This process's child processes, started from any of its threads (a worker process
    may be started from any); OSError where /proc cannot tell (not Linux). A thread that
    ends while they are listed is passed over: its children went to the others."""
    pids: list[int] = []
    for task in _tasks():
        with contextlib.suppress(OSError):
            pids += [int(pid) for pid in task.joinpath("children").read_text().split()]
    return pids


def _tasks() -> list[Path]:
    return list(Path("/proc/self/task").iterdir())


def _files_open_for_writing() -> bool:
    """Whether a file other than stdin, stdout and stderr is open for writing (its data
    might still be on its way); True when this cannot be told."""
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return True
    for fd in descriptors:
        if fd <= 2:
            continue
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            info = Path(f"/proc/self/fdinfo/{fd}").read_text()
        except OSError:
            continue  # closed since it was listed (the listing's own descriptor, too)
        if not target.startswith("/") or target.startswith("/dev/"):
            continue  # a pipe, socket, anonymous inode or device, not a file
        flags = next(
            (int(line.split()[1], 8) for line in info.splitlines() if line.startswith("flags:")),
            None,
        )
        if flags is None or flags & _ACCESS_MODE != _READ_ONLY:
            return True
    return False
