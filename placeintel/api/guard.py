"""A thin guard in front of pygeoapi 0.21: CQL2-text spatial names, and queries it would crash on.

- CQL2 text spells spatial functions S_INTERSECTS, S_WITHIN, ...; pygeoapi 0.21
  parses filter text as ECQL, which spells the same functions INTERSECTS,
  WITHIN, ... with the same arguments. The translation is one-to-one, so it is
  done on the query string; everything else in the filter is left as sent.
- pygeoapi 0.21 indexes each `sortby` entry's first character, so an empty
  entry (`sortby=` or `sortby=,name`) raises IndexError and becomes a 500.
  Those requests get the 400 they deserve here instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

_CQL2_SPATIAL = re.compile(
    r"\bS_(INTERSECTS|WITHIN|CONTAINS|DISJOINT|TOUCHES|OVERLAPS|CROSSES|EQUALS|DWITHIN)\s*\(",
    re.IGNORECASE,
)


def to_ecql(text: str) -> str:
    """`S_INTERSECTS(` -> `INTERSECTS(` and friends, outside quoted strings."""
    parts = re.split(r"('(?:[^']|'')*')", text)
    return "".join(
        part
        if part.startswith("'")
        else _CQL2_SPATIAL.sub(lambda m: f"{m.group(1).upper()}(", part)
        for part in parts
    )


def problem(pairs: list[tuple[str, str]]) -> str | None:
    """Why pygeoapi would fail on these parameters, or None."""
    for key, value in pairs:
        if key == "sortby" and any(not item.strip("+- ") for item in value.split(",")):
            return "sortby has an empty property name (expected e.g. sortby=name,-deri_score)"
    return None


class QueryGuard:
    """WSGI middleware applying the two fixes above."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        query = environ.get("QUERY_STRING", "")
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            reason = problem(pairs)
            if reason:
                body = json.dumps(
                    {
                        "code": "InvalidParameterValue",
                        "type": "InvalidParameterValue",
                        "description": reason,
                    }
                ).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
            if "filter=" in query and "S_" in query.upper():
                environ["QUERY_STRING"] = urlencode(
                    [(k, to_ecql(v) if k == "filter" else v) for k, v in pairs]
                )
        return self.app(environ, start_response)
