"""A local HTTP server (127.0.0.1 only) that speaks each protocol `placeintel fetch` uses.

Small fixtures in the real formats: an ArcGIS FeatureServer that pages and sets
`exceededTransferLimit`, a server that fails twice with 503, one that drops the
connection half way and honours `Range`, zips, a Nomis CSV, a CKAN `package_show`, an
HTML error page with status 200 and a truncated zip. Every request is recorded.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: A national-style CSV: three of its LADs are the test region's.
NATIONAL_ROWS = [
    ("E00000001", "E01000001", "E08000001", 10),
    ("E00000002", "E01000001", "E08000001", 20),
    ("E00000003", "E01000002", "E08000002", 30),
    ("E00000004", "E01000003", "E09000001", 40),
    ("E00000005", "E01000004", "W06000001", 50),
    ("E00000006", "E01000005", "E08000003", 60),
]
NATIONAL_CSV = "oa21cd,lsoa21cd,lad22cd,count\n" + "".join(
    f"{oa},{lsoa},{lad},{n}\n" for oa, lsoa, lad, n in NATIONAL_ROWS
)
#: ArcGIS features of a layer: wards of three districts, two of them the region's.
WARDS = [
    {"WD23CD": f"E0501{i:04d}", "WD23NM": f"Ward {i}", "LAD23CD": lad}
    for i, lad in enumerate(["E08000001"] * 3 + ["E08000002"] * 2 + ["E09000001"] * 2)
]
NOMIS_ROWS = [(f"E0100{i:04d}", f"LSOA {i}", i * 7) for i in range(7)]
#: Bytes sent before the connection is dropped, for /drop.csv.
DROP_CSV = ("code,value\n" + "".join(f"E0100{i:04d},{i}\n" for i in range(20000))).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


NATIONAL_ZIP = zipped({"census2021-ts000-oa.csv": NATIONAL_CSV.encode(), "README.txt": b"x"})
TRUNCATED_ZIP = NATIONAL_ZIP[: len(NATIONAL_ZIP) // 2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes, kind: str = "text/csv", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((url.path, query, dict(self.headers)))
        route = self.server.routes.get(url.path)
        if route is not None:
            self.send(200, route[1], route[0], ETag='"fixed"')
            return
        if url.path == "/arcgis/wards/FeatureServer/0/query":
            self.arcgis(query)
        elif url.path == "/flaky.csv":
            self.server.counts["flaky"] = self.server.counts.get("flaky", 0) + 1
            if self.server.counts["flaky"] <= 2:
                self.send(503, b"busy", "text/plain", Retry_After="0")
            else:
                self.send(200, NATIONAL_CSV.encode())
        elif url.path == "/drop.csv":
            self.drop()
        elif url.path == "/national.zip":
            self.send(200, NATIONAL_ZIP, "application/zip", ETag='"zip1"')
        elif url.path == "/truncated.zip":
            self.send(200, TRUNCATED_ZIP, "application/zip")
        elif url.path == "/error-page.csv":
            page = b"<!DOCTYPE html><html><head><title>Page not found</title></head></html>"
            self.send(200, page, "text/html")
        elif url.path == "/nomis/dataset/NM_2132_1.data.csv":
            self.nomis(query)
        elif url.path == "/ckan/api/3/action/package_show":
            self.ckan(query)
        else:
            self.send(404, b"not found", "text/plain")

    def arcgis(self, query: dict[str, str]) -> None:
        where = query.get("where", "")
        rows = [w for w in WARDS if f"'{w['LAD23CD']}'" in where] if "IN (" in where else WARDS
        start, count = int(query["resultOffset"]), int(query["resultRecordCount"])
        page = rows[start : start + count]
        features = [
            {
                "type": "Feature",
                "id": start + i,
                "geometry": {"type": "Point", "coordinates": [-2.2 + i / 100, 53.4]},
                "properties": {k: v for k, v in w.items() if k in query["outFields"].split(",")},
            }
            for i, w in enumerate(page)
        ]
        more = start + count < len(rows)
        body = {"type": "FeatureCollection", "features": features}
        if more:
            body["properties"] = {"exceededTransferLimit": True}
        self.send(200, json.dumps(body).encode(), "application/geo+json")

    def drop(self) -> None:
        wanted = self.headers.get("Range")
        if wanted is None:
            # Promise the whole file, send half, and hang up.
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(DROP_CSV)))
            self.send_header("ETag", '"drop1"')
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(DROP_CSV[: len(DROP_CSV) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        start = int(wanted.removeprefix("bytes=").split("-")[0])
        body = DROP_CSV[start:]
        self.send(
            206,
            body,
            Content_Range=f"bytes {start}-{len(DROP_CSV) - 1}/{len(DROP_CSV)}",
            ETag='"drop1"',
        )

    def nomis(self, query: dict[str, str]) -> None:
        codes = query["geography"].split(",")
        offset, limit = int(query["recordoffset"]), int(query["recordlimit"])
        rows = [r for r in NOMIS_ROWS if r[0] in codes or codes == ["ALL"]]
        page = rows[offset : offset + limit]
        text = '"GEOGRAPHY_CODE","GEOGRAPHY_NAME","OBS_VALUE"\n' + "".join(
            f'"{c}","{n}",{v}\n' for c, n, v in page
        )
        self.send(200, text.encode())

    def ckan(self, query: dict[str, str]) -> None:
        if query.get("id") != "library-locations":
            body = {
                "success": False,
                "error": {"message": "Not found", "__type": "Not Found Error"},
            }
            self.send(404, json.dumps(body).encode(), "application/json")
            return
        base = f"http://127.0.0.1:{self.server.server_port}"
        body = {
            "success": True,
            "result": {
                "name": "library-locations",
                "resources": [
                    {"name": "Libraries", "format": "GeoJSON", "url": f"{base}/nowhere.geojson"},
                    {"name": "Libraries", "format": "CSV", "url": f"{base}/national.zip"},
                ],
            },
        }
        self.send(200, json.dumps(body).encode(), "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.counts: dict[str, int] = {}
        #: Extra files served as they are: path -> (content type, bytes).
        self.routes: dict[str, tuple[str, bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


@contextmanager
def serving() -> Iterator[Server]:
    server = Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
