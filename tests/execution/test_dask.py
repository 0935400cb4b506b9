"""Tests of parallel evaluation on a real Dask LocalCluster of worker processes."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cloudpickle
import psutil
import pytest

from hptaa_lab import Study, TrialState, create_study, load_study
from hptaa_lab.errors import StoreError
from hptaa_lab.execution import (
    DaskNotInstalledError,
    InvalidSchedulerError,
    ObjectiveNotPicklableError,
    SchedulerUnreachableError,
    WorkersFailedToStartError,
    local_cluster,
    run_parallel,
)
from hptaa_lab.execution._dask import QUIET_HOUSEKEEPING
from hptaa_lab.samplers import config_key
from hptaa_lab.samplers import names as sampler_names
from hptaa_lab.store import TrialStore
from hptaa_lab.transfer import names as transfer_names

# Objectives of this module travel by value, so that a worker (and one that restarts
# after a kill) runs them without importing this module, pytest and hptaa_lab.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

LOGGER = "hptaa_lab.execution._dask"
BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SPACE = {"x": (0.0, 1.0), "c": ["a", "b"]}
# 6 * 3 * 2 = 36 configurations: small enough that a sampler blind to pending
# trials repeats itself.
DISCRETE = {"a": (0, 5), "b": ["x", "y", "z"], "c": [0, 1]}
# 2 * 3 * 2 = 12 configurations, all of them taken by a run of 12 trials.
SMALL = {"a": (0, 1), "b": ["x", "y", "z"], "c": [0, 1]}


# -- objectives ----------------------------------------------------------------


def _quadratic(config: dict[str, Any]) -> float:
    return (config["x"] - 0.3) ** 2


def _sum_discrete(config: dict[str, Any]) -> float:
    return float(config["a"] + config["c"]) + (0.5 if config["b"] == "y" else 0.0)


def _raise_on_low_x(config: dict[str, Any]) -> float:
    if config["x"] < 0.5:
        raise ValueError(f"learning rate {config['x']:.3f} diverged")
    return config["x"]


def _exit_on_low_x(config: dict[str, Any]) -> float:
    if config["x"] < 0.25:
        sys.exit(3)
    if config["x"] < 0.5:
        raise KeyboardInterrupt
    return config["x"]


def _take_ticket(folder: Path, prefix: str) -> int:
    """A number unique across processes: the first free ``prefix-<n>`` file."""
    n = 0
    while True:
        try:
            os.close(os.open(folder / f"{prefix}-{n}", os.O_CREAT | os.O_EXCL))
            return n
        except FileExistsError:
            n += 1


def _record_interval(folder: Path, config: dict[str, Any]) -> float:
    """Sleep a little and leave ``pid start end`` in a file of its own."""
    start = time.time()
    time.sleep(0.4)
    ticket = _take_ticket(folder, "ticket")
    (folder / f"interval-{ticket}").write_text(f"{os.getpid()} {start} {time.time()}")
    return config["x"]


def _die_once(folder: Path, config: dict[str, Any]) -> float:
    """Kill the worker process on the first call of all; later calls return x."""
    if _take_ticket(folder, "call") == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return config["x"]


def _die_on_high_x(config: dict[str, Any]) -> float:
    """Kill the worker process when x > 0.5 (after a moment's work); else x."""
    time.sleep(0.3)
    if config["x"] > 0.5:
        os.kill(os.getpid(), signal.SIGKILL)
    return config["x"]


def _fast_then_hold(folder: Path, config: dict[str, Any]) -> float:
    """The first three calls return at once; later ones hold until released."""
    ticket = _take_ticket(folder, "call")
    if ticket >= 3:
        (folder / f"holding-{ticket}").touch()
        limit = time.monotonic() + 10
        while not (folder / "release").exists() and time.monotonic() < limit:
            time.sleep(0.02)
    return config["x"]


def _sleep_then_quadratic(config: dict[str, Any]) -> float:
    time.sleep(0.2)
    return _quadratic(config)


def _blas_report() -> dict[str, Any]:
    """Run on a worker: its BLAS environment, the size of its thread pools, and
    its profiler and housekeeping settings."""
    import dask
    import numpy as np  # noqa: F401
    from threadpoolctl import threadpool_info

    return {
        "env": {name: os.environ.get(name) for name in BLAS_VARS},
        "threads": {pool["num_threads"] for pool in threadpool_info()},
        "sigint": signal.getsignal(signal.SIGINT),
        "pid": os.getpid(),
        "housekeeping": {key: dask.config.get(key) for key in QUIET_HOUSEKEEPING},
    }


# -- fixtures and helpers --------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A Client on one local cluster of two worker processes, shared by the module."""
    with local_cluster(2) as shared:
        yield shared


def _study(tmp_path: Path, name: str = "v1", **options: Any) -> Study:
    options.setdefault("seed", 0)
    space = options.pop("space", SPACE)
    return create_study(name, space, store=f"sqlite:///{tmp_path / 's.db'}", **options)


def _states(study: Study) -> list[TrialState]:
    return [t.state for t in study.trials]


def _child_pids() -> set[int]:
    """Child processes, but not multiprocessing's resource tracker and the worker
    template (its forkserver), which live as long as this process once started."""
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if not any(
            helper in " ".join(p.cmdline())
            for helper in ("resource_tracker", "multiprocessing.forkserver")
        )
    }


