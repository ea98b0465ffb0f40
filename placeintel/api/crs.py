"""pygeoapi's CRS look-ups, made once per process instead of once per request.

pygeoapi 0.21 builds `pyproj.CRS` objects from their URIs on every request: two for
the `crs` parameter of every item and items request (`create_crs_transform_spec`), two
more and a new `pyproj.Transformer` for every bbox (`transform_bbox`), and its
PostgreSQL provider asks `CRS.to_epsg()` (an identification against the PROJ database,
21 of 31 ms of a bbox request in issue 18's profile) on every bbox query. A service
names a handful of CRSs, and pyproj's CRS and Transformer objects are immutable and
thread-safe (pyproj >= 3.1), so each is made once: `install` puts memoised versions of
`get_crs_from_uri` and `transform_bbox` where pygeoapi's modules look them up.

The answers are the same objects pyproj would make; a URI pyproj rejects is rejected
the same way every time (errors are not cached), and the caches are bounded, so
URIs a client makes up cannot grow them.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import pyproj

#: Different CRS URIs (and CRS pairs) kept; a service configures a few.
MAX_CACHED = 64

_original_get_crs: Any = None


class KnownCRS(pyproj.CRS):
    """A `pyproj.CRS` that identifies its EPSG code once (`to_epsg` searches PROJ's
    database each time it is asked)."""

    def to_epsg(self, min_confidence: int = 70) -> int | None:
        known = self.__dict__.setdefault("_epsg", {})
        if min_confidence not in known:
            known[min_confidence] = super().to_epsg(min_confidence)
        return known[min_confidence]


@functools.lru_cache(maxsize=MAX_CACHED)
def get_crs_from_uri(uri: str) -> pyproj.CRS:
    """pygeoapi's `get_crs_from_uri` (its checks and error messages), memoised; made
    from the same definition, so its text (which pygeoapi compares) is unchanged."""
    return KnownCRS(_original_get_crs(uri).srs)


@functools.lru_cache(maxsize=MAX_CACHED)
def _transformer(from_crs: str, to_crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(get_crs_from_uri(from_crs), get_crs_from_uri(to_crs))


def transform_bbox(bbox: list, from_crs: str, to_crs: str) -> list:
    """pygeoapi's `transform_bbox` with the Transformer made once per pair of CRSs."""
    transform = _transformer(from_crs, to_crs).transform
    n_dims = len(bbox) // 2
    return list(transform(*bbox[:n_dims]) + transform(*bbox[n_dims:]))


def install() -> None:
    """Replace the two functions in pygeoapi.util and in every pygeoapi module loaded so
    far that imported them by name (plugins imported later take util's, now these)."""
    global _original_get_crs
    import pygeoapi.api.itemtypes  # noqa: F401 - imported, so that it is patched below
    import pygeoapi.util as util

    if _original_get_crs is None:
        _original_get_crs = util.get_crs_from_uri
    originals = {"get_crs_from_uri": _original_get_crs, "transform_bbox": util.transform_bbox}
    ours = {"get_crs_from_uri": get_crs_from_uri, "transform_bbox": transform_bbox}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "pygeoapi" or name.startswith("pygeoapi.")):
            continue
        for attribute, original in originals.items():
            if getattr(module, attribute, None) is original:
                setattr(module, attribute, ours[attribute])
