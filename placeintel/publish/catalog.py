"""The release as a DCAT catalogue (`catalog.jsonld`), for national portals' harvesters.

data.gov.uk and other portals harvest DCAT: a `dcat:Catalog` of `dcat:Dataset`s, each
with its licence, publisher, contact, extent, update frequency and `dcat:Distribution`s
(one per downloadable file, with its media type and size), and the OGC API as a
`dcat:DataService`. This module writes one such catalogue, in JSON-LD, from the release's
own datapackage.json: one dataset per index layer (from the layer registry) and one per
council dataset (`placeintel.datasets`), DCAT 2 with the DCAT-AP (UK) choices where they
fit (EU frequency vocabulary, IANA media types, WKT boxes).

A release does not know the address it will be served from, so the file's links are
relative to the release folder: `wards.csv` beside it, `../collections/wards` for the API.
Opened from the release folder they resolve to its files; the service (`/catalog.jsonld`)
hands out a copy with every link made absolute against its own base URL (`absolute`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from placeintel.publish.descriptors import FORMATS, Dataset, released_datasets, web
from placeintel.publish.layers import LAYERS, file_extent

NAME = "catalog.jsonld"
#: Larger than any real datapackage.json (as placeintel/api/metadata.py reads it).
MAX_PACKAGE_BYTES = 50 * 1024 * 1024
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "owl": "http://www.w3.org/2002/07/owl#",
}
IANA = "https://www.iana.org/assignments/media-types/"
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
#: Common words for how often a dataset is updated, to the EU frequency vocabulary.
FREQUENCIES = {
    "hourly": "HOURLY",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "fortnightly": "BIWEEKLY",
    "biweekly": "BIWEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "twice a year": "ANNUAL_2",
    "biannual": "ANNUAL_2",
    "biannually": "ANNUAL_2",
    "half yearly": "ANNUAL_2",
    "six monthly": "ANNUAL_2",
    "annual": "ANNUAL",
    "annually": "ANNUAL",
    "yearly": "ANNUAL",
    "biennial": "BIENNIAL",
    "irregular": "IRREG",
    "as needed": "IRREG",
    "ad hoc": "IRREG",
    "never": "NEVER",
    "continuous": "UPDATE_CONT",
    "real time": "UPDATE_CONT",
}
OGC_API_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CATALOG = f"../{NAME}"


def _package(release: Path) -> dict[str, Any]:
    path = release / "datapackage.json"
    if path.stat().st_size > MAX_PACKAGE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_PACKAGE_BYTES:,} bytes")
    package = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(package, dict):
        raise ValueError(f"{path} is not a JSON object")
    return package


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _iri(value: str) -> dict[str, str]:
    return {"@id": value}


def _date(value: str) -> dict[str, str] | None:
    """A date or a date-time as xsd typed literal, or None if it is neither."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return {"@value": value, "@type": "xsd:date"}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", value):
        return {"@value": value, "@type": "xsd:dateTime"}
    return None


def frequency(text: str) -> dict[str, str] | None:
    """The EU frequency vocabulary's IRI for how often, or None if the words are not one
    of the common ones (the text is then kept as a note)."""
    words = re.sub(r"[-_\s]+", " ", text.strip().lower())
    code = FREQUENCIES.get(words)
    return _iri(FREQUENCY + code) if code else None


def _box(bbox: list[float] | tuple[float, ...] | None) -> dict[str, Any] | None:
    if not bbox:
        return None
    west, south, east, north = bbox
    wkt = (
        f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
    )
    return {"@type": "dct:Location", "dcat:bbox": {"@value": wkt, "@type": "gsp:wktLiteral"}}


def _role(package: dict[str, Any], role: str) -> dict[str, Any]:
    for person in package.get("contributors") or []:
        if isinstance(person, dict) and role in (person.get("roles") or []):
            return person
    return {}


def _agent(name: str) -> dict[str, Any]:
    return {"@type": "foaf:Agent", "foaf:name": name}