def _wait_until_gone(pids: set[int], limit: float = 15.0) -> set[int]:
    """The pids among ``pids`` still alive after waiting up to ``limit`` s."""
    end = time.monotonic() + limit
    alive = set(pids)
    while alive and time.monotonic() < end:
        alive = {p for p in alive if psutil.pid_exists(p) and _running(p)}
        time.sleep(0.1)
    return alive


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _when_holding(study: Study, folder: Path, action: Callable[[], None]) -> None:
    """Call ``action`` from a thread once the three fast trials of
    :func:`_fast_then_hold` are told and a held one runs."""

    def ready() -> bool:
        told = [t for t in study.trials if t.state == TrialState.COMPLETE]
        return len(told) >= 3 and any(folder.glob("holding-*"))

    def watch() -> None:
        end = time.monotonic() + 120  # a loaded machine starts the cluster slowly
        while time.monotonic() < end:
            if ready():
                action()
                return
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()


# -- a cluster of our own ----------------------------------------------------------


def test_optimize_with_workers_runs_trials_at_once_in_worker_processes(
    tmp_path: Path,
) -> None:
    """Check that workers=2 evaluates two trials at a time in two other processes,
    leaves the driver's BLAS environment alone and closes the cluster it started."""
    study = _study(tmp_path)
    env_before = {name: os.environ.get(name) for name in BLAS_VARS}
    children_before = _child_pids()

    study.optimize(functools.partial(_record_interval, tmp_path), n_trials=6, workers=2)

    assert _states(study) == [TrialState.COMPLETE] * 6
    intervals = [
        [float(v) for v in path.read_text().split()]
        for path in tmp_path.glob("interval-*")
    ]
    pids = {int(pid) for pid, _, _ in intervals}
    assert len(pids) == 2
    assert os.getpid() not in pids
    assert any(
        a[1] < b[2] and b[1] < a[2]
        for i, a in enumerate(intervals)
        for b in intervals[i + 1 :]
    ), f"no two trials overlapped in time: {intervals}"
    assert {name: os.environ.get(name) for name in BLAS_VARS} == env_before
    assert _wait_until_gone(pids | (_child_pids() - children_before)) == set()


