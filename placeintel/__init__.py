"""placeintel: validate and publish council open data, and map digital-exclusion risk by ward.

The Python API (see `placeintel.public_api` for examples)::

    import placeintel
    report = placeintel.validate("demo")          # .ok, .errors, .to_frame()
    sources = placeintel.load_region("demo")      # validated sources as GeoDataFrames
    release = placeintel.build("demo")            # .wards, .services, .package, .explain()
    release = placeintel.load_release("releases/demo/current")   # or "http://127.0.0.1:5000"
    placeintel.explore(release)                   # the folium map, inline in a notebook
"""

from placeintel.errors import DataError, PlaceintelError, UsageError
from placeintel.pipeline import Release, ValidationFailed
from placeintel.public_api import build, explore, load_region, load_release, validate
from placeintel.validate import Report

__all__ = [
    "DataError",
    "PlaceintelError",
    "Release",
    "Report",
    "UsageError",
    "ValidationFailed",
    "build",
    "explore",
    "load_region",
    "load_release",
    "validate",
]
