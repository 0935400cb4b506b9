"""Evaluate trials in parallel on a Dask cluster while the study stays in the driver.

The driver keeps up to ``workers`` trials in flight: it asks the study for a
configuration, submits the objective and that configuration to the cluster, tells
the study each result as it arrives, and asks for the next one. Only the objective
and configurations travel; the study, its sampler and the trial store stay here.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import queue
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hptaa_lab._interrupts import interrupts_deferred
from hptaa_lab.execution import _template
from hptaa_lab.execution._errors import (
    DaskNotInstalledError,
    InvalidSchedulerError,
    ObjectiveNotPicklableError,
    SchedulerUnreachableError,
    WorkersFailedToStartError,
)
from hptaa_lab.execution._mainguard import GUARD_HINT, ipython_script_hidden
from hptaa_lab.records import TrialRecord

if TYPE_CHECKING:
    from hptaa_lab.study import Study

__all__ = ["local_cluster", "run_parallel"]

logger = logging.getLogger(__name__)

# How often (seconds) the driver looks at Study.stop while it waits for results.
POLL_S = 0.1
# Seconds a worker of a local cluster gets to exit, once trials were cancelled,
# before it is killed (after 80% of them).
WORKER_CLOSE_S = 0.5

RESTART_WAIT_S = 5.0
"""Seconds a local cluster waits, before it closes, for a worker that is being
started again (its last trial killed it)."""

WORKERS_GONE_S = 60.0
"""Seconds a run on its own local cluster waits with no worker running (one died
and its nanny did not start it again) before it stops with an error."""

Callback = Callable[["Study", TrialRecord], None]

# Dask settings of a local cluster without a dashboard, whose figures only the
# dashboard shows. With Dask's defaults the statistical profiler samples the
# running trial's stack every 10 ms (about a sixth of a trial's CPU time), and an
# idle cluster of two workers keeps about a tenth of a core busy (event-loop ticks
# every 20 ms, system monitors every 0.5 s, memory monitors every 0.1 s), CPU that
# the trials lose on a machine with as many cores as workers.
QUIET_HOUSEKEEPING = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def run_parallel(
    study: Study,
    objective: Callable[[dict[str, Any]], Any],
    n_trials: int | None = None,
    timeout: float | None = None,
    workers: int | None = None,
    callbacks: Sequence[Callback] = (),
    scheduler: Any = None,
    *,
    worker_retries: int = 0,
    dashboard_address: str | None = None,
    worker_template: bool = True,
) -> None:
    """Evaluate trials of ``study`` several at a time on a Dask cluster.

    :meth:`Study.optimize` calls this for ``workers > 1`` or a ``scheduler``; call
    it directly for the options optimize does not take. Without a scheduler it
    starts a local cluster of ``workers`` processes (see :func:`local_cluster`)
    and closes it when done.

    Faults: an objective that raises fails its trial (the traceback is stored)
    and the run goes on; a worker process that dies fails its trial (after
    ``worker_retries`` new attempts) and the run goes on with the remaining
    workers. :meth:`Study.stop` and Ctrl-C cancel the trials in flight (their
    trials fail as "cancelled"), keep every finished trial and close a cluster
    this function started; Ctrl-C is re-raised.

    Args:
        study: The study; it stays in this process.
        objective: Takes a configuration dict, returns the objective value; it
            must be picklable (cloudpickle handles closures and lambdas).
        n_trials: Number of trials to run; None runs until timeout or stop.
        timeout: Seconds after which no new trial starts; trials in flight
            finish.
        workers: Trials in flight, and without a scheduler the number of local
            worker processes (None: one per CPU core). With a scheduler, None or
            1 means one trial per worker thread of the cluster.
        callbacks: Called as ``callback(study, trial)`` after every trial.
        scheduler: None (start a local cluster), a scheduler address such as
            ``"tcp://127.0.0.1:8786"``, or a ``distributed.Client``, which is
            used as it is and never closed.
        worker_retries: How many times a trial whose worker died is submitted
            again before it fails.
        dashboard_address: Address of the dashboard of the local cluster, e.g.
            ``"127.0.0.1:8787"``; None (default) starts none.
        worker_template: Fork the local cluster's workers from the worker
            template (default); False starts each as a fresh interpreter.

    Raises:
        DaskNotInstalledError: If dask or distributed is not installed.
        ObjectiveNotPicklableError: If the objective cannot be pickled.
        InvalidSchedulerError: If ``scheduler`` is of an unknown kind.
        SchedulerUnreachableError: If the scheduler cannot be reached or the
            connection to it is lost.
        KeyboardInterrupt: Re-raised after the cleanup described above.
    """
    from hptaa_lab.study import check_budget

    check_budget(n_trials, timeout, "run_parallel")
    _check_arguments(workers, worker_retries)
    _check_installed()
    # Recorded in the store as optimize's runs are (none of its own inside one).
    with ipython_script_hidden(), study._recorded_run():
        try:
            _run_parallel(
                study,
                objective,
                n_trials,
                timeout,
                workers,
                callbacks,
                scheduler,
                worker_retries,
                dashboard_address,
                worker_template,
            )
        finally:
            # As optimize does at its end: the database file itself holds the
            # run (see TrialStore.checkpoint).
            study.store.checkpoint()


def _run_parallel(
    study: Study,
    objective: Callable[[dict[str, Any]], Any],
    n_trials: int | None,
    timeout: float | None,
    workers: int | None,
    callbacks: Sequence[Callback],
    scheduler: Any,
    worker_retries: int,
    dashboard_address: str | None,
    worker_template: bool,
) -> None:
    """run_parallel, its arguments checked."""
    runs = n_trials != 0 and (timeout is None or timeout > 0)
    method = None
    if runs:
        _check_picklable(objective)
        if scheduler is None:
            # First of all, so that the template imports while the driver imports
            # distributed and starts the scheduler.
            method = _template.start([objective]) if worker_template else "spawn"
    distributed = _import_distributed()
    _check_scheduler(distributed, scheduler)
    if not runs:
        return
    from hptaa_lab.execution._worker import evaluation

    evaluate = evaluation(objective)
    deadline = None if timeout is None else time.monotonic() + timeout
    with _client(distributed, scheduler, workers, dashboard_address, method) as (
        client,
        owned,
    ):
        slots = _slots(client, scheduler, workers)
        logger.info(
            "study %s: evaluating up to %d trials at a time on Dask scheduler %s",
            study.name,
            slots,
            client.scheduler.address,
        )
        run = _Run(
            study,
            client,
            evaluate,
            slots,
            worker_retries,
            callbacks,
            # Only a cluster of our own is known to restart dead workers at once.
            give_up_s=None if owned is None else WORKERS_GONE_S,
        )
        run.run(n_trials, deadline)
        if owned is not None and not run.cancelled:
            owned.force_close = False


@contextlib.contextmanager
def local_cluster(
    workers: int | None = None,
    *,
    preload: Sequence[Callable[..., Any] | str] = (),
    dashboard_address: str | None = None,
    worker_template: bool = True,
) -> Iterator[Any]:
    """Start a Dask cluster of worker processes on this machine; yield its Client.

    Each worker is a process with one thread and one BLAS/OpenMP thread, and
    listens on 127.0.0.1 only. The thread settings go into the workers'
    environment; the driver's own environment is left as it is. Without a
    dashboard, workers run without Dask's statistical profiler and with slower
    housekeeping (see ``QUIET_HOUSEKEEPING``). Where the
    platform has a forkserver, workers are forked from the worker template, a
    process that has imported distributed, the driver script's imports and the
    modules of ``preload`` (see docs/parallel.md). A task whose worker dies
    fails at once (the driver decides about retries). Leaving the block closes
    the client and the cluster; when it is left by an exception, a worker still
    running a task is killed instead of waited for. Pass the client as
    ``scheduler`` to run several studies on one cluster.

    Args:
        workers: Number of worker processes (None: one per CPU core).
        preload: Objectives the cluster will run, or module names: the worker
            template imports the modules they import, if it is not running yet.
        dashboard_address: Address of the dashboard, e.g. ``"127.0.0.1:8787"``;
            None (default) starts none (the scheduler's few HTTP pages, /health
            and /metrics, then listen on a free port of 127.0.0.1).
        worker_template: Fork the workers from the worker template (default);
            False starts each as a fresh interpreter.

    Yields:
        A ``distributed.Client`` connected to the cluster.

    Raises:
        DaskNotInstalledError: If dask or distributed is not installed.
    """
    _check_installed()
    hidden = contextlib.ExitStack()
    hidden.enter_context(ipython_script_hidden())
    try:
        method = _template.start(preload) if worker_template else "spawn"
        cluster = _LocalCluster(workers, dashboard_address, method)
    except BaseException:
        hidden.close()
        raise
    try:
        yield cluster.client
        cluster.force_close = False
    finally:
        try:
            cluster.close()
        finally:
            hidden.close()


class _LocalCluster:
    """A local cluster and its client, closed together.

    ``force_close`` (True until the user of the cluster clears it) kills workers
    still busy after a short grace period: Dask cannot interrupt a running
    objective, and a graceful close would wait for cancelled trials to return.
    """

    def __init__(
        self, workers: int | None, dashboard_address: str | None, method: str
    ) -> None:
        distributed = _import_distributed()
        import dask

        from hptaa_lab.execution._worker import (
            BLAS_ENV,
            local_worker_plugin,
            template_report,
        )

        self.n_workers = workers if workers is not None else os.cpu_count() or 1
        self.force_close = True
        if method == "forkserver":
            _template.keep_preload(distributed)
        with dask.config.set(_cluster_config(method, dashboard_address, BLAS_ENV)):
            try:
                self.cluster = distributed.LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=dashboard_address,
                    scheduler_kwargs=_scheduler_kwargs(dashboard_address),
                    env=dict(BLAS_ENV),
                )
            except RuntimeError as exc:
                if "failed to start" not in str(exc):
                    raise
                # The workers' own errors went to stderr above; the usual cause
                # is a script whose top level creates or runs a study.
                raise WorkersFailedToStartError(
                    "The Dask worker processes failed to start (their errors are "
                    "printed above). If the script creates or runs a study at its "
                    f"top level, that is why. {GUARD_HINT}"
                ) from exc
            except Exception as exc:
                # E.g. the interpreter tearing down while the workers start
                # (an IPython that exits right after starting a run): no trial
                # ran, so this is a failed start too, and the empty study goes.
                raise WorkersFailedToStartError(
                    "The local Dask cluster could not start its worker processes: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        try:
            self.client = distributed.Client(self.cluster, set_as_default=False)
            self.client.register_plugin(
                local_worker_plugin(), name="hptaa-local-worker-setup"
            )
            if method == "forkserver":
                _template.report(self.client, template_report(_template.PRELOAD))
        except BaseException:
            self.cluster.close()
            raise
        logger.info(
            "started a local Dask cluster of %d worker processes (%s) at %s",
            self.n_workers,
            "forked from the worker template" if method == "forkserver" else method,
            self.cluster.scheduler_address,
        )

    def close(self) -> None:
        """Close the client, then the workers and the scheduler.

        After a normal end, a worker that a trial killed near the end is given a
        few seconds to be back first: closing while its nanny starts it again
        made distributed raise "can only join a started process" after every
        trial had finished. A close that fails anyway is logged, not raised:
        the run's trials are all stored by then.
        """
        address = self.cluster.scheduler_address
        try:
            if not self.force_close:
                self._wait_for_workers(RESTART_WAIT_S)
            self.client.close()
        finally:
            if self.force_close:
                _kill_busy_workers(self.cluster)
            try:
                self.cluster.close()
            except Exception as exc:
                logger.warning(
                    "the local Dask cluster at %s did not close cleanly (%s: %s)",
                    address,
                    type(exc).__name__,
                    exc,
                )
        logger.info("closed the local Dask cluster at %s", address)

    def _wait_for_workers(self, seconds: float) -> None:
        """Wait up to ``seconds`` until every worker process is running."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(Exception):
            # One thread per worker: as many running threads as workers.
            while _running_threads(self.client) < self.n_workers:
                if time.monotonic() >= deadline:
                    return
                time.sleep(POLL_S)


