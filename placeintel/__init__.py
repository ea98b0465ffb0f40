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

from placeintel import public_api
from placeintel.errors import DataError, PlaceintelError, UsageError
from placeintel.pipeline import ValidationFailed
from placeintel.public_api import *  # noqa: F403 - the API is public_api's, listed once there

__all__ = [
    *public_api.__all__,
    "DataError",
    "PlaceintelError",
    "UsageError",
    "ValidationFailed",
]
