"""Study: a named sequence of trials over one search space, and its optimisation loop."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab._interrupts import interrupts_deferred
from hptaa_lab.errors import (
    HptaaError,
    InvalidTrialError,
    MappingError,
    StoreError,
    StudyExistsError,
    StudyReplacedError,
    UnknownNameError,
)
from hptaa_lab.execution._errors import (
    ObjectiveNotPicklableError,
    WorkersFailedToStartError,
)
from hptaa_lab.execution._mainguard import check_not_starting_worker
from hptaa_lab.records import (
    StudyRecord,
    TrialRecord,
    TrialState,
    cut_off,
    error_summary,
    trials_frame,
)
from hptaa_lab.samplers import Sampler, make_sampler
from hptaa_lab.samplers import names as sampler_names
from hptaa_lab.space import Mapping as SpaceMapping
from hptaa_lab.space import as_mapping, as_space, space_from_json, space_to_json
from hptaa_lab.store import (
    Liveness,
    RunningCheck,
    TrialOwner,
    TrialStore,
    check_study_name,
    liveness,
    resolved_url,
    this_process,
)
from hptaa_lab.transfer import PreviousTrials, make_transfer
from hptaa_lab.transfer import names as transfer_names

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_TRANSFER",
    "Objective",
    "Study",
    "create_study",
    "load_study",
    "open_store",
]

logger = logging.getLogger(__name__)

DEFAULT_TRANSFER = "auto"
_STORE_RETRIES = 4
"""Attempts to store a result the locked store refused, as optimize ends."""
DIRECTIONS = ("maximize", "minimize")

Objective = Callable[[dict[str, Any]], float]
Callback = Callable[["Study", TrialRecord], None]


def open_store(store: TrialStore | str | None, *, create: bool = True) -> TrialStore:
    """The given TrialStore, or one opened on a SQLAlchemy URL (None: the default);
    ``create=False`` refuses a SQLite path that holds no store yet."""
    if isinstance(store, TrialStore):
        return store
    return TrialStore(store, create=create)


_OTHER_NAMES = {
    "best_trial": "incumbent",
    "best_value": "incumbent.value",
    "best_params": "incumbent.config",
    "best_config": "incumbent.config",
    "best": "incumbent",
}
"""What other HPO libraries call the best trial and its parts, and ours."""


class Study:
    """A named sequence of trials over one search space, kept in the trial store.

    Create one with :func:`create_study` or resume one with :func:`load_study`.

    Attributes:
        name: The study's unique name.
        space: Its search space.
        direction: "minimize" or "maximize".
        store: The trial store that keeps its trials.
        sampler: The sampler or transfer method that proposes configurations.
        record: The study's metadata as stored.
    """

    def __init__(
        self,
        record: StudyRecord,
        store: TrialStore,
        sampler: Sampler,
        trials: Sequence[TrialRecord] = (),
    ) -> None:
        self.record = record
        self.name = record.name
        self.space: CS.ConfigurationSpace = space_from_json(record.space_json)
        self.direction = record.direction
        self.store = store
        self.sampler = sampler
        self._trials: dict[int, TrialRecord] = {t.number: t for t in trials}
        # RUNNING when loaded: another process (or Study) runs them.
        self._foreign = {t.number for t in trials if t.state == TrialState.RUNNING}
        # Foreign trials whose process ended: never finished, no longer pending.
        self._abandoned: set[int] = set()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        # Whether create_study made it in this process (see _without_empty_study).
        self._created_here = False
        # Whether _without_empty_study removed it from the store.
        self._removed = False
        # Values of trials whose result the store refused (locked too long).
        self._unstored: dict[int, float] = {}
        self._unstored_logged: set[int] = set()
        # Ids of this object's optimize calls in progress (TrialStore.begin_run),
        # and of ended ones whose record the store refused to remove.
        self._active_runs: set[int] = set()
        self._unended_runs: set[int] = set()
        # Whether this thread is inside a recorded run (see _recorded_run).
        self._in_run = threading.local()

    def __repr__(self) -> str:
        best = self.incumbent
        value = "none" if best is None else f"{best.value:.6g}"
        return (
            f"Study({self.name!r}, trials={len(self._trials)}, incumbent={value}, "
            f"sampler={self.sampler.name!r})"
        )

    def __getattr__(self, name: str) -> Any:
        # Only for names Study lacks: point users of other HPO libraries to ours.
        if name in _OTHER_NAMES:
            raise AttributeError(
                f"'Study' object has no attribute {name!r}; use study."
                f"{_OTHER_NAMES[name]} (study.incumbent is the best complete trial, "
                "or None before the first)."
            )
        raise AttributeError(f"'Study' object has no attribute {name!r}")

    @property
    def previous(self) -> str | None:
        """Name of the previous study this one transfers from, if any."""
        return self.record.previous

    @property
    def transfer(self) -> str | None:
        """Name of the transfer method, if any."""
        return self.record.transfer

    @property
    def transfer_options(self) -> dict[str, Any]:
        """Options of the transfer method (empty: its defaults)."""
        return dict(self.record.transfer_options)

    @property
    def mapping(self) -> SpaceMapping:
        """The confirmed mapping to the previous study (empty without one)."""
        return SpaceMapping.from_json(self.record.mapping_json)

    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial, by number."""
        with self._lock:
            return [self._trials[n] for n in sorted(self._trials)]

    def loss(self, value: float) -> float:
        """The objective value as a value to minimise."""
        return value if self.direction == "minimize" else -value

    @property
    def incumbent(self) -> TrialRecord | None:
        """The best complete trial so far, or None."""
        return self.best_of(self.trials)

    def best_of(self, trials: Iterable[TrialRecord]) -> TrialRecord | None:
        """The best complete trial of ``trials`` in this study's direction (the
        first of equal ones), or None."""
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        if not complete:
            return None
        return min(complete, key=lambda t: (self.loss(_value(t)), t.number))

    def incumbent_trajectory(self) -> list[float]:
        """Best objective value after each trial, by number (NaN before the first
        complete trial)."""
        best = math.inf
        out = []
        for trial in self.trials:
            if trial.state == TrialState.COMPLETE:
                best = min(best, self.loss(_value(trial)))
            out.append(self.loss(best) if math.isfinite(best) else math.nan)
        return out

    def trials_dataframe(self) -> pd.DataFrame:
        """One row per trial: number, state, value, proposed_by, times, error, and
        one ``params_<name>`` column per hyperparameter."""
        trials = self.trials
        names = list(self.space)
        names += sorted({k for t in trials for k in t.config} - set(names))
        return trials_frame(trials, names)

    def ask(self) -> TrialRecord:
        """Propose a configuration and start a RUNNING trial for it.

        Configurations of RUNNING trials count as pending, so several asks before
        their tells give distinct configurations; that includes trials another
        process was running when the study was loaded, until they finish.
        """
        with self._lock:
            self._catch_up()
            pending = [
                t.config
                for t in self._trials.values()
                if t.state == TrialState.RUNNING and t.number not in self._abandoned
            ]
            proposal = self.sampler.ask(pending)
            # Held back as in tell(): a Ctrl-C during the write would leave a
            # stored trial that this Study does not know. If the handler then
            # raises (Python's raises KeyboardInterrupt; a custom one may only
            # set a flag), the trial is failed before the exception goes on, so
            # that none stays RUNNING.
            trial: TrialRecord | None = None
            try:
                with interrupts_deferred():
                    trial = self.store.start_trial(
                        self.name,
                        proposal.config,
                        proposal.proposed_by,
                        created_at=self.record.created_at,
                    )
                    self._trials[trial.number] = trial
            except BaseException as exc:
                if trial is not None:
                    # A second Ctrl-C waits until the trial is failed.
                    with interrupts_deferred():
                        self._finish(
                            trial.number,
                            None,
                            f"interrupted by the user ({type(exc).__name__}) before "
                            "it was evaluated",
                        )
                raise
            return trial

    def tell(
        self,
        trial: TrialRecord | int,
        value: float | None = None,
        *,
        error: str | None = None,
    ) -> TrialRecord:
        """Finish a trial: COMPLETE with a finite ``value``, else FAIL.

        A value that is None, NaN, infinite or not a number (a string is not one),
        or an ``error``, fails the trial (the error text is stored); the result is
        committed to the store at once.
        """
        number = trial if isinstance(trial, int) else trial.number
        with self._lock:
            current = self._trials.get(number)
            if current is None or current.state != TrialState.RUNNING:
                state = "unknown" if current is None else str(current.state)
                raise InvalidTrialError(
                    f"Trial {number} of study {self.name!r} is {state}; only a RUNNING "
                    "trial from ask() can be told."
                )
            if number in self._foreign:
                raise InvalidTrialError(
                    f"Trial {number} of study {self.name!r} is RUNNING in the process "
                    "(or Study object) that asked for it, not in this Study; only a "
                    "trial from this Study's ask() can be told. Tell it there."
                )
            finite, interrupted = None, None
            try:
                if error is None:
                    finite = _finite_float(value)
                    if finite is None:
                        error = (
                            f"objective returned {_short_repr(value)}, not a finite "
                            "number"
                        )
            except BaseException as exc:
                # Ctrl-C while float() or repr() waits on a lazy value: fail the
                # trial first, so that the store keeps no RUNNING trial, then stop.
                interrupted, finite = exc, None
                error = f"reading the objective's value raised {type(exc).__name__}"
            ok = finite is not None
            # A Ctrl-C during the write would roll it back and lose the result:
            # it is held back until the trial is stored and told to the sampler.
            with interrupts_deferred():
                try:
                    finished = self._finish(number, finite, None if ok else error)
                except StoreError as exc:
                    if finite is not None and not isinstance(exc, StudyReplacedError):
                        # The store stayed locked past its timeout: keep the
                        # value, so that it is stored when optimize ends (or by
                        # another tell) instead of the trial failing without it.
                        self._unstored[number] = finite
                        if number in self._unstored_logged:
                            raise  # a retry: said once already
                        self._unstored_logged.add(number)
                        logger.error(
                            "study %s: trial %d returned %r, but the trial store "
                            "could not be written; the value is kept and stored "
                            "as the study ends.",
                            self.name,
                            number,
                            finite,
                        )
                    raise
            if interrupted is not None:
                raise interrupted
        if not ok:
            logger.warning(
                "study %s: trial %d failed for %s: %s",
                self.name,
                number,
                finished.config,
                error_summary(error, 200),
            )
        return finished

    def _finish(
        self, number: int, value: float | None, error: str | None
    ) -> TrialRecord:
        """Store a trial's outcome (COMPLETE with a finite value, else FAIL) and
        tell it to the sampler."""
        ok = value is not None
        finished = self.store.finish_trial(
            self.name,
            number,
            TrialState.COMPLETE if ok else TrialState.FAIL,
            value=value,
            error=error,
            own_failed=True,
            created_at=self.record.created_at,
        )
        self._trials[number] = finished
        if cut_off(finished):
            # Ctrl-C or a stop: nothing learned about the configuration.
            self.sampler.discard(finished.config, finished.proposed_by)
        else:
            self.sampler.tell(
                finished.config, self.loss(_value(finished)) if ok else None
            )
        return finished

    def _catch_up(self) -> None:
        """Take in the trials other processes (or Study objects) run on this
        study: the ones they start count as pending, and their results are told to
        the sampler as they finish."""
        # Numbers are given in order, so every trial this Study does not know
        # yet comes after its first unknown number.
        first = 0
        while first in self._trials:
            first += 1
        for stored in self.store.get_trials(self.name, offset=first):
            if stored.number not in self._trials:
                self._trials[stored.number] = stored
                if stored.state == TrialState.RUNNING:
                    self._foreign.add(stored.number)
                else:
                    self._restore(stored)
        if not self._foreign:
            return
        finished = (TrialState.COMPLETE, TrialState.FAIL)
        for stored in self.store.get_trials(
            self.name, states=finished, numbers=self._foreign
        ):
            self._foreign.discard(stored.number)
            self._trials[stored.number] = stored
            self._restore(stored)
        # A trial whose process ended will not finish: it is no longer pending
        # here (load_study marks it failed in the store).
        for number, owner in self.store.running_owners(self.name).items():
            if (
                number in self._foreign
                and owner is not None
                and liveness(owner) is Liveness.GONE
            ):
                self._foreign.discard(number)
                self._abandoned.add(number)

    def _restore(self, stored: TrialRecord) -> None:
        """Tell the sampler a finished trial this Study did not run; one whose
        evaluation was cut off (``cut_off``) says nothing about its
        configuration, which stays due (a transfer method's first, previous-best
        configuration is proposed again)."""
        if cut_off(stored):
            return
        ok = stored.state == TrialState.COMPLETE
        value = self.loss(_value(stored)) if ok else None
        self.sampler.restore(stored.config, value, stored.proposed_by)

    def stop(self) -> None:
        """Ask a running :meth:`optimize` to stop: in-process, after the trial in
        flight; with workers, trials in flight are cancelled (and fail as such)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called since optimize started."""
        return self._stop.is_set()

    def optimize(
        self,
        objective: Objective,
        n_trials: int | None = None,
        timeout: float | None = None,
        workers: int | None = None,
        callbacks: Sequence[Callback] | None = None,
        *,
        scheduler: Any = None,
    ) -> Study:
        """Evaluate configurations until ``n_trials`` more trials finished, the
        ``timeout`` (seconds) passed, or :meth:`stop` was called.

        An objective that raises, or returns NaN or inf, fails its trial (the
        traceback is stored and logged) and the study goes on. Ctrl-C fails the
        trial in flight and re-raises; every finished trial is already stored.
        So does ``sys.exit()`` called by an objective evaluated in this process
        (on Dask workers it fails its trial only, as a crash there does).

        Args:
            objective: Takes a configuration dict, returns the objective value.
            n_trials: Number of trials to run; None runs until timeout or stop.
            timeout: Seconds after which no new trial starts.
            workers: Evaluate this many trials at a time on a Dask cluster of
                worker processes (None or 1: in this process).
            callbacks: Called as ``callback(study, trial)`` after every trial.
            scheduler: A Dask scheduler address or distributed.Client to use
                instead of starting a local cluster.

        Returns:
            The study itself.
        """
        check_budget(n_trials, timeout, "optimize")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive int; got {workers!r}.")
        if not callable(objective):
            raise TypeError(
                "optimize needs the objective as a function config -> value, e.g. "
                f"study.optimize(train, n_trials=20); got {type(objective).__name__} "
                f"{_short_repr(objective, 60)}."
            )
        check_not_starting_worker("optimize")
        if self._removed:
            raise StoreError(
                f"The study {self.name!r} was removed when its parallel run could "
                "not start, as that error said (it had no trial). Create it again "
                f"with create_study({self.name!r}, ...) and call optimize on the "
                "study it returns."
            )
        self._stop.clear()
        known = set(self._trials)
        with self._recorded_run():
            self._optimize(objective, n_trials, timeout, workers, callbacks, scheduler)
        self._warn_if_all_failed(known)
        return self

    @contextlib.contextmanager
    def _recorded_run(self) -> Iterator[None]:
        """Record a run of trials in the store while it lasts
        (``TrialStore.begin_run``), so that deleting the study sees it between
        two trials. optimize records its run; ``run_parallel`` records one when
        called directly, and none inside optimize's."""
        if getattr(self._in_run, "active", False):
            yield
            return
        self._retry_end_runs()
        run_id = self.store.begin_run(self.name, created_at=self.record.created_at)
        self._active_runs.add(run_id)
        self._in_run.active = True
        try:
            yield
        finally:
            self._in_run.active = False
            self._active_runs.discard(run_id)
            self._end_run(run_id)

    def _optimize(
        self,
        objective: Objective,
        n_trials: int | None,
        timeout: float | None,
        workers: int | None,
        callbacks: Sequence[Callback] | None,
        scheduler: Any,
    ) -> None:
        """optimize's work, in this process or on workers."""
        before = set(self._own_running())
        try:
            if (workers or 1) > 1 or scheduler is not None:
                from hptaa_lab.execution import run_parallel

                try:
                    run_parallel(
                        self,
                        objective,
                        n_trials,
                        timeout,
                        workers,
                        list(callbacks or ()),
                        scheduler,
                    )
                except (WorkersFailedToStartError, ObjectiveNotPicklableError) as exc:
                    raise self._without_empty_study(exc) from exc.__cause__
            else:
                self._optimize_here(objective, n_trials, timeout, callbacks)
        except BaseException as exc:
            # A Ctrl-C between two steps (after ask() stored a trial, or after
            # the objective returned) would otherwise leave that trial RUNNING.
            for number in self._own_running():
                if number not in before:
                    self._fail_quietly(number, f"optimize ended: {_ended_reason(exc)}")
            raise

    def _end_run(self, run_id: int) -> None:
        """Remove the record of one optimize call (``TrialStore.begin_run``); if
        the store refuses, it is kept to retry at the next call, and logged (a
        process that ended counts as not running anyway)."""
        try:
            self.store.end_run(run_id)
        except HptaaError as exc:
            self._unended_runs.add(run_id)
            logger.warning(
                "study %s: could not remove the record of this run from the store "
                "(it is retried at the next optimize call, and ignored once this "
                "process ends): %s",
                self.name,
                exc,
            )

    def _retry_end_runs(self) -> None:
        """Remove the records of earlier calls that the store refused."""
        for run_id in sorted(self._unended_runs):
            try:
                self.store.end_run(run_id)
            except HptaaError:
                return
            self._unended_runs.discard(run_id)

    def _warn_if_all_failed(self, known: set[int]) -> None:
        """One line at the end of an optimize call whose every trial failed (a
        typo in the objective fails them all alike, one log line each)."""
        # Trials cut off by a stop or Ctrl-C say nothing about the objective.
        mine = [t for t in self.trials if t.number not in known and not cut_off(t)]
        if mine and all(t.state == TrialState.FAIL for t in mine):
            logger.warning(
                "study %s: all %d trials of this optimize call failed; the first "
                "with %s Fix the objective and call optimize again (the failed "
                "trials stay in the store with their tracebacks: "
                "study.trials_dataframe() or `hptaa show %s`).",
                self.name,
                len(mine),
                _sentence(error_summary(mine[0].error, 200)),
                self.name,
            )

    def _without_empty_study(self, exc: HptaaError) -> HptaaError:
        """The error of workers that failed to start (or of an objective that
        cannot travel to them), after removing this study if this process
        created it and it has no trial: the script or cell that failed then
        runs as it is once fixed, without meeting the study it left behind."""
        if not self._created_here or self.store.get_trials(self.name):
            return exc
        for run_id in list(self._active_runs):
            self._end_run(run_id)
        try:
            self.store.delete_study(self.name)
        except HptaaError:
            return exc
        self._removed = True
        return type(exc)(
            f"{exc} The study {self.name!r} that this code created had no trial "
            "yet and was removed, so the fixed code can create it again (in this "
            "session too: call create_study again, then optimize on the new study)."
        )

    def _optimize_here(
        self,
        objective: Objective,
        n_trials: int | None,
        timeout: float | None,
        callbacks: Sequence[Callback] | None,
    ) -> None:
        """optimize in this process, one trial at a time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        done = 0
        while (n_trials is None or done < n_trials) and not self._stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            trial = self.ask()
            finished = self._evaluate(objective, trial)
            done += 1
            for callback in callbacks or ():
                callback(self, finished)

    def _evaluate(self, objective: Objective, trial: TrialRecord) -> TrialRecord:
        try:
            value = objective(dict(trial.config))
        except Exception:
            return self.tell(trial, error=traceback.format_exc())
        except BaseException as exc:
            # Ctrl-C, sys.exit() and the like end the study, but the trial is
            # failed first so that the store does not keep it RUNNING.
            self.tell(trial, error=_ended_reason(exc, "the objective"))
            raise
        return self.tell(trial, value)

    def _own_running(self) -> list[int]:
        """Numbers of the trials this Study started that are still RUNNING."""
        return [
            number
            for number, t in self._trials.items()
            if t.state == TrialState.RUNNING
            and number not in self._foreign
            and number not in self._abandoned
        ]

    def _fail_quietly(self, number: int, reason: str) -> None:
        """Fail a RUNNING trial while another exception ends optimize (complete
        it if its value was kept when the store refused it): a failure to do so
        is logged, so that the caller sees the exception that ended it."""
        value = self._unstored.pop(number, None)
        # A value the store refused gets a few more of its timeouts: the lock
        # that held it back may take minutes (a large import, a long query).
        for _ in range(_STORE_RETRIES if value is not None else 1):
            try:
                if value is not None:
                    self.tell(number, value)
                else:
                    self.tell(number, error=reason)
                return
            except StoreError:
                self._unstored.pop(number, None)
            except Exception:
                break
        logger.error(
            "study %s: could not store trial %d%s",
            self.name,
            number,
            " as failed" if value is None else f" with its value {value!r}",
            exc_info=True,
        )

    def close(self) -> None:
        """Release the trial store's connections."""
        self.store.close()


