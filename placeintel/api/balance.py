"""Sharing new connections out evenly between `serve`'s worker processes.

Every worker polls the one listening socket, so every worker wakes when a client
connects, and whichever runs first accepts. A burst of keep-alive connections could
therefore land 3/13 on two workers (wrk's 16 connections: a ward by id at 2,700-2,800
req/s, against 3,800-4,100 when they landed 7/9 or 8/8), and a keep-alive connection
stays with the worker that took it. Here each worker publishes how many connections it
holds, in memory the forked workers share, and a worker woken for a new connection
while it holds more than one above the least loaded of the others leaves it to them.

How a worker holds back matters more than the rule:
- It steps aside only while a connection is actually waiting, and looks again every 5 ms
  (the listener out of its poll meanwhile, as the waiting connection would wake it at
  once). Otherwise it sleeps as waitress does. Once, a worker holding back slept for
  waitress's whole loop timeout (1 s) without the listener, and two workers each holding
  back on the other's stale count took about three connections a second: 130 idle
  connections kept a real request waiting.
- It waits at most `PATIENCE` for the others: the least loaded worker may be busy (its
  loop starved of the GIL by heavy requests), stopped, or dead and not yet replaced, and
  a client must not wait for it.
- A sibling that has not published for a few seconds (hung, or gone) is left out of the
  comparison altogether.

The kernel's own answers were weighed: SO_REUSEPORT spreads connections by a hash of
their addresses (16 connections land unevenly as often as not, and connections queued on
a dying worker's socket are lost), and EPOLLEXCLUSIVE needs epoll where waitress's loop
uses poll.
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
#: How long a worker leaving a waiting connection to the others sleeps before it looks at
#: the listener again.
HOLD_BACK_POLL = 0.005
#: How long a connection is left to the other workers before this one takes it anyway.
PATIENCE = 0.05
#: A sibling whose count is older than this is left out (waitress's loop publishes at
#: least once a second, even when idle).
STALE_AFTER = 3.0


class ConnectionShares:
    """Each worker's open connections and when it last said so, in shared memory made
    before the fork (multiprocessing's RawArray: a mapping of a deleted file in /dev/shm,
    no server process, no locks; each slot has one writer)."""

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


class BalancedServer:
    """A waitress server in one worker, run as waitress's own `run` does, that accepts
    only its share of new connections.

    The loop is waitress's, one poll at a time (`wasyncore.loop(count=1)`), so that the
    poll timeout can be chosen per turn; the server's own `readable` still runs every
    turn, with its connection limit and its closing of idle channels.
    """

    def __init__(self, server: Any, shares: ConnectionShares) -> None:
        self.server = server
        self.shares = shares
        self.limit_allows = server.readable
        self.accept = server.handle_accept
        server.readable = self.readable
        server.handle_accept = self.handle_accept
        self.resting = False  # the listener is left out of this turn's poll
        self.offered = False  # the listener was in this turn's poll
        self.woken = False  # ... and a connection was waiting on it
        self.waiting_since: float | None = None

    def readable(self) -> bool:
        allowed = self.limit_allows()  # first, always: it also closes idle channels
        self.offered = allowed and not self.resting
        return self.offered

    def handle_accept(self) -> None:
        """A connection is waiting: take it, unless it is another worker's to take and
        has not waited for longer than PATIENCE."""
        self.woken = True
        now = time.monotonic()
        if self.waiting_since is None:
            self.waiting_since = now
        if now - self.waiting_since < PATIENCE and not self.shares.may_accept(
            len(self.server.active_channels)
        ):
            self.resting = True
            return
        self.waiting_since = None
        self.accept()

    def turn(self) -> None:
        """One poll of waitress's loop: briefly without the listener after stepping aside
        for a waiting connection, else waitress's own timeout."""
        resting = self.resting
        self.woken = False
        wasyncore.loop(
            timeout=HOLD_BACK_POLL if resting else self.server.adj.asyncore_loop_timeout,
            use_poll=self.server.adj.asyncore_use_poll,
            map=self.server._map,
            count=1,
        )
        if resting:
            self.resting = False  # look at the listener again next turn
        elif self.offered and not self.woken:
            self.waiting_since = None  # nobody was waiting: the others took it
        self.shares.publish(len(self.server.active_channels))

    def run(self, slot: int) -> None:
        self.shares.take(slot)
        try:
            while self.server._map:
                self.turn()
        except (SystemExit, KeyboardInterrupt):
            self.server.task_dispatcher.shutdown()
