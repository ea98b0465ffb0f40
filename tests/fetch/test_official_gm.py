"""Greater Manchester's own download blocks, against files in the official formats.

The real GM files here are research mirrors' conversions (demographr's long TS038,
coded Census columns, the IMD R package's CSV of File 8). The official files differ in
shape: Nomis's bulk Census CSVs are wide and headed by labels, and MHCLG's File 8 is a
workbook. These tests make official-format files from the real ones (same numbers,
official headers and layout), serve them from 127.0.0.1 at the paths of the real
addresses, run `placeintel fetch` with the GM manifest's own download blocks, and check
that the build reads the fetched files (`save_as` + `read`) to exactly the same index as
the copies.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook

from placeintel.region import DATASETS_DIR, load_manifest
from placeintel.sources import read_source
from placeintel.sources.iod2025 import IOD2025_HEADERS
from tests.fetch.server import Server, serving, zipped
from tests.fetch.test_fetch import run

OFFICIAL = (
    "census-ts038-disability",
    "census-ts062-nssec",
    "census-ts067-qualifications",
    "iod2025-indicators",
    "england-ts038-disability",
    "england-ts062-nssec",
    "england-ts067-qualifications",
    "england-iod2025-indicators",
)
METADATA = "census2021_oa21_table_metadata_singleton_ts038_ts062_ts065_ts067.csv"
#: Areas outside Greater Manchester that the national files hold and the subset drops.
ELSEWHERE = {"OA": ("E00999991", "W00999991"), "lsoa21_code": ("W01999991", "W01999992")}


def _nomis_csv(codes: pd.Series, columns: dict[str, pd.Series]) -> bytes:
    """A Nomis bulk Census file: date, geography, geography code, then labelled counts."""
    frame = pd.DataFrame(
        {"date": 2021, "geography": codes, "geography code": codes, **columns}
    ).reset_index(drop=True)
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _labelled(coded: pd.DataFrame, key: str, labels: dict[str, str]) -> bytes:
    """A coded table (OA / lsoa21_code, ts0620001 ...) with Nomis's labels as headers,
    and two areas outside GM added, so the subset has work to do."""
    extra = pd.DataFrame([{key: code, **{c: 1 for c in labels}} for code in ELSEWHERE[key]])
    table = pd.concat([coded, extra], ignore_index=True)
    return _nomis_csv(table[key], {labels[c]: table[c] for c in labels})


def _ts038(long: pd.DataFrame) -> bytes:
    """TS038 as Nomis publishes it (wide), from demographr's long form of the same table."""
    wide = long.pivot(index="lsoa21_code", columns="disability", values="n")
    total = long.groupby("lsoa21_code")["total_residents"].first()
    disabled = wide["Disabled under the Equality Act"]
    not_disabled = wide["Not disabled under the Equality Act"]
    prefix = "Disability: "
    return _nomis_csv(
        pd.Series(wide.index),
        {
            f"{prefix}Total: All usual residents": total.to_numpy(),
            f"{prefix}Disabled under the Equality Act": disabled.to_numpy(),
            f"{prefix}Disabled under the Equality Act: Day-to-day activities limited a lot": (
                disabled // 2
            ).to_numpy(),
            f"{prefix}Disabled under the Equality Act: Day-to-day activities limited a little": (
                disabled - disabled // 2
            ).to_numpy(),
            f"{prefix}Not disabled under the Equality Act": not_disabled.to_numpy(),
        },
    )


