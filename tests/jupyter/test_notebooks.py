"""Checks of the notebooks as stored: cleared outputs, fixed seeds, private stores.

Running them is nbval's job (see docs/notebooks.md); these checks keep what nbval
compares meaningful.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
CHECK = "# NBVAL_CHECK_OUTPUT"


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    """The code cells of a notebook."""
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_issue_notebooks_exist() -> None:
    """Check that the quickstart and the teaching demo are there."""
    names = {path.name for path in NOTEBOOKS}
    assert {"quickstart.ipynb", "teaching_demo.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs(path: Path) -> None:
    """Check that outputs are cleared except in cells nbval compares, which keep
    a plain-text output and no widget view, and that no widget state is stored."""
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata

    checked = 0
    for cell in code_cells(path):
        if cell.source.startswith(CHECK):
            checked += 1
            assert cell.outputs and cell.execution_count is not None, cell.source
            for output in cell.outputs:
                assert "application/vnd.jupyter.widget-view+json" not in output.get(
                    "data", {}
                )
        else:
            assert cell.outputs == [] and cell.execution_count is None, cell.source
    assert checked >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_have_fixed_seeds_and_a_temporary_store(path: Path) -> None:
    """Check that every %%hptaa tune has --seed and the store is set to a folder
    made by tempfile, so reruns neither differ nor collide."""
    sources = [cell.source for cell in code_cells(path)]
    tunes = [s.splitlines()[0] for s in sources if s.startswith("%%hptaa tune")]

    assert tunes
    assert all(re.search(r"--seed \d+", line) for line in tunes), tunes
    setup = "\n".join(sources)
    assert "tempfile.mkdtemp(" in setup
    assert re.search(r"%hptaa store (sqlite:///)?\{\w+\}", setup)


def test_sanitize_patterns_replace_folders_ids_and_times() -> None:
    """Check that the nbval sanitize file reads and masks what changes per run."""
    parser = configparser.ConfigParser()
    parser.read(SANITIZE)
    patterns = [(parser[s]["regex"], parser[s]["replace"]) for s in parser.sections()]
    text = (
        "trial store: sqlite:////tmp/hptaa-quickstart-k2j4_x9/studies.db, "
        "model 0123456789abcdef0123456789abcdef, created 2026-12-04 15:47:03, "
        "took 1.5 s"
    )

    for regex, replace in patterns:
        text = re.sub(regex, replace, text)

    assert text == (
        "trial store: sqlite:///TMP-STORE-FOLDER/studies.db, model ID, "
        "created DATE-TIME, took DURATION"
    )