def _scheduler_kwargs(dashboard_address: str | None) -> dict[str, Any]:
    """Scheduler settings of a local cluster: a task whose worker dies fails at
    once. Without a dashboard the scheduler still serves a few HTTP pages
    (/health, /metrics); they listen on a free port of 127.0.0.1, not on the
    dashboard's 8787, so that runs at the same time do not compete for it."""
    kwargs: dict[str, Any] = {"allowed_failures": 0}
    if dashboard_address is None:
        kwargs.update(dashboard=False, dashboard_address="127.0.0.1:0")
    return kwargs


def _cluster_config(
    method: str, dashboard_address: str | None, blas_env: dict[str, str]
) -> dict[str, Any]:
    """Dask settings while a local cluster starts; its nannies keep them for the
    workers they start, also later."""
    # distributed would also copy these into the driver's environment before it
    # spawns a worker; the workers get them from env= instead.
    config: dict[str, Any] = {
        f"distributed.nanny.pre-spawn-environ.{k}": None for k in blas_env
    }
    # Read in the driver when a worker process starts: a worker that replaces a
    # dead one later starts with the method of the global config (spawn by
    # default).
    config["distributed.worker.multiprocessing-method"] = method
    if dashboard_address is None:
        config.update(QUIET_HOUSEKEEPING)
    return config


