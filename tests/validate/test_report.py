"""What a report shows of the data: never more than the first 80 characters of a cell."""

from __future__ import annotations

import re

from placeintel.limits import ECHO_CHARS
from placeintel.validate.report import Finding, Report


def test_a_huge_cell_is_cut_wherever_it_appears() -> None:
    cell = "A" * 50_000_000
    report = Report("demo")
    report.add(
        "error",
        "type-error",
        f'Type error in the cell "{cell}" in row "5"',
        file="imd.csv",
        row=5,
        field="Score",
        value=cell,
        hint=f"expected a number, not {cell!r}",
    )
    finding = report.findings[0]
    assert finding.value == "A" * ECHO_CHARS + "... (50,000,000 characters)"
    for text in (report.to_text(), report.to_json()):
        assert len(text) < 2_000
        assert not re.search(f"A{{{ECHO_CHARS + 1}}}", text)
    assert 'in row "5"' in finding.message  # the rest of the message is kept


def test_a_cell_quoted_in_a_message_without_its_value_is_cut_too() -> None:
    finding = Finding("error", "read", "not a number: " + repr("B" * 10_000), file="x.csv")
    assert finding.message == "not a number: '" + "B" * ECHO_CHARS + "... (10,000 characters)'"


def test_short_values_and_long_column_names_are_kept() -> None:
    name = "Approximated social grade: DE Semi-skilled and unskilled manual occupations; " * 2
    finding = Finding("error", "type-error", "bad", field=name.strip(), value="abc")
    assert (finding.value, finding.field) == ("abc", name.strip())
