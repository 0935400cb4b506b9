"""The live run widget: incumbent trajectories, speedup so far, progress, trials."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

# NOTE(jupyter): imported here, not on first use, so that its slow first import
# (plotly's renderers load nbformat and jsonschema) happens at %load_ext time
# instead of delaying the first %%hptaa tune cell by seconds.
from plotly.graph_objects import FigureWidget

from hptaa_lab.jupyter._html import table_html
from hptaa_lab.records import TrialRecord, TrialState, error_summary
from hptaa_lab.report import evaluations_to_reach, speedup, trajectory_figure

__all__ = [
    "LiveRunView",
    "Note",
    "RunStateChanged",
    "Series",
    "TrialFinished",
    "incumbent_trajectory",
    "speedup_curve",
]

_LATEST = 8
_FAIL_STYLE = "background:#fce8e6;color:#a50e0e"
_ERROR_CHARS = 120
_LOG_SPAN = 20.0


@dataclass(frozen=True)
class Series:
    """One study shown in the live widget.

    Attributes:
        key: Short key events use ("transfer", "no transfer", "study").
        label: Legend label, e.g. "transfer: best-first+t2pe (svc-v2)".
        study: Study name.
    """

    key: str
    label: str
    study: str


@dataclass(frozen=True)
class TrialFinished:
    """Event: a trial of one series finished (COMPLETE or FAIL)."""

    key: str
    trial: TrialRecord


@dataclass(frozen=True)
class RunStateChanged:
    """Event: the run's state changed, e.g. to "running" or "finished"."""

    state: str
    done: bool = False


@dataclass(frozen=True)
class Note:
    """Event: a message for the user (a warning logged by a worker, an error)."""

    text: str
    error: bool = False


def incumbent_trajectory(
    trials: Sequence[TrialRecord], direction: str = "minimize"
) -> list[float]:
    """Best objective value after each finished trial (NaN before the first
    complete one), in the order given."""
    sign = 1.0 if direction == "minimize" else -1.0
    best = math.inf
    out = []
    for trial in trials:
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            best = min(best, sign * trial.value)
        out.append(sign * best if math.isfinite(best) else math.nan)
    return out


def speedup_curve(
    transfer: Sequence[float], scratch: Sequence[float], direction: str = "minimize"
) -> list[float]:
    """Speedup so far after each evaluation both studies have made.

    After n evaluations the target is the no-transfer incumbent; the speedup is
    the evaluations the no-transfer study needed to reach it divided by those
    the transfer study needed (NaN while either has not reached it).
    """
    out = []
    for n in range(1, min(len(transfer), len(scratch)) + 1):
        target = scratch[n - 1]
        if math.isnan(target):
            out.append(math.nan)
            continue
        out.append(
            speedup(
                evaluations_to_reach(scratch[:n], target, direction),
                evaluations_to_reach(transfer[:n], target, direction),
            )
        )
    return out


