"""Import a previous study from an Optuna study, and export a study to Optuna."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ConfigSpace as CS
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from hptaa_lab._interrupts import interrupts_deferred
from hptaa_lab.errors import HptaaError
from hptaa_lab.interop._common import (
    ImportResult,
    InteropError,
    Problems,
    coerce_value,
    given_space,
    mask_url,
    plain,
    sentence,
    study_and_store,
    study_record,
    write_import,
)
from hptaa_lab.records import TrialRecord, TrialState
from hptaa_lab.space import hp_kind, space_from_json
from hptaa_lab.space._encoding import CATEGORICAL, CONSTANT, FLOAT, INT, ORDINAL
from hptaa_lab.store import TrialStore, check_study_name

if TYPE_CHECKING:
    from hptaa_lab.study import Study

__all__ = ["export_optuna", "import_optuna"]

logger = logging.getLogger(__name__)

_INSTALL = "pip install 'hptaa_lab[optuna]'"

# Attributes an export leaves in the Optuna study, so an import restores the
# study exactly; other user attributes travel as they are.
_SPACE_ATTR = "hptaa_space_json"
_STUDY_ATTR = "hptaa_study"
_NUMBER_ATTR = "hptaa_number"
_PROPOSED_BY_ATTR = "hptaa_proposed_by"
_ERROR_ATTR = "hptaa_error"
_STARTED_ATTR = "hptaa_started_at"
_FINISHED_ATTR = "hptaa_finished_at"
_OWN_PREFIX = "hptaa_"


def import_optuna(
    storage: Any,
    name: str,
    *,
    optuna_study: str | None = None,
    space: CS.ConfigurationSpace | dict[str, Any] | None = None,
    store: TrialStore | str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a previous study from an Optuna study.

    The COMPLETE trials become trials of a new study (other states are
    skipped); the Optuna direction becomes its direction. Without ``space``,
    the search space is the one an :func:`export_optuna` left in the Optuna
    study, else it is built from the trials' distributions (float and int
    ranges, categorical choices; a step is not kept), with a condition for a
    parameter that only some trials set where a categorical parameter explains
    which (see ``_conditions``); a trial that leaves out a parameter nothing
    explains keeps a partial configuration.

    Args:
        storage: An Optuna storage URL (such as ``sqlite:///optuna.db``) or
            an Optuna storage object.
        name: Name of the new study.
        optuna_study: The study's name in the storage; needed when the storage
            holds several studies.
        space: The search space (ConfigSpace or short dict form) the trials
            belong to; every parameter value is checked against it.
        store: A TrialStore or SQLAlchemy URL; default the default store.
        dry_run: Check everything and return the result, writing nothing.

    Returns:
        What was imported.

    Raises:
        InteropError: optuna is not installed; the storage cannot be read;
            the study is missing, has several objectives or no COMPLETE trial;
            or a parameter does not fit the search space. Nothing is imported.
        StudyExistsError: A study called ``name`` exists.
    """
    check_study_name(name)
    given = given_space(space)
    optuna = _require_optuna("Importing from Optuna")

    with _quiet(optuna), _opened(optuna, storage, create=False) as (opened, shown):
        study_name = _pick_study(optuna, opened, optuna_study, shown)
        loaded = optuna.load_study(study_name=study_name, storage=opened)
        directions = [str(d.name).lower() for d in loaded.directions]
        trials = loaded.get_trials(deepcopy=False)
        user_attrs = dict(loaded.user_attrs)

    source = f"Optuna study {study_name!r} in {shown}"
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    _check_importable(source, directions, trials, complete)

    final, origin = given, ImportResult.GIVEN
    if final is None and isinstance(user_attrs.get(_SPACE_ATTR), str):
        final, origin = space_from_json(user_attrs[_SPACE_ATTR]), ImportResult.EXPORTED
    if final is None:
        final = _space_from_trials(optuna, source, complete)
        origin = ImportResult.INFERRED

    records, trial_attrs = _records(source, complete, final)
    location = {"url": shown} if isinstance(storage, str) else {"storage": shown}
    attrs: dict[str, Any] = {
        "imported_from": "optuna",
        **location,
        "optuna_study": study_name,
    }
    foreign = {k: v for k, v in user_attrs.items() if not k.startswith(_OWN_PREFIX)}
    if foreign:
        attrs["optuna_user_attrs"] = foreign
    record = study_record(name, final, directions[0], attrs)
    return write_import(
        store,
        record,
        records,
        trial_attrs,
        space=final,
        n_skipped=len(trials) - len(complete),
        space_origin=origin,
        dry_run=dry_run,
    )


