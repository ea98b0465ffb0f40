"""Who the API says it belongs to: the served release's title, licence, publisher and contact.

The region manifest's `title`, `description`, `publisher` and `contact` travel into the
release's `datapackage.json` (contributors with the roles `publisher` and `contact`), so the
service describes the data it actually serves, even without the manifest at hand. They
replace the placeholders of pygeoapi-config.yml's `metadata` section.

These strings come from outside, and pygeoapi reads its configuration file with `${NAME}`
expanded from the environment in every unquoted value: a title such as `${DATABASE_URL}`
would publish a secret, and `${NOPE}` would stop the server. So every value taken from the
release is written double-quoted (`Literal`), which pygeoapi's loader leaves as it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

#: What the manifest's schema accepts as an email address (region.schema.json, `contact`).
EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
#: Larger than any real datapackage.json; a bigger one is not read (the defaults stay).
MAX_PACKAGE_BYTES = 50 * 1024 * 1024


class Literal(str):
    """A configuration value that pygeoapi must not expand: written double-quoted."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    Literal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, '"')
)


class _QuoteKeepingLoader(yaml.SafeLoader):
    pass


_QuoteKeepingLoader.add_constructor(
    "tag:yaml.org,2002:str",
    lambda loader, node: (
        Literal(loader.construct_scalar(node))
        if node.style in ('"', "'")
        else loader.construct_scalar(node)
    ),
)


def load_keeping_quotes(text: str) -> dict[str, Any]:
    """A configuration read back with its quoted values as `Literal`, so that `dump`
    writes them quoted again: a dataset's `${NAME}` stays text through a round trip."""
    return yaml.load(text, Loader=_QuoteKeepingLoader)  # noqa: S506 (a SafeLoader)


def dump(settings: dict[str, Any]) -> str:
    """The configuration as YAML, with `Literal` values double-quoted."""
    return yaml.dump(settings, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class _LiteralDumper(yaml.SafeDumper):
    pass


_LiteralDumper.add_representer(
    str,
    lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, '"' if "${" in value else None
    ),
)


def dump_as_written(document: dict[str, Any]) -> str:
    """A document pygeoapi reads back with its loader (the OpenAPI document), as YAML in
    which no `${NAME}` is expanded: pygeoapi has already filled in its own variables, so any
    left are text from the data, and stay text."""
    return yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True)


def read_package(release: Path) -> dict[str, Any]:
    """The release's datapackage.json, or {} if it is missing, too big or not a JSON object
    (the service then keeps its configured metadata rather than failing to start)."""
    path = release / "datapackage.json"
    try:
        if path.stat().st_size > MAX_PACKAGE_BYTES:
            return {}
        package = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return package if isinstance(package, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _web(value: Any) -> str:
    """A web address, or "" for anything else (a `javascript:` link must not become one)."""
    text = _text(value)
    return text if text.startswith(("https://", "http://")) and " " not in text else ""


def _role(package: dict[str, Any], role: str) -> dict[str, Any]:
    for person in package.get("contributors") or []:
        if isinstance(person, dict) and role in (person.get("roles") or []):
            return person
    return {}


def service_metadata(package: dict[str, Any], configured: dict[str, Any]) -> dict[str, Any]:
    """pygeoapi's `metadata` section for a release (its data package, `read_package`): the
    configured one with the region's title, description, licence, publisher and contact in
    place of the placeholders."""
    metadata = json.loads(json.dumps(configured))  # a deep copy of plain YAML data
    identification = metadata.setdefault("identification", {})
    if title := _text(package.get("title")):
        identification["title"] = Literal(f"{title}: open data")
    if description := _text(package.get("description")):
        identification["description"] = Literal(description)
    licences = [x for x in package.get("licenses") or [] if isinstance(x, dict)]
    if licences and (_text(licences[0].get("title")) or _text(licences[0].get("name"))):
        licence = licences[0]
        metadata["license"] = {
            "name": Literal(_text(licence.get("title")) or _text(licence.get("name")))
        }
        if link := _web(licence.get("path")):
            metadata["license"]["url"] = Literal(link)
    publisher = _text(_role(package, "publisher").get("title"))
    contact = _role(package, "contact")
    if publisher:
        metadata["provider"] = {**metadata.get("provider", {}), "name": Literal(publisher)}
    if publisher or contact:
        # The placeholders (an example.org address, "n/a" fields) are dropped, not shown.
        metadata["contact"] = {
            "name": Literal(_text(contact.get("title")) or publisher),
            "role": "pointOfContact",
        }
        if EMAIL.fullmatch(email := _text(contact.get("email"))):
            metadata["contact"]["email"] = Literal(email)
        if page := _web(contact.get("path")):
            metadata["contact"]["url"] = Literal(page)
    return metadata
