"""A temporary releases folder that lives exactly as long as the releases built in it.

`placeintel.build("demo")` in a notebook has nowhere the user asked for, so it writes
to a temporary folder; each call used to leave one behind in /tmp. The folder now
belongs to the `Release` that `build` returns (and to any copy of it made with
`dataclasses.replace`): it is removed when the last of them is garbage-collected, or
when Python exits, whichever comes first. Until then `release.path`, its files and
its map are all there to open.

`tempfile.TemporaryDirectory` does the same but warns (`ResourceWarning`) whenever it
is removed implicitly, which here is the intended way, not a leak; hence this small
holder around `weakref.finalize`, which also runs at interpreter exit.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

PREFIX = "placeintel-"


class TemporaryReleases:
    """A fresh `placeintel-*` folder, removed when this object is collected or at exit."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, ignore_errors=True)

    def cleanup(self) -> None:
        """Remove the folder now (a failed build has nothing in it worth keeping)."""
        self._finalizer()

    @property
    def removed(self) -> bool:
        return not self._finalizer.alive

    def __repr__(self) -> str:
        return f"TemporaryReleases({str(self.path)!r})"