def _value(trial: TrialRecord) -> float:
    assert trial.value is not None
    return trial.value


def _finite_float(value: Any) -> float | None:
    """``value`` as a float if it is a finite number, else None (a string that
    parses as one is not a number)."""
    if isinstance(value, bool) or not hasattr(type(value), "__float__"):
        return None
    try:
        number = float(value)
    except Exception:  # e.g. OverflowError for 10**400, or a __float__ that raises
        return None
    return number if math.isfinite(number) else None


def _ended_reason(exc: BaseException, raiser: str = "it") -> str:
    """Why a KeyboardInterrupt, SystemExit or the like ended a study."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by the user (KeyboardInterrupt)"
    return (
        f"{raiser} raised {type(exc).__name__}, which ends the study: "
        f"{_short_repr(exc)}"
    )


def _short_repr(value: Any, limit: int = 200) -> str:
    """repr(value), cut to ``limit`` characters; a repr that raises is named so."""
    try:
        text = repr(value)
    except Exception as exc:
        return f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sentence(text: str) -> str:
    """``text`` ending as a sentence: a period added unless it ends with one,
    a cut text's "...", or "?" or "!"."""
    return text if text.endswith((".", "?", "!")) else text + "."


def _possible_rename(
    removed: list[str],
    added: list[str],
    previous_space: CS.ConfigurationSpace,
    space: CS.ConfigurationSpace,
) -> dict[str, str] | None:
    """The first removed -> added pair that a mapping may rename (a range onto
    a range, choices onto choices, ...), as a ``renames`` dict; None if no
    pair may be renamed (the warning then gives no example to copy)."""
    for old in removed:
        for new in added:
            try:
                SpaceMapping(renames={old: new}).validate(previous_space, space)
            except HptaaError:
                continue
            return {old: new}
    return None


