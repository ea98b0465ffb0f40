"""Control characters in text that would be published: removed, and each removal reported.

No control character in a name or an address is ever meant, and each one does
harm downstream: a NUL ends a C string (GDAL, SQLite and many CSV readers cut
the value there), an escape sequence drives the terminal of whoever prints the
file, and a bidi override (U+202A-U+202E, U+2066-U+2069) makes text read in an
order other than the order it is stored in, which is how "Trojan Source"
(CVE-2021-42574) spoofs names. A lone surrogate cannot be written as UTF-8 at
all. So they are taken out of every text column of every source before any
stage sees it, and the report says where.

Tab, line feed and carriage return are kept: spreadsheets put line breaks in
multi-line addresses, and every published format quotes them. Left-to-right and
right-to-left *marks* (U+200E, U+200F) are kept too: they order Arabic or Hebrew
text correctly and cannot reorder what follows them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from placeintel.sources.arrow_text import arrow_strings
from placeintel.validate.report import Report

#: C0 controls except tab, LF and CR; DEL; the C1 controls; the bidi embeddings,
#: overrides and isolates; and lone surrogates (which UTF-8 cannot encode).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: CONTROL in RE2's syntax, for Arrow text (UTF-8, which cannot hold a lone surrogate).
_CONTROL_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
MAX_ROWS_PER_COLUMN = 20


def remove_control_characters(frame: object, path: str, report: Report) -> object:
    """The frame with control characters removed from its text, each removal a warning.

    Anything that is not a table (a raster) comes back as it is. The frame is
    copied only when something changes, so a clean source costs one scan.
    """
    if not isinstance(frame, pd.DataFrame):
        return frame
    cleaned: dict[str, pd.Series] = {}
    for column in frame.columns:
        series = frame[column]
        if not _is_text(series) or not _has_control(series):
            continue
        flagged = series.map(lambda v: isinstance(v, str) and CONTROL.search(v) is not None)
        _report(frame, series, flagged.astype(bool), path, str(column), report)
        cleaned[column] = series.map(lambda v: CONTROL.sub("", v) if isinstance(v, str) else v)
    labels = _clean_labels(frame.attrs.get("labels"), path, report)
    if not cleaned and labels is None:
        return frame
    out = frame.copy()  # keeps attrs (the readers' notes on columns and missing cells)
    for column, values in cleaned.items():
        out[column] = values
    if labels is not None:
        out.attrs["labels"] = labels
    return out


def _clean_labels(labels: object, path: str, report: Report) -> dict | None:
    """A census metadata file's measure labels are published too (release metadata, map)."""
    if not isinstance(labels, dict):
        return None
    dirty = [k for k, v in labels.items() if isinstance(v, str) and CONTROL.search(v)]
    for key in dirty:
        report.add(
            "warning",
            "control-characters",
            "control character(s) removed from the measure's label",
            file=path,
            field=str(key),
            value=", ".join(sorted({f"U+{ord(c):04X}" for c in CONTROL.findall(labels[key])})),
            hint="the label comes from the table's metadata file; fix it there",
        )
    if not dirty:
        return None
    return {k: CONTROL.sub("", v) if k in dirty else v for k, v in labels.items()}


def _has_control(series: pd.Series) -> bool:
    """One regex pass over the distinct values joined: national files stay fast; Arrow's
    over Arrow text, which takes no Python string per value (2.8 s at national scale)."""
    array = arrow_strings(series)
    if array is not None:
        return bool(pc.any(pc.match_substring_regex(array, _CONTROL_RE2)).as_py())
    distinct = pd.unique(series.to_numpy(dtype=object))
    return CONTROL.search("".join(v for v in distinct if isinstance(v, str))) is not None


def _report(
    frame: pd.DataFrame,
    series: pd.Series,
    flagged: pd.Series,
    path: str,
    column: str,
    report: Report,
) -> None:
    numbered = pd.api.types.is_integer_dtype(frame.index)  # file rows or feature numbers
    positions = np.flatnonzero(flagged.to_numpy())
    for position in positions[:MAX_ROWS_PER_COLUMN]:
        # The code points, not the text: the value may be anything, even personal.
        removed = sorted({f"U+{ord(c):04X}" for c in CONTROL.findall(series.iat[position])})
        report.add(
            "warning",
            "control-characters",
            "control character(s) removed from the published text",
            file=path,
            row=int(frame.index[position]) if numbered else None,
            field=column,
            value=", ".join(removed),
            hint="NUL, escape and bidi-override characters are never part of a name or "
            "address; fix the source so the next release needs no repair",
        )
    if len(positions) > MAX_ROWS_PER_COLUMN:
        report.add(
            "warning",
            "control-characters",
            f"{len(positions) - MAX_ROWS_PER_COLUMN} more row(s) had control characters removed",
            file=path,
            field=column,
        )


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object
