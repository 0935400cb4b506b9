"""The evaluation protocol of the HT-AA paper (Stoll et al. 2020, section 4), and its
arithmetic.

For every benchmark, task, previous budget ``b_old`` and seed (one *unit*):

1. the previous HPO: plain TPE over the previous search space for ``b_old``
   evaluations; for a chain benchmark also plain TPE for ``b_old`` evaluations
   over each older version (``Benchmark.ancestors``), whose trials transfer
   methods get as the ancestors of the previous trials;
2. the current HPO of every method over the current search space, at least
   ``MIN_EVALUATIONS`` and at most ``MAX_EVALUATIONS`` evaluations, stopping
   once the incumbent reaches the target of the largest target budget. For
   each target the first evaluation whose incumbent reaches it is recorded
   (evaluations-to-target; never reached = failure).

The targets are the mean incumbent of the no-transfer TPE after 10, 20 and 40
evaluations over the current space, from reference runs whose seeds are
disjoint from the sweep's. Speedup = mean evaluations-to-target of TPE divided
by the method's (ratio of means over seeds, a failure counted as
``MAX_EVALUATIONS``), per benchmark, task, ``b_old`` and target; geometric mean
over tasks, then over benchmarks.

Samplers run in memory (ask, evaluate, tell): no Study and no trial store.
``run`` executes a sweep (on Dask with ``workers``) and returns its tidy table;
``speedups``, ``speedup_grid``, ``failure_rates`` and ``improvements`` turn the
table into the paper's figures, and ``relative_evaluations`` gives each
method's evaluations-to-target relative to TPE's (the measure of the inverted
benchmarks).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace

from hptaa_lab.benchmarks._base import Benchmark, Objective, Version, get
from hptaa_lab.errors import UnknownNameError
from hptaa_lab.samplers import Sampler, make_sampler
from hptaa_lab.space import Mapping as SpaceMapping
from hptaa_lab.transfer import PreviousTrials, make_transfer
from hptaa_lab.transfer import names as transfer_names

__all__ = [
    "MAX_EVALUATIONS",
    "MIN_EVALUATIONS",
    "PAPER_METHODS",
    "PREVIOUS_BUDGETS",
    "REFERENCE_SEEDS",
    "TARGET_BUDGETS",
    "Targets",
    "Unit",
    "compute_targets",
    "failure_rates",
    "geometric_mean",
    "improvements",
    "method_names",
    "previous_trials",
    "relative_evaluations",
    "run",
    "run_unit",
    "speedup_grid",
    "speedups",
]

logger = logging.getLogger(__name__)

TARGET_BUDGETS = (10, 20, 40)
"""Budgets of the reference TPE whose mean incumbents are the targets."""
PREVIOUS_BUDGETS = (10, 20, 40)
"""Budgets b_old of the previous HPO."""
MIN_EVALUATIONS = 40
"""Evaluations every current HPO runs at least."""
MAX_EVALUATIONS = 400
"""Evaluations every current HPO runs at most; a failure counts as this many."""
REFERENCE_SEEDS = 50
"""Reference TPE runs whose mean incumbents define the targets."""
PAPER_METHODS = (
    "tpe",
    "best-first",
    "t2pe",
    "best-first+t2pe",
    "only-new",
    "drop-unimportant",
)
"""The methods of the paper's table (TPE flavours)."""
REFERENCE_METHOD = "tpe"
"""The method every speedup, failure rate and improvement compares with."""
GP_SUFFIX = "/gp"
"""Suffix of the GP flavour of a transfer method, e.g. "best-first+t2pe/gp"."""
IMPROVEMENT_EPS = 1e-12
"""Added to TPE's standard deviation in the improvement."""

_PLAIN = ("random", "tpe", "gp")
# Seed streams: each run's seed is drawn from SeedSequence([seed, stream]), so
# previous, current and reference runs never share a seed. The k-th ancestor of
# a chain benchmark (nearest first, k from 0) draws from _ANCESTOR_STREAM + k.
_PREVIOUS_STREAM, _CURRENT_STREAM, _REFERENCE_STREAM = 0, 1, 2
_ANCESTOR_STREAM = 3