def _contact(name: str, email: str, url: str) -> dict[str, Any] | None:
    if not (name or email or url):
        return None
    card: dict[str, Any] = {"@type": "vcard:Organization", "vcard:fn": name or email or url}
    if email:
        card["vcard:hasEmail"] = _iri(f"mailto:{email}")
    if url:
        card["vcard:hasURL"] = _iri(url)
    return card


def _distribution(
    dataset_id: str, kind: str, path: str, size: int | None, title: str, licence: str
) -> dict[str, Any]:
    media, label = FORMATS[kind]
    node: dict[str, Any] = {
        "@id": f"{CATALOG}#distribution-{dataset_id}-{kind}",
        "@type": "dcat:Distribution",
        "dct:title": f"{title} ({label})",
        "dcat:downloadURL": _iri(path),
        "dcat:accessURL": _iri(path),
        "dcat:mediaType": _iri(IANA + media),
        "dct:format": label,
    }
    if size is not None:
        node["dcat:byteSize"] = {"@value": str(size), "@type": "xsd:nonNegativeInteger"}
    if licence:
        node["dct:license"] = _iri(licence)
    return node


def _api_distribution(dataset_id: str, title: str, licence: str) -> dict[str, Any]:
    node = {
        "@id": f"{CATALOG}#distribution-{dataset_id}-api",
        "@type": "dcat:Distribution",
        "dct:title": f"{title} (OGC API - Features collection)",
        "dcat:accessURL": _iri(f"../collections/{dataset_id}"),
        "dcat:accessService": _iri(f"{CATALOG}#api"),
        "dcat:mediaType": _iri(IANA + "application/geo+json"),
        "dct:conformsTo": _iri(OGC_API_FEATURES),
    }
    if licence:
        node["dct:license"] = _iri(licence)
    return node


def _sizes(package: dict[str, Any]) -> dict[str, int]:
    """Each resource's file (its path) to its size in bytes, as the data package says."""
    sizes = {}
    for resource in package.get("resources") or []:
        if isinstance(resource, dict) and isinstance(resource.get("path"), str):
            size = resource.get("bytes")
            sizes[resource["path"]] = size if isinstance(size, int) else None
    return sizes


def _base_dataset(
    identifier: str,
    title: str,
    description: str,
    keywords: list[str] | tuple[str, ...],
    licence: str,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "@id": f"{CATALOG}#dataset-{identifier}",
        "@type": "dcat:Dataset",
        "dct:identifier": identifier,
        "dct:title": title,
        "dct:description": description or title,
        "dcat:keyword": list(keywords),
        "dcat:landingPage": _iri(f"../collections/{identifier}?f=html"),
    }
    if licence:
        node["dct:license"] = _iri(licence)
    return node


def _layer_datasets(
    release: Path, package: dict[str, Any], licence: str, modified: dict | None
) -> list[dict[str, Any]]:
    sizes = _sizes(package)
    nodes = []
    for layer in LAYERS:
        files = {k: f"{layer.name}.{k}" for k in FORMATS if f"{layer.name}.{k}" in sizes}
        if not files:
            continue  # not in this release
        node = _base_dataset(layer.name, layer.title, layer.description, layer.keywords, licence)
        if modified:
            node["dct:modified"] = modified
        if box := _box(file_extent(release / f"{layer.name}.parquet")):
            node["dct:spatial"] = box
        node["dcat:distribution"] = [
            _distribution(layer.name, kind, path, sizes[path], layer.title, licence)
            for kind, path in files.items()
        ] + [_api_distribution(layer.name, layer.title, licence)]
        nodes.append(node)
    return nodes


