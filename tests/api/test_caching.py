"""ETag/Cache-Control from the release version, 304s, and gzip, over real HTTP."""

from __future__ import annotations

import gzip
import json

import pytest
import requests

from placeintel.api.caching import MIN_GZIP, LinkedRelease, _accepts_gzip
from placeintel.api.headers import HEADERS

PAGE = "/collections/wards/items?f=json&limit=50"
SECURITY = ["Content-Security-Policy", *HEADERS]


def _plain(url: str, **headers: str) -> requests.Response:
    """A GET that asks for no compression unless told (requests asks for gzip itself)."""
    return requests.get(url, headers={"Accept-Encoding": "identity", **headers}, timeout=30)


def test_etag_and_cache_control_then_304(server: str) -> None:
    first = _plain(server + PAGE)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('"') and first.headers["Cache-Control"].startswith("public, max-age=")
    assert _plain(server + PAGE).headers["ETag"] == tag  # the release has not changed
    again = _plain(server + PAGE, **{"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    for name in SECURITY:  # 304s carry the security headers too
        assert name in again.headers, name
    # A list of tags, weak ones included, matches as RFC 9110 says.
    assert _plain(server + PAGE, **{"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    assert _plain(server + PAGE, **{"If-None-Match": '"other"'}).status_code == 200


def test_etag_differs_by_url_format_and_encoding(server: str) -> None:
    json_tag = _plain(server + PAGE).headers["ETag"]
    html_tag = _plain(server + PAGE.replace("f=json", "f=html")).headers["ETag"]
    other_tag = _plain(server + PAGE + "&offset=1").headers["ETag"]
    gzip_tag = requests.get(server + PAGE, timeout=30).headers["ETag"]
    assert len({json_tag, html_tag, other_tag, gzip_tag}) == 4


def test_gzip_decodes_to_the_plain_body(server: str) -> None:
    plain = _plain(server + PAGE)
    raw = requests.get(server + PAGE, headers={"Accept-Encoding": "gzip"}, timeout=30, stream=True)
    compressed = raw.raw.read(decode_content=False)
    assert raw.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in raw.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert int(raw.headers["Content-Length"]) == len(compressed) < len(plain.content) / 3
    assert "Content-Encoding" not in plain.headers
    ours, theirs = json.loads(gzip.decompress(compressed)), plain.json()
    ours.pop("timeStamp"), theirs.pop("timeStamp")  # pygeoapi stamps each answer
    assert ours == theirs
    for name in SECURITY:
        assert name in raw.headers, name
    # requests itself asks for gzip and decodes it: clients that do see the same data
    decoded = requests.get(server + PAGE, timeout=30).json()
    decoded.pop("timeStamp")
    assert decoded == theirs


def test_small_answers_and_files_are_not_compressed(server: str) -> None:
    small = requests.get(server + "/conformance?f=json", timeout=30)
    assert len(small.content) < MIN_GZIP or small.headers.get("Content-Encoding") == "gzip"
    item = requests.get(server + "/collections/wards/items/E05990010?f=json", timeout=30)
    assert item.status_code == 200
    download = requests.get(server + "/release/wards.csv", timeout=30)
    assert "Content-Encoding" not in download.headers  # streamed from disk, its own ETag
    assert download.headers["ETag"] != item.headers["ETag"]


def test_errors_are_not_cached(server: str) -> None:
    missing = _plain(server + "/collections/nope?f=json")
    assert missing.status_code == 404
    assert "ETag" not in missing.headers
    bad = _plain(server + "/collections/wards/items?f=json&limit=-1")
    assert bad.status_code == 400 and "ETag" not in bad.headers


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding(header: str, accepted: bool) -> None:
    assert _accepts_gzip(header) is accepted


def test_the_etag_version_follows_current_as_it_moves(tmp_path) -> None:
    for name in ("20260101T000000Z", "20260201T000000Z"):
        (tmp_path / name).mkdir()
    link = tmp_path / "current"
    version = LinkedRelease(link)
    assert version() == "current"  # no release yet: named as it always was
    link.symlink_to("20260101T000000Z")
    assert version() == version() == "20260101T000000Z"
    moving = tmp_path / "current.new"
    moving.symlink_to("20260201T000000Z")
    moving.replace(link)
    assert version() == "20260201T000000Z"