def test_keyboard_interrupt_cancels_trials_in_flight_and_closes_the_cluster(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Check that Ctrl-C fails the trials in flight as cancelled, keeps the finished
    ones, closes the cluster optimize started and is raised again."""
    # A shell starts background jobs with SIGINT ignored (make test &): Ctrl-C
    # must reach Python's handler here however pytest was started.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    study = _study(tmp_path)
    children_before = _child_pids()
    _when_holding(study, tmp_path, lambda: os.kill(os.getpid(), signal.SIGINT))

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        study.optimize(
            functools.partial(_fast_then_hold, tmp_path), n_trials=20, workers=2
        )
    elapsed = time.monotonic() - started
    (tmp_path / "release").touch()

    assert elapsed < 10
    states = _states(study)
    assert states.count(TrialState.COMPLETE) == 3
    assert TrialState.RUNNING not in states
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert failed
    for trial in failed:
        assert trial.error == (
            "cancelled: interrupted by the user (KeyboardInterrupt) before this "
            "trial finished"
        )
    assert [t.state for t in study.store.get_trials(study.name)] == states
    assert _wait_until_gone(_child_pids() - children_before) == set()


# -- the shared cluster -------------------------------------------------------------


def test_local_cluster_workers_use_one_blas_thread_and_listen_on_loopback(
    client: Any,
) -> None:
    """Check that every worker has one-thread BLAS settings and pools, ignores
    Ctrl-C and runs without the statistical profiler and with slow housekeeping,
    and that the scheduler and workers listen on 127.0.0.1 only, off the
    dashboard's port."""
    client.wait_for_workers(2, timeout=60)
    reports = client.run(_blas_report)

    assert len(reports) == 2
    for report in reports.values():
        assert report["env"] == dict.fromkeys(BLAS_VARS, "1")
        assert report["threads"] == {1}
        assert report["sigint"] == signal.SIG_IGN
        assert report["housekeeping"] == QUIET_HOUSEKEEPING
    processes = [psutil.Process()] + [
        psutil.Process(r["pid"]) for r in reports.values()
    ]
    listening = [
        conn.laddr.ip
        for process in processes
        for conn in process.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert listening
    assert set(listening) == {"127.0.0.1"}
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    # Without a dashboard, nothing takes the dashboard's port 8787, where a
    # second run at the same time would warn that it is in use.
    ports = {
        conn.laddr.port
        for conn in psutil.Process().net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    }
    assert 8787 not in ports


def test_worker_plugin_limits_pools_loaded_before_it_and_ignores_sigint() -> None:
    """Check that the local worker plugin sets thread pools already loaded to one
    thread and makes the process ignore SIGINT."""
    import numpy as np  # noqa: F401
    from threadpoolctl import threadpool_info

    from hptaa_lab.execution._worker import local_worker_plugin

    plugin = local_worker_plugin()
    handler = signal.getsignal(signal.SIGINT)
    plugin.setup(worker=None)
    try:
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, handler)
        plugin.limits.restore_original_limits()  # type: ignore[attr-defined]


def test_worker_side_code_runs_without_importing_hptaa_lab() -> None:
    """Check that the objective wrapper and the worker plugin, as Dask pickles them,
    run in a fresh process that never imports hptaa_lab."""
    from distributed.protocol import pickle as dask_pickle

    from hptaa_lab.execution._worker import evaluation, local_worker_plugin

    payload = dask_pickle.dumps((evaluation(len), local_worker_plugin()))
    code = (
        "import sys\n"
        "from distributed.protocol import pickle\n"
        "evaluate, plugin = pickle.loads(sys.stdin.buffer.read())\n"
        "plugin.setup(None)\n"
        "print(evaluate({'x': 1, 'y': 2}), 'hptaa_lab' in sys.modules)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], input=payload, capture_output=True, check=True
    )

    assert done.stdout.decode().split() == ["(True,", "2)", "False"]


@pytest.mark.parametrize(
    ("sampler", "transfer"),
    [(name, None) for name in sampler_names()]
    + [("tpe", method) for method in transfer_names()]
    + [("gp", "best-first+t2pe")],
)
def test_pending_proposals_are_distinct_for_every_sampler_and_transfer_method(
    tmp_path: Path, sampler: str, transfer: str | None
) -> None:
    """Check that configurations asked while others are pending are all distinct,
    before and after the model takes over, and that best-first proposes its
    configuration once."""
    previous = None
    if transfer is not None:
        space = {k: v for k, v in DISCRETE.items() if k != "c"}
        previous = _study(tmp_path, "v0", space=space, sampler="random")
        for _ in range(12):
            trial = previous.ask()
            previous.tell(trial, _sum_discrete({**trial.config, "c": 0}))
    study = _study(
        tmp_path, space=DISCRETE, sampler=sampler, previous=previous, transfer=transfer
    )

    first = [study.ask() for _ in range(4)]
    for trial in first:
        study.tell(trial, _sum_discrete(trial.config))
    for _ in range(8):
        trial = study.ask()
        study.tell(trial, _sum_discrete(trial.config))
    pending = [study.ask() for _ in range(16)]

    told = {config_key(t.config) for t in first} | {
        config_key(t.config) for t in study.trials[4:12]
    }
    assert len(told) == 12
    assert len({config_key(t.config) for t in first}) == 4
    keys = [config_key(t.config) for t in pending]
    assert len(set(keys)) == 16
    assert not set(keys) & told
    best_first = [t.number for t in study.trials if t.proposed_by == "best-first"]
    assert len(best_first) == (1 if transfer and "best-first" in transfer else 0)


def test_parallel_run_proposes_no_duplicate_configurations(
    tmp_path: Path, client: Any
) -> None:
    """Check that a parallel run with four trials in flight evaluates each of the 12
    configurations of a small space exactly once."""
    study = _study(tmp_path, space=SMALL, sampler="random")

    study.optimize(_sum_discrete, n_trials=12, workers=4, scheduler=client)

    keys = [config_key(t.config) for t in study.trials]
    assert len(keys) == 12
    assert len(set(keys)) == 12
    assert set(_states(study)) == {TrialState.COMPLETE}


def test_objective_exception_fails_its_trial_and_the_study_goes_on(
    tmp_path: Path, client: Any
) -> None:
    """Check that a raising objective fails only its trial, with the worker's
    traceback text stored, and the other trials complete."""
    study = _study(tmp_path, sampler="random")

    study.optimize(_raise_on_low_x, n_trials=8, scheduler=client)

    assert len(study.trials) == 8
    for trial in study.trials:
        if trial.config["x"] < 0.5:
            assert trial.state == TrialState.FAIL
            assert trial.error is not None
            assert trial.error.startswith("Traceback (most recent call last):")
            assert "in _raise_on_low_x" in trial.error
            assert trial.error.rstrip().endswith(
                f"ValueError: learning rate {trial.config['x']:.3f} diverged"
            )
        else:
            assert trial.state == TrialState.COMPLETE
            assert trial.value == trial.config["x"]
    assert {t.state for t in study.trials} == {TrialState.FAIL, TrialState.COMPLETE}


def test_sys_exit_in_the_objective_fails_its_trial_not_the_worker(
    tmp_path: Path, client: Any
) -> None:
    """Check that sys.exit() or a KeyboardInterrupt raised by an objective on a
    worker fails that trial with the traceback (not as "worker died"), the
    workers live on and the other trials complete."""
    study = _study(tmp_path, sampler="random")
    workers_before = set(client.scheduler_info()["workers"])

    study.optimize(_exit_on_low_x, n_trials=8, scheduler=client)

    assert len(study.trials) == 8
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert failed and len(failed) < 8
    assert {t.config["x"] < 0.25 for t in failed} == {True, False}  # both kinds
    for trial in failed:
        assert trial.config["x"] < 0.5
        assert trial.error is not None and "worker died" not in trial.error
        if trial.config["x"] < 0.25:
            assert "SystemExit: 3" in trial.error
            assert "called sys.exit()" in trial.error
        else:
            assert "raised KeyboardInterrupt" in trial.error
    assert set(client.scheduler_info()["workers"]) == workers_before


def test_killed_worker_fails_its_trial_and_the_study_goes_on(
    tmp_path: Path, client: Any
) -> None:
    """Check that a worker process killed during a trial fails that trial with a
    message saying the worker died, and the remaining trials complete."""
    study = _study(tmp_path)

    study.optimize(functools.partial(_die_once, tmp_path), n_trials=5, scheduler=client)

    states = _states(study)
    assert len(states) == 5
    assert states.count(TrialState.FAIL) == 1
    assert states.count(TrialState.COMPLETE) == 4
    failed = next(t for t in study.trials if t.state == TrialState.FAIL)
    assert failed.error is not None
    assert failed.error.startswith("worker died: the Dask worker process running")
    assert "worker_retries=1" in failed.error


def test_a_worker_killed_by_its_trial_takes_no_other_trial_with_it(
    tmp_path: Path, client: Any
) -> None:
    """Check that only the trials whose objective killed the worker fail: while
    a worker restarts, no second trial waits on the other, busy worker (Dask
    queued one there, and it failed as "worker died" when that worker's own
    trial killed it too)."""
    study = _study(tmp_path, sampler="random", seed=2)

    study.optimize(_die_on_high_x, n_trials=10, scheduler=client)

    assert len(study.trials) == 10
    for trial in study.trials:
        if trial.config["x"] > 0.5:
            assert trial.state == TrialState.FAIL
            assert trial.error is not None and "worker died" in trial.error
        else:
            assert trial.state == TrialState.COMPLETE, trial.error
    assert any(t.state == TrialState.FAIL for t in study.trials)


def _die_on_high_x_slowly(config: dict[str, Any]) -> float:
    """Kill the worker when x > 0.7 (after 0.3 s); else x after 0.2 s."""
    if config["x"] > 0.7:
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)
    return config["x"]