def export_optuna(
    study: str | Study,
    storage: Any,
    *,
    optuna_study: str | None = None,
    store: TrialStore | str | None = None,
) -> str:
    """Export a study to a new Optuna study, for Optuna's tools (dashboard, plots).

    COMPLETE and FAIL trials are exported (RUNNING ones are not), with their
    configurations, values and times; every hyperparameter becomes an Optuna
    distribution (an ordinal or a constant becomes a categorical one). The
    search space, trial numbers, proposers, error texts and exact times are
    kept as ``hptaa_*`` user attributes, so that :func:`import_optuna` gives
    back the same trials.

    Args:
        study: The study's name (or a Study).
        storage: An Optuna storage URL (such as ``sqlite:///optuna.db``) or
            an Optuna storage object.
        optuna_study: Name of the new Optuna study; default the study's name.
        store: A TrialStore or SQLAlchemy URL holding the study.

    Returns:
        The Optuna study's name.

    Raises:
        InteropError: optuna is not installed, the storage cannot be written,
            or an Optuna study of that name exists.
        StudyNotFoundError: No such study in the trial store.
    """
    optuna = _require_optuna("Exporting to Optuna")
    with study_and_store(study, store) as (name, trial_store):
        record = trial_store.get_study(name)
        trials = trial_store.get_trials(name)
        attrs = trial_store.trial_attrs(name)

    space = space_from_json(record.space_json)
    distributions = {n: _distribution(optuna, hp) for n, hp in space.items()}
    frozen = [
        _frozen_trial(optuna, trial, attrs.get(trial.number, {}), distributions)
        for trial in trials
        if trial.state != TrialState.RUNNING
    ]
    target = optuna_study or name

    with _quiet(optuna), _opened(optuna, storage, create=True) as (opened, shown):
        try:
            created = optuna.create_study(
                storage=opened, study_name=target, direction=record.direction
            )
        except optuna.exceptions.DuplicatedStudyError:
            raise InteropError(
                f"Cannot export study {name!r}: the Optuna storage {shown} already "
                f"has a study named {target!r}. Choose another name (optuna_study= "
                "in Python, --optuna-study on the command line)."
            ) from None
        try:
            created.set_user_attr(_SPACE_ATTR, record.space_json)
            created.set_user_attr(_STUDY_ATTR, name)
            created.add_trials(frozen)
        except BaseException:
            # A Ctrl-C (or a failed write) midway would leave an Optuna study of
            # part of the trials, which reads as the whole study: remove it.
            with interrupts_deferred():
                _remove_partial(optuna, opened, target, shown)
            raise

    n_running = len(trials) - len(frozen)
    logger.info(
        "Exported %d trials of study %r to Optuna study %r in %s (%d running left out)",
        len(frozen),
        name,
        target,
        shown,
        n_running,
    )
    return target


def _remove_partial(optuna: Any, storage: Any, target: str, shown: str) -> None:
    """Delete the Optuna study an export started and could not finish."""
    try:
        optuna.delete_study(study_name=target, storage=storage)
    except Exception as exc:  # the storage may be why the export failed
        logger.warning(
            "The export did not finish, and the Optuna study %r it started in %s "
            "holds part of the trials and could not be removed (%s); delete it with "
            "optuna.delete_study before exporting again.",
            target,
            shown,
            exc,
        )


# -- Optuna and its storage ----------------------------------------------------


def _require_optuna(action: str) -> Any:
    try:
        import optuna
    except ImportError:
        raise InteropError(
            f"{action} needs the optuna package, an optional extra of hptaa_lab: "
            f"{_INSTALL}."
        ) from None
    return optuna


@contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Keep Optuna's own INFO lines off the user's screen."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


@contextmanager
def _opened(optuna: Any, storage: Any, *, create: bool) -> Iterator[tuple[Any, str]]:
    """An Optuna storage and how to show it; database errors become InteropError."""
    if not isinstance(storage, str):
        yield storage, type(storage).__name__
        return

    shown = mask_url(storage)
    if not create:
        _check_is_optuna_storage(storage, shown)
    rdb = None
    try:
        rdb = optuna.storages.RDBStorage(storage)
        yield rdb, shown
    except HptaaError:
        raise
    except (sa_exc.SQLAlchemyError, RuntimeError) as exc:
        reason = sentence(getattr(exc, "orig", None) or exc)
        raise InteropError(
            f"Cannot use the Optuna storage at {shown}: {reason} Check the URL, "
            "and that its database server is running and reachable."
        ) from None
    finally:
        if rdb is not None:
            rdb.remove_session()
            rdb.engine.dispose()


