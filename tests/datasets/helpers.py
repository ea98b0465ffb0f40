"""A minimal region for dataset tests: the demo's manifest with chosen datasets, in tmp_path.

Only the manifest is rewritten; the source files are the demo's own (symlinked), so
validation reads real-shaped wards for the extent check.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from placeintel.region import DATASETS_DIR

DEMO = DATASETS_DIR / "demo"


def region_with(tmp_path: Path, datasets: list[dict[str, Any]], **extra: Any) -> Path:
    """A copy of the demo region whose `datasets:` are `datasets`; returns its folder."""
    region = tmp_path / "region"
    shutil.copytree(DEMO, region)
    manifest = yaml.safe_load((region / "region.yml").read_text(encoding="utf-8"))
    manifest["datasets"] = datasets
    manifest.update(extra)
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False), "utf-8")
    return region


def entry(id: str, path: str, key: str, **more: Any) -> dict[str, Any]:
    """A dataset entry with the keys every test repeats."""
    return {"id": id, "title": f"{id} title", "path": path, "key": key, **more}
