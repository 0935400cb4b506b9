"""The run handle: studies tuned in background threads, followed by live widgets."""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import ConfigSpace as CS
import ipywidgets as widgets

from hptaa_lab.cli import delete_command
from hptaa_lab.errors import (
    HptaaError,
    MappingError,
    StudyExistsError,
    StudyNotFoundError,
    UnknownNameError,
)
from hptaa_lab.jupyter._live import (
    LiveRunView,
    RunStateChanged,
    Series,
    TrialFinished,
    _last_line,
    incumbent_trajectory,
)
from hptaa_lab.jupyter._logs import LOG_ROUTER
from hptaa_lab.jupyter._updater import DEFAULT_INTERVAL, BackgroundHandle, Updater
from hptaa_lab.jupyter._widgets import SpaceDiffWidget
from hptaa_lab.records import TrialRecord, TrialState, twin_links
from hptaa_lab.report import evaluations_to_reach, speedup
from hptaa_lab.samplers import names as sampler_names
from hptaa_lab.space import Mapping, SpaceDiff, as_space, diff, space_from_json
from hptaa_lab.store import MAX_STUDY_NAME, TrialStore
from hptaa_lab.study import (
    DEFAULT_TRANSFER,
    Study,
    check_seed,
    checked_transfer_options,
    create_study,
    load_study,
)
from hptaa_lab.transfer import check_options as check_transfer_options
from hptaa_lab.transfer import names as transfer_names

__all__ = ["RunState", "TuneRequest", "TuneRun", "twin_name"]

logger = logging.getLogger(__name__)

Objective = Callable[[dict[str, Any]], float]

_THREAD_PREFIX = "hptaa-run-"


class RunState(enum.StrEnum):
    """Life cycle of a run."""

    WAITING = "waiting for confirmation"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


def twin_name(study: str) -> str:
    """Name of the no-transfer twin of a study tuned with ``--compare``."""
    return f"{study}-scratch"


@dataclass(frozen=True)
class TuneRequest:
    """What to tune: the arguments of ``%%hptaa tune`` and its cell's names.

    Attributes:
        study: Name of the new study.
        space: Its search space.
        objective: Takes a configuration dict, returns the objective value.
        n_trials: Trials to run (each study, with ``compare``).
        previous: Name of the previous study to transfer from.
        transfer: Transfer method (default with ``previous``: auto).
        compare: Also tune a no-transfer twin with the same budget and seed.
        workers: Evaluate this many trials at a time (Dask); None: in-process.
        seed: Seed of the samplers.
        sampler: "tpe", "gp" or "random".
        direction: "minimize" or "maximize"; None: "minimize" for a new study,
            the stored direction for a resumed one.
        mapping: Renames and fixed values to start the diff widget from.
        renames_given: The cell's mapping gives the renames, even none (its
            dict has a "renames" key): no suggested rename is accepted beside
            them.
        transfer_options: Options of the transfer method (see
            ``create_study``).
        resume: Continue the existing study (with ``compare``, its twin too)
            for ``n_trials`` more trials, as stored: its previous study,
            transfer method and options, mapping, seed and search space.
    """

    study: str
    space: CS.ConfigurationSpace
    objective: Objective
    n_trials: int = 20
    previous: str | None = None
    transfer: str | None = None
    compare: bool = False
    workers: int | None = None
    seed: int | None = None
    sampler: str = "tpe"
    direction: str | None = None
    mapping: Mapping = field(default_factory=Mapping)
    renames_given: bool = False
    transfer_options: dict[str, Any] = field(default_factory=dict)
    resume: bool = False


