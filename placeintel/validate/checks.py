"""Checks a Table Schema cannot express: geometry, code vintages, links between files.

Findings name the file, the row (feature number for vector files) and the field.
Invalid polygons are repaired where the repair is well defined (make_valid,
keeping the polygonal parts) and the repair is reported; nothing else is changed.
"""

from __future__ import annotations

from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from placeintel.region import Source
from placeintel.sources import FORMATS, RegionData
from placeintel.sources.arrow_text import isin, isin_many
from placeintel.sources.tables import rows_where
from placeintel.validate.controls import remove_control_characters
from placeintel.validate.privacy import personal_data, public_values
from placeintel.validate.rasters import check_rasters
from placeintel.validate.report import Report
from placeintel.validate.tables import load_schema
from placeintel.validate.wards import check_wards

if TYPE_CHECKING:
    from placeintel.validate.early import EarlyChecks, Placed

BOUNDARY_ROLES = ("wards", "districts", "lsoa21", "lsoa11", "oa21")
#: Great Britain and Northern Ireland in EPSG:27700, with a margin.
UK_EXTENT = shapely.box(-250_000, -50_000, 750_000, 1_300_000)
MAX_ROWS_PER_RULE = 20
#: How far outside the region's wards a service may lie before it is reported (metres).
EXTENT_MARGIN = 2_000


def check_region(
    data: RegionData,
    report: Report,
    early: Future[EarlyChecks] | None = None,
    placing: Future[Placed | None] | None = None,
) -> Report:
    """Run every cross-file and geometry check over the sources that were read.

    `early`: the checks made beside the CSVs (validate/early.py), whose results and
    findings are taken in their places where they were made on these very frames;
    otherwise (or without them) those checks are made here. `placing`: the placing of
    postcodes made beside them (`early_placing`), whose look-up of each postcode in
    the directory says which are known, where it was made on these very frames.
    """
    done = early.result() if early is not None else None
    boundaries = done is not None and done.boundaries_hold_for(data)
    for source in data.read_sources():  # first, so that no later stage sees a control character
        made = done.cleaned_for(source.id, data.frames[source.id]) if done else None
        if made is not None:
            data.frames[source.id], findings = made
            report.findings += findings
            continue
        data.frames[source.id] = remove_control_characters(
            data.frames[source.id], _path(data, source), report
        )
    if not boundaries:
        done = None
    for role in BOUNDARY_ROLES:
        for source, frame in data.role(role):
            if done is not None:
                data.frames[source.id], findings = done.shaped[source.id]
                report.findings += findings
                continue
            path = _path(data, source)
            _duplicates(frame, f"{_level(frame)}_code", path, report)
            data.frames[source.id] = _geometries(frame, path, report)
    # The ward checks (shapely overlays, which release the GIL) run on a second thread
    # beside the rest, which only read the frames; their findings keep their place.
    wards = Report(report.region)
    if done is not None and done.view is not None:
        wards.findings = done.wards
        data.adopt_extent(done.view)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wards") as aside:
        checked = aside.submit(check_wards, data, wards) if done is None else None
        rest, codes, after = (Report(report.region) for _ in range(3))
        check_rasters(data, rest)
        _foreign_keys(data, rest)
        _one_deprivation_edition(data, after)
        _services(data, after)
        public = public_values(data.manifest)
        for source, services in data.role("services"):
            personal_data(services, _path(data, source), public, after)
        # Last, as it may wait for the placing of the postcodes to end: its findings
        # keep their place between the others'.
        _area_codes(data, codes, _known_postcodes(data, placing))
        if checked is not None:
            checked.result()
    report.findings += wards.findings + rest.findings + codes.findings + after.findings
    return report


def _known_postcodes(
    data: RegionData, placing: Future[Placed | None] | None
) -> dict[str, np.ndarray]:
    """Source id -> whether each row's postcode is in the directory, from the placing's
    look-up, where it was made on `data`'s very frames (else empty: looked up here)."""
    if placing is None:
        return {}
    try:
        placed = placing.result()
    except (Exception, CancelledError):  # validate_sources raises it, after these checks
        return {}
    if placed is None or not placed.holds_for(data):
        return {}
    return placed.known


