"""Re-run the notebooks and store only what nbval compares.

Usage (from the repository root)::

    .venv/bin/python tests/jupyter/refresh_notebooks.py [notebooks/NAME.ipynb ...]

Each notebook runs top to bottom in a fresh kernel (in a temporary working
folder). Afterwards only cells whose first line is ``# NBVAL_CHECK_OUTPUT`` keep
their outputs and an execution count: those are the outputs ``pytest
--nbval-lax`` compares. Every other cell is cleared, and widget state is
dropped, so the repository holds no stale outputs. Run it after a change that
alters a checked output (e.g. a sampler change that alters a run's incumbent).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

CHECK = "# NBVAL_CHECK_OUTPUT"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def is_checked(cell: Any) -> bool:
    """Whether nbval compares the outputs of this cell under --nbval-lax."""
    lines = cell.source.splitlines()
    return cell.cell_type == "code" and bool(lines) and lines[0].strip() == CHECK


def execute(path: Path, timeout: int = 600) -> tuple[Any, float]:
    """Run a notebook in a fresh kernel; return it with outputs and its run time."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="hptaa-refresh-") as folder:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": folder}},
        )
        started = time.monotonic()
        client.execute()
    return notebook, time.monotonic() - started


def keep_checked_outputs(notebook: Any) -> None:
    """Clear every cell but the checked ones; drop widget views and state."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if not is_checked(cell):
            cell.outputs = []
            cell.execution_count = None
            continue
        count += 1
        cell.execution_count = count
        for output in cell.outputs:
            if "data" in output:
                output["data"].pop(_WIDGET_VIEW, None)
                output["metadata"] = {}
            if "execution_count" in output:
                output["execution_count"] = count
    notebook.metadata.pop("widgets", None)


def main(argv: list[str] | None = None) -> int:
    """Refresh the given notebooks (default: every notebook in notebooks/)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        notebook, seconds = execute(path)
        keep_checked_outputs(notebook)
        nbformat.write(notebook, path)
        print(f"{path}: ran in {seconds:.0f} s; checked outputs stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