def _kill_busy_workers(cluster: Any) -> None:
    """Close every worker process, killing one that has not exited after
    ``WORKER_CLOSE_S``."""

    async def close_all() -> None:
        await asyncio.gather(
            *(
                nanny.close(timeout=WORKER_CLOSE_S, reason="hptaa-cancelled")
                for nanny in list(cluster.workers.values())
            ),
            return_exceptions=True,
        )

    # Killing a busy worker is the point here; distributed warns of each kill.
    nanny = logging.getLogger("distributed.nanny")
    nanny.addFilter(_drop_kills)
    try:
        cluster.sync(close_all)
    except Exception:
        logger.exception(
            "could not close the workers of %s; closing the cluster",
            cluster.scheduler_address,
        )
    finally:
        nanny.removeFilter(_drop_kills)


def _drop_kills(record: logging.LogRecord) -> bool:
    """Logging filter: False for distributed's warning that it killed a worker
    still busy when closed."""
    return "still alive after" not in record.getMessage()


_AGAIN = object()
"""What ``_Run._next_done`` returns to have the slots filled again."""


def _running_threads(client: Any) -> int:
    """Threads of the workers that run tasks now: a worker that has just joined
    (status "init") is left out, as the scheduler gives it no task yet."""
    workers = client.scheduler_info()["workers"].values()
    return sum(w["nthreads"] for w in workers if w.get("status") == "running")