class LiveRunView:
    """Widgets that follow a run; only :meth:`apply` changes them.

    Args:
        title: Heading, e.g. the study and how it transfers.
        series: The studies of the run (transfer first, then its no-transfer
            twin; or just one).
        n_trials: Trials each study runs.
        direction: "minimize" or "maximize".
        previous: Legend label and incumbent trajectory of the previous study.
        on_stop: Called (on the widgets' thread) when Stop is clicked.
        done: Trials of the series finished before this run (a resumed
            study's), which the progress counts on top of ``n_trials`` each.

    Attributes:
        figure: The plotly FigureWidget of incumbent trajectories.
        speedup_figure: The FigureWidget of the speedup so far (None without a
            no-transfer twin).
        progress: The progress bar (finished trials of all series).
        stop_button: The Stop button.
        widget: The ipywidgets box to display or nest.
        trials: Series key -> its finished trials, in the order they finished.
    """

    def __init__(
        self,
        title: str,
        series: Sequence[Series],
        n_trials: int,
        *,
        direction: str = "minimize",
        previous: tuple[str, Sequence[float]] | None = None,
        on_stop: Callable[[], Any] | None = None,
        done: int = 0,
    ) -> None:
        self.series = list(series)
        self.direction = direction
        self.trials: dict[str, list[TrialRecord]] = {s.key: [] for s in self.series}
        self._notes: list[tuple[str, bool]] = []
        self._on_stop = on_stop
        self._state = "starting"
        self._previous = [] if previous is None else [float(v) for v in previous[1]]
        self._undrawn: set[str] = set()

        self.figure = self._trajectory_figure(previous)
        self.speedup_figure = self._speedup_figure() if len(self.series) == 2 else None
        self.header = widgets.HTML(f"<b>{html.escape(title)}</b>")
        self.state_label = widgets.HTML()
        total = done + n_trials * len(self.series)
        self.progress = widgets.IntProgress(
            value=0,
            min=0,
            max=max(total, 1),
            description="trials",
            bar_style="info",
        )
        self.count_label = widgets.Label(f"0/{total}")
        self.stop_button = widgets.Button(
            description="Stop",
            button_style="danger",
            icon="stop",
            tooltip="Stop the run (with workers, the trials in flight are cancelled)",
        )
        self.stop_button.on_click(self._on_click)
        self.table = widgets.HTML()
        self.notes = widgets.HTML()
        self.widget = self._layout()
        self.widget.add_class("hptaa-live")
        self._total = total
        self._show_state()

    # -- applying events -----------------------------------------------------

    def apply(self, events: Sequence[Any]) -> None:
        """Apply a batch of events to the widgets: one figure update at most."""
        # Keys whose new trials are not drawn yet: a redraw interrupted by
        # Ctrl-C leaves them here, and the next apply (the updater calls it
        # again, with no events if need be) draws them.
        changed = self._undrawn
        for event in events:
            if isinstance(event, TrialFinished):
                self.trials[event.key].append(event.trial)
                changed.add(event.key)
            elif isinstance(event, RunStateChanged):
                self._state = event.state
                if event.done:
                    self.stop_button.disabled = True
            elif isinstance(event, Note):
                self._notes.append((event.text, event.error))
        if changed:
            self._update_figures(changed)
            self._update_table()
            done = sum(len(t) for t in self.trials.values())
            failed = sum(
                t.state == TrialState.FAIL for ts in self.trials.values() for t in ts
            )
            self.progress.value = min(done, self.progress.max)
            self.count_label.value = f"{done}/{self._total}" + (
                f", {failed} failed" if failed else ""
            )
            changed.clear()
        if self._notes:
            self.notes.value = "<br>".join(
                f"<span style='color:{'#a50e0e' if error else '#8a4b00'}'>"
                f"{html.escape(text)}</span>"
                for text, error in self._notes[-_LATEST:]
            )
        self._show_state()

    def trajectory(self, key: str) -> list[float]:
        """Incumbent trajectory of one series, as shown."""
        return incumbent_trajectory(self.trials[key], self.direction)

    def _update_figures(self, changed: set[str]) -> None:
        with self.figure.batch_update():
            for i, s in enumerate(self.series):
                if s.key in changed:
                    ys = self.trajectory(s.key)
                    self.figure.data[i].x = list(range(1, len(ys) + 1))
                    self.figure.data[i].y = [None if math.isnan(v) else v for v in ys]
            # Read the values, not the traces: inside batch_update the traces
            # still hold their old data.
            shown = [v for s in self.series for v in self.trajectory(s.key)]
            scale = _value_scale(v for v in shown + self._previous if not math.isnan(v))
            if self.figure.layout.yaxis.type != scale:
                self.figure.layout.yaxis.type = scale
        if self.speedup_figure is not None:
            curve = speedup_curve(
                self.trajectory(self.series[0].key),
                self.trajectory(self.series[1].key),
                self.direction,
            )
            with self.speedup_figure.batch_update():
                self.speedup_figure.data[0].x = list(range(1, len(curve) + 1))
                self.speedup_figure.data[0].y = [
                    None if math.isnan(v) else v for v in curve
                ]

    def _update_table(self) -> None:
        latest = sorted(
            ((s, t) for s in self.series for t in self.trials[s.key]),
            key=lambda item: (item[1].finished_at is None, item[1].finished_at),
        )[-_LATEST:][::-1]
        rows = []
        styles = []
        for s, t in latest:
            rows.append(
                (
                    s.study,
                    t.number,
                    str(t.state),
                    "-" if t.value is None else f"{t.value:.6g}",
                    t.proposed_by,
                    _short(t.config),
                    _last_line(t.error),
                )
            )
            styles.append(_FAIL_STYLE if t.state == TrialState.FAIL else "")
        header = (
            "study",
            "trial",
            "state",
            "value",
            "proposed by",
            "configuration",
            "error",
        )
        self.table.value = "<b>Latest trials</b>" + table_html(header, rows, styles)

    def _show_state(self) -> None:
        self.state_label.value = f"state: <b>{html.escape(self._state)}</b>"

    def _on_click(self, button: Any) -> None:
        if self._on_stop is not None:
            self._on_stop()

    # -- layout --------------------------------------------------------------

    def _trajectory_figure(self, previous: tuple[str, Sequence[float]] | None) -> Any:
        lines: dict[str, Sequence[float]] = {s.label: [] for s in self.series}
        if previous is not None:
            lines[previous[0]] = previous[1]
        figure = trajectory_figure(
            lines, title="Incumbent trajectories", direction=self.direction
        )
        figure.update_layout(height=360, margin={"l": 60, "r": 20, "t": 50, "b": 40})
        return FigureWidget(figure)

    def _speedup_figure(self) -> Any:
        figure = FigureWidget(
            data=[
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines+markers",
                    name="speedup so far",
                    line={"color": "#d62728"},
                )
            ],
        )
        figure.add_hline(y=1.0, line_dash="dot", line_color="#7f7f7f")
        figure.update_layout(
            title="Speedup so far (no-transfer evaluations / transfer evaluations)",
            xaxis_title="evaluations",
            yaxis_title="speedup",
            template="plotly_white",
            height=360,
            margin={"l": 60, "r": 20, "t": 50, "b": 40},
        )
        return figure

    def _layout(self) -> Any:
        controls = widgets.HBox([self.progress, self.count_label, self.stop_button])
        figures = [self.figure]
        if self.speedup_figure is not None:
            figures.append(self.speedup_figure)
        return widgets.VBox(
            [
                self.header,
                self.state_label,
                controls,
                widgets.VBox(figures),
                self.table,
                self.notes,
            ]
        )


def _value_scale(values: Iterable[float]) -> str:
    """ "log" when the values are positive and span more than a factor of 20
    (a first random trial would flatten every later improvement), else "linear"."""
    values = list(values)
    if values and min(values) > 0 and max(values) / min(values) > _LOG_SPAN:
        return "log"
    return "linear"


def _short(config: dict[str, Any]) -> str:
    text = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in config.items()
    )
    return text if len(text) <= 80 else text[:77] + "..."


def _last_line(error: str | None) -> str:
    return error_summary(error, _ERROR_CHARS)
