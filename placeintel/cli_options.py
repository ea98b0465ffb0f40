"""Options shared by the `placeintel` commands, so that a flag means one thing everywhere.

In the style of rasterio's `rio/options.py`: the region is a positional argument of
every command, the releases folder is `--releases`, a file or folder a command
writes is `--output`, and the source folder is `--data-dir`. Spellings from earlier
releases (`--out`, `serve --region`) still work for one release, with a notice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from placeintel.index.classes import SCHEMES

region_arg = click.argument("region")

data_dir_opt = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Folder holding the source files (default: the manifest's folder).",
)

releases_opt = click.option(
    "--releases",
    type=click.Path(path_type=Path),
    default=Path("releases"),
    show_default=True,
    help="Folder of releases: <releases>/<region>/<version> and <releases>/<region>/current.",
)

scheme_opt = click.option(
    "--scheme",
    type=click.Choice(SCHEMES),
    default=SCHEMES[0],
    show_default=True,
    help="How areas are classed for colour.",
)


def deprecated(old: str, new: str, param: str, **option: Any) -> Callable:
    """Accept `old` as a hidden, deprecated spelling of `new` (the parameter `param`)."""
    hidden = f"deprecated_{param}"

    def decorator(command: Callable) -> Callable:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.pop(hidden, None)
            if value is not None:
                click.secho(
                    f"Note: {old} is deprecated and goes in the next release; use {new}.",
                    err=True,
                    fg="yellow",
                )
                kwargs[param] = value
            return command(*args, **kwargs)

        return click.option(old, hidden, hidden=True, **option)(wrapper)

    return decorator


#: `--out` as the releases folder (build, releases, explain, diff before this release).
out_as_releases = deprecated("--out", "--releases", "releases", type=click.Path(path_type=Path))
#: `--out` as the file or folder written (map, demo-data before this release).
out_as_output = deprecated("--out", "--output", "output", type=click.Path(path_type=Path))