def _path(data: RegionData, source: Source) -> str:
    return str(source.resolve(data.manifest.data_dir))


def _level(frame: pd.DataFrame) -> str:
    return next(c for c in frame.columns if c.endswith("_code")).removesuffix("_code")


def _duplicates(frame: pd.DataFrame, column: str, path: str, report: Report) -> None:
    duplicated = frame[column].duplicated(keep="first")
    report.add_rows(
        "error",
        "duplicate-id",
        "code appears more than once",
        duplicated,
        frame[column],
        MAX_ROWS_PER_RULE,
        file=path,
        field=column,
        hint="each area must appear once; remove or merge the repeated feature",
    )


def _geometries(frame: gpd.GeoDataFrame, path: str, report: Report) -> gpd.GeoDataFrame:
    geometry = frame.geometry
    empty = geometry.isna() | geometry.is_empty
    codes = frame.iloc[:, 0]
    report.add_rows(
        "error",
        "empty-geometry",
        "feature has no geometry",
        empty,
        codes,
        MAX_ROWS_PER_RULE,
        file=path,
        field="geometry",
    )
    polygonal = geometry.geom_type.isin(["Polygon", "MultiPolygon"]) | empty
    report.add_rows(
        "error",
        "geometry-type",
        "boundary is not a polygon",
        ~polygonal,
        codes,
        MAX_ROWS_PER_RULE,
        file=path,
        field="geometry",
        hint="boundary files must hold polygons or multipolygons",
    )
    outside = ~empty & ~geometry.intersects(UK_EXTENT)
    if outside.any():
        row = rows_where(outside, 1)[0]
        report.add(
            "error",
            "wrong-crs",
            f"{int(outside.sum())} feature(s) lie outside the UK after reprojection",
            file=path,
            row=row,
            field="geometry",
            hint="the file's declared CRS is probably wrong (e.g. British National Grid "
            "metres labelled as CRS84)",
        )
    invalid = ~empty & polygonal & ~geometry.is_valid
    if not invalid.any():
        return frame
    repaired = frame.copy()
    fixed = shapely.make_valid(geometry[invalid].to_numpy())
    repaired.loc[invalid, "geometry"] = [_polygonal_part(g) for g in fixed]
    for row in rows_where(invalid, MAX_ROWS_PER_RULE):
        reason = shapely.is_valid_reason(geometry[row])
        report.add(
            "warning",
            "invalid-geometry",
            "invalid polygon repaired with make_valid (polygonal parts kept)",
            file=path,
            row=row,
            field="geometry",
            value=str(codes[row]),
            hint=reason,
        )
    return repaired


def _polygonal_part(geometry: shapely.Geometry) -> shapely.Geometry:
    """make_valid may return a collection with stray lines or points; keep the area."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _foreign_keys(data: RegionData, report: Report) -> None:
    """The foreignKeys declared in each format's Table Schema, checked across files."""
    for source in data.manifest.sources:
        form = FORMATS.get(source.reader)
        name = form.linked_schema(source) if form else None
        if name is None or source.id not in data.frames:
            continue
        frame = data.frames[source.id]
        for key in load_schema(name).get("foreignKeys", []):
            column = key["fields"][0]
            target = data.one(key["reference"]["resource"])
            target_column = key["reference"]["fields"][0]
            if column not in frame or target is None or target_column not in target:
                continue
            dangling = frame[column].notna() & ~isin(frame[column], target[target_column])
            _report_codes(
                data,
                source,
                frame,
                column,
                dangling,
                f"{column} is not in {key['reference']['resource']}",
                report,
            )


def _one_deprivation_edition(data: RegionData, report: Report) -> None:
    """IMD 2019 and IoD2025 rank different LSOAs on different scales: a region uses one."""
    editions: dict[str, list[str]] = {}
    for source, frame in data.role("imd"):
        editions.setdefault(frame.attrs.get("edition", "IMD 2019"), []).append(_path(data, source))
    if len(editions) > 1:
        report.add(
            "error",
            "mixed-editions",
            "the manifest mixes deprivation editions: "
            + "; ".join(f"{edition}: {', '.join(paths)}" for edition, paths in editions.items()),
            file=str(data.manifest.manifest_path),
            field="sources",
            hint="keep the files of one edition under role imd (IoD2025 is on 2021 LSOAs)",
        )


