"""Tests of the refusal of a script whose work would run again in each worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from hptaa_lab.execution import UnguardedMainError
from hptaa_lab.execution._mainguard import check_main_guard, unguarded_calls

UNGUARDED = """\
import hptaa_lab

def objective(config):
    return config["x"]

study = hptaa_lab.create_study("s", {"x": (0.0, 1.0)}, store=STORE)
study.optimize(objective, n_trials=4, workers=2)
"""

GUARDED = """\
import hptaa_lab

def objective(config):
    study = hptaa_lab.load_study("inside a function: not run on import")
    return config["x"]

if __name__ == "__main__":
    study = hptaa_lab.create_study("s", {"x": (0.0, 1.0)})
    study.optimize(objective, n_trials=4, workers=2)
"""


def test_top_level_calls_are_found_and_guarded_ones_are_not() -> None:
    """Check the calls that run on import: the top level, and the branches of
    if/try/with/for blocks, but not functions or the main guard."""
    assert unguarded_calls(UNGUARDED) == [("create_study", 6), ("optimize", 7)]
    assert unguarded_calls(UNGUARDED, parallel=True) == [("optimize", 7)]
    assert unguarded_calls("optimize(f, workers=None)\n", parallel=True) == []
    assert unguarded_calls(GUARDED) == []
    nested = textwrap.dedent(
        """\
        import os
        if os.environ.get("X"):
            s = create_study("a", {})
        try:
            pass
        except ImportError:
            load_study("b")
        with open(__file__) as f:
            for line in f:
                pass
        if "__main__" == __name__:
            optimize()
        else:
            optimize()
        """
    )
    assert unguarded_calls(nested) == [
        ("create_study", 3),
        ("load_study", 7),
        ("optimize", 14),
    ]
    assert unguarded_calls("def broken(:\n") == []


def test_check_refuses_an_unguarded_main_script_and_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check the error for a main script with unguarded work, and that a guarded
    script, or a main module without a file (a notebook), passes."""
    script = tmp_path / "tune.py"
    script.write_text(UNGUARDED)
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    with pytest.raises(UnguardedMainError) as info:
        check_main_guard()
    message = str(info.value)
    assert f"{script} calls create_study() at line 6 outside" in message
    with pytest.raises(UnguardedMainError, match="optimize\\(\\) at line 7"):
        check_main_guard(parallel=True)
    assert 'under `if __name__ == "__main__":`' in message

    script.write_text(GUARDED)
    check_main_guard()
    del main.__file__
    check_main_guard()


def test_an_unguarded_script_with_workers_fails_at_once_with_the_fix(
    tmp_path: Path,
) -> None:
    """Check end to end that such a script ends with the clear error, before a
    worker starts (no Dask traceback), and that its study holds no trial."""
    script = tmp_path / "tune.py"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    script.write_text(UNGUARDED.replace("STORE", repr(store)))

    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "hptaa_lab.execution.UnguardedMainError" in done.stderr
    assert "calls optimize() at line 7" in done.stderr
    assert "Nothing was created or run." in done.stderr
    assert "Nanny" not in done.stderr
    # create_study refused it before storing the study: the guarded script runs.
    script.write_text(
        GUARDED.replace(")\n    study.opt", f", store={store!r})\n    study.opt")
    )
    fixed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert fixed.returncode == 0, fixed.stderr


def test_optimize_refuses_a_script_whose_study_is_created_unguarded(
    tmp_path: Path,
) -> None:
    """Check that workers asked for under the guard still meet the refusal when
    the script creates its study outside it (each worker would create it again)."""
    script = tmp_path / "tune.py"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    script.write_text(
        "import hptaa_lab\n"
        f"study = hptaa_lab.create_study('s', {{'x': (0.0, 1.0)}}, store={store!r})\n"
        "if __name__ == '__main__':\n"
        "    study.optimize(lambda c: c['x'], n_trials=2, workers=2)\n"
    )

    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "calls create_study() at line 2" in done.stderr
    assert "Nothing was created" not in done.stderr