class TuneRun(BackgroundHandle):
    """A run of ``%%hptaa tune``: studies tuned in background threads.

    The cell returns the run at once; it shows as the live widget (after the
    search-space diff when there is one to confirm). Background threads run
    the optimisation loops and only queue events; the thread that created the
    run (the kernel's main thread) applies them to the widgets, a few times a
    second, through one :class:`Updater`.

    Args:
        request: What to tune.
        store: The trial store to keep the studies in.
        confirm: Accept the diff's suggestions without asking (``--yes``).
        interval: Seconds between two widget updates.

    Raises:
        StudyExistsError: If the study (or its no-transfer twin) exists (unless
            resumed).
        StudyNotFoundError: If the previous study, or the study to resume, does
            not exist.
        UnknownNameError: For an unknown transfer method.
        ValueError: For a budget, worker count or option that does not fit.

    Attributes:
        request: What is tuned.
        store: The trial store.
        space_diff: The diff to the previous study (None without one).
        diff_widget: The search-space diff widget (None unless the space changed).
        view: The live run widget.
        updater: The updater that applies events to the view.
        widget: The whole widget (diff, then live view).
    """

    def __init__(
        self,
        request: TuneRequest,
        store: TrialStore,
        *,
        confirm: bool = False,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        request = self.request = _checked(request, store)
        self.store = store
        self._lock = threading.RLock()
        self._state = RunState.WAITING
        self._done = threading.Event()
        self._stop_requested = False
        self._studies: dict[str, Study] = {}
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._errors: list[tuple[str, BaseException]] = []
        self._owner = threading.get_ident()
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self.space_diff: SpaceDiff | None = None
        self.diff_widget: SpaceDiffWidget | None = None

        previous_trajectory = self._read_previous()
        # A resumed study's finished trials (loading marks those a crashed
        # process left RUNNING failed): shown from the start, not counted in this
        # run's budget.
        self._resumed = {
            name: load_study(name, store)
            for name in (self._names() if request.resume else [])
        }
        done = {name: _finished_trials(s) for name, s in self._resumed.items()}
        self._base = {name: len(trials) for name, trials in done.items()}
        self.view = LiveRunView(
            self._title(),
            self._series(),
            request.n_trials,
            direction=self.direction,
            previous=previous_trajectory,
            on_stop=self.stop,
            done=sum(self._base.values()),
        )
        self.view.apply(
            [
                TrialFinished(key, trial)
                for key, name in zip(self._keys(), self._names(), strict=True)
                for trial in done.get(name, [])
            ]
        )
        self.updater = Updater(self.view.apply, interval)
        parts: list[Any] = [] if self.diff_widget is None else [self.diff_widget.widget]
        self.widget = widgets.VBox([*parts, self.view.widget])

        if self.diff_widget is None:
            self._start(request.mapping)
        elif confirm:
            self.diff_widget.confirm()
        else:
            self.updater.post(RunStateChanged(str(RunState.WAITING)))
            self.updater.flush()

    def _read_previous(self) -> tuple[str, list[float]] | None:
        """Diff against the previous study (a widget if the space changed);
        return its legend label and incumbent trajectory."""
        r = self.request
        if r.previous is None:
            return None
        prev = self.store.get_study(r.previous)
        prev_space = space_from_json(prev.space_json)
        self.space_diff = diff(prev_space, r.space)
        if not self.space_diff.is_identical and not r.resume:
            # (A resumed study's mapping was confirmed when it was created.)
            self.diff_widget = SpaceDiffWidget(
                prev_space,
                r.space,
                previous_name=prev.name,
                current_name=r.study,
                mapping=r.mapping,
                renames_given=r.renames_given,
            )
            self.diff_widget.on_confirm(self._start)
        trials = self.store.get_trials(
            prev.name, states=[TrialState.COMPLETE, TrialState.FAIL]
        )
        return f"previous ({prev.name})", incumbent_trajectory(trials, prev.direction)

    # -- public API ----------------------------------------------------------

    @property
    def name(self) -> str:
        """Name of the study tuned (with transfer, if any)."""
        return self.request.study

    @property
    def state(self) -> RunState:
        """Where the run is in its life cycle."""
        with self._lock:
            return self._state

    @property
    def study(self) -> Study | None:
        """The study tuned (None while the diff waits for confirmation)."""
        return self._studies.get(self.request.study)

    @property
    def twin(self) -> Study | None:
        """The no-transfer twin (with ``compare``; None otherwise or while waiting)."""
        return self._studies.get(twin_name(self.request.study))

    @property
    def studies(self) -> list[Study]:
        """Every study of the run, transfer first."""
        return list(self._studies.values())

    @property
    def done(self) -> bool:
        """Whether the run ended (finished, stopped or failed)."""
        return self._done.is_set()

    @property
    def elapsed(self) -> float | None:
        """Seconds since tuning started (until it ended), None before."""
        if self._started_at is None:
            return None
        end = self._finished_at if self._finished_at is not None else time.monotonic()
        return end - self._started_at

    def confirm(self) -> Mapping:
        """Confirm the search-space diff as shown (what the Confirm button does).

        Returns:
            The confirmed mapping (empty when there was nothing to confirm).
        """
        if self.diff_widget is None:
            return self.request.mapping
        return self.diff_widget.confirm()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends, applying widget updates meanwhile.

        Interrupting the wait (the kernel's stop button, Ctrl-C) stops the run.

        Args:
            timeout: Seconds to wait at most; None waits until the end.

        Returns:
            True if the run ended, False if the timeout passed first.

        Raises:
            HptaaError: If the run waits for the diff to be confirmed (nothing
                would ever end it), or if it failed (with the error as cause).
        """
        if self.state == RunState.WAITING:
            raise HptaaError(
                f"The run of study {self.name!r} waits for you to confirm the "
                "search-space diff (shown above in a notebook; print(run) shows it "
                "as text). Click Confirm or call run.confirm() to accept it as "
                "shown, or run.stop() to cancel (--yes to %%hptaa tune skips the "
                "question); then wait."
            )
        if not self._wait_done(timeout):
            return False
        if self._errors:
            names = list(dict.fromkeys(name for name, _ in self._errors))
            which = (
                f"study {names[0]!r}"
                if len(names) == 1
                else "studies " + " and ".join(map(repr, names))
            )
            exc = self._errors[0][1]
            text = str(exc).rstrip()
            stop = "" if text.endswith((".", "!", "?")) else "."
            raise HptaaError(
                f"The run of {which} failed: {type(exc).__name__}: {text}{stop} "
                "Every finished trial is kept in the trial store."
            ) from exc
        return True

    @property
    def direction(self) -> str:
        """The direction of the run's studies ("minimize" or "maximize")."""
        return self.request.direction or "minimize"

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for while the run goes on."""
        return self._stop_requested and not self.done

    @property
    def stop_effect(self) -> str:
        """What :meth:`stop` does to the trials in flight: in-process they finish
        first; on Dask workers they are cancelled (and fail as cancelled)."""
        workers = self.request.workers
        if workers is not None and workers > 1:
            return "the trials in flight on the Dask workers are cancelled"
        return "after the trials in flight"

    def stop(self) -> bool:
        """Stop the run (cancel it while it waits for confirmation).

        In-process the trial in flight finishes first; with ``workers`` the trials
        in flight are cancelled and fail as cancelled (see :attr:`stop_effect`).
        Stopping a run that ended does nothing.

        Returns:
            Whether there was something to stop.
        """
        with self._lock:
            state = self._state
            if state == RunState.WAITING:
                self._state = RunState.STOPPED
                self._done.set()
            elif state == RunState.RUNNING and not self._stop_requested:
                self._stop_requested = True
                for study in self._studies.values():
                    study.stop()
            else:
                return False
        if state == RunState.WAITING:
            if self.diff_widget is not None:
                self.diff_widget.close("Stopped before confirming; nothing was tuned.")
            self.updater.post(RunStateChanged(str(RunState.STOPPED), done=True))
            self._flush()
        else:
            self.updater.post(RunStateChanged(f"stopping: {self.stop_effect}"))
        return True

    def __repr__(self) -> str:
        return "\n".join(self._summary_lines())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        self._flush()
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = repr(self)
        return bundle

    # -- starting ------------------------------------------------------------

    def _start(self, mapping: Mapping) -> None:
        """Create the studies (the mapping is stored with the transfer study)
        and start one background thread per study."""
        with self._lock:
            if self._state != RunState.WAITING:
                raise HptaaError(
                    f"The run of study {self.name!r} is {self._state}; it cannot start "
                    "again. Start a new %%hptaa tune instead."
                )
            self._create_studies(mapping)
            self._state = RunState.RUNNING
            self._started_at = time.monotonic()
            for key, study in zip(self._keys(), self._studies.values(), strict=True):
                thread = threading.Thread(
                    target=self._optimize,
                    args=(key, study),
                    name=f"{_THREAD_PREFIX}{study.name}",
                    daemon=True,
                )
                self._threads.append(thread)
            self._running = len(self._threads)
        LOG_ROUTER.install()
        self.updater.post(RunStateChanged(str(RunState.RUNNING)))
        for thread in self._threads:
            LOG_ROUTER.route(thread.name, self.updater.post)
            thread.start()
        self.updater.start()
        self._flush()

    def _create_studies(self, mapping: Mapping) -> None:
        r = self.request
        if r.resume:
            self._studies.update(self._resumed)
            return
        attrs = {"scratch_twin": twin_name(r.study)} if r.compare else {}
        self._studies[r.study] = create_study(
            r.study,
            r.space,
            previous=r.previous,
            transfer=r.transfer,
            mapping=mapping if r.previous is not None else None,
            sampler=r.sampler,
            store=self.store,
            seed=r.seed,
            direction=self.direction,
            attrs=attrs,
            transfer_options=r.transfer_options,
        )
        if r.compare:
            twin = twin_name(r.study)
            self._studies[twin] = create_study(
                twin,
                r.space,
                sampler=r.sampler,
                store=self.store,
                seed=r.seed,
                direction=self.direction,
                attrs={"twin_of": r.study},
            )

    def _optimize(self, key: str, study: Study) -> None:
        """Body of a background thread: never touches a widget."""

        def post(study: Study, trial: TrialRecord) -> None:
            self.updater.post(TrialFinished(key, trial))
            if self._stop_requested and not study.stopping:
                # The stop came before optimize began, which clears it.
                study.stop()

        try:
            if self._stop_requested:
                return
            study.optimize(
                self.request.objective,
                n_trials=self.request.n_trials,
                workers=self.request.workers,
                callbacks=[post],
            )
        except BaseException as exc:
            with self._lock:
                self._errors.append((study.name, exc))
            logger.error(
                "run of study %s failed: %s: %s",
                study.name,
                type(exc).__name__,
                exc,
                exc_info=True,
            )
        finally:
            LOG_ROUTER.unroute(threading.current_thread().name)
            self._thread_ended()

    def _thread_ended(self) -> None:
        with self._lock:
            self._running -= 1
            if self._running > 0:
                return
            if self._errors:
                self._state = RunState.FAILED
            elif self._stop_requested and not self._budget_spent():
                self._state = RunState.STOPPED
            else:
                self._state = RunState.FINISHED
            self._finished_at = time.monotonic()
            state = self._state
        self.updater.post(RunStateChanged(str(state), done=True))
        self.updater.finish()
        self._done.set()

    # -- helpers -------------------------------------------------------------

    def _budget_spent(self) -> bool:
        return all(
            _finished(s) - self._base.get(s.name, 0) >= self.request.n_trials
            for s in self._studies.values()
        )

    def _unguessed_left_out(self, mapping: Mapping) -> list[str]:
        """Rename suggestions not accepted by default (rivals, or all when the
        cell's mapping gives renames) that the confirmed mapping settles neither
        way."""
        if self.diff_widget is None:
            return []
        return self.diff_widget.unguessed_left_out(mapping)

    def _names(self) -> list[str]:
        r = self.request
        return [r.study] + ([twin_name(r.study)] if r.compare else [])

    def _keys(self) -> list[str]:
        r = self.request
        if r.previous is None:
            return ["study"]
        return ["transfer", "no transfer"] if r.compare else ["transfer"]

    def _series(self) -> list[Series]:
        r = self.request
        if r.previous is None:
            return [Series("study", f"{r.sampler} ({r.study})", r.study)]
        series = [Series("transfer", f"transfer: {r.transfer} ({r.study})", r.study)]
        if r.compare:
            twin = twin_name(r.study)
            series.append(
                Series("no transfer", f"no transfer: {r.sampler} ({twin})", twin)
            )
        return series

    def _title(self) -> str:
        r = self.request
        text = f"Study {r.study}: {r.n_trials} trials"
        if r.resume:
            text = f"Study {r.study}, resumed: {r.n_trials} more trials"
        if r.previous is not None:
            text += f", transfer {r.transfer} from {r.previous}"
        if r.compare:
            text += f", beside the no-transfer twin {twin_name(r.study)}"
        return text

    def _assumed_on_confirm(self) -> str:
        """What auto would assume of the added hyperparameters (its
        ``added_defaults``) with the diff's fields as they are, as
        "z=0.5 to have been the default"; "" if nothing."""
        from hptaa_lab.study import previous_trials
        from hptaa_lab.transfer._auto import added_values, describe_assumed

        r = self.request
        widget = self.diff_widget
        if (
            widget is None
            or r.previous is None
            or r.transfer not in ("auto", "auto-last")
            or not r.transfer_options.get("added_defaults", True)
        ):
            return ""
        try:
            mapping = widget.build_mapping()
        except MappingError:
            return ""  # the widget says what does not fit
        try:
            previous = previous_trials(self.store, r.previous)
        except HptaaError:
            return ""  # deleted meanwhile, say: confirming says what is wrong
        _, assumed = added_values(widget.current_space, previous, mapping)
        return describe_assumed(assumed)

    def _summary_lines(self) -> list[str]:
        r = self.request
        state = self.state
        shown = f"stopping ({self.stop_effect})" if self.stopping else state
        head = (
            f"TuneRun {r.study!r}" + (" (resumed)" if r.resume else "") + f": {shown}"
        )
        if r.previous is not None:
            head += f"; transfer {r.transfer} from {r.previous!r}"
        if state == RunState.WAITING and self.diff_widget is not None:
            assumed = self._assumed_on_confirm()
            return [
                head + f"; {r.n_trials} trials planned, none run",
                repr(self.diff_widget),
                *(
                    [
                        f"As it stands, {r.transfer} will take the added {assumed} "
                        "before (the fields give no previous value)."
                    ]
                    if assumed
                    else []
                ),
                "Accept it as shown with run.confirm() (or the Confirm button), or "
                "cancel with run.stop(). To change a rename or a fixed value, use the "
                "widget, or stop and set `mapping` in the cell.",
            ]
        if state == RunState.WAITING or (
            state == RunState.STOPPED and not self._studies
        ):
            return [head + f"; {r.n_trials} trials planned, none run"]
        lines = [head]
        transferring = self._studies.get(r.study)
        if r.previous is not None and transferring is not None:
            # What was confirmed (--yes confirms without showing anything in a
            # terminal); the diff itself is `%hptaa diff` or `hptaa show`.
            mapping = transferring.mapping
            lines.append(
                "  mapping: "
                + (
                    "; ".join(mapping.describe())
                    if not mapping.is_empty
                    else "none (hyperparameters match by name)"
                )
            )
            implied = getattr(transferring.sampler, "implied", None)
            if implied:
                from hptaa_lab.transfer._auto import describe_assumed

                lines.append(
                    f"  {transferring.record.transfer} takes the added "
                    f"{describe_assumed(implied)} before (no previous value in the "
                    "mapping)"
                )
            left = self._unguessed_left_out(mapping)
            if left:
                lines.append(
                    "  not renamed (suggested, not guessed): "
                    + ", ".join(left)
                    + "; to transfer those values, set the right rename in the "
                    "cell's mapping"
                )
        names = self._names()
        width = max(len(n) for n in names)
        # One snapshot of each study's trials for every line below: the run's
        # threads add trials meanwhile ("0/5 trials" beside "after 1 evaluation").
        finished = {
            name: _finished_trials(study) for name, study in self._studies.items()
        }
        for key, name in zip(self._keys(), names, strict=True):
            study = self._studies.get(name)
            if study is not None:
                planned = r.n_trials + self._base.get(name, 0)
                lines.append(
                    f"  {name.ljust(width)}  "
                    + _study_summary(study, finished[name], planned)
                    + ("  (no transfer)" if key == "no transfer" else "")
                )
                failed = [t for t in finished[name] if t.state == TrialState.FAIL]
                if failed:
                    # A terminal shows no red rows: say why trials fail.
                    lines.append(
                        f"  {''.ljust(width)}  last error (trial {failed[-1].number}): "
                        f"{_last_line(failed[-1].error) or 'none recorded'}"
                    )
        if r.compare and len(self._studies) == 2:
            ended = state in (RunState.FINISHED, RunState.STOPPED, RunState.FAILED)
            lines.append("  " + self._speedup_text(list(finished.values()), ended))
        if state == RunState.FAILED and self._errors:
            # A terminal shows no traceback of the run's thread: say why.
            exc = self._errors[0][1]
            lines.append(f"  error: {type(exc).__name__}: {_last_line(str(exc))}")
        return lines

    def _speedup_text(self, finished: list[list[TrialRecord]], ended: bool) -> str:
        """The speedup line of a --compare run, from the finished trials of the
        transfer study and of its twin ("so far" until the run ``ended``)."""
        direction = self.direction
        transfer, scratch = (
            incumbent_trajectory(trials, direction) for trials in finished
        )
        # Both studies compared over the evaluations both have finished.
        n = min(len(transfer), len(scratch))
        label = "speedup" if ended else "speedup so far"
        if n == 0 or math.isnan(scratch[n - 1]):
            return f"{label}: no complete no-transfer trial yet"
        target = scratch[n - 1]
        evals_scratch = evaluations_to_reach(scratch[:n], target, direction)
        evals_transfer = evaluations_to_reach(transfer[:n], target, direction)
        if evals_transfer is None:
            return (
                f"{label}: after {_evaluations(n)} of each, the transfer study has "
                f"not reached the no-transfer incumbent {target:.4g}"
            )
        return (
            f"{label}: {speedup(evals_scratch, evals_transfer):.2f} after "
            f"{_evaluations(n)} of each (the no-transfer incumbent {target:.4g} took "
            f"{_evaluations(evals_scratch)} without transfer, "
            f"{_evaluations(evals_transfer)} with transfer)"
        )


def _evaluations(n: int | None) -> str:
    return f"{n} evaluation" + ("" if n == 1 else "s")


def _finished_trials(study: Study) -> list[TrialRecord]:
    return [t for t in study.trials if t.state != TrialState.RUNNING]


def _finished(study: Study) -> int:
    return len(_finished_trials(study))


def _study_summary(study: Study, trials: list[TrialRecord], n_trials: int) -> str:
    """ "3/5 trials, 0 failed, incumbent ..." from a study's finished ``trials``."""
    failed = sum(t.state == TrialState.FAIL for t in trials)
    best = study.best_of(trials)
    incumbent = (
        "none yet"
        if best is None or best.value is None
        else f"{best.value:.4g} (trial {best.number})"
    )
    counted = (
        f"{len(trials)}/{n_trials} trials"
        if len(trials) <= n_trials
        # Another process tunes the same study too (load_study elsewhere).
        else f"{len(trials)} trials ({n_trials} planned here, more run elsewhere)"
    )
    return f"{counted}, {failed} failed, incumbent {incumbent}"


def _checked(request: TuneRequest, store: TrialStore) -> TuneRequest:
    """Check a request at the boundary; fill the default transfer method."""
    r = request
    if not isinstance(r.n_trials, int) or r.n_trials < 1:
        raise ValueError(
            f"The number of trials must be a positive int; got {r.n_trials!r}."
        )
    if r.workers is not None and (not isinstance(r.workers, int) or r.workers < 1):
        raise ValueError(f"workers must be a positive int; got {r.workers!r}.")
    if not callable(r.objective):
        raise ValueError(
            f"objective must be a function config -> value; got {type(r.objective).__name__}."
        )
    space = as_space(r.space)
    check_seed(r.seed)
    if r.direction not in (None, "minimize", "maximize"):
        raise UnknownNameError("direction", r.direction, ["maximize", "minimize"])
    if r.resume:
        return _checked_resume(r, store, space)
    if r.sampler not in sampler_names():
        raise UnknownNameError("sampler", r.sampler, sampler_names())
    if r.previous is None and (r.transfer is not None or r.compare):
        option = "--transfer" if r.transfer is not None else "--compare"
        raise ValueError(
            f"{option} needs a previous study to transfer from; add --from PREVIOUS, "
            f"or leave {option} out."
        )
    transfer = r.transfer
    options: dict[str, Any] = {}
    if r.previous is not None:
        transfer = transfer or DEFAULT_TRANSFER
        if transfer not in transfer_names():
            raise UnknownNameError("transfer method", transfer, transfer_names())
        if r.sampler == "random":
            raise ValueError(
                "Transfer methods build on a model: use the 'tpe' or 'gp' sampler with "
                "a previous study, not 'random'."
            )
        store.get_study(r.previous)
        options = _checked_options(transfer, r.transfer_options)
    elif r.transfer_options:
        raise ValueError(
            "transfer_options need a previous study to transfer from; add --from "
            "PREVIOUS, or leave transfer_options out of the cell."
        )
    if store.has_study(r.study):
        raise StudyExistsError(r.study, store.shown_url, notebook=True)
    twin = twin_name(r.study)
    if r.compare and len(twin) > MAX_STUDY_NAME:
        # Checked before the transfer study is made, which would stay behind.
        raise ValueError(
            f"--compare names the no-transfer twin {r.study!r} + '-scratch', which "
            f"is longer than a study name may be ({MAX_STUDY_NAME} characters): "
            f"choose a --study name of at most {MAX_STUDY_NAME - len(twin_name(''))} "
            "characters."
        )
    if r.compare and store.has_study(twin):
        raise StudyExistsError(
            twin, store.shown_url, notebook=True, advice=_twin_taken(r, store)
        )
    return replace(
        r,
        space=space,
        transfer=transfer,
        direction=r.direction or "minimize",
        transfer_options=options,
    )


def _twin_taken(request: TuneRequest, store: TrialStore) -> str:
    """What to do when the name of a --compare run's no-transfer twin is taken:
    delete a twin left from an earlier run of the study; a study of its own (the
    --from study, say) is no twin to delete."""
    twin = twin_name(request.study)
    if store.get_study(twin).attrs.get("twin_of") != request.study:
        which = "this run's --from study" if twin == request.previous else "a study"
        return (
            f"{twin!r} is {which} of its own, not a no-transfer twin, and --compare "
            f"names the twin of {request.study!r} {twin!r}: choose another --study "
            "name."
        )
    hidden = store.shown_url != store.url
    return (
        f"It is left from an earlier --compare run of {request.study!r}, which is "
        "gone; --compare needs its name free. Delete it "
        f"(`{delete_command(twin, store.shown_url)}`"
        + (", with the store's password in place of ***" if hidden else "")
        + "), or choose another --study name."
    )


def _checked_resume(
    request: TuneRequest, store: TrialStore, space: CS.ConfigurationSpace
) -> TuneRequest:
    """A request to resume a study, completed from what the store holds; the
    cell may repeat those settings, not change them (its `mapping`, the start
    of a diff that was confirmed when the study was created, is not used)."""
    r = request
    try:
        record = store.get_study(r.study)
    except StudyNotFoundError as exc:
        # Same error, with what to do in a cell: nothing to resume yet.
        exc.args = (
            f"{exc} --resume continues an existing study; leave it out to "
            f"create {r.study!r}.",
        )
        raise
    hint = (
        f"--resume continues {r.study!r} as stored; to tune a changed version, "
        f"start a new study with --from {r.study}"
    )
    changed = diff(space_from_json(record.space_json), space)
    if not changed.is_identical:
        names = [f"{c.name}: {c.label}" for c in changed.changes if not c.unchanged]
        raise ValueError(
            f"The cell's search space differs from the stored space of {r.study!r} "
            f"({'; '.join(names) or 'conditions or forbidden clauses'}). {hint}."
        )
    stored_mapping = Mapping.from_json(record.mapping_json)
    given: list[tuple[str, Any, Any]] = [
        ("--from", r.previous, record.previous),
        ("--transfer", r.transfer, record.transfer),
        ("--seed", r.seed, record.seed),
        ("direction", r.direction, record.direction),
    ]
    # The cell's `mapping` only starts a diff, and the mapping confirmed from it
    # is stored: a resumed study has no diff to show, so it is not compared.
    if r.transfer_options:
        given.append(
            (
                "transfer_options",
                checked_transfer_options(r.transfer_options),
                record.transfer_options,
            )
        )
    for what, value, stored in given:
        if value is not None and value != stored:
            raise ValueError(
                f"{what} {value!r} differs from the stored study's "
                f"{'(none)' if stored is None else repr(stored)}. "
                f"{hint}, or leave {what} out."
            )
    twin = twin_name(r.study)
    if r.compare and (
        record.previous is None
        or twin_links(record, store.find_study)["scratch_twin"] != twin
    ):
        raise ValueError(
            f"--compare with --resume continues the no-transfer twin {twin!r} as "
            f"well, and {r.study!r} has none (a study tuned with --from and "
            "--compare has one); leave --compare out."
        )
    if r.compare:
        twin_record = store.get_study(twin)
        if (
            twin_record.direction != record.direction
            or not diff(space_from_json(twin_record.space_json), space).is_identical
        ):
            raise ValueError(
                f"The twin {twin!r} no longer has {r.study!r}'s search space and "
                "direction, so the two cannot be compared; resume them one at a "
                "time, without --compare."
            )
    return replace(
        r,
        space=space,
        previous=record.previous,
        transfer=record.transfer,
        seed=record.seed,
        sampler=record.sampler,
        direction=record.direction,
        mapping=stored_mapping,
        transfer_options=dict(record.transfer_options),
    )


def _checked_options(method: str, options: Any) -> dict[str, Any]:
    """The cell's transfer options as a dict, checked (JSON, names and values)
    before any study is created or any diff is shown."""
    checked = checked_transfer_options(options)
    check_transfer_options(method, checked)
    return checked
