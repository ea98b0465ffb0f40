"""Checks on a region's sources that a schema cannot express: geometry, codes and coverage."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from placeintel.sources import RegionData
from placeintel.validate.report import Report


def check_region(data: RegionData, report: Report) -> Report:
    """Run the geometry and code checks over every boundary and service source."""
    for source, frame in (
        data.role("wards")
        + data.role("lsoa21")
        + data.role("lsoa11")
        + data.role("oa21")
        + data.role("districts")
    ):
        path = str(source.resolve(data.manifest.data_dir))
        code = next(c for c in frame.columns if c.endswith("_code"))
        _duplicates(frame, code, path, report)
        _geometries(frame, path, report)
    ward_lookup = data.one("lookup-lsoa-ward")
    wards = data.one("wards")
    if ward_lookup is not None and wards is not None:
        unknown = ~ward_lookup["ward_code"].isin(wards["ward_code"])
        path = str(data.manifest.by_role("lookup-lsoa-ward")[0].resolve(data.manifest.data_dir))
        for row in unknown.to_numpy().nonzero()[0][:20]:
            report.add(
                "error",
                "foreign-key",
                "ward code is not in the ward boundaries",
                file=path,
                row=int(row) + 2,
                field="ward_code",
                value=str(ward_lookup["ward_code"].iat[row]),
                hint="the lookup and the boundaries may be different ward vintages",
            )
        orphans = ~wards["ward_code"].isin(ward_lookup["ward_code"])
        if orphans.any():
            report.add(
                "warning",
                "coverage",
                f"{int(orphans.sum())} ward(s) have no LSOA in the "
                "best-fit lookup, so area counts cannot reach them",
                file=path,
                field="ward_code",
                value=", ".join(wards["ward_code"][orphans][:5]),
            )
    if wards is not None:
        extent = wards.union_all().buffer(2_000)
        for source, services in data.role("services"):
            outside = ~services.within(extent)
            for row in outside.to_numpy().nonzero()[0][:20]:
                report.add(
                    "warning",
                    "outside-region",
                    "service lies outside the region's wards",
                    file=str(source.resolve(data.manifest.data_dir)),
                    row=int(row) + 2,
                    field="geometry",
                    value=str(services["name"].iat[row]),
                    hint="check for swapped coordinates or a service in a neighbouring area",
                )
    return report


def _duplicates(frame: pd.DataFrame, column: str, path: str, report: Report) -> None:
    duplicated = frame[column].duplicated(keep="first")
    for row in duplicated.to_numpy().nonzero()[0][:20]:
        report.add(
            "error",
            "duplicate-id",
            "code appears more than once",
            file=path,
            row=int(row) + 1,
            field=column,
            value=str(frame[column].iat[row]),
        )


def _geometries(frame: gpd.GeoDataFrame, path: str, report: Report) -> None:
    empty = frame.geometry.isna() | frame.geometry.is_empty
    for row in empty.to_numpy().nonzero()[0][:20]:
        report.add(
            "error",
            "empty-geometry",
            "feature has no geometry",
            file=path,
            row=int(row) + 1,
            field="geometry",
        )
    invalid = ~empty & ~frame.geometry.is_valid
    for row in invalid.to_numpy().nonzero()[0][:20]:
        report.add(
            "warning",
            "invalid-geometry",
            "geometry is invalid; repaired with make_valid for area calculations",
            file=path,
            row=int(row) + 1,
            field="geometry",
            value=str(frame[frame.columns[0]].iat[row]),
        )
