"""Tests of importing previous studies from Optuna and exporting studies to Optuna."""

from __future__ import annotations

import socket
import sys
import traceback
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ConfigSpace as CS
import pytest

from hptaa_lab.errors import StudyNotFoundError
from hptaa_lab.interop import ImportResult, InteropError, export_optuna, import_optuna
from hptaa_lab.interop._common import mask_url
from hptaa_lab.records import StudyRecord, TrialRecord, TrialState
from hptaa_lab.space import build_space, describe, space_from_json, space_to_json
from hptaa_lab.store import TrialStore

optuna = pytest.importorskip("optuna")
distributions = optuna.distributions

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

T0 = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def store(tmp_store_url: str) -> TrialStore:
    """An open, empty trial store."""
    with TrialStore(tmp_store_url) as opened:
        yield opened


def _finished(number: int, config: dict[str, Any], value: float | None) -> TrialRecord:
    started = T0 + timedelta(minutes=number)
    return TrialRecord(
        number=number,
        config=config,
        state=TrialState.FAIL if value is None else TrialState.COMPLETE,
        value=value,
        error="CUDA out of memory" if value is None else None,
        started_at=started,
        finished_at=started + timedelta(seconds=41, microseconds=7),
        proposed_by="tpe" if number else "random",
    )


def _svm_study(store: TrialStore) -> None:
    """A study with every kind of hyperparameter, and COMPLETE, FAIL, RUNNING trials."""
    space = build_space(
        {
            "C": (1e-2, 1e3, "log"),
            "degree": (1, 5),
            "kernel": ["rbf", "poly", "linear"],
            "size": {"ordinal": ["s", "m", "l"]},
            "shrinking": [True, False],
            "seed": 7,
        }
    )
    configs = [
        {"C": 1.0, "degree": 3, "kernel": "rbf", "size": "m", "shrinking": True},
        {"C": 250.5, "degree": 1, "kernel": "poly", "size": "s", "shrinking": False},
        {"C": 0.01, "degree": 5, "kernel": "linear", "size": "l", "shrinking": True},
        {"C": 3.25, "degree": 2, "kernel": "rbf", "size": "l", "shrinking": False},
    ]
    trials = [
        _finished(i, {**c, "seed": 7}, v)
        for i, (c, v) in enumerate(zip(configs, [0.3, None, 0.25, 0.5], strict=True))
    ]
    attrs = [{"host": f"node{i}"} for i in range(len(trials))]
    store.import_study(
        StudyRecord(
            name="svm",
            space_json=space_to_json(space),
            direction="maximize",
            attrs={"benchmark": "SVM-A"},
        ),
        trials,
        attrs,
    )
    store.start_trial("svm", {"C": 2.0, "degree": 2, "kernel": "rbf"}, "tpe")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_export_then_import_gives_the_same_trials(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check the Optuna round trip: the same COMPLETE trials, space and direction."""
    _svm_study(store)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"

    assert export_optuna("svm", url, store=store) == "svm"
    result = import_optuna(url, "svm-again", store=store)

    assert result.space_origin == ImportResult.EXPORTED
    assert (result.n_trials, result.n_skipped) == (3, 1)
    original, again = store.get_study("svm"), store.get_study("svm-again")
    assert again.direction == "maximize"
    assert space_from_json(again.space_json) == space_from_json(original.space_json)
    complete = store.get_trials("svm", states=[TrialState.COMPLETE])
    assert store.get_trials("svm-again") == [
        replace(t, number=i) for i, t in enumerate(complete)
    ]
    assert list(store.trial_attrs("svm-again").values()) == [
        {"host": "node0", "optuna_number": 0},
        {"host": "node2", "optuna_number": 2},
        {"host": "node3", "optuna_number": 3},
    ]
    assert again.attrs == {
        "imported_from": "optuna",
        "url": url,
        "optuna_study": "svm",
    }


def test_exported_study_is_readable_by_optuna(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that Optuna sees the finished trials, their values and the direction."""
    _svm_study(store)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"

    export_optuna("svm", url, optuna_study="svm-in-optuna", store=store)

    loaded = optuna.load_study(study_name="svm-in-optuna", storage=url)
    assert loaded.direction == optuna.study.StudyDirection.MAXIMIZE
    states = [t.state.name for t in loaded.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert loaded.best_value == 0.5
    assert loaded.best_params == {
        "C": 3.25,
        "degree": 2,
        "kernel": "rbf",
        "size": "l",
        "shrinking": False,
        "seed": 7,
    }
    assert isinstance(
        loaded.trials[0].distributions["C"], distributions.FloatDistribution
    )
    assert loaded.trials[0].distributions["C"].log
    assert loaded.trials[1].user_attrs["hptaa_error"] == "CUDA out of memory"
    assert len(loaded.trials_dataframe()) == 4


def test_export_refuses_an_existing_optuna_study(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that exporting twice under one Optuna name is refused."""
    _svm_study(store)
    storage = optuna.storages.InMemoryStorage()
    export_optuna("svm", storage, store=store)

    with pytest.raises(
        InteropError,
        match=r"the Optuna storage InMemoryStorage already has a study named 'svm'\. "
        r"Choose another name",
    ):
        export_optuna("svm", storage, store=store)
    with pytest.raises(StudyNotFoundError, match="No study named 'nope'"):
        export_optuna("nope", storage, store=store)


def _native_study(direction: str = "maximize") -> Any:
    """The in-memory storage of an Optuna study made by Optuna alone.

    The study is define-by-run (momentum only with sgd; the range of layers
    grows) and has a FAIL trial.
    """
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(
        storage=storage, direction=direction, study_name="native"
    )
    lr = distributions.FloatDistribution(1e-4, 1e-1, log=True)
    trials = [
        optuna.trial.create_trial(
            params={"lr": 0.01, "layers": 2, "opt": "sgd", "momentum": 0.9},
            distributions={
                "lr": lr,
                "layers": distributions.IntDistribution(1, 4),
                "opt": distributions.CategoricalDistribution(["sgd", "adam"]),
                "momentum": distributions.FloatDistribution(0.0, 0.99),
            },
            value=0.7,
            user_attrs={"note": "first"},
        ),
        optuna.trial.create_trial(
            params={"lr": 0.001, "layers": 6, "opt": "adam"},
            distributions={
                "lr": lr,
                "layers": distributions.IntDistribution(1, 8),
                "opt": distributions.CategoricalDistribution(["sgd", "adam"]),
            },
            value=0.8,
        ),
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL,
            params={"lr": 0.05},
            distributions={"lr": lr},
        ),
    ]
    study.add_trials(trials)
    return storage


def test_import_builds_the_space_from_optuna_distributions(store: TrialStore) -> None:
    """Check that distributions merge into a space and COMPLETE trials are imported."""
    result = import_optuna(_native_study(), "prev", store=store)

    assert result.space_inferred
    assert (result.n_trials, result.n_skipped) == (2, 1)
    assert {n: describe(hp) for n, hp in result.space.items()} == {
        "lr": "float [0.0001, 0.1] log",
        "layers": "int [1, 8]",
        "opt": "choice {'sgd', 'adam'}",
        "momentum": "float [0, 0.99]",
    }
    study = store.get_study("prev")
    assert study.direction == "maximize"
    assert study.attrs == {
        "imported_from": "optuna",
        "storage": "InMemoryStorage",
        "optuna_study": "native",
    }
    first, second = store.get_trials("prev")
    assert first.config == {"lr": 0.01, "layers": 2, "opt": "sgd", "momentum": 0.9}
    assert second.config == {"lr": 0.001, "layers": 6, "opt": "adam"}
    # momentum is set only with opt "sgd" (define-by-run): a condition says so.
    (condition,) = result.space.conditions
    assert (condition.child.name, condition.parent.name) == ("momentum", "opt")
    assert condition.value == "sgd"
    assert (first.value, second.value, first.proposed_by) == (0.7, 0.8, "optuna")
    assert first.started_at is not None and first.started_at.tzinfo == UTC
    assert store.trial_attrs("prev") == {
        0: {"note": "first", "optuna_number": 0},
        1: {"optuna_number": 1},
    }


def _define_by_run(stray: bool) -> Any:
    """The storage of an Optuna study whose trials set d only for kind "a" and
    lr only for "b" or "c"; with ``stray``, every 4th trial sets one more
    parameter that nothing explains."""

    def objective(trial: Any) -> float:
        kind = trial.suggest_categorical("kind", ["a", "b", "c"])
        if stray and trial.number % 4 == 0:
            trial.suggest_float("stray", 0.0, 1.0)
        if kind == "a":
            return trial.suggest_int("d", 1, 64, log=True)
        return trial.suggest_float("lr", 1e-5, 0.1, log=True)

    storage = optuna.storages.InMemoryStorage()
    native = optuna.create_study(
        storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    native.optimize(objective, n_trials=24)
    return storage


def test_inferred_conditions_survive_a_csv_round_trip(
    store: TrialStore, tmp_path: Path
) -> None:
    """Check that a define-by-run study imports with conditions, so that its CSV
    export with the space imports back (without them every inactive value was
    a "missing value"); a parameter that no other one explains stays
    unconditional."""
    from hptaa_lab.interop import export_csv, import_csv

    result = import_optuna(_define_by_run(stray=False), "oc", store=store)

    found = {
        c.child.name: (c.parent.name, sorted(getattr(c, "values", [c.value])))
        for c in result.space.conditions
    }
    assert found == {"d": ("kind", ["a"]), "lr": ("kind", ["b", "c"])}
    path = export_csv("oc", tmp_path / "oc.csv", store=store)
    import_csv(path, "oc-again", space=result.space, store=store)
    assert [t.config for t in store.get_trials("oc-again")] == [
        t.config for t in store.get_trials("oc")
    ]

    stray = import_optuna(_define_by_run(stray=True), "stray", store=store).space
    assert "stray" in stray
    assert {c.child.name for c in stray.conditions} == {"d", "lr"}


def test_a_number_threshold_that_explains_a_parameter_becomes_its_condition(
    store: TrialStore, tmp_path: Path
) -> None:
    """Check that a parameter set only when a number passes a threshold
    (``dropout`` when ``layers > 2``, ``wd`` when ``lr < 0.01``) gets that
    condition (an int at the nearest value of a trial without it, a float
    between the trials with and without it), and that the study
    round-trips through CSV with its space (it stayed unconditional, and every
    trial without it was a "missing value")."""
    from hptaa_lab.interop import export_csv, import_csv

    def objective(trial: Any) -> float:
        layers = trial.suggest_int("layers", 1, 6)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        value = lr * layers
        if layers > 2:
            value += trial.suggest_float("dropout", 0.0, 0.5)
        if lr < 0.01:
            value += trial.suggest_float("wd", 0.0, 1.0)
        return value

    storage = optuna.storages.InMemoryStorage()
    native = optuna.create_study(
        storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    native.optimize(objective, n_trials=40)
    trials = native.trials

    result = import_optuna(storage, "thr", store=store)

    found = {c.child.name: c for c in result.space.conditions}
    assert set(found) == {"dropout", "wd"}
    assert isinstance(found["dropout"], CS.GreaterThanCondition)
    assert found["dropout"].parent.name == "layers" and found["dropout"].value == 2
    assert isinstance(found["wd"], CS.LessThanCondition)
    assert found["wd"].parent.name == "lr"
    assert (
        max(t.params["lr"] for t in trials if "wd" in t.params)
        < found["wd"].value
        < min(t.params["lr"] for t in trials if "wd" not in t.params)
    )
    path = export_csv("thr", tmp_path / "thr.csv", store=store)
    import_csv(path, "thr-again", space=result.space, store=store)
    assert [t.config for t in store.get_trials("thr-again")] == [
        t.config for t in store.get_trials("thr")
    ]


def test_a_given_space_checks_every_optuna_parameter(store: TrialStore) -> None:
    """Check that values outside a given space are listed by trial and parameter."""
    space = {"lr": (1e-4, 1e-1, "log"), "layers": (1, 4), "opt": ["sgd"]}

    with pytest.raises(InteropError) as raised:
        import_optuna(_native_study(), "prev", space=space, store=store)

    assert str(raised.value).splitlines()[:5] == [
        "Cannot import Optuna study 'native' in InMemoryStorage: 3 problems, so "
        "nothing was imported.",
        "  trial 0, parameter 'momentum': not a hyperparameter of the search space",
        "  trial 1, parameter 'layers': 6 is outside [1, 4]",
        "  trial 1, parameter 'opt': 'adam' is not one of the choices 'sgd'",
        "Pass a search space that holds these values (space=, --space), or leave it "
        "out to build one from the Optuna distributions.",
    ]
    assert not store.has_study("prev")


def test_study_with_several_objectives_is_refused(store: TrialStore) -> None:
    """Check that a multi-objective Optuna study is refused, saying so."""
    storage = optuna.storages.InMemoryStorage()
    native = optuna.create_study(storage=storage, directions=["minimize", "maximize"])
    native.add_trial(
        optuna.trial.create_trial(
            params={"x": 0.5},
            distributions={"x": distributions.FloatDistribution(0, 1)},
            values=[1.0, 2.0],
        )
    )

    with pytest.raises(
        InteropError,
        match=r"it has 2 objectives \(minimize, maximize\), and an hptaa_lab study "
        r"has one objective value\.",
    ):
        import_optuna(storage, "prev", store=store)
    assert store.list_studies() == []


def test_study_without_a_complete_trial_is_refused(store: TrialStore) -> None:
    """Check that an Optuna study with no COMPLETE trial is refused, saying so."""
    storage = optuna.storages.InMemoryStorage()
    native = optuna.create_study(storage=storage)
    for _ in range(2):
        native.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))

    with pytest.raises(
        InteropError,
        match=r"it has no COMPLETE trial \(2 trials: 2 FAIL\); there is nothing to "
        r"transfer from\.",
    ):
        import_optuna(storage, "prev", store=store)
    assert store.list_studies() == []


def test_storage_with_several_studies_needs_the_study_name(store: TrialStore) -> None:
    """Check that the Optuna study must be named when the storage holds several."""
    storage = _native_study(direction="minimize")
    optuna.create_study(storage=storage, study_name="other")

    with pytest.raises(
        InteropError,
        match=r"holds 2 studies \('native', 'other'\); name the one to import",
    ):
        import_optuna(storage, "prev", store=store)
    with pytest.raises(InteropError, match=r"has no study named 'nope'; its studies"):
        import_optuna(storage, "prev", optuna_study="nope", store=store)

    result = import_optuna(storage, "prev", optuna_study="native", store=store)
    assert result.n_trials == 2
    assert store.get_study("prev").direction == "minimize"


def test_missing_sqlite_file_is_refused_and_not_created(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that importing from a SQLite file that does not exist creates nothing."""
    path = tmp_path / "missing.db"

    with pytest.raises(InteropError, match=f"there is no file {path}"):
        import_optuna(f"sqlite:///{path}", "prev", store=store)
    assert not path.exists()


def test_database_without_optuna_tables_is_refused(
    tmp_store_url: str, store: TrialStore
) -> None:
    """Check that a database that is no Optuna storage is refused untouched."""
    with pytest.raises(InteropError, match=r"holds no Optuna study \(no 'studies'"):
        import_optuna(tmp_store_url, "prev", store=store)

    import sqlalchemy as sa

    engine = sa.create_engine(tmp_store_url)
    tables = sa.inspect(engine).get_table_names()
    engine.dispose()
    assert not any(name.startswith(("studies", "trials")) for name in tables)


def test_unreachable_optuna_server_gives_a_clear_message(store: TrialStore) -> None:
    """Check that a server that is down gives one line of advice, no traceback."""
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://hptaa:s3cret@127.0.0.1:{_closed_port()}/optuna"

    with pytest.raises(InteropError) as raised:
        import_optuna(url, "prev", store=store)

    message = str(raised.value)
    assert message.startswith(
        f"Cannot read the Optuna storage at {mask_url(url)}: connection failed: "
    )
    assert "s3cret" not in message and "\n" not in message
    assert message.endswith("and that the URL is right.")
    shown = "".join(traceback.format_exception(raised.value))
    assert "OperationalError" not in shown


def test_mask_url_hides_the_password() -> None:
    """Check that a URL's password is masked wherever it is recorded or shown."""
    assert (
        mask_url("postgresql+psycopg://team:s3cret@db.local:5432/optuna")
        == "postgresql+psycopg://team:***@db.local:5432/optuna"
    )
    assert mask_url("sqlite:///optuna.db") == "sqlite:///optuna.db"


def test_missing_optuna_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, store: TrialStore
) -> None:
    """Check that without optuna the error names the extra to install."""
    monkeypatch.setitem(sys.modules, "optuna", None)

    with pytest.raises(
        InteropError,
        match=r"Importing from Optuna needs the optuna package, an optional extra "
        r"of hptaa_lab: pip install 'hptaa_lab\[optuna\]'\.",
    ):
        import_optuna("sqlite:///optuna.db", "prev", store=store)
    with pytest.raises(InteropError, match="Exporting to Optuna needs the optuna"):
        export_optuna("prev", "sqlite:///optuna.db", store=store)


def test_an_interrupted_export_leaves_no_partial_optuna_study(
    store: TrialStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a Ctrl-C while the trials are written removes the Optuna study
    the export started (it held part of the trials, and read as the whole
    study), and that the export can then run again."""
    from hptaa_lab import create_study
    from hptaa_lab.interop import export_optuna

    study = create_study("v1", {"x": (0.0, 1.0)}, store=store, seed=0)
    study.optimize(lambda c: c["x"], n_trials=3)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    calls = []

    def interrupted(self: Any, trials: Any) -> None:
        calls.append(len(trials))
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(optuna.Study, "add_trials", interrupted)
        with pytest.raises(KeyboardInterrupt):
            export_optuna("v1", url, store=store)

    assert calls == [3]
    assert optuna.get_all_study_names(storage=url) == []
    assert export_optuna("v1", url, store=store) == "v1"
    assert len(optuna.load_study(study_name="v1", storage=url).trials) == 3
