"""pygeoapi's JSON answers written by orjson, with pre-serialised features spliced in.

pygeoapi 0.21 writes every JSON answer with `pygeoapi.util.to_json`, which is
`json.dumps`: 9.6 ms of the 16 ms a 100-ward page took (orjson: 0.5 ms). Its API
modules import the function by name, so `install` replaces those names; the
`placeintel.api.provider` then hands features over as `orjson.Fragment`s, JSON
already written at load, which orjson copies as they are.

What changes for a client: nothing in content. Non-ASCII text is written as UTF-8
rather than `\\u` escapes (both are the same JSON string), and NaN or infinity, which
`json.dumps` wrote as the invalid tokens `NaN`/`Infinity`, become null.
"""

from __future__ import annotations

from typing import Any

import orjson
from pygeoapi.util import json_serial

#: Whether pygeoapi writes JSON with `to_json` below; the provider only hands out
#: fragments (which `json.dumps` cannot write) when it does.
INSTALLED = False

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def to_json(dict_: dict, pretty: bool = False) -> bytes:
    """pygeoapi's `to_json` with orjson (the server's `pretty_print` indents by 2)."""
    options = _OPTIONS | (orjson.OPT_INDENT_2 if pretty else 0)
    return orjson.dumps(dict_, default=_default, option=options)


def _default(value: Any) -> Any:
    """What orjson cannot write itself: pygeoapi's own fallback (dates, decimals, bytes)."""
    return json_serial(value)


def install() -> None:
    """Point pygeoapi's API modules at `to_json` (they look it up on every request)."""
    global INSTALLED
    import pygeoapi.api as core
    import pygeoapi.api.itemtypes as itemtypes

    for module in (core, itemtypes):
        if not callable(getattr(module, "to_json", None)):
            raise RuntimeError(
                f"pygeoapi has no {module.__name__}.to_json any more; "
                "placeintel.api.encoder needs updating for this pygeoapi release"
            )
        module.to_json = to_json
    INSTALLED = True
