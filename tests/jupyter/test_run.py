"""Tests of the run handle: start, wait, stop, failures, transfer and twins."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from hptaa_lab import create_study
from hptaa_lab.errors import (
    HptaaError,
    StudyExistsError,
    StudyNotFoundError,
    UnknownNameError,
)
from hptaa_lab.jupyter import RunState, TuneRequest, TuneRun
from hptaa_lab.records import TrialState
from hptaa_lab.space import Mapping, build_space
from hptaa_lab.store import TrialStore

SPACE = {"x": (-2.0, 2.0), "y": (-2.0, 2.0)}
CHANGED = {"x_pos": (-2.0, 2.0), "y": (-1.0, 1.0), "z": ["a", "b"]}


def quadratic(config: dict[str, Any]) -> float:
    """A toy objective: smallest at x = 1 (or x_pos = 1), y = 0."""
    x = config["x"] if "x" in config else config["x_pos"]
    return (x - 1.0) ** 2 + config["y"] ** 2


def changed_objective(config: dict[str, Any]) -> float:
    """Objective of the changed space: quadratic in x_pos and y, z="b" costs 0.5."""
    return quadratic(config) + (0.5 if config["z"] == "b" else 0.0)


def slow(config: dict[str, Any]) -> float:
    """The quadratic, taking 20 ms."""
    time.sleep(0.02)
    return quadratic(config)


def wait_for_trials(run: TuneRun, n: int, timeout: float = 30) -> None:
    """Wait until the run's study has n finished trials."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        study = run.study
        if study and sum(t.state != TrialState.RUNNING for t in study.trials) >= n:
            return
        time.sleep(0.01)
    raise TimeoutError(f"{run.name}: fewer than {n} trials after {timeout} s")


def previous_study(store: TrialStore, name: str = "v1") -> None:
    """A finished previous study over SPACE with 10 trials."""
    study = create_study(name, SPACE, store=store, seed=0)
    study.optimize(quadratic, n_trials=10)


def test_run_finishes_and_its_repr_summarises_it(store: TrialStore) -> None:
    """Check that wait() returns at the end with every trial in the study, the
    widget and the plain-text repr."""
    run = TuneRun(TuneRequest("v1", build_space(SPACE), quadratic, 8, seed=0), store)

    assert run.wait(timeout=60)

    assert run.state == RunState.FINISHED
    assert run.study is not None and len(run.study.trials) == 8
    assert run.view.progress.value == 8
    assert len(run.view.figure.data[0].y) == 8
    text = repr(run)
    assert text.startswith("TuneRun 'v1': finished")
    assert "v1  8/8 trials, 0 failed, incumbent" in text
    assert f"(trial {run.study.incumbent.number})" in text  # type: ignore[union-attr]
    bundle = run._repr_mimebundle_()
    assert bundle["text/plain"] == text
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_an_objective_that_raises_fails_its_trial_and_the_run_goes_on(
    store: TrialStore, capfd: pytest.CaptureFixture[str]
) -> None:
    """Check that errors of the objective become failed trials shown with their
    error, that the run still spends its budget, and that nothing is printed."""

    def objective(config: dict[str, Any]) -> float:
        # Failures scattered over the space, so the sampler cannot learn to avoid
        # them and some stay among the latest trials.
        if int(abs(config["x"]) * 1e6) % 2 == 0:
            raise ValueError(f"x={config['x']:.3f} is too big")
        return quadratic(config)

    run = TuneRun(TuneRequest("v1", build_space(SPACE), objective, 12, seed=1), store)
    run.wait(timeout=60)

    assert run.study is not None
    failed = [t for t in run.study.trials if t.state == TrialState.FAIL]
    assert failed and len(run.study.trials) == 12
    assert run.state == RunState.FINISHED
    assert f"{len(failed)} failed" in repr(run)
    assert (
        f"last error (trial {failed[-1].number}): ValueError: "
        f"x={failed[-1].config['x']:.3f} is too big"
    ) in repr(run)
    assert "is too big" in run.view.table.value
    assert "is too big" in run.view.notes.value
    out, err = capfd.readouterr()
    assert "too big" not in out + err


def test_stop_ends_the_run_after_the_trials_in_flight(store: TrialStore) -> None:
    """Check that stop() ends a long run early, and that stopping again does nothing."""
    run = TuneRun(TuneRequest("v1", build_space(SPACE), slow, 500, seed=0), store)
    wait_for_trials(run, 1)

    assert run.stop() is True
    assert run.wait(timeout=30)

    assert run.state == RunState.STOPPED
    assert run.study is not None and 0 < len(run.study.trials) < 500
    assert all(t.state != TrialState.RUNNING for t in run.study.trials)
    assert run.stop() is False
    assert "stopped" in run.view.state_label.value
    assert run.view.stop_button.disabled


