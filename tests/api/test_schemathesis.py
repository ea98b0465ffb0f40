"""schemathesis against the server's own OpenAPI document: no request may cause a 5xx.

pygeoapi's document refers to the OGC schemas online; there is no internet here,
so the few remote references are replaced by local equivalents first (responses
by a description, the featureId and sortby parameters by their definitions).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

REMOTE_PARAMETERS = {
    "featureId": {
        "name": "featureId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    },
    "sortby.yaml": {
        "name": "sortby",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
}


def localise(node: Any) -> Any:
    """Replace references to remote OGC schema files with local stand-ins."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("http"):
            name = ref.rsplit("/", 1)[-1]
            if "/parameters" in ref:
                return REMOTE_PARAMETERS.get(
                    name, {"name": name, "in": "query", "schema": {"type": "string"}}
                )
            if "/responses" in ref:
                return {"description": name}
            return {}
        return {key: localise(value) for key, value in node.items()}
    if isinstance(node, list):
        return [localise(item) for item in node]
    return node


@pytest.fixture(scope="session")
def api_schema(server: str):
    with urllib.request.urlopen(f"{server}/openapi?f=json", timeout=30) as response:
        document = json.load(response)
    schema = schemathesis.openapi.from_dict(localise(document))
    return schema.include(method="GET", path_regex=r"^/(collections|conformance|$)")


def test_no_server_errors(api_schema, server: str) -> None:
    """Every GET operation, 25 generated requests each (schemathesis' strategies, driven by
    hypothesis directly: schemathesis' pytest plugin does not support pytest 9)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def no_5xx(case) -> None:
            response = case.call(base_url=server, timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

        no_5xx()
