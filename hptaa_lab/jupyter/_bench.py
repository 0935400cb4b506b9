"""``%hptaa bench``: the paper's protocol in the background, followed live."""

from __future__ import annotations

import argparse
import enum
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from IPython.core.magic_arguments import argument, magic_arguments
from plotly.graph_objects import FigureWidget

from hptaa_lab._argtypes import name_list, positive_int, positive_int_list
from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._sweep import (
    RESULTS,
    SweepConfig,
    prepare_folder,
    run_sweep,
)
from hptaa_lab.errors import HptaaError
from hptaa_lab.jupyter._html import table_html
from hptaa_lab.jupyter._magics import HptaaMagics, register_command
from hptaa_lab.jupyter._updater import DEFAULT_INTERVAL, BackgroundHandle, Updater
from hptaa_lab.report._bench import (
    incumbent_curves_figure,
    speedup_heatmap,
    speedup_violins,
)

__all__ = ["BenchRun", "BenchState"]

logger = logging.getLogger(__name__)

_THREAD_NAME = "hptaa-bench"
_GROUP_KEYS = ("benchmark", "task", "previous_budget")


class BenchState(enum.StrEnum):
    """Life cycle of a benchmark run."""

    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True)
class UnitsFinished:
    """Event: units finished; their rows as ``results.jsonl`` holds them."""

    done: int
    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BenchEnded:
    """Event: the run ended (its final table, None unless it finished)."""

    state: BenchState
    frame: pd.DataFrame | None = None


@dataclass(frozen=True)
class Stopping:
    """Event: a stop was requested; the sweep ends after the unit in flight."""


class _StopRequested(Exception):
    """Raised from the progress callback to end the sweep after a unit."""


class _ResultsReader:
    """Reads the lines ``results.jsonl`` gained since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_rows(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            data = stream.read()
        rows: list[dict[str, Any]] = []
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            self.offset += len(line)
            rows.extend(json.loads(line)["rows"])
        return rows


def mean_curves(
    rows: Sequence[Mapping[Any, Any]], methods: Sequence[str]
) -> dict[str, list[float]]:
    """Mean incumbent after each evaluation over the given rows, per method.

    Args:
        rows: Rows of finished units (each with ``method`` and ``trajectory``).
        methods: The methods, in the order the curves should come.

    Returns:
        Method -> mean incumbent curve (methods without rows are left out).
    """
    curves = {}
    for method in methods:
        trajectories = [r["trajectory"] for r in rows if r["method"] == method]
        if trajectories:
            n = min(len(t) for t in trajectories)
            stacked = np.array([t[:n] for t in trajectories], dtype=float)
            curves[method] = [float(v) for v in stacked.mean(axis=0)]
    return curves


def speedups_so_far(frame: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Speedup over TPE of each transfer method on the finished units.

    Returns:
        Columns method, previous_budget and one per target budget (the paper's
        grid of each method, stacked); empty before a unit finished.
    """
    if frame.empty:
        return pd.DataFrame()
    parts = []
    for method in methods:
        if method == protocol.REFERENCE_METHOD:
            continue
        grid = protocol.speedup_grid(frame, method).reset_index()
        grid.insert(0, "method", method)
        parts.append(grid)
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    table.columns = [str(c) for c in table.columns]
    return table


