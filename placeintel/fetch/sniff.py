"""Is what arrived what was asked for? An HTML page, a truncated zip, a non-JSON answer.

Portals answer a moved or rate-limited file with an HTML page and status 200 ("page not
found", a login, a cookie wall). Saved under a `.csv` name it would fail later with a
puzzling parse error, or worse, be read; so each download is sniffed before it replaces
anything in the data folder, and refused naming the file, the URL and what was expected.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from placeintel.errors import DataError
from placeintel.limits import shorten

_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml[^>]*>\s*<html)", re.I)
#: What a file's name says it must be, when the download block does not say.
_BY_SUFFIX = {
    ".csv": "csv",
    ".zip": "zip",
    ".xlsx": "zip",  # a workbook is a zip: a truncated one is refused the same way
    ".json": "json",
    ".geojson": "geojson",
}


def expected_kind(path: str, expect: str | None) -> str:
    """`expect` if given, else what the file's name says (csv, zip, json, geojson, any)."""
    if expect:
        return expect
    return _BY_SUFFIX.get(Path(path).suffix.lower(), "any")


def refuse_html(head: bytes, url: str, wanted: str, where: str) -> None:
    """Refuse an HTML page where data was expected."""
    text = head.lstrip(b"\xef\xbb\xbf")
    if _HTML.match(text):
        title = re.search(rb"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        said = f" titled {shorten(title[1].decode('utf-8', 'replace').strip())!r}" if title else ""
        raise DataError(
            f"{shorten(url, 200)} sent an HTML page{said} where {wanted} was expected",
            field=where,
            rule="fetch",
            hint="the server may have moved the file or put up an error or login page; "
            "open the address in a browser",
        )


def check_file(path: Path, url: str, kind: str, where: str) -> None:
    """Refuse `path` unless it is a `kind` (csv, zip, json, geojson or any)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    wanted = {"csv": "CSV", "zip": "a zip", "json": "JSON", "geojson": "GeoJSON"}.get(kind)
    if wanted is None:
        return
    refuse_html(head, url, wanted, where)
    if not head:
        raise DataError(f"{shorten(url, 200)} sent an empty file", field=where, rule="fetch")
    if kind == "zip":
        check_zip(path, url, where)
    elif kind in ("json", "geojson") and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (
        b"{",
        b"[",
    ):
        raise DataError(
            f"{shorten(url, 200)} did not send {wanted}; it starts "
            f"{shorten(head[:60].decode('utf-8', 'replace'))!r}",
            field=where,
            rule="fetch",
        )
    elif kind == "csv" and b"\x00" in head:
        raise DataError(
            f"{shorten(url, 200)} sent binary data where CSV was expected",
            field=where,
            rule="fetch",
        )


def check_zip(path: Path, url: str, where: str) -> None:
    """Refuse a zip that is truncated or corrupt (its central directory or a member's CRC)."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise DataError(
            f"{shorten(url, 200)} sent a truncated or corrupt zip ({exc})",
            field=where,
            rule="fetch",
            hint="run placeintel fetch again; if it recurs, the file on the server is damaged",
        ) from None
    if bad is not None:
        raise DataError(
            f"{shorten(url, 200)} sent a corrupt zip: member {shorten(bad)!r} fails its check",
            field=where,
            rule="fetch",
        )
