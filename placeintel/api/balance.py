"""Sharing new connections out evenly between `serve`'s worker processes.

Every worker polls the one listening socket, so every worker wakes when a client
connects, and whichever runs first accepts. A burst of keep-alive connections could
therefore land 3/13 on two workers (wrk's 16 connections: a ward by id at 2,700-2,800
req/s, against 3,800-4,100 when they landed 7/9 or 8/8), and a keep-alive connection
stays with the worker that took it. Here each worker publishes how many connections it
holds, in memory the forked workers share, and leaves the listener out of its poll
while it holds more than one above the least loaded of the others; the others then take
the newcomers from the socket's backlog.

A worker holding back polls with a short timeout, so that it looks at the counts again
within milliseconds: once it slept for waitress's whole loop timeout (1 s) without the
listener, and two workers each holding back on the other's stale count accepted about
three connections a second (130 idle connections then kept a real request waiting).
A sibling that has not published for a few seconds (hung, or dead and not yet replaced)
is left out of the comparison, so it never holds the others back.

The kernel's own answers were weighed: SO_REUSEPORT spreads connections by a hash of
their addresses (16 connections land unevenly as often as not, and connections queued
on a dying worker's socket are lost), and EPOLLEXCLUSIVE needs epoll where waitress's
loop uses poll.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import time
from typing import Any

from waitress import wasyncore

#: A worker accepts while it holds at most this many connections above the least loaded
#: other worker.
SLACK = 1
#: How long a worker holding back sleeps in poll before it looks at the counts again.
HOLD_BACK_POLL = 0.005
#: A sibling whose count is older than this is left out (waitress's loop publishes at
#: least once a second, even when idle).
STALE_AFTER = 3.0


class ConnectionShares:
    """Each worker's open connections and when it last said so, in an anonymous shared
    mapping made before the fork (no file, no server process)."""

    def __init__(self, workers: int) -> None:
        self.counts = multiprocessing.RawArray(ctypes.c_int, max(workers, 1))
        self.stamps = multiprocessing.RawArray(ctypes.c_double, max(workers, 1))
        self.slot = 0

    def take(self, slot: int) -> None:
        """In a new worker: this process is worker `slot` (a replaced worker's slot is
        taken over from zero)."""
        self.slot = slot
        self.publish(0)

    def publish(self, mine: int) -> None:
        self.counts[self.slot] = mine
        self.stamps[self.slot] = time.monotonic()  # one clock for every process

    def may_accept(self, mine: int) -> bool:
        """Publish that this worker holds `mine` connections; whether it should accept."""
        self.publish(mine)
        fresh = self.stamps[self.slot] - STALE_AFTER
        others = [
            count
            for i, (count, stamp) in enumerate(zip(self.counts, self.stamps, strict=True))
            if i != self.slot and stamp >= fresh
        ]
        return not others or mine <= min(others) + SLACK


def run_balanced(server: Any, shares: ConnectionShares, slot: int) -> None:
    """Run `server` (a waitress server) as waitress's own `run` does, accepting only this
    worker's share of new connections.

    The loop is waitress's, one poll at a time (`wasyncore.loop(count=1)`), so that the
    poll timeout can be chosen per turn, before the poll; the server's own `readable`
    still runs every turn, with its connection limit and its closing of idle channels.
    """
    shares.take(slot)
    adj = server.adj
    limit_allows = server.readable
    holding_back = False

    def readable() -> bool:
        return limit_allows() and not holding_back

    server.readable = readable
    try:
        while server._map:
            holding_back = not shares.may_accept(len(server.active_channels))
            wasyncore.loop(
                timeout=HOLD_BACK_POLL if holding_back else adj.asyncore_loop_timeout,
                use_poll=adj.asyncore_use_poll,
                map=server._map,
                count=1,
            )
    except (SystemExit, KeyboardInterrupt):
        server.task_dispatcher.shutdown()
