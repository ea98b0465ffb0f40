"""`kind: nomis`: a dataset's CSV from the Nomis API, for a list of geographies.

`https://www.nomisweb.co.uk/api/v01/dataset/<id>.data.csv?geography=...&<params>` answers
at most 25,000 rows a call; the pages (`recordoffset`) are joined under one header.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from placeintel.errors import DataError
from placeintel.fetch.http import download
from placeintel.fetch.job import Job
from placeintel.fetch.sniff import check_file
from placeintel.limits import shorten
from placeintel.sources.tables import cells_within_limit

API = "https://www.nomisweb.co.uk/api/v01"
PAGE_SIZE = 25_000
PAGES = 1000


def geography(job: Job) -> str:
    value = job.block["geography"]
    if value == "lad":
        return ",".join(job.lad_codes_required())
    return value if isinstance(value, str) else ",".join(value)


@cells_within_limit()  # the csv module's cell limit, put back afterwards
def fetch(job: Job, temp: Path) -> dict[str, Any]:
    block = job.block
    url = f"{str(block.get('url') or API).rstrip('/')}/dataset/{block['dataset']}.data.csv"
    size = int(block.get("page_size") or PAGE_SIZE)
    params = {
        "geography": geography(job),
        **{k: str(v) for k, v in (block.get("params") or {}).items()},
    }
    rows = 0
    header: list[str] | None = None
    page_file = temp.with_name(temp.name + ".page")
    final = ""
    with temp.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for _ in range(PAGES):
            address = f"{url}?{urlencode({**params, 'recordlimit': size, 'recordoffset': rows})}"
            got = download(job.client, address, page_file, job.where)
            final = got.final_url
            check_file(page_file, address, "csv", job.where)
            count = 0
            with page_file.open(encoding="utf-8-sig", newline="") as page:
                reader = csv.reader(page)
                first = next(reader, None)
                if first is None:
                    break
                if header is None:
                    header = first
                    writer.writerow(header)
                elif first != header:
                    raise DataError(
                        f"{shorten(address, 200)} changed its columns between pages",
                        field=job.where,
                        rule="fetch",
                    )
                for row in reader:
                    writer.writerow(row)
                    count += 1
            rows += count
            job.progress(out.tell(), rows)
            if count < size:
                break
        else:
            raise DataError(f"{shorten(url, 200)} sent more than {PAGES:,} pages", field=job.where)
    page_file.unlink(missing_ok=True)
    if header is None:
        raise DataError(f"{shorten(url, 200)} sent an empty CSV", field=job.where, rule="fetch")
    return {"url": f"{url}?{urlencode(params)}", "final_url": final, "rows": rows}
