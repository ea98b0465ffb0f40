"""Several waitress processes on one listening socket, forked from a loaded app.

waitress runs one process whose threads share the GIL, so `serve` used one core
whatever the machine had (issue 18: 1 thread 42 req/s, 8 threads 32). Here the
parent binds the socket, loads the app and the release's layers (`warm`), and
forks `workers` children that each run waitress on that socket. The children
share the parent's memory copy-on-write: the layers' Arrow/numpy buffers and the
pre-serialised features are read, never written, so they stay shared (the
garbage collector's own writes are avoided with `gc.freeze`), and the memory
freed while loading is handed back before the fork (placeintel.api.heap), so
they share only live data: national release, 2 workers, 0.9 GB PSS in all.

waitress rather than gunicorn: each child keeps waitress's asynchronous
connection handling and every limit of placeintel.api.limits as it was (idle
sockets cost nothing until they send a request, bodies are capped, X-Forwarded-*
are honoured from the trusted proxy only). gunicorn's sync workers hold one
connection each, and its gthread workers give each new connection a thread for
up to five seconds, so a few idle sockets delay everyone (a slowloris client).

The parent only watches: a child that dies is replaced (in the same slot, so that
placeintel.api.balance's counts stay one per worker), and SIGINT/SIGTERM stop them all.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

#: A child that dies within this many seconds of starting is not restarted again and
#: again; the server stops instead (it would die the same way every time).
FAST_FAILURE = 5.0
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def listening_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """The bound socket every worker accepts from (IPv6 when the host is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run_workers(
    workers: int,
    child: Callable[[int], Any],
    echo: Callable[[str], None] = print,
) -> None:
    """Fork `workers` processes running `child(slot)`, slot 0 to workers - 1 (a replaced
    worker takes the slot of the one it replaces); keep them running until stopped."""
    gc.collect()
    gc.freeze()  # the loaded objects stay out of the collector's reach: no copy-on-write
    children: dict[int, tuple[float, int]] = {}
    stopping = False

    def start(slot: int) -> None:
        # SIGINT/SIGTERM are held back across the fork: arriving between the fork and the
        # pid being recorded, stop() would miss the new worker and the parent would wait
        # for it for ever; arriving in the child before its handlers are reset, the child
        # would run the parent's stop(). Held signals are delivered on unblocking.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        sys.stdout.flush()  # else what the parent has buffered is written again by each child
        sys.stderr.flush()
        try:
            pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            raise
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            code = 0
            try:
                child(slot)
            except KeyboardInterrupt:
                pass
            except BaseException as error:  # say why, then leave without the parent's cleanup
                print(f"placeintel serve worker {os.getpid()}: {error!r}", file=sys.stderr)
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = (time.monotonic(), slot)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for slot in range(workers):
            if stopping:
                break
            start(slot)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            record = children.pop(pid, None)
            if record is None or stopping:
                continue
            started, slot = record
            if time.monotonic() - started < FAST_FAILURE:
                echo(f"worker {pid} failed at start ({_describe(status)}); stopping")
                stop(signal.SIGTERM, None)
                continue
            echo(f"worker {pid} stopped ({_describe(status)}); starting another")
            start(slot)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