def _warn_unseen_current_fixed(
    name: str,
    previous_name: str,
    previous_space: CS.ConfigurationSpace,
    mapping: SpaceMapping,
) -> None:
    """Warn when a removed hyperparameter is fixed now to a value its previous
    choices or range never held: no previous trial counts as an exact match
    then, which a typo ('rbf ' for 'rbf') does without a word. (A new value is
    fine; the warning says what it means.)"""
    from hptaa_lab.space import choice_index, describe, hp_kind
    from hptaa_lab.space._encoding import choice_values

    for removed, value in mapping.current_fixed.items():
        hp: Any = previous_space[removed]
        if hp_kind(hp) in ("float", "int"):
            seen = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and hp.lower <= value <= hp.upper
            )
        else:
            seen = choice_index(choice_values(hp), value) is not None
        if not seen:
            logger.warning(
                "study %s: %s is fixed now to %r, which %s never held (%s), so no "
                "previous trial counts as an exact match; check for a typo if it "
                "is one of them.",
                name,
                removed,
                value,
                previous_name,
                describe(hp),
            )


def _warn_unconfirmed_renames(
    name: str,
    previous_name: str,
    previous_space: CS.ConfigurationSpace,
    space: CS.ConfigurationSpace,
    mapping: SpaceMapping,
    *,
    given: bool,
) -> None:
    """Warn when the diff suggests renames the mapping does not confirm: the
    previous values of those hyperparameters would not be transferred. Without
    a mapping (``given`` False), also when hyperparameters were both removed and
    added, however unlike their names."""
    from hptaa_lab.space import diff

    space_diff = diff(previous_space, space, mapping)
    suggestions = space_diff.suggestions
    # The pairs the diff suggests are warned about below; the rest here.
    removed = [
        n
        for n in space_diff.removed
        if n not in mapping.current_fixed and n not in {s.previous for s in suggestions}
    ]
    added = [
        n
        for n in space_diff.added
        if n not in mapping.previous_fixed and n not in {s.current for s in suggestions}
    ]
    example = (
        _possible_rename(removed, added, previous_space, space)
        if not given and removed and added
        else None
    )
    if example is not None:
        # No name looks like another, but a rename may still hide here: its
        # previous values would be lost without a word. (Pairs that no mapping
        # may rename, a range and choices of text, are no such rename.)
        logger.warning(
            "study %s: compared with study %s, %s %s removed and %s added, and the "
            "mapping renames none of them. If one is another renamed, confirm it "
            "with "
            "mapping={'renames': %r} (hptaa_lab.diff shows the two spaces); "
            "ignore this if they are different hyperparameters.",
            name,
            previous_name,
            ", ".join(removed),
            "was" if len(removed) == 1 else "were",
            ", ".join(added),
            example,
        )
    if not suggestions:
        return
    shown = 5
    pairs = ", ".join(f"{s.previous} -> {s.current}" for s in suggestions[:shown])
    if len(suggestions) > shown:
        pairs += f" and {len(suggestions) - shown} more (see hptaa_lab.diff)"
    example = {s.previous: s.current for s in suggestions[:1]}
    logger.warning(
        "study %s: the diff from %s suggests renames the mapping does not confirm "
        "(%s), so their previous values are not transferred. Confirm one with "
        "mapping={'renames': %r}, or ignore this if they are different "
        "hyperparameters.",
        name,
        previous_name,
        pairs,
        example,
    )


