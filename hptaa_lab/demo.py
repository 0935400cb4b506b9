"""The main job: tune a previous version, diff, then tune the current one with and
without transfer, and measure the gain."""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hptaa_lab.records import TrialRecord
from hptaa_lab.report import evaluations_to_reach, incumbent_at, speedup
from hptaa_lab.space import Mapping, SpaceDiff, diff
from hptaa_lab.store import TrialStore
from hptaa_lab.study import DEFAULT_TRANSFER, Study, create_study, open_store

__all__ = ["CHECKPOINTS", "DemoResult", "format_runs", "run_demo", "write_demo_report"]

logger = logging.getLogger(__name__)

CHECKPOINTS = (5, 10, 20, 40)

# NOTE(demo): on digits nearly every SVC configuration reaches about the same
# cross-validated accuracy, so "evaluations to reach the target" would measure luck;
# the binarised diabetes task is one where the hyperparameters matter. SVM-B (cost
# range widened, kernel choice added) is an adjustment where the previous trials
# help, as the protocol's 25 seeds show; SVM-A (kernel rbf -> poly) is one where
# no method beats tuning from scratch.
DEMO_TASKS = {"SVM-A": "diabetes", "SVM-B": "diabetes"}

Progress = Callable[[str, Study, TrialRecord], None]