def _council_dataset(
    dataset: Dataset, release: Path, sizes: dict[str, int], released: dict | None
) -> dict[str, Any]:
    licence = dataset.licence.path
    node = _base_dataset(dataset.id, dataset.title, dataset.description, dataset.keywords, licence)
    if not licence and (dataset.licence.title or dataset.licence.name):
        node["dct:rights"] = {
            "@type": "dct:RightsStatement",
            "rdfs:label": dataset.licence.title or dataset.licence.name,
        }
    if dataset.attribution:
        node["dct:bibliographicCitation"] = dataset.attribution
    if dataset.publisher:
        node["dct:publisher"] = _agent(dataset.publisher)
    contact = dataset.contact
    if card := _contact(contact.get("name", ""), contact.get("email", ""), contact.get("url", "")):
        node["dcat:contactPoint"] = card
    if dataset.update_frequency:
        if coded := frequency(dataset.update_frequency):
            node["dct:accrualPeriodicity"] = coded
        else:
            node["skos:note"] = f"Updated: {dataset.update_frequency}"
    if modified := (_date(dataset.modified) if dataset.modified else released):
        node["dct:modified"] = modified
    if box := _box(dataset.bbox):
        node["dct:spatial"] = box
    if dataset.source_url:
        node["dct:source"] = _iri(dataset.source_url)
    # Without geometry only the CSV is a download; the GeoParquet is the API's.
    files = dataset.files if dataset.geometry else {"csv": dataset.files["csv"]}
    distributions = []
    for kind, path in files.items():
        size = sizes.get(path)
        if size is None and (release / path).is_file():
            size = (release / path).stat().st_size
        distributions.append(_distribution(dataset.id, kind, path, size, dataset.title, licence))
    node["dcat:distribution"] = distributions + [
        _api_distribution(dataset.id, dataset.title, licence)
    ]
    return node


def catalog(release: Path) -> dict[str, Any]:
    """The release's DCAT catalogue as a JSON-LD document, its links relative to the
    release folder. Raises OSError/ValueError if datapackage.json cannot be read."""
    package = _package(release)
    title = _text(package.get("title")) or release.parent.name
    licences = [x for x in package.get("licenses") or [] if isinstance(x, dict)]
    licence = web(licences[0].get("path")) if licences else ""
    created = _date(_text(package.get("created")))
    released = _date(_text(package.get("created"))[:10])
    publisher = _text(_role(package, "publisher").get("title")) or title
    person = _role(package, "contact")
    contact = _contact(
        _text(person.get("title")),
        _text(person.get("email")),
        web(person.get("path")),
    )
    sizes = _sizes(package)
    datasets = _layer_datasets(release, package, licence, released) + [
        _council_dataset(d, release, sizes, released) for d in released_datasets(package)
    ]
    for node in datasets:
        node.setdefault("dct:publisher", _agent(publisher))
        if contact:
            node.setdefault("dcat:contactPoint", contact)
    service = {
        "@id": f"{CATALOG}#api",
        "@type": "dcat:DataService",
        "dct:title": f"{title}: OGC API - Features",
        "dcat:endpointURL": _iri("../"),
        "dcat:endpointDescription": _iri("../openapi?f=json"),
        "dct:conformsTo": _iri(OGC_API_FEATURES),
        "dcat:servesDataset": [_iri(node["@id"]) for node in datasets],
    }
    if licence:
        service["dct:license"] = _iri(licence)
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": CATALOG,
        "@type": "dcat:Catalog",
        "dct:title": title,
        "dct:description": _text(package.get("description")) or title,
        "dct:publisher": _agent(publisher),
        "foaf:homepage": _iri("../"),
        "dcat:dataset": datasets,
        "dcat:service": [service],
        "owl:versionInfo": _text(package.get("version")) or release.name,
    }
    if contact:
        document["dcat:contactPoint"] = contact
    if created:
        document["dct:issued"] = created
        document["dct:modified"] = created
    if licence:
        document["dct:license"] = _iri(licence)
    return document


def write_catalog(release_folder: Path) -> Path:
    """Write `catalog.jsonld` into the release folder, from its datapackage.json."""
    target = Path(release_folder) / NAME
    document = catalog(Path(release_folder))
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    return target


def absolute(document: Any, base: str) -> Any:
    """The catalogue with every relative link resolved against `base` (the served release
    folder's address, ending in `/`): what a harvester gets from the service."""
    if isinstance(document, list):
        return [absolute(item, base) for item in document]
    if not isinstance(document, dict):
        return document
    resolved = {}
    for key, value in document.items():
        relative = isinstance(value, str) and not re.match(r"([a-z][a-z0-9+.-]*|_):", value)
        if key == "@id" and relative:
            resolved[key] = urljoin(base, value)
        elif key == "@context":
            resolved[key] = value
        else:
            resolved[key] = absolute(value, base)
    return resolved
