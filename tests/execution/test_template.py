"""Tests of the worker template: which modules it imports, and how it skips one that
fails."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from hptaa_lab import TrialState, create_study
from hptaa_lab.execution import _template, run_parallel

# Objectives of this module travel by value (workers need not import it).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

LOGGER = "hptaa_lab.execution._template"


def _imports_inside(config: dict[str, Any]) -> float:
    import colorsys
    from email import message  # noqa: F401

    return colorsys.rgb_to_hsv(config["x"], 0.0, 0.0)[0]


def _parent_pid(config: dict[str, Any]) -> float:
    return float(os.getppid())


def _fake_main(monkeypatch: pytest.MonkeyPatch, source: str) -> types.ModuleType:
    """Install a ``__main__`` module with a file, made by running ``source``."""
    main = types.ModuleType("__main__")
    main.__file__ = "/nowhere/driver_script.py"
    exec(textwrap.dedent(source), vars(main))
    monkeypatch.setitem(sys.modules, "__main__", main)
    return main


def _run_python(code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _env_with_path(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(folder), env.get("PYTHONPATH", "")) if p
    )
    return env


# -- which modules -----------------------------------------------------------------


def test_preload_list_holds_the_objective_imports_in_order_without_duplicates() -> None:
    """Check that the modules an objective imports inside its body are listed,
    with distributed's worker modules, once each."""
    names = _template.preload_list([_imports_inside, _imports_inside])

    assert "colorsys" in names
    assert "email" in names
    assert names.index("colorsys") < names.index("threadpoolctl")
    assert len(names) == len(set(names))


