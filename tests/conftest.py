"""Shared fixtures: a temporary trial store and small search spaces."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import ConfigSpace as CS
import pytest

from hptaa_lab.space import build_space


@pytest.fixture
def tmp_store_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite trial store in a temporary folder."""
    return f"sqlite:///{tmp_path / 'studies.db'}"


@pytest.fixture
def small_space() -> CS.ConfigurationSpace:
    """One hyperparameter of every kind, no conditions."""
    return build_space(
        {
            "lr": (1e-4, 1e-1, "log"),
            "dropout": (0.0, 0.5),
            "units": (16, 256),
            "act": ["relu", "tanh", "gelu"],
            "size": {"ordinal": ["s", "m", "l"]},
            "seed": 7,
        }
    )


@pytest.fixture
def cond_space() -> CS.ConfigurationSpace:
    """A space with a condition and two forbidden clauses.

    ``momentum`` is active only with ``opt == "sgd"``; ``opt == "rms"`` with
    ``size == "l"`` is forbidden, and so is ``opt == "adam"`` with ``size`` in
    ``["m"]``. ``one`` is a categorical with a single choice.
    """
    space = build_space(
        {
            "opt": ["sgd", "adam", "rms"],
            "momentum": {"float": (0.0, 0.99), "if": {"opt": "sgd"}},
            "lr": (1e-4, 1e-1, "log"),
            "units": (16, 256),
            "size": {"ordinal": ["s", "m", "l"]},
            "one": ["only"],
            "seed": 7,
        }
    )
    space.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(space["opt"], "rms"),
            CS.ForbiddenEqualsClause(space["size"], "l"),
        ),
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(space["opt"], "adam"),
            CS.ForbiddenInClause(space["size"], ["m"]),
        ),
    )
    return space


@pytest.fixture
def discrete_space() -> CS.ConfigurationSpace:
    """Six configurations in all: a in {0, 1, 2}, b in {x, y}."""
    return build_space({"a": [0, 1, 2], "b": ["x", "y"]})


@pytest.fixture
def loaded_by_import() -> Callable[[str, set[str]], list[str]]:
    """A function (module, names) -> which of the named top-level modules a fresh
    interpreter has loaded after importing only ``module``."""

    def loaded(module: str, names: set[str]) -> list[str]:
        code = (
            f"import json, sys, {module}; "
            f"print(json.dumps(sorted(set({sorted(names)!r}) & set(sys.modules))))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, check=True, text=True
        )
        result: list[str] = json.loads(done.stdout)
        return result

    return loaded


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as in an interactive Python, even where
    the test process inherited it ignored (a background job); restored after."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture
def ended_owner() -> Callable[[str, str, int], None]:
    """A function that makes a RUNNING trial (store URL, study, trial number)
    belong to a process that has ended: a pid above the system's largest."""

    def end(store_url: str, study: str, number: int) -> None:
        import sqlalchemy as sa

        from hptaa_lab.store._schema import studies, trials

        pid_max = Path("/proc/sys/kernel/pid_max")
        dead = int(pid_max.read_text()) + 1 if pid_max.is_file() else 2**22 + 1
        study_id = sa.select(studies.c.id).where(studies.c.name == study)
        engine = sa.create_engine(store_url)
        with engine.begin() as conn:
            conn.execute(
                sa.update(trials)
                .where(trials.c.study_id == study_id.scalar_subquery())
                .where(trials.c.number == number)
                .values(owner_pid=dead)
            )
        engine.dispose()

    return end