def _area_codes(
    data: RegionData, report: Report, looked_up: dict[str, np.ndarray] | None = None
) -> None:
    """Census, Ofcom and DWP files must use 2021 OA or LSOA codes that the lookups know.

    Each kind of key is looked up for every file at once (`isin_many`), so the 1.7 million
    ONSPD postcodes, or the lookups' codes, are hashed once rather than once per file;
    a postcode file's look-up made as it was placed (`looked_up`, by source id) is not
    made again (0.8 s on the national files, at the end of the stage).
    """
    looked_up = looked_up or {}
    oa_lookup, ward_lookup = data.one("lookup-oa-lsoa"), data.one("lookup-lsoa-ward")
    parts = [oa_lookup["oa21_code"], oa_lookup["lsoa21_code"]] if oa_lookup is not None else []
    if ward_lookup is not None:
        parts.append(ward_lookup["lsoa21_code"])
    known = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)
    postcodes = data.one("lookup-postcode")
    files = [
        (source, frame)
        for role in ("census", "broadband-coverage", "broadband-performance", "pension-credit")
        for source, frame in data.role(role)
    ]
    by_postcode = [f.attrs.get("key_kind") == "postcode" for _, f in files]
    found: dict[int, np.ndarray] = {}
    for kind, allowed in (
        (True, postcodes["postcode"] if postcodes is not None else None),
        (False, known if not known.empty else None),
    ):
        if allowed is None:
            continue
        mine = [i for i, k in enumerate(by_postcode) if k == kind]
        if kind:
            found.update((i, looked_up[s.id]) for i in mine if (s := files[i][0]).id in looked_up)
            mine = [i for i in mine if i not in found]
        columns = [files[i][1]["area_code"] for i in mine]
        found.update(zip(mine, isin_many(columns, allowed), strict=True))
    for i, (source, frame) in enumerate(files):
        if by_postcode[i]:
            _postcodes(data, source, frame, postcodes, found.get(i), report)
            continue
        if i not in found:
            continue
        dangling = pd.Series(~found[i], index=frame.index)
        _report_codes(
            data,
            source,
            frame,
            "area_code",
            dangling,
            "area code is not a 2021 output area or LSOA in the lookups",
            report,
        )


def _postcodes(
    data: RegionData,
    source: Source,
    frame: pd.DataFrame,
    lookup: pd.DataFrame | None,
    found: np.ndarray | None,
    report: Report,
) -> None:
    """Postcode-level files need the ONS Postcode Directory, and it must know each postcode
    (`found`: whether each row's postcode is in it, looked up by the caller)."""
    if lookup is None:
        report.add(
            "error",
            "missing-lookup",
            "the file is by postcode, but the manifest names no ONS Postcode Directory",
            file=_path(data, source),
            field="postcode",
            hint="add a source with role lookup-postcode and reader onspd",
        )
        return
    if found is None:
        found = isin(frame["area_code"], lookup["postcode"])
    dangling = pd.Series(~found, index=frame.index)
    _report_codes(
        data,
        source,
        frame,
        "area_code",
        dangling,
        "postcode is not in the ONS Postcode Directory",
        report,
    )


