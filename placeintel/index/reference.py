"""The nation base: each indicator's 0-10 scale set by every LSOA of the nation.

GMCA publishes DERI scaled within England: each LSOA indicator is min-max scaled
over all of England's LSOAs, so a score means the same in Bolton as in Cornwall.
The national files named under the manifest's `nation:` are read and validated
like the region's and turned into LSOA indicators by the same code; the base's
bounds are then taken over the LSOAs whose codes start with `nation.codes`
(E01: England, as in DERI; Wales's W01 LSOAs are left out).

The cap: a plain minimum and maximum let one extreme LSOA squash everyone else.
IoD2025's employment rate reaches 0.978 in one LSOA of England while the next is
0.661 and Greater Manchester's highest is 0.555, so uncapped, no GM LSOA could
score above 5.7 of 10 on it. The bounds are therefore the `cap_percentiles` of
the national distribution (default 0.1st and 99.9th: about 34 LSOAs at each end
of England), beyond which a value scores 0 or 10. `cap_percentiles: [0, 100]`
gives DERI's plain min-max. The rule, the uncapped extremes and how many areas
sit beyond the bounds are printed by the build and recorded in the release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from placeintel.errors import DataError
from placeintel.region import NationBase


@dataclass(frozen=True)
class NationReference:
    """The bounds each indicator is scaled between, and how they were set."""

    title: str
    codes: str
    cap: tuple[float, float]
    #: Bounds used for scaling: the cap percentiles of the national LSOA values.
    ranges: dict[str, tuple[float, float]]
    #: The plain national minimum and maximum, for comparison.
    extremes: dict[str, tuple[float, float]]
    #: LSOAs of the base with a value, per indicator.
    areas: dict[str, int]
    #: National LSOAs below the lower and above the upper bound, per indicator.
    beyond: dict[str, tuple[int, int]] = field(default_factory=dict)
    edition: str = ""

    def describe(self) -> dict[str, Any]:
        """What the release records about its base."""
        low, high = self.cap
        return {
            "title": self.title,
            "areas": f"2021 LSOAs whose code starts {self.codes}",
            "rule": (
                f"each indicator is scaled 0-10 between its {_ordinal(low)} and "
                f"{_ordinal(high)} percentile over these LSOAs; values beyond score 0 or 10"
                if (low, high) != (0.0, 100.0)
                else "each indicator is scaled 0-10 between its minimum and maximum over "
                "these LSOAs (no cap)"
            ),
            "cap_percentiles": [low, high],
            "deprivation_edition": self.edition,
            "indicators": {
                key: {
                    "bounds": [round(a, 6), round(b, 6)],
                    "national_min_max": [round(v, 6) for v in self.extremes[key]],
                    "lsoas": self.areas[key],
                    "lsoas_below_and_above_bounds": list(self.beyond.get(key, (0, 0))),
                }
                for key, (a, b) in self.ranges.items()
            },
        }


def nation_reference(values: pd.DataFrame, base: NationBase, edition: str = "") -> NationReference:
    """Each indicator's national bounds, from the nation's LSOA indicator values (indexed by
    LSOA code; only the codes of the base count)."""
    values = values[values.index.astype(str).str.startswith(base.codes)]
    if values.empty:
        raise DataError(
            f"the nation base has no LSOA whose code starts {base.codes!r}",
            field="nation.codes",
            hint="England's LSOA codes start E01, Wales's W01; check nation.codes and the "
            "nation's files",
        )
    ranges, extremes, areas, beyond = {}, {}, {}, {}
    for key in values.columns:
        column = values[key].dropna().to_numpy(dtype=float)
        column = column[np.isfinite(column)]
        if column.size == 0:
            continue
        low, high = np.percentile(column, base.cap)
        ranges[key] = (float(low), float(high))
        extremes[key] = (float(column.min()), float(column.max()))
        areas[key] = int(column.size)
        beyond[key] = (int((column < low).sum()), int((column > high).sum()))
    return NationReference(
        base.title, base.codes, base.cap, ranges, extremes, areas, beyond, edition
    )


def clipped(values: pd.Series, bounds: tuple[float, float]) -> tuple[int, int]:
    """How many of a region's values fall below and above the base's bounds."""
    finite = values.dropna()
    return int((finite < bounds[0]).sum()), int((finite > bounds[1]).sum())


def _ordinal(value: float) -> str:
    text = f"{value:g}"
    if text.endswith(("11", "12", "13")):
        return f"{text}th"
    return text + {"1": "st", "2": "nd", "3": "rd"}.get(text[-1], "th")