def test_stop_effect_says_whether_trials_in_flight_finish_or_are_cancelled(
    store: TrialStore,
) -> None:
    """Check that a run in-process lets the trial in flight finish and that one
    on Dask workers cancels its trials in flight, as the stop messages say."""
    previous_study(store)
    effects = []
    for workers in (None, 1, 2):
        # A changed space without a confirmed mapping waits: no Dask starts.
        request = TuneRequest(
            f"v2-{workers}",
            build_space(CHANGED),
            quadratic,
            5,
            previous="v1",
            workers=workers,
        )
        run = TuneRun(request, store)
        assert run.state == RunState.WAITING
        effects.append(run.stop_effect)
        assert run.stop() is True
    assert effects[0] == effects[1] == "after the trials in flight"
    assert effects[2] == "the trials in flight on the Dask workers are cancelled"


def test_a_stop_before_the_thread_enters_optimize_is_not_lost(
    store: TrialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that stop() landing between the start of a run's thread and its
    Study.optimize (which clears an earlier stop) still ends the run early."""
    from hptaa_lab.study import Study

    stopped = threading.Event()
    optimize = Study.optimize

    def late_optimize(self: Study, *args: Any, **kwargs: Any) -> Study:
        stopped.wait(10)
        return optimize(self, *args, **kwargs)

    monkeypatch.setattr(Study, "optimize", late_optimize)
    run = TuneRun(TuneRequest("v1", build_space(SPACE), slow, 200, seed=0), store)
    assert run.stop() is True
    stopped.set()

    assert run.wait(timeout=30)
    assert run.state == RunState.STOPPED
    assert run.study is not None and len(run.study.trials) <= 1


def test_stopping_a_finished_run_is_harmless(store: TrialStore) -> None:
    """Check that stop() after the end returns False and changes nothing."""
    run = TuneRun(TuneRequest("v1", build_space(SPACE), quadratic, 3), store)
    run.wait(timeout=30)

    assert run.stop() is False
    assert run.state == RunState.FINISHED
    assert run.wait(timeout=1)


def test_wait_returns_false_when_the_timeout_passes(store: TrialStore) -> None:
    """Check wait(timeout) on a run that lasts longer."""
    run = TuneRun(TuneRequest("v1", build_space(SPACE), slow, 500), store)

    assert run.wait(timeout=0.1) is False
    assert run.state == RunState.RUNNING
    run.stop()
    run.wait(timeout=30)


class Crash(BaseException):
    """An error the study loop does not catch (like a broken store)."""


def test_a_crash_of_the_loop_fails_the_run_and_wait_raises(store: TrialStore) -> None:
    """Check that an error escaping the study loop fails the run, shows in the
    widget and in the run's text form, and is raised by wait() with the error as
    cause."""

    def objective(config: dict[str, Any]) -> float:
        raise Crash("the database went away")

    run = TuneRun(TuneRequest("solo", build_space(SPACE), objective, 5), store)

    with pytest.raises(
        HptaaError, match="The run of study 'solo' failed: Crash: the database"
    ) as info:
        run.wait(timeout=30)
    assert isinstance(info.value.__cause__, Crash)
    assert run.state == RunState.FAILED
    assert "the database went away" in run.view.notes.value
    # The text form (all a terminal shows) says why it failed.
    assert "\n  error: Crash: the database went away" in repr(run)

    # With --compare both studies fail: both are named, in one sentence each.
    previous_study(store)
    both = TuneRun(
        TuneRequest(
            "v2", build_space(SPACE), objective, 5, previous="v1", compare=True
        ),
        store,
    )
    with pytest.raises(HptaaError) as info:
        both.wait(timeout=30)
    assert "The run of studies 'v2' and 'v2-scratch' failed: Crash:" in str(
        info.value
    ) or "The run of studies 'v2-scratch' and 'v2' failed: Crash:" in str(info.value)
    assert ".." not in str(info.value)


def test_a_changed_space_waits_for_the_diff_to_be_confirmed(store: TrialStore) -> None:
    """Check that with a changed space nothing runs before confirming, wait()
    says why, and Confirm creates the study with the mapping stored."""
    previous_study(store)
    request = TuneRequest(
        "v2",
        build_space(CHANGED),
        changed_objective,
        6,
        previous="v1",
        seed=0,
        mapping=Mapping(previous_fixed={"z": "a"}),
    )
    run = TuneRun(request, store)

    assert run.state == RunState.WAITING
    assert run.study is None and not store.has_study("v2")
    assert run.diff_widget is not None
    assert "planned, none run" in repr(run)
    # In a terminal the diff is in the text form, with what to do next.
    assert "x -> x_pos" in repr(run) and "run.confirm()" in repr(run)
    with pytest.raises(
        HptaaError, match="waits for you to confirm the search-space diff"
    ):
        run.wait()

    run.diff_widget.confirm_button.click()
    run.wait(timeout=60)

    assert run.state == RunState.FINISHED
    stored = store.get_study("v2")
    assert stored.previous == "v1"
    assert stored.transfer == "auto"
    assert json.loads(stored.mapping_json or "{}") == json.loads(
        Mapping(renames={"x": "x_pos"}, previous_fixed={"z": "a"}).to_json()
    )


def test_confirm_true_accepts_the_suggestions_at_once(store: TrialStore) -> None:
    """Check --yes: the run starts in the constructor with the suggested rename,
    which its text form (all a terminal shows) names; an unchanged space says
    that nothing was renamed."""
    previous_study(store)
    request = TuneRequest(
        "v2", build_space(CHANGED), changed_objective, 4, previous="v1"
    )
    run = TuneRun(request, store, confirm=True)

    assert run.state in (RunState.RUNNING, RunState.FINISHED)
    assert run.diff_widget is not None and run.diff_widget.confirmed
    run.wait(timeout=60)
    assert run.study is not None
    assert run.study.mapping == Mapping(renames={"x": "x_pos"})
    assert "\n  mapping: renamed x -> x_pos\n" in repr(run)


def test_confirm_true_guesses_no_rival_rename_and_says_so(store: TrialStore) -> None:
    """Check --yes with two likely new names for x: neither is guessed, and the
    run's text form names both and says how to settle them."""
    previous_study(store)
    rivals = {"x_pos": (-2.0, 2.0), "x_p": (-2.0, 2.0), "y": (-2.0, 2.0)}

    def objective(config: dict[str, Any]) -> float:
        return (config["x_pos"] - 1.0) ** 2 + config["y"] ** 2

    run = TuneRun(
        TuneRequest("v2", build_space(rivals), objective, 2, previous="v1"),
        store,
        confirm=True,
    )
    run.wait(timeout=60)

    assert run.study is not None and run.study.mapping.renames == {}
    assert (
        "\n  not renamed (suggested, not guessed): x -> x_p, x -> x_pos; to "
        "transfer those values, set the right rename in the cell's mapping\n"
    ) in repr(run)


def test_an_unchanged_space_starts_without_a_diff(store: TrialStore) -> None:
    """Check that transfer between identical spaces needs no confirmation."""
    previous_study(store)
    run = TuneRun(
        TuneRequest("v2", build_space(SPACE), quadratic, 4, previous="v1"), store
    )

    assert run.diff_widget is None
    run.wait(timeout=60)
    assert run.state == RunState.FINISHED
    assert "mapping: none (hyperparameters match by name)" in repr(run)


def _finished_compare_run(store: TrialStore) -> TuneRun:
    """A --compare run of v2 from v1, 7 trials each, waited for."""
    previous_study(store)
    request = TuneRequest(
        "v2", build_space(SPACE), quadratic, 7, previous="v1", compare=True, seed=3
    )
    run = TuneRun(request, store)
    run.wait(timeout=60)
    return run


def test_compare_tunes_a_no_transfer_twin_beside_the_study(store: TrialStore) -> None:
    """Check the twin: same budget, store attrs linking both, a speedup figure
    and a speedup line in the repr."""
    run = _finished_compare_run(store)

    assert run.twin is not None and run.study is not None
    assert len(run.study.trials) == len(run.twin.trials) == 7
    assert store.get_study("v2").attrs == {"scratch_twin": "v2-scratch"}
    assert store.get_study("v2-scratch").attrs == {"twin_of": "v2"}
    assert store.get_study("v2-scratch").previous is None
    assert run.view.speedup_figure is not None
    assert len(run.view.speedup_figure.data[0].x) == 7
    # The run ended: its speedup is final, over the 7 evaluations of each.
    assert "speedup: " in repr(run) and "after 7 evaluations of each" in repr(run)
    assert "so far" not in repr(run)
    assert "(no transfer)" in repr(run)


def test_the_text_form_reads_one_snapshot_of_each_study(store: TrialStore) -> None:
    """Check that every line of a --compare run's text form describes the same
    trials: the run's threads add trials while the text is written (it read
    "0/5 trials" beside "speedup so far: after 1 evaluation"). Here each read of
    a study's trials sees one more trial than the read before."""
    run = _finished_compare_run(store)
    assert run.study is not None and run.twin is not None
    study_class = type(run.study)
    reads: dict[int, int] = {}

    class Growing(study_class):  # type: ignore[misc, valid-type]
        @property
        def trials(self) -> Any:
            reads[id(self)] = reads.get(id(self), 0) + 1
            return super().trials[: reads[id(self)]]

    run.study.__class__ = Growing
    run.twin.__class__ = Growing
    text = repr(run)

    assert text.count("1/7 trials") == 2, text
    assert "speedup: " in text and "after 1 evaluation of each" in text, text
    assert "2 evaluations" not in text and "3 evaluations" not in text, text


def test_trials_another_process_adds_are_not_counted_as_planned(
    store: TrialStore,
) -> None:
    """Check that the text form does not read "5/3 trials" when another process
    (here another Study object) tunes the same study too."""
    from hptaa_lab import load_study

    def slow(config: dict[str, Any]) -> float:
        time.sleep(0.2)
        return quadratic(config)

    run = TuneRun(TuneRequest("v1", build_space(SPACE), slow, 4, seed=0), store)
    deadline = time.monotonic() + 30
    while (run.study is None or not run.study.trials) and time.monotonic() < deadline:
        time.sleep(0.01)
    load_study("v1", store=store).optimize(quadratic, n_trials=3)
    run.wait(timeout=60)

    assert "7 trials (4 planned here, more run elsewhere)" in repr(run)
    assert "7/4" not in repr(run)


def test_stop_while_waiting_cancels_the_run(store: TrialStore) -> None:
    """Check that stopping before Confirm creates no study and locks the diff."""
    previous_study(store)
    run = TuneRun(
        TuneRequest("v2", build_space(CHANGED), changed_objective, 4, previous="v1"),
        store,
    )

    assert run.stop() is True

    assert run.state == RunState.STOPPED
    assert run.wait(timeout=1)
    assert not store.has_study("v2")
    assert run.diff_widget is not None and run.diff_widget.confirm_button.disabled
    assert run.stop() is False


def test_two_runs_at_once_are_independent(store: TrialStore) -> None:
    """Check that stopping one of two concurrent runs leaves the other to finish,
    each with its own trials and widget."""
    long_run = TuneRun(TuneRequest("long", build_space(SPACE), slow, 500), store)
    short_run = TuneRun(TuneRequest("short", build_space(SPACE), slow, 10), store)
    time.sleep(0.1)
    long_run.stop()

    assert short_run.wait(timeout=60) and long_run.wait(timeout=60)

    assert short_run.state == RunState.FINISHED
    assert long_run.state == RunState.STOPPED
    assert short_run.study is not None and len(short_run.study.trials) == 10
    assert short_run.view.progress.value == 10
    assert long_run.study is not None
    assert long_run.view.progress.value == len(long_run.study.trials) < 500


def test_warnings_of_worker_threads_go_to_the_widget(
    store: TrialStore,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that, with logging not configured, a warning logged by a run thread
    shows as a note of that run and is not printed, while one logged by this
    thread is printed as Python prints it without configuration."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    log = logging.getLogger("hptaa_lab.test_jupyter")

    def objective(config: dict[str, Any]) -> float:
        log.warning("objective saw x=%.1f", config["x"])
        return quadratic(config)

    run = TuneRun(TuneRequest("v1", build_space(SPACE), objective, 2), store)
    run.wait(timeout=30)
    log.warning("from the main thread")

    assert "objective saw x=" in run.view.notes.value
    out, err = capfd.readouterr()
    assert "objective saw" not in out + err
    assert "from the main thread" in err


@pytest.mark.parametrize(
    ("request_args", "error", "message"),
    [
        ({"study": "v1"}, StudyExistsError, "A study named 'v1' already exists"),
        ({"compare": True}, ValueError, "--compare needs a previous study"),
        ({"transfer": "t2pe"}, ValueError, "--transfer needs a previous study"),
        (
            {"previous": "v1", "transfer": "magic"},
            UnknownNameError,
            "Unknown transfer method 'magic'",
        ),
        ({"previous": "nope"}, StudyNotFoundError, "No study named 'nope'"),
        ({"n_trials": 0}, ValueError, "number of trials must be a positive int; got 0"),
        (
            {"study": "z" * 193, "previous": "v1", "compare": True},
            ValueError,
            "choose a --study name of at most 192 characters",
        ),
    ],
)
def test_bad_requests_are_refused_before_anything_runs(
    store: TrialStore,
    request_args: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    """Check the errors for taken names, options without --from, unknown names."""
    previous_study(store)
    args: dict[str, Any] = {
        "study": "v2",
        "space": build_space(SPACE),
        "objective": quadratic,
    }
    args.update(request_args)

    with pytest.raises(error, match=message):
        TuneRun(TuneRequest(**args), store)
    assert [s.name for s in store.list_studies()] == ["v1"]


@pytest.mark.parametrize(
    ("request_args", "error", "message"),
    [
        (
            {"study": "nope"},
            StudyNotFoundError,
            "No study named 'nope'.* leave it out to create 'nope'",
        ),
        (
            {"space": build_space(CHANGED)},
            ValueError,
            r"space differs from the stored space of 'v2' \(x_pos: added; y: "
            r"narrowed.*\)\. "
            r"--resume continues 'v2' as stored; to tune a changed version, start "
            r"a new study with --from v2\.",
        ),
        ({"previous": "v0"}, ValueError, "--from 'v0' differs from the stored .*'v1'"),
        ({"transfer": "t2pe"}, ValueError, "--transfer 't2pe' differs .*'auto'"),
        ({"seed": 5}, ValueError, "--seed 5 differs from the stored study's 0"),
        (
            {"transfer_options": {"ties": None}},
            ValueError,
            "transfer_options .* differs from the stored study's {}",
        ),
        ({"compare": True}, ValueError, "has none .*; leave --compare out"),
        ({"direction": "maximize"}, ValueError, "direction 'maximize' differs"),
        ({"direction": "up"}, UnknownNameError, "Unknown direction 'up'"),
    ],
)
def test_resume_refuses_what_would_change_the_stored_study(
    store: TrialStore,
    request_args: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    """Check that --resume refuses a missing study, a changed space and settings
    that differ from the stored ones, before anything runs."""
    previous_study(store)
    previous_study(store, "v0")
    v2 = create_study("v2", SPACE, previous="v1", store=store, seed=0)
    v2.optimize(quadratic, n_trials=3)
    # A study that merely has the twin's name is no twin.
    create_study("v2-scratch", SPACE, store=store, seed=0)
    args: dict[str, Any] = {
        "study": "v2",
        "space": build_space(SPACE),
        "objective": quadratic,
        "resume": True,
    }
    args.update(request_args)

    with pytest.raises(error, match=message):
        TuneRun(TuneRequest(**args), store)
    assert len(store.get_trials("v2")) == 3


def test_resume_says_none_in_words_when_the_stored_study_has_no_previous(
    store: TrialStore,
) -> None:
    """Check the refusal of a --from for a study stored without a previous one."""
    previous_study(store)
    request = TuneRequest(
        "v1", build_space(SPACE), quadratic, 3, previous="v0", resume=True
    )

    with pytest.raises(ValueError, match=r"differs from the stored study's \(none\)\."):
        TuneRun(request, store)


def test_resume_with_compare_refuses_a_twin_that_changed(store: TrialStore) -> None:
    """Check that --compare --resume refuses a twin whose space or direction is
    no longer the study's: the two could not be compared."""
    previous_study(store)
    create_study(
        "v2",
        SPACE,
        previous="v1",
        store=store,
        seed=0,
        attrs={"scratch_twin": "v2-scratch"},
    )
    create_study(
        "v2-scratch", {"x": (-2.0, 2.0)}, store=store, seed=0, attrs={"twin_of": "v2"}
    )
    request = TuneRequest(
        "v2", build_space(SPACE), quadratic, 3, compare=True, resume=True
    )

    with pytest.raises(ValueError, match="no longer has 'v2''s search space"):
        TuneRun(request, store)


def test_a_twin_left_by_a_deleted_study_is_no_twin_of_a_new_one(
    store: TrialStore,
) -> None:
    """Check that after the transfer study of a --compare run was deleted, its
    kept twin is not taken as the twin of a new study of that name (resume
    refuses it), and a new --compare run says to delete it."""
    previous_study(store)
    run = TuneRun(
        TuneRequest(
            "v2", build_space(SPACE), quadratic, 2, previous="v1", compare=True
        ),
        store,
    )
    run.confirm()
    assert run.wait(timeout=60) and run.state == RunState.FINISHED
    store.delete_study("v2")
    create_study("v2", SPACE, previous="v1", store=store, seed=1)

    again = TuneRequest(
        "v2", build_space(SPACE), quadratic, 2, compare=True, resume=True
    )
    with pytest.raises(ValueError, match="and 'v2' has none"):
        TuneRun(again, store)
    store.delete_study("v2")
    fresh = TuneRequest(
        "v2", build_space(SPACE), quadratic, 2, previous="v1", compare=True
    )
    with pytest.raises(
        StudyExistsError,
        match=r"earlier --compare run of 'v2', which is gone; --compare needs its "
        r"name free\. Delete it \(`hptaa --store \S+ delete --yes v2-scratch`\)",
    ):
        TuneRun(fresh, store)

    # A study of its own under the twin's name (here the --from study) is no
    # twin: nothing says to delete it (its trials are what would transfer).
    store.delete_study("v2-scratch")
    create_study("v2-scratch", SPACE, store=store, seed=0)
    for previous, which in (("v1", "a study"), ("v2-scratch", "this run's --from")):
        request = replace(fresh, previous=previous)
        with pytest.raises(StudyExistsError) as raised:
            TuneRun(request, store)
        assert f"'v2-scratch' is {which}" in str(raised.value)
        assert "not a no-transfer twin" in str(raised.value)
        assert "delete" not in str(raised.value).split("not a no-transfer twin")[1]


def test_resume_after_a_crash_counts_the_abandoned_trial_as_failed_once(
    store: TrialStore,
) -> None:
    """Check that a trial a crashed process left RUNNING is marked failed before
    the resumed run counts what is there: it shows in the view as failed and
    does not count towards the new trials."""
    import sqlalchemy as sa

    from hptaa_lab.store._schema import trials

    v1 = create_study("v1", SPACE, store=store, seed=0)
    v1.optimize(quadratic, n_trials=3)
    store.start_trial("v1", {"x": 0.5, "y": 0.5}, "tpe")
    # No process recorded, as a crash before schema version 3 leaves it.
    engine = sa.create_engine(store.url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(trials)
            .where(trials.c.number == 3)
            .values(owner_host=None, owner_pid=None, owner_start=None)
        )
    engine.dispose()

    run = TuneRun(
        TuneRequest("v1", build_space(SPACE), quadratic, 2, resume=True), store
    )

    assert run.wait(timeout=30) and run.state == RunState.FINISHED
    assert [t.state for t in run.study.trials].count(TrialState.FAIL) == 1
    assert len(run.study.trials) == 6
    assert run.view.count_label.value == "6/6, 1 failed"


def test_resume_takes_the_stored_settings_and_runs_more_trials(
    store: TrialStore,
) -> None:
    """Check that a resumed run repeats nothing it need not: the stored previous
    study, transfer, seed and options apply, and it runs n_trials more."""
    previous_study(store)
    v2 = create_study(
        "v2",
        SPACE,
        previous="v1",
        store=store,
        seed=7,
        transfer_options={"ties": None},
    )
    v2.optimize(quadratic, n_trials=4)
    request = TuneRequest(
        "v2", build_space(SPACE), quadratic, 5, resume=True, seed=7, previous="v1"
    )

    run = TuneRun(request, store)

    assert run.wait(timeout=30) and run.state == RunState.FINISHED
    assert run.request.transfer == "auto" and run.request.seed == 7
    assert run.study is not None and run.study.transfer_options == {"ties": None}
    assert [t.number for t in run.study.trials] == list(range(9))
    assert len(run.view.trials["transfer"]) == 9
    assert "v2  9/9 trials" in repr(run)


def test_transfer_options_of_none_mean_the_defaults(store: TrialStore) -> None:
    """Check that a request built with transfer_options=None (as create_study
    takes it) runs with the method's defaults instead of failing."""
    previous_study(store)
    request = TuneRequest(
        "v2",
        build_space(SPACE),
        quadratic,
        3,
        previous="v1",
        transfer_options=None,  # type: ignore[arg-type]
    )

    run = TuneRun(request, store)

    assert run.wait(timeout=60)
    assert run.state == RunState.FINISHED
    assert run.study is not None and run.study.transfer_options == {}