def _check_is_optuna_storage(url: str, shown: str) -> None:
    """Refuse a URL that names no Optuna storage, before Optuna creates one."""
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        raise InteropError(
            f"Cannot read the Optuna storage {shown!r}: not a database URL. Use "
            "the URL Optuna was given, such as sqlite:///optuna.db."
        ) from None
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if is_file and not Path(database).expanduser().is_file():
        raise InteropError(
            f"Cannot read the Optuna storage at {shown}: there is no file "
            f"{database}. Check the path in the URL."
        )

    try:
        engine = sa.create_engine(parsed)
    except (sa_exc.ArgumentError, ImportError) as exc:
        raise InteropError(
            f"Cannot read the Optuna storage at {shown}: {sentence(exc)} Install "
            "the database driver the URL names, or fix the URL."
        ) from None
    try:
        with engine.connect() as conn:
            has_studies = sa.inspect(conn).has_table("studies")
    except sa_exc.DBAPIError as exc:
        raise InteropError(
            f"Cannot read the Optuna storage at {shown}: {sentence(exc.orig)} Check "
            "that the database server is running and reachable, and that the URL "
            "is right."
        ) from None
    finally:
        engine.dispose()
    if not has_studies:
        raise InteropError(
            f"Cannot read the Optuna storage at {shown}: the database holds no "
            "Optuna study (no 'studies' table). Check the URL."
        )


def _pick_study(optuna: Any, storage: Any, wanted: str | None, shown: str) -> str:
    names = sorted(optuna.study.get_all_study_names(storage))
    listing = ", ".join(repr(n) for n in names) or "(none)"
    if wanted is not None and wanted not in names:
        raise InteropError(
            f"The Optuna storage {shown} has no study named {wanted!r}; its "
            f"studies are {listing}."
        )
    if wanted is not None:
        return wanted
    if len(names) != 1:
        raise InteropError(
            f"The Optuna storage {shown} holds {len(names)} studies ({listing}); "
            "name the one to import (optuna_study= in Python, --optuna-study on "
            "the command line)."
        )
    return str(names[0])


def _check_importable(
    source: str, directions: list[str], trials: list[Any], complete: list[Any]
) -> None:
    """Refuse a multi-objective study or one without a COMPLETE trial."""
    if len(directions) != 1:
        raise InteropError(
            f"Cannot import {source}: it has {len(directions)} objectives "
            f"({', '.join(directions)}), and an hptaa_lab study has one objective "
            "value. Export the objective you want to transfer as a table, e.g. "
            "study.trials_dataframe(), and import that with import_dataframe("
            "objective=...)."
        )
    if not complete:
        counts: dict[str, int] = {}
        for trial in trials:
            counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
        states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        raise InteropError(
            f"Cannot import {source}: it has no COMPLETE trial "
            f"({len(trials)} trials{': ' + states if states else ''}); there is "
            "nothing to transfer from."
        )


# -- search spaces and trials --------------------------------------------------


def _space_from_trials(
    optuna: Any, source: str, complete: list[Any]
) -> CS.ConfigurationSpace:
    """One hyperparameter per parameter, its distributions merged across trials."""
    seen: dict[str, list[tuple[int, Any]]] = {}
    for trial in complete:
        for name, distribution in trial.distributions.items():
            seen.setdefault(name, []).append((trial.number, distribution))
    space = CS.ConfigurationSpace()
    for name, found in seen.items():
        space.add(_merged(optuna, source, name, found))
    for condition in _conditions(space, [dict(t.params) for t in complete]):
        space.add(condition)
    return space


def _conditions(
    space: CS.ConfigurationSpace, params: list[dict[str, Any]]
) -> list[Any]:
    """Conditions that explain which trials set a parameter (define-by-run:
    ``lr`` only when ``kind == "b"``): for a parameter some trials leave out,
    the first categorical parameter that every trial setting it sets too, and
    whose values where it is set never occur where it is not; else the first
    number that every trial sets and that is above (or below) a threshold
    exactly where it is set (``dropout`` only when ``layers > 2``). A parameter
    that no other parameter explains so stays unconditional (those trials keep
    a partial configuration)."""
    conditions = []
    for child in space:
        if all(child in p for p in params):
            continue
        condition = _by_choice(space, params, child)
        if condition is None:
            condition = _by_threshold(space, params, child)
        if condition is not None:
            conditions.append(condition)
    return conditions


