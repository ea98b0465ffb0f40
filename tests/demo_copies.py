"""Copies of the demo region with a changed manifest, built by the real build.

Tests that need a release the committed demo does not make (no council datasets, a
hostile dataset title, a third dataset) change a copy's `region.yml` the way a council
would and build it, so what they serve is what `placeintel build` publishes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from placeintel import Release, build
from placeintel.region import DATASETS_DIR

Manifest = dict


def demo_copy(root: Path, change: Callable[[Manifest], None] | None = None) -> Path:
    """The demo region copied to `root/demo`, its manifest passed through `change`;
    returns the region folder (build it by path)."""
    region = root / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    if change is not None:
        path = region / "region.yml"
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(
            yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    return region


def build_demo_copy(root: Path, change: Callable[[Manifest], None] | None = None) -> Release:
    """A changed demo copy built into `root/releases` (served as region `demo`)."""
    return build(demo_copy(root, change), releases=root / "releases", echo=lambda line: None)


def dataset(manifest: Manifest, identifier: str) -> dict:
    """The manifest's entry for a council dataset, to change in place."""
    return next(d for d in manifest["datasets"] if d["id"] == identifier)


def without_datasets(manifest: Manifest) -> None:
    del manifest["datasets"]


#: The grants register's title: ends any <script> it is written into and opens a dialog.
HOSTILE_TITLE = "</script><script>alert(1)</script>"
#: Its description: an attribute breakout, and `&` that must not be decoded twice.
HOSTILE_DESCRIPTION = "<img src=x onerror=\"window.__pwned='description'\"> & more"
#: The warm spaces' title: closes the JSON-LD object it is written into if not escaped.
JSON_BREAKOUT = '"},"@id":"http://evil.example/","x":{"y":"</script>'
#: An environment variable a dataset's text names: pygeoapi must not expand it.
SECRET_NAME = "PLACEINTEL_TEST_SECRET"


def hostile_datasets(manifest: Manifest) -> None:
    """The demo's datasets with text a careless page, catalogue or config would run."""
    grants = dataset(manifest, "grants")
    grants["title"] = HOSTILE_TITLE
    grants["description"] = HOSTILE_DESCRIPTION
    warm = dataset(manifest, "warm-spaces")
    warm["title"] = JSON_BREAKOUT
    warm["description"] = f"Open ${{{SECRET_NAME}}} hours"
    warm["keywords"] = [*warm["keywords"], f"${{{SECRET_NAME}}}"]