@dataclass
class _Job:
    """A trial in flight and how often it was submitted."""

    trial: TrialRecord
    attempts: int = 1


class _Run:
    """The driver loop: keep ``slots`` trials in flight until done, stopped or
    interrupted."""

    def __init__(
        self,
        study: Study,
        client: Any,
        evaluate: Any,
        slots: int,
        worker_retries: int,
        callbacks: Sequence[Callback],
        give_up_s: float | None = None,
    ) -> None:
        from distributed import KilledWorker

        self.study = study
        self.client = client
        self.evaluate = evaluate
        self.slots = slots
        self.worker_retries = worker_retries
        self.callbacks = list(callbacks)
        self.killed_worker = KilledWorker
        self.in_flight: dict[Any, _Job] = {}
        # Trials asked but not told yet, including one between ask and submit.
        self.open: dict[int, TrialRecord] = {}
        self.done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Finished futures, released right after the next submit (see _submit).
        self.told: list[Any] = []
        self.started = 0
        # Trials cancelled while their objective may still be running.
        self.cancelled = 0
        # Trials whose worker died, to submit again (worker_retries).
        self.again: list[_Job] = []
        # Since a worker died and until as many threads are back: Dask would
        # queue a trial on a busy worker meanwhile, and fail it with that
        # worker if the objective running there kills it too.
        self.short_of_workers = False
        # Seconds without any worker after which the run fails (None: waits).
        self.give_up_s = give_up_s
        self.no_workers_since: float | None = None

    def run(self, n_trials: int | None, deadline: float | None) -> None:
        """Run until ``n_trials`` trials started and finished, the deadline, or
        a stop; cancel what is in flight on stop or on any exception."""
        try:
            while True:
                self._fill(n_trials, deadline)
                if not self.in_flight:
                    if self.again:
                        # Trials to retry that a stop or the deadline kept from
                        # starting again: they end failed, not left RUNNING.
                        self._cancel_all(
                            "the study was stopped"
                            if self.study.stopping
                            else "the run's time ran out",
                            callbacks=True,
                        )
                    return
                future = self._next_done()
                if future is _AGAIN:
                    continue
                if future is None:
                    self._cancel_all("the study was stopped", callbacks=True)
                    return
                self._finish(future, callbacks=True)
                self.told.append(future)
                del future
        except BaseException as exc:
            reason = (
                "interrupted by the user (KeyboardInterrupt)"
                if isinstance(exc, KeyboardInterrupt)
                else f"optimize raised {type(exc).__name__}"
            )
            self._cancel_all(reason, callbacks=False)
            raise

    def _fill(self, n_trials: int | None, deadline: float | None) -> None:
        room = self._room()
        while self.again and len(self.in_flight) < room and not self.study.stopping:
            self._submit(self.again.pop(0))
        while len(self.in_flight) < room and not self.study.stopping:
            if n_trials is not None and self.started >= n_trials:
                return
            if deadline is not None and time.monotonic() >= deadline:
                return
            trial = self.study.ask()
            self.open[trial.number] = trial
            self.started += 1
            self._submit(_Job(trial))

    def _submit(self, job: _Job) -> None:
        key = f"hptaa-trial-{job.trial.number}-{uuid.uuid4().hex[:12]}"
        future = self.client.submit(self.evaluate, job.trial.config, key=key)
        self.in_flight[future] = job
        future.add_done_callback(self.done.put)
        # Releasing a future sends a message on the client's batched stream, which
        # sends at most once every 10 ms: a release just before the submit would
        # hold the submit back; just after it, the release waits instead.
        self.told.clear()

    def _room(self) -> int:
        """How many trials may be in flight now: the slots, or after a worker
        died, the threads of the workers alive (at least one) until the slots'
        worth is back."""
        if not self.short_of_workers:
            return self.slots
        threads = _running_threads(self.client)
        if threads >= self.slots:
            self.short_of_workers = False
        if threads:
            self.no_workers_since = None
        elif self.no_workers_since is None:
            self.no_workers_since = time.monotonic()
        elif (
            self.give_up_s is not None
            and time.monotonic() - self.no_workers_since > self.give_up_s
        ):
            raise WorkersFailedToStartError(
                f"No Dask worker has been running for {self.give_up_s:.0f} s since "
                "one died (its nanny could not start it again), so the run "
                "stopped: the trials in flight are marked failed, every finished "
                "trial is kept. Run optimize again to go on."
            )
        return max(1, min(self.slots, threads))

    def _next_done(self) -> Any | None:
        """The next finished future of ours, None once a stop was requested, or
        ``_AGAIN`` after a while when workers may have come back since."""
        while True:
            try:
                future = self.done.get(timeout=POLL_S)
            except queue.Empty:
                if self.study.stopping:
                    return None
                if self.short_of_workers:
                    return _AGAIN
                continue
            if future in self.in_flight:
                return future

    def _finish(self, future: Any, *, callbacks: bool, retry: bool = True) -> None:
        job = self.in_flight.pop(future)
        outcome = self._outcome(future, job, retry)
        if outcome is None:
            return
        value, error = outcome
        finished = self._tell(job.trial, value, error=error)
        if future.status not in ("finished", "error") and not self.study.stopping:
            self._check_connected()
        if callbacks:
            for callback in self.callbacks:
                callback(self.study, finished)

    def _outcome(
        self, future: Any, job: _Job, retry: bool
    ) -> tuple[Any, str | None] | None:
        """``(value, error)`` to tell, or None when the trial was submitted again."""
        status = future.status
        if status == "finished":
            ok, payload = _result(future)
            return (payload, None) if ok else (None, payload)
        if status != "error":
            if self.study.stopping:
                return (
                    None,
                    "cancelled: the study was stopped before this trial finished",
                )
            return None, f"cancelled: the Dask cluster dropped this trial ({status})"
        exc = future.exception()
        if not isinstance(exc, self.killed_worker):
            tb = future.traceback()
            return None, "".join(traceback.format_exception(type(exc), exc, tb))
        self.short_of_workers = True
        if retry and job.attempts <= self.worker_retries:
            self._retry(job, exc)
            return None
        return None, _died_message(exc, job)

    def _tell(
        self, trial: TrialRecord, value: Any = None, *, error: str | None = None
    ) -> TrialRecord:
        self.open.pop(trial.number, None)
        return self.study.tell(trial, value, error=error)

    def _retry(self, job: _Job, exc: Any) -> None:
        job.attempts += 1
        logger.warning(
            "study %s: the worker %s running trial %d died; submitting the trial "
            "again (attempt %d of %d)",
            self.study.name,
            _worker_address(exc),
            job.trial.number,
            job.attempts,
            self.worker_retries + 1,
        )
        self.again.append(job)

    def _check_connected(self) -> None:
        if self.client.status not in ("running", "connecting"):
            # A closed client has no scheduler left to name.
            scheduler = getattr(self.client.scheduler, "address", None)
            raise SchedulerUnreachableError(
                "Lost the connection to the Dask scheduler"
                + (f" at {scheduler}" if scheduler else "")
                + " (client status "
                f"{self.client.status!r}); the trials in flight were cancelled. "
                "Check that the cluster is still up, then resume the study with "
                "load_study(...) and optimize again."
            )

    def _cancel_all(self, reason: str, *, callbacks: bool) -> None:
        """Keep results that already arrived, cancel the rest, fail their trials."""
        self.again.clear()  # their trials are in self.open: failed below
        for future in [f for f in self.in_flight if f.done()]:
            try:
                self._finish(future, callbacks=callbacks, retry=False)
            except Exception:
                if callbacks:
                    raise
                logger.exception(
                    "study %s: could not keep a finished trial", self.study.name
                )
        pending = list(self.in_flight)
        self.in_flight.clear()
        self.cancelled += len(pending)
        if pending:
            with contextlib.suppress(Exception):
                self.client.cancel(pending)
        for trial in list(self.open.values()):
            try:
                finished = self._tell(
                    trial, error=f"cancelled: {reason} before this trial finished"
                )
                if callbacks:
                    # A stop: the cancelled trials are finished (failed) trials
                    # like any other, e.g. for a live view that counts them.
                    for callback in self.callbacks:
                        callback(self.study, finished)
            except Exception:
                # The original error is what the caller needs; a trial left RUNNING
                # is marked failed by load_study once this process has ended.
                logger.exception(
                    "study %s: could not mark trial %d as cancelled",
                    self.study.name,
                    trial.number,
                )
        if pending:
            logger.info(
                "study %s: cancelled %d trial(s) in flight: %s",
                self.study.name,
                len(pending),
                reason,
            )