def _by_choice(
    space: CS.ConfigurationSpace, params: list[dict[str, Any]], child: str
) -> Any:
    """The condition on a categorical parameter that explains which trials set
    ``child`` (see :func:`_conditions`), or None."""
    for parent in space:
        hp = space[parent]
        if parent == child or not isinstance(hp, CS.CategoricalHyperparameter):
            continue
        if any(child in p and parent not in p for p in params):
            continue
        set_with = [p[parent] for p in params if child in p]
        set_without = [p[parent] for p in params if parent in p and child not in p]
        if not set_without or any(_has_choice(set_with, v) for v in set_without):
            continue
        values = [c for c in hp.choices if _has_choice(set_with, c)]
        return (
            CS.EqualsCondition(space[child], hp, values[0])
            if len(values) == 1
            else CS.InCondition(space[child], hp, values)
        )
    return None


def _by_threshold(
    space: CS.ConfigurationSpace, params: list[dict[str, Any]], child: str
) -> Any:
    """The condition ``parent > t`` (or ``< t``) on a number every trial sets
    that explains which trials set ``child``: for an int, ``t`` is the nearest
    value of a trial without it; for a float, halfway to the nearest trial
    with it (ConfigSpace compares on its own scale, where a trial at ``t``
    itself may round to either side). None if no number does."""
    for parent in space:
        hp = space[parent]
        numeric = isinstance(
            hp, CS.UniformIntegerHyperparameter | CS.UniformFloatHyperparameter
        )
        if parent == child or not numeric or any(parent not in p for p in params):
            continue
        set_with = [p[parent] for p in params if child in p]
        set_without = [p[parent] for p in params if child not in p]
        whole = isinstance(hp, CS.UniformIntegerHyperparameter)
        if max(set_without) < min(set_with):
            low, high = max(set_without), min(set_with)
            at = low if whole else (low + high) / 2
            return CS.GreaterThanCondition(space[child], hp, at)
        if min(set_without) > max(set_with):
            low, high = max(set_with), min(set_without)
            at = high if whole else (low + high) / 2
            return CS.LessThanCondition(space[child], hp, at)
    return None


def _merged(optuna: Any, source: str, name: str, found: list[tuple[int, Any]]) -> Any:
    """The hyperparameter covering every distribution a parameter had."""
    dists = optuna.distributions
    kinds = {type(d).__name__: number for number, d in reversed(found)}
    if len(kinds) > 1:
        where = ", ".join(f"{kind} in trial {n}" for kind, n in kinds.items())
        raise InteropError(
            f"Cannot import {source}: parameter {name!r} changes kind between "
            f"trials ({where}). Pass a search space (space=, --space) that holds "
            "every value it took."
        )

    first = found[0][1]
    if isinstance(first, dists.CategoricalDistribution):
        choices: list[Any] = []
        for _, d in found:
            choices += [c for c in d.choices if not _has_choice(choices, c)]
        return CS.Categorical(name, choices)
    if not isinstance(first, dists.FloatDistribution | dists.IntDistribution):
        raise InteropError(
            f"Cannot import {source}: parameter {name!r} has a distribution "
            f"hptaa_lab does not know ({type(first).__name__}). Pass a search "
            "space (space=, --space)."
        )

    if len({d.log for _, d in found}) > 1:
        raise InteropError(
            f"Cannot import {source}: parameter {name!r} is on log scale in some "
            "trials and not in others. Pass a search space (space=, --space)."
        )
    if any(d.step not in (None, 1) for _, d in found):
        logger.info("Parameter %r of %s: its step is not kept", name, source)
    is_int = isinstance(first, dists.IntDistribution)
    low = min(d.low for _, d in found)
    high = max(d.high for _, d in found)
    if low == high:
        return CS.Constant(name, int(low) if is_int else float(low))
    if is_int:
        return CS.Integer(name, (int(low), int(high)), log=first.log)
    return CS.Float(name, (float(low), float(high)), log=first.log)


def _has_choice(choices: list[Any], candidate: Any) -> bool:
    """Membership that tells True from 1."""
    return any(type(c) is type(candidate) and c == candidate for c in choices)


