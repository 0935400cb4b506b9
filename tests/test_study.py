"""Tests of Study: create and load, the optimisation loop, failures, interrupts,
incumbent, transfer from a previous study."""

from __future__ import annotations

import contextlib
import logging
import math
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hptaa_lab import (
    HptaaError,
    Mapping,
    MappingError,
    StudyExistsError,
    StudyNotFoundError,
    TrialState,
    TrialStore,
    UnknownNameError,
    create_study,
    load_study,
)
from hptaa_lab.records import TrialRecord
from hptaa_lab.space import build_space
from hptaa_lab.transfer import Auto

SPACE = {"x": (0.0, 1.0), "act": ["a", "b"]}


@pytest.fixture
def store(tmp_store_url: str) -> Iterator[TrialStore]:
    """An open trial store on a fresh SQLite file."""
    opened = TrialStore(tmp_store_url)
    yield opened
    opened.close()


def _x(config: dict[str, Any]) -> float:
    return float(config["x"])


def test_create_and_load_round_trip(tmp_store_url: str) -> None:
    """Check that a loaded study has the created study's metadata and trials, and
    that its numbering continues after the last trial."""
    study = create_study(
        "v1",
        SPACE,
        sampler="random",
        store=tmp_store_url,
        seed=3,
        direction="maximize",
        attrs={"benchmark": "toy"},
    )
    study.optimize(_x, n_trials=3)
    study.close()

    loaded = load_study("v1", store=tmp_store_url)

    assert loaded.name == "v1"
    assert loaded.space == build_space(SPACE)
    assert loaded.direction == "maximize"
    assert loaded.record.sampler == "random" and loaded.record.seed == 3
    assert loaded.record.attrs == {"benchmark": "toy"}
    assert loaded.trials == study.trials
    assert loaded.sampler.n_observed == 3
    loaded.optimize(_x, n_trials=2)
    assert [t.number for t in loaded.trials] == [0, 1, 2, 3, 4]
    assert loaded.incumbent == max(
        loaded.trials, key=lambda t: t.value if t.value is not None else -1
    )
    loaded.close()


def test_duplicate_name_suggests_load_study(store: TrialStore) -> None:
    """Check that a taken name is refused with a pointer to load_study."""
    create_study("v1", SPACE, store=store)

    with pytest.raises(
        StudyExistsError,
        match=r"already exists .* Use hptaa_lab\.load_study\('v1'(, store='[^']+')?\) "
        r"to resume it",
    ):
        create_study("v1", SPACE, store=store)


def test_duplicate_name_in_a_store_file_names_the_store_to_load_from(
    tmp_store_url: str,
) -> None:
    """Check that for a store other than the default, the load_study call the
    message suggests passes that store."""
    create_study("v1", SPACE, store=tmp_store_url).close()

    with pytest.raises(StudyExistsError) as info:
        create_study("v1", SPACE, store=tmp_store_url)

    assert f"hptaa_lab.load_study('v1', store='{tmp_store_url}')" in str(info.value)


def test_unknown_previous_lists_studies(store: TrialStore) -> None:
    """Check that an unknown previous study is named with the existing ones."""
    create_study("alpha", SPACE, store=store)
    create_study("beta", SPACE, store=store)

    with pytest.raises(
        StudyNotFoundError,
        match=r"No study named 'gamma' .* Existing studies: alpha, beta\.",
    ):
        create_study("v2", SPACE, previous="gamma", store=store)


def test_load_unknown_study_lists_studies(store: TrialStore) -> None:
    """Check that loading an unknown study lists the existing ones."""
    create_study("alpha", SPACE, store=store)

    with pytest.raises(StudyNotFoundError, match="Existing studies: alpha"):
        load_study("nope", store=store)


def test_previous_study_in_a_missing_store_path_is_an_error_that_creates_nothing(
    tmp_path: Path,
) -> None:
    """Check that create_study(previous=...) with a mistyped store path says there
    is no store there, instead of creating an empty one and not finding v1."""
    missing = tmp_path / "studie.db"
    with pytest.raises(HptaaError, match="There is no trial store at"):
        create_study("v2", SPACE, previous="v1", store=f"sqlite:///{missing}")
    assert not missing.exists()


def test_load_from_a_missing_store_path_is_an_error_that_creates_nothing(
    tmp_path: Path,
) -> None:
    """Check that a typo in the store path does not create a new empty store."""
    missing = tmp_path / "typo" / "studies.db"
    with pytest.raises(HptaaError, match="There is no trial store at"):
        load_study("v1", store=f"sqlite:///{missing}")
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"sampler": "bohb"}, UnknownNameError, "Valid sampler names: gp, random, tpe"),
        ({"direction": "up"}, UnknownNameError, "Valid direction names: maximize"),
        ({"transfer": "t2pe"}, ValueError, "needs a previous study"),
        ({"mapping": {"renames": {"a": "b"}}}, MappingError, "needs a previous"),
        ({"space": {}}, ValueError, "The search space is empty"),
    ],
)
def test_create_study_validates_arguments(
    store: TrialStore, options: dict[str, Any], error: type, message: str
) -> None:
    """Check that bad arguments are refused with a clear message."""
    arguments: dict[str, Any] = {"space": SPACE, **options}

    with pytest.raises(error, match=message):
        create_study("v1", store=store, **arguments)


def test_transfer_rejects_random_sampler_and_bad_mapping(store: TrialStore) -> None:
    """Check that transfer needs a model, and that the mapping is validated
    against both spaces."""
    create_study("v1", SPACE, store=store)

    with pytest.raises(ValueError, match="use sampler='tpe' or 'gp'"):
        create_study("v2", SPACE, previous="v1", sampler="random", store=store)
    with pytest.raises(UnknownNameError, match="Unknown transfer method 'magic'"):
        create_study("v2", SPACE, previous="v1", transfer="magic", store=store)
    with pytest.raises(MappingError, match="'y', which is not in the current"):
        create_study(
            "v2", SPACE, previous="v1", mapping={"renames": {"x": "y"}}, store=store
        )


