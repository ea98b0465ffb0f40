"""Notebooks run top to bottom and are committed without outputs.

Code cells are executed in order in one namespace, as a kernel would, so a
notebook that no longer matches the API fails here rather than for an analyst.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_is_stripped(path: Path, monkeypatch, tmp_path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": "__notebook__"}
    monkeypatch.chdir(tmp_path)
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert not cell.get("outputs"), f"{path.name} cell {number} has outputs committed"
        exec(compile("".join(cell["source"]), f"{path.name}[{number}]", "exec"), namespace)


def test_there_is_a_quickstart() -> None:
    assert any(p.name.startswith("01-quickstart") for p in NOTEBOOKS)
