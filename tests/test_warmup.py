"""A build's later stages' imports: off the path to its first stage, loaded beside it."""

from __future__ import annotations

import subprocess
import sys

from placeintel.warmup import LATER_STAGES, warm_imports

#: Imported by a build only after its sources are read (each 0.2-0.6 s).
HEAVY = ("folium", "scipy.stats", "scipy.spatial", "tobler", "statsmodels", "branca")


def _loaded_after(statement: str) -> list[str]:
    probe = f"import sys; {statement}; print(sorted(set({HEAVY!r}) & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(done.stdout)  # a list of names printed by the probe itself


def test_what_a_build_needs_before_its_first_stage_stays_light() -> None:
    """The CLI, the public API and the pipeline import none of the later stages' modules;
    `IndexSettings` (needed before reading, to refuse a wrong weight at once) neither."""
    assert _loaded_after("import placeintel.cli, placeintel.public_api, placeintel.pipeline") == []
    assert _loaded_after("from placeintel.index import IndexSettings; IndexSettings") == []
    assert _loaded_after("import placeintel.indicators, placeintel.index.uncertainty") == []


def test_warm_imports_loads_the_later_stages_and_passes_over_a_missing_module() -> None:
    probe = (
        "import sys; from placeintel.warmup import LATER_STAGES, warm_imports; "
        "warm_imports(('placeintel_no_such_module', *LATER_STAGES)).join(); "
        "print(all(m in sys.modules for m in LATER_STAGES), "
        "'placeintel_no_such_module' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]
    assert not done.stderr  # a module that fails here is left for its user to raise


def test_warm_imports_thread_is_joined_at_exit_not_killed() -> None:
    thread = warm_imports(())
    thread.join()
    assert not thread.daemon and thread.name == "warm-imports"
    assert "placeintel.maps" in LATER_STAGES
