"""How the planners' map looks, in one place: palettes, outlines, service marks, page colours.

The page gets this as data (`style()`), with readable keys; the map's JavaScript
draws with it and its legend shows it, and the CSS only refers to the page colours
below as variables. So a colour is changed here, once, and the map, its legend and
its controls follow.
"""

from __future__ import annotations

from typing import Any

#: Risk classes, low to high: ColorBrewer YlOrRd, five classes (safe for colour-blind readers).
RISK_PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#cccccc"
FILL_OPACITY = {"ward": 0.75, "lsoa": 0.8}

#: Lines drawn over the fills. Hot and cold spots are thicker the more certain they are.
OUTLINES: dict[str, dict[str, Any]] = {
    "ward": {"color": "#444444", "weight": 0.8},
    "ward_hover": {"color": "#000000", "weight": 3},
    "ward_over_lsoas": {"color": "#333333", "weight": 1},
    "lsoa": {"color": "#777777", "weight": 0.4},
    "hot": {"color": "#000000", "weight": {"99": 6, "95": 4.5, "90": 3}},
    "cold": {"color": "#08519c", "weight": {"99": 6, "95": 4.5, "90": 3}, "dash": "8 6"},
    # A white casing under the purple keeps a hot LSOA visible on the darkest and the
    # lightest fill alike.
    "lsoa_hot": {"color": "#7a0177", "weight": 1.6, "casing": "#ffffff", "casing_weight": 3.5},
    "weight_sensitive": {"color": "#6a3d9a", "weight": 2, "dash": "1 5"},
    "district": {"color": "#000000", "weight": 2.5},
    "ring": {"weight": 1, "fill_opacity": 0.05},
}

#: Service category: its letter on the marker and its colour (Okabe-Ito for the four
#: kinds of digital support, which are shown at first; grey for the rest).
CATEGORY_MARKS = {
    "library": ("L", "#0072B2"),
    "digital-support": ("D", "#009E73"),
    "tablet-lending": ("T", "#CC79A7"),
    "free-data": ("F", "#D55E00"),
    "jobcentre": ("J", "#555555"),
    "food-bank": ("B", "#777777"),
    "pharmacy": ("P", "#777777"),
    "post-office": ("O", "#777777"),
    "other": ("?", "#777777"),
}

#: What each colour-by choice is called on the map.
VIEW_LABELS = {
    "deri_score": "DERI score",
    "demography_score": "Demography",
    "broadband_score": "Broadband",
    "deprivation_score": "Deprivation",
    "access_score": "Access to help",
}

#: The page's own colours, given to the CSS as variables (--pi-text, --pi-panel, ...).
PAGE = {
    "text": "#111111",
    "muted": "#444444",
    "panel": "#ffffff",
    "border": "#777777",
    "background": "#f2f2ee",
    "halo": "#ffffff",
    "marker_text": "#ffffff",
    "marker_ring": "#333333",
}


def style() -> dict[str, Any]:
    """The whole style, as the page receives it."""
    return {
        "palette": list(RISK_PALETTE),
        "noData": NO_DATA,
        "fillOpacity": FILL_OPACITY,
        "outlines": OUTLINES,
        "page": PAGE,
    }
