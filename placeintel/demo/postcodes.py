"""Postcode-level broadband (Ofcom Connected Nations) and the ONS Postcode Directory, synthetic.

National bodies get Ofcom's fixed-broadband data by postcode (about 1.7 million
rows for England and Wales) and place postcodes in output areas with the ONSPD.
Larger synthetic layouts ship exactly that pair instead of the OA-level files,
so a national build reads, validates and joins data of the real size and shape.
The small demo keeps its broadband by output area, but has a small directory of its
own (one live postcode per output area) to place the council datasets given by postcode.

Postcodes use areas beginning with Q, a letter Royal Mail never uses first, so
no synthetic postcode can be mistaken for a real one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from placeintel.demo.geography import BNG, Geography

#: Premises per postcode: the synthetic nation has ~24M premises, so 14 each gives the real
#: count of ~1.7M postcodes (England and Wales: ~29M premises, 17 per postcode).
PREMISES_PER_POSTCODE = 14
#: Share of ONSPD postcodes that are terminated (kept in the directory, absent from Ofcom).
TERMINATED_SHARE = 0.03
_SEED = (20231, 2)
_DIRECTORY_SEED = (20231, 17)
#: Where a synthetic region keeps its ONS Postcode Directory (the name ONS gives the file).
ONSPD_PATH = "lookups/ONSPD_MAY_2024_UK.csv"
_AREAS = "ABCDEFGHJKLMNPRSTUWXYZ"
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # Royal Mail's inward-code letters
_PER_DISTRICT = 10 * len(_UNIT_LETTERS) ** 2
_DISTRICTS_PER_AREA = 99

COVERAGE_HEADER = [
    "postcode",
    "postcode_space",
    "postcode area",
    "All Premises",
    "All Matched Premises",
    "SFBB availability (% premises)",
    "UFBB (100Mbit/s) availability (% premises)",
    "Full Fibre availability (% premises)",
    "% of premises unable to receive 10Mbit/s",
    "% of premises unable to receive 30Mbit/s",
    "Number of premises with 0<2Mbit/s download speed",
    "Number of premises with 2<5Mbit/s download speed",
    "Number of premises with 5<10Mbit/s download speed",
    "Number of premises with 10<30Mbit/s download speed",
    "Number of premises with >=30Mbit/s download speed",
]
PERFORMANCE_HEADER = [
    "postcode",
    "postcode_space",
    "postcode area",
    "Median download speed (Mbit/s)",
    "Average download speed (Mbit/s)",
    "Number of connections < 2 Mbit/s (number of lines)",
    "Number of connections 2<5 Mbit/s (number of lines)",
    "Number of connections 5<10 Mbit/s (number of lines)",
    "Number of connections 10<30 Mbit/s (number of lines)",
    "Number of connections 30<300 Mbit/s (number of lines)",
    "Number of connections >= 300 Mbit/s (number of lines)",
]
#: ONSPD's columns in the order ONS publishes them (user guide, 2024 editions).
ONSPD_HEADER = [
    "pcd",
    "pcd2",
    "pcds",
    "dointr",
    "doterm",
    "oscty",
    "ced",
    "oslaua",
    "osward",
    "parish",
    "usertype",
    "oseast1m",
    "osnrth1m",
    "osgrdind",
    "oshlthau",
    "nhser",
    "ctry",
    "rgn",
    "streg",
    "pcon",
    "eer",
    "teclec",
    "ttwa",
    "pct",
    "itl",
    "statsward",
    "oa01",
    "casward",
    "npark",
    "lsoa01",
    "msoa01",
    "ur01ind",
    "oac01",
    "oa11",
    "lsoa11",
    "msoa11",
    "wz11",
    "sicbl",
    "bua24",
    "ru11ind",
    "oac11",
    "lat",
    "long",
    "lep1",
    "lep2",
    "pfa",
    "imd",
    "calncv",
    "icb",
    "oa21",
    "lsoa21",
    "msoa21",
]
#: Placeholder codes for the ONSPD columns placeintel does not use ("pseudo" codes, as
#: ONSPD itself uses for postcodes without an assignment).
_PSEUDO = {
    "oscty": "E99999999",
    "ced": "E99999999",
    "parish": "E43999999",
    "usertype": "0",
    "osgrdind": "1",
    "oshlthau": "E99999999",
    "nhser": "E40999999",
    "ctry": "E92000001",
    "rgn": "E12999999",
    "streg": "0",
    "pcon": "E14999999",
    "eer": "E15999999",
    "teclec": "E99999999",
    "ttwa": "E30999999",
    "pct": "E16999999",
    "itl": "E06999999",
    "statsward": "99ZZ00",
    "casward": "99ZZ00",
    "npark": "E65000001",
    "ur01ind": "",
    "wz11": "E33999999",
    "sicbl": "E38999999",
    "bua24": "E63999999",
    "ru11ind": "C1",
    "oac11": "",
    "lep1": "E37999999",
    "lep2": "",
    "pfa": "E23999999",
    "calncv": "E56999999",
    "icb": "E54999999",
}


def postcode_names(count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` distinct postcodes in order, as (outward code, inward code) arrays."""
    k = np.arange(count)
    unit = k % len(_UNIT_LETTERS) ** 2
    sector = (k // len(_UNIT_LETTERS) ** 2) % 10
    district = (k // _PER_DISTRICT) % _DISTRICTS_PER_AREA + 1
    area = k // (_PER_DISTRICT * _DISTRICTS_PER_AREA)
    if area.max(initial=0) >= len(_AREAS):
        raise ValueError(f"too many postcodes: {count:,}")
    letters = np.array(list(_UNIT_LETTERS))
    outward = pd.Series(np.char.add("Q", np.array(list(_AREAS))[area])).str.cat(
        district.astype(str)
    )
    inward = (
        pd.Series(sector.astype(str))
        .str.cat(letters[unit // len(_UNIT_LETTERS)])
        .str.cat(letters[unit % len(_UNIT_LETTERS)])
    )
    return outward.to_numpy(dtype=object), inward.to_numpy(dtype=object)


def _chain(rng: np.random.Generator, total: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Multinomial draws for many rows at once, as a chain of binomials (same distribution
    as one multinomial per row, without a Python loop over 1.7 million postcodes)."""
    probs = np.broadcast_to(probs, (len(total), probs.shape[-1]))
    out = np.zeros(probs.shape, dtype=np.int64)
    left, mass = total.astype(np.int64), np.ones(len(total))
    for j in range(probs.shape[1] - 1):
        p = np.clip(probs[:, j] / np.maximum(mass, 1e-12), 0, 1)
        out[:, j] = rng.binomial(left, p)
        left = left - out[:, j]
        mass = mass - probs[:, j]
    out[:, -1] = left
    return out


def draw_postcodes(geo: Geography, people: pd.DataFrame) -> pd.DataFrame:
    """One row per live postcode: its OA and Ofcom premises and connection counts."""
    rng = np.random.default_rng(_SEED)
    premises = people["premises"].to_numpy()
    remote = people["remoteness"].to_numpy()
    per_oa = np.maximum(1, np.round(premises / PREMISES_PER_POSTCODE)).astype(int)
    oa = np.repeat(np.arange(len(premises)), per_oa)
    counts = np.concatenate(
        [rng.multinomial(p, np.full(n, 1 / n)) for p, n in zip(premises, per_oa, strict=True)]
    )
    below_30 = rng.binomial(counts, np.clip(0.005 + 0.35 * remote[oa] ** 2, 0, 1))
    split = _chain(rng, below_30, np.array([0.15, 0.2, 0.25, 0.4]))
    connections = rng.binomial(counts, 0.78)
    slow = np.clip(0.01 + 0.45 * remote[oa] ** 2, 0, 0.9)[:, None]
    bands = _chain(
        rng,
        connections,
        np.hstack(
            [
                slow * 0.2,
                slow * 0.3,
                slow * 0.5,
                (1 - slow) * 0.25,
                (1 - slow) * 0.6,
                (1 - slow) * 0.15,
            ]
        ),
    )
    midpoints = np.array([1.2, 3.5, 7.5, 20, 80, 500])
    average = (bands * midpoints).sum(axis=1) / np.maximum(bands.sum(axis=1), 1)
    average = np.round(average * rng.uniform(0.85, 1.1, len(average)), 1)
    oas = geo.oas.set_index("oa21_code").loc[people["oa21_code"]]
    centre = oas.geometry.centroid
    jitter = rng.normal(0, geo.layout.spacing * 0.12, size=(len(oa), 2))
    frame = pd.DataFrame(
        {
            "oa21_code": people["oa21_code"].to_numpy()[oa],
            "premises": counts,
            "below_30": below_30,
            "easting": np.round(centre.x.to_numpy()[oa] + jitter[:, 0]).astype(int),
            "northing": np.round(centre.y.to_numpy()[oa] + jitter[:, 1]).astype(int),
            "average": average,
            "median": np.round(average * rng.uniform(0.55, 0.8, len(average)), 1),
        }
    )
    for j, name in enumerate(("b0_2", "b2_5", "b5_10", "b10_30")):
        frame[name] = split[:, j]
    for j, name in enumerate(("c0_2", "c2_5", "c5_10", "c10_30", "c30_300", "c300")):
        frame[name] = bands[:, j]
    return frame


def write_directory(out_dir: Path, geo: Geography) -> Path:
    """The demo's ONS Postcode Directory: one live postcode per output area, and a few
    terminated ones, in ONSPD's full layout.

    The demo keeps its broadband by output area, so no Ofcom postcode file needs it; it
    places the council datasets given by postcode (the warm spaces). Its random numbers
    come from a generator of its own, so every other demo file is unchanged by it.
    """
    rng = np.random.default_rng(_DIRECTORY_SEED)
    oas = geo.oas.sort_values("oa21_code").reset_index(drop=True)
    centre = oas.geometry.centroid
    jitter = rng.normal(0, geo.layout.spacing * 0.12, size=(len(oas), 2))
    x, y = centre.x.to_numpy() + jitter[:, 0], centre.y.to_numpy() + jitter[:, 1]
    # A postcode's grid reference lies in its own output area, as ONS assigns them.
    inside = shapely.contains_xy(oas.geometry.to_numpy(), x, y)
    fallback = oas.geometry.representative_point()
    x = np.where(inside, x, fallback.x.to_numpy())
    y = np.where(inside, y, fallback.y.to_numpy())
    pcs = pd.DataFrame(
        {
            "oa21_code": oas["oa21_code"].to_numpy(),
            "easting": np.round(x).astype(int),
            "northing": np.round(y).astype(int),
        }
    )
    live = len(pcs)
    terminated = round(live * TERMINATED_SHARE)
    outward, inward = postcode_names(live + terminated)
    is_live = np.ones(live + terminated, dtype=bool)
    is_live[np.linspace(1, live + terminated - 1, terminated).astype(int)] = False
    return _onspd(out_dir / ONSPD_PATH, geo, pcs, outward, inward, is_live)


def write_postcode_files(out_dir: Path, geo: Geography, people: pd.DataFrame) -> list[Path]:
    """Ofcom's postcode coverage and performance files, and the ONSPD that places them."""
    pcs = draw_postcodes(geo, people)
    # Terminated postcodes sit in the directory only; interleave them so they are not all
    # at the end (real ONSPD is sorted by postcode, live and terminated mixed).
    live = len(pcs)
    terminated = round(live * TERMINATED_SHARE)
    outward, inward = postcode_names(live + terminated)
    is_live = np.ones(live + terminated, dtype=bool)
    is_live[np.linspace(1, live + terminated - 1, terminated).astype(int)] = False
    pcs["outward"], pcs["inward"] = outward[is_live], inward[is_live]
    pcs["pcds"] = pcs["outward"] + " " + pcs["inward"]
    pcs["area"] = pcs["outward"].str[:2]
    folder = out_dir / "broadband"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _coverage(folder / "202401_fixed_postcode_coverage_r01.csv", pcs),
        _performance(folder / "202401_fixed_postcode_performance_r01.csv", pcs),
        _onspd(out_dir / ONSPD_PATH, geo, pcs, outward, inward, is_live),
    ]


def _percent(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (100 * part / whole).round(1)


def _coverage(path: Path, pcs: pd.DataFrame) -> Path:
    below_10 = pcs["b0_2"] + pcs["b2_5"] + pcs["b5_10"]
    sfbb = 100 - _percent(pcs["below_30"], pcs["premises"])
    table = pd.DataFrame(
        {
            "postcode": pcs["pcds"].str.replace(" ", "", regex=False),
            "postcode_space": pcs["pcds"],
            "postcode area": pcs["area"],
            "All Premises": pcs["premises"],
            "All Matched Premises": pcs["premises"],
            "SFBB availability (% premises)": sfbb,
            "UFBB (100Mbit/s) availability (% premises)": (sfbb * 0.8).round(1),
            "Full Fibre availability (% premises)": (sfbb * 0.55).round(1),
            "% of premises unable to receive 10Mbit/s": _percent(below_10, pcs["premises"]),
            "% of premises unable to receive 30Mbit/s": _percent(pcs["below_30"], pcs["premises"]),
            "Number of premises with 0<2Mbit/s download speed": pcs["b0_2"],
            "Number of premises with 2<5Mbit/s download speed": pcs["b2_5"],
            "Number of premises with 5<10Mbit/s download speed": pcs["b5_10"],
            "Number of premises with 10<30Mbit/s download speed": pcs["b10_30"],
            "Number of premises with >=30Mbit/s download speed": pcs["premises"] - pcs["below_30"],
        }
    )
    table.to_csv(path, index=False, lineterminator="\r\n")
    return path


def _performance(path: Path, pcs: pd.DataFrame) -> Path:
    lines = pcs[["c0_2", "c2_5", "c5_10", "c10_30", "c30_300", "c300"]].sum(axis=1)
    # Ofcom withholds speeds where too few lines report, as in its real postcode files.
    withheld = lines < 3
    table = pd.DataFrame(
        {
            "postcode": pcs["pcds"].str.replace(" ", "", regex=False),
            "postcode_space": pcs["pcds"],
            "postcode area": pcs["area"],
            "Median download speed (Mbit/s)": pcs["median"].astype(str).mask(withheld, "n/a"),
            "Average download speed (Mbit/s)": pcs["average"].astype(str).mask(withheld, "n/a"),
        }
    )
    for column, band in zip(
        PERFORMANCE_HEADER[5:], ("c0_2", "c2_5", "c5_10", "c10_30", "c30_300", "c300"), strict=True
    ):
        table[column] = pcs[band]
    table.to_csv(path, index=False, lineterminator="\r\n")
    return path


def _onspd(
    path: Path,
    geo: Geography,
    pcs: pd.DataFrame,
    outward: np.ndarray,
    inward: np.ndarray,
    is_live: np.ndarray,
) -> Path:
    """The ONS Postcode Directory for the region: every postcode, live and terminated."""
    total = len(outward)
    oa_of = np.empty(total, dtype=object)
    east, north = np.zeros(total, dtype=int), np.zeros(total, dtype=int)
    oa_of[is_live] = pcs["oa21_code"].to_numpy()
    east[is_live], north[is_live] = pcs["easting"].to_numpy(), pcs["northing"].to_numpy()
    # A terminated postcode keeps the OA and grid reference of the live one before it.
    previous = np.maximum.accumulate(np.where(is_live, np.arange(total), 0))
    dead = ~is_live
    oa_of[dead], east[dead], north[dead] = (
        oa_of[previous[dead]],
        east[previous[dead]],
        north[previous[dead]],
    )
    oas = geo.oas.set_index("oa21_code")
    wards = geo.wards.set_index("ward_code")
    lon, lat = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True).transform(east, north)
    out_s = pd.Series(outward)
    table = pd.DataFrame(
        {
            "pcd": np.where(out_s.str.len() == 3, out_s + " ", out_s) + inward,
            "pcd2": out_s.str.ljust(4) + " " + inward,
            "pcds": out_s + " " + inward,
            "dointr": "201001",
            "doterm": np.where(is_live, "", "202305"),
        }
    )
    ward_of = oas.loc[oa_of, "ward_code"].to_numpy()
    columns = {
        "oslaua": wards.loc[ward_of, "lad_code"].to_numpy(),
        "osward": ward_of,
        "oseast1m": east,
        "osnrth1m": north,
        "oa01": "",
        "lsoa01": "",
        "msoa01": "",
        "oac01": "",
        "oa11": "",
        "lsoa11": oas.loc[oa_of, "lsoa11_code"].to_numpy(),
        "msoa11": "",
        "lat": np.round(lat, 6),
        "long": np.round(lon, 6),
        "imd": "",
        "oa21": oa_of,
        "lsoa21": oas.loc[oa_of, "lsoa21_code"].to_numpy(),
        "msoa21": oas.loc[oa_of, "msoa21_code"].to_numpy(),
    }
    for name in ONSPD_HEADER[5:]:
        table[name] = columns[name] if name in columns else _PSEUDO[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    # ONS quotes every text field of the directory.
    table[ONSPD_HEADER].to_csv(
        path, index=False, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC
    )
    return path
