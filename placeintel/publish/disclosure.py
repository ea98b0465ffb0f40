"""Statistical disclosure control for published ward and LSOA tables: small counts are blanked.

The rule comes from the manifest's `publish.disclosure` and is recorded in the
release's data package, so users know why a cell is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from placeintel.indicators.catalogue import INDICATORS


@dataclass
class DisclosureRule:
    """Counts below `minimum_count` are blanked, with the values derived from them."""

    minimum_count: int = 0
    keep_zero: bool = False
    suppressed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, publish: dict[str, Any]) -> DisclosureRule:
        rule = publish.get("disclosure") or {}
        return cls(int(rule.get("minimum_count", 0)), bool(rule.get("keep_zero", False)))

    def describe(self) -> dict[str, Any]:
        return {
            "rule": f"counts below {self.minimum_count} are published blank, with the "
            "indicator value, 0-10 score and contribution derived from them; the column "
            "<count>_suppressed is true where that happened"
            + ("; zero counts are kept" if self.keep_zero else ""),
            "minimum_count": self.minimum_count,
            "keep_zero": self.keep_zero,
            "suppressed_cells": self.suppressed,
        }

    def apply(self, wards: pd.DataFrame, layer: str = "wards") -> pd.DataFrame:
        """Blank small counts and what is derived from them; flag each blanked cell.
        `layer` names the table in the record of how many cells were blanked."""
        if self.minimum_count <= 0:
            return wards
        out = wards.copy()
        for indicator in (i for i in INDICATORS if i.disclosive):
            for count in (indicator.numerator, indicator.denominator):
                if not count or count not in out or count == indicator.key:
                    continue
                values = out[count].to_numpy(dtype=float)
                small = np.isfinite(values) & (values < self.minimum_count)
                if self.keep_zero:
                    small &= values != 0
                if not small.any():
                    continue
                flag = f"{count}_suppressed"
                out[flag] = (out.get(flag, False)) | small
                out.loc[small, count] = np.nan
                derived_columns = (
                    indicator.key,
                    f"{indicator.key}_scaled",
                    f"{indicator.key}_contribution",
                )
                for derived in derived_columns:
                    if derived in out:
                        out.loc[small, derived] = np.nan
                self.suppressed[f"{layer}.{count}"] = int(out[flag].sum())
        return out
