"""What a finished sweep writes: tidy tables, speedup grids, HTML report."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._base import SUITES, suite_of
from hptaa_lab.benchmarks._sweep import SweepConfig

RESULTS_CSV = "results.csv"
SPEEDUPS_CSV = "speedups.csv"
GRID_CSV = "speedup_grid.csv"
GRID_MD = "speedup_grid.md"
FAILURES_CSV = "failure_rates.csv"
IMPROVEMENT_CSV = "improvement.csv"
PER_BENCHMARK_CSV = "speedups_per_benchmark.csv"
RELATIVE_CSV = "relative_evaluations.csv"
SUITE_GRID_CSV = "speedup_grid_by_suite.csv"
REPORT_HTML = "report.html"
CHAIN_COUNTS = ("n_ancestors", "ancestor_budget")
"""Columns of chain rows that other rows lack; 0 there in the tidy table."""


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The results table without trajectories, evaluations-to-target as
    nullable integers; the chain columns ``n_ancestors`` and
    ``ancestor_budget`` are 0 on rows of benchmarks without ancestors."""
    table = frame.drop(columns=["trajectory"], errors="ignore").copy()
    for column in table.columns:
        if column.startswith("evals_to_target_"):
            table[column] = pd.to_numeric(table[column]).astype("Int64")
        if column in CHAIN_COUNTS:
            table[column] = pd.to_numeric(table[column]).fillna(0).astype("Int64")
    return table