def test_preload_list_never_holds_main_but_the_main_script_imports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that ``__main__`` (the driver script, which workers run again
    themselves) is never listed, while the modules it and an objective defined in
    it import are."""
    main = _fake_main(
        monkeypatch,
        """
        import json
        from colorsys import rgb_to_hls

        def helper(x):
            import wave
            return x

        def objective(config):
            import fractions
            return helper(config["x"])
        """,
    )

    names = _template.preload_list([main.objective, "__main__", "__mp_main__.x"])

    assert {"json", "colorsys", "fractions", "wave"} <= set(names)
    assert not [n for n in names if n.split(".")[0] in ("__main__", "__mp_main__")]


def test_preload_list_leaves_out_modules_a_fresh_interpreter_may_not_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a module found only through the driver's own ``sys.path`` is left
    to the workers, and one on ``PYTHONPATH`` is listed."""
    (tmp_path / "project_module.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    _template._install_roots.cache_clear()
    try:
        assert "project_module" not in _template.preload_list(["project_module"])

        monkeypatch.setenv("PYTHONPATH", str(tmp_path))
        _template._install_roots.cache_clear()
        assert "project_module" in _template.preload_list(["project_module"])
    finally:
        _template._install_roots.cache_clear()


# -- skipping what fails -------------------------------------------------------------


def test_guarded_import_skips_modules_that_fail_and_imports_the_rest(
    tmp_path: Path,
) -> None:
    """Check that in a fresh interpreter, a module raising at import, one calling
    sys.exit and a missing one are recorded as failed, the others are imported,
    and the working directory is dropped from sys.path."""
    (tmp_path / "broken_mod.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "exits_mod.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "fine_mod.py").write_text("VALUE = 1\n")
    names = ["broken_mod", "exits_mod", "no_such_mod_xyz", "fine_mod", "colorsys"]
    code = textwrap.dedent(
        f"""
        import json, sys
        from hptaa_lab.execution import _preload
        for name in {names!r}:
            __import__(_preload.PREFIX + name)
        print(json.dumps([sorted(_preload.imported), _preload.failed,
                          "" in sys.path, "fine_mod" in sys.modules]))
        """
    )

    output = _run_python(code, _env_with_path(tmp_path), tmp_path)

    imported, failed, cwd_on_path, fine = json.loads(output.strip().splitlines()[-1])
    assert imported == ["colorsys", "fine_mod"]
    assert failed == {
        "broken_mod": "RuntimeError: boom at import",
        "exits_mod": "SystemExit: 3",
        "no_such_mod_xyz": "ModuleNotFoundError: No module named 'no_such_mod_xyz'",
    }
    assert not cwd_on_path
    assert fine


def test_driver_logs_each_module_the_template_skipped_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that a module the template could not import is logged as a warning
    that names it and its error, once per template."""
    info = {
        "template": -7,
        "imported": {"colorsys": 0.001},
        "failed": {"broken_mod": "RuntimeError: boom at import"},
    }

    with caplog.at_level(logging.INFO, logger=LOGGER):
        _template._log_template(info)
        _template._log_template(info)

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "the worker template could not import broken_mod (RuntimeError: boom at "
        "import); skipped it, each worker imports it when the objective does"
    ]


# -- end to end, in a fresh driver -----------------------------------------------------

DRIVER = """
import json
import logging
import os
import signal
import sys
import time

import hptaa_lab


def objective(config):
    preloaded = "warm_mod" in sys.modules
    import warm_mod

    try:
        import broken_mod  # noqa: F401
    except RuntimeError:
        pass
    return float(os.getppid()) + warm_mod.ZERO if preloaded else -1.0


def parent(config):
    return float(os.getppid())


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
    from hptaa_lab.execution import _template

    print("PRELOAD", json.dumps(_template.preload_list([objective])))
    space = {"x": (0.0, 1.0)}
    store = "sqlite:///" + os.path.join(sys.argv[1], "s.db")
    study = hptaa_lab.create_study("warm", space, store=store, seed=0)
    study.optimize(objective, n_trials=4, workers=2)
    again = hptaa_lab.create_study("again", space, store=store, seed=0)
    again.optimize(parent, n_trials=4, workers=2)
    os.kill(int(again.trials[0].value), signal.SIGKILL)
    time.sleep(0.5)
    renewed = hptaa_lab.create_study("renewed", space, store=store, seed=0)
    renewed.optimize(parent, n_trials=4, workers=2)
    trials = study.trials + again.trials + renewed.trials
    print("RESULT", json.dumps({
        "values": [t.value for t in study.trials + again.trials],
        "renewed": [t.value for t in renewed.trials],
        "states": [t.state.name for t in trials],
        "driver": os.getpid(),
    }))
"""


def test_workers_come_up_with_the_objective_modules_and_skip_a_broken_one(
    tmp_path: Path,
) -> None:
    """Check that in a fresh driver, every trial (each worker's first included)
    finds the objective's module already imported, that a module failing at import
    in the template is logged once and skipped while the runs complete, that a
    second run forks its workers from the same template process, and that a
    killed template is replaced by the next run."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "warm_mod.py").write_text("ZERO = 0.0\n")
    (lib / "broken_mod.py").write_text("raise RuntimeError('boom at import')\n")
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)

    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        env=_env_with_path(lib),
        cwd=tmp_path,
        timeout=240,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    preload = json.loads(next(x for x in lines if x.startswith("PRELOAD "))[8:])
    result = json.loads(next(x for x in lines if x.startswith("RESULT "))[7:])
    assert {"warm_mod", "broken_mod", "json"} <= set(preload)
    assert "__main__" not in preload
    assert result["states"] == ["COMPLETE"] * 12
    templates = set(result["values"])
    assert len(templates) == 1
    template = templates.pop()
    assert template not in (-1.0, float(result["driver"]))
    renewed = set(result["renewed"])
    assert len(renewed) == 1
    assert renewed.pop() not in (template, float(result["driver"]))
    skipped = [x for x in lines if "could not import broken_mod" in x]
    assert len(skipped) == 1
    assert "RuntimeError: boom at import" in skipped[0]


def test_without_the_template_workers_start_as_fresh_interpreters(
    tmp_path: Path,
) -> None:
    """Check that run_parallel(worker_template=False) starts the workers as
    children of the driver (spawned), not forked from the template."""
    study = create_study("fresh", {"x": (0.0, 1.0)}, store=f"sqlite:///{tmp_path}/s.db")

    run_parallel(study, _parent_pid, n_trials=2, workers=2, worker_template=False)

    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    assert {t.value for t in study.trials} == {float(os.getpid())}


def test_the_template_ignores_ctrl_c_from_the_start_of_its_preload() -> None:
    """Check that the module the template imports first ignores SIGINT inside a
    forkserver's main only, and that it comes first in the preload list."""
    import signal

    from hptaa_lab._nointr import ignore_sigint_in_forkserver

    before = signal.getsignal(signal.SIGINT)
    assert ignore_sigint_in_forkserver() is False
    assert signal.getsignal(signal.SIGINT) is before

    namespace: dict[str, Any] = {"ignore": ignore_sigint_in_forkserver}
    exec(
        compile("def main():\n    return ignore()\n", "/x/forkserver.py", "exec"),
        namespace,
    )
    try:
        assert namespace["main"]() is True
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_the_preload_list_starts_with_the_module_that_ignores_ctrl_c(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that start() names hptaa_lab._nointr first in the preload list."""
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this platform")
    context = multiprocessing.get_context("forkserver")
    lists: list[list[str]] = []
    monkeypatch.setattr(context, "set_forkserver_preload", lists.append)
    monkeypatch.setattr(forkserver, "ensure_running", lambda: None)

    assert _template.start() == "forkserver"

    assert lists and lists[0][0] == "hptaa_lab._nointr"
    assert lists[0][1:3] == ["distributed", _template.PRELOAD]


@pytest.mark.parametrize(
    "error",
    [
        OSError("no room"),
        AttributeError("module '__main__' has no attribute '__spec__'"),
    ],
)
def test_a_template_that_cannot_start_falls_back_to_fresh_processes(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """Check that start() returns "spawn" with a warning when the forkserver
    cannot start, including when __main__ has no __spec__ (an IPython that exits
    as a run starts), instead of failing the run with the AttributeError."""
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no forkserver on this platform")
    context = multiprocessing.get_context("forkserver")
    monkeypatch.setattr(context, "set_forkserver_preload", lambda names: None)

    def fails() -> None:
        raise error

    monkeypatch.setattr(forkserver, "ensure_running", fails)

    assert _template.start() == "spawn"
    assert "could not start the worker template" in caplog.text