def method_names() -> list[str]:
    """Every method the protocol runs.

    Returns:
        "random", "tpe", "gp", then each transfer method (TPE flavour) and its
        GP flavour (name + "/gp").
    """
    transfer = transfer_names()
    return [*_PLAIN, *transfer, *(name + GP_SUFFIX for name in transfer)]


def check_methods(methods: Sequence[str]) -> list[str]:
    """Check method names and return them canonical (lower case), in order.

    Raises:
        UnknownNameError: Naming the first unknown method and the valid ones.
    """
    valid = method_names()
    out = []
    for method in methods:
        if method.lower() not in valid:
            raise UnknownNameError("method", method, valid)
        if method.lower() not in out:
            out.append(method.lower())
    return out


def derive_seed(seed: int, stream: int) -> int:
    """A sampler seed for run ``seed`` of one stream (previous, current,
    reference), from numpy's SeedSequence."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0])


@dataclass(frozen=True)
class Targets:
    """Targets of one benchmark task: TPE's mean incumbent after each budget.

    Attributes:
        benchmark: Benchmark name.
        task: Task name.
        budgets: Target budgets, e.g. (10, 20, 40).
        values: Mean incumbent after each budget over the reference runs.
        reference_seeds: Number of reference runs.
    """

    benchmark: str
    task: str
    budgets: tuple[int, ...]
    values: tuple[float, ...]
    reference_seeds: int


def compute_targets(
    benchmark: str,
    task: str,
    *,
    reference_seeds: int = REFERENCE_SEEDS,
    budgets: Sequence[int] = TARGET_BUDGETS,
) -> Targets:
    """Run the reference TPE runs of one task and average their incumbents.

    Cached per process. Run ``r`` (0 <= r < reference_seeds) uses the seed
    ``derive_seed(r, 2)``, a stream no sweep run draws from.

    Args:
        benchmark: Benchmark name.
        task: Task name.
        reference_seeds: Number of reference runs.
        budgets: Budgets after which the incumbents are averaged.

    Returns:
        The targets.
    """
    return _compute_targets(benchmark, task, reference_seeds, tuple(budgets))


@functools.cache
def _compute_targets(
    benchmark: str, task: str, reference_seeds: int, budgets: tuple[int, ...]
) -> Targets:
    bench = get(benchmark, task)
    horizon = max(budgets)
    incumbents = np.empty((reference_seeds, len(budgets)))
    for r in range(reference_seeds):
        sampler = make_sampler(
            "tpe", bench.current_space, derive_seed(r, _REFERENCE_STREAM)
        )
        trajectory = _optimize(bench.current_objective, sampler, horizon)
        incumbents[r] = [trajectory[b - 1] for b in budgets]
    values = tuple(float(v) for v in incumbents.mean(axis=0))
    logger.info("Targets of %s on %s: %s", benchmark, task, values)
    return Targets(bench.name, bench.task, budgets, values, reference_seeds)


def _optimize(
    objective: Callable[[dict[str, Any]], float], sampler: Sampler, n: int
) -> list[float]:
    """Run ``n`` evaluations; the incumbent after each."""
    best = math.inf
    trajectory = []
    for _ in range(n):
        config = sampler.ask().config
        value = objective(config)
        sampler.tell(config, value)
        best = min(best, value)
        trajectory.append(best)
    return trajectory


@dataclass(frozen=True)
class Unit:
    """One unit of work: a previous HPO and every method's current HPO.

    Attributes:
        benchmark: Benchmark name.
        task: Task name.
        previous_budget: b_old, evaluations of the previous HPO (and of the
            HPO of each older version of a chain benchmark).
        seed: Seed index of the sweep (0, 1, ...).
        methods: Methods to run (canonical names).
        targets: Target values, one per budget in ``target_budgets``.
        target_budgets: The budgets that define the targets.
        use_mapping: Give transfer methods the benchmark's previous and current
            fixed values as a Mapping (off in the paper's setting).
        min_evaluations: Evaluations every current HPO runs at least.
        max_evaluations: Evaluations every current HPO runs at most.
    """

    benchmark: str
    task: str
    previous_budget: int
    seed: int
    methods: tuple[str, ...]
    targets: tuple[float, ...]
    target_budgets: tuple[int, ...] = TARGET_BUDGETS
    use_mapping: bool = False
    min_evaluations: int = MIN_EVALUATIONS
    max_evaluations: int = MAX_EVALUATIONS

    @property
    def key(self) -> str:
        """Identifies the unit in a results file."""
        return f"{self.benchmark}|{self.task}|{self.previous_budget}|{self.seed}"


def run_unit(unit: Unit) -> list[dict[str, Any]]:
    """Run one unit: the shared previous HPO, then each method's current HPO.

    The previous HPOs (see :func:`previous_trials`) are shared by every
    transfer method of the unit; every current HPO uses the seed
    ``derive_seed(seed, 1)``, so methods differ only by what they do with the
    previous trials.

    Args:
        unit: What to run.

    Returns:
        One row per method: the unit's fields, ``method``,
        ``n_evaluations``, ``evals_to_target_<b>`` (None where never reached)
        and ``best_<b>`` for each target budget b, ``best_final``,
        ``target_<b>``, ``previous_best``, ``seconds`` and ``cpu_seconds``
        (wall and CPU time of the run; the first method's include the previous
        HPOs) and ``trajectory`` (the incumbent after each of the first
        ``min_evaluations`` evaluations). Rows of a chain benchmark also hold
        ``n_ancestors`` (older versions tuned before the previous one),
        ``ancestor_budget`` (evaluations of each of their HPOs, b_old) and
        ``ancestor_best`` (best value of the nearest one's HPO, in its own
        objective).
    """
    with _quiet_fallbacks():
        return _run_unit(unit)


@contextlib.contextmanager
def _quiet_fallbacks() -> Iterator[None]:
    """Transfer methods warn when they fall back to plain TPE (e.g. only-new with
    no new hyperparameter); the protocol expects that, so such warnings are
    dropped while a unit runs."""
    transfer_logger = logging.getLogger("hptaa_lab.transfer")
    level = transfer_logger.level
    transfer_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        transfer_logger.setLevel(level)


def _run_unit(unit: Unit) -> list[dict[str, Any]]:
    bench = get(unit.benchmark, unit.task)
    started = time.perf_counter()
    cpu_started = time.process_time()
    previous = previous_trials(bench, unit)
    previous_seconds = time.perf_counter() - started
    previous_cpu = time.process_time() - cpu_started

    mapping = (
        _fixed_mapping(bench.previous_fixed, bench.current_fixed)
        if unit.use_mapping
        else None
    )
    chain: dict[str, Any] = {}
    if previous.ancestors:
        chain = {
            "n_ancestors": len(previous.ancestors),
            "ancestor_budget": unit.previous_budget,
            "ancestor_best": min(previous.ancestors[0].values),
        }
    rows = []
    for method in unit.methods:
        started = time.perf_counter()
        cpu_started = time.process_time()
        sampler = make_method(
            method,
            bench,
            previous,
            derive_seed(unit.seed, _CURRENT_STREAM),
            mapping,
        )
        row = _current_run(bench, sampler, unit)
        rows.append(
            {
                "benchmark": unit.benchmark,
                "task": unit.task,
                "previous_budget": unit.previous_budget,
                "seed": unit.seed,
                "method": method,
                **row,
                "previous_best": min(previous.values),
                **chain,
                "seconds": time.perf_counter() - started + previous_seconds,
                "cpu_seconds": time.process_time() - cpu_started + previous_cpu,
            }
        )
        previous_seconds = previous_cpu = 0.0
    return rows


def previous_trials(bench: Benchmark, unit: Unit) -> PreviousTrials:
    """Run the previous HPOs of a unit: its previous trials as transfer methods
    get them.

    Plain TPE runs ``unit.previous_budget`` evaluations over the previous
    version (seed ``derive_seed(seed, 0)``) and, for a chain benchmark, over
    each older version (the k-th ancestor, nearest first from k = 0, with seed
    ``derive_seed(seed, 3 + k)``). The older versions' trials become the
    ``ancestors`` of the previous trials, nearest first, as a study chain
    gives them. With ``unit.use_mapping`` each study's ``incoming`` is the
    mapping of the adjustment into it (the fixed values of the version before
    it); without, it is None.

    Args:
        bench: The unit's benchmark.
        unit: The unit.

    Returns:
        The previous trials, with their ancestors.
    """
    budget, seed = unit.previous_budget, unit.seed
    older = bench.ancestors
    ancestors = tuple(
        _tpe_trials(
            version.space,
            version.objective,
            budget,
            derive_seed(seed, _ANCESTOR_STREAM + k),
            study=f"{bench.name} {version.name} ({bench.task})",
            incoming=_incoming(older[k + 1 :], unit.use_mapping),
        )
        for k, version in enumerate(older)
    )
    return _tpe_trials(
        bench.previous_space,
        bench.previous_objective,
        budget,
        derive_seed(seed, _PREVIOUS_STREAM),
        study=f"{bench.name} previous ({bench.task})",
        incoming=_incoming(older, unit.use_mapping),
        ancestors=ancestors,
    )


def _tpe_trials(
    space: ConfigurationSpace,
    objective: Objective,
    budget: int,
    seed: int,
    *,
    study: str,
    incoming: SpaceMapping | None = None,
    ancestors: tuple[PreviousTrials, ...] = (),
) -> PreviousTrials:
    """Plain TPE for ``budget`` evaluations; its trials."""
    sampler = make_sampler("tpe", space, seed)
    configs, values = [], []
    for _ in range(budget):
        config = sampler.ask().config
        configs.append(config)
        values.append(objective(config))
        sampler.tell(config, values[-1])
    return PreviousTrials(
        space=space,
        configs=tuple(configs),
        values=tuple(values),
        numbers=tuple(range(len(configs))),
        study=study,
        incoming=incoming,
        ancestors=ancestors,
    )


def _incoming(older: Sequence[Version], use_mapping: bool) -> SpaceMapping | None:
    """The mapping into a version from the next older one (``older[0]``)."""
    if not use_mapping or not older:
        return None
    return _fixed_mapping(older[0].previous_fixed, older[0].current_fixed)


def _fixed_mapping(
    previous_fixed: Mapping[str, Any], current_fixed: Mapping[str, Any]
) -> SpaceMapping:
    return SpaceMapping(
        previous_fixed=dict(previous_fixed), current_fixed=dict(current_fixed)
    )


def make_method(
    method: str,
    bench: Benchmark,
    previous: PreviousTrials,
    seed: int,
    mapping: SpaceMapping | None = None,
) -> Sampler:
    """The sampler of one protocol method over the current space.

    Args:
        method: One of :func:`method_names`.
        bench: The benchmark.
        previous: The previous HPO's trials (ignored by random, tpe, gp).
        seed: Seed of the sampler.
        mapping: Passed to transfer methods.

    Returns:
        The sampler.

    Raises:
        UnknownNameError: If the method is unknown.
    """
    name = check_methods([method])[0]
    if name in _PLAIN:
        return make_sampler(name, bench.current_space, seed)
    base, _, model = name.partition("/")
    return make_transfer(
        base,
        bench.current_space,
        previous,
        mapping=mapping,
        model=model or "tpe",
        seed=seed,
    )


def _current_run(bench: Benchmark, sampler: Sampler, unit: Unit) -> dict[str, Any]:
    targets = unit.targets
    stop_at = min(targets)
    reached: list[int | None] = [None] * len(targets)
    best = math.inf
    bests: dict[int, float] = {}
    trajectory: list[float] = []
    n = 0
    while n < unit.max_evaluations:
        config = sampler.ask().config
        value = bench.current_objective(config)
        sampler.tell(config, value)
        n += 1
        best = min(best, value)
        if n <= unit.min_evaluations:
            trajectory.append(best)
        if n in unit.target_budgets:
            bests[n] = best
        for k, target in enumerate(targets):
            if reached[k] is None and best <= target:
                reached[k] = n
        if n >= unit.min_evaluations and best <= stop_at:
            break
    row: dict[str, Any] = {"n_evaluations": n}
    for k, budget in enumerate(unit.target_budgets):
        row[f"evals_to_target_{budget}"] = reached[k]
    for budget in unit.target_budgets:
        row[f"best_{budget}"] = bests.get(budget, best)
    row["best_final"] = best
    for budget, target in zip(unit.target_budgets, targets, strict=True):
        row[f"target_{budget}"] = target
    row["trajectory"] = trajectory
    return row


def run(
    benchmarks: Sequence[str] | None = None,
    methods: Sequence[str] = PAPER_METHODS,
    previous_budgets: Sequence[int] = PREVIOUS_BUDGETS,
    seeds: int = 25,
    *,
    workers: int | None = None,
    out: str | Path | None = None,
    reference_seeds: int = REFERENCE_SEEDS,
    use_mapping: bool = False,
    progress: Callable[[int, int], None] | None = None,
    suite: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Run a sweep of the protocol and return its tidy results table.

    Args:
        benchmarks: Benchmark names, each optionally with one task
            ("NAS-A:cifar10"); None (and no ``suite``) runs the paper's eight
            benchmarks on every task.
        methods: Methods (see :func:`method_names`); "tpe" is always added, as
            every comparison needs it.
        previous_budgets: Budgets b_old of the previous HPO.
        seeds: Number of seeds (0 .. seeds - 1).
        workers: Run units on a Dask LocalCluster of this many processes (one
            BLAS thread each); None runs them one after another here.
        out: Folder for the streamed results, manifest and targets; a rerun
            with the same folder skips finished units. None keeps nothing.
        reference_seeds: Reference TPE runs per task for the targets.
        use_mapping: Give transfer methods the benchmark's fixed values.
        progress: Called with (finished units, all units) after each unit.
        suite: Also run every benchmark of these suites on every task: "paper",
            "chain", "inverted" or "all", or a list of them.

    Returns:
        One row per unit and method (see :func:`run_unit`), without the
        trajectories.

    Raises:
        UnknownNameError: For an unknown benchmark, task, method or suite.
        ValueError: For budgets or seeds that are not positive integers, or an
            ``out`` folder that holds a sweep of another configuration.
    """
    from hptaa_lab.benchmarks._sweep import SweepConfig, run_sweep

    config = SweepConfig.create(
        benchmarks,
        methods,
        previous_budgets,
        seeds,
        reference_seeds=reference_seeds,
        use_mapping=use_mapping,
        suite=suite,
    )
    frame = run_sweep(config, out=out, workers=workers, progress=progress)
    return frame.drop(columns=["trajectory"], errors="ignore")


# ---------------------------------------------------------------------------
# Arithmetic of the protocol


def geometric_mean(values: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Geometric mean of positive values (NaN if there are none)."""
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if len(array) == 0:
        return math.nan
    return float(np.exp(np.mean(np.log(array))))


def _target_budgets(frame: pd.DataFrame) -> list[int]:
    prefix = "evals_to_target_"
    return sorted(int(c[len(prefix) :]) for c in frame.columns if c.startswith(prefix))


def _long_evaluations(frame: pd.DataFrame, max_evaluations: int) -> pd.DataFrame:
    """One row per run and target: evaluations-to-target with failures as
    ``max_evaluations``, and whether the run failed."""
    keys = ["benchmark", "task", "previous_budget", "seed", "method"]
    parts = []
    for budget in _target_budgets(frame):
        evals = pd.to_numeric(frame[f"evals_to_target_{budget}"], errors="coerce")
        part = frame[keys].copy()
        part["target_budget"] = budget
        part["failed"] = evals.isna().to_numpy()
        part["evaluations"] = evals.fillna(max_evaluations).to_numpy(dtype=float)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def speedups(
    frame: pd.DataFrame,
    *,
    reference: str = REFERENCE_METHOD,
    max_evaluations: int = MAX_EVALUATIONS,
) -> pd.DataFrame:
    """Speedup and failure rate per benchmark, task, b_old, target and method.

    Speedup = mean over seeds of the reference's evaluations-to-target divided
    by the mean over seeds of the method's (ratio of means), a failure counted
    as ``max_evaluations``. Only seeds that both ran count.

    Args:
        frame: Results table (rows of :func:`run_unit`).
        reference: The method compared with ("tpe").
        max_evaluations: What a failure counts as.

    Returns:
        Columns benchmark, task, previous_budget, target_budget, method,
        mean_evaluations, reference_evaluations, speedup, failure_rate,
        n_seeds.
    """
    long = _long_evaluations(frame, max_evaluations)
    keys = ["benchmark", "task", "previous_budget", "target_budget"]
    base = long[long["method"] == reference][[*keys, "seed", "evaluations"]]
    base = base.rename(columns={"evaluations": "reference_evaluations"})
    merged = long.merge(base, on=[*keys, "seed"], how="inner")
    grouped = merged.groupby([*keys, "method"], sort=True)
    table = grouped.agg(
        mean_evaluations=("evaluations", "mean"),
        reference_evaluations=("reference_evaluations", "mean"),
        failure_rate=("failed", "mean"),
        n_seeds=("seed", "nunique"),
    ).reset_index()
    table["speedup"] = table["reference_evaluations"] / table["mean_evaluations"]
    columns = [
        *keys,
        "method",
        "mean_evaluations",
        "reference_evaluations",
        "speedup",
        "failure_rate",
        "n_seeds",
    ]
    return table[columns]


def relative_evaluations(
    frame: pd.DataFrame,
    *,
    reference: str = REFERENCE_METHOD,
    max_evaluations: int = MAX_EVALUATIONS,
    by: Sequence[str] = ("benchmark", "previous_budget", "target_budget"),
) -> pd.DataFrame:
    """Evaluations-to-target of each method relative to the reference's.

    Relative evaluations = mean evaluations-to-target of the method divided by
    the reference's mean over the same runs (task, b_old, seed), a failure
    counted as ``max_evaluations``, pooled over everything ``by`` leaves out
    (by default tasks and seeds). 1.1 means 10% more evaluations than TPE; it
    is the reciprocal of a speedup taken as a ratio of pooled means.

    Args:
        frame: Results table (rows of :func:`run_unit`).
        reference: The method compared with ("tpe").
        max_evaluations: What a failure counts as.
        by: Columns to group by besides the method; any of benchmark, task,
            previous_budget, target_budget.

    Returns:
        Columns ``by``, method, mean_evaluations, reference_evaluations,
        relative_evaluations, failure_rate, n_runs.
    """
    long = _long_evaluations(frame, max_evaluations)
    keys = ["benchmark", "task", "previous_budget", "target_budget"]
    unknown = [column for column in by if column not in keys]
    if unknown:
        raise ValueError(
            f"The columns to group by must be among {', '.join(keys)}; got {unknown}."
        )
    base = long[long["method"] == reference][[*keys, "seed", "evaluations"]]
    base = base.rename(columns={"evaluations": "reference_evaluations"})
    merged = long.merge(base, on=[*keys, "seed"], how="inner")
    table = (
        merged.groupby([*by, "method"], sort=True)
        .agg(
            mean_evaluations=("evaluations", "mean"),
            reference_evaluations=("reference_evaluations", "mean"),
            failure_rate=("failed", "mean"),
            n_runs=("evaluations", "size"),
        )
        .reset_index()
    )
    table["relative_evaluations"] = (
        table["mean_evaluations"] / table["reference_evaluations"]
    )
    columns = [
        *by,
        "method",
        "mean_evaluations",
        "reference_evaluations",
        "relative_evaluations",
        "failure_rate",
        "n_runs",
    ]
    return table[columns]


def _over_tasks_then_benchmarks(
    table: pd.DataFrame, column: str, how: Callable[[Any], float]
) -> pd.DataFrame:
    keys = ["method", "previous_budget", "target_budget"]
    per_benchmark = (
        table.groupby([*keys, "benchmark"], sort=True)[column].agg(how).reset_index()
    )
    return per_benchmark.groupby(keys, sort=True)[column].agg(how).reset_index()


def speedup_grid(
    frame: pd.DataFrame,
    method: str,
    *,
    reference: str = REFERENCE_METHOD,
    max_evaluations: int = MAX_EVALUATIONS,
) -> pd.DataFrame:
    """The paper's grid of one method: rows b_old, columns the target budget.

    Each cell is the geometric mean over tasks of the speedups, then the
    geometric mean over benchmarks.

    Args:
        frame: Results table.
        method: The method.
        reference: The method compared with.
        max_evaluations: What a failure counts as.

    Returns:
        A DataFrame indexed by previous_budget with one column per target
        budget.
    """
    table = speedups(frame, reference=reference, max_evaluations=max_evaluations)
    table = table[table["method"] == method]
    cells = _over_tasks_then_benchmarks(table, "speedup", geometric_mean)
    return cells.pivot(
        index="previous_budget", columns="target_budget", values="speedup"
    )


def failure_rates(
    frame: pd.DataFrame, *, max_evaluations: int = MAX_EVALUATIONS
) -> pd.DataFrame:
    """Share of seeds that never reach the target, per method, b_old, target.

    Averaged over seeds per task, then (arithmetic mean) over tasks, then over
    benchmarks.

    Returns:
        Columns method, previous_budget, target_budget, failure_rate.
    """
    long = _long_evaluations(frame, max_evaluations)
    keys = ["benchmark", "task", "previous_budget", "target_budget", "method"]
    per_task = long.groupby(keys, sort=True)["failed"].mean().reset_index()
    per_task = per_task.rename(columns={"failed": "failure_rate"})
    return _over_tasks_then_benchmarks(per_task, "failure_rate", np.mean)


def improvements(
    frame: pd.DataFrame,
    *,
    reference: str = REFERENCE_METHOD,
    eps: float = IMPROVEMENT_EPS,
) -> pd.DataFrame:
    """Improvement over TPE after each target budget's number of evaluations.

    Improvement = (mean TPE incumbent - mean method incumbent) / (standard
    deviation of TPE's incumbents + eps), over seeds, per benchmark, task and
    b_old; positive is better than TPE. The population standard deviation
    (ddof 0) is used. Where it is 0 (TPE's incumbents all equal: one seed, or
    every seed at one optimum) the improvement is 0 for a method of the same
    mean and NaN otherwise, and the averages over tasks leave a NaN out.

    Args:
        frame: Results table.
        reference: The method compared with.
        eps: Keeps the ratio finite when TPE's incumbents are all equal.

    Returns:
        Columns benchmark, task, previous_budget, budget, method, improvement.
    """
    keys = ["benchmark", "task", "previous_budget"]
    parts = []
    for budget in _target_budgets(frame):
        column = f"best_{budget}"
        means = frame.groupby([*keys, "method"], sort=True)[column].mean()
        stats = means.rename("mean").reset_index()
        base = frame[frame["method"] == reference].groupby(keys)[column]
        base_stats = pd.DataFrame(
            {"ref_mean": base.mean(), "ref_std": base.std(ddof=0)}
        ).reset_index()
        merged = stats.merge(base_stats, on=keys)
        merged["improvement"] = (merged["ref_mean"] - merged["mean"]) / (
            merged["ref_std"] + eps
        )
        # TPE's incumbents all equal (one seed, or every seed at one optimum of
        # a table): no spread to measure a difference in, so no figure (eps
        # alone made it 1e9); none to measure where there is no difference.
        # The averages over tasks leave a NaN task out.
        flat = merged["ref_std"] <= eps
        differs = merged["ref_mean"] != merged["mean"]
        merged.loc[flat & differs, "improvement"] = np.nan
        merged.loc[flat & ~differs, "improvement"] = 0.0
        merged["budget"] = budget
        parts.append(merged[[*keys, "budget", "method", "improvement"]])
    return pd.concat(parts, ignore_index=True)


def summary_improvements(frame: pd.DataFrame) -> pd.DataFrame:
    """Improvements averaged over tasks, then over benchmarks.

    Returns:
        Columns method, previous_budget, budget, improvement.
    """
    table = improvements(frame).rename(columns={"budget": "target_budget"})
    result = _over_tasks_then_benchmarks(table, "improvement", np.mean)
    return result.rename(columns={"target_budget": "budget"})


def per_benchmark_speedups(frame: pd.DataFrame) -> pd.DataFrame:
    """Geometric mean over tasks of the speedups, per benchmark.

    Returns:
        Columns method, previous_budget, target_budget, benchmark, speedup.
    """
    table = speedups(frame)
    keys = ["method", "previous_budget", "target_budget", "benchmark"]
    return table.groupby(keys, sort=True)["speedup"].agg(geometric_mean).reset_index()


def targets_table(values: Mapping[tuple[str, str], Targets]) -> pd.DataFrame:
    """Targets as a table: benchmark, task, one column per budget."""
    rows = []
    for (benchmark, task), targets in sorted(values.items()):
        row: dict[str, Any] = {"benchmark": benchmark, "task": task}
        for budget, value in zip(targets.budgets, targets.values, strict=True):
            row[f"target_{budget}"] = value
        rows.append(row)
    return pd.DataFrame(rows)