def test_objective_that_raises_fails_its_trial(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that an exception fails the trial with its traceback stored, and the
    study goes on."""
    study = create_study("v1", SPACE, store=store, seed=0)
    calls = []

    def objective(config: dict[str, Any]) -> float:
        calls.append(config)
        if len(calls) == 2:
            raise ValueError("bad configuration")
        return _x(config)

    study.optimize(objective, n_trials=4)

    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL] + [TrialState.COMPLETE] * 2
    error = study.trials[1].error or ""
    assert error.startswith("Traceback (most recent call last)")
    assert "ValueError: bad configuration" in error
    assert store.get_trials("v1")[1].error == error
    assert "trial 1 failed" in caplog.text
    assert study.sampler.n_failed == 1


def test_a_value_the_locked_store_refused_is_stored_as_optimize_ends(
    store: TrialStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that when the store refuses a result (another process held its lock
    past the timeout, even for several timeouts), optimize raises the StoreError
    but the trial is stored COMPLETE with its value, not FAIL without it, and
    the value is logged."""
    from hptaa_lab.errors import StoreError

    study = create_study("v1", SPACE, store=store, seed=0)
    finish = store.finish_trial
    # Refused three times: when optimize ends, the store is still locked once.
    refusals = [StoreError("The trial store is locked for more than 30 s.")] * 3

    def locked_once(*args: Any, **kwargs: Any) -> TrialRecord:
        if refusals and kwargs.get("value") is not None:
            raise refusals.pop()
        return finish(*args, **kwargs)

    monkeypatch.setattr(store, "finish_trial", locked_once)

    with pytest.raises(StoreError, match="locked"):
        study.optimize(lambda config: 0.25, n_trials=3)

    stored = store.get_trials("v1")
    assert [(t.state, t.value) for t in stored] == [(TrialState.COMPLETE, 0.25)]
    # Said once, not once per retry.
    assert (
        caplog.text.count("trial 0 returned 0.25, but the trial store could not") == 1
    )
    study.optimize(lambda config: 0.5, n_trials=1)  # the study goes on
    assert [t.value for t in study.trials] == [0.25, 0.5]


def test_a_call_whose_every_trial_failed_ends_with_one_summary(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that an objective that always raises (a typo in a key) runs its
    budget, then says once that every trial failed and why; that a call with one
    complete trial does not; and that a non-function objective is refused before
    any trial."""
    study = create_study("v1", SPACE, store=store, seed=0)
    study.tell(study.ask(), 1.0)  # an earlier success does not hide the failures

    study.optimize(lambda config: config["X"], n_trials=3)

    assert [t.state for t in study.trials[1:]] == [TrialState.FAIL] * 3
    summaries = [r.message for r in caplog.records if "optimize call" in r.message]
    assert summaries == [
        "study v1: all 3 trials of this optimize call failed; the first with "
        "KeyError: 'X'. Fix the objective and call optimize again (the failed "
        "trials stay in the store with their tracebacks: study.trials_dataframe() "
        "or `hptaa show v1`)."
    ]
    caplog.clear()
    study.optimize(lambda config: 1 / (len(study.trials) % 2), n_trials=2)
    assert "optimize call" not in caplog.text
    # Trials a stop cancelled (on Dask workers) blame no objective.
    caplog.clear()
    known = {t.number for t in study.trials}
    for _ in range(2):
        cancelled = "cancelled: the study was stopped before this trial finished"
        study.tell(study.ask(), error=cancelled)
    study._warn_if_all_failed(known)
    assert "optimize call" not in caplog.text
    with pytest.raises(TypeError, match="got str 'not a function'"):
        study.optimize("not a function", n_trials=2)  # type: ignore[arg-type]
    assert len(study.trials) == 8


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, "0.5", None, [1.0], True]
)
def test_non_finite_or_non_number_value_fails_the_trial(
    store: TrialStore, value: Any
) -> None:
    """Check that NaN, inf and values that are not numbers fail the trial."""
    study = create_study("v1", SPACE, store=store, seed=0)

    study.optimize(lambda config: value, n_trials=2)

    assert [t.state for t in study.trials] == [TrialState.FAIL] * 2
    assert study.trials[0].value is None
    assert f"objective returned {value!r}, not a finite number" in (
        study.trials[0].error or ""
    )
    assert study.incumbent is None


class _BadFloat:
    """A value whose conversion to float raises what float() rarely does."""

    def __float__(self) -> float:
        raise ZeroDivisionError("no value")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (10**400, "objective returned 1000000"),
        (_BadFloat(), "objective returned <_BadFloat whose repr raised RuntimeError>"),
    ],
)
def test_value_that_cannot_become_a_float_fails_the_trial_and_goes_on(
    store: TrialStore, value: Any, shown: str
) -> None:
    """Check that an int too large for a float, or a value whose __float__ raises,
    fails its trial (the message cut short) and the study goes on."""
    study = create_study("v1", SPACE, store=store, seed=0)

    study.optimize(lambda config: value, n_trials=2)

    assert [t.state for t in store.get_trials("v1")] == [TrialState.FAIL] * 2
    error = study.trials[0].error or ""
    assert shown in error and "not a finite number" in error
    assert len(error) < 300


def test_numpy_and_int_values_complete(store: TrialStore) -> None:
    """Check that numpy floats and ints are numbers."""
    study = create_study("v1", SPACE, store=store, seed=0)
    values = iter([np.float32(0.25), 3])

    study.optimize(lambda config: next(values), n_trials=2)

    assert [t.value for t in study.trials] == [0.25, 3.0]


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (KeyboardInterrupt(), "KeyboardInterrupt"),
        (SystemExit("bye"), "raised SystemExit, which ends the study"),
        (GeneratorExit(), "raised GeneratorExit, which ends the study"),
    ],
)
def test_interrupt_or_exit_fails_trial_in_flight_and_reraises(
    tmp_store_url: str, exc: BaseException, reason: str
) -> None:
    """Check that Ctrl-C, sys.exit() or another BaseException inside the
    objective fails that trial, names it, re-raises (ending the study), and keeps
    every finished trial in the store, with no trial left RUNNING."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    calls = []

    def objective(config: dict[str, Any]) -> float:
        calls.append(config)
        if len(calls) == 3:
            raise exc
        return _x(config)

    with pytest.raises(type(exc)):
        study.optimize(objective, n_trials=10)
    study.close()

    stored = load_study("v1", store=tmp_store_url)
    assert [t.state for t in stored.trials] == [
        TrialState.COMPLETE,
        TrialState.COMPLETE,
        TrialState.FAIL,
    ]
    assert reason in (stored.trials[2].error or "")
    stored.close()


class _InterruptedFloat:
    """A lazy value whose conversion is interrupted (Ctrl-C in float(tensor))."""

    def __float__(self) -> float:
        raise KeyboardInterrupt


def test_interrupt_while_converting_the_value_fails_the_trial(
    tmp_store_url: str,
) -> None:
    """Check that Ctrl-C raised by float() of the returned value fails that trial,
    re-raises, and leaves no RUNNING trial in the store."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    values = iter([0.5, _InterruptedFloat()])

    with pytest.raises(KeyboardInterrupt):
        study.optimize(lambda config: next(values), n_trials=5)
    study.close()

    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [t.state for t in stored] == [TrialState.COMPLETE, TrialState.FAIL]
    assert "raised KeyboardInterrupt" in (stored[1].error or "")


def test_interrupt_during_the_store_write_keeps_the_result(
    tmp_store_url: str, monkeypatch: pytest.MonkeyPatch, sigint_raises: None
) -> None:
    """Check that Ctrl-C arriving while tell() writes the result does not roll the
    write back: the trial is stored COMPLETE with its value, the sampler knows it,
    and the KeyboardInterrupt reaches the caller afterwards."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    write = study.store.finish_trial

    def interrupted_write(*args: Any, **kwargs: Any) -> Any:
        signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the write
        return write(*args, **kwargs)

    monkeypatch.setattr(study.store, "finish_trial", interrupted_write)
    trial = study.ask()
    with pytest.raises(KeyboardInterrupt):
        study.tell(trial, 0.25)

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert list(study.sampler.y) == [0.25]
    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [(t.state, t.value) for t in stored] == [(TrialState.COMPLETE, 0.25)]
    study.close()


def test_interrupt_during_the_store_write_from_the_objective_loop(
    tmp_store_url: str, monkeypatch: pytest.MonkeyPatch, sigint_raises: None
) -> None:
    """Check that in optimize() a Ctrl-C during the second trial's write ends the
    study with both results stored and no trial RUNNING."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    write = study.store.finish_trial
    writes = []

    def write_once_interrupted(*args: Any, **kwargs: Any) -> Any:
        writes.append(args)
        if len(writes) == 2:
            signal.raise_signal(signal.SIGINT)
        return write(*args, **kwargs)

    monkeypatch.setattr(study.store, "finish_trial", write_once_interrupted)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(_x, n_trials=5)
    study.close()

    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [t.state for t in stored] == [TrialState.COMPLETE] * 2


def test_a_result_told_from_a_thread_leaves_the_signal_handler_alone(
    tmp_store_url: str,
) -> None:
    """Check that tell() from a worker thread (where Python allows no signal
    handler to be set) stores the result and does not touch SIGINT's handler."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    before = signal.getsignal(signal.SIGINT)
    trial = study.ask()
    errors: list[BaseException] = []

    def tell() -> None:
        try:
            study.tell(trial, 0.5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=tell)
    worker.start()
    worker.join()

    assert errors == []
    assert signal.getsignal(signal.SIGINT) is before
    assert study.trials[0].state == TrialState.COMPLETE
    study.close()


def test_maximize_incumbent_is_the_largest(store: TrialStore) -> None:
    """Check that with direction maximize the incumbent has the largest value and
    the sampler is told the negated value."""
    study = create_study("v1", SPACE, store=store, direction="maximize")
    for value in [0.2, 0.9, 0.5]:
        study.tell(study.ask(), value)

    assert study.incumbent is not None
    assert study.incumbent.value == 0.9
    assert study.incumbent.number == 1
    assert study.incumbent_trajectory() == [0.2, 0.9, 0.9]
    assert list(study.sampler.y) == [-0.2, -0.9, -0.5]


def test_incumbent_trajectory_with_failures(store: TrialStore) -> None:
    """Check the best value after each trial: NaN before the first complete one,
    failures carry the best so far."""
    study = create_study("v1", SPACE, store=store)
    for value in [None, 3.0, None, 1.0, 2.0]:
        study.tell(study.ask(), value)

    trajectory = study.incumbent_trajectory()

    assert math.isnan(trajectory[0])
    assert trajectory[1:] == [3.0, 3.0, 1.0, 1.0]
    assert study.incumbent is not None and study.incumbent.number == 3


def test_trials_dataframe_columns(store: TrialStore) -> None:
    """Check one row per trial with the documented columns and params_ columns."""
    study = create_study("v1", SPACE, store=store, seed=0)
    study.optimize(_x, n_trials=2)
    study.tell(study.ask(), None)
    study.ask()

    frame = study.trials_dataframe()

    assert list(frame.columns) == [
        "number",
        "state",
        "value",
        "proposed_by",
        "started_at",
        "finished_at",
        "duration_s",
        "error",
        "params_act",
        "params_x",
    ]
    assert list(frame["number"]) == [0, 1, 2, 3]
    assert list(frame["state"]) == ["COMPLETE", "COMPLETE", "FAIL", "RUNNING"]
    assert list(frame["params_x"]) == [t.config["x"] for t in study.trials]
    assert frame["duration_s"].iloc[0] >= 0
    assert frame["value"].iloc[0] == study.trials[0].value
    assert set(frame["proposed_by"]) == {"random"}
    empty = create_study("v2", SPACE, store=store).trials_dataframe()
    assert list(empty.columns) == list(frame.columns) and len(empty) == 0


def test_ask_tell_rejects_finished_trial(store: TrialStore) -> None:
    """Check that a trial can be told once, and that pending trials give distinct
    configurations."""
    study = create_study("v1", {"a": [0, 1, 2]}, store=store, seed=0)
    first, second = study.ask(), study.ask()
    assert first.config != second.config
    study.tell(first, 1.0)

    with pytest.raises(HptaaError, match="Trial 0 of study 'v1' is COMPLETE"):
        study.tell(first, 2.0)
    with pytest.raises(HptaaError, match="Trial 7 of study 'v1' is unknown"):
        study.tell(7, 2.0)


def test_optimize_needs_a_stop_condition(store: TrialStore) -> None:
    """Check that optimize refuses to run forever."""
    study = create_study("v1", SPACE, store=store)

    with pytest.raises(ValueError, match="optimize needs n_trials or timeout"):
        study.optimize(_x)
    for n_trials in (-1, True, 2.5):
        with pytest.raises(ValueError, match="n_trials must be a non-negative int"):
            study.optimize(_x, n_trials=n_trials)
    for timeout in (-1, True, float("nan"), "10"):
        with pytest.raises(ValueError, match="timeout must be a non-negative number"):
            study.optimize(_x, timeout=timeout)
    assert study.trials == []


def test_callbacks_see_every_trial(store: TrialStore) -> None:
    """Check that callbacks are called once per finished trial."""
    study = create_study("v1", SPACE, store=store, seed=0)
    seen: list[int] = []

    study.optimize(_x, n_trials=3, callbacks=[lambda s, t: seen.append(t.number)])

    assert seen == [0, 1, 2]


def test_stop_from_another_thread(store: TrialStore) -> None:
    """Check that stop() called from another thread ends optimize after the trial
    in flight, with nothing left running."""
    study = create_study("v1", SPACE, store=store, seed=0)
    third_started = threading.Event()
    stop_called = threading.Event()
    calls = []

    def objective(config: dict[str, Any]) -> float:
        calls.append(config)
        if len(calls) == 3:
            third_started.set()
            assert stop_called.wait(10)
        return _x(config)

    def stopper() -> None:
        assert third_started.wait(10)
        study.stop()
        stop_called.set()

    thread = threading.Thread(target=stopper)
    thread.start()
    study.optimize(objective, timeout=30)
    thread.join(10)

    assert len(study.trials) == 3
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert study.stopping


KILLED_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import hptaa_lab

    study = hptaa_lab.create_study("killed", {"x": (0.0, 1.0)}, store=sys.argv[1],
                                   seed=0)

    def objective(config):
        if len(study.trials) == 4:
            print("hanging", flush=True)
            time.sleep(120)
        return config["x"]

    study.optimize(objective, n_trials=10)
    """
)


def test_sigkill_keeps_finished_trials_and_load_resumes(tmp_store_url: str) -> None:
    """Check that a study process killed with SIGKILL mid-trial keeps every
    finished trial; load_study marks the unfinished one failed and numbering
    resumes after it."""
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_SCRIPT, tmp_store_url],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "hanging"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL

    study = load_study("killed", store=tmp_store_url)

    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE] * 3 + [TrialState.FAIL]
    assert (study.trials[3].error or "").endswith(
        f"(pid {child.pid} on host {socket.gethostname()}) ended before it finished"
    )
    study.optimize(_x, n_trials=2)
    assert [t.number for t in study.trials] == [0, 1, 2, 3, 4, 5]
    assert study.sampler.n_observed == 5
    study.close()


def test_load_study_beside_a_running_study_of_this_process_keeps_its_trials(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that loading a study this process is still running (e.g. in a
    background thread) leaves its trial RUNNING, pending for the loaded study,
    which cannot tell it but takes in its result once it finished."""
    study = create_study("v1", {"a": [0, 1]}, sampler="random", store=store, seed=0)
    trial = study.ask()

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        resumed = load_study("v1", store=store)

    assert resumed.trials == [trial]
    assert (
        "study v1 is still being run by this process: its trial(s) 0 stay RUNNING "
        "and count as pending here"
    ) in caplog.text
    with pytest.raises(
        HptaaError, match=r"Trial 0 of study 'v1' is RUNNING in the process \(or Study"
    ):
        resumed.tell(trial, 1.0)
    mine = resumed.ask()
    assert mine.config != trial.config
    study.tell(trial, 0.3)
    resumed.tell(mine, 0.4)

    resumed.ask()
    assert resumed.trials[0] == study.trials[0]
    assert resumed.trials[0].value == 0.3
    assert resumed.sampler.n_observed == 2


def test_tell_stores_the_result_of_a_trial_a_resume_marked_failed(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a trial marked FAIL by another process while this one ran it
    (a resume that could not check this process) still gets its result, with a
    warning; a trial COMPLETE already is refused and keeps its value."""
    study = create_study("v1", SPACE, store=store, seed=0)
    first = study.ask()
    store.fail_running_trials("v1", "resumed on another host")

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.store"):
        finished = study.tell(first, 0.5)

    assert (finished.state, finished.value) == (TrialState.COMPLETE, 0.5)
    assert store.get_trials("v1")[0] == finished
    assert "was marked FAIL by another process while this process" in caplog.text
    assert study.incumbent == finished
    second = study.ask()
    store.finish_trial("v1", second.number, TrialState.COMPLETE, value=0.1)
    with pytest.raises(HptaaError, match="Trial 1 of study 'v1' is already COMPLETE"):
        study.tell(second, 0.9)
    assert store.get_trials("v1")[1].value == 0.1


def _previous_study(store: TrialStore, direction: str = "minimize") -> list[Any]:
    """A previous study over lr and act with five trials of known values."""
    previous = create_study(
        "v1",
        {"lr": (1e-4, 1e-1, "log"), "act": ["a", "b"]},
        store=store,
        direction=direction,
        sampler="random",
        seed=0,
    )
    for value in [0.5, 0.1, 0.9, 0.3, 0.7]:
        previous.tell(previous.ask(), value)
    return previous.trials


def test_mapping_is_stored_and_used_by_projection(
    store: TrialStore, tmp_store_url: str
) -> None:
    """Check that the mapping is kept with the study, survives load_study, and
    drives the projection of the previous trials."""
    trials = _previous_study(store)
    best = trials[1].config
    mapping = {"renames": {"lr": "learning_rate"}, "previous_fixed": {"depth": 3}}

    study = create_study(
        "v2",
        {"learning_rate": (1e-5, 1e-1, "log"), "act": ["a", "b"], "depth": (1, 8)},
        previous="v1",
        transfer="best-first",
        mapping=mapping,
        store=store,
        seed=0,
    )
    first = study.ask()

    expected = Mapping.from_dict(mapping)
    assert study.mapping == expected
    assert Mapping.from_json(store.get_study("v2").mapping_json) == expected
    assert first.proposed_by == "best-first"
    assert first.config == {
        "act": best["act"],
        "depth": 3,
        "learning_rate": best["lr"],
    }
    study.tell(first, 0.2)

    loaded = load_study("v2", store=tmp_store_url)
    projection = loaded.sampler.projection  # type: ignore[attr-defined]
    assert loaded.mapping == expected
    assert len(projection) == 5
    assert all(set(c) == {"learning_rate", "act", "depth"} for c in projection.configs)
    assert loaded.ask().proposed_by != "best-first"
    loaded.close()


@pytest.mark.parametrize(
    ("previous_direction", "current_direction", "best_index"),
    [("maximize", "minimize", 2), ("minimize", "maximize", 1)],
)
def test_transfer_from_study_of_opposite_direction(
    store: TrialStore,
    previous_direction: str,
    current_direction: str,
    best_index: int,
) -> None:
    """Check that the best previous trial is judged in the previous study's own
    direction, whatever the current study's direction."""
    trials = _previous_study(store, previous_direction)

    study = create_study(
        "v2",
        {"lr": (1e-4, 1e-1, "log"), "act": ["a", "b"]},
        previous="v1",
        transfer="best-first",
        direction=current_direction,
        store=store,
        seed=0,
    )

    assert study.ask().config == trials[best_index].config


def test_default_transfer_is_auto(store: TrialStore) -> None:
    """Check that a previous study without a method uses auto."""
    _previous_study(store)

    study = create_study(
        "v2", {"lr": (1e-4, 1e-1, "log"), "act": ["a", "b"]}, previous="v1", store=store
    )

    assert study.transfer == "auto"
    assert study.previous == "v1"
    assert study.sampler.name == "auto"


def test_unconfirmed_rename_suggestion_is_a_warning(tmp_path, caplog) -> None:
    """Check that creating a study whose diff suggests a rename the mapping does
    not confirm warns with the mapping that would confirm it, and that a
    confirmed rename is silent."""
    import logging

    from hptaa_lab import create_study

    url = f"sqlite:///{tmp_path / 'renames.db'}"
    create_study(
        "v1", {"C": (1e-2, 1e2, "log"), "gamma": (1e-4, 1e-1, "log")}, store=url
    )
    current = {"svc_C": (1e-2, 1e2, "log"), "gamma": (1e-4, 1e-1, "log")}
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study("v2", current, previous="v1", store=url)
    assert "C -> svc_C" in caplog.text
    assert "mapping={'renames': {'C': 'svc_C'}}" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study(
            "v2b",
            current,
            previous="v1",
            mapping={"renames": {"C": "svc_C"}},
            store=url,
        )
    assert "suggests renames" not in caplog.text


def test_removed_and_added_names_without_a_suggestion_are_a_warning(
    tmp_path, caplog
) -> None:
    """Check that a removed and an added hyperparameter whose names look nothing
    alike (a rename the diff cannot guess) still warn without a mapping, and
    that a mapping, one that renames or fixes them or an empty one, is silent."""
    import logging

    from hptaa_lab import create_study

    url = f"sqlite:///{tmp_path / 'hidden.db'}"
    create_study("v1", {"n_trees": (10, 200), "depth": (1, 5)}, store=url)
    current = {"n_estimators": (10, 400), "depth": (1, 5), "crit": ["g", "e"]}
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study("v2", current, previous="v1", store=url)
    assert (
        "v2: compared with study v1, n_trees was removed and crit, n_estimators added"
        in caplog.text
    )
    # Beside a rename the diff suggests, the unrelated pair is still named.
    create_study("w1", {"n_trees": (10, 200), "lr": (0.01, 1.0)}, store=url)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study(
            "w2",
            {"n_estimators": (10, 400), "learning_rate": (0.01, 1.0)},
            previous="w1",
            store=url,
        )
    assert "lr -> learning_rate" in caplog.text
    assert "n_trees was removed and n_estimators added" in caplog.text
    assert "mapping={'renames': {'n_trees': 'n_estimators'}}" in caplog.text
    for i, mapping in enumerate(
        [
            {"renames": {"n_trees": "n_estimators"}},
            {"current_fixed": {"n_trees": 100}},
            {},  # a mapping given (a confirmed diff) says the two are unrelated
        ]
    ):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
            create_study(f"v2-{i}", current, previous="v1", mapping=mapping, store=url)
        assert [r for r in caplog.records if r.name == "hptaa_lab.study"] == []

    # The example is a rename a mapping may give: not a range onto choices of
    # text (the warning suggested subsample -> max_features, which is refused).
    create_study("g1", {"subsample": (0.5, 1.0), "lr": (0.01, 1.0)}, store=url)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study(
            "g2",
            {"max_features": ["sqrt", "log2"], "lr": (0.01, 1.0)},
            previous="g1",
            store=url,
        )
    assert [r for r in caplog.records if r.name == "hptaa_lab.study"] == []
    create_study("h1", {"subsample": (0.5, 1.0), "lr": (0.01, 1.0)}, store=url)
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study(
            "h2",
            {"max_features": ["sqrt", "log2"], "frac": (0.1, 1.0), "lr": (0.01, 1.0)},
            previous="h1",
            store=url,
        )
    assert "mapping={'renames': {'subsample': 'frac'}}" in caplog.text


def test_rename_warning_lists_at_most_five_pairs(tmp_path, caplog) -> None:
    """Check that many rename suggestions make a short warning, not one pair each."""
    import logging

    from hptaa_lab import create_study

    url = f"sqlite:///{tmp_path / 'many.db'}"
    create_study("v1", {f"param_{i}": (0.0, 1.0) for i in range(12)}, store=url)
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
        create_study(
            "v2",
            {f"param{i}x": (0.0, 1.0) for i in range(12)},
            previous="v1",
            store=url,
        )
    assert "more (see hptaa_lab.diff)" in caplog.text
    assert len(caplog.text) < 1000


def test_direction_unlike_the_previous_study_is_warned(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that forgetting direction= on the next version (the previous study
    maximizes) is warned about, naming the direction to pass, and that the same
    direction gives no warning."""
    v1 = create_study("v1", SPACE, store=store, direction="maximize", seed=0)
    v1.optimize(lambda c: 1.0, n_trials=2)
    with caplog.at_level("WARNING", logger="hptaa_lab.study"):
        create_study("v2", SPACE, previous="v1", store=store)
    assert "previous study v1 was to maximize" in caplog.text
    assert "direction='maximize'" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="hptaa_lab.study"):
        create_study("v3", SPACE, previous="v1", store=store, direction="maximize")
    assert "direction" not in caplog.text


def test_two_loads_with_their_own_seeds_propose_differently(tmp_store_url: str) -> None:
    """Check that two processes' loads of one seeded study at the same moment
    propose the same without a seed of their own, and differently with one."""
    create_study("v1", SPACE, store=tmp_store_url, seed=0).close()

    def first_asks(seed: int | None) -> list[dict[str, Any]]:
        study = load_study("v1", store=tmp_store_url, seed=seed)
        configs = [dict(study.sampler.ask().config) for _ in range(3)]
        study.close()
        return configs

    assert first_asks(None) == first_asks(None)
    assert first_asks(1) != first_asks(2)
    with pytest.raises(ValueError, match="seed must be an int from 0"):
        load_study("v1", store=tmp_store_url, seed=-1)


@pytest.mark.parametrize("seed", [-1, 1.5, 2**70, True])
def test_create_study_refuses_a_bad_seed_before_storing_anything(
    store: TrialStore, seed: Any
) -> None:
    """Check that a seed the samplers cannot take is refused before the study is
    stored, so that a retry with a good seed can use the name."""
    with pytest.raises(ValueError, match="seed must be an int from 0"):
        create_study("v1", SPACE, store=store, seed=seed)

    assert store.list_studies() == []
    create_study("v1", SPACE, store=store, seed=0)


def test_a_study_takes_in_trials_another_study_object_starts_later(
    tmp_path: Path,
) -> None:
    """Check that a Study sees the trials another Study (another process, as far
    as it can tell) starts on the same study after it was created: a trial in
    flight there counts as pending here, and its result reaches this sampler
    once it finishes."""
    url = f"sqlite:///{tmp_path / 'both.db'}"
    first = create_study("shared", {"a": [0, 1]}, sampler="random", store=url, seed=0)
    second = load_study("shared", store=url, seed=0)

    theirs = second.ask()
    mine = first.ask()

    assert mine.config["a"] == 1 - theirs.config["a"]
    assert [t.number for t in first.trials] == [theirs.number, mine.number]
    second.tell(theirs, 0.25)
    first.tell(mine, 0.5)
    first.ask()
    assert first.trials[theirs.number].value == 0.25
    assert first.sampler.n_observed == 2


def test_a_trial_whose_process_ended_stops_being_pending(tmp_path: Path) -> None:
    """Check that a trial another Study started counts as pending only while its
    process runs: once that process is gone (killed before its tell), the open
    Study may propose its configuration again, and the store is left as it is."""
    import sqlalchemy as sa

    from hptaa_lab.store._schema import trials as trials_table

    url = f"sqlite:///{tmp_path / 'gone.db'}"
    first = create_study("gone", {"a": [0, 1]}, sampler="random", store=url, seed=0)
    other = load_study("gone", store=url, seed=1)
    theirs = other.ask()
    assert first.ask().config["a"] == 1 - theirs.config["a"]  # theirs is pending
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the trial's process is now one that ended
        conn.execute(
            sa.update(trials_table)
            .where(trials_table.c.number == theirs.number)
            .values(owner_pid=child.pid, owner_start=None)
        )
    engine.dispose()

    proposals = {first.ask().config["a"] for _ in range(4)}

    assert theirs.config["a"] in proposals
    stored = first.store.get_trials("gone", numbers=[theirs.number])
    assert [t.state for t in stored] == [TrialState.RUNNING]


def _tuned_v1(store: TrialStore) -> None:
    """A finished previous study v1 of 12 trials over SPACE."""
    v1 = create_study("v1", SPACE, store=store, seed=0)
    v1.optimize(lambda c: (_x(c) - 0.3) ** 2 + (c["act"] == "b"), n_trials=12)


def test_transfer_options_reach_the_method_and_survive_a_resume(
    store: TrialStore,
) -> None:
    """Check that transfer_options configure the transfer method, are kept with
    the study, and configure it again when the study is loaded."""
    _tuned_v1(store)

    study = create_study(
        "v2",
        SPACE,
        previous="v1",
        store=store,
        seed=1,
        transfer_options={"ties": None, "portfolio": 0, "fade": 5.0},
    )
    study.optimize(_x, n_trials=3)
    loaded = load_study("v2", store=store)

    for opened in (study, loaded):
        assert opened.transfer_options == {"ties": None, "portfolio": 0, "fade": 5.0}
        sampler: Any = opened.sampler
        assert (sampler.ties, sampler.fade) == (None, 5.0)
    assert "auto-portfolio" not in {t.proposed_by for t in study.trials}
    assert store.get_study("v2").transfer_options == study.transfer_options
    plain = create_study("v3", SPACE, previous="v1", store=store)
    assert plain.transfer_options == {} and plain.sampler.ties == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"tiez": 1}, UnknownNameError, "Unknown auto option 'tiez'. Valid auto"),
        # The whole list of options, up to its last, then the suggestion.
        ({"flor": 0.2}, UnknownNameError, f"{Auto.options[-1]}. Did you mean 'floor'"),
        ({"FLOOR": 0.2}, UnknownNameError, f"{Auto.options[-1]}. Did you mean 'floor'"),
        ({"ancestors": []}, UnknownNameError, "Unknown auto option 'ancestors'"),
        ({"seed": 3}, UnknownNameError, "Unknown auto option 'seed'"),
        ({"ties": 0}, ValueError, "ties must be an int number of trials >= 1"),
        ({"keep": "yes"}, ValueError, "keep must be True or False"),
        ({"portfolio": 1.5}, ValueError, "portfolio must be an int >= 0"),
        ({"prior_min_bandwidth": 0}, ValueError, "prior_min_bandwidth must be"),
        ({"fade": float("nan")}, ValueError, "transfer_options must hold JSON"),
        ({"source_model": ("gp",)}, ValueError, "transfer_options must hold JSON"),
        ([("ties", 2)], ValueError, "transfer_options must be a dict"),
    ],
)
def test_bad_transfer_options_are_refused_before_storing_anything(
    store: TrialStore, options: Any, error: type, message: str
) -> None:
    """Check that an unknown option, a value the method refuses or one that JSON
    would change is refused with what to do, and no study is left behind."""
    _tuned_v1(store)

    with pytest.raises(error, match=message):
        create_study("v2", SPACE, previous="v1", store=store, transfer_options=options)

    assert [s.name for s in store.list_studies()] == ["v1"]


def test_numpy_option_values_are_stored_as_python_values(store: TrialStore) -> None:
    """Check that option values taken from numpy (an int64, a float64, a bool_)
    are accepted and kept as the Python numbers they stand for."""
    _tuned_v1(store)

    study = create_study(
        "v2",
        SPACE,
        previous="v1",
        store=store,
        transfer_options={
            "portfolio": np.int64(2),
            "floor": np.float64(0.2),
            "keep": np.bool_(True),
        },
    )

    stored = store.get_study("v2").transfer_options
    assert stored == {"portfolio": 2, "floor": 0.2, "keep": True}
    assert [type(v) for v in stored.values()] == [int, float, bool]
    assert study.sampler.floor == 0.2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "value", [np.datetime64("NaT"), np.timedelta64(3, "ns"), np.array(2)]
)
def test_numpy_values_that_are_no_number_are_refused_as_options(
    store: TrialStore, value: Any
) -> None:
    """Check that a numpy datetime, timedelta or array is refused, not turned
    into None or a number."""
    _tuned_v1(store)

    with pytest.raises(ValueError, match="transfer_options must hold JSON values"):
        create_study(
            "v2", SPACE, previous="v1", store=store, transfer_options={"ties": value}
        )


def test_transfer_options_need_a_method_that_takes_them(store: TrialStore) -> None:
    """Check that options without a previous study, or for a paper method, are
    refused and name where options apply."""
    _tuned_v1(store)

    with pytest.raises(ValueError, match="need a previous study"):
        create_study("v2", SPACE, store=store, transfer_options={"ties": 2})
    with pytest.raises(ValueError, match=r"'t2pe' takes no options.*auto, auto-last"):
        create_study(
            "v2",
            SPACE,
            previous="v1",
            transfer="t2pe",
            store=store,
            transfer_options={"ties": 2},
        )


def test_a_taken_name_is_refused_before_the_transfer_method_is_built(
    store: TrialStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that create_study says the name is taken before it fits a transfer
    method (and logs its warnings) for a study it will not create."""
    create_study("v1", SPACE, store=store)  # no trials: auto would warn
    create_study("v2", SPACE, store=store)
    renamed = {"x_pos": (0.0, 1.0), "act": ["a", "b"]}  # a rename to suggest

    with (
        caplog.at_level(logging.WARNING, logger="hptaa_lab"),
        pytest.raises(StudyExistsError),
    ):
        create_study("v2", renamed, previous="v1", store=store, direction="maximize")

    assert caplog.text == ""


def _sigint_in_second_start(study: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the store raise SIGINT while ask() stores the study's second trial;
    returns the store's own start_trial."""
    start = study.store.start_trial

    def interrupted_second_start(*args: Any, **kwargs: Any) -> Any:
        if len(study.trials) == 1:
            signal.raise_signal(signal.SIGINT)
        return start(*args, **kwargs)

    monkeypatch.setattr(study.store, "start_trial", interrupted_second_start)
    return start


def test_interrupt_during_the_store_write_of_ask_fails_the_new_trial(
    tmp_store_url: str, monkeypatch: pytest.MonkeyPatch, sigint_raises: None
) -> None:
    """Check that Ctrl-C while optimize() asks for a trial raises after the write
    with that trial failed (none left RUNNING), the finished trials kept, and the
    study resumable in the same process."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    start = _sigint_in_second_start(study, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(_x, n_trials=3)
    monkeypatch.setattr(study.store, "start_trial", start)

    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [t.state for t in stored] == [TrialState.COMPLETE, TrialState.FAIL]
    assert "interrupted by the user" in (stored[1].error or "")
    assert list(study.sampler.y) == [_x(stored[0].config)]
    study.optimize(_x, n_trials=2)
    assert [t.state for t in study.trials][2:] == [TrialState.COMPLETE] * 2
    study.close()


class _Stop(Exception):
    """What a custom SIGINT handler raises."""


@pytest.mark.parametrize("handler", ["flag", "ignored", "raises"])
def test_sigint_during_ask_under_another_handler(
    tmp_store_url: str, monkeypatch: pytest.MonkeyPatch, handler: str
) -> None:
    """Check that a SIGINT while ask() stores a trial, under a handler that only
    sets a flag or with SIGINT ignored, leaves the trial RUNNING for its tell
    (optimize goes on); under a handler that raises its own exception, the trial
    is failed under that exception's name. Before, ask() failed the trial
    whatever the handler did, and the next tell() raised InvalidTrialError."""
    flags: list[int] = []

    def set_flag(signum: int, frame: Any) -> None:
        flags.append(signum)

    def stop(signum: int, frame: Any) -> None:
        raise _Stop

    before = signal.getsignal(signal.SIGINT)
    installed = {"flag": set_flag, "ignored": signal.SIG_IGN, "raises": stop}
    signal.signal(signal.SIGINT, installed[handler])
    try:
        study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
        _sigint_in_second_start(study, monkeypatch)
        if handler == "raises":
            with pytest.raises(_Stop):
                study.optimize(_x, n_trials=3)
        else:
            study.optimize(_x, n_trials=3)
    finally:
        signal.signal(signal.SIGINT, before)

    stored = TrialStore(tmp_store_url).get_trials("v1")
    if handler == "raises":
        assert [t.state for t in stored] == [TrialState.COMPLETE, TrialState.FAIL]
        assert "interrupted by the user (_Stop)" in (stored[1].error or "")
    else:
        assert [t.state for t in stored] == [TrialState.COMPLETE] * 3
    assert flags == ([signal.SIGINT] if handler == "flag" else [])
    study.close()


def test_a_second_sigint_while_ask_fails_its_trial_waits_for_that_write(
    tmp_store_url: str, monkeypatch: pytest.MonkeyPatch, sigint_raises: None
) -> None:
    """Check that when ask() fails the trial a first SIGINT interrupted, a second
    SIGINT just before that write waits for it: the trial is stored failed, not
    left RUNNING."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    start, finish = study.store.start_trial, study.store.finish_trial

    def interrupted_start(*args: Any, **kwargs: Any) -> Any:
        signal.raise_signal(signal.SIGINT)
        return start(*args, **kwargs)

    def interrupted_finish(*args: Any, **kwargs: Any) -> Any:
        signal.raise_signal(signal.SIGINT)
        return finish(*args, **kwargs)

    monkeypatch.setattr(study.store, "start_trial", interrupted_start)
    monkeypatch.setattr(study.store, "finish_trial", interrupted_finish)
    with pytest.raises(KeyboardInterrupt):
        study.ask()

    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [t.state for t in stored] == [TrialState.FAIL]
    assert "before it was evaluated" in (stored[0].error or "")
    study.close()


class _InterruptedRepr:
    """A returned value that is no number, whose repr is interrupted."""

    def __repr__(self) -> str:
        raise KeyboardInterrupt


def test_interrupt_while_describing_a_bad_value_fails_the_trial(
    tmp_store_url: str,
) -> None:
    """Check that Ctrl-C while tell() writes out a returned value that is no
    number fails the trial and re-raises, leaving nothing RUNNING."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)

    with pytest.raises(KeyboardInterrupt):
        study.tell(study.ask(), _InterruptedRepr())  # type: ignore[arg-type]

    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [t.state for t in stored] == [TrialState.FAIL]
    assert "raised KeyboardInterrupt" in (stored[0].error or "")
    study.close()


def test_interrupt_between_ask_and_the_objective_fails_that_trial_only(
    tmp_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a Ctrl-C landing in optimize() just after ask() stored a trial
    fails that trial, and leaves alone a trial the caller asked for before."""
    study = create_study("v1", SPACE, store=tmp_store_url, seed=0)
    mine = study.ask()
    ask = study.ask

    def ask_then_interrupted() -> Any:
        trial = ask()
        if trial.number == 2:
            raise KeyboardInterrupt  # as if Ctrl-C came right after the write
        return trial

    monkeypatch.setattr(study, "ask", ask_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        study.optimize(_x, n_trials=5)

    stored = TrialStore(tmp_store_url).get_trials("v1")
    assert [t.state for t in stored] == [
        TrialState.RUNNING,
        TrialState.COMPLETE,
        TrialState.FAIL,
    ]
    assert "optimize ended: interrupted by the user" in (stored[2].error or "")
    study.tell(mine, 0.5)
    study.close()


@pytest.mark.parametrize(
    ("name", "ours"),
    [("best_trial", "study.incumbent"), ("best_params", "study.incumbent.config")],
)
def test_names_of_other_libraries_point_to_the_incumbent(
    store: TrialStore, name: str, ours: str
) -> None:
    """Check that best_trial and its kin name study.incumbent, and that other
    missing attributes (and hasattr) still behave as usual."""
    study = create_study("s", SPACE, store=store, seed=0)

    with pytest.raises(AttributeError, match=f"use {re.escape(ours)} "):
        getattr(study, name)
    with pytest.raises(AttributeError, match=r"has no attribute 'colour'$"):
        study.colour  # noqa: B018
    assert not hasattr(study, "best_value")
    assert hasattr(study, "incumbent")


@pytest.mark.parametrize(
    ("ending", "retried"),
    [(KeyboardInterrupt, True), (ValueError, False)],
)
def test_a_resumed_transfer_study_retries_a_cut_off_previous_best(
    store: TrialStore, ending: type[BaseException], retried: bool
) -> None:
    """Check that a Ctrl-C during the first transfer trial (the previous best)
    leaves it due: the resumed study proposes it again and its source keeps its
    trust; an objective that failed it for real is not retried."""
    v1 = create_study("v1", SPACE, store=store, seed=0)
    v1.optimize(_x, n_trials=12)
    v2 = create_study("v2", SPACE, previous="v1", store=store, seed=0)

    def cut(config: dict[str, Any]) -> float:
        raise ending("stop here")

    with contextlib.suppress(KeyboardInterrupt):
        v2.optimize(cut, n_trials=1)
    first = v2.trials[0]
    assert (first.state, first.proposed_by) == (TrialState.FAIL, "auto-portfolio")

    resumed = load_study("v2", store=store)
    trial = resumed.ask()

    assert (trial.proposed_by == "auto-portfolio") is retried
    assert (trial.config == first.config) is retried
    assert isinstance(resumed.sampler, Auto)
    relevance = resumed.sampler.relevance(resumed.sampler.sources[0])
    assert (relevance == pytest.approx(0.85)) is retried


@pytest.mark.parametrize(
    ("transfer", "label"),
    [
        ("auto", "auto-portfolio"),
        ("best-first", "best-first"),
        ("best-first+t2pe", "best-first"),
    ],
)
def test_the_same_study_retries_a_previous_best_cut_off_by_ctrl_c(
    store: TrialStore, transfer: str, label: str
) -> None:
    """Check that after a Ctrl-C during the first transfer trial, optimize again
    on the same Study object evaluates the previous best first, as a resumed
    study does (before, the entry was used up and the next proposals random)."""
    v1 = create_study("v1", SPACE, store=store, seed=0)
    v1.optimize(_x, n_trials=12)
    v2 = create_study(
        "v2", SPACE, previous="v1", transfer=transfer, store=store, seed=0
    )

    def interrupted(config: dict[str, Any]) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        v2.optimize(interrupted, n_trials=1)
    v2.optimize(_x, n_trials=2)

    first, again, _ = v2.trials
    assert first.state == TrialState.FAIL
    assert (again.proposed_by, again.config) == (label, first.config)
    assert again.state == TrialState.COMPLETE


def test_optimize_records_its_run_so_its_study_is_not_deleted_between_trials(
    tmp_store_url: str,
) -> None:
    """Check that a study is not deleted while optimize is between two trials (a
    callback runs then, with no trial in flight), that the run's record goes
    when optimize ends, also when the objective ends it, and that it is deleted
    then."""
    study = create_study("v1", SPACE, sampler="random", seed=0, store=tmp_store_url)
    other = TrialStore(tmp_store_url)
    refusals: list[str] = []

    def try_delete(study: Any, trial: TrialRecord) -> None:
        with pytest.raises(HptaaError, match="is tuning it") as caught:
            other.delete_study("v1")
        refusals.append(str(caught.value))

    study.optimize(_x, n_trials=2, callbacks=[try_delete])

    assert len(refusals) == 2 and other.run_owners("v1") == []

    def interrupted(config: dict[str, Any]) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.optimize(interrupted, n_trials=1)
    assert not other.is_being_run("v1")
    other.delete_study("v1")
    assert not other.has_study("v1")
    other.close()


def test_a_study_object_of_a_deleted_study_writes_nothing_into_its_successor(
    tmp_store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a Study object held while its study is deleted and another
    one of the same name is created (a notebook's, say) refuses to write into
    the new study, and that a fresh load tunes the new one."""
    old = create_study("n", {"lr": (0.0, 1.0)}, store=tmp_store_url, seed=0)
    old.optimize(lambda c: c["lr"], n_trials=2)
    pending = old.ask()
    old.tell(pending, 0.5)
    before_delete = old.ask()
    import sqlalchemy as sa

    from hptaa_lab.store._schema import trials as trials_table

    with TrialStore(tmp_store_url) as other:
        with other._transaction(write=True) as conn:  # its process is elsewhere
            conn.execute(sa.update(trials_table).values(owner_host="elsewhere"))
        other.delete_study("n", force=True)
    new = create_study(
        "n", {"depth": [1, 2, 3]}, store=tmp_store_url, direction="maximize"
    )

    with pytest.raises(HptaaError, match=r"The study 'n' this object tunes was "):
        old.optimize(lambda c: c["lr"], n_trials=2)
    with pytest.raises(HptaaError, match=r"load it: hptaa_lab\.load_study"):
        old.ask()
    # A trial asked before the deletion is not "kept to store later" either.
    with pytest.raises(HptaaError, match="this object tunes was deleted"):
        old.tell(before_delete, 0.25)
    assert "value is kept" not in caplog.text

    assert new.store.get_trials("n") == []
    assert new.store.run_owners("n") == []
    again = load_study("n", store=tmp_store_url)
    again.optimize(lambda c: float(c["depth"]), n_trials=2)
    assert [set(t.config) for t in again.trials] == [{"depth"}, {"depth"}]


def test_run_records_of_concurrent_and_nested_optimize_calls_are_all_removed(
    tmp_store_url: str,
) -> None:
    """Check that two optimize calls on one Study object at once, and one
    nested in another's callback, each remove their own record of the run, so
    that the study can be deleted afterwards."""
    study = create_study("v1", SPACE, sampler="random", seed=0, store=tmp_store_url)
    nested: list[int] = []

    def inner(study: Any, trial: TrialRecord) -> None:
        if not nested:
            nested.append(trial.number)
            study.optimize(_x, n_trials=1)

    threads = [
        threading.Thread(target=study.optimize, args=(_x, 3)),
        threading.Thread(
            target=study.optimize, args=(_x, 2), kwargs={"callbacks": [inner]}
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(study.trials) == 6
    assert study.store.run_owners("v1") == []
    study.store.delete_study("v1")


def test_a_run_record_the_locked_store_kept_is_removed_by_the_next_call(
    store: TrialStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that when the store refuses to remove a run's record as optimize
    ends (locked), the study is refused as being tuned only until this object's
    next optimize call removes it; the warning says so."""
    from hptaa_lab.errors import StoreError

    study = create_study("v1", SPACE, sampler="random", seed=0, store=store)
    end_run = store.end_run
    refusals = [StoreError("The trial store is locked for more than 30 s.")]

    def locked_once(run_id: int) -> None:
        if refusals:
            raise refusals.pop()
        end_run(run_id)

    monkeypatch.setattr(store, "end_run", locked_once)
    study.optimize(_x, n_trials=1)

    assert "could not remove the record of this run" in caplog.text
    assert store.is_being_run("v1")
    study.optimize(_x, n_trials=1)
    assert store.run_owners("v1") == []


def test_a_previous_study_object_brings_its_own_store(tmp_path: Path) -> None:
    """Check that create_study(previous=<Study>) without store= creates the study
    in the previous study's store (not the default one, which may hold another
    study of that name), and refuses another store."""
    here, there = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    decoy = create_study("v1", {"a": (0.0, 100.0)}, store=there, seed=0)
    decoy.tell(decoy.ask(), 0.0)
    v1 = create_study("v1", {"a": (0.0, 1.0)}, store=here, seed=0)
    v1.optimize(lambda c: c["a"], n_trials=3)

    v2 = create_study("v2", {"a": (0.0, 2.0)}, previous=v1)

    assert v2.store.url == v1.store.url and v2.record.previous == "v1"
    with pytest.raises(ValueError, match=r"a study transfers from a study of its own"):
        create_study("v3", {"a": (0.0, 2.0)}, previous=v1, store=there)
    assert not TrialStore(there).has_study("v3")
    # A store that does not exist yet is another store too (not "no store there").
    nowhere = f"sqlite:///{tmp_path / 'c.db'}"
    with pytest.raises(ValueError, match=r"but store= names sqlite:////\S+/c\.db; a"):
        create_study("v3", {"a": (0.0, 2.0)}, previous=v1, store=nowhere)
    assert not (tmp_path / "c.db").exists()
    # The same store, named by its URL, is fine.
    create_study("v4", {"a": (0.0, 2.0)}, previous=v1, store=here)


def test_a_current_fixed_value_the_previous_study_never_held_is_a_warning(
    tmp_path, caplog
) -> None:
    """Check that fixing a removed hyperparameter to a value its previous
    choices or range never held says that no previous trial is then an exact
    match (a typo did that without a word), and a held value says nothing."""
    import logging

    url = f"sqlite:///{tmp_path / 's.db'}"
    create_study(
        "v1", {"k": ["rbf", "poly"], "c": (0.0, 1.0), "x": (0.0, 1.0)}, store=url
    )
    for fixed, warned in (
        ({"k": "rbf ", "c": 0.5}, ["k"]),
        ({"k": "rbf", "c": 2.0}, ["c"]),
        ({"k": "poly", "c": 1.0}, []),
    ):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="hptaa_lab.study"):
            create_study(
                f"v2-{len(caplog.records)}-{fixed['c']}",
                {"x": (0.0, 1.0)},
                previous="v1",
                mapping={"current_fixed": fixed},
                store=url,
            )
        found = [
            r.getMessage().split(" is fixed now")[0].split(": ")[-1]
            for r in caplog.records
            if "never held" in r.getMessage()
        ]
        assert found == warned


def test_load_study_reads_a_store_it_cannot_write_with_a_trial_left_running(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ended_owner: Callable[[str, str, int], None],
) -> None:
    """Check that load_study reads a store this process cannot write whose
    study holds a trial left RUNNING by an ended process: marking it failed is
    a write, which failed although the store is documented as readable."""
    import hptaa_lab.store._store

    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = create_study("s", {"x": (0.0, 1.0)}, store=url, seed=0)
    study.optimize(lambda c: c["x"], n_trials=2)
    running = study.ask()
    ended_owner(url, "s", running.number)
    study.close()
    monkeypatch.setattr(hptaa_lab.store._store, "_writable", lambda p: False)

    loaded = load_study("s", store=url)

    assert loaded.store.read_only
    assert sorted(t.state.value for t in loaded.trials) == [
        "COMPLETE",
        "COMPLETE",
        "RUNNING",
    ]
