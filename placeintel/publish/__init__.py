"""Publishing: versioned releases with a data package, in CSV, GeoJSON, GeoPackage, GeoParquet."""

from placeintel.publish.release import (
    Staging,
    abandon_release,
    begin_release,
    commit_release,
    current_release,
    list_releases,
)

__all__ = [
    "Staging",
    "abandon_release",
    "begin_release",
    "commit_release",
    "current_release",
    "list_releases",
]
