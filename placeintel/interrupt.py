"""Ctrl+C stops the `placeintel` program, never leaving it hanging.

Python's own SIGINT handler raises KeyboardInterrupt wherever the main thread is. When that
is inside the import machinery, between taking the interpreter's global import lock and the
`try` that gives it back (`importlib._bootstrap._get_module_lock`), the lock stays held for
good: every other thread that then imports waits forever, and so does the interpreter's
exit, which joins each of them. A build imports on first use on several threads (the
warm-up thread, the stages' helper threads), so this happened: one in six Ctrl+Cs during
the demo build's second stage left the process waiting forever (`tests/publish/test_kill.py`).

So the program's handler still raises KeyboardInterrupt (the build stops as before, its
staging folder removed by the code it unwinds through) and also starts a watchdog: a
process still alive `GRACE` seconds later says so and ends with `os._exit`, after asking
its own child processes to stop; a second Ctrl+C ends it at once. Ending that way is as safe
for the releases as a kill: `current` is switched in one atomic step, and the next build
removes a staging folder left behind. Only the program installs it (`placeintel.cli`): a
build run from Python keeps its caller's handler.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from placeintel.leave import child_pids

#: Seconds the usual stop may take before the process ends without it.
GRACE = 10.0
#: The exit status of a process ended by SIGINT, as shells report it (128 + 2).
INTERRUPTED = 130

_stopping = threading.Event()


def install(grace: float = GRACE) -> None:
    """Handle SIGINT as described above: only from the main thread (Python's rule), and
    only in place of Python's own handler (a program started with SIGINT ignored, as a
    script's `cmd &` is, keeps ignoring it)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return

    def on_interrupt(signum: int, frame: object) -> None:
        if _stopping.is_set():
            _end("stopping at once (second Ctrl+C)")
        _stopping.set()
        threading.Thread(target=_watch, args=(grace,), name="stop-watchdog", daemon=True).start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)


def _watch(grace: float) -> None:
    threading.Event().wait(grace)
    _end(f"still stopping after {grace:g} s: ending now")


def _end(why: str) -> None:
    """Stop our child processes, say why, and end the process without Python's exit."""
    try:
        children = child_pids()
    except OSError:  # cannot tell (not Linux): they are left to finish on their own
        children = []
    for pid in children:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.write(sys.stderr.fileno(), f"\ninterrupted: {why}\n".encode())
    os._exit(INTERRUPTED)