def _result(future: Any) -> tuple[bool, Any]:
    """The evaluation's ``(ok, value or traceback)``; a failed transfer of the
    result counts as an error of the trial."""
    try:
        ok, payload = future.result()
    except Exception as exc:
        return False, "".join(traceback.format_exception(exc))
    return bool(ok), payload


def _died_message(exc: Any, job: _Job) -> str:
    return (
        f"worker died: the Dask worker process running this trial "
        f"({_worker_address(exc)}) ended before the trial finished, on attempt "
        f"{job.attempts}. Look for a crash, an out-of-memory kill or os._exit in "
        "the objective; hptaa_lab.execution.run_parallel(study, objective, ..., "
        "worker_retries=1), called in place of study.optimize, submits such a "
        "trial again."
    )


def _worker_address(exc: Any) -> str:
    worker = getattr(exc, "last_worker", None)
    return str(getattr(worker, "address", "unknown worker"))


def _check_arguments(workers: int | None, worker_retries: int) -> None:
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise ValueError(f"workers must be a positive int or None; got {workers!r}.")
    if (
        isinstance(worker_retries, bool)
        or not isinstance(worker_retries, int)
        or worker_retries < 0
    ):
        raise ValueError(
            f"worker_retries must be a non-negative int; got {worker_retries!r}."
        )