def test_a_stop_leaves_no_trial_to_retry_running(tmp_path: Path, client: Any) -> None:
    """Check that a trial whose worker died and that waits to be retried ends
    failed when a stop comes first (it stayed RUNNING after the run returned),
    and that the store's file alone then holds every trial."""
    study = _study(tmp_path, sampler="random", seed=1)

    def stop_after_three(study: Study, trial: Any) -> None:
        if trial.number >= 3 and not study.stopping:
            study.stop()
            time.sleep(2)  # the retried trial's worker restarts meanwhile

    run_parallel(
        study,
        _die_on_high_x_slowly,
        n_trials=20,
        scheduler=client,
        callbacks=[stop_after_three],
        worker_retries=1,
    )

    assert study.trials and TrialState.RUNNING not in _states(study)
    assert any(t.config["x"] > 0.7 for t in study.trials)
    copy = tmp_path / "copy.db"
    shutil.copy(tmp_path / "s.db", copy)
    assert len(TrialStore(f"sqlite:///{copy}").get_trials("v1")) == len(study.trials)


def test_a_run_left_without_any_worker_stops_with_an_error(tmp_path: Path) -> None:
    """Check that after a worker died, a run on its own cluster whose workers do
    not come back stops with an error that says so, instead of waiting for ever
    (a retried trial waited 10 minutes without a word)."""
    from hptaa_lab.execution._dask import _Run

    class NoWorkersLeft:
        def scheduler_info(self) -> dict[str, Any]:
            starting = {"nthreads": 1, "status": "init"}
            return {"workers": {"tcp://127.0.0.1:1": starting}}

    run = _Run(_study(tmp_path), NoWorkersLeft(), None, 2, 0, [], give_up_s=0.05)
    run.short_of_workers = True

    assert run._room() == 1  # one trial may wait for a worker a while
    time.sleep(0.1)
    with pytest.raises(WorkersFailedToStartError, match="No Dask worker has been"):
        run._room()

    patient = _Run(_study(tmp_path, "v2"), NoWorkersLeft(), None, 2, 0, [])
    patient.short_of_workers = True
    patient._room()
    time.sleep(0.1)
    assert patient._room() == 1  # another cluster's workers may come later


