"""`kind: arcgis`: an ArcGIS REST FeatureServer layer (the ONS Open Geography Portal).

The layer's `query` endpoint answers at most its `maxRecordCount` features at a time and
says `exceededTransferLimit: true` while more remain; the pages are asked for with
`resultOffset`/`resultRecordCount` until it says false, and written as they come into
one GeoJSON FeatureCollection (or, for a lookup table, one CSV of the attributes).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from placeintel.errors import DataError
from placeintel.fetch.http import get_json
from placeintel.fetch.job import Job
from placeintel.limits import human_bytes, shorten, source_bytes

#: Records asked for per page: the ONS portal's layers allow 2,000 (some 1,000).
PAGE_SIZE = 1000
#: Pages at most (a million features at the default size): a server that always says
#: "more" cannot keep placeintel asking for ever.
PAGES = 1000


def where_clause(job: Job) -> str:
    """The block's `where`; `lad` becomes `<lad_field> IN ('E08000001', ...)`."""
    where = job.block.get("where", "1=1")
    if where != "lad":
        return where
    field = job.block.get("lad_field")
    if not field:
        raise DataError(
            "`where: lad` needs `lad_field`, the layer's district code field (e.g. LAD23CD)",
            file=job.manifest_path,
            field=f"{job.where}.lad_field",
        )
    codes = job.lad_codes_required()
    return f"{field} IN ({', '.join(repr(str(c)) for c in sorted(codes))})"


def fetch(job: Job, temp: Path) -> dict[str, Any]:
    """Write every page of the layer's features to `temp`; return what the lock records."""
    block = job.block
    layer = block["url"].rstrip("/")
    query = layer if layer.endswith("/query") else f"{layer}/query"
    output = block.get("format") or ("csv" if job.path.lower().endswith(".csv") else "geojson")
    rename: dict[str, str] = block.get("rename") or {}
    size = int(block.get("page_size") or PAGE_SIZE)
    params: dict[str, Any] = {
        "where": where_clause(job),
        "outFields": ",".join(block.get("out_fields") or ["*"]),
        "returnGeometry": "true" if output == "geojson" else "false",
        "outSR": 4326,
        "f": "geojson" if output == "geojson" else "json",
        "resultRecordCount": size,
    }
    cap = source_bytes()
    rows = written = 0
    with temp.open("w", encoding="utf-8", newline="") as out:
        writer: csv.DictWriter | None = None
        if output == "geojson":
            out.write('{"type": "FeatureCollection", "features": [\n')
        for _page in range(PAGES):
            answer = get_json(job.client, query, job.where, {**params, "resultOffset": rows})
            features = _features(answer, query, job.where)
            for feature in features:
                properties = feature.get("properties", feature.get("attributes")) or {}
                properties = {rename.get(k, k): v for k, v in properties.items()}
                if output == "geojson":
                    item = {
                        "type": "Feature",
                        "properties": properties,
                        "geometry": feature.get("geometry"),
                    }
                    text = ("" if rows == 0 else ",\n") + json.dumps(item, ensure_ascii=False)
                    out.write(text)
                    written += len(text)
                else:
                    if writer is None:
                        writer = csv.DictWriter(out, list(properties), extrasaction="ignore")
                        writer.writeheader()
                    writer.writerow(properties)
                    written += sum(len(str(v)) + 1 for v in properties.values())
                rows += 1
                if written > cap:
                    raise DataError(
                        f"{shorten(query, 200)} sent more than {human_bytes(cap)}",
                        field=job.where,
                        rule="fetch",
                    )
            job.progress(written, rows)
            if not _more(answer) or not features:
                break
        else:
            raise DataError(
                f"{shorten(query, 200)} still said there were more features after {PAGES:,} "
                f"pages of {size:,}",
                field=job.where,
                rule="fetch",
            )
        if output == "geojson":
            out.write("\n]}\n")
    if rows == 0:
        raise DataError(
            f"{shorten(query, 200)} found no features where {shorten(params['where'], 200)}",
            field=f"{job.where}.where",
            hint="check the where clause and the layer's field names",
        )
    shown = {k: v for k, v in params.items() if k != "resultRecordCount"}
    return {"url": f"{query}?{urlencode(shown)}", "final_url": "", "rows": rows}


def _features(answer: Any, url: str, where: str) -> list[dict[str, Any]]:
    """The page's features; an ArcGIS error (which comes with HTTP 200) is refused."""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        error = answer["error"]
        details = "; ".join(str(d) for d in error.get("details") or [] if d)
        raise DataError(
            f"{shorten(url, 200)} answered error {error.get('code', '')}: "
            f"{shorten(str(error.get('message', '')), 300)}"
            + (f" ({shorten(details, 300)})" if details else ""),
            field=where,
            rule="fetch",
            hint="check the layer address, `where` and `out_fields` against the layer's fields",
        )
    features = answer.get("features") if isinstance(answer, dict) else None
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise DataError(
            f"{shorten(url, 200)} did not answer an ArcGIS feature page (no `features` list)",
            field=where,
            rule="fetch",
        )
    return features


def _more(answer: dict[str, Any]) -> bool:
    """`exceededTransferLimit`, at the top (f=json) or under `properties` (f=geojson)."""
    flag = answer.get("exceededTransferLimit")
    if flag is None and isinstance(answer.get("properties"), dict):
        flag = answer["properties"].get("exceededTransferLimit")
    return flag is True