def check_budget(n_trials: Any, timeout: Any, call: str) -> None:
    """Refuse a budget that would run forever or is no budget: neither
    ``n_trials`` nor ``timeout``, a count that is no non-negative int (True,
    2.5), a timeout that is no non-negative number.

    Raises:
        ValueError: Saying what ``call`` takes.
    """
    if n_trials is None and timeout is None:
        raise ValueError(
            f"{call} needs n_trials or timeout (or both); got neither, which "
            "would run forever."
        )
    if n_trials is not None and (
        isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0
    ):
        raise ValueError(f"n_trials must be a non-negative int; got {n_trials!r}.")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not timeout >= 0
    ):
        raise ValueError(
            f"timeout must be a non-negative number of seconds; got {timeout!r}."
        )


def create_study(
    name: str,
    space: CS.ConfigurationSpace | Mapping[str, Any],
    *,
    previous: str | Study | None = None,
    transfer: str | None = None,
    transfer_options: Mapping[str, Any] | None = None,
    mapping: SpaceMapping | Mapping[str, Any] | None = None,
    sampler: str = "tpe",
    store: TrialStore | str | None = None,
    seed: int | None = None,
    direction: str = "minimize",
    attrs: Mapping[str, Any] | None = None,
) -> Study:
    """Create a study in the trial store.

    Args:
        name: Unique study name.
        space: The search space: a ConfigSpace object or the short dict form.
        previous: The previous study (name or Study) to transfer from.
        transfer: Transfer method name (see ``hptaa_lab.transfer.names()``);
            default with a previous study: auto.
        transfer_options: Options of the transfer method, e.g. ``{"ties":
            None}`` for auto (``hptaa_lab.transfer.options(method)`` names
            them); kept with the study, so a resumed study uses them too.
        mapping: Confirmed renames, transforms and fixed values (Mapping or its
            dict form).
        sampler: "tpe", "gp" or "random"; with transfer, the model it uses.
        store: A TrialStore or SQLAlchemy URL; default sqlite:///.hptaa/studies.db,
            or the store of ``previous`` when it is a Study (which must be
            this store if both are given).
        seed: Seed of the sampler.
        direction: "minimize" or "maximize".
        attrs: Free-form JSON attributes kept with the study.

    Returns:
        The new Study.

    Raises:
        StudyExistsError: If the name is taken.
        StudyNotFoundError: If the previous study does not exist.
        UnknownNameError: For an unknown sampler, transfer method or option.
        MappingError: If the mapping does not fit the two search spaces.
        ValueError: For a transfer option the method refuses or that is not
            JSON.
    """
    space = as_space(space)
    check_study_name(name)
    check_seed(seed)
    if direction not in DIRECTIONS:
        raise UnknownNameError("direction", direction, list(DIRECTIONS))
    if sampler not in sampler_names():
        raise UnknownNameError("sampler", sampler, sampler_names())
    previous_name = previous.name if isinstance(previous, Study) else previous
    # A script whose top level creates the study would create it again in
    # every worker process as it starts.
    check_not_starting_worker("create_study")
    # A previous study must be in the store already: a store path that holds no
    # store (a typo) is an error then, not a new empty store.
    if isinstance(previous, Study) and store is None:
        # The previous study's own store, not the default one (which may hold
        # another study of that name).
        store = previous.store
    if isinstance(previous, Study) and previous.store.url != (
        store.url if isinstance(store, TrialStore) else resolved_url(store)
    ):
        given = (
            store.shown_url
            if isinstance(store, TrialStore)
            else resolved_url(store, hide_password=True)
        )
        raise ValueError(
            f"The previous study {previous.name!r} is in the trial store "
            f"{previous.store.shown_url}, but store= names "
            f"{given}; a study transfers from a study of its own "
            "store. Leave store= out (the study is created beside its previous "
            "one), or export the previous study and import it into the other "
            "store (see `hptaa export` / `hptaa import`)."
        )
    trial_store = open_store(store, create=previous_name is None)
    if trial_store.has_study(name):
        # Before any warning about the study or its transfer method is logged.
        raise StudyExistsError(name, trial_store.shown_url)
    if transfer_options and previous_name is None:
        raise ValueError(
            "transfer_options need a previous study to transfer from; pass "
            "previous=<study name>, or leave transfer_options out."
        )
    if transfer is not None and previous_name is None:
        raise ValueError(
            f"transfer={transfer!r} needs a previous study to transfer from; pass "
            "previous=<study name>, or leave transfer out."
        )
    if previous_name is not None:
        transfer = transfer or DEFAULT_TRANSFER
        if transfer not in transfer_names():
            raise UnknownNameError("transfer method", transfer, transfer_names())
        if sampler == "random":
            raise ValueError(
                "Transfer methods build on a model: use sampler='tpe' or 'gp' with a "
                "previous study, not 'random'."
            )
    space_mapping = as_mapping(mapping)
    if previous_name is not None:
        prev_record = trial_store.get_study(previous_name)
        previous_space = space_from_json(prev_record.space_json)
        space_mapping.validate(previous_space, space)
        _warn_unconfirmed_renames(
            name,
            previous_name,
            previous_space,
            space,
            space_mapping,
            given=mapping is not None,
        )
        _warn_unseen_current_fixed(name, previous_name, previous_space, space_mapping)
        if prev_record.direction != direction:
            # Transfer ranks each study's trials by its own direction, so a change
            # is fine when the objective changed too (accuracy -> error rate); a
            # forgotten direction= silently optimises the wrong way.
            logger.warning(
                "study %s is to %s its objective, but its previous study %s was to "
                "%s it. If the objective is still the same measure, pass "
                "direction=%r (in a %%%%hptaa tune cell: direction = %r).",
                name,
                direction,
                previous_name,
                prev_record.direction,
                prev_record.direction,
                prev_record.direction,
            )
    elif not space_mapping.is_empty:
        raise MappingError("A mapping needs a previous study; pass previous=<name>.")
    record = StudyRecord(
        name=name,
        space_json=space_to_json(space),
        direction=direction,
        previous=previous_name,
        mapping_json=None if space_mapping.is_empty else space_mapping.to_json(),
        sampler=sampler,
        transfer=transfer,
        seed=seed,
        attrs=dict(attrs or {}),
        transfer_options=checked_transfer_options(transfer_options),
    )
    # Built before the study is stored: options the method refuses leave nothing.
    built = _build_sampler(record, trial_store, seed)
    record = trial_store.create_study(record)
    logger.info(
        "created study %s (sampler %s, transfer %s, previous %s)",
        name,
        sampler,
        transfer,
        previous_name,
    )
    study = Study(record, trial_store, built)
    study._created_here = True
    return study