def by_suite(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each suite present in the results, in the order of
    ``SUITES``."""
    if frame.empty:
        return {}
    suites = frame["benchmark"].map(suite_of)
    return {
        suite: frame[suites == suite].reset_index(drop=True)
        for suite in SUITES
        if (suites == suite).any()
    }


def relative_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Evaluations relative to TPE per benchmark, b_old and target, and pooled
    over b_old (previous_budget "all")."""
    per_budget = protocol.relative_evaluations(frame)
    pooled = protocol.relative_evaluations(frame, by=("benchmark", "target_budget"))
    pooled.insert(1, "previous_budget", "all")
    table = pd.concat(
        [per_budget.astype({"previous_budget": object}), pooled], ignore_index=True
    )
    table = table[table["method"] != protocol.REFERENCE_METHOD]
    last = [b == "all" for b in table["previous_budget"]]
    order = table.assign(
        _all=last,
        _budget=[
            0 if a else b for a, b in zip(last, table["previous_budget"], strict=True)
        ],
    ).sort_values(["benchmark", "method", "_all", "_budget", "target_budget"])
    return table.loc[order.index].reset_index(drop=True)


def format_per_benchmark(table: pd.DataFrame) -> str:
    """Per-benchmark speedups (from ``protocol.per_benchmark_speedups``) as a
    markdown table: a row per method, benchmark and b_old."""
    table = table[table["method"] != protocol.REFERENCE_METHOD].sort_values(
        ["method", "benchmark", "previous_budget", "target_budget"]
    )
    return _format_rows(
        table, ["method", "benchmark", "previous_budget"], "speedup", _fmt
    )


def format_relative(table: pd.DataFrame) -> str:
    """Evaluations relative to TPE (from :func:`relative_table`) as a markdown
    table: a row per benchmark, method and b_old."""
    return _format_rows(
        table,
        ["benchmark", "method", "previous_budget"],
        "relative_evaluations",
        _fmt,
    )


def _format_rows(table: pd.DataFrame, index: list[str], value: str, fmt: Any) -> str:
    if table.empty:
        return "(none)\n"
    keys = [*index, "target_budget"]
    cells = {tuple(row[:-1]): row[-1] for row in table[[*keys, value]].to_numpy()}
    targets = sorted(table["target_budget"].unique())
    rows = list(dict.fromkeys(tuple(row) for row in table[index].to_numpy()))
    names = {"previous_budget": "b_old"}
    header = " | ".join(names.get(c, c) for c in index)
    lines = [
        f"| {header} | " + " | ".join(f"target {t}" for t in targets) + " |",
        "|" + "---|" * (len(index) + len(targets)),
    ]
    for row in rows:
        values = " | ".join(fmt(cells.get((*row, t), math.nan)) for t in targets)
        lines.append("| " + " | ".join(str(v) for v in row) + f" | {values} |")
    return "\n".join(lines) + "\n"


def grids(frame: pd.DataFrame, methods: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The speedup grid of every method but the reference."""
    return {
        method: protocol.speedup_grid(frame, method)
        for method in methods
        if method != protocol.REFERENCE_METHOD
    }


def format_grids(grid_of: Mapping[str, pd.DataFrame]) -> str:
    """Markdown tables of speedup grids, one per method."""
    parts = []
    for method, grid in grid_of.items():
        header = "| b_old | " + " | ".join(f"target {c}" for c in grid.columns) + " |"
        rule = "|---|" + "---|" * len(grid.columns)
        lines = [f"{method}", "", header, rule]
        for budget, row in grid.iterrows():
            cells = " | ".join(_fmt(v) for v in row.to_numpy())
            lines.append(f"| {budget} | {cells} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def format_failures(failures: pd.DataFrame) -> str:
    """Failure rates as a markdown table: a row per method and b_old."""
    pivot = failures.pivot_table(
        index=["method", "previous_budget"],
        columns="target_budget",
        values="failure_rate",
    )
    header = "| method | b_old | " + " | ".join(f"target {c}" for c in pivot.columns)
    lines = [header + " |", "|---|---|" + "---|" * len(pivot.columns)]
    for index, row in zip(pivot.index, pivot.to_numpy(), strict=True):
        method, budget = tuple(index)
        cells = " | ".join(f"{100 * v:.1f}%" for v in row)
        lines.append(f"| {method} | {budget} | {cells} |")
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def mean_trajectories(
    frame: pd.DataFrame, benchmark: str, task: str, previous_budget: int
) -> dict[str, list[float]]:
    """Mean incumbent after each of the first evaluations, per method, over seeds."""
    part = frame[
        (frame["benchmark"] == benchmark)
        & (frame["task"] == task)
        & (frame["previous_budget"] == previous_budget)
    ]
    curves = {}
    for method, rows in part.groupby("method", sort=False):
        matrix = np.array([list(t) for t in rows["trajectory"]], dtype=float)
        curves[str(method)] = matrix.mean(axis=0).tolist()
    return curves


def write_outputs(
    frame: pd.DataFrame,
    targets: Mapping[tuple[str, str], protocol.Targets],
    config: SweepConfig,
    folder: Path,
) -> dict[str, Path]:
    """Write the tidy table, speedups, grids, failure rates, improvement, report.

    Args:
        frame: Every row of the sweep, with trajectories.
        targets: Targets by (benchmark, task).
        config: The sweep's configuration.
        folder: Output folder.

    Returns:
        The paths written, by kind.
    """
    paths = {
        "results": folder / RESULTS_CSV,
        "speedups": folder / SPEEDUPS_CSV,
        "grid": folder / GRID_CSV,
        "grid_md": folder / GRID_MD,
        "failures": folder / FAILURES_CSV,
        "improvement": folder / IMPROVEMENT_CSV,
        "per_benchmark": folder / PER_BENCHMARK_CSV,
        "relative": folder / RELATIVE_CSV,
        "suite_grid": folder / SUITE_GRID_CSV,
        "report": folder / REPORT_HTML,
    }
    tidy(frame).to_csv(paths["results"], index=False, float_format="%.8g")
    speedup_table = protocol.speedups(frame)
    speedup_table.to_csv(paths["speedups"], index=False, float_format="%.6g")
    grid_of = grids(frame, config.methods)
    _long_grid(grid_of).to_csv(paths["grid"], index=False, float_format="%.6g")
    suite_grids = {
        suite: _long_grid(grids(part, config.methods))
        for suite, part in by_suite(frame).items()
    }
    pd.concat(
        [grid.assign(suite=suite) for suite, grid in suite_grids.items()],
        ignore_index=True,
    )[["suite", "method", "previous_budget", "target_budget", "speedup"]].to_csv(
        paths["suite_grid"], index=False, float_format="%.6g"
    )
    failures = protocol.failure_rates(frame)
    failures.to_csv(paths["failures"], index=False, float_format="%.6g")
    improvement = protocol.summary_improvements(frame)
    improvement.to_csv(paths["improvement"], index=False, float_format="%.6g")
    per_benchmark = protocol.per_benchmark_speedups(frame)
    per_benchmark.to_csv(paths["per_benchmark"], index=False, float_format="%.6g")
    relative = relative_table(frame)
    relative.to_csv(paths["relative"], index=False, float_format="%.6g")
    paths["grid_md"].write_text(
        summary_markdown(frame, config.methods), encoding="utf-8"
    )
    write_report(frame, targets, config, paths["report"], speedup_table, grid_of)
    return paths


def _long_grid(grid_of: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    long = [
        {"method": m, "previous_budget": b, "target_budget": t, "speedup": v}
        for m, grid in grid_of.items()
        for b, row in grid.iterrows()
        for t, v in row.items()
    ]
    return pd.DataFrame(
        long, columns=["method", "previous_budget", "target_budget", "speedup"]
    )


def summary_markdown(frame: pd.DataFrame, methods: Sequence[str]) -> str:
    """The speedup grids and failure rates of the sweep; per suite where it
    holds several; per benchmark; and evaluations relative to TPE on the
    inverted benchmarks."""
    parts = [
        "Speedup over TPE (geometric mean over tasks, then benchmarks); rows "
        "b_old, columns the budget that defines the target.\n\n"
        + format_grids(grids(frame, methods))
        + "\nFailure rates (share of seeds that never reach the target):\n\n"
        + format_failures(protocol.failure_rates(frame))
    ]
    suites = by_suite(frame)
    if len(suites) > 1:
        for suite, part in suites.items():
            parts.append(
                f"Suite {suite}: speedup over TPE\n\n"
                + format_grids(grids(part, methods))
                + f"\nSuite {suite}: failure rates\n\n"
                + format_failures(protocol.failure_rates(part))
            )
    parts.append(
        "Speedup over TPE per benchmark (geometric mean over tasks):\n\n"
        + format_per_benchmark(protocol.per_benchmark_speedups(frame))
    )
    if "inverted" in suites:
        parts.append(
            "Evaluations relative to TPE on the inverted benchmarks (mean "
            "evaluations-to-target of the method / TPE's, over tasks and seeds; "
            f"a failure counts as {protocol.MAX_EVALUATIONS}; b_old all = pooled "
            "over b_old):\n\n" + format_relative(relative_table(suites["inverted"]))
        )
    return "\n".join(parts)


def write_report(
    frame: pd.DataFrame,
    targets: Mapping[tuple[str, str], protocol.Targets],
    config: SweepConfig,
    path: Path,
    speedup_table: pd.DataFrame,
    grid_of: Mapping[str, pd.DataFrame],
) -> Path:
    """The HTML report: grids as heatmaps, violins, incumbent curves, tables."""
    from hptaa_lab.report import (
        incumbent_curves_figure,
        speedup_heatmap,
        speedup_violins,
        write_html_report,
    )

    sections: list[Any] = [
        "## Configuration",
        "```" + json.dumps(config.to_json(), indent=1) + "```",
        f"{len(frame)} runs of {frame['method'].nunique()} methods. Speedup = mean "
        "evaluations-to-target of TPE / the method's (a failure counts as "
        f"{config.max_evaluations}), geometric mean over tasks, then benchmarks.",
        "## Speedup grids",
    ]
    for method, grid in grid_of.items():
        sections.append(speedup_heatmap(grid, title=f"Speedup of {method} over TPE"))
    sections.append("## Speedups per benchmark")
    others = speedup_table[speedup_table["method"] != protocol.REFERENCE_METHOD]
    sections.append(
        speedup_violins(
            others,
            title="Speedup per task, b_old and target, by benchmark",
        )
    )
    sections.append("## Failure rates")
    failures = protocol.failure_rates(frame)
    sections.append(
        failures.pivot_table(
            index=["method", "previous_budget"],
            columns="target_budget",
            values="failure_rate",
        )
        .reset_index()
        .round(3)
    )
    sections.append("## Improvement over TPE (in TPE standard deviations)")
    improvement = protocol.summary_improvements(frame)
    sections.append(
        improvement.pivot_table(
            index=["method", "previous_budget"], columns="budget", values="improvement"
        )
        .reset_index()
        .round(3)
    )
    sections.append("## Speedups per benchmark (geometric mean over tasks)")
    per_benchmark = protocol.per_benchmark_speedups(frame)
    sections.append(
        per_benchmark[per_benchmark["method"] != protocol.REFERENCE_METHOD]
        .pivot_table(
            index=["benchmark", "method", "previous_budget"],
            columns="target_budget",
            values="speedup",
        )
        .reset_index()
        .round(3)
    )
    sections.append("## Evaluations relative to TPE (over tasks and seeds)")
    sections.append(
        relative_table(frame)
        .pivot_table(
            index=["benchmark", "method", "previous_budget"],
            columns="target_budget",
            values="relative_evaluations",
            sort=False,
        )
        .reset_index()
        .round(3)
    )
    sections.append("## Incumbent curves")
    budget = max(config.previous_budgets)
    for benchmark, task in config.tasks:
        if "trajectory" not in frame.columns:
            break
        curves = mean_trajectories(frame, benchmark, task, budget)
        if not curves:
            continue
        goal = targets[benchmark, task]
        sections.append(
            incumbent_curves_figure(
                curves,
                dict(zip(goal.budgets, goal.values, strict=True)),
                title=f"{benchmark} on {task}, b_old {budget}",
            )
        )
    sections.append("## Targets")
    sections.append(protocol.targets_table(dict(targets)).round(6))
    return Path(write_html_report(path, "hptaa bench: HT-AA protocol", sections))