@dataclass(frozen=True)
class DemoResult:
    """What the demo ran and measured.

    Attributes:
        benchmark: Benchmark name.
        task: Task name.
        previous: Name of the previous study.
        transfer: Name of the current study tuned with transfer.
        scratch: Name of the current study tuned from scratch.
        method: The transfer method used.
        space_diff: The search-space diff between the two versions.
        trajectories: "previous", "transfer", "no transfer" -> incumbent after each
            evaluation.
        target: The no-transfer study's final incumbent.
        evals_transfer: Evaluations the transfer study needed to reach the target.
        evals_scratch: Evaluations the no-transfer study needed to reach it.
        store_url: Where the studies are kept (as messages show it: a password
            hidden).
    """

    benchmark: str
    task: str
    previous: str
    transfer: str
    scratch: str
    method: str
    space_diff: SpaceDiff
    trajectories: dict[str, list[float]]
    target: float
    evals_transfer: int | None
    evals_scratch: int | None
    store_url: str
    checkpoints: tuple[int, ...] = field(default=CHECKPOINTS)

    @property
    def speedup(self) -> float:
        """Evaluations from scratch / evaluations with transfer to reach the target."""
        return speedup(self.evals_scratch, self.evals_transfer)

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per checkpoint: incumbent with and without transfer."""
        rows = []
        for n in self.checkpoints:
            if n > len(self.trajectories["no transfer"]):
                continue
            rows.append(
                {
                    "evaluations": n,
                    "with transfer": incumbent_at(self.trajectories["transfer"], n),
                    "without transfer": incumbent_at(
                        self.trajectories["no transfer"], n
                    ),
                }
            )
        return rows

    def milestones(self) -> list[tuple[int, float, int | None, int | None]]:
        """The paper's kind of targets for this one run: for each checkpoint n
        within the budget, the no-transfer incumbent after n evaluations, and the
        evaluations each study needed to reach it.

        Returns:
            (n, target, evaluations with transfer, evaluations without), None
            where never reached.
        """
        scratch = self.trajectories["no transfer"]
        rows = []
        for n in self.checkpoints:
            if n > len(scratch) or n < 2:
                continue
            target = incumbent_at(scratch, n)
            rows.append(
                (
                    n,
                    target,
                    evaluations_to_reach(self.trajectories["transfer"], target),
                    evaluations_to_reach(scratch, target),
                )
            )
        return rows

    def format_summary(self) -> str:
        """The summary as plain text."""
        lines = [
            f"{'evaluations':>11}  {'with transfer':>14}  {'without transfer':>16}"
        ]
        if not self.summary_rows():
            lines.append(f"(no checkpoint of {self.checkpoints} within the budget)")
        for row in self.summary_rows():
            lines.append(
                f"{row['evaluations']:>11}  {row['with transfer']:>14.5g}  "
                f"{row['without transfer']:>16.5g}"
            )
        milestones = self.milestones()
        if milestones:
            lines.append("")
            lines.append(
                "evaluations to reach the incumbent that tuning without transfer had "
                "after n evaluations:"
            )
            lines.append(
                f"{'n':>11}  {'incumbent':>14}  {'with transfer':>13}  "
                f"{'without':>7}  speedup"
            )
            for n, target, with_transfer, without in milestones:
                gain = speedup(without, with_transfer)
                shown = "n/a" if math.isnan(gain) else f"{gain:.2f}x"
                lines.append(
                    f"{n:>11}  {target:>14.5g}  {_count(with_transfer):>13}  "
                    f"{_count(without):>7}  {shown}"
                )
        lines.append("")
        lines.append(f"target (final incumbent without transfer): {self.target:.5g}")
        lines.append(
            f"evaluations to reach it: with transfer {_count(self.evals_transfer)}, "
            f"without transfer {_count(self.evals_scratch)}"
        )
        gain = self.speedup
        if math.isnan(gain):
            lines.append("speedup: n/a (the target was not reached with transfer)")
        elif gain >= 1:
            lines.append(
                f"speedup: {gain:.2f}x (transfer needed {gain:.2f} times fewer "
                "evaluations)"
            )
        else:
            lines.append(
                f"speedup: {gain:.2f}x (transfer needed {1 / gain:.2f} times "
                "more evaluations)"
            )
        return "\n".join(lines)


def _count(n: int | None) -> str:
    return "never" if n is None else str(n)


def format_runs(results: Sequence[DemoResult], seeds: Sequence[int]) -> str:
    """Several demo runs side by side (one per seed, each with its own previous
    study): the evaluations each needed to reach its own no-transfer run's final
    incumbent, and the median speedup. One run is noisy; this shows the spread.

    Raises:
        ValueError: If ``results`` and ``seeds`` differ in length or are empty.
    """
    if not results or len(results) != len(seeds):
        raise ValueError("give one seed per demo result, and at least one result")
    lines = [
        f"Over {len(results)} runs (seeds {', '.join(map(str, seeds))}; each tunes "
        "its own previous study),\nevaluations to reach that run's final "
        "no-transfer incumbent:",
        f"{'seed':>6}  {'with transfer':>13}  {'without':>7}  {'speedup':>7}  "
        f"{'final best: with':>16}  {'without':>10}  studies",
    ]
    gains = []
    better = worse = 0
    for seed, result in zip(seeds, results, strict=True):
        gain = result.speedup
        gains.append(0.0 if math.isnan(gain) else gain)
        shown = "n/a" if math.isnan(gain) else f"{gain:.2f}x"
        final = result.trajectories["transfer"][-1]
        final_scratch = result.trajectories["no transfer"][-1]
        better += final < final_scratch
        worse += final > final_scratch
        lines.append(
            f"{seed:>6}  {_count(result.evals_transfer):>13}  "
            f"{_count(result.evals_scratch):>7}  {shown:>7}  "
            f"{final:>16.6g}  {final_scratch:>10.6g}  "
            f"{result.transfer.removesuffix('-v2')}-*"
        )
    budget = len(results[0].trajectories["transfer"])
    reached = sum(result.evals_transfer is not None for result in results)
    if reached < len(results):
        lines.append(f"(never: not within the {budget} evaluations of the run)")
    # The lower middle value for an even count: the mean of "never" and a
    # speedup is no speedup of any run.
    middle = statistics.median_low(gains)
    lines.append(
        f"transfer reached it in {reached} of {len(results)} runs; median speedup "
        + (
            f"{middle:.2f}x (a run that never reached it counts as the slowest)"
            if middle > 0
            else "n/a (at least half of the runs never reached it)"
        )
    )
    same = len(results) - better - worse
    lines.append(
        f"final incumbents (lower is better): transfer's better in {better} of "
        f"{len(results)} runs, the same in {same}, worse in {worse}"
    )
    if middle < 1 and better > worse:
        # Both figures hold: each run's target is its own no-transfer final
        # incumbent, which a lucky early evaluation can set.
        early = statistics.median_low(r.evals_scratch or budget for r in results)
        lines.append(
            "(the speedups are low although transfer ends better more often: "
            "without transfer the runs found their final incumbent early, at "
            f"evaluation {early} of {budget} in the median run, and stayed there; "
            "`hptaa bench` measures against targets averaged over many seeds, as "
            "the paper does)"
        )
    return "\n".join(lines)


def run_demo(
    benchmark: str = "SVM-B",
    task: str | None = None,
    *,
    trials: int = 40,
    previous_trials: int = 20,
    seed: int = 0,
    method: str = DEFAULT_TRANSFER,
    store: TrialStore | str | None = None,
    workers: int | None = None,
    on_diff: Callable[[SpaceDiff], None] | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Run the main job on a built-in benchmark and return what it measured.

    1. Tune the previous version (TPE, ``previous_trials`` evaluations).
    2. Diff the previous and current search spaces.
    3. Tune the current version twice with the same budget and seed: with
       ``method`` transferring from the previous study, and with plain TPE.

    Every study stays in the store; names are ``<benchmark>-<task>-r<k>-v1``,
    ``...-v2`` and ``...-v2-scratch`` with the first free run number k.

    Args:
        benchmark: Benchmark name (see ``hptaa_lab.benchmarks.names()``).
        task: Task of the benchmark (default: diabetes for SVM-A and SVM-B,
            else the benchmark's first task).
        trials: Budget of each current study.
        previous_trials: Budget of the previous study.
        seed: Seed of every sampler.
        method: Transfer method for the current study.
        store: Trial store or URL.
        workers: Evaluate this many trials at a time (Dask); None: in-process.
        on_diff: Called with the search-space diff once it is known.
        progress: Called as ``progress(phase, study, trial)`` after each trial;
            phase is "previous", "transfer" or "no transfer".
    """
    from hptaa_lab import benchmarks

    for label, value in (("trials", trials), ("previous_trials", previous_trials)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive int; got {value!r}.")
    from hptaa_lab.errors import HptaaError, UnknownNameError
    from hptaa_lab.transfer import names as transfer_names

    if method not in transfer_names():
        # Checked before anything is tuned, so a typo costs nothing.
        raise UnknownNameError("transfer method", method, transfer_names())
    if task is None:
        task = DEMO_TASKS.get(benchmark.upper())
    # Benchmarks that train a model run it for real here (not their surrogate).
    live = benchmark.upper() in benchmarks.trained_names()
    bench = benchmarks.get(benchmark, task, live=live)
    if bench.ancestors:
        # It would tune the last step alone, under names of a single step.
        raise HptaaError(
            f"{bench.name} is a chain of adjustments (v1 -> v2 -> v3), and the "
            f"demo tunes one adjustment: use one of {', '.join(benchmarks.names())}"
            ", or run the chain with `hptaa bench --suite chain` (it transfers "
            "from every ancestor)."
        )
    trial_store = open_store(store)
    prefix = _free_prefix(trial_store, f"{bench.name}-{bench.task}")
    attrs = {"benchmark": bench.name, "task": bench.task, "source": bench.source}

    def callback(phase: str) -> list[Callable[[Study, TrialRecord], None]]:
        if progress is None:
            return []
        return [lambda study, trial: progress(phase, study, trial)]

    previous = create_study(
        f"{prefix}-v1",
        bench.previous_space,
        store=trial_store,
        seed=seed,
        attrs={**attrs, "version": "previous"},
    )
    previous.optimize(
        bench.previous_objective,
        n_trials=previous_trials,
        workers=workers,
        callbacks=callback("previous"),
    )
    space_diff = diff(bench.previous_space, bench.current_space)
    if on_diff is not None:
        on_diff(space_diff)
    mapping = Mapping(
        previous_fixed=dict(bench.previous_fixed),
        current_fixed=dict(bench.current_fixed),
    )
    scratch_name = f"{prefix}-v2-scratch"
    transfer = create_study(
        f"{prefix}-v2",
        bench.current_space,
        previous=previous,
        transfer=method,
        mapping=mapping,
        store=trial_store,
        seed=seed,
        attrs={**attrs, "version": "current", "scratch_twin": scratch_name},
    )
    transfer.optimize(
        bench.current_objective,
        n_trials=trials,
        workers=workers,
        callbacks=callback("transfer"),
    )
    scratch = create_study(
        scratch_name,
        bench.current_space,
        store=trial_store,
        seed=seed,
        attrs={**attrs, "version": "current", "twin_of": transfer.name},
    )
    scratch.optimize(
        bench.current_objective,
        n_trials=trials,
        workers=workers,
        callbacks=callback("no transfer"),
    )
    trajectories = {
        "previous": previous.incumbent_trajectory(),
        "transfer": transfer.incumbent_trajectory(),
        "no transfer": scratch.incumbent_trajectory(),
    }
    target = trajectories["no transfer"][-1]
    return DemoResult(
        benchmark=bench.name,
        task=bench.task,
        previous=previous.name,
        transfer=transfer.name,
        scratch=scratch.name,
        method=method,
        space_diff=space_diff,
        trajectories=trajectories,
        target=target,
        evals_transfer=evaluations_to_reach(trajectories["transfer"], target),
        evals_scratch=evaluations_to_reach(trajectories["no transfer"], target),
        store_url=trial_store.shown_url,
        checkpoints=tuple(sorted({*CHECKPOINTS, trials})),
    )


def _free_prefix(store: TrialStore, base: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", base).strip("-").lower()
    existing = {study.name for study in store.list_studies()}
    k = 1
    while any(f"{base}-r{k}-{v}" in existing for v in ("v1", "v2", "v2-scratch")):
        k += 1
    return f"{base}-r{k}"


def write_demo_report(
    result: DemoResult, path: str | Path, runs: str | None = None
) -> Path:
    """Write the demo's self-contained HTML report (chart, diff, summary, and
    ``runs``, the table of several runs from :func:`format_runs`, if given)."""
    from hptaa_lab.report import trajectory_figure, write_html_report

    figure = trajectory_figure(
        {
            f"previous ({result.previous})": result.trajectories["previous"],
            f"transfer: {result.method} ({result.transfer})": result.trajectories[
                "transfer"
            ],
            f"no transfer: tpe ({result.scratch})": result.trajectories["no transfer"],
        },
        title=f"{result.benchmark} on {result.task}: incumbent trajectories",
    )
    return write_html_report(
        path,
        f"hptaa_lab demo: {result.benchmark} on {result.task}",
        [
            figure,
            "## Search-space diff (previous -> current)",
            "```" + result.space_diff.format_table() + "```",
            "## Summary (the run charted above)",
            "```" + result.format_summary() + "```",
            *(["## All runs", "```" + runs + "```"] if runs else []),
            f"Studies of the run charted above, kept in {result.store_url}: "
            f"{result.previous}, {result.transfer}, {result.scratch}.",
        ],
    )