def _records(
    source: str, complete: list[Any], space: CS.ConfigurationSpace
) -> tuple[list[TrialRecord], list[dict[str, Any]]]:
    """The trials to store and their attributes; parameters checked on the space."""
    problems = Problems(source, column_word="parameter")
    records, attrs = [], []
    n_partial = 0
    for k, trial in enumerate(complete):
        where = f"trial {trial.number}"
        config: dict[str, Any] = {}
        for name, value in trial.params.items():
            if name not in space:
                problems.add(k, where, name, "not a hyperparameter of the search space")
                continue
            legal, why = coerce_value(space[name], value)
            if why is not None:
                problems.add(k, where, name, why)
            config[name] = legal
        n_partial += any(n not in config for n in space if not space.parents_of[n])
        value = float(trial.value)
        if not math.isfinite(value):
            problems.add(k, where, None, f"objective value {value} is not finite")

        user = dict(trial.user_attrs)
        records.append(
            TrialRecord(
                number=k,
                config=config,
                state=TrialState.COMPLETE,
                value=value,
                started_at=_time(user, _STARTED_ATTR, trial.datetime_start),
                finished_at=_time(user, _FINISHED_ATTR, trial.datetime_complete),
                proposed_by=str(user.get(_PROPOSED_BY_ATTR) or "optuna"),
            )
        )
        own = {k: v for k, v in user.items() if not k.startswith(_OWN_PREFIX)}
        attrs.append({**own, "optuna_number": trial.number})

    problems.raise_if_any(
        "Pass a search space that holds these values (space=, --space), or leave "
        "it out to build one from the Optuna distributions."
    )
    if n_partial:
        logger.info(
            "%d trials of %s do not set every hyperparameter; they are kept as "
            "partial configurations",
            n_partial,
            source,
        )
    return records, attrs


def _time(user_attrs: dict[str, Any], key: str, fallback: datetime | None) -> Any:
    """A trial time in UTC: the exact one an export kept, else Optuna's own.

    Optuna keeps naive local times; they are read as local time.
    """
    if key in user_attrs:
        kept = user_attrs[key]
        try:
            return None if kept is None else datetime.fromisoformat(kept)
        except (TypeError, ValueError):
            logger.debug("Ignored the unreadable time %r in %s", kept, key)
    if fallback is None:
        return None
    return fallback.astimezone(UTC)


def _distribution(optuna: Any, hp: Any) -> Any:
    """The Optuna distribution of a hyperparameter."""
    dists = optuna.distributions
    kind = hp_kind(hp)
    if kind == FLOAT:
        return dists.FloatDistribution(float(hp.lower), float(hp.upper), log=hp.log)
    if kind == INT:
        return dists.IntDistribution(int(hp.lower), int(hp.upper), log=hp.log)
    if kind == CATEGORICAL:
        return dists.CategoricalDistribution([plain(c) for c in hp.choices])
    if kind == ORDINAL:
        return dists.CategoricalDistribution([plain(c) for c in hp.sequence])
    assert kind == CONSTANT
    return dists.CategoricalDistribution([plain(hp.value)])


def _frozen_trial(
    optuna: Any,
    trial: TrialRecord,
    attrs: dict[str, Any],
    distributions: dict[str, Any],
) -> Any:
    """An Optuna trial holding one finished trial and what Optuna cannot keep."""
    unknown = [name for name in trial.config if name not in distributions]
    if unknown:
        raise InteropError(
            f"Cannot export trial {trial.number}: its configuration sets "
            f"{', '.join(repr(u) for u in unknown)}, which the study's search "
            "space lacks."
        )
    floats = optuna.distributions.FloatDistribution
    params = {
        name: float(v) if isinstance(distributions[name], floats) else v
        for name, v in trial.config.items()
    }
    user_attrs = {
        **attrs,
        _NUMBER_ATTR: trial.number,
        _PROPOSED_BY_ATTR: trial.proposed_by,
        _STARTED_ATTR: _iso(trial.started_at),
        _FINISHED_ATTR: _iso(trial.finished_at),
    }
    if trial.error is not None:
        user_attrs[_ERROR_ATTR] = trial.error

    # Optuna needs both times of a finished trial; it keeps naive local times.
    known = trial.started_at or trial.finished_at or datetime.now(UTC)
    started = (trial.started_at or known).astimezone().replace(tzinfo=None)
    finished = (trial.finished_at or known).astimezone().replace(tzinfo=None)
    complete = trial.state == TrialState.COMPLETE
    states = optuna.trial.TrialState
    frozen = optuna.trial.FrozenTrial(
        number=trial.number,
        state=states.COMPLETE if complete else states.FAIL,
        value=trial.value if complete else None,
        datetime_start=started,
        datetime_complete=finished,
        params=params,
        distributions={name: distributions[name] for name in params},
        user_attrs=user_attrs,
        system_attrs={},
        intermediate_values={},
        trial_id=0,
    )
    try:
        frozen._validate()
    except ValueError as exc:
        raise InteropError(
            f"Cannot export trial {trial.number} to Optuna: {exc}"
        ) from None
    return frozen


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()