class BenchView:
    """Widgets that follow a benchmark run; only :meth:`apply` changes them.

    Args:
        config: The sweep.
        on_stop: Called (on the widgets' thread) when Stop is clicked.

    Attributes:
        rows: Rows of the finished units, in the order they finished.
        figure: FigureWidget of the mean incumbent per method for the
            benchmark, task and b_old chosen in ``group``.
        group: Dropdown of (benchmark, task, b_old).
        speedup: HTML table of the speedup so far.
        report: Box the final figures and tables go to when the run ends.
        report_figures: Title -> plotly figure of the final report.
        report_tables: Title -> table of the final report.
        widget: The whole widget.
    """

    def __init__(self, config: SweepConfig, on_stop: Callable[[], Any]) -> None:
        self.config = config
        self.rows: list[dict[str, Any]] = []
        self._undrawn = False
        self.report_figures: dict[str, Any] = {}
        self.report_tables: dict[str, pd.DataFrame] = {}
        self._on_stop = on_stop
        self.header = widgets.HTML(f"<b>{_title(config)}</b>")
        self.state_label = widgets.HTML("running")
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, description="units", bar_style="info"
        )
        self.count_label = widgets.Label("computing the targets")
        self.stop_button = widgets.Button(
            description="Stop", button_style="danger", icon="stop"
        )
        self.stop_button.on_click(lambda _: self._on_stop())
        options = [
            (f"{b} {t}, b_old {p}", (b, t, p))
            for b, t in config.tasks
            for p in config.previous_budgets
        ]
        self.group = widgets.Dropdown(options=options, description="curves of")
        self.group.observe(lambda _: self._update_figure(), names="value")
        curves: dict[str, list[float]] = {m: [] for m in config.methods}
        self.figure = FigureWidget(incumbent_curves_figure(curves))
        self.speedup = widgets.HTML()
        self.report = widgets.VBox()
        self.widget = widgets.VBox(
            [
                self.header,
                widgets.HBox(
                    [
                        self.progress,
                        self.count_label,
                        self.state_label,
                        self.stop_button,
                    ]
                ),
                self.group,
                self.figure,
                self.speedup,
                self.report,
            ]
        )

    def apply(self, events: Sequence[Any]) -> None:
        """Apply a batch of events: one figure update at most."""
        # Rows not drawn yet: a redraw interrupted by Ctrl-C leaves this set,
        # and the next apply (the updater calls it again) draws them.
        for event in events:
            if isinstance(event, UnitsFinished):
                self.rows.extend(event.rows)
                self._undrawn = self._undrawn or bool(event.rows)
                self.progress.max = max(event.total, 1)
                self.progress.value = event.done
                self.count_label.value = f"{event.done}/{event.total}"
            elif isinstance(event, Stopping):
                self.state_label.value = "stopping after the unit in flight"
            elif isinstance(event, BenchEnded):
                self.state_label.value = str(event.state)
                self.stop_button.disabled = True
                if event.frame is not None:
                    self._show_report(event.frame)
        if self._undrawn:
            self._update_figure()
            self._update_speedup()
            self._undrawn = False

    def curves(self) -> dict[str, list[float]]:
        """Mean incumbent per method over the finished seeds of the chosen group."""
        key = self.group.value
        rows = [r for r in self.rows if tuple(r[k] for k in _GROUP_KEYS) == key]
        return mean_curves(rows, self.config.methods)

    def _update_figure(self) -> None:
        curves = self.curves()
        targets = _targets(self.rows, self.group.value)
        fresh = incumbent_curves_figure(curves, targets)
        with self.figure.batch_update():
            for i, method in enumerate(self.config.methods):
                values = curves.get(method, [])
                self.figure.data[i].x = list(range(1, len(values) + 1))
                self.figure.data[i].y = values
            self.figure.layout.shapes = fresh.layout.shapes
            self.figure.layout.annotations = fresh.layout.annotations

    def _update_speedup(self) -> None:
        table = speedups_so_far(_frame(self.rows), self.config.methods)
        if table.empty:
            return
        self.speedup.value = "<b>Speedup over TPE so far</b>" + _table_html(table)

    def _show_report(self, frame: pd.DataFrame) -> None:
        self.report_figures, self.report_tables = report(frame, self.config)
        children: list[Any] = [widgets.HTML("<h4>Report</h4>")]
        for figure in self.report_figures.values():
            children.append(FigureWidget(figure))
        for title, table in self.report_tables.items():
            children.append(widgets.HTML(f"<b>{title}</b>" + _table_html(table)))
        self.report.children = children


