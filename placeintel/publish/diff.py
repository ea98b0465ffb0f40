"""What changed between two releases: rows per resource, and wards whose risk class moved.

Tables are compared by their Table Schema primary key, so a reordered file is
not a change; numbers are compared with a tolerance, so a re-run that only
differs in the last floating-point digit is not a change either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from placeintel.errors import UsageError
from placeintel.index.classes import risk_classes


@dataclass
class ResourceChange:
    name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


@dataclass
class ClassMove:
    ward_code: str
    ward_name: str
    before: int
    after: int
    score_before: float
    score_after: float


@dataclass
class DatasetChange:
    """A council dataset across two releases: rows before and after (None when absent)."""

    id: str
    title: str
    rows_before: int | None
    rows_after: int | None
    added: int = 0
    removed: int = 0
    changed: int = 0

    def describe(self) -> str:
        if self.rows_before is None:
            return f"{self.id}: new dataset, {self.rows_after:,} rows"
        if self.rows_after is None:
            return f"{self.id}: removed (had {self.rows_before:,} rows)"
        return (
            f"{self.id}: {self.rows_before:,} -> {self.rows_after:,} rows ({self.added} added, "
            f"{self.removed} removed, {self.changed} changed)"
        )


@dataclass
class ReleaseDiff:
    before: str
    after: str
    resources: list[ResourceChange]
    moves: list[ClassMove]
    #: The council datasets (`placeintel.datasets` in each data package).
    datasets: list[DatasetChange] = field(default_factory=list)

    def to_text(self) -> str:
        lines = [f"{self.before} -> {self.after}"]
        lines.append(f"  {'resource':<14}{'added':>8}{'removed':>9}{'changed':>9}")
        for change in self.resources:
            lines.append(
                f"  {change.name:<14}{len(change.added):>8}{len(change.removed):>9}"
                f"{len(change.changed):>9}"
            )
        if self.datasets:
            lines.append(f"Council datasets: {len(self.datasets)}")
            lines += [f"  {change.describe()}" for change in self.datasets]
        lines.append(f"Wards whose risk class moved (quintiles, 1 = lowest): {len(self.moves)}")
        for move in self.moves:
            arrow = "up" if move.after > move.before else "down"
            lines.append(
                f"  {move.ward_code} {move.ward_name}: class {move.before + 1} -> "
                f"{move.after + 1} ({arrow}; DERI {move.score_before:.2f} -> "
                f"{move.score_after:.2f})"
            )
        return "\n".join(lines)


def _tables(folder: Path) -> dict[str, tuple[pd.DataFrame, str]]:
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    tables = {}
    for resource in package["resources"]:
        key = resource.get("schema", {}).get("primaryKey")
        if resource.get("format") == "csv" and key:
            frame = pd.read_csv(
                folder / resource["path"], dtype={key[0]: str}, keep_default_na=True
            )
            tables[resource["name"].removesuffix("-csv")] = (frame.set_index(key[0]), key[0])
    return tables


def _changed_rows(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    common = before.index.intersection(after.index)
    columns = before.columns.intersection(after.columns)
    left, right = before.loc[common, columns], after.loc[common, columns]
    differs = pd.Series(False, index=common)
    for column in columns:
        a, b = left[column], right[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = np.isclose(
                a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True
            )
        else:
            # An empty cell is missing on both sides; missing never equals missing.
            same = (a.fillna("").astype(str) == b.fillna("").astype(str)).to_numpy(dtype=bool)
        differs |= ~same
    differs |= len(before.columns.symmetric_difference(after.columns)) > 0
    return sorted(differs[differs].index.astype(str))


def diff_releases(before: Path, after: Path) -> ReleaseDiff:
    """Compare two release folders."""
    for folder in (before, after):
        if not (folder / "datapackage.json").is_file():
            raise UsageError(f"{folder} is not a release folder")
    old, new = _tables(before), _tables(after)
    resources = []
    for name in sorted(set(old) | set(new)):
        a = old.get(name, (pd.DataFrame(), ""))[0]
        b = new.get(name, (pd.DataFrame(), ""))[0]
        resources.append(
            ResourceChange(
                name,
                added=sorted(b.index.difference(a.index).astype(str)),
                removed=sorted(a.index.difference(b.index).astype(str)),
                changed=_changed_rows(a, b) if len(a) and len(b) else [],
            )
        )
    moves = []
    if "wards" in old and "wards" in new:
        a, b = old["wards"][0], new["wards"][0]
        class_a = pd.Series(risk_classes(a["deri_score"].to_numpy())[0], index=a.index)
        class_b = pd.Series(risk_classes(b["deri_score"].to_numpy())[0], index=b.index)
        for code in class_a.index.intersection(class_b.index):
            if class_a[code] != class_b[code]:
                moves.append(
                    ClassMove(
                        str(code),
                        str(b.at[code, "ward_name"]),
                        int(class_a[code]),
                        int(class_b[code]),
                        float(a.at[code, "deri_score"]),
                        float(b.at[code, "deri_score"]),
                    )
                )
    moves.sort(key=lambda m: (-abs(m.after - m.before), m.ward_code))
    datasets = _datasets(before, after, {r.name: r for r in resources})
    return ReleaseDiff(before.name, after.name, resources, moves, datasets)


def _listed(folder: Path) -> dict[str, dict]:
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    listed = (package.get("placeintel") or {}).get("datasets") or []
    return {d["id"]: d for d in listed if isinstance(d, dict) and "id" in d}


def _datasets(before: Path, after: Path, changes: dict[str, ResourceChange]) -> list[DatasetChange]:
    """Each council dataset in either release, with its row counts and changed rows (its
    CSV compared by key, as the layers are)."""
    old, new = _listed(before), _listed(after)
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        change = changes.get(name, ResourceChange(name))
        out.append(
            DatasetChange(
                name,
                str((b or a or {}).get("title", name)),
                int(a["rows"]) if a else None,
                int(b["rows"]) if b else None,
                len(change.added) if a and b else 0,
                len(change.removed) if a and b else 0,
                len(change.changed),
            )
        )
    return out
