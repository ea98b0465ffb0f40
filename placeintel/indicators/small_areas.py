"""Every count, score and rate the indicators need, per 2021 LSOA: DERI's native resolution.

Sources arrive keyed by output area (Ofcom, Nomis bulk files), by 2021 LSOA
(Nomis extracts, IoD2025, DWP) or by 2011 LSOA (IMD 2019). All are brought to
2021 LSOAs here, once: output-area counts summed through the ONS OA -> LSOA
lookup, 2011-LSOA values interpolated by area or population. Wards are then made
from these LSOAs (`values.indicator_values`), so the two levels share one table
and one method. The same function builds the nation base's LSOA table from the
national files, with no ward lookup at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import geopandas as gpd
import pandas as pd

from placeintel.engine import LOCAL
from placeintel.errors import DataError
from placeintel.indicators.interpolate import interpolate_areas
from placeintel.indicators.zonal import KnownSums
from placeintel.sources import RegionData, ofcom
from placeintel.sources.tables import refuse_first

#: Ofcom's counts and speed weights, summed; its shares are recomputed from them.
BROADBAND_MEASURES = (*ofcom.COUNTS, *ofcom.SPEED_WEIGHTS)
#: Columns of a deprivation file that are scores or rates, weighted by population.
_RATES = [
    "imd_score",
    "income_deprivation_rate",
    "employment_deprivation_rate",
    "digital_connectivity",
]
#: Counts a deprivation file publishes per LSOA (summed like any other count).
_COUNTS = ["income_numerator", "idaopi_numerator", "employment_numerator"]


@dataclass
class SmallAreaCounts:
    """Measures per 2021 LSOA (index `lsoa21_code`), and how each was made."""

    table: pd.DataFrame
    methods: dict[str, str] = field(default_factory=dict)
    #: The deprivation edition the region's IMD files are ("IoD2025", "IMD 2019"), if any.
    edition: str = ""
    #: ONS labels of coded census columns, from a table's metadata file.
    labels: dict[str, str] = field(default_factory=dict)
    #: For census measures: the file's columns each one adds up.
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: The measures that come from the deprivation file.
    deprivation: list[str] = field(default_factory=list)

    @property
    def rates(self) -> list[str]:
        """Measures that are scores or rates, not counts: never summed over areas."""
        return [c for c in _RATES if c in self.table]


def lsoa_counts(data: RegionData, engine=LOCAL, known: KnownSums | None = None) -> SmallAreaCounts:
    """Every measure the region's sources hold, per 2021 LSOA (`known`: the population
    raster's sums over 2021 LSOAs, when the stage computes them anyway)."""
    parts: list[pd.DataFrame] = []
    methods: dict[str, str] = {}
    labels: dict[str, str] = {}
    columns: dict[str, list[str]] = {}
    oa_lookup = data.one("lookup-oa-lsoa")
    for role, how in (
        ("census", "census counts"),
        ("pension-credit", "DWP claimant counts"),
        ("broadband-coverage", "Ofcom premises counts"),
        (
            "broadband-performance",
            "Ofcom connection counts (speed weighted by lines reporting one)",
        ),
    ):
        for source, frame in data.role(role):
            if role.startswith("broadband"):
                frame = ofcom.speed_weights(frame)
                measures = [c for c in BROADBAND_MEASURES if c in frame]
            else:  # census and DWP frames hold exactly the measures the manifest names
                measures = [c for c in frame.columns if c not in ("area_code", "area_name")]
            path = str(source.resolve(data.manifest.data_dir))
            summed, level = to_lsoas(frame, oa_lookup, [m for m in measures if m in frame], path)
            parts.append(summed)
            title = source.title or source.id
            step = "summed from output areas to LSOAs" if level == "oa" else "by LSOA"
            methods.update({m: f"{how} ({title}), {step}" for m in summed.columns})
            labels.update(frame.attrs.get("labels") or {})
            columns.update(frame.attrs.get("measure_columns") or {})
    table = reduce(lambda a, b: a.add(b, fill_value=0), parts) if parts else pd.DataFrame()
    edition, deprivation, how = _deprivation(data, engine, known)
    if deprivation is not None:
        table = table.join(deprivation, how="outer") if not table.empty else deprivation
        methods.update({c: how for c in deprivation.columns})
        table["area_population"], methods["area_population"] = _area_population(
            table, deprivation, edition
        )
    table.index.name = "lsoa21_code"
    own = list(deprivation.columns) if deprivation is not None else []
    return SmallAreaCounts(table.sort_index(), methods, edition, labels, columns, own)


