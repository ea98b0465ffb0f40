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
    # Dash-dot, the usual mark of an administrative boundary, so it never reads as a hot spot.
    "district": {
        "color": "#333333",
        "weight": 2,
        "dash": "10 4 2 4",
        "casing": "#ffffff",
        "casing_weight": 4,
    },
    "ring": {"weight": 1, "fill_opacity": 0.05},
}

#: Service category: its letter on the marker and its colour. Okabe-Ito for the four
#: kinds of digital support, which are shown at first; Paul Tol's muted scheme for the
#: rest, so no two categories share a colour (and the letter tells them apart anyway).
CATEGORY_MARKS = {
    "library": ("L", "#0072B2"),
    "digital-support": ("D", "#009E73"),
    "tablet-lending": ("T", "#CC79A7"),
    "free-data": ("F", "#D55E00"),
    "jobcentre": ("J", "#332288"),
    "food-bank": ("B", "#882255"),
    "pharmacy": ("P", "#44AA99"),
    "post-office": ("O", "#DDCC77"),
    "other": ("?", "#AAAAAA"),
}
#: Letters are drawn in whichever of these reads better on the marker's colour.
MARKER_TEXT = ("#ffffff", "#111111")


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def marker_text(colour: str) -> str:
    """The letter colour with the higher contrast on a marker of this colour: white on
    Okabe-Ito's green would be 3.4:1, under the 4.5:1 that small text needs."""
    return max(MARKER_TEXT, key=lambda text: contrast(text, colour))


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
    "marker_ring": "#333333",
    # The keyboard focus ring on wards and controls, over a white halo.
    "focus": "#000000",
    "focus_halo": "#ffffff",
    "link": "#0b4f9c",
    "highlight": "#e4ecf7",
    "shadow": "rgba(0, 0, 0, 0.25)",
    # Cluster bubbles: a translucent panel, so the ward colours show through.
    "cluster": "rgba(255, 255, 255, 0.8)",
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
