"""Tests of the live run widget, through the data its figures and table hold."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hptaa_lab.jupyter import LiveRunView, Updater, speedup_curve
from hptaa_lab.jupyter._live import (
    Note,
    RunStateChanged,
    Series,
    TrialFinished,
    incumbent_trajectory,
)
from hptaa_lab.records import TrialRecord, TrialState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def trial(number: int, value: float | None, error: str | None = None) -> TrialRecord:
    """A finished trial; FAIL when value is None."""
    return TrialRecord(
        number=number,
        config={"x": float(number)},
        state=TrialState.COMPLETE if value is not None else TrialState.FAIL,
        value=value,
        error=error,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=number),
        proposed_by="tpe",
    )


def view(n_trials: int = 10, compare: bool = True) -> LiveRunView:
    """A live view of a transfer study and, with compare, its twin."""
    series = [Series("transfer", "transfer: t2pe (v2)", "v2")]
    if compare:
        series.append(
            Series("no transfer", "no transfer: tpe (v2-scratch)", "v2-scratch")
        )
    return LiveRunView(
        "Study v2", series, n_trials, previous=("previous (v1)", [3.0, 2.0, 2.0])
    )


def count_figure_messages(figure: Any) -> list[str]:
    """Record every message the FigureWidget sends to the frontend."""
    sent: list[str] = []
    for name in ("_send_update_msg", "_send_restyle_msg", "_send_relayout_msg"):
        original = getattr(figure, name)

        def spy(
            *args: Any, _original: Any = original, _name: str = name, **kw: Any
        ) -> Any:
            sent.append(_name)
            return _original(*args, **kw)

        setattr(figure, name, spy)
    return sent


def test_a_burst_of_events_becomes_one_figure_update() -> None:
    """Check that 200 trial events applied through the updater send one message
    to each figure and leave the full trajectories in the traces."""
    live = view(n_trials=100)
    sent = count_figure_messages(live.figure)
    sent_speedup = count_figure_messages(live.speedup_figure)
    updater = Updater(live.apply)
    for i in range(100):
        updater.post(TrialFinished("transfer", trial(i, 10.0 - 0.05 * i)))
        updater.post(TrialFinished("no transfer", trial(i, 10.0 - 0.01 * i)))

    updater.flush()

    assert sent == ["_send_update_msg"]
    assert sent_speedup == ["_send_update_msg"]
    assert list(live.figure.data[0].y) == pytest.approx(
        [10.0 - 0.05 * i for i in range(100)]
    )
    assert list(live.figure.data[0].x) == list(range(1, 101))
    assert len(live.figure.data[1].y) == 100
    assert live.progress.value == 200
    assert live.count_label.value == "200/200"


def test_previous_trajectory_is_drawn_from_the_start() -> None:
    """Check the traces before any trial: two empty series and the previous one."""
    live = view()

    names = [t.name for t in live.figure.data]
    assert names == [
        "transfer: t2pe (v2)",
        "no transfer: tpe (v2-scratch)",
        "previous (v1)",
    ]
    assert list(live.figure.data[2].y) == [3.0, 2.0, 2.0]
    assert len(live.figure.data[0].y) == 0


def test_failed_trials_show_in_the_table_with_their_error() -> None:
    """Check that a failed trial is counted, listed with the last line of its
    traceback, marked red, and leaves the trajectory flat."""
    live = view(compare=False)
    error = "Traceback (most recent call last):\n  ...\nValueError: x is too big"

    live.apply(
        [
            TrialFinished("transfer", trial(0, 2.0)),
            TrialFinished("transfer", trial(1, None, error)),
            TrialFinished("transfer", trial(2, 1.5)),
        ]
    )

    assert "ValueError: x is too big" in live.table.value
    assert "FAIL" in live.table.value
    assert "background:#fce8e6" in live.table.value
    assert live.count_label.value == "3/10, 1 failed"
    assert list(live.figure.data[0].y) == [2.0, 2.0, 1.5]
    assert live.speedup_figure is None


def test_state_and_notes_are_shown() -> None:
    """Check that state changes reach the label and notes the notes area, and
    that the Stop button is disabled once the run is done."""
    live = view()

    live.apply([RunStateChanged("running"), Note("warning: sampler fell back", False)])
    assert "running" in live.state_label.value
    assert "sampler fell back" in live.notes.value
    assert not live.stop_button.disabled

    live.apply([RunStateChanged("finished", done=True)])
    assert "finished" in live.state_label.value
    assert live.stop_button.disabled


def test_stop_button_calls_back() -> None:
    """Check that clicking Stop calls on_stop."""
    calls: list[str] = []
    live = LiveRunView(
        "Study",
        [Series("study", "tpe (s)", "s")],
        5,
        on_stop=lambda: calls.append("stop"),
    )

    live.stop_button.click()

    assert calls == ["stop"]


def test_incumbent_trajectory_keeps_the_best_and_skips_failures() -> None:
    """Check the trajectory with a failure first and maximisation."""
    trials = [trial(0, None, "boom"), trial(1, 1.0), trial(2, 3.0), trial(3, 2.0)]

    assert math.isnan(incumbent_trajectory(trials)[0])
    assert incumbent_trajectory(trials)[1:] == [1.0, 1.0, 1.0]
    assert incumbent_trajectory(trials, "maximize")[1:] == [1.0, 3.0, 3.0]


def test_speedup_curve_divides_evaluations_to_the_no_transfer_incumbent() -> None:
    """Check the speedup after each evaluation on hand-made trajectories.

    No transfer: 5, 4, 3, 3; transfer: 3, 3, 2, 1. After 3 evaluations the
    no-transfer incumbent 3 took 3 evaluations, the transfer study 1: 3x.
    """
    curve = speedup_curve([3.0, 3.0, 2.0, 1.0], [5.0, 4.0, 3.0, 3.0])

    assert curve == [1.0, 2.0, 3.0, 3.0]


def test_speedup_curve_is_nan_until_the_transfer_study_reaches_the_target() -> None:
    """Check NaN where the transfer study is behind, and before any value."""
    curve = speedup_curve([9.0, 9.0, 1.0], [math.nan, 2.0, 2.0])

    assert math.isnan(curve[0])
    assert math.isnan(curve[1])
    assert curve[2] == pytest.approx(2 / 3)


def test_value_axis_turns_log_when_values_span_orders_of_magnitude() -> None:
    """Check that a first trial 100 times worse than the rest switches the value
    axis to log scale (in the same single figure update), and back."""
    live = view(compare=False)
    live.figure.update_layout(yaxis_type="linear")
    sent = count_figure_messages(live.figure)

    live.apply(
        [
            TrialFinished("transfer", trial(0, 1.0)),
            TrialFinished("transfer", trial(1, 0.01)),
        ]
    )

    assert live.figure.layout.yaxis.type == "log"
    assert sent == ["_send_update_msg"]

    small = view(compare=False)
    small.apply(
        [
            TrialFinished("transfer", trial(0, 3.0)),
            TrialFinished("transfer", trial(1, 2.0)),
        ]
    )
    assert small.figure.layout.yaxis.type == "linear"


def test_a_redraw_interrupted_by_ctrl_c_is_completed_by_the_next_flush(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that Ctrl-C in the middle of drawing the last batch (the run's
    last trial and its end) does not leave the view one trial short and still
    running: the next flush draws what the interrupted one took in."""
    live = view(n_trials=2, compare=False)
    updater = Updater(live.apply)
    draw = live._update_figures
    calls = []

    def interrupted_once(changed: set[str]) -> None:
        calls.append(set(changed))
        if len(calls) == 1:
            raise KeyboardInterrupt
        draw(changed)

    monkeypatch.setattr(live, "_update_figures", interrupted_once)
    updater.post(TrialFinished("transfer", trial(0, 3.0)))
    updater.post(TrialFinished("transfer", trial(1, 2.0)))
    updater.post(RunStateChanged("finished", done=True))
    with pytest.raises(KeyboardInterrupt):
        updater.flush()
    assert live.count_label.value == "0/2"

    updater.flush()

    assert calls == [{"transfer"}, {"transfer"}]
    assert live.count_label.value == "2/2"
    assert list(live.figure.data[0].y) == [3.0, 2.0]
    assert "finished" in live.state_label.value
    updater.flush()
    assert len(calls) == 2
