"""Tests of the refusal to create or run a study while a worker process starts
(a driver script whose work is not under ``if __name__ == "__main__":``)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from hptaa_lab import create_study
from hptaa_lab.execution import UnguardedMainError
from hptaa_lab.execution._mainguard import starting_worker
from hptaa_lab.store import TrialStore

UNGUARDED = """\
import hptaa_lab

def objective(config):
    return config["x"]

study = hptaa_lab.create_study("s", {"x": (0.0, 1.0)}, store=STORE)
study.optimize(objective, n_trials=4, workers=2)
"""


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=script.parent,
    )


def test_create_study_and_optimize_refuse_to_run_while_a_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that both calls refuse while multiprocessing bootstraps this
    process (it runs its parent's script), and store nothing."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = create_study("kept", {"x": (0.0, 1.0)}, store=url)
    assert not starting_worker()
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, False)

    with pytest.raises(
        UnguardedMainError, match=r"create_study\(\) ran while a worker"
    ):
        create_study("s", {"x": (0.0, 1.0)}, store=url)
    with pytest.raises(UnguardedMainError, match=r"optimize\(\) ran while a worker"):
        study.optimize(lambda c: c["x"], n_trials=1)

    assert [s.name for s in TrialStore(url).list_studies()] == ["kept"]
    assert study.trials == []


def test_an_unguarded_script_with_workers_says_why_and_leaves_no_empty_study(
    tmp_path: Path,
) -> None:
    """Check end to end: the workers refuse to create the study again, the driver
    says why with the fix, removes the empty study it created, and the same
    script with the guard then runs."""
    script = tmp_path / "tune.py"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    script.write_text(UNGUARDED.replace("STORE", repr(store)))

    done = _run(script)

    assert done.returncode == 1
    assert "hptaa_lab.execution.WorkersFailedToStartError" in done.stderr
    assert "UnguardedMainError: create_study() ran while a worker" in done.stderr
    assert "The study 's' that this code created had no trial" in done.stderr
    assert TrialStore(store).list_studies() == []

    guarded = UNGUARDED.replace("study = ", 'if __name__ == "__main__":\n    study = ')
    script.write_text(
        guarded.replace("\nstudy.optimize", "\n    study.optimize").replace(
            "STORE", repr(store)
        )
    )
    fixed = _run(script)
    assert fixed.returncode == 0, fixed.stderr
    assert len(TrialStore(store).get_trials("s")) == 4


def test_a_study_with_trials_is_kept_when_workers_fail_to_start(
    tmp_path: Path,
) -> None:
    """Check that workers failing to start for another reason keep a study that
    has trials, and that a script run without workers is not refused."""
    script = tmp_path / "tune.py"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    script.write_text(
        "import sys, hptaa_lab\n"
        "if __name__ == '__mp_main__':\n"
        "    raise SystemExit('this worker refuses to start')\n"
        "workers = int(sys.argv[1]) if len(sys.argv) > 1 else None\n"
        f"study = hptaa_lab.create_study('s', {{'x': (0.0, 1.0)}}, store={store!r})\n"
        "study.optimize(lambda c: c['x'], n_trials=2, workers=workers)\n"
        "if __name__ == '__main__':\n"
        "    study.optimize(lambda c: c['x'], n_trials=2, workers=2)\n"
    )

    done = _run(script)

    assert done.returncode == 1
    assert "WorkersFailedToStartError: The Dask worker processes failed" in done.stderr
    assert "was removed" not in done.stderr
    assert len(TrialStore(store).get_trials("s")) == 2


def test_an_ipython_script_is_hidden_from_workers_while_they_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that a .ipy main file (IPython syntax, which a worker could not
    run) is hidden while workers start and restored after; a .py one stays."""
    import types

    from hptaa_lab.execution._mainguard import ipython_script_hidden

    main = types.ModuleType("__main__")
    main.__file__ = "/somewhere/tune.ipy"
    monkeypatch.setitem(sys.modules, "__main__", main)
    with ipython_script_hidden():
        assert not hasattr(main, "__file__")
    assert main.__file__ == "/somewhere/tune.ipy"

    main.__file__ = "/somewhere/tune.py"
    with ipython_script_hidden():
        assert main.__file__ == "/somewhere/tune.py"
