"""placeintel: validate and publish council open data, and map digital-exclusion risk.

The Python API, the same functions the `placeintel` command calls::

    import placeintel
    report = placeintel.validate("demo")          # .ok, .errors, .to_frame()
    sources = placeintel.load_region("demo")      # validated sources as GeoDataFrames
    release = placeintel.build("demo", "releases")  # .wards, .lsoas, .services, .explain()
    release = placeintel.load_release("releases/demo/current")   # or "http://127.0.0.1:5000"
    placeintel.explore(release)                   # the folium map, inline in a notebook
    placeintel.save_map(release, "map.html")      # the same map as a file, offline
    placeintel.diff("demo", "20261101T000000Z")   # what changed since an earlier release
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

#: Where each public name lives. The API is imported on first use, not with the package:
#: it pulls in geopandas, folium, scipy, esda and mapclassify (about 3 s), which a
#: submodule imported on its own (a publish worker process, `placeintel --help`) should
#: not pay for.
_PUBLIC_API = (
    "Release",
    "Report",
    "build",
    "current",
    "demo_data",
    "describe",
    "diff",
    "explore",
    "find_area",
    "list_datasets",
    "load_region",
    "load_release",
    "publish",
    "releases",
    "save_map",
    "serve",
    "validate",
)
_HOMES = {
    **dict.fromkeys(_PUBLIC_API, "placeintel.public_api"),
    "DataError": "placeintel.errors",
    "PlaceintelError": "placeintel.errors",
    "UsageError": "placeintel.errors",
    "ValidationFailed": "placeintel.pipeline",
}

__all__ = [*_PUBLIC_API, "DataError", "PlaceintelError", "UsageError", "ValidationFailed"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'placeintel' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once found, a plain attribute: no second lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """`placeintel.validate` and `placeintel.publish` are functions and also subpackages.

    Importing a subpackage sets the parent's attribute to the module, which would hide the
    function until something looked it up again. The functions win, as they did when this
    package imported the API eagerly: a submodule never takes a public name's place.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
