"""Shared fixtures: one demo build per test session, and the real-data location."""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.pipeline import Release, build

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata"
#: What every published ward row carries, in the files and through the API.
WARD_FIELDS = (
    "ward_code",
    "ward_name",
    "lad_code",
    "lad_name",
    "demography_score",
    "broadband_score",
    "deprivation_score",
    "deri_score",
    "deri_rank",
)


@pytest.fixture(scope="session")
def releases_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("releases")


@pytest.fixture(scope="session")
def demo_release(releases_dir: Path) -> Release:
    """The demo region built once, as `make run` builds it."""
    return build("demo", out=releases_dir, echo=lambda line: None)


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not (REALDATA / "gm_wards_2023_generalised.geojson").is_file():
        pytest.skip(f"real Greater Manchester data not present at {REALDATA} (see its SOURCES.md)")
    return REALDATA
