"""Area-keyed census tables with coded columns (wide) or one line per category (long)."""

from __future__ import annotations

from pathlib import Path

import pytest

from placeintel.errors import DataError
from placeintel.sources.census_table import header_map, read_census_table

METADATA = (
    "Table_Name,Variable_Name,Type,new_names,Table_ID,old_names\n"
    "National Statistics Socio-economic Classification (NS-SEC),"
    "National Statistics Socio-economic Classification (NS-SEC): Total: All usual residents "
    "aged 16 years and over,NA,ts0620001,ts062,x\n"
    "National Statistics Socio-economic Classification (NS-SEC),"
    "National Statistics Socio-economic Classification (NS-SEC): L12 Semi-routine occupations,"
    "NA,ts0620007,ts062,x\n"
    "National Statistics Socio-economic Classification (NS-SEC),"
    "National Statistics Socio-economic Classification (NS-SEC): L13 Routine occupations,"
    "NA,ts0620008,ts062,x\n"
)


@pytest.fixture
def coded(tmp_path: Path) -> tuple[Path, dict]:
    (tmp_path / "meta.csv").write_text(METADATA, encoding="utf-8")
    path = tmp_path / "ts062.csv"
    path.write_text(
        "OA,ts0620001,ts0620007,ts0620008\nE00024141,262,18,15\nE00024142,210,,29\n",
        encoding="utf-8",
    )
    options = {"code_field": "OA", "metadata": "meta.csv", "_data_dir": str(tmp_path)}
    return path, options


def test_measures_by_code_or_by_label(coded) -> None:
    path, options = coded
    options["measures"] = {
        "nssec_base": "ts0620001",
        "nssec_l12_l13": [
            "ts0620007",
            "National Statistics Socio-economic Classification (NS-SEC): L13 Routine occupations",
        ],
    }
    frame = read_census_table(path, "census", options)
    assert frame["area_code"].tolist() == ["E00024141", "E00024142"]
    assert frame.loc[2, "nssec_l12_l13"] == 33  # 18 + 15
    assert frame["nssec_l12_l13"].isna().tolist() == [False, True]  # an empty part: missing
    assert frame.attrs["missing_cells"] == {"nssec_l12_l13": 1}
    assert frame.attrs["labels"]["ts0620007"].endswith("L12 Semi-routine occupations")
    assert frame.attrs["measure_columns"]["nssec_l12_l13"] == ["ts0620007", "ts0620008"]


def test_a_measure_the_file_lacks_is_named(coded) -> None:
    path, options = coded
    options["measures"] = {"nssec_base": "ts0620099"}
    with pytest.raises(DataError, match="column named in the manifest is missing") as caught:
        read_census_table(path, "census", options)
    assert caught.value.field == "ts0620099"
    assert header_map(["OA", "ts0620001"], "census", options)["*missing"] == ["ts0620099"]


def test_the_metadata_file_must_be_inside_the_data_folder(coded, tmp_path: Path) -> None:
    path, options = coded
    options |= {"metadata": "../../etc/passwd", "measures": {"nssec_base": "ts0620001"}}
    with pytest.raises(DataError, match="outside the data folder"):
        read_census_table(path, "census", options)


LONG = (
    "lsoa21_code,disability,n,total_residents,prop\n"
    "E01004766,Disabled under the Equality Act,368,1658,0.2219\n"
    "E01004766,Not disabled under the Equality Act,1290,1658,0.7780\n"
    "E01004767,Disabled under the Equality Act,301,1500,0.2006\n"
    "E01004767,Not disabled under the Equality Act,1199,1500,0.7993\n"
)
LONG_OPTIONS = {
    "code_field": "lsoa21_code",
    "long": {"category": "disability", "value": "n"},
    "measures": {
        "activities_limited": "Disabled under the Equality Act",
        "disability_base": "total_residents",
    },
}


def test_a_long_table_becomes_one_row_per_area(tmp_path: Path) -> None:
    path = tmp_path / "ts038.csv"
    path.write_text(LONG, encoding="utf-8")
    frame = read_census_table(path, "census", dict(LONG_OPTIONS))
    assert frame["area_code"].tolist() == ["E01004766", "E01004767"]
    assert frame["activities_limited"].tolist() == [368, 301]
    assert frame["disability_base"].tolist() == [1658, 1500]
    assert frame.index.tolist() == [2, 4]  # each area's first line in the file


def test_a_long_table_whose_total_disagrees_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ts038.csv"
    path.write_text(LONG.replace("1290,1658", "1290,1659"), encoding="utf-8")
    with pytest.raises(DataError, match="differs between the lines") as caught:
        read_census_table(path, "census", dict(LONG_OPTIONS))
    assert caught.value.field == "total_residents"


def test_a_gzipped_long_table_reads_the_same(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "ts038.csv.gz"
    path.write_bytes(gzip.compress(LONG.encode("utf-8")))
    frame = read_census_table(path, "census", dict(LONG_OPTIONS))
    assert frame["activities_limited"].sum() == 669


def test_a_category_written_two_ways_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ts038.csv"
    path.write_text(
        LONG.replace(
            "E01004767,Disabled under the Equality Act,",
            "E01004767,disabled under the equality act,",
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="also written another way") as caught:
        read_census_table(path, "census", dict(LONG_OPTIONS))
    assert caught.value.field == "disability"
    # A stray space around a category is only a quirk: it is the same category.
    path.write_text(LONG.replace("Equality Act,368", "Equality Act ,368"), encoding="utf-8")
    frame = read_census_table(path, "census", dict(LONG_OPTIONS))
    assert frame["activities_limited"].tolist() == [368, 301]


def test_one_column_named_twice_is_not_counted_twice(coded) -> None:
    path, options = coded
    options["measures"] = {
        "nssec_l12": [
            "ts0620007",
            "National Statistics Socio-economic Classification (NS-SEC): L12 Semi-routine "
            "occupations",
        ]
    }
    with pytest.raises(DataError, match="names the column 'ts0620007' twice"):
        read_census_table(path, "census", options)


def test_a_label_two_codes_share_names_neither(coded, tmp_path: Path) -> None:
    path, options = coded
    (tmp_path / "meta.csv").write_text(
        METADATA.replace("L13 Routine occupations", "L12 Semi-routine occupations"),
        encoding="utf-8",
    )
    options["measures"] = {
        "nssec": "National Statistics Socio-economic Classification (NS-SEC): L12 Semi-routine "
        "occupations"
    }
    with pytest.raises(DataError, match="belongs to more than one code"):
        read_census_table(path, "census", options)