def report(
    frame: pd.DataFrame, config: SweepConfig
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The final report of a sweep: figures and tables by title.

    Args:
        frame: The sweep's rows (with trajectories).
        config: The sweep.

    Returns:
        Speedup violins, a heatmap of each transfer method's grid and the mean
        incumbent curves of each benchmark's first task; the speedup grids
        and the failure rates.
    """
    table = protocol.speedups(frame)
    table = table[table["method"] != protocol.REFERENCE_METHOD]
    figures: dict[str, Any] = {"Speedup over TPE": speedup_violins(table)}
    tables: dict[str, pd.DataFrame] = {}
    for method in config.methods[1:]:
        title = f"Speedup of {method} over TPE"
        grid = protocol.speedup_grid(frame, method)
        figures[title] = speedup_heatmap(grid, title=title)
        tables[title] = grid.round(2)
    budget = config.previous_budgets[0]
    for benchmark in dict.fromkeys(b for b, _ in config.tasks):
        task = next(t for b, t in config.tasks if b == benchmark)
        rows = frame[
            (frame["benchmark"] == benchmark)
            & (frame["task"] == task)
            & (frame["previous_budget"] == budget)
        ].to_dict("records")
        title = f"Mean incumbent on {benchmark} {task}, b_old {budget}"
        figures[title] = incumbent_curves_figure(
            mean_curves(rows, config.methods),
            _targets(rows, (benchmark, task, budget)),
            title=title,
        )
    failures = protocol.failure_rates(frame)
    tables["Failure rates"] = failures.pivot_table(
        index=["method", "previous_budget"],
        columns="target_budget",
        values="failure_rate",
    ).round(2)
    return figures, tables


class BenchRun(BackgroundHandle):
    """A run of ``%hptaa bench``: the protocol in a background thread.

    The magic returns the run at once; it shows as a widget that follows the
    sweep and, when it ends, holds the final report. The background thread only
    queues events; the widgets' thread applies them through one
    :class:`Updater`.

    Args:
        config: What to run.
        out: Output folder (a rerun with the same folder resumes).
        workers: Dask worker processes; None runs the units in the thread.
        interval: Seconds between two widget updates.

    Raises:
        SweepError: If ``out`` holds a sweep of another configuration.

    Attributes:
        config: The sweep.
        out: The output folder.
        view: The live widget.
        updater: Applies events to the view.
        frame: The sweep's table once it finished (with trajectories).
        error: What failed the run, if it failed.
    """

    def __init__(
        self,
        config: SweepConfig,
        out: str | Path,
        *,
        workers: int | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.config = config
        self.out = Path(out)
        self.workers = workers
        self.frame: pd.DataFrame | None = None
        self.error: BaseException | None = None
        prepare_folder(self.out, config)
        self._state = BenchState.RUNNING
        self._stop = threading.Event()
        self._done = threading.Event()
        self._owner = threading.get_ident()
        self._units = (0, 0)
        self._started = time.monotonic()
        self._ended: float | None = None
        self._reader = _ResultsReader(self.out / RESULTS)
        self.view = BenchView(config, on_stop=self.stop)
        self.updater = Updater(self.view.apply, interval)
        self._thread = threading.Thread(
            target=self._run, name=_THREAD_NAME, daemon=True
        )
        self._thread.start()
        self.updater.start()

    @property
    def state(self) -> BenchState:
        """Where the run is in its life cycle."""
        return self._state

    @property
    def done(self) -> bool:
        """Whether the run ended (finished, stopped or failed)."""
        return self._done.is_set()

    @property
    def widget(self) -> Any:
        """The widget to display."""
        return self.view.widget

    @property
    def figures(self) -> dict[str, Any]:
        """Title -> plotly figure of the final report (empty until finished)."""
        return dict(self.view.report_figures)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Title -> table of the final report (empty until finished)."""
        return dict(self.view.report_tables)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends, applying widget updates meanwhile.

        Interrupting the wait (the kernel's stop button) stops the run.

        Args:
            timeout: Seconds to wait at most; None waits until the end.

        Returns:
            True if the run ended, False if the timeout passed first.

        Raises:
            HptaaError: If the sweep failed (with the error as cause).
        """
        if not self._wait_done(timeout):
            return False
        if self.error is not None:
            raise HptaaError(
                f"The benchmark run failed: {type(self.error).__name__}: "
                f"{self.error}. Finished units are kept in {self.out / RESULTS}; "
                "rerun with the same --out to resume."
            ) from self.error
        return True

    def stop(self) -> bool:
        """Stop the sweep after the unit in flight; finished units stay in
        ``results.jsonl``, and the same command resumes them.

        Returns:
            Whether there was something to stop.
        """
        if self.done or self._stop.is_set():
            return False
        self._stop.set()
        self.updater.post(Stopping())
        self._flush()
        return True

    def __repr__(self) -> str:
        done, total = self._units
        # The sweep counts its units once it has started (0/0 before).
        units = f"{done}/{total} units" if total else "counting the units"
        lines = [
            f"BenchRun -> {self.out}: {self.state}; {units}, methods "
            f"{', '.join(self.config.methods)}"
        ]
        table = speedups_so_far(_frame(self.view.rows), self.config.methods)
        if not table.empty:
            lines.append("speedup over TPE (rows method and b_old, columns target):")
            lines.append(table.round(2).to_string(index=False))
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        self._flush()
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = repr(self)
        return bundle

    # -- the background thread -------------------------------------------------

    def _progress(self, done: int, total: int) -> None:
        self._units = (done, total)
        self.updater.post(UnitsFinished(done, total, self._reader.new_rows()))
        if self._stop.is_set() and done < total:
            raise _StopRequested

    def _run(self) -> None:
        frame = None
        try:
            frame = run_sweep(
                self.config, out=self.out, workers=self.workers, progress=self._progress
            )
            state = BenchState.FINISHED
        except _StopRequested:
            state = BenchState.STOPPED
        except BaseException as exc:
            self.error = exc
            state = BenchState.FAILED
            logger.error("benchmark run failed: %s: %s", type(exc).__name__, exc)
        self.frame = frame
        self._state = state
        self._ended = time.monotonic()
        self.updater.post(BenchEnded(state, frame))
        self.updater.finish()
        self._done.set()

    # -- helpers ---------------------------------------------------------------


def _frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).drop(columns=["trajectory"], errors="ignore")


def _targets(
    rows: Sequence[Mapping[Any, Any]], key: tuple[str, str, int]
) -> dict[int, float]:
    """Target budget -> target value of one group, from any of its rows."""
    for row in rows:
        if tuple(row[k] for k in _GROUP_KEYS) == tuple(key):
            prefix = "target_"
            return {
                int(name[len(prefix) :]): float(value)
                for name, value in row.items()
                if name.startswith(prefix)
            }
    return {}


def _table_html(table: pd.DataFrame) -> str:
    flat = table.reset_index() if table.index.name or table.index.names[0] else table
    rows = [
        [f"{v:.2f}" if isinstance(v, float) else v for v in row]
        for row in flat.itertuples(index=False)
    ]
    return table_html([str(c) for c in flat.columns], rows)


def _title(config: SweepConfig) -> str:
    return f"Benchmark protocol: {config.plan()}"


@magic_arguments(name="hptaa bench")
@argument(
    "--benchmarks",
    type=name_list,
    default=None,
    metavar="LIST",
    help="comma-separated benchmarks, each optionally with one task "
    "(NAS-A:cifar10); default: the paper's eight on every task",
)
@argument(
    "--suite",
    type=name_list,
    default=None,
    metavar="LIST",
    help="comma-separated suites (paper, chain, inverted, holdout, all) whose benchmarks "
    "run on every task, besides --benchmarks",
)
@argument(
    "--methods",
    type=name_list,
    default=list(protocol.PAPER_METHODS),
    metavar="LIST",
    help="comma-separated methods; tpe is always run (default: "
    + ",".join(protocol.PAPER_METHODS)
    + ")",
)
@argument(
    "--previous-budgets",
    type=positive_int_list,
    default=list(protocol.PREVIOUS_BUDGETS),
    metavar="LIST",
    help="comma-separated budgets b_old of the previous HPO (10,20,40)",
)
@argument("--seeds", type=positive_int, default=25, metavar="N", help="seeds (25)")
@argument(
    "--workers",
    type=positive_int,
    default=os.cpu_count() or 1,
    metavar="N",
    help="Dask worker processes, one BLAS thread each (default: the CPUs)",
)
@argument(
    "--reference-seeds",
    type=positive_int,
    default=protocol.REFERENCE_SEEDS,
    metavar="N",
    help=f"reference TPE runs per task for the targets ({protocol.REFERENCE_SEEDS})",
)
@argument(
    "--use-mapping",
    action="store_true",
    help="give transfer methods the benchmark's previous and current fixed values",
)
@argument("--out", default="hptaa_bench", metavar="DIR", help="output folder")
@argument("--as", dest="var", metavar="VAR", help="also keep the run in VAR")
def _bench_arguments(line: str) -> None:
    """Run the HT-AA protocol (as hptaa bench) in the background, followed live.

    The live figure shows, per method, the mean incumbent over the finished
    seeds of the chosen benchmark, task and b_old, with the speedup over TPE so
    far; when the sweep ends the report's figures and tables appear below it.
    Keep the run with --as VAR (or take _) to call run.wait() or run.stop().
    Finished units are kept in DIR/results.jsonl: rerun to resume.
    """


def _bench(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> Any:
    config = SweepConfig.create(
        args.benchmarks,
        args.methods,
        args.previous_budgets,
        args.seeds,
        reference_seeds=args.reference_seeds,
        use_mapping=args.use_mapping,
        suite=args.suite,
    )
    run = BenchRun(config, args.out, workers=args.workers)
    if args.var:
        magics.user_ns[args.var] = run
    return run


register_command(
    "bench",
    _bench_arguments,
    _bench,
    summary="the paper's benchmark protocol in the background, with its report",
)
