"""Validation findings and the report that collects them.

Every finding names the file, row, field and rule, so a council officer can
go straight to the cell that is wrong.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from placeintel.limits import (
    ECHO_CHARS,
    FIELD_ECHO_CHARS,
    MESSAGE_ECHO_CHARS,
    shorten,
    shorten_message,
)

if TYPE_CHECKING:
    from placeintel.errors import DataError


@dataclass(frozen=True)
class Finding:
    """One problem in one place."""

    severity: str  # "error" stops the build; "warning" is reported and recorded
    rule: str
    message: str
    file: str = ""
    row: int | None = None
    field: str = ""
    value: str = ""
    hint: str = ""

    def __post_init__(self) -> None:
        """Cut what comes from the data to what a terminal should show: the first
        `ECHO_CHARS` characters of a cell, wherever it appears (a 50 MB cell is not
        echoed), and a bounded message, hint and column name."""
        value = "" if self.value is None else str(self.value)
        cut = {
            "value": shorten(value, ECHO_CHARS),
            "message": shorten_message(str(self.message), value),
            "hint": shorten_message(str(self.hint or ""), value, MESSAGE_ECHO_CHARS),
            "field": shorten(str(self.field or ""), FIELD_ECHO_CHARS),
        }
        for name, text in cut.items():
            object.__setattr__(self, name, text)


@dataclass
class Report:
    """All findings of one validation run."""

    region: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, severity: str, rule: str, message: str, **where: Any) -> None:
        self.findings.append(Finding(severity, rule, message, **where))

    def add_error(self, error: DataError, **where: Any) -> None:
        """An error a reader or check raised, as a finding; `where` overrides its place
        (e.g. the file being checked when the error names none)."""
        found: dict[str, Any] = {
            "file": str(error.file or ""),
            "row": error.row,
            "field": error.field or "",
            "hint": error.hint or "",
        }
        self.add("error", error.rule, error.message, **{**found, **where})

    def add_rows(
        self,
        severity: str,
        rule: str,
        message: str,
        flagged: pd.Series,
        values: pd.Series,
        limit: int = 20,
        **where: Any,
    ) -> None:
        """One finding per flagged row (the first `limit`), with that row's value."""
        for label in flagged.index[flagged.to_numpy(dtype=bool)][:limit]:
            self.add(severity, rule, message, row=int(label), value=str(values[label]), **where)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [asdict(f) for f in self.findings], columns=list(Finding.__dataclass_fields__)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "valid": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [asdict(f) for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        lines = [f"{self.region}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        for f in self.findings:
            where = ", ".join(
                p
                for p in (
                    f.file,
                    f"row {f.row}" if f.row else "",
                    f"field {f.field!r}" if f.field else "",
                )
                if p
            )
            lines.append(
                f"  {f.severity.upper():7} [{f.rule}] {where}: {f.message}"
                + (f" ({f.hint})" if f.hint else "")
            )
        return "\n".join(lines)