def _check_scheduler(distributed: Any, scheduler: Any) -> None:
    if scheduler is None or isinstance(scheduler, str | distributed.Client):
        return
    raise InvalidSchedulerError(
        "scheduler must be None, a Dask scheduler address such as "
        "'tcp://127.0.0.1:8786', or a distributed.Client; got "
        f"{type(scheduler).__name__} {scheduler!r}."
    )


def _check_installed() -> None:
    """Raise DaskNotInstalledError unless dask and distributed can be imported;
    imports neither."""
    try:
        found = all(importlib.util.find_spec(n) for n in ("dask", "distributed"))
    except (ImportError, ValueError):
        found = False
    if not found:
        _import_distributed()


def _import_distributed() -> Any:
    """Import distributed, first holding back Ctrl-C: a KeyboardInterrupt in the
    middle of the first import leaves half-initialised modules in sys.modules, and
    every later parallel run of the process would fail on them."""
    first = "distributed" not in sys.modules
    try:
        with interrupts_deferred():
            import dask  # noqa: F401
            import distributed
    except ImportError as exc:
        raise DaskNotInstalledError(
            "Evaluating trials on workers (workers > 1 or scheduler=...) needs dask "
            f"and distributed, which are not installed ({exc}). Install them with "
            "`pip install hptaa_lab[bench]`, or run with workers=1."
        ) from exc
    if first:
        _quiet_dask_logs()
    return distributed


