"""The ``hptaa bench`` subcommand: the paper's protocol over chosen benchmarks."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from hptaa_lab._argtypes import name_list, positive_int, positive_int_list
from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._base import SUITES
from hptaa_lab.cli import DEFERRED_SUBCOMMANDS

__all__ = ["add_parser", "define_bench"]

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to the subparsers of a parser of one's own
    (the ``hptaa`` command defers `define_bench` until ``bench`` is used).

    Args:
        subparsers: What ``ArgumentParser.add_subparsers`` returned.

    Returns:
        The subcommand's parser; its handler is set as ``handler``.
    """
    bench = subparsers.add_parser("bench", help=DEFERRED_SUBCOMMANDS["bench"].help)
    define_bench(bench)
    return bench


def define_bench(bench: argparse.ArgumentParser) -> None:
    """Give the ``bench`` subcommand's parser its description, arguments and
    handler (set as ``handler``)."""
    bench.description = (
        "Run the HT-AA protocol (Stoll et al. 2020, section 4): a previous TPE "
        "with each budget b_old, then every method on the current version until it "
        "reaches the target (at least 40, at most 400 evaluations). Units run on a "
        "Dask LocalCluster; every finished unit is appended to DIR/results.jsonl, "
        "and a rerun with the same --out skips what is done. Writes the tidy "
        "table, the speedup grid of every method, failure rates and an HTML "
        "report to DIR."
    )
    bench.add_argument(
        "--benchmarks",
        type=name_list,
        default=None,
        metavar="LIST",
        help="comma-separated benchmarks, each optionally with one task "
        "(NAS-A:cifar10); default: the paper's eight on every task",
    )
    bench.add_argument(
        "--suite",
        type=name_list,
        default=None,
        metavar="LIST",
        help="comma-separated suites whose benchmarks run on every task, besides "
        "--benchmarks: " + ", ".join([*SUITES, "all"]) + " (see --list)",
    )
    bench.add_argument(
        "--list",
        action="store_true",
        help="list the benchmarks with their suite, tasks and adjustment, and exit",
    )
    bench.add_argument(
        "--methods",
        type=name_list,
        default=list(protocol.PAPER_METHODS),
        metavar="LIST",
        help="comma-separated methods; tpe is always run (default: "
        + ",".join(protocol.PAPER_METHODS)
        + "); all: "
        + ",".join(protocol.method_names()),
    )
    bench.add_argument(
        "--previous-budgets",
        type=positive_int_list,
        default=list(protocol.PREVIOUS_BUDGETS),
        metavar="LIST",
        help="comma-separated budgets b_old of the previous HPO (10,20,40)",
    )
    bench.add_argument(
        "--seeds", type=positive_int, default=25, metavar="N", help="seeds (25)"
    )
    bench.add_argument(
        "--workers",
        type=positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="Dask worker processes, one BLAS thread each (default: the CPUs)",
    )
    bench.add_argument(
        "--reference-seeds",
        type=positive_int,
        default=protocol.REFERENCE_SEEDS,
        metavar="N",
        help=f"reference TPE runs per task for the targets "
        f"({protocol.REFERENCE_SEEDS})",
    )
    bench.add_argument(
        "--use-mapping",
        action="store_true",
        help="give transfer methods the benchmark's previous and current fixed "
        "values (not the paper's setting)",
    )
    bench.add_argument(
        "--out",
        default="hptaa_bench",
        metavar="DIR",
        help="output folder (hptaa_bench)",
    )
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    """Handle ``hptaa bench``: run or resume the sweep, print the grids (or list
    the benchmarks with ``--list``).

    Returns:
        The exit status (0).
    """
    from hptaa_lab.benchmarks._outputs import (
        GRID_MD,
        REPORT_HTML,
        RESULTS_CSV,
        summary_markdown,
    )
    from hptaa_lab.benchmarks._sweep import SweepConfig, run_sweep

    if args.list:
        print(benchmark_listing(args.suite), end="")
        return 0
    config = SweepConfig.create(
        args.benchmarks,
        args.methods,
        args.previous_budgets,
        args.seeds,
        reference_seeds=args.reference_seeds,
        use_mapping=args.use_mapping,
        suite=args.suite,
    )
    print(
        f"hptaa bench: {config.plan()}, {args.workers} workers -> {args.out}",
        file=sys.stderr,
    )
    bar = _Progress(disabled=args.no_progress)
    started = time.perf_counter()
    try:
        frame = run_sweep(config, out=args.out, workers=args.workers, progress=bar)
    finally:
        bar.close()
    elapsed = time.perf_counter() - started
    print()
    print(summary_markdown(frame, config.methods))
    print(f"wall time {elapsed:.0f} s")
    print(
        f"results: {args.out}/{RESULTS_CSV}, grids: {args.out}/{GRID_MD}, report: "
        f"{args.out}/{REPORT_HTML}"
    )
    return 0


def benchmark_listing(suites: Sequence[str] | None = None) -> str:
    """Every benchmark of ``suites`` (default: all) with its suite, tasks and
    adjustment, one block each.

    Raises:
        UnknownNameError: For an unknown suite.
    """
    from hptaa_lab.benchmarks._base import (
        ALL_SUITES,
        check_suite,
        get,
        names,
        suite_of,
        tasks,
    )

    chosen = [check_suite(s) for s in suites or [ALL_SUITES]]
    listed = SUITES if ALL_SUITES in chosen else [s for s in SUITES if s in chosen]
    blocks = []
    for suite in listed:
        for name in names(suite):
            bench = get(name)
            steps = len(bench.ancestors) + 2
            blocks.append(
                f"{name} [{suite_of(name)}, {steps} versions] tasks: "
                f"{', '.join(tasks(name))}\n  {bench.description}\n"
            )
    return "".join(blocks)


class _Progress:
    """Units finished, on stderr: a tqdm bar on a terminal, else a line per 5%."""

    def __init__(self, disabled: bool) -> None:
        self.disabled = disabled
        self.lines = not sys.stderr.isatty()
        self.bar: Any = None
        self.last_line = -1

    def __call__(self, done: int, total: int) -> None:
        if self.disabled:
            return
        if self.lines:
            step = max(1, total // 20)
            if done == total or done // step != self.last_line:
                self.last_line = done // step
                print(f"units: {done}/{total}", file=sys.stderr, flush=True)
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=done,
                unit="unit",
                file=sys.stderr,
                dynamic_ncols=True,
            )
            return
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
