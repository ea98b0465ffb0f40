"""Import what a build needs after its first stage on a thread, while that stage runs.

A build's later stages need about 1.5 s of imports its first stage does not (scipy.stats
for the ranks and hot spots, tobler and scipy for the indicators, folium for the maps,
frictionless's package code for the data package). Importing them all up front, as the
build once did, kept both cores waiting on one before any data was read. Imports hold the
GIL, but reading and validating the sources spends most of its time in GDAL, Arrow and
GEOS without it (national: 1.3 to 1.9 of 2 cores busy), so the imports fit beside it.

The modules are imported where they are used, as before; if the thread has not finished
one by then, the import there waits for it (Python's per-module import lock), and if one
failed here (a missing package), the import there raises the same error a user saw
before. Nothing here is needed for correctness: without the thread a build does the same
imports, only later. None of these modules changes state a build reads on import (checked:
only urllib3 and requests add warning filters for their own warnings).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable

#: What a build imports after reading its sources, heaviest shared dependencies first
#: (as `python -X importtime` measures them, each module's own part in brackets); not
#: what the pipeline module imports itself (placeintel.indicators, index.uncertainty).
LATER_STAGES = (
    "scipy.sparse",  # indicators' areal interpolation, hot spots' weights (0.2 s)
    "scipy.spatial",  # access distances and map labels (0.15 s)
    "scipy.stats",  # ranks and the hot spots' false discovery rate (0.4 s)
    "tobler.area_weighted",  # areal interpolation, with statsmodels and joblib (0.3 s)
    "placeintel.index.hotspots",
    "placeintel.publish.layers",
    "placeintel.publish.package",  # frictionless's Package and resources (0.2 s)
    "placeintel.publish.catalog",
    "placeintel.datasets.publish",
    "placeintel.maps",  # folium, branca, jinja2 (0.4 s)
    "pyarrow.dataset",  # reading the layers back to publish them (30 ms)
)


def warm_imports(modules: Iterable[str] = LATER_STAGES) -> threading.Thread:
    """Start importing `modules` on a thread of their own; returns the thread, started.

    Not a daemon thread: one stopped at interpreter exit in the middle of an import would
    hold that module's import lock, so the interpreter waits for it instead (a build that
    fails early waits at most for the imports it would once have done before starting).
    """
    thread = threading.Thread(
        target=_import_all, args=(tuple(modules),), name="warm-imports", daemon=False
    )
    thread.start()
    return thread


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the import where the module is used raises it again, for the user
            continue