def checked_transfer_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``options`` as a dict that survives a round trip through JSON unchanged."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(
            f"transfer_options must be a dict of option names to values, e.g. "
            f'{{"ties": None}}, got {options!r}.'
        )
    result = {key: _python_scalar(value) for key, value in options.items()}
    try:
        same = json.loads(json.dumps(result, allow_nan=False)) == result
    except (TypeError, ValueError):
        same = False
    if not same:
        raise ValueError(
            f"transfer_options must hold JSON values (str keys; str, int, finite "
            f"float, bool or None values), got {result!r}: they are kept with the "
            "study for when it is resumed."
        )
    return result


def _python_scalar(value: Any) -> Any:
    """A numpy bool, integer, real or string as its Python value (an option
    value taken from an array); anything else as it is."""
    if isinstance(value, np.timedelta64):  # an integer subclass, but no number
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.str_):
        return str(value)
    return value


def load_study(
    name: str, store: TrialStore | str | None = None, *, seed: int | None = None
) -> Study:
    """Resume a study from the trial store; numbering continues after the last trial.

    The sampler's seed is the study's seed plus the number of trials, so resuming
    a study at the same point proposes the same configurations every time (not
    those an uninterrupted run would have proposed: its random stream had moved
    on, and the resumed one starts afresh from that seed). Processes that
    tune one study at once must each pass their own ``seed`` (a worker index,
    say): loaded at the same moment, they would otherwise propose the same
    configurations.

    Trials left RUNNING by a process that ended are marked failed. Trials whose
    process still runs on this host (another process, or this one, is still
    running the study) stay RUNNING, with a warning: they count as pending, so
    they are not proposed again, and :meth:`Study.ask` takes in their results
    once they finished. Trials of a process on another host cannot be checked
    and are marked failed, with a warning; if that process still runs, its
    results are still stored as its trials finish.

    Raises:
        StudyNotFoundError: Listing the studies that exist.
        StoreError: There is no SQLite store at the given path.
        ValueError: ``seed`` is not a non-negative int.
    """
    check_seed(seed)
    trial_store = open_store(store, create=False)
    record = trial_store.get_study(name)
    if not trial_store.read_only:
        # (A store this process cannot write keeps them as they are: it reads.)
        _warn_about_running(name, trial_store.fail_abandoned_trials(name))
    trials = trial_store.get_trials(name)
    if seed is None and record.seed is not None:
        seed = record.seed + len(trials)
    sampler = _build_sampler(record, trial_store, seed)
    study = Study(record, trial_store, sampler, trials)
    for trial in trials:
        if trial.state == TrialState.RUNNING:
            continue  # pending until it finishes, see Study._catch_up
        study._restore(trial)
    return study


