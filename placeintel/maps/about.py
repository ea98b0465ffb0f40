"""What a map says about itself: the region, what its score is made of, the data and the date.

A planner reading a map cannot open `datapackage.json`; the map must say which DERI
components it weighs, which are missing, which indicators are substitutes for official
ones, how scores were scaled, which data editions it draws on and when it was released.
All of it is read from what the release records (`placeintel.index` and the sources of
its data package), so the map can never claim more than the build did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from placeintel.indicators.catalogue import INDICATORS

COMPONENT_LABELS = {
    "demography": "Demography",
    "broadband": "Broadband",
    "deprivation": "Deprivation",
    "access": "Access to help",
}
#: What each component measures, for a reader who has not seen DERI.
COMPONENT_NOTES = {
    "demography": "older people, disability, social grade",
    "broadband": "broadband coverage and speed",
    "deprivation": "deprivation, qualifications, work, pension credit",
    "access": "distance to digital-support services",
}


def released(version: str) -> str:
    """The release date, read from its version (`20261122T083646Z` is 22 November 2026)."""
    try:
        when = dt.datetime.strptime(version, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return ""
    return f"{when.day} {when:%B %Y}"


def _label(key: str, labels: Mapping[str, str]) -> str:
    catalogue = {i.key: i.label for i in INDICATORS}
    return labels.get(key) or catalogue.get(key, key)


def _base(index: Mapping[str, Any]) -> str:
    base = index.get("base")
    nation = index.get("nation") or {}
    if base == "nation" and nation.get("title"):
        return f"each indicator scaled 0–10 over {nation['title']}"
    if base == "local-authority":
        return "each indicator scaled 0–10 within each local authority"
    if index.get("reference"):
        return f"each indicator scaled 0–10 with the ranges of {index['reference']}"
    return "each indicator scaled 0–10 over the region's own areas"


def describe(
    title: str,
    version: str,
    metadata: Mapping[str, Any] | None,
    sources: Iterable[Mapping[str, Any]] = (),
    links: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The map's title block as data (the page shows every string as text).

    `metadata` is the release's `placeintel` block (`index`, `labels`), `sources` the data
    package's sources (`title`, `version`), `links` (text, relative URL) pairs to files
    beside the map.
    """
    metadata = metadata or {}
    index = metadata.get("index") or {}
    labels = metadata.get("labels") or {}
    weights = index.get("component_weights") or {}
    used = list(index.get("used_components") or [])
    missing = list(index.get("missing_components") or [])
    components = [
        {
            "key": key,
            "label": COMPONENT_LABELS.get(key, key),
            "note": COMPONENT_NOTES.get(key, ""),
            "weight": weights.get(key, 0),
            "status": "missing" if key in missing else "used" if key in used else "unweighted",
        }
        for key in COMPONENT_LABELS
        if key in weights or key in used or key in missing
    ]
    substitutes = [
        {
            "label": _label(key, labels),
            "for": [_label(k, labels) for k in entry.get("for", [])],
            "why": entry.get("why", ""),
        }
        for key, entry in (index.get("substitutes") or {}).items()
    ]
    replaced = {k for entry in (index.get("substitutes") or {}).values() for k in entry["for"]}
    missing_indicators = [
        {"label": _label(key, labels), "reason": reason}
        for key, reason in (index.get("missing_indicators") or {}).items()
        if key not in replaced
    ]
    seen: set[tuple[str, str]] = set()
    editions = []
    for source in sources:
        entry = (str(source.get("title") or ""), str(source.get("version") or ""))
        if entry[0] and entry not in seen:
            seen.add(entry)
            editions.append({"title": entry[0], "version": entry[1]})
    return {
        "region": title,
        "version": version,
        "released": released(version),
        "components": components,
        "substitutes": substitutes,
        "missingIndicators": missing_indicators,
        "base": _base(index) if index else "",
        "deprivationEdition": index.get("deprivation_edition") or "",
        "sources": editions,
        "synthetic": bool(metadata.get("synthetic")),
        "links": [{"text": text, "href": href} for text, href in links],
    }
