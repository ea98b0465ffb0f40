"""Personal data in a council's services file: found cell by cell, refused unless listed public.

Each test copies the demo region, writes contact columns into its services CSV
the way council exports carry them, and runs the real validation (and, once,
the command line) over it.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from placeintel.errors import ManifestError
from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.validate import Report, validate_sources
from placeintel.validate.privacy import PERSONAL_MAIL_DOMAINS, looks_like_name, mask

SERVICES = "services/council_digital_inclusion_services.csv"

#: (file row, column) -> (cell, refused?). Row 1 is the header.
CELLS: dict[tuple[int, str], tuple[str, bool]] = {
    # Emails: personal providers whatever the local part; first.last at an organisation.
    (2, "email"): ("jsmith@gmail.com", True),
    (3, "email"): ("jane.smith84@gmail.com", True),
    (4, "email"): ("library@gmail.com", True),
    (5, "email"): ("library@northmoor.gov.uk", False),
    (6, "email"): ("info@northmoor.gov.uk", False),
    (7, "email"): ("digital.inclusion@council.gov.uk", False),
    (8, "email"): ("jane.smith@council.gov.uk", True),
    (9, "email"): ("J.Patel@Mail.Btinternet.com", True),
    (10, "email"): ("Email birchfield.library@northmoor.gov.uk or ask at the desk", False),
    (11, "email"): ("Helpers: volunteer.hub@hotmail.co.uk", True),
    (12, "email"): ("tonge.ucancentre@northmoor.gov.uk", False),
    # Disguised: a full-width at sign, a zero-width space inside the domain.
    (13, "email"): ("jsmith\uff20gmail.com", True),
    (14, "email"): ("jane.smith@gm\u200bail.com", True),
    (15, "email"): ("ｌｉｂｒａｒｙ＠ｎｏｒｔｈｍｏｏｒ.gov.uk", False),
    # Phones: every UK spelling of a mobile; landlines, 03 and 0800 are switchboards.
    (2, "phone"): ("0770 090 0123", True),
    (3, "phone"): ("+44 (0)7700 900123", True),
    (4, "phone"): ("0044 7700 900123", True),
    (5, "phone"): ("07911-123-456", True),
    (6, "phone"): ("(07911) 123456", True),
    (7, "phone"): ("07911.123.456", True),
    (8, "phone"): ("0161 496 0000", False),
    (9, "phone"): ("(0161) 496-0123", False),
    (10, "phone"): ("+44 (0)20 7946 0018", False),
    (11, "phone"): ("0300 123 4567", False),
    (12, "phone"): ("0800 123 4567", False),
    (13, "phone"): ("Call 0161 496 0000, or text Jane on 07700900456", True),
    (14, "phone"): ("070 1234 5678", True),
    (15, "phone"): ("+447911123456", True),
    # Too many numbers to check one by one (each costs phonenumbers a millisecond): refused.
    (16, "phone"): ("; ".join(f"0161 496 {n:04d}" for n in range(80)), True),
    # A column named for people: names refused, roles pass.
    (2, "staff_name"): ("Jane Smith", True),
    (3, "staff_name"): ("Mrs Patel", True),
    (4, "staff_name"): ("Dr A. N. Other", True),
    (5, "staff_name"): ("Digital Inclusion Team", False),
    (6, "staff_name"): ("Library Manager", False),
    (7, "staff_name"): ("Vacant", False),
    (8, "staff_name"): ("Zoë O'Brien-Lee", True),
    (2, "coordinator"): ("Tom Jones", True),
    (3, "coordinator"): ("Northmoor Libraries", False),
    (4, "coordinator"): ("Age UK Volunteers", False),
    # The same words in a column not named for people are not names.
    (2, "venue_type"): ("Community Hall", False),
    (3, "venue_type"): ("Albert Street", False),
}
COLUMNS = ["email", "phone", "staff_name", "coordinator", "venue_type"]


def _region(tmp_path: Path, publish: dict | None = None) -> Path:
    """The demo with CELLS written into its services CSV and published as extra fields."""
    region = tmp_path / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    path = region / SERVICES
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    table[0] += COLUMNS
    for number, line in enumerate(table[1:], start=2):
        line += [CELLS.get((number, column), ("", False))[0] for column in COLUMNS]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    services = next(s for s in manifest["sources"] if s["id"] == "council-services")
    services["extra_fields"] = COLUMNS
    manifest["publish"].update(publish or {})
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False), "utf-8")
    return region


def _refused(report: Report) -> dict[tuple[int, str], str]:
    return {
        (f.row, f.field): f.value
        for f in report.errors
        if f.rule == "personal-data" and Path(f.file).name == Path(SERVICES).name
    }


def _expected(allowed: set[tuple[int, str]] = frozenset()) -> set[tuple[int, str]]:
    return {where for where, (_, refused) in CELLS.items() if refused} - set(allowed)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    region = _region(tmp_path_factory.mktemp("privacy"))
    return region, validate_sources(load_manifest(region))[1]


def test_each_personal_cell_is_refused_and_nothing_else(checked: tuple[Path, Report]) -> None:
    _, report = checked
    assert set(_refused(report)) == _expected(), report.to_text()
    assert {f.rule for f in report.errors} == {"personal-data"}


def test_findings_say_what_was_found(checked: tuple[Path, Report]) -> None:
    _, report = checked
    message = {(f.row, f.field): f.message for f in report.errors}
    assert "personal mail provider (gmail.com)" in message[(2, "email")]
    assert "personal mail provider (mail.btinternet.com)" in message[(9, "email")]
    assert "individual's email address" in message[(8, "email")]
    assert "mobile phone number" in message[(3, "phone")]
    assert "personal (070)" in message[(14, "phone")]
    assert "too many to check" in message[(16, "phone")]
    assert "person's name" in message[(2, "staff_name")]
    # The demo lists `email` under public_fields: it no longer makes the column public.
    hints = {f.hint for f in report.errors if f.field == "email"}
    assert all("publish.public_values" in h and "publish.public_fields" in h for h in hints)


def test_findings_mask_the_value_and_never_echo_it(checked: tuple[Path, Report]) -> None:
    _, report = checked
    refused = _refused(report)
    assert refused[(2, "email")] == "j***@gmail.com"
    assert refused[(2, "phone")] == "0770 *** **23"
    assert refused[(3, "phone")] == "+44 (0)7*** ****23"
    assert refused[(13, "phone")] == "0770*****56"
    assert refused[(2, "staff_name")] == "J*** S***"
    everything = report.to_json() + report.to_text()
    for value, personal in CELLS.values():
        if personal:
            assert value not in everything
    for secret in ("jsmith", "jane.smith", "7700 900123", "Jane Smith", "Patel"):
        assert secret not in everything


def test_listed_public_values_pass_in_any_spelling(tmp_path: Path) -> None:
    region = _region(
        tmp_path,
        {
            "public_values": [
                "JSmith@gmail.com",  # emails compare without case
                "07700 900123",  # the same number as 0770 090 0123 and +44 (0)7700 900123
                " Jane   Smith ",
            ]
        },
    )
    report = validate_sources(load_manifest(region))[1]
    # jsmith＠gmail.com (row 13) is the same listed address, in full-width form.
    allowed = {(2, "email"), (13, "email"), (2, "phone"), (3, "phone"), (4, "phone")}
    allowed.add((2, "staff_name"))
    assert set(_refused(report)) == _expected(allowed), report.to_text()
    assert (13, "phone") in _refused(report)  # another mobile in a listed column


@pytest.mark.parametrize(
    ("publish", "field"),
    [
        ({"public_values": "jsmith@gmail.com"}, "publish.public_values"),
        ({"public_values": ["ok@gmail.com", 7700900123]}, "publish.public_values[1]"),
        ({"public_values": [""]}, "publish.public_values[0]"),
        ({"public_fields": [{"field": "email"}]}, "publish.public_fields[0]"),
        ({"public_fields": "email"}, "publish.public_fields"),
    ],
)
def test_a_wrong_manifest_shape_names_the_key(tmp_path: Path, publish: dict, field: str) -> None:
    """The manifest schema names the key, counting list items from 0 as every key does."""
    region = _region(tmp_path, publish)
    with pytest.raises(ManifestError) as raised:
        load_manifest(region)
    assert (Path(raised.value.file).name, raised.value.field) == ("region.yml", field)


def test_the_command_line_refuses_without_echoing(checked: tuple[Path, Report]) -> None:
    region, _ = checked
    for form in ("text", "json"):
        result = subprocess.run(
            [sys.executable, "-m", "placeintel.cli", "validate", str(region), "--format", form],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        output = result.stdout + result.stderr
        assert "personal-data" in output
        for value, personal in CELLS.values():
            if personal:
                assert value not in output
    findings = json.loads(result.stdout)["findings"]
    assert {"row": 2, "field": "email", "value": "j***@gmail.com"}.items() <= next(
        f for f in findings if f["row"] == 2 and f["field"] == "email"
    ).items()


def test_the_personal_domain_list_is_the_maintained_one_plus_uk_providers() -> None:
    for domain in (
        "gmail.com",
        "googlemail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.co.uk",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "aol.com",
        "btinternet.com",
        "sky.com",
        "virginmedia.com",
        "talktalk.net",
        "protonmail.com",
        "gmx.co.uk",
        "outlook.co.uk",
    ):
        assert domain in PERSONAL_MAIL_DOMAINS
    for domain in ("gov.uk", "nhs.net", "manchester.gov.uk", "ageuk.org.uk", "example.org"):
        assert domain not in PERSONAL_MAIL_DOMAINS


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("Jane Smith", True),
        ("JANE SMITH", True),
        ("Ms J. O'Brien-Lee", True),
        ("Ludwig van Beethoven", True),
        ("Cllr Ahmed", True),
        ("Jane", False),  # a first name alone says little; "Reception" looks the same
        ("Digital Inclusion Team", False),
        ("Branch Librarian", False),
        ("Citizens Advice", False),
        ("Mon-Fri 9-5", False),
        ("ask at the counter", False),
    ],
)
def test_what_looks_like_a_name(value: str, name: bool) -> None:
    assert looks_like_name(value) is name


def test_mask_keeps_the_shape_not_the_value() -> None:
    assert mask("jane.smith84@gmail.com") == "j***@gmail.com"
    assert mask("0044 7700 900123") == "0044 **** ****23"
    assert mask("Mrs Patel") == "M*** P***"
