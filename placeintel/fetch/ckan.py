"""`kind: ckan`: a council portal's CKAN package, its resource found by name and format.

`<portal>/api/3/action/package_show?id=<package>` lists the package's resources; the one
whose name (and format) the block gives is then downloaded as a `file`, so a portal that
moves the file to a new address is followed without editing the manifest.
"""

from __future__ import annotations

from typing import Any

from placeintel.errors import DataError
from placeintel.fetch.http import get_json
from placeintel.fetch.job import Job
from placeintel.limits import shorten


def resource_url(job: Job) -> str:
    """The address of the package's resource that the block names."""
    block = job.block
    action = f"{block['portal'].rstrip('/')}/api/3/action/package_show"
    answer = get_json(job.client, action, job.where, {"id": block["package"]})
    if not isinstance(answer, dict) or answer.get("success") is not True:
        error = answer.get("error") if isinstance(answer, dict) else None
        raise DataError(
            f"{shorten(action, 200)} did not find the package {block['package']!r}"
            + (f": {shorten(str(error), 200)}" if error else ""),
            field=f"{job.where}.package",
            rule="fetch",
        )
    result = answer.get("result")
    resources = result.get("resources") if isinstance(result, dict) else None
    if not isinstance(resources, list):
        raise DataError(
            f"{shorten(action, 200)} answered a package without a resources list",
            field=job.where,
            rule="fetch",
        )
    resources = [r for r in resources if isinstance(r, dict)]
    wanted_name = str(block.get("resource", "")).casefold()
    wanted_format = str(block.get("format", "")).casefold()
    found = [
        r
        for r in resources
        if (not wanted_name or str(r.get("name", "")).strip().casefold() == wanted_name)
        and (not wanted_format or str(r.get("format", "")).strip().casefold() == wanted_format)
    ]
    listed = "; ".join(
        f"{shorten(str(r.get('name', '')), 60)} ({r.get('format', '')})" for r in resources[:10]
    )
    if len(found) != 1:
        raise DataError(
            f"package {block['package']!r} has {'no' if not found else len(found)} resource(s) "
            f"named {block.get('resource', '(any)')!r} in format {block.get('format', '(any)')!r}",
            field=f"{job.where}.resource",
            hint=f"its resources are: {listed or 'none'}",
        )
    url = found[0].get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise DataError(
            f"the resource's url {shorten(str(url))!r} is not a web address",
            field=f"{job.where}.resource",
            rule="fetch",
        )
    return url


def describe(job: Job) -> dict[str, Any]:
    return {"package": job.block["package"], "portal": job.block["portal"]}