def _file8(indicators: pd.DataFrame) -> bytes:
    """MHCLG's File 8: a Notes sheet, then one sheet per domain with a title line above
    its header row; suppressed cells empty."""
    official = {names[1]: names[0] for names in IOD2025_HEADERS.values() if len(names) > 1}
    domains = {
        "Income": ["income_domain_numerator", _idaopi()],
        "Employment": ["employment_domain_numerator"],
        "Barriers": [
            "digital_connectivity_broadband_download_and_upload_speeds",
            "connectivity_score",
        ],
    }
    book = Workbook(write_only=True)
    notes = book.create_sheet("Notes")
    notes.append(["English Indices of Deprivation 2025: underlying indicators"])
    notes.append(["Suppressed values are left blank."])
    for sheet, columns in domains.items():
        page = book.create_sheet(sheet)
        page.append([f"{sheet} domain: underlying indicators"])
        page.append(["LSOA code (2021)", "LSOA name (2021)", *(official[c] for c in columns)])
        for row in indicators[["lsoa21_code", *columns]].itertuples(index=False):
            code, *values = row
            page.append([code, f"name of {code}", *(None if pd.isna(v) else v for v in values)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _idaopi() -> str:
    return "income_deprivation_affecting_older_people_index_idaopi_numerator"


@pytest.fixture(scope="module")
def official_server(realdata: Path) -> Iterator[Server]:
    """Official-format Nomis zips and MHCLG's File 8, at the paths of their real addresses."""
    meta = pd.read_csv(realdata / METADATA, dtype=str)
    label_of = dict(zip(meta["new_names"], meta["old_names"], strict=True))

    def coded(name: str) -> tuple[pd.DataFrame, dict[str, str]]:
        frame = pd.read_csv(realdata / name, dtype={"OA": str, "lsoa21_code": str})
        return frame, {c: label_of[c] for c in frame.columns if c in label_of}

    england = realdata / "england"
    long = england / "england_wales_census2021_ts038_disability_lsoa21_demographr.csv.gz"
    with gzip.open(long) as handle:
        ts038 = _ts038(pd.read_csv(handle))
    zips = {}
    for table, name in (("ts062", "nssec"), ("ts067", "highest_qualification")):
        oa, oa_labels = coded(f"census2021_{table}_{name}_oa21_gm.csv")
        lsoa, lsoa_labels = coded(
            f"england/england_wales_census2021_{table}_{name}_lsoa21_from_oa.csv"
        )
        zips[table] = zipped(
            {
                f"census2021-{table}-oa.csv": _labelled(oa, "OA", oa_labels),
                f"census2021-{table}-lsoa.csv": _labelled(lsoa, "lsoa21_code", lsoa_labels),
            }
        )
    zips["ts038"] = zipped({"census2021-ts038-lsoa.csv": ts038, "metadata.txt": b"x"})
    indicators = england / "england_iod2025_lsoa21_underlying_indicators.csv"
    workbook = _file8(pd.read_csv(indicators, dtype={"lsoa21_code": str}))
    with serving() as server:
        for table, body in zips.items():
            server.routes[f"/output/census/2021/census2021-{table}.zip"] = ("application/zip", body)
        server.routes[
            "/media/691dec012c6b98ecdbc500d4/File_8_IoD2025_Underlying_Indicators.xlsx"
        ] = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", workbook)
        yield server


def _local_manifest(folder: Path, server: Server) -> Path:
    """GM's manifest with every official address moved to the local server (path kept)."""
    raw = yaml.safe_load((DATASETS_DIR / "greater-manchester/region.yml").read_text("utf-8"))
    entries = raw["sources"] + raw["nation"]["sources"]
    for entry in entries:
        if entry["id"] in OFFICIAL:
            url = urlsplit(entry["download"]["url"])
            entry["download"]["url"] = f"{server.url}{url.path}"
    for beside in (DATASETS_DIR / "greater-manchester").glob("*.json"):
        shutil.copy2(beside, folder / beside.name)  # the datasets' Table Schemas
    path = folder / "region.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fetched(realdata: Path, official_server: Server, tmp_path_factory) -> tuple[Path, Path, str]:
    """A data folder holding the real copies, into which the official files are fetched."""
    root = tmp_path_factory.mktemp("gm-official")
    data = root / "data"
    shutil.copytree(realdata, data)  # a scratch copy under /tmp, never the repository
    manifest = _local_manifest(root, official_server)
    result = run("fetch", manifest, "--data-dir", data, "--only", ",".join(OFFICIAL))
    return manifest, data, result.output if result.exit_code == 0 else "FAILED\n" + result.output


def test_fetch_saves_the_official_files_under_their_own_names(fetched, realdata: Path):
    manifest, data, output = fetched
    assert not output.startswith("FAILED"), output
    assert "8 fetched" in output
    header = (data / "census2021-ts062-oa-gm.csv").read_text("utf-8").splitlines()[0]
    assert header.startswith("date,geography,geography code,National Statistics")
    codes = pd.read_csv(data / "census2021-ts062-oa-gm.csv", dtype=str)["geography code"]
    gm = pd.read_csv(realdata / "census2021_ts062_nssec_oa21_gm.csv", dtype=str)["OA"]
    assert sorted(codes) == sorted(gm)  # cut to GM's output areas; others dropped
    with (data / "census2021-ts038-lsoa-gm.csv").open(encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) - 1 == 1702
    assert (data / "File_8_IoD2025_Underlying_Indicators.xlsx").read_bytes()[:2] == b"PK"
    lock = json.loads((data / "sources.lock.json").read_text("utf-8"))["sources"]
    assert lock["census-ts038-disability"]["path"] == "census2021-ts038-lsoa-gm.csv"
    # the copies the manifest's `path` names are untouched
    assert (data / "census2021_ts038_disability_lsoa21_gm_demographr.csv").read_bytes() == (
        realdata / "census2021_ts038_disability_lsoa21_gm_demographr.csv"
    ).read_bytes()


@pytest.mark.parametrize("source_id", OFFICIAL)
def test_official_file_reads_as_the_copy_does(fetched, realdata: Path, source_id: str):
    manifest_path, data, output = fetched
    assert not output.startswith("FAILED"), output
    official = load_manifest(manifest_path, data)
    copies = load_manifest(DATASETS_DIR / "greater-manchester/region.yml", realdata)
    by_id = {s.id: s for s in official.sources + official.nation.sources}
    copy_of = {s.id: s for s in copies.sources + copies.nation.sources}
    source = by_id[source_id]
    assert source.path == source.options["download"]["save_as"]
    assert source.path != copy_of[source_id].path
    got = read_source(official, source)
    want = read_source(copies, copy_of[source_id])
    key = "area_code" if "area_code" in want else "lsoa21_code"
    got, want = got.set_index(key), want.set_index(key)
    measures = [c for c in want.columns if c not in ("lsoa21_name",)]
    got = got.loc[want.index, measures].apply(pd.to_numeric)
    pd.testing.assert_frame_equal(got, want[measures].apply(pd.to_numeric), check_dtype=False)


def test_build_from_the_fetched_official_files_matches_the_copies(fetched, realdata, tmp_path):
    manifest_path, data, output = fetched
    assert not output.startswith("FAILED"), output
    built = run("build", manifest_path, "--data-dir", data, "--releases", tmp_path / "official")
    assert built.exit_code == 0, built.output
    copies = run(
        "build",
        DATASETS_DIR / "greater-manchester/region.yml",
        "--data-dir",
        realdata,
        "--releases",
        tmp_path / "copies",
    )
    assert copies.exit_code == 0, copies.output
    package = json.loads(
        (tmp_path / "official/greater-manchester/current/datapackage.json").read_text("utf-8")
    )
    locked = json.loads((data / "sources.lock.json").read_text("utf-8"))["sources"]
    pinned = [s for s in package["sources"] if "sha256" in s]
    assert sorted(s["sha256"] for s in pinned) == sorted(locked[i]["sha256"] for i in OFFICIAL)
    assert all(s["url"].startswith("http://127.0.0.1:") for s in pinned)
    for layer in ("wards.csv", "lsoas.csv"):
        a = pd.read_csv(tmp_path / "official/greater-manchester/current" / layer)
        b = pd.read_csv(tmp_path / "copies/greater-manchester/current" / layer)
        pd.testing.assert_frame_equal(a, b)
