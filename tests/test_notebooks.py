"""Every notebook runs top to bottom in a real Jupyter kernel, and is committed without outputs."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.pages import unloadable_in_jupyter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_are_there() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """...and leaves no temporary folder behind once its kernel has shut down."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's temporary folders go here
    # The kernel runs in notebooks/, where `import placeintel` would find whichever copy
    # is installed; the one under test is this checkout's.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any failure
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []
    assert sorted(p.name for p in tmp_path.glob("placeintel-*")) == []
    # The map explore() drew: nothing it needs is a link the Jupyter server would 404.
    maps = [html for html in _html_outputs(notebook) if "placeintelMap(" in html]
    if any("placeintel.explore(" in c.source for c in notebook.cells if c.cell_type == "code"):
        assert maps, f"{path.name}: explore() displayed no map"
    for html in maps:
        assert unloadable_in_jupyter(html) == [], path.name


def _html_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """The HTML each cell displayed, with folium's iframe srcdoc unescaped (the page)."""
    pages = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            pages += [unescape(m) for m in re.findall(r'srcdoc="([^"]*)"', html)] or [html]
    return pages