def check_seed(seed: Any) -> None:
    """Refuse a seed the samplers or the store cannot take, before anything is
    stored."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62
    ):
        raise ValueError(
            f"seed must be an int from 0 to 2**62 - 1, or None; got {seed!r}."
        )


def _warn_about_running(name: str, check: RunningCheck) -> None:
    """Say what load_study did with the RUNNING trials of study ``name``."""
    if check.ended:
        logger.warning(
            "study %s: marked unfinished trial(s) %s as failed: the process running "
            "them ended",
            name,
            _numbers(check.ended),
        )
    for owner, numbers in _by_owner(check.unchecked).items():
        logger.warning(
            "study %s: marked trial(s) %s as failed: they were started by %s, which "
            "cannot be checked from this host. If that process is still running the "
            "study, its results are still stored as its trials finish; resume a "
            "study only once no other process runs it.",
            name,
            _numbers(numbers),
            owner,
        )
    for owner, numbers in _by_owner(check.live).items():
        here = owner == this_process()
        who = "this process" if here else f"another process ({owner})"
        logger.warning(
            "study %s is still being run by %s: its trial(s) %s stay RUNNING and "
            "count as pending here, as do the trials it starts from now on; each "
            "result is taken in as it finishes.",
            name,
            who,
            _numbers(numbers),
        )


def _by_owner(owners: Mapping[int, TrialOwner]) -> dict[TrialOwner, list[int]]:
    grouped: dict[TrialOwner, list[int]] = {}
    for number, owner in sorted(owners.items()):
        grouped.setdefault(owner, []).append(number)
    return grouped


def _numbers(numbers: Sequence[int]) -> str:
    return ", ".join(map(str, numbers))


def _build_sampler(record: StudyRecord, store: TrialStore, seed: int | None) -> Sampler:
    space = space_from_json(record.space_json)
    if record.previous is None or record.transfer is None:
        return make_sampler(record.sampler, space, seed)
    previous = previous_trials(store, record.previous, depth=_MAX_CHAIN)
    return make_transfer(
        record.transfer,
        space,
        previous,
        mapping=SpaceMapping.from_json(record.mapping_json),
        model=record.sampler,
        seed=seed,
        options=record.transfer_options,
    )


_MAX_CHAIN = 4
"""Older studies, beyond the direct previous one, that a transfer method sees along a
chain of adjustments."""


def previous_trials(
    store: TrialStore, name: str, depth: int = _MAX_CHAIN
) -> PreviousTrials:
    """The complete trials of study ``name``, with its ancestors' up to ``depth``,
    as a transfer method gets them."""
    record = store.get_study(name)
    trials = store.get_trials(name, states=[TrialState.COMPLETE])
    sign = 1.0 if record.direction == "minimize" else -1.0
    ancestors: tuple[PreviousTrials, ...] = ()
    if record.previous is not None and depth > 0:
        older = previous_trials(store, record.previous, depth - 1)
        ancestors = (dataclasses.replace(older, ancestors=()), *older.ancestors)
    return PreviousTrials(
        space=space_from_json(record.space_json),
        configs=tuple(t.config for t in trials),
        values=tuple(sign * _value(t) for t in trials),
        numbers=tuple(t.number for t in trials),
        study=record.name,
        incoming=SpaceMapping.from_json(record.mapping_json),
        ancestors=ancestors,
    )
