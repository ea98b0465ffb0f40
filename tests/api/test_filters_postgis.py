"""The same CQL2 filters against the PostGIS-served API (pygeoapi's PostgreSQL provider,
which turns the parsed filter into SQL): the same wards as the file-served API.

Needs PLACEINTEL_TEST_POSTGRES, as tests/publish/test_postgis.py does; skips without it.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import cql2
import pytest

from tests.publish.test_postgis import URL, postgis_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(
    not URL, reason="no PostGIS: set PLACEINTEL_TEST_POSTGRES (scripts/start-postgis.sh)"
)

FILTERS = [
    "deri_score > 3 AND lad_name <> 'Eastwick'",
    "S_INTERSECTS(geometry, POINT(-1.65 52.53)) OR S_CROSSES(geometry, "
    "LINESTRING(-1.70 52.50, -1.55 52.60))",
    "ward_name LIKE '_o%'",
    "ward_name NOT LIKE '%a%'",
    "lad_name IN ('Eastwick', 'Riverside') AND NOT deri_score < 3",
    "deri_score BETWEEN 2 AND 4",
    "S_INTERSECTS(geometry, BBOX(-1.70, 52.50, -1.60, 52.55))",
    "S_WITHIN(geometry, POLYGON((-1.7 52.5, -1.6 52.5, -1.6 52.61, -1.7 52.61, -1.7 52.5)))",
]


def _ids(base: str, language: str, value: str) -> list[str]:
    query = urllib.parse.urlencode(
        {"f": "json", "limit": 100, "filter-lang": language, "filter": value}
    )
    with urllib.request.urlopen(f"{base}/collections/wards/items?{query}", timeout=30) as r:
        return sorted(str(f["id"]) for f in json.load(r)["features"])


@pytest.mark.parametrize("text", FILTERS)
def test_postgis_answers_like_the_files(server: str, postgis_server, text: str) -> None:  # noqa: F811
    document = json.dumps(cql2.parse_text(text).to_json())
    expected = _ids(server, "cql2-text", text)
    assert 0 < len(expected) < 40
    assert _ids(postgis_server[0], "cql2-text", text) == expected
    assert _ids(postgis_server[0], "cql2-json", document) == expected
