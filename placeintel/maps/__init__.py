"""Folium maps for planners."""

from placeintel.maps.hotspot_map import build_map, write_map

__all__ = ["build_map", "write_map"]
