"""`kind: file`: a CSV, zip or any file at a web address, one zip member, cut to the region.

A national file (a Nomis Census bulk table, the ONSPD, an Ofcom release, an IoD2025 CSV)
can be a gigabyte, so nothing here holds it whole: the zip member is streamed out of the
archive and through the csv module a row at a time, and only the rows whose area code is
one of the region's are written.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from placeintel.errors import DataError
from placeintel.fetch.sniff import check_zip
from placeintel.limits import COLUMNS, shorten, source_bytes
from placeintel.sources.tables import cells_within_limit


def extract_member(archive_path: Path, member: str, target: Path, url: str, where: str) -> None:
    """Copy one member of a zip to `target`, streamed, within the size limit."""
    check_zip(archive_path, url, where)
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
        if member not in names:
            near = [n for n in names if Path(n).name == Path(member).name]
            shown = ", ".join(shorten(n) for n in (near or names)[:10])
            raise DataError(
                f"the zip from {shorten(url, 200)} has no member {shorten(member)!r}",
                field=f"{where}.member",
                hint=f"its members include {shown}",
            )
        info = archive.getinfo(member)
        if info.file_size > source_bytes():
            raise DataError(
                f"member {shorten(member)!r} of {shorten(url, 200)} is "
                f"{info.file_size:,} bytes, more than the limit",
                field=f"{where}.member",
                hint="raise PLACEINTEL_MAX_SOURCE_BYTES if it is really that large",
            )
        with archive.open(info) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)


def _text_lines(handle: IO[bytes]) -> io.TextIOWrapper:
    """The file's text, decoded as it is read (UTF-8 with or without BOM, else cp1252)."""
    head = handle.read(1 << 16)
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        encoding = "utf-8-sig" if exc.start > len(head) - 4 else "cp1252"
    handle.seek(0)
    return io.TextIOWrapper(handle, encoding=encoding, newline="")


def count_rows(path: Path) -> int:
    """Data rows of a CSV (lines after the header), counted without holding the file."""
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return max(lines - 1, 0)


def first_word(cell: str) -> str:
    """The code in a cell: `E01004766 : Bolton 005A` -> `E01004766` (codes hold no spaces)."""
    return cell.strip().split(" ", 1)[0] if cell else ""


@cells_within_limit()  # the csv module's cell limit, put back afterwards
def rewrite_csv(
    source: Path,
    target: Path,
    where: str,
    column: str | None = None,
    codes: frozenset[str] | None = None,
    rename: dict[str, str] | None = None,
) -> int:
    """Copy the CSV `source` to `target`, keeping only rows whose `column` holds one of
    `codes` (when given) and renaming header cells; returns the data rows written.

    Lines above the header (a Nomis extract's preamble) are kept as they are; the header
    is the first row that has `column` (or, without a subset, the first row).
    """
    rename = rename or {}
    kept = 0
    with source.open("rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        lines = _text_lines(raw)
        reader = csv.reader(lines)
        writer = csv.writer(out, lineterminator="\r\n" if _crlf(source) else "\n")
        position: int | None = None
        try:
            for number, row in enumerate(reader, start=1):
                if len(row) > COLUMNS:
                    raise DataError(
                        f"row has {len(row):,} columns, more than {COLUMNS:,}",
                        file=source.name,
                        row=number,
                    )
                if position is None:
                    if column is None or column in row:
                        position = row.index(column) if column is not None else -1
                        writer.writerow([rename.get(cell, cell) for cell in row])
                    elif number > 100:
                        raise DataError(
                            f"no header with the column {shorten(column)!r} in the first 100 rows",
                            file=source.name,
                            field=f"{where}.subset.column",
                            hint=f"the first row is {shorten(','.join(_first_row(source)), 200)}",
                        )
                    else:
                        writer.writerow(row)
                    continue
                if codes is None or (position < len(row) and first_word(row[position]) in codes):
                    writer.writerow(row)
                    kept += 1
        except csv.Error as exc:
            raise DataError(f"not a readable CSV: {exc}", file=source.name, field=where) from None
        except UnicodeDecodeError as exc:
            raise DataError(
                f"not text in a known encoding: {exc.reason}", file=source.name, field=where
            ) from None
    if position is None:
        raise DataError(
            "the file is empty" if column is None else f"no column {shorten(column)!r}",
            file=source.name,
            field=f"{where}.subset.column" if column else where,
        )
    if codes is not None and kept == 0:
        raise DataError(
            f"no row's {shorten(column or '')!r} is one of the region's {len(codes):,} codes "
            f"(e.g. {', '.join(sorted(codes)[:3])})",
            file=source.name,
            field=f"{where}.subset",
            hint="check subset.column and subset.codes",
        )
    return kept


def _crlf(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\r\n" in handle.read(1 << 16)


def _first_row(path: Path) -> list[str]:
    with path.open("rb") as handle:
        line = handle.readline(4096).decode("utf-8", "replace")
    return next(csv.reader([line]), [])


@cells_within_limit()  # the csv module's cell limit, put back afterwards
def column_values(path: Path, column: str, where: str) -> frozenset[str]:
    """Every value of `column` in the CSV `path` (another source's file), as area codes."""
    values: set[str] = set()
    with path.open("rb") as raw:
        reader = csv.reader(_text_lines(raw))
        header: list[str] | None = None
        try:
            for row in reader:
                if header is None:
                    header = row
                    if column not in header:
                        raise DataError(
                            f"has no column {shorten(column)!r}",
                            file=path,
                            field=where,
                            hint=f"its columns are {shorten(', '.join(header), 200)}",
                        )
                    position = header.index(column)
                    continue
                if position < len(row) and row[position].strip():
                    values.add(first_word(row[position]))
        except csv.Error as exc:
            raise DataError(f"not a readable CSV: {exc}", file=path, field=where) from None
        except UnicodeDecodeError as exc:
            raise DataError(f"not text: {exc.reason}", file=path, field=where) from None
    return frozenset(values)


def subset_codes(spec: Any, lad_codes: Iterable[str], path_of: Any, where: str) -> frozenset[str]:
    """The codes a `subset:` (or `where: lad`) keeps: `lad`, a list, or another source's column."""
    if spec == "lad":
        codes = frozenset(lad_codes)
        if not codes:
            raise DataError(
                "`codes: lad` needs the manifest's top-level `lad_codes`",
                field=where,
                hint="list the region's districts, e.g. lad_codes: [E08000001, E08000002]",
            )
        return codes
    if isinstance(spec, list):
        return frozenset(str(c).strip() for c in spec)
    return column_values(path_of(spec["source"], where), spec["column"], where)
