"""The command line as a user types it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from placeintel.region import DATASETS_DIR

ROOT = DATASETS_DIR.parent


def placeintel(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "placeintel.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=300,
    )


def test_build_demo_end_to_end(tmp_path: Path) -> None:
    result = placeintel("build", "demo", "--releases", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    for stage in (
        "read and validate sources",
        "indicators for LSOAs and wards",
        "index",
        "hotspots and weight uncertainty",
        "publish data",
        "map",
        "data package",
        "switch current",
    ):
        assert stage in result.stdout
    assert "Highest-risk wards:" in result.stdout
    assert (
        len([line for line in result.stdout.splitlines() if line.strip()[:3].strip(". ").isdigit()])
        == 5
    )
    assert (tmp_path / "out" / "demo" / "current" / "map.html").is_file()
    listing = placeintel("releases", "demo", "--releases", str(tmp_path / "out"))
    assert listing.returncode == 0 and listing.stdout.startswith("*")


def test_weights_and_base_options(tmp_path: Path) -> None:
    result = placeintel(
        "build",
        "demo",
        "--out",
        str(tmp_path),
        "--base",
        "local-authority",
        "--weight",
        "broadband=0",
    )
    assert result.returncode == 0, result.stderr
    assert "broadband component has weight 0" in result.stdout
    bad = placeintel("build", "demo", "--releases", str(tmp_path), "--weight", "broadband")
    assert bad.returncode == 2 and "NAME=NUMBER" in bad.stderr


def test_unknown_region_is_a_usage_error() -> None:
    result = placeintel("build", "atlantis")
    assert result.returncode == 2
    assert "unknown region 'atlantis'" in result.stderr and "demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_demo_and_json() -> None:
    assert placeintel("validate", "demo").returncode == 0
    result = placeintel("validate", "demo", "--format", "json")
    assert '"valid": true' in result.stdout


def test_invalid_data_exits_1_naming_file_row_field(tmp_path: Path) -> None:
    import shutil

    region = tmp_path / "broken"
    shutil.copytree(DATASETS_DIR / "demo", region)
    imd = next((region / "imd").glob("*.csv"))
    lines = imd.read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(",")
    cells[4] = "not-a-score"
    lines[3] = ",".join(cells)
    imd.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = placeintel("build", str(region), "--releases", str(tmp_path / "out"))
    assert result.returncode == 1
    assert imd.name in result.stdout and "row 4" in result.stdout
    assert "Index of Multiple Deprivation (IMD) Score" in result.stdout
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "demo" / "current").exists()
    validation = placeintel("validate", str(region))
    assert validation.returncode == 1 and "row 4" in validation.stdout


def test_serve_without_a_release_says_how_to_make_one(tmp_path: Path) -> None:
    result = placeintel("serve", "demo", "--releases", str(tmp_path))
    assert result.returncode == 2
    assert "placeintel build demo" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["--help"], ["build", "--help"], ["serve", "--help"]])
def test_help(command: list[str]) -> None:
    assert placeintel(*command).returncode == 0


def test_missing_files_point_to_data_dir() -> None:
    result = placeintel("validate", "greater-manchester", "--data-dir", str(DATASETS_DIR / "demo"))
    assert result.returncode == 1
    assert "gm_wards_2023_generalised.geojson" in result.stdout
    assert "--data-dir" in result.stdout and "geoportal.statistics.gov.uk" in result.stdout


def test_port_in_use_is_a_usage_error(demo_release, releases_dir: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = placeintel("serve", "demo", "--releases", str(releases_dir), "--port", str(port))
    assert result.returncode == 2
    assert "choose another with --port" in result.stderr and "Traceback" not in result.stderr


def test_explain_a_ward_by_name(demo_release, releases_dir: Path) -> None:
    leader = demo_release.wards.sort_values("deri_rank").iloc[0]
    result = placeintel(
        "explain", "demo", leader["ward_name"].upper(), "--releases", str(releases_dir)
    )
    assert result.returncode == 0, result.stderr
    assert leader["ward_code"] in result.stdout and "rank 1 of 40" in result.stdout
    assert "% aged 65+" in result.stdout
    missing = placeintel("explain", "demo", "Atlantis", "--releases", str(releases_dir))
    assert missing.returncode == 2 and "no ward or LSOA 'Atlantis'" in missing.stderr


def test_nation_base_against_a_reference_release(demo_release, tmp_path: Path) -> None:
    # The demo's own release as the "national" reference: a release records its LSOAs'
    # ranges (DERI's resolution), the same as the region base's for LSOAs, so the same LSOA
    # scores. A missing reference is a clear error.
    result = placeintel(
        "build",
        "demo",
        "--out",
        str(tmp_path),
        "--base",
        "nation",
        "--reference",
        str(demo_release.path),
    )
    assert result.returncode == 0, result.stderr
    import pandas as pd

    ours = pd.read_csv(tmp_path / "demo" / "current" / "lsoas.csv")
    theirs = pd.read_csv(demo_release.path / "lsoas.csv")
    assert ours["deri_score"].tolist() == pytest.approx(theirs["deri_score"].tolist(), abs=1e-6)
    missing = placeintel("build", "demo", "--releases", str(tmp_path), "--base", "nation")
    assert missing.returncode == 1 and "index.reference" in missing.stderr


def test_manifest_reference_resolves_with_cli_overrides(demo_release, tmp_path: Path) -> None:
    import shutil

    import yaml

    shutil.copytree(demo_release.path, tmp_path / "national")
    region = tmp_path / "regions" / "demo"
    shutil.copytree(DATASETS_DIR / "demo", region)
    manifest = yaml.safe_load((region / "region.yml").read_text())
    manifest["index"] = {"base": "nation", "reference": "../../national"}  # relative to region.yml
    (region / "region.yml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    result = placeintel(
        "build",
        str(region),
        "--out",
        str(tmp_path / "out"),
        "--weight",
        "broadband=6",
        cwd=_elsewhere(tmp_path),
    )
    assert result.returncode == 0, result.stderr


def _elsewhere(tmp_path: Path) -> Path:
    """A working directory unrelated to the region, so relative paths cannot resolve by luck."""
    folder = tmp_path / "elsewhere"
    folder.mkdir(exist_ok=True)
    return folder


def test_old_spellings_work_for_one_release_with_a_notice(tmp_path: Path) -> None:
    """`--out` for the releases folder, and `serve --region`, as before this release."""
    result = placeintel("build", "demo", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "--out is deprecated" in result.stderr and "use --releases" in result.stderr
    assert (tmp_path / "demo" / "current" / "wards.csv").is_file()
    listing = placeintel("releases", "demo", "--out", str(tmp_path))
    assert listing.returncode == 0 and listing.stdout.startswith("*")
    missing = placeintel("serve", "--releases", str(tmp_path / "none"))
    assert missing.returncode == 2 and "placeintel serve REGION" in missing.stderr
    old = placeintel("serve", "--region", "demo", "--releases", str(tmp_path / "none"))
    assert old.returncode == 2 and "--region is deprecated" in old.stderr
    assert "placeintel build demo" in old.stderr  # it went on to look for demo's release


def test_every_command_and_option_is_documented() -> None:
    """As datasette's test_docs does: each command and each option a user can type is
    named in the README or docs/, so none is a secret."""
    import click

    from placeintel.cli import main

    docs = (ROOT / "README.md").read_text(encoding="utf-8") + "".join(
        path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md"))
    )
    undocumented = []
    for name, command in main.commands.items():
        if f"placeintel {name}" not in docs:
            undocumented.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for flag in param.opts:
                    if flag.startswith("--") and flag not in docs:
                        undocumented.append(f"{name} {flag}")
    assert undocumented == []
