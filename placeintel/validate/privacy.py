"""Personal data in what would be published: refused unless the manifest says it is public.

Council service lists often carry a contact column. A library's shared inbox
is fine to publish; a volunteer's own email or mobile number is not. Columns
whose values look like an individual's contact details, or whose name says
they hold a person's name, are refused unless the manifest lists them under
`publish.public_fields`.
"""

from __future__ import annotations

import re

import pandas as pd

from placeintel.validate.report import Report

EMAIL = re.compile(r"^\s*([A-Za-z0-9._%+-]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\s*$")
#: UK mobile numbers belong to people far more often than to services.
MOBILE = re.compile(r"^\s*(\+44\s?7|07)\d{3}[\s-]?\d{3}[\s-]?\d{3}\s*$")
PERSON_COLUMN = re.compile(
    r"(contact|person|owner|manager|volunteer|first.?name|forename|"
    r"surname|last.?name|full.?name)",
    re.IGNORECASE,
)
#: Words that mark a shared, role-based mailbox rather than a person's.
ROLE_WORDS = frozenset(
    {
        "admin",
        "bookings",
        "central",
        "centre",
        "contact",
        "council",
        "digital",
        "enquiries",
        "enquiry",
        "help",
        "hub",
        "info",
        "library",
        "libraries",
        "mail",
        "office",
        "reception",
        "services",
        "support",
        "team",
        "hello",
        "customer",
        "customers",
        "general",
    }
)


def _personal_email(value: str) -> bool:
    match = EMAIL.match(value)
    if not match:
        return False
    words = re.split(r"[._+-]", match.group(1).lower())
    return len(words) >= 2 and not ROLE_WORDS & set(words) and all(w.isalpha() for w in words)


def personal_data(frame: pd.DataFrame, resource: str, public: set[str], report: Report) -> None:
    """Add an error for each column that looks personal and is not marked public."""
    for column in frame.columns:
        if column in public or column == "geometry" or not _is_text(frame[column]):
            continue
        values = frame[column].dropna().astype(str)
        emails = values[values.map(_personal_email)]
        mobiles = values[values.str.match(MOBILE)]
        named = column != "name" and PERSON_COLUMN.search(column) is not None
        if emails.empty and mobiles.empty and not named:
            continue
        example = (
            emails.iloc[0] if not emails.empty else mobiles.iloc[0] if not mobiles.empty else ""
        )
        what = (
            "an individual's email address"
            if not emails.empty
            else "a mobile phone number"
            if not mobiles.empty
            else "a person's name"
        )
        report.add(
            "error",
            "personal-data",
            f"column looks like it holds {what}",
            file=resource,
            field=column,
            value=_mask(example),
            hint="remove it, or list it under publish.public_fields in region.yml if "
            "it is published with consent",
        )


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def _mask(value: str) -> str:
    """Show enough of a value to find it, not enough to republish it."""
    return value[:2] + "***" if value else ""
