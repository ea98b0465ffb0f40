"""How much of `placeintel serve` one client can hold, as waitress settings.

waitress's defaults suit a server behind a proxy on a private network: 100
connections, idle ones kept for two minutes, request bodies up to 1 GB. On the
internet, 100 idle sockets are enough to stop it accepting anyone else. These
limits are the `serve` options' defaults. Kept free of heavy imports: the CLI
reads them to show its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from placeintel.errors import UsageError

#: The headers a reverse proxy sets, honoured only from `trusted_proxy`.
FORWARDED_HEADERS = ("x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port")


@dataclass(frozen=True)
class ServerLimits:
    """Connection limit, idle timeout (seconds) and request-body cap (bytes)."""

    connection_limit: int = 1000
    channel_timeout: int = 30
    # The API is read-only; a body is at most a CQL2 JSON filter in a POST.
    max_request_body: int = 1024 * 1024

    def open_files(self) -> int:
        """File descriptors the process needs: one per connection, and some to spare."""
        return self.connection_limit + 64

    def waitress(self, trusted_proxy: str | None = None) -> dict[str, Any]:
        """Keyword arguments for `waitress.serve`."""
        settings: dict[str, Any] = {
            "connection_limit": self.connection_limit,
            "channel_timeout": self.channel_timeout,
            # idle channels are looked for this often, so one is dropped within 1.5 timeouts
            "cleanup_interval": max(1, min(30, self.channel_timeout // 2)),
            "max_request_body_size": self.max_request_body,
            # select() cannot watch descriptors above 1023; poll() has no such limit
            "asyncore_use_poll": True,
        }
        if trusted_proxy:
            settings["trusted_proxy"] = trusted_proxy
            settings["trusted_proxy_headers"] = set(FORWARDED_HEADERS)
            settings["clear_untrusted_proxy_headers"] = True
        return settings


def allow_open_files(needed: int) -> None:
    """Raise this process's open-file limit to `needed` if it is lower, or say why not.

    Each connection holds a descriptor; at the common soft limit of 1024, a higher
    connection limit would fail on accept() long before it is reached.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return
    raise UsageError(
        f"--connection-limit needs {needed} open files but this system allows {hard} "
        "(ulimit -n); lower --connection-limit or raise the limit"
    )
