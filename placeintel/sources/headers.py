"""Map official column headers to placeintel's canonical names.

Official headers drift between releases ("Rank" vs "Rank (where 1 is most
deprived)"), so a canonical field lists the header prefixes it accepts and the
first column that starts with one of them wins.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from placeintel.sources.tables import _key, numeric


def match_headers(
    columns: pd.Index | list[str], known: dict[str, tuple[str, ...]]
) -> dict[str, str]:
    """Return {canonical: column} for every canonical field whose header is present."""
    found: dict[str, str] = {}
    keys = [(_key(c), c) for c in columns]
    for canonical, prefixes in known.items():
        for prefix in prefixes:
            wanted = _key(prefix)
            hit = next((col for key, col in keys if key == wanted), None)
            # Prefixes only for long official headers ("... Rank" vs "... Rank (where 1 is
            # most deprived)"); a short spelling like "lsoa" must match exactly.
            if hit is None and " " in wanted:
                hit = next((col for key, col in keys if key.startswith(wanted)), None)
            if hit is not None and hit not in found.values():
                found[canonical] = hit
                break
    return found


def canonical_frame(
    frame: pd.DataFrame, columns: dict[str, str], text_fields: set[str], path: Path
) -> pd.DataFrame:
    """Build a frame of canonical columns: codes stay text, everything else is parsed."""
    out = pd.DataFrame(index=frame.index)
    for canonical, column in columns.items():
        if canonical in text_fields:
            out[canonical] = frame[column].str.strip()
        else:
            out[canonical] = numeric(frame, column, path)
    out.attrs.update(frame.attrs)
    out.attrs["columns"] = columns
    out.attrs["missing_cells"] = missing_cells(out, text_fields)
    return out


def missing_cells(frame: pd.DataFrame, text_fields: set[str]) -> dict[str, int]:
    """Empty or suppressed cells per measure: missing, never zero; validation reports them."""
    return {
        c: int(frame[c].isna().sum())
        for c in frame.columns
        if c not in text_fields and frame[c].isna().any()
    }