def _report_codes(
    data: RegionData,
    source: Source,
    frame: pd.DataFrame,
    column: str,
    dangling: pd.Series,
    message: str,
    report: Report,
) -> None:
    """Report codes that do not link up, naming a vintage mix-up where that is the cause."""
    if not dangling.any():
        return
    vintages = _vintage_sets(data)
    for row in rows_where(dangling, MAX_ROWS_PER_RULE):
        code = str(frame[column][row])
        other = next((name for name, codes in vintages.items() if code in codes), None)
        rule, hint = (
            (
                "wrong-vintage",
                f"{code} is a {other} code: the file is on a different "
                "boundary vintage from the rest of the region",
            )
            if other
            else ("dangling-code", "no such code in the region's other files")
        )
        mismatch = _ward_vintage_mismatch(data, frame) if column == "ward_code" else None
        if mismatch and not other:
            rule, hint = "wrong-vintage", mismatch
        report.add(
            "error",
            rule,
            message,
            file=_path(data, source),
            row=row,
            field=column,
            value=code,
            hint=hint,
        )
    if int(dangling.sum()) > MAX_ROWS_PER_RULE:
        report.add(
            "error",
            "dangling-code",
            f"{int(dangling.sum()) - MAX_ROWS_PER_RULE} more rows with the same problem",
            file=_path(data, source),
            field=column,
        )


def _ward_vintage_mismatch(data: RegionData, frame: pd.DataFrame) -> str | None:
    """'the lookup is WD22 but the boundaries are WD23' when the headers say so."""
    wards = data.one("wards")
    ours = (frame.attrs.get("vintages") or {}).get("ward", "")
    theirs = (wards.attrs.get("code_field", "") if wards is not None else "").upper()
    if ours and theirs.startswith("WD") and not theirs.startswith(ours):
        return (
            f"the file's ward codes are {ours} but the ward boundaries are "
            f"{theirs.removesuffix('CD')}: use the lookup for the boundaries' vintage"
        )
    return None


def _vintage_sets(data: RegionData) -> dict[str, set[str]]:
    """Codes each geography vintage holds, to recognise a code from the wrong one."""
    sets: dict[str, set[str]] = {}
    for role, label in (("lsoa11", "2011 LSOA"), ("lsoa21", "2021 LSOA"), ("wards", "ward")):
        frame = data.one(role)
        if frame is not None:
            sets[label] = set(frame[f"{_level(frame)}_code"])
    if "2011 LSOA" in sets and "2021 LSOA" in sets:
        shared = sets["2011 LSOA"] & sets["2021 LSOA"]
        sets["2011 LSOA"] -= shared  # unchanged LSOAs are not evidence either way
        sets["2021 LSOA"] -= shared
    return sets


def _services(data: RegionData, report: Report) -> None:
    extent = data.ward_extent(EXTENT_MARGIN)
    for source, services in data.role("services"):
        path = _path(data, source)
        polygons = services["location_note"] != ""
        if polygons.any():
            report.add(
                "warning",
                "mixed-geometry",
                f"{int(polygons.sum())} service(s) are "
                "building polygons; each is placed at a representative point inside it",
                file=path,
                field="geometry",
            )
        if extent is None:
            continue
        outside = ~services.within(extent)
        for row in rows_where(outside, MAX_ROWS_PER_RULE):
            point = services.geometry[row]
            swapped = _swapped(point)
            hint = (
                "the coordinates look swapped (lon/lat or easting/northing)"
                if swapped is not None and extent.contains(swapped)
                else "check the coordinates, or whether the service is outside the region"
            )
            report.add(
                "error" if swapped is not None and extent.contains(swapped) else "warning",
                "outside-region",
                "service lies outside the region's wards",
                file=path,
                row=row,
                field="geometry",
                value=str(services["name"][row]),
                hint=hint,
            )


def _swapped(point: shapely.Point) -> shapely.Point | None:
    """Where the point would be if its two coordinates had been entered the other way round."""
    from pyproj import Transformer

    if point is None or point.is_empty:
        return None
    to_wgs84 = Transformer.from_crs("EPSG:27700", "OGC:CRS84", always_xy=True)
    to_bng = Transformer.from_crs("OGC:CRS84", "EPSG:27700", always_xy=True)
    lon, lat = to_wgs84.transform(point.x, point.y)
    if np.isfinite(lon) and np.isfinite(lat) and -90 <= lon <= 90:
        x, y = to_bng.transform(lat, lon)  # entered as lon/lat the wrong way round
        if np.isfinite(x) and np.isfinite(y):
            candidate = shapely.Point(x, y)
            if candidate.within(UK_EXTENT):
                return candidate
    return shapely.Point(point.y, point.x)  # easting/northing the wrong way round
