"""What a map page needs to re-weight DERI in the browser, as `placeintel build --weight` would.

The planner moves a weight and the page recomputes every score, rank and class itself
(`static/placeintel-weights.js`), with the same arithmetic as `index/deri.py` in the
same order, so its numbers are the build's to the last published decimal. For that it
needs each area's 0-10 indicator scores *unrounded* (the published `_scaled` columns
are rounded to 6 decimals, and DERI is computed before rounding), for every area that
is ranked, so this module sends them as the exact bytes of float64 values (base64),
which is also about half the size of their decimal text.

Ranks are the region's on every map (a district's map too), so the table covers every
area of the region at each level, whichever areas the page draws; the page matches its
areas to rows by code.

Only a map whose build settings are known exactly can promise equality: the build's own
maps, and maps redrawn from a release scaled within the region or each local authority
(the bounds are then the published values' own minima and maxima). A release scaled to
the nation records its bounds to 6 decimals only; its map says that its recomputed
scores are approximate.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from placeintel.errors import DataError
from placeintel.index.deri import IndexSettings, scale
from placeintel.indicators.catalogue import COMPONENTS, INDICATORS
from placeintel.maps.style import VIEW_LABELS

#: The columns that name an area at each level, as the page's features carry them.
CODES = {"ward": "ward_code", "lsoa": "lsoa21_code"}


def settings_of(metadata: dict[str, Any]) -> IndexSettings | None:
    """The index settings a release was built with, from its datapackage.json (`placeintel`).

    Checked like a manifest's `index:` (whole weights 0-10, known names, a known base),
    because a release folder may come from anywhere. None when the release records no
    index settings (an older release): its map then has no re-weighting.
    """
    index = metadata.get("index")
    if not isinstance(index, dict) or "indicator_weights" not in index:
        return None
    recorded = {
        key: index[key]
        for key in ("base", "indicator_weights", "component_weights")
        if isinstance(index.get(key), dict | str)
    }
    settings = IndexSettings.from_manifest(recorded, "datapackage.json")
    if settings.base != "nation":
        return settings
    nation = index.get("nation") if isinstance(index.get("nation"), dict) else {}
    ranges = {}
    for key, described in (nation.get("indicators") or {}).items():
        bounds = described.get("bounds") if isinstance(described, dict) else None
        if isinstance(bounds, list) and len(bounds) == 2:
            try:
                ranges[str(key)] = (float(bounds[0]), float(bounds[1]))
            except (TypeError, ValueError):
                raise DataError(
                    f"the nation bounds of {key!r} are not two numbers",
                    file="datapackage.json",
                    field=f"placeintel.index.nation.indicators.{key}.bounds",
                ) from None
    return replace(settings, reference_ranges=ranges, reference="recorded to 6 decimals")


def release_date(version: str) -> str:
    """'2026-11-22' from a release version such as '20261122T083742Z' (or '...Z-2')."""
    try:
        return datetime.strptime(version[:8], "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def _packed(matrix: np.ndarray) -> str:
    """Row-major little-endian float64 bytes, base64: exact, and compact in a page."""
    return base64.b64encode(np.ascontiguousarray(matrix, dtype="<f8").tobytes()).decode("ascii")


def _scaled_everywhere(
    frame: pd.DataFrame, settings: IndexSettings
) -> tuple[pd.DataFrame, list[str]]:
    """Every indicator's 0-10 score, whatever its weight, and which are scaled within the
    region (nation base, no national bounds).

    `scale` leaves out an indicator that weighs 0, and under the nation base scales an
    indicator without national bounds within the region only while its component weighs
    0. With every indicator weighted and every component at 0, it returns all of them
    and names the second kind; the page then drops those whenever their component weighs
    more than 0, exactly as a build with those weights would.
    """
    everything = replace(
        settings,
        indicator_weights={i.key: 1 for i in INDICATORS},
        component_weights=dict.fromkeys(COMPONENTS, 0),
    )
    scaled, _, within_region = scale(frame, everything)
    return scaled, within_region


def weighting(
    levels: dict[str, pd.DataFrame],
    settings: IndexSettings | None,
    labels: dict[str, str] | None = None,
    version: str = "",
    exact: bool = True,
) -> dict[str, Any] | None:
    """The page's `weights` data: the published weights, and per level each ranked area's
    code and unrounded indicator scores. `levels` are the region's whole tables ("ward",
    and "lsoa" when the map has small areas)."""
    if settings is None or "ward" not in levels:
        return None
    labels = labels or {}
    wards = levels["ward"]
    scaled, within_region = _scaled_everywhere(wards, settings)
    keys = [i.key for i in INDICATORS if i.key in scaled]
    components = [
        c for c in COMPONENTS if any(i.component == c for i in INDICATORS if i.key in keys)
    ]
    if not keys:
        return None
    tables = {}
    for level, frame in levels.items():
        if frame is None or frame.empty or CODES[level] not in frame:
            continue
        values = scaled if level == "ward" else _scaled_everywhere(frame, settings)[0]
        matrix = np.column_stack(
            [
                values[k].to_numpy(dtype=float) if k in values else np.full(len(frame), np.nan)
                for k in keys
            ]
        )
        tables[level] = {
            "codes": [str(code) for code in frame[CODES[level]]],
            "scaled": _packed(matrix),
        }
    by_key = {i.key: i for i in INDICATORS}
    return {
        "base": settings.base,
        "exact": exact,
        "release": release_date(version),
        "components": [
            {
                "key": c,
                "label": VIEW_LABELS.get(f"{c}_score", c.title()),
                "weight": int(settings.component_weights.get(c, 0)),
            }
            for c in components
        ],
        "indicators": [
            {
                "key": k,
                "label": labels.get(k, by_key[k].label),
                "component": by_key[k].component,
                "weight": int(settings.indicator_weights.get(k, 0)),
                "withinRegion": k in within_region,
            }
            for k in keys
        ],
        "levels": tables,
    }
