"""A ward or an LSOA of a release, found by what a person types: its code or its name.

`placeintel explain`, `Release.explain` and `placeintel.find_area` all ask this one
function, so a name that works in a terminal works in a notebook, and a name that two
areas share (Brooklands in Manchester and in Trafford) is refused the same way
everywhere, with the candidates, their districts and their codes, so the user can say
which one they meant.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from placeintel.errors import UsageError
from placeintel.limits import AREA_QUERY_CHARS, ECHO_CHARS

#: How many near names a "not found" message offers.
SUGGESTIONS = 5


@dataclass(frozen=True)
class _Level:
    name: str
    plural: str
    code: str
    label: str


_WARDS = _Level("ward", "wards", "ward_code", "ward_name")
_LSOAS = _Level("lsoa", "LSOAs", "lsoa21_code", "lsoa21_name")


def normalised(text: str) -> str:
    """A name as compared: case, accents, curly apostrophes and runs of spaces ignored,
    because "St Mary’s", "st mary's" and "St  Marys'" are typed for the same ward."""
    decomposed = unicodedata.normalize("NFKD", str(text).replace("’", "'").replace("‘", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _levels(
    wards: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame | None
) -> list[tuple[_Level, pd.DataFrame]]:
    levels = [(_WARDS, wards)]
    # An LSOA table without scores (an older release) has nothing to explain.
    if lsoas is not None and "deri_score" in lsoas and _LSOAS.code in lsoas:
        levels.append((_LSOAS, lsoas))
    return levels


def _describe(level: _Level, row: pd.Series) -> str:
    """`Brooklands (Manchester, E05011234)`: what tells two areas of one name apart."""
    district = row.get("lad_name")
    where = f"{district}, " if isinstance(district, str) and district else ""
    return f"{row[level.label]} ({where}{row[level.code]})"


def find_area(
    wards: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame | None, code_or_name: str
) -> tuple[str, pd.Series]:
    """The level (`"ward"` or `"lsoa"`) and row of the area a code or a name means.

    A code is matched first, at either level, ignoring case; then a name, wards before
    LSOAs, ignoring case and accents. A name that several areas of one level share is
    a `UsageError` listing each with its district and code; a name that matches nothing
    is one suggesting the names that contain it or nearly match it ("Harpur" ->
    Harpurhey).
    """
    text = str(code_or_name).strip()
    if len(text) > AREA_QUERY_CHARS:
        raise UsageError(
            f"{text[:ECHO_CHARS]!r}... is {len(text):,} characters; a ward's or an LSOA's "
            f"code or name has at most {AREA_QUERY_CHARS}"
        )
    wanted = normalised(text)
    if not wanted:
        raise UsageError("give a ward's or an LSOA's code or name (it was empty)")
    levels = _levels(wards, lsoas)
    for level, frame in levels:
        by_code = frame[frame[level.code].astype(str).str.casefold() == text.casefold()]
        if not by_code.empty:
            return level.name, by_code.iloc[0]
    for level, frame in levels:
        names = frame[level.label].map(normalised)
        by_name = frame[names == wanted]
        if len(by_name) == 1:
            return level.name, by_name.iloc[0]
        if len(by_name) > 1:
            choices = "; ".join(_describe(level, row) for _, row in by_name.iterrows())
            raise UsageError(
                f"{len(by_name)} {level.plural} are called {text!r}: {choices}; "
                "give the code instead"
            )
    near = _suggestions(levels, wanted)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    raise UsageError(
        f"no ward or LSOA {text!r} in this release{hint} "
        "(give a ward's or an LSOA's code or its full name)"
    )


def _suggestions(levels: list[tuple[_Level, pd.DataFrame]], wanted: str) -> list[str]:
    """Areas whose name contains what was typed, or else nearly spells it."""
    found: list[str] = []
    for level, frame in levels:
        names = frame[level.label].map(normalised)
        containing = frame[names.str.contains(wanted, regex=False)]
        found += [_describe(level, row) for _, row in containing.iterrows()]
    if not found:
        for level, frame in levels:
            names = frame[level.label].map(normalised)
            close = set(difflib.get_close_matches(wanted, names.unique().tolist(), n=SUGGESTIONS))
            found += [_describe(level, row) for _, row in frame[names.isin(close)].iterrows()]
    return found[:SUGGESTIONS]
