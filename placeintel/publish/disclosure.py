"""Statistical disclosure control for the published area tables: small counts of people are
blanked, and so is everything that would give them back.

Blanking a count below the threshold (primary suppression) does not hold on its own: a
review recovered blanked counts exactly from what stayed published - the indicator's 0-10
score and contribution, the component score and `deri_score` (each a function of the
blanked value), the scale's recorded ends (the lowest area's rate *is* a blanked area's
rate), and a ward's total less its other LSOAs. So the rule here is applied to the
indicator tables *before* the index is computed, and:

- every value made from a blanked count is blanked with it (the indicator; its 0-10 score
  and contribution follow, since the index then treats it as missing, as it treats any
  missing value: its weight goes to the rest of its component). The index, ranks, hot
  spots, rank intervals and recorded ranges are therefore functions of published values
  only, and give nothing back;
- within each ward, blanked LSOA counts of a measure must not be recoverable from the
  ward's total: complementary suppression blanks the next smallest LSOA counts until
  every blanked cell's feasible interval (given the ward's total and what the rule lets a
  reader infer) is at least 2 wide, and the blanked cells total at least the threshold;
  when no LSOA is left to blank, the ward's own count is blanked instead;
- a ward's ratio is taken over the LSOAs that have both its parts, which may be a part of
  the ward that separates blanked cells; such a ward value is withheld;
- the deprivation layer, which repeats the LSOAs' IoD counts, blanks the same cells, and
  the nation base's bounds leave out the region's blanked values (`without_blanked`).

Hand-written: the structure is two levels (LSOAs partition wards) with one ratio rule, and
the checks it needs are short and exact here; τ-ARGUS's Python wrapper (piargus) drives
the τ-ARGUS program rather than replacing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from placeintel.errors import DataError
from placeintel.indicators.catalogue import INDICATORS, Indicator

#: Indicators made from counts of people: the only ones disclosure control touches.
GUARDED: tuple[Indicator, ...] = tuple(
    i for i in INDICATORS if i.disclosive and i.numerator != i.key
)
#: Each guarded count, and the indicators made from it (as numerator or denominator).
DERIVED: dict[str, list[Indicator]] = {}
for _indicator in GUARDED:
    for _count in (_indicator.numerator, _indicator.denominator):
        if _count:
            DERIVED.setdefault(_count, []).append(_indicator)
#: The narrowest interval a reader may pin a blanked count to: 2 leaves at least three
#: whole numbers possible, so no guess is within ±0.5 of the truth for certain.
MIN_WIDTH = 2


@dataclass
class DisclosureRule:
    """Counts below `minimum_count` are blanked, with what would give them back."""

    minimum_count: int = 0
    keep_zero: bool = False
    #: "<layer>.<count>" -> cells blanked, for either reason.
    suppressed: dict[str, int] = field(default_factory=dict)
    #: "<layer>.<count>" -> of those, cells blanked only so that others cannot be recovered.
    complementary: dict[str, int] = field(default_factory=dict)
    #: "wards.<indicator>" -> ward values withheld as ratios over part of a ward.
    withheld: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, publish: dict[str, Any]) -> DisclosureRule:
        rule = publish.get("disclosure") or {}
        if not isinstance(rule, dict):
            raise DataError("must be a mapping", field="publish.disclosure")
        minimum = rule.get("minimum_count", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            raise DataError(
                f"must be a whole number, 0 or more, got {minimum!r}",
                field="publish.disclosure.minimum_count",
                hint="e.g. minimum_count: 10 (ONS practice); 0 publishes every count",
            )
        return cls(minimum, bool(rule.get("keep_zero", False)))

    def describe(self) -> dict[str, Any]:
        """The rule as the release records it, with how many cells it blanked."""
        zero = "; zero counts are published" if self.keep_zero else ""
        if self.minimum_count <= 0:
            return {
                "rule": "no count is blanked (publish.disclosure.minimum_count is 0)",
                "minimum_count": self.minimum_count,
                "keep_zero": self.keep_zero,
                "suppressed_cells": {},
            }
        return {
            "rule": "counts of people that an indicator is made from (its numerator or base) "
            f"below {self.minimum_count} are published blank{zero}. "
            "Within each ward, when a blanked LSOA count could be worked out from the ward's "
            "total (it is the only one blanked, the blanked counts total less than "
            f"{self.minimum_count}, or any of them would be narrowed to fewer than three "
            "possible values), the next smallest LSOA counts of that measure are blanked "
            "too, or the ward's own count when none is left (complementary suppression). "
            "Every value made from a blanked count is blanked with it: the indicator value, "
            "its 0-10 score and its contribution; a ward's ratio taken over only part of "
            "its LSOAs that would separate blanked counts is withheld. The index (component "
            "scores, deri_score, ranks, rank intervals, hot spots and the recorded ranges) "
            "is computed from the published values, a blanked indicator counting as "
            "missing, and the nation base's bounds leave out the region's blanked values. "
            "The column <count>_suppressed is true where a count was blanked, for either "
            "reason",
            "minimum_count": self.minimum_count,
            "keep_zero": self.keep_zero,
            "suppressed_cells": self.suppressed,
            "complementary_cells": self.complementary,
            "withheld_ward_values": self.withheld,
        }

    # --- the rule ------------------------------------------------------------------------

    def protect(
        self, wards: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame | None = None
    ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
        """Wards and (when they are published) their LSOAs, with small counts blanked and
        everything that would give them back. Frames with nothing to blank come back as
        they are, so a rule that blanks nothing changes no published byte."""
        if self.minimum_count <= 0:
            return wards, lsoas
        counts = [c for c in DERIVED if c in wards or (lsoas is not None and c in lsoas)]
        ward_blank = {c: self._small(wards[c]) for c in counts if c in wards}
        lsoa_blank: dict[str, pd.Series] = {}
        complementary: dict[str, int] = {}
        if lsoas is not None and "ward_code" in lsoas:
            for count in (c for c in counts if c in lsoas):
                primary = self._small(lsoas[count])
                lsoa_blank[count], extra = self._complement(
                    count, lsoas, primary, wards, ward_blank
                )
                complementary[f"lsoas.{count}"] = int((lsoa_blank[count] & ~primary).sum())
                if extra.any():
                    complementary[f"wards.{count}"] = int(extra.sum())
                    ward_blank[count] = ward_blank.get(count, extra) | extra
        withheld = self._withheld(wards, lsoas, lsoa_blank, ward_blank) if lsoa_blank else {}
        out_wards = _blank(wards, ward_blank, withheld)
        out_lsoas = _blank(lsoas, lsoa_blank, {}) if lsoas is not None else None
        for layer, blanks in (("wards", ward_blank), ("lsoas", lsoa_blank)):
            for count, mask in blanks.items():
                if mask.any():
                    self.suppressed[f"{layer}.{count}"] = int(mask.sum())
                    if complementary.get(f"{layer}.{count}"):
                        self.complementary[f"{layer}.{count}"] = complementary[f"{layer}.{count}"]
        self.withheld = {f"wards.{k}": int(v.sum()) for k, v in withheld.items() if v.any()}
        return out_wards, out_lsoas

    def protect_layer(
        self, layer: gpd.GeoDataFrame, key: str, lsoas: gpd.GeoDataFrame | None
    ) -> gpd.GeoDataFrame:
        """Another published layer of LSOAs (the deprivation file on its own geography):
        its small counts blanked, and every cell blanked in `lsoas` under the same code,
        so it cannot show what the LSOA table hides."""
        if self.minimum_count <= 0 or key not in layer:
            return layer
        blanks = {}
        for count in (c for c in DERIVED if c in layer):
            mask = self._small(layer[count])
            flag = f"{count}_suppressed"
            if lsoas is not None and flag in lsoas:
                hidden = set(lsoas.loc[lsoas[flag].astype(bool), "lsoa21_code"])
                mask |= layer[key].isin(hidden)
            blanks[count] = mask
        return _blank(layer, blanks, {}) if any(m.any() for m in blanks.values()) else layer

    def _small(self, values: pd.Series) -> pd.Series:
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        small = numbers.notna() & (numbers < self.minimum_count)
        if self.keep_zero:
            small &= numbers != 0
        return small

    def _complement(
        self,
        count: str,
        lsoas: pd.DataFrame,
        primary: pd.Series,
        wards: pd.DataFrame,
        ward_blank: dict[str, pd.Series],
    ) -> tuple[pd.Series, pd.Series]:
        """Complementary suppression of one count within each ward: the LSOA cells to blank,
        and the wards whose own count must go because no LSOA was left to blank.

        Each ward's LSOAs are found once, by grouping (not by comparing every LSOA's ward
        with each ward in turn, which grew as wards x LSOAs: minutes for England), and the
        checks run on plain arrays, positions standing for LSOAs."""
        ward_extra = pd.Series(False, index=wards.index)
        if count not in wards:
            return primary.copy(), ward_extra
        values = pd.to_numeric(lsoas[count], errors="coerce").astype(float).to_numpy()
        bounds = _upper_bounds(count, lsoas).to_numpy(dtype=float)
        blank = primary.to_numpy(dtype=bool, copy=True)
        ward_hidden = ward_blank.get(count, pd.Series(False, index=wards.index)).to_numpy()
        no_total = pd.to_numeric(wards[count], errors="coerce").isna().to_numpy()
        groups = lsoas.groupby("ward_code", sort=False).indices  # ward -> positions, in order
        nowhere = np.array([], dtype=np.intp)
        codes = lsoas.get("lsoa21_code")
        for position, ward in enumerate(wards["ward_code"]):
            if ward_hidden[position] or no_total[position]:
                continue  # no published total to take the published LSOAs from
            members = groups.get(ward, nowhere)
            members = members[~np.isnan(values[members])]
            hidden = [int(m) for m in members[blank[members]]]
            while hidden and not self._safe(values, bounds, members, hidden):
                # The next smallest published count; a zero that is published as zero adds
                # nothing to hide behind.
                shown = [int(m) for m in members if not blank[m] and values[m] > 0]
                if not shown:
                    ward_extra.iloc[position] = True
                    break
                assert codes is not None  # LSOAs grouped into wards carry their codes
                nearest = min(shown, key=lambda m: (values[m], str(codes.iloc[m])))
                blank[nearest] = True
                hidden.append(nearest)
        return pd.Series(blank, index=primary.index, name=primary.name), ward_extra

    def _safe(
        self, values: np.ndarray, bounds: np.ndarray, members: np.ndarray, hidden: list[int]
    ) -> bool:
        """Whether the blanked cells of one ward hold, its total being published.

        A reader knows their sum (the ward's total less the published LSOAs), that each is
        at least 1 (0 when zeros are blanked too), and at most the threshold less one or,
        being perhaps a complementary cell, the smallest count still published in the
        ward; a share's numerator is at most its base. The interval each cell can then
        take is [max(low, S - sum of the others' highs), min(its high, S - sum of the
        others' lows)]: exactly what those facts allow, for a single sum. `values` and
        `bounds` are per LSOA position; `members` and `hidden` are positions."""
        if len(hidden) < 2:
            return False
        total = float(values[hidden].sum())
        if total < self.minimum_count:
            return False
        low = 1.0 if self.keep_zero else 0.0
        shown = values[[m for m in members if m not in hidden]]
        shown = shown[shown > 0]
        ceiling = max(self.minimum_count - 1, float(shown.min())) if len(shown) else math.inf
        highs = np.minimum(bounds[hidden], ceiling)
        others_low = low * (len(hidden) - 1)
        for n in range(len(hidden)):
            lowest = max(low, total - float(np.delete(highs, n).sum()))
            highest = min(float(highs[n]), total - others_low)
            if highest - lowest < MIN_WIDTH:
                return False
        return True

    def _withheld(
        self,
        wards: pd.DataFrame,
        lsoas: pd.DataFrame,
        lsoa_blank: dict[str, pd.Series],
        ward_blank: dict[str, pd.Series],
    ) -> dict[str, pd.Series]:
        """Ward ratios over a part of the ward that separates its blanked LSOA cells.

        A ward's ratio is taken over the LSOAs with both its parts (a numerator the source
        suppressed leaves its LSOA out). With the ward's counts published, the ratio then
        tells the sum of the blanked cells inside that part, and the total tells the rest:
        when both sides hold some blanked cells, that splits them further than the ward's
        total does, so the ward's value is withheld."""
        withheld = {}
        for indicator in (i for i in GUARDED if i.denominator and i.key in wards):
            n, d = indicator.numerator, indicator.denominator
            if n not in lsoas or d not in lsoas:
                continue
            both = lsoas[n].notna() & lsoas[d].notna() & (pd.to_numeric(lsoas[d]) > 0)
            mask = pd.Series(False, index=wards.index)
            for count in (n, d):
                blank = lsoa_blank.get(count)
                if blank is None or not blank.any():
                    continue
                inside = (blank & both).groupby(lsoas["ward_code"]).any()
                outside = (blank & ~both).groupby(lsoas["ward_code"]).any()
                split = set(inside.index[inside & outside.reindex(inside.index, fill_value=False)])
                mask |= wards["ward_code"].isin(split)
            for count in (n, d):  # already blank with the ward's count
                if count in ward_blank:
                    mask &= ~ward_blank[count]
            if mask.any():
                withheld[indicator.key] = mask
        return withheld

    # --- the nation base -------------------------------------------------------------------

    @staticmethod
    def without_blanked(
        nation: pd.DataFrame, lsoas: pd.DataFrame, published: pd.DataFrame
    ) -> pd.DataFrame:
        """The nation's LSOA values with the region's blanked ones left out.

        The nation's files hold the region's LSOAs too; its bounds and extremes, which a
        release records (and its 0-10 scores reveal), would otherwise be a blanked area's
        rate whenever that area sits at an end of the nation's distribution."""
        if "lsoa21_code" not in lsoas or "lsoa21_code" not in published:
            return nation
        out = nation
        for key in (c for c in nation.columns if c in lsoas and c in published):
            raw = lsoas.set_index("lsoa21_code")[key]
            shown = published.set_index("lsoa21_code")[key]
            hidden = raw.index[raw.notna() & shown.reindex(raw.index).isna()]
            hidden = nation.index.intersection(hidden)
            if len(hidden):
                out = out.copy() if out is nation else out
                out.loc[hidden, key] = np.nan
        return out


def _upper_bounds(count: str, lsoas: pd.DataFrame) -> pd.Series:
    """The most each LSOA's count can be, as a reader can tell: a share's numerator is at
    most its published base; nothing bounds other counts."""
    high = pd.Series(math.inf, index=lsoas.index)
    for indicator in DERIVED[count]:
        share = indicator.numerator == count and indicator.scale == 100
        if share and indicator.denominator and indicator.denominator in lsoas:
            base = pd.to_numeric(lsoas[indicator.denominator], errors="coerce")
            high = np.minimum(high, base.fillna(math.inf))
    return high


def _blank(
    frame: pd.DataFrame, blanks: dict[str, pd.Series], withheld: dict[str, pd.Series]
) -> pd.DataFrame:
    """Blank each count where its mask says, flag it in `<count>_suppressed`, and blank the
    values made from it (and any 0-10 score or contribution already computed)."""
    if not any(m.any() for m in blanks.values()) and not any(m.any() for m in withheld.values()):
        return frame
    out = frame.copy()
    for count, mask in blanks.items():
        if not mask.any():
            continue
        out.loc[mask, count] = np.nan
        out[f"{count}_suppressed"] = mask.to_numpy()
        for indicator in DERIVED[count]:
            _blank_values(out, indicator.key, mask)
    for key, mask in withheld.items():
        _blank_values(out, key, mask)
    return out


def _blank_values(out: pd.DataFrame, key: str, mask: pd.Series) -> None:
    for column in (key, f"{key}_scaled", f"{key}_contribution"):
        if column in out:
            out.loc[mask, column] = np.nan
