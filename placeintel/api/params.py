"""Query parameters pygeoapi 0.21 lets through with a 200 although they are wrong.

pygeoapi checks `bbox`'s count, numbers and latitude order, `limit` and `offset`, so
those are left to it. It does not check that bbox numbers are finite (`nan` matches
nothing; `inf` everything), it ignores a `datetime` it cannot read when the collection
has no time, and it reads any `skipGeometry` other than a yes as no. Each of these is
refused here with the parameter's name, so a client learns about its mistake.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

import pyproj

#: bbox-crs values meaning longitude/latitude in degrees (the default).
CRS84 = {
    None,
    "",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84h",
    "OGC:CRS84",
}
#: The spellings pygeoapi's str2bool reads as true, and their opposites.
TRUE = {"true", "t", "yes", "1", "on"}
FALSE = {"false", "f", "no", "0", "off"}
# RFC 3339 starts with a full date; Python's fromisoformat also reads week dates and
# compact forms, which the OGC datetime parameter does not allow.
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CRS_URI = re.compile(
    r"https?://www\.opengis\.net/def/crs/(?P<authority>EPSG|OGC)/[\d.]+/(?P<code>\d{1,6}|CRS84h?)"
)


def bbox(value: str, crs: str | None) -> str | None:
    """Why a bbox is wrong, if pygeoapi would not say so itself."""
    parts = value.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None  # pygeoapi: "bbox values must be numbers"
    if len(numbers) not in (4, 6):
        return None  # pygeoapi: "bbox should be either 4 values ... or 6 values"
    if not all(math.isfinite(n) for n in numbers):
        return f"bbox must be finite numbers, got {value!r}"
    if crs in CRS84:
        half = len(numbers) // 2
        lons, lats = numbers[0::half], numbers[1::half]
        if any(abs(lon) > 180 for lon in lons) or any(abs(lat) > 90 for lat in lats):
            return (
                f"bbox {value!r} is outside longitude -180..180 / latitude -90..90 "
                "(give bbox-crs for other coordinates)"
            )
    return None


def crs_uri(value: str) -> bool:
    """Whether `value` is an OGC CRS URI that pyproj knows (what pygeoapi can transform)."""
    match = _CRS_URI.fullmatch(value)
    if not match:
        return False
    try:
        pyproj.CRS.from_user_input(f"{match['authority']}:{match['code']}")
    except pyproj.exceptions.CRSError:
        return False
    return True


def _instant(text: str) -> datetime | None:
    """An RFC 3339 date or date-time as an aware datetime, or None if it is not one."""
    if not _FULL_DATE.match(text):
        return None
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def datetime_(value: str) -> str | None:
    """Why a datetime is not an instant or an interval (`start/end`, `..` for open)."""
    usage = (
        "datetime takes an RFC 3339 date or date-time, or an interval start/end with '..' "
        f"for an open end (e.g. 2024-01-01T00:00:00Z/..), got {value!r}"
    )
    ends = value.split("/")
    if len(ends) == 1:
        return None if _instant(value) else usage
    if len(ends) != 2 or all(end in ("", "..") for end in ends):
        return usage
    open_end = [end in ("", "..") for end in ends]
    moments = [
        None if is_open else _instant(end) for end, is_open in zip(ends, open_end, strict=True)
    ]
    if any(
        moment is None and not is_open for moment, is_open in zip(moments, open_end, strict=True)
    ):
        return usage
    start, end = moments
    if start and end and start > end:
        return f"datetime interval {value!r} ends before it starts"
    return None


def skip_geometry(value: str) -> str | None:
    """Why skipGeometry is neither true nor false."""
    if value.lower() in TRUE | FALSE:
        return None
    return f"skipGeometry takes true or false, got {value!r}"