def to_lsoas(
    frame: pd.DataFrame, oa_lookup: pd.DataFrame | None, measures: list[str], path: str
) -> tuple[pd.DataFrame, str]:
    """Sum `measures` of a frame keyed by `area_code` (OA21 or LSOA21) into 2021 LSOAs."""
    codes = frame["area_code"]
    is_oa = codes.str[1:3].eq("00")  # E00/W00 output areas; E01/W01 LSOAs
    if not is_oa.any():
        sums = frame[measures].groupby(codes.to_numpy()).sum(min_count=1)
        return sums, "lsoa"
    if oa_lookup is None:
        raise DataError(
            "this file is by output area, but the manifest names no OA -> LSOA lookup",
            file=path,
            field="area_code",
            hint="add a source with role lookup-oa-lsoa",
        )
    lsoa = codes.map(oa_lookup.set_index("oa21_code")["lsoa21_code"])
    refuse_first(
        lsoa.isna(),
        lambda row: f"area code {codes[row]!r} is not in the OA -> LSOA 2021 lookup",
        file=path,
        field="area_code",
        hint="check the file's geography vintage (2011 vs 2021 codes) and the lookups",
    )
    return frame[measures].groupby(lsoa.to_numpy()).sum(min_count=1), "oa"


def deprivation_table(data: RegionData) -> pd.DataFrame | None:
    """Every deprivation (role imd) file of the region merged on its LSOA code."""
    frames = [frame for _, frame in data.role("imd")]
    if not frames:
        return None
    key = "lsoa21_code" if "lsoa21_code" in frames[0] else "lsoa11_code"
    merged = reduce(
        lambda a, b: a.merge(
            b.drop(columns=[c for c in b if c in a and c != key]), on=key, how="outer"
        ),
        frames,
    )
    merged.attrs["edition"] = frames[0].attrs.get("edition", "IMD 2019")
    merged.attrs["key"] = key
    return merged


def _deprivation(
    data: RegionData, engine=LOCAL, known: KnownSums | None = None
) -> tuple[str, pd.DataFrame | None, str]:
    """The deprivation file's scores, rates and counts per 2021 LSOA, and how they got there."""
    merged = deprivation_table(data)
    if merged is None:
        return "", None, ""
    edition = merged.attrs["edition"]
    rates = [c for c in _RATES if c in merged]
    counts = [c for c in _COUNTS + ["population_total"] if c in merged]
    if merged.attrs["key"] == "lsoa21_code":
        table = merged.set_index("lsoa21_code")[rates + counts]
        return edition, table, f"{edition}, published on 2021 LSOAs"
    lsoa11 = data.require(
        "lsoa11", f"{edition} is on 2011 LSOAs: the manifest needs their boundaries"
    )
    lsoa21 = data.require(
        "lsoa21", f"{edition} is on 2011 LSOAs: reaching 2021 LSOAs needs their boundaries"
    )
    values = merged[["lsoa11_code", *rates, *counts]].dropna(subset=["imd_score"])
    table, how = interpolate_areas(
        values.rename(columns={"lsoa11_code": "source_code"}),
        lsoa11.rename(columns={"lsoa11_code": "source_code"}),
        gpd.GeoDataFrame(lsoa21.rename(columns={"lsoa21_code": "target_code"})),
        rates=rates,
        counts=counts,
        raster=data.one("population-raster"),
        engine=engine,
        known=known,
    )
    table.index.name = "lsoa21_code"
    return edition, table, f"{edition}, on 2011 LSOAs: {how}"


def _area_population(
    table: pd.DataFrame, deprivation: pd.DataFrame, edition: str
) -> tuple[pd.Series, str]:
    """The population that weights a deprivation score or rate when LSOAs combine: the
    file's own denominators when it has them, else the Census 2021 population."""
    if "population_total" in deprivation and deprivation["population_total"].notna().any():
        return table["population_total"], f"{edition} population denominators"
    if "population" in table:
        return table["population"], "Census 2021 usual residents (the census source's total)"
    return pd.Series(float("nan"), index=table.index), (
        "none: no population denominators or census population, so scores cannot be combined"
    )