def test_killed_worker_trial_is_submitted_again_when_retries_are_allowed(
    tmp_path: Path, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that with worker_retries=1 the trial whose worker died runs again and
    completes."""
    study = _study(tmp_path)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        run_parallel(
            study,
            functools.partial(_die_once, tmp_path),
            n_trials=5,
            scheduler=client,
            worker_retries=1,
        )

    assert _states(study) == [TrialState.COMPLETE] * 5
    assert all(t.value == t.config["x"] for t in study.trials)
    retried = [r for r in caplog.records if "submitting the trial again" in r.message]
    assert len(retried) == 1
    assert "(attempt 2 of 2)" in retried[0].message


def test_run_parallel_records_its_run_as_optimize_does(
    tmp_path: Path, client: Any
) -> None:
    """Check that run_parallel, called directly (for options optimize does not
    take), records its run in the store while it lasts, as optimize does, so
    that `hptaa delete` sees it between two trials; and that optimize's own call
    of it records one run, not two."""
    study = _study(tmp_path)
    seen: list[int] = []

    def count_runs(study: Study, trial: Any) -> None:
        seen.append(len(study.store.run_owners(study.name)))

    run_parallel(
        study, _quadratic, n_trials=3, scheduler=client, callbacks=[count_runs]
    )
    assert seen == [1, 1, 1]
    assert study.store.run_owners(study.name) == []

    seen.clear()
    study.optimize(_quadratic, n_trials=2, scheduler=client, callbacks=[count_runs])
    assert seen == [1, 1]
    assert study.store.run_owners(study.name) == []


@pytest.fixture
def stopped(tmp_path: Path, client: Any) -> tuple[Study, list[Any], float]:
    """A study stopped from another thread while two trials were in flight: the
    study, its trials right after the stop, and how long optimize took."""
    study = _study(tmp_path)
    _when_holding(study, tmp_path, study.stop)

    started = time.monotonic()
    study.optimize(
        functools.partial(_fast_then_hold, tmp_path), n_trials=20, scheduler=client
    )
    elapsed = time.monotonic() - started
    (tmp_path / "release").touch()
    return study, study.trials, elapsed


def test_stop_mid_run_cancels_trials_in_flight_and_keeps_finished_ones(
    stopped: tuple[Study, list[Any], float],
) -> None:
    """Check that Study.stop during a parallel run returns without waiting for the
    trials in flight, fails them as cancelled and keeps every finished trial."""
    study, trials, elapsed = stopped

    assert elapsed < 10
    states = [t.state for t in trials]
    assert len(states) < 20
    assert states.count(TrialState.COMPLETE) == 3
    assert TrialState.RUNNING not in states
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert failed
    for trial in failed:
        assert trial.error == (
            "cancelled: the study was stopped before this trial finished"
        )
    assert study.store.get_trials(study.name) == trials


def test_a_stop_passes_the_cancelled_trials_to_the_callbacks(
    tmp_path: Path, client: Any
) -> None:
    """Check that the callbacks (a notebook's live view, say) see every trial a
    stop ends, the cancelled ones included, as they see every other."""
    study = _study(tmp_path)
    _when_holding(study, tmp_path, study.stop)
    told: list[int] = []

    study.optimize(
        functools.partial(_fast_then_hold, tmp_path),
        n_trials=20,
        scheduler=client,
        callbacks=[lambda s, t: told.append(t.number)],
    )
    (tmp_path / "release").touch()

    assert any(t.state == TrialState.FAIL for t in study.trials)
    assert sorted(told) == [t.number for t in study.trials]


def test_stopped_study_resumes_with_one_worker(
    stopped: tuple[Study, list[Any], float],
) -> None:
    """Check that a study stopped during a parallel run loads with its trials and
    goes on in-process with workers=1, numbering after the last trial."""
    study, trials, _ = stopped

    resumed = load_study(study.name, study.store)
    assert resumed.trials == trials
    resumed.optimize(_quadratic, n_trials=3, workers=1)

    assert resumed.trials[: len(trials)] == trials
    added = resumed.trials[len(trials) :]
    assert [t.number for t in added] == [len(trials), len(trials) + 1, len(trials) + 2]
    assert {t.state for t in added} == {TrialState.COMPLETE}
    assert [t.state for t in study.store.get_trials(study.name)] == _states(resumed)


def test_timeout_starts_no_trial_after_the_deadline(
    tmp_path: Path, client: Any
) -> None:
    """Check that a parallel run with a timeout starts trials only before the
    deadline and lets the trials in flight finish."""
    study = _study(tmp_path)
    start = datetime.now(UTC)

    study.optimize(_sleep_then_quadratic, n_trials=50, timeout=1.0, scheduler=client)

    assert 2 <= len(study.trials) < 50
    assert set(_states(study)) == {TrialState.COMPLETE}
    last_start = max(t.started_at for t in study.trials if t.started_at)
    assert last_start <= start + timedelta(seconds=1.5)


def test_scheduler_address_and_client_are_used_and_left_running(
    tmp_path: Path, client: Any
) -> None:
    """Check that a scheduler address and a Client both run trials on that cluster,
    and that neither the user's client nor its cluster is closed afterwards."""
    study = _study(tmp_path)
    address = client.scheduler.address

    study.optimize(_quadratic, n_trials=3, scheduler=address)
    study.optimize(_quadratic, n_trials=3, scheduler=client)

    assert _states(study) == [TrialState.COMPLETE] * 6
    assert client.status == "running"
    assert client.submit(sum, [1, 2], pure=False).result() == 3


def test_callbacks_run_in_the_driver_after_every_trial(
    tmp_path: Path, client: Any
) -> None:
    """Check that callbacks get the study and each finished trial, in the thread
    that called optimize."""
    study = _study(tmp_path)
    seen: list[tuple[int, int, TrialState]] = []

    def callback(got: Study, trial: Any) -> None:
        assert got is study
        seen.append((threading.get_ident(), trial.number, trial.state))

    study.optimize(_quadratic, n_trials=5, scheduler=client, callbacks=[callback])

    assert sorted(number for _, number, _ in seen) == [0, 1, 2, 3, 4]
    assert {ident for ident, _, _ in seen} == {threading.get_ident()}
    assert {state for _, _, state in seen} == {TrialState.COMPLETE}


# -- errors before any trial ---------------------------------------------------------


def _with_lock(lock: Any, config: dict[str, Any]) -> float:
    with lock:
        return config["x"]


def test_objective_that_cannot_be_pickled_is_refused_before_any_trial(
    tmp_path: Path,
) -> None:
    """Check that an objective holding a lock is refused with a clear error and no
    trial is started, and that the study, created here and still empty, is
    removed so that the fixed code can create it again (one with trials stays)."""
    study = _study(tmp_path)
    objective = functools.partial(_with_lock, threading.Lock())

    with pytest.raises(
        ObjectiveNotPicklableError,
        match=r"cannot be pickled, so it cannot be sent to Dask workers: TypeError: "
        r"cannot pickle '_thread.lock' object\. Create .* The study 'v1' that this "
        r"code created had no trial yet and was removed, so the fixed code can "
        r"create it again \(in this session too: call create_study again",
    ):
        study.optimize(objective, n_trials=4, workers=2)
    assert study.trials == []
    assert not study.store.has_study("v1")
    # In the same session, the removed study's object says what to do (it said
    # "No study named 'v1'", suggesting another study).
    with pytest.raises(StoreError, match=r"Create it again with create_study\('v1'"):
        study.optimize(_quadratic, n_trials=1)

    kept = _study(tmp_path)
    kept.optimize(_quadratic, n_trials=1)
    with pytest.raises(ObjectiveNotPicklableError, match=r"run with workers=1\.$"):
        kept.optimize(objective, n_trials=4, workers=2)
    assert kept.store.has_study("v1")


def test_missing_dask_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that without distributed installed, parallel evaluation raises an
    ImportError that names the extra to install."""
    monkeypatch.setitem(sys.modules, "distributed", None)
    study = _study(tmp_path)

    with pytest.raises(
        DaskNotInstalledError, match=r"`pip install hptaa_lab\[bench\]`"
    ) as raised:
        study.optimize(_quadratic, n_trials=2, workers=2)
    assert isinstance(raised.value, ImportError)
    assert study.trials == []


def test_scheduler_of_unknown_kind_is_refused(tmp_path: Path) -> None:
    """Check that a scheduler that is neither an address nor a Client is refused."""
    study = _study(tmp_path)

    with pytest.raises(
        InvalidSchedulerError,
        match=r"scheduler must be None, a Dask scheduler address such as "
        r"'tcp://127.0.0.1:8786', or a distributed.Client; got int 8786.",
    ):
        study.optimize(_quadratic, n_trials=2, scheduler=8786)


def test_unreachable_scheduler_address_raises(tmp_path: Path) -> None:
    """Check that an address where no scheduler listens gives a connection error
    that says what to do."""
    import dask

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    study = _study(tmp_path)

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(
            SchedulerUnreachableError,
            match=rf"Could not connect to the Dask scheduler at "
            rf"'tcp://127.0.0.1:{port}'",
        ),
    ):
        study.optimize(_quadratic, n_trials=2, scheduler=f"tcp://127.0.0.1:{port}")
    assert study.trials == []


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({"n_trials": -3}, "n_trials must be a non-negative int"),
        ({"n_trials": 2.5}, "n_trials must be a non-negative int"),
        ({"timeout": -1}, "timeout must be a non-negative number"),
        ({}, "run_parallel needs n_trials or timeout"),
    ],
)
def test_run_parallel_checks_its_budget_as_optimize_does(
    tmp_path: Path, budget: dict[str, Any], message: str
) -> None:
    """Check that run_parallel refuses a budget optimize refuses (it returned
    with no trial for n_trials=-3 and ran 3 for 2.5), before any cluster."""
    study = _study(tmp_path)

    with pytest.raises(ValueError, match=message):
        run_parallel(study, _quadratic, workers=2, **budget)
    assert study.trials == []


@pytest.mark.parametrize("retries", [-1, 1.5, True])
def test_worker_retries_must_be_a_non_negative_int(
    tmp_path: Path, retries: Any
) -> None:
    """Check that run_parallel refuses a worker_retries that is not an int >= 0."""
    study = _study(tmp_path)

    with pytest.raises(
        ValueError,
        match=rf"worker_retries must be a non-negative int; got {retries!r}\.",
    ):
        run_parallel(study, _quadratic, n_trials=1, workers=2, worker_retries=retries)


def test_importing_execution_leaves_dask_unimported(loaded_by_import) -> None:
    """Check that importing hptaa_lab.execution imports neither dask nor
    distributed; they load only when a parallel run starts."""
    assert loaded_by_import("hptaa_lab.execution", {"dask", "distributed"}) == []


def test_ctrl_c_during_the_first_import_of_distributed_spoils_no_later_run(
    tmp_path: Path,
) -> None:
    """Check that a Ctrl-C arriving while a parallel run imports Dask for
    the first time stops that run, and that the next parallel run of the process
    works: a KeyboardInterrupt in the middle of the import would leave
    half-initialised modules behind."""
    code = (
        "import importlib.abc, os, signal, sys\n"
        # As in a terminal, also when the tests run as a background job (which
        # starts every process with SIGINT ignored).
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from hptaa_lab import create_study\n"
        "class Interrupt(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'dask._expr':\n"
        "            sys.meta_path.remove(self)\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "        return None\n"
        "assert 'dask' not in sys.modules\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        f"url = 'sqlite:///{tmp_path / 's.db'}'\n"
        "study = create_study('s', space={'x': (0.0, 1.0)}, store=url, seed=0)\n"
        "try:\n"
        "    study.optimize(lambda c: c['x'], n_trials=2, workers=2)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
        "study.optimize(lambda c: c['x'], n_trials=2, workers=2)\n"
        "print(sum(t.state.name == 'COMPLETE' for t in study.trials))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["interrupted", "2"]


@pytest.mark.parametrize("verbose", [False, True])
def test_dask_logs_below_warning_only_when_hptaa_lab_logs_info(
    tmp_path: Path, verbose: bool
) -> None:
    """Check that a parallel run under a WARNING root logger (the CLI's default)
    prints none of distributed's INFO lines, about a hundred for a short run,
    and that they come back when hptaa_lab logs at INFO (hptaa -v)."""
    level = "INFO" if verbose else "WARNING"
    code = (
        "import logging\n"
        f"logging.basicConfig(level=logging.{level}, "
        "format='%(levelname)s %(name)s: %(message)s')\n"
        "from hptaa_lab import create_study\n"
        f"url = 'sqlite:///{tmp_path / 's.db'}'\n"
        "study = create_study('s', space={'x': (0.0, 1.0)}, store=url, seed=0)\n"
        "study.optimize(lambda c: c['x'], n_trials=2, workers=2)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert ("INFO distributed.scheduler" in done.stderr) == verbose


def test_a_stop_that_kills_busy_workers_adds_no_dask_warnings(tmp_path: Path) -> None:
    """Check that stopping a run whose workers are busy leaves the log with the
    cancelled trials only: distributed's warnings that it cancelled the tasks
    and killed the workers (what a stop does on purpose) stay out."""
    code = (
        "import threading, time\n"
        "from hptaa_lab import create_study\n"
        "def slow(c):\n"
        "    time.sleep(60)\n"
        "    return c['x']\n"
        f"url = 'sqlite:///{tmp_path / 's.db'}'\n"
        "study = create_study('s', space={'x': (0.0, 1.0)}, store=url, seed=0)\n"
        "def stop_when_busy():\n"
        "    while len(study.store.get_trials('s')) < 2:\n"
        "        time.sleep(0.1)\n"
        "    time.sleep(1.0)\n"
        "    study.stop()\n"
        "threading.Thread(target=stop_when_busy, daemon=True).start()\n"
        "study.optimize(slow, n_trials=4, workers=2)\n"
        "print(sorted(t.state.name for t in study.trials))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['FAIL',", "'FAIL']"]
    assert "cancelled: the study was stopped" in done.stderr
    assert "WARNING" not in done.stderr, done.stderr


def test_any_error_while_the_workers_start_is_a_failed_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that an error other than distributed's "failed to start" while the
    local cluster starts (an IPython tearing down its __main__ as it exits, say)
    is a WorkersFailedToStartError naming it, and removes the empty study."""
    import distributed

    def broken(*args: Any, **kwargs: Any) -> None:
        raise AttributeError("module '__main__' has no attribute '__spec__'")

    monkeypatch.setattr(distributed, "LocalCluster", broken)
    study = _study(tmp_path)

    with pytest.raises(
        WorkersFailedToStartError,
        match=r"could not start its worker processes: AttributeError: module "
        r"'__main__' has no attribute '__spec__'.*had no trial yet and was removed",
    ):
        study.optimize(_quadratic, n_trials=2, workers=2)
    assert not study.store.has_study("v1")
