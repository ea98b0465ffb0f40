"""`placeintel diff`: rows added, removed and changed per resource, and wards whose class moved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from placeintel.pipeline import Release
from placeintel.publish.diff import diff_releases
from tests.test_cli import placeintel


def test_identical_releases_have_no_changes(demo_release: Release, tmp_path: Path) -> None:
    copy = tmp_path / "again"
    shutil.copytree(demo_release.path, copy)
    result = diff_releases(demo_release.path, copy)
    assert all(not (c.added or c.removed or c.changed) for c in result.resources)
    assert result.moves == []


def test_added_removed_changed_rows(demo_release: Release, tmp_path: Path) -> None:
    copy = tmp_path / "edited"
    shutil.copytree(demo_release.path, copy)
    wards = pd.read_csv(copy / "wards.csv", dtype={"ward_code": str})
    dropped = wards["ward_code"].iloc[0]
    wards = wards.iloc[1:].copy()
    wards.loc[wards.index[0], "ward_name"] = "Renamed Ward"
    extra = wards.iloc[[0]].copy()
    extra["ward_code"] = "E05999999"
    pd.concat([wards, extra]).to_csv(copy / "wards.csv", index=False)
    result = {c.name: c for c in diff_releases(demo_release.path, copy).resources}
    assert result["wards"].removed == [dropped]
    assert result["wards"].added == ["E05999999"]
    assert result["wards"].changed == [wards["ward_code"].iloc[0]]
    assert not result["services"].changed


def test_cli_diff_after_reweighting(tmp_path: Path) -> None:
    assert placeintel("build", "demo", "--releases", str(tmp_path)).returncode == 0
    first = json.loads((tmp_path / "demo" / "current" / "datapackage.json").read_text())["version"]
    assert (
        placeintel(
            "build", "demo", "--releases", str(tmp_path), "--weight", "broadband=8"
        ).returncode
        == 0
    )
    result = placeintel("diff", "demo", first, "--releases", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    services = next(line for line in lines if line.strip().startswith("services"))
    assert services.split()[1:] == ["0", "0", "0"]
    wards = next(line for line in lines if line.strip().startswith("wards"))
    assert int(wards.split()[3]) > 0
    assert "risk class moved" in result.stdout
    missing = placeintel("diff", "demo", "19990101T000000Z", "--releases", str(tmp_path))
    assert missing.returncode == 2 and "placeintel releases demo" in missing.stderr