def _quiet_dask_logs() -> None:
    """Raise distributed's loggers from their INFO (set on import, a hundred lines
    for a short run: every start, registration and close) to WARNING, unless
    hptaa_lab itself logs at INFO (``hptaa -v``) or distributed's level was
    changed since the import."""
    dask_logger = logging.getLogger("distributed")
    if dask_logger.level == logging.INFO and not logging.getLogger(
        "hptaa_lab"
    ).isEnabledFor(logging.INFO):
        dask_logger.setLevel(logging.WARNING)


def _check_picklable(objective: Any) -> None:
    import cloudpickle  # type: ignore[import-untyped]

    try:
        cloudpickle.dumps(objective)
    except Exception as exc:
        raise ObjectiveNotPicklableError(
            f"The objective {objective!r} cannot be pickled, so it cannot be sent "
            f"to Dask workers: {type(exc).__name__}: {str(exc).rstrip('.')}. Create "
            "what it cannot "
            "pickle (locks, open files, connections, clients) inside the objective, "
            "or run with workers=1."
        ) from exc


@contextlib.contextmanager
def _client(
    distributed: Any,
    scheduler: Any,
    workers: int | None,
    dashboard: str | None,
    method: str | None,
) -> Iterator[tuple[Any, _LocalCluster | None]]:
    """A client on the cluster to use, and the local cluster if one was started
    here (its workers started with ``method``); close only what was opened here."""
    if scheduler is None:
        owned = _LocalCluster(workers, dashboard, method or "spawn")
        try:
            yield owned.client, owned
        finally:
            owned.close()
        return
    if dashboard is not None:
        logger.warning(
            "dashboard_address=%r is ignored with scheduler=...: the cluster of "
            "that scheduler has its own dashboard",
            dashboard,
        )
    if isinstance(scheduler, distributed.Client):
        yield scheduler, None
        return
    try:
        client = distributed.Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerUnreachableError(
            f"Could not connect to the Dask scheduler at {scheduler!r}: {exc}. Start "
            "one (e.g. `dask scheduler` and `dask worker <address>`) and pass its "
            "address, or pass workers=N without scheduler to start a local cluster."
        ) from exc
    try:
        yield client, None
    finally:
        client.close()


def _slots(client: Any, scheduler: Any, workers: int | None) -> int:
    """How many trials to keep in flight."""
    if scheduler is None:
        return workers if workers is not None else os.cpu_count() or 1
    if workers is not None and workers > 1:
        return workers
    threads = sum(client.nthreads().values())
    if threads == 0:
        logger.warning(
            "the Dask cluster has no workers yet; keeping one trial in flight until "
            "workers join"
        )
    return max(1, threads)
