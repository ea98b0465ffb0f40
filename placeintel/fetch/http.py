"""The one HTTP client `placeintel fetch` uses: retries, time-outs, a size cap, resuming.

The client is `requests` with urllib3's `Retry` mounted on its adapter, not a hand-written
loop: urllib3 retries a refused connection, a read time-out and a 429/5xx answer with
exponential backoff (honouring `Retry-After`). What urllib3 cannot do is carry on a body
that stops half way (the headers had arrived, so the request "succeeded"): for that,
`download` asks again with `Range: bytes=N-` (and `If-Range`, so a file that changed in
between is fetched whole rather than spliced), a bounded number of times.

Every byte is counted against `limits.source_bytes()`; a server that sends more is cut off.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from placeintel.errors import DataError
from placeintel.limits import human_bytes, shorten, source_bytes

#: Seconds to connect, and to wait for the next bytes of an answer.
CONNECT_TIMEOUT = 20.0
READ_TIMEOUT = 120.0
#: Retries of one request on a refused connection, a time-out, 429 or 5xx.
RETRIES = 5
#: Seconds of the first back-off; each retry doubles it (0.5, 1, 2, 4, 8 s). The environment
#: variable changes it (tests use a few milliseconds).
BACKOFF = 0.5
BACKOFF_ENV = "PLACEINTEL_FETCH_BACKOFF"
#: Times a body that stopped part way is resumed with a Range request.
RESUMES = 5
#: The most bytes of a JSON answer (one ArcGIS page, a CKAN package) held in memory.
JSON_BYTES = 256 * 1024**2
#: Bytes read at a time: what a broken-off read had received of its last chunk is lost,
#: so the resumed request starts at most this far back.
CHUNK = 1 << 15
USER_AGENT = "placeintel-fetch (+https://github.com/placeintel)"

Progress = Callable[[int], None]


def session() -> requests.Session:
    """A session whose adapter retries with backoff on 429, 5xx, refusals and time-outs."""
    retry = Retry(
        total=RETRIES,
        connect=RETRIES,
        read=RETRIES,
        status=RETRIES,
        backoff_factor=_backoff(),
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    client = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    client.mount("http://", adapter)
    client.mount("https://", adapter)
    client.headers["User-Agent"] = USER_AGENT
    return client


def _backoff() -> float:
    try:
        return max(0.0, float(os.environ.get(BACKOFF_ENV, BACKOFF)))
    except ValueError:
        return BACKOFF


@dataclass
class Fetched:
    """What the server said about a file it sent."""

    url: str
    final_url: str
    bytes: int
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""


def _web_address(url: str, where: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise DataError(f"{shorten(url)!r} is not a web address (http:// or https://)", field=where)


def _get(client: requests.Session, url: str, where: str, **kwargs: Any) -> requests.Response:
    """GET with the session's retries; a failure is one clear `DataError`."""
    try:
        response = client.get(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), stream=True, **kwargs)
    except requests.exceptions.RetryError as exc:
        raise DataError(
            f"{shorten(url, 200)} still failed after {RETRIES} retries: {_reason(exc)}",
            field=where,
            rule="fetch",
        ) from None
    except requests.exceptions.RequestException as exc:
        raise DataError(
            f"cannot download {shorten(url, 200)}: {_reason(exc)}", field=where, rule="fetch"
        ) from None
    if response.status_code >= 400:
        response.close()
        raise DataError(
            f"{shorten(url, 200)} answered HTTP {response.status_code} "
            f"{response.reason or ''}".strip(),
            field=where,
            rule="fetch",
            hint="check the address in the manifest's download block"
            if response.status_code in (400, 404, 410)
            else None,
        )
    return response


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, in one short line."""
    while exc.__context__ is not None and not isinstance(exc, OSError | TimeoutError):
        exc = exc.__context__
    text = str(exc.args[0] if isinstance(exc, requests.RequestException) and exc.args else exc)
    return shorten(text or type(exc).__name__, 300)


def download(
    client: requests.Session,
    url: str,
    part: Path,
    where: str,
    progress: Progress | None = None,
) -> Fetched:
    """Stream `url` into `part`, resuming a partial `part` left by an earlier try.

    A sidecar `<part>.json` remembers the URL and ETag of the partial file, so a later
    run resumes only the same file (`If-Range`); a server that ignores `Range` (200)
    starts over.
    """
    _web_address(url, where)
    meta = part.with_name(part.name + ".json")
    etag = last_modified = ""
    if part.exists() and meta.exists():
        try:
            saved = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        if saved.get("url") == url:
            etag, last_modified = saved.get("etag", ""), saved.get("last_modified", "")
        else:
            part.unlink()
    elif part.exists():
        part.unlink()
    cap = source_bytes()
    resumes = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            if etag or last_modified:
                headers["If-Range"] = etag or last_modified
        response = _get(client, url, where, headers=headers)
        with response:
            if have and response.status_code != 206:
                have = 0  # the server sent the whole file: start over
            etag = response.headers.get("ETag", etag)
            last_modified = response.headers.get("Last-Modified", last_modified)
            meta.write_text(
                json.dumps({"url": url, "etag": etag, "last_modified": last_modified}),
                encoding="utf-8",
            )
            expected = _expected_total(response, have)
            if expected is not None and expected > cap:
                raise _too_big(url, where, cap)
            written = have
            try:
                with part.open("ab" if have else "wb") as handle:
                    for chunk in response.iter_content(CHUNK):
                        written += len(chunk)
                        if written > cap:
                            raise _too_big(url, where, cap)
                        handle.write(chunk)
                        if progress:
                            progress(written)
            except OSError as exc:  # requests' own errors are OSErrors too
                if not isinstance(
                    exc, requests.exceptions.RequestException | ConnectionError | TimeoutError
                ):
                    raise DataError(f"cannot write {part}: {exc}", field=where) from None
                resumes += 1
                if resumes > RESUMES:
                    raise DataError(
                        f"{shorten(url, 200)} broke off {RESUMES + 1} times (last at "
                        f"{human_bytes(written)}): {_reason(exc)}",
                        field=where,
                        rule="fetch",
                        hint="run placeintel fetch again: it resumes where it stopped",
                    ) from None
                continue
            if expected is not None and written < expected:
                resumes += 1
                if resumes > RESUMES:
                    raise DataError(
                        f"{shorten(url, 200)} sent {written:,} of {expected:,} bytes",
                        field=where,
                        rule="fetch",
                    )
                continue
            meta.unlink(missing_ok=True)
            return Fetched(
                url=url,
                final_url=response.url,
                bytes=written,
                etag=etag,
                last_modified=last_modified,
                content_type=response.headers.get("Content-Type", ""),
            )


def _expected_total(response: requests.Response, have: int) -> int | None:
    """The whole file's size, from Content-Range (206) or Content-Length (200)."""
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _too_big(url: str, where: str, cap: int) -> DataError:
    return DataError(
        f"{shorten(url, 200)} is larger than {human_bytes(cap)}, the most placeintel downloads",
        field=where,
        rule="fetch",
        hint="raise PLACEINTEL_MAX_SOURCE_BYTES if the file is really that large",
    )


def get_json(
    client: requests.Session, url: str, where: str, params: dict[str, Any] | None = None
) -> Any:
    """A JSON answer (an ArcGIS page, a CKAN package), within `JSON_BYTES`; an HTML page
    or anything else where JSON was expected is refused, naming the URL."""
    _web_address(url, where)
    response = _get(client, url, where, params=params)
    with response:
        body = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > JSON_BYTES:
                    raise DataError(
                        f"{shorten(response.url, 200)} answered more than "
                        f"{human_bytes(JSON_BYTES)} of JSON in one page",
                        field=where,
                        rule="fetch",
                    )
        except requests.exceptions.RequestException as exc:
            raise DataError(
                f"{shorten(response.url, 200)} broke off: {_reason(exc)}", field=where, rule="fetch"
            ) from None
        final = response.url
    from placeintel.fetch.sniff import refuse_html

    refuse_html(bytes(body[:2048]), final, "JSON", where)
    try:
        return json.loads(bytes(body))
    except ValueError as exc:
        raise DataError(
            f"{shorten(final, 200)} did not answer JSON ({exc}); starts "
            f"{shorten(bytes(body[:60]).decode('utf-8', 'replace'))!r}",
            field=where,
            rule="fetch",
        ) from None
