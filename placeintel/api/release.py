"""The release folder over HTTP: a list of its files, the whole release as one zip, and its
method as a page.

A release never changes once written (a new build is a new folder, and `current` moves),
so its zip is built once, on the first request, into a hidden folder beside the releases
(`<releases>/<region>/.downloads/`) and then served from there. Nothing here follows a
symlink or a hidden entry, so neither the list nor the zip can reach outside the release.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from markdown_it import MarkdownIt

#: The folder, inside a region's releases folder, where each release's zip is kept.
DOWNLOADS = ".downloads"
#: A method.md bigger than this is not rendered as a page (it is still downloadable).
MAX_METHOD_BYTES = 2 * 1024 * 1024
#: One zip is built at a time: a burst of first requests waits for one build, not many.
_BUILDING = threading.Lock()
#: CommonMark with tables, and with raw HTML off: any markup in method.md is shown as text,
#: and markdown-it drops `javascript:`-style links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_MEDIATYPES = {
    ".csv": "text/csv",
    ".geojson": "application/geo+json",
    ".gpkg": "application/geopackage+sqlite3",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".md": "text/markdown",
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
}


@dataclass(frozen=True)
class ReleaseFile:
    """One published file: its path inside the release (with `/`) and its size."""

    path: str
    bytes: int

    @property
    def mediatype(self) -> str:
        suffix = Path(self.path).suffix.lower()
        guessed = mimetypes.guess_type(self.path)[0]
        return _MEDIATYPES.get(suffix) or guessed or "application/octet-stream"


def release_files(folder: Path) -> list[ReleaseFile]:
    """Every regular file of the release: the top level first, then each subfolder's.

    Symlinks and hidden names are skipped, so what is listed and zipped is the release itself.
    """
    found: list[ReleaseFile] = []
    for root, folders, names in os.walk(folder, followlinks=False):
        here = Path(root)
        folders[:] = [d for d in folders if not d.startswith(".") and not (here / d).is_symlink()]
        for name in names:
            path = here / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            found.append(ReleaseFile(path.relative_to(folder).as_posix(), path.stat().st_size))
    return sorted(found, key=lambda f: (f.path.count("/"), f.path))


def zip_name(folder: Path) -> str:
    """`<region>-<version>`: the zip's name and the one folder inside it."""
    return f"{folder.parent.name}-{folder.name}"


def _write_zip(folder: Path, target: IO[bytes]) -> None:
    """Each file is read and compressed in chunks: memory stays small whatever the release."""
    name = zip_name(folder)
    with zipfile.ZipFile(
        target, "w", zipfile.ZIP_DEFLATED, compresslevel=6, strict_timestamps=False
    ) as archive:
        for item in release_files(folder):
            archive.write(folder / item.path, f"{name}/{item.path}")


def release_zip(folder: Path) -> Path | IO[bytes]:
    """The release as one zip: a file kept in the releases folder, built on first use.

    If that folder cannot be written, the zip is built into an anonymous temporary file
    (gone once sent) instead, so a read-only deployment still serves it.
    """
    cache = folder.parent / DOWNLOADS
    target = cache / f"{zip_name(folder)}.zip"
    if target.is_file():
        return target
    with _BUILDING:
        if target.is_file():  # built while this request waited
            return target
        partial = cache / f".{target.name}.{os.getpid()}.partial"
        try:
            cache.mkdir(exist_ok=True)
            with partial.open("wb") as handle:
                _write_zip(folder, handle)
            os.replace(partial, target)  # whole or absent, never half a zip
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            # Sent, then closed (and so deleted) by the server: no `with` here.
            spare = tempfile.TemporaryFile()  # noqa: SIM115
            _write_zip(folder, spare)
            spare.seek(0)
            return spare
        _forget_old_zips(cache, keep=target)
    return target


def _forget_old_zips(cache: Path, keep: Path) -> None:
    """Remove the zips of releases that are no longer there (their folders were deleted)."""
    region = cache.parent
    for old in cache.glob("*.zip"):
        version = old.stem.removeprefix(f"{region.name}-")
        if old != keep and not (region / version).is_dir():
            old.unlink(missing_ok=True)


def method_page(path: Path) -> tuple[str, str] | None:
    """method.md as (title, HTML), or None if it is missing or too big to render.

    The HTML is markdown-it's, with raw HTML switched off: every character of the file is
    escaped or becomes markup markdown-it makes itself.
    """
    try:
        if path.stat().st_size > MAX_METHOD_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    tokens = _MARKDOWN.parse(text)
    title = next(
        (
            tokens[i + 1].content
            for i, token in enumerate(tokens)
            if token.type == "heading_open" and i + 1 < len(tokens)
        ),
        "Method",
    )
    return title, _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})


def human_size(size: int) -> str:
    """Bytes as a person reads them (1 kB = 1,000 bytes, as file managers show)."""
    if size < 1000:
        return f"{size:,} bytes"
    amount, units = size / 1000, ["kB", "MB", "GB"]
    while amount >= 1000 and len(units) > 1:
        amount, units = amount / 1000, units[1:]
    return f"{amount:,.1f} {units[0]}"
