"""HTTP caching and compression for a service whose data never changes under a URL.

A release is immutable: until `current` moves to a new one, a URL asked with the same
format headers gets the same answer. So each successful GET answer carries an `ETag`
made from the release version, the server's configuration, the URL and the headers
that choose its format, language and encoding; a client (or proxy) sending it back in
`If-None-Match` gets a `304 Not Modified` without the answer being made again.
`Cache-Control` lets caches keep an answer for a minute and then revalidate (which
costs them a 304): the URL names no version, so a new release must show within it.

Answers of at least `MIN_GZIP` bytes in a text format (JSON, GeoJSON, HTML, CSV...)
are gzipped for clients that accept it (`Vary: Accept-Encoding`), at level 1: a
100-ward page (396 KB) compresses to 103 KB in about 3 ms at level 1, against 75 KB in
about 19 ms at level 6, and the page itself takes under 1 ms to make. Compressed
answers are kept, by their ETag, up to `CACHE_BYTES` per process, so the same page
is compressed once.

Answers that bring their own validators (release files, which Flask serves with their
own ETag and Last-Modified, streamed from disk) are left as they are. This sits inside
placeintel.api.headers.SecurityHeaders, so every answer, 304s included, has those.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import parse_etags

#: Smallest answer worth compressing (smaller ones fit in a packet or two anyway).
MIN_GZIP = 1024
#: Largest answer compressed in memory; bigger ones go out as they are.
MAX_GZIP = 32 * 1024 * 1024
#: Compressed answers kept per process (the newest; 100-ward pages are ~100 KB).
CACHE_BYTES = 16 * 1024 * 1024
#: How long a cache may reuse an answer before revalidating it.
CACHE_CONTROL = "public, max-age=60"
COMPRESSIBLE = (
    "application/json",
    "application/geo+json",
    "application/ld+json",
    "application/schema+json",
    "application/vnd.oai.openapi+json",
    "application/xml",
    "application/javascript",
    "text/",
)
#: Request headers that choose an answer's format, language or encoding.
VARYING = ("HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE")

StartResponse = Callable[..., Any]


class LinkedRelease:
    """The name of the release folder a `current` link leads to, as the ETags' version.

    Asked on every request: one `stat` through the link (the folder's device, inode and
    mtime change when `current` moves to another release) instead of `os.path.realpath`,
    which lstats each component of the path in Python; the name is worked out again only
    when the folder changed."""

    def __init__(self, link: str | os.PathLike[str]) -> None:
        self.link = link
        self._known: tuple[tuple[int, int, int], str] | None = None

    def __call__(self) -> str:
        try:
            found = os.stat(self.link)
        except OSError:  # no release (yet): named as before, without caching
            return os.path.basename(os.path.realpath(self.link))
        identity = (found.st_dev, found.st_ino, found.st_mtime_ns)
        known = self._known  # one read: threads replace the pair whole
        if known is None or known[0] != identity:
            known = (identity, os.path.basename(os.path.realpath(self.link)))
            self._known = known
        return known[1]


class ReleaseCaching:
    """WSGI middleware: ETag, Cache-Control and 304s from the release version; gzip."""

    def __init__(
        self,
        app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        version: Callable[[], str],
        salt: str = "",
    ) -> None:
        """`version()` names the release being served now; `salt` stands for whatever
        else shapes answers (the service's configuration and code)."""
        self.app = app
        self.version = version
        self.salt = salt
        self._gzipped: OrderedDict[str, bytes] = OrderedDict()
        self._gzipped_bytes = 0
        self._lock = threading.Lock()

    def etag(self, environ: dict[str, Any], gzip_ok: bool) -> str:
        parts = [
            self.salt,
            self.version(),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            *(environ.get(name, "") for name in VARYING),
            "gzip" if gzip_ok else "",
        ]
        digest = hashlib.blake2b("\n".join(parts).encode("utf-8", "replace"), digest_size=16)
        return f'"{digest.hexdigest()}"'

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        # HEAD answers are never compressed (there is no body to compress).
        gzip_ok = method == "GET" and _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        tag = self.etag(environ, gzip_ok)
        asked = environ.get("HTTP_IF_NONE_MATCH")
        if asked and parse_etags(asked).contains_weak(tag.strip('"')):
            start_response(
                "304 Not Modified",
                [("ETag", tag), ("Cache-Control", CACHE_CONTROL), ("Vary", "Accept-Encoding")],
            )
            return []

        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return written.append  # WSGI's write(): kept, sent before the iterable

        result = self.app(environ, capture)
        status, headers = captured["status"], list(captured["headers"])
        present = {name.lower(): value for name, value in headers}
        if not status.startswith("200") or "etag" in present or "content-encoding" in present:
            start_response(status, headers, captured["exc_info"])
            return _chain(written, result)
        headers.append(("ETag", tag))
        if "cache-control" not in present:
            headers.append(("Cache-Control", CACHE_CONTROL))
        kind = present.get("content-type", "").lower()
        if not kind.startswith(COMPRESSIBLE):
            start_response(status, headers)
            return _chain(written, result)
        headers = _vary(headers)
        length = present.get("content-length", "")
        size = int(length) if length.isdigit() else -1
        if not gzip_ok or not MIN_GZIP <= size <= MAX_GZIP:
            start_response(status, headers)
            return _chain(written, result)
        plain, body = self._compressed(tag, written, result)
        if body is None:  # did not shrink: sent as it was made
            start_response(status, headers)
            return [plain]
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [body]

    def _compressed(
        self, tag: str, written: list[bytes], result: Iterable[bytes]
    ) -> tuple[bytes, bytes | None]:
        """The answer read whole (and closed), and gzipped (kept by its ETag), or None if
        gzip does not make it smaller."""
        with self._lock:
            kept = self._gzipped.get(tag)
            if kept is not None:
                self._gzipped.move_to_end(tag)
        try:
            plain = b"".join([*written, *result])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if kept is not None:
            return plain, kept
        body = gzip.compress(plain, compresslevel=1, mtime=0)
        if len(body) >= len(plain):
            return plain, None
        with self._lock:
            if tag not in self._gzipped and len(body) <= CACHE_BYTES // 4:
                self._gzipped[tag] = body
                self._gzipped_bytes += len(body)
                while self._gzipped_bytes > CACHE_BYTES:
                    _, old = self._gzipped.popitem(last=False)
                    self._gzipped_bytes -= len(old)
        return plain, body


def _accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding allows gzip (`gzip;q=0` refuses it)."""
    for item in header.lower().split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def _vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers with Accept-Encoding added to Vary."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            if "accept-encoding" not in value.lower():
                headers[index] = (name, f"{value}, Accept-Encoding")
            return headers
    return [*headers, ("Vary", "Accept-Encoding")]


def _chain(written: list[bytes], result: Iterable[bytes]) -> Iterable[bytes]:
    """What the application wrote (rare) and then its iterable, closed as WSGI requires."""
    if not written:
        return result
    return _Chained(written, result)


class _Chained:
    def __init__(self, written: list[bytes], result: Iterable[bytes]) -> None:
        self.written, self.result = written, result

    def __iter__(self):
        yield from self.written
        yield from self.result

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close is not None:
            close()
