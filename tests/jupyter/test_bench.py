"""Tests of ``%hptaa bench``: the protocol in the background, its live view, report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from hptaa_lab.benchmarks._sweep import RESULTS, SweepConfig
from hptaa_lab.jupyter import Updater
from hptaa_lab.jupyter._bench import (
    BenchRun,
    BenchState,
    BenchView,
    UnitsFinished,
    mean_curves,
)

# Two tasks of the lookup benchmarks, few reference runs: a sweep of seconds.
TINY = (
    "--benchmarks FCN-B:naval_propulsion,NAS-B:cifar10 --methods best-first+t2pe "
    "--previous-budgets 20 --seeds 2 --reference-seeds 3 --workers 1"
)


@pytest.fixture
def tiny_config() -> SweepConfig:
    """The tiny sweep as a configuration."""
    return SweepConfig.create(
        ["FCN-B:naval_propulsion", "NAS-B:cifar10"],
        ["best-first+t2pe"],
        [20],
        2,
        reference_seeds=3,
    )


@pytest.fixture
def runs() -> Iterator[list[BenchRun]]:
    """Runs a test started; stopped and awaited afterwards."""
    started: list[BenchRun] = []
    yield started
    for run in started:
        run.stop()
        run.wait(timeout=60)


def test_magic_runs_a_sweep_in_the_background_and_shows_the_report(
    shell: InteractiveShell, tmp_path: Path, runs: list[BenchRun]
) -> None:
    """Check that %hptaa bench returns a running handle at once, that wait()
    returns once the sweep ended, and that the figures and tables follow."""
    out = tmp_path / "bench"
    result = shell.run_cell(f"%hptaa bench {TINY} --out {out} --as run")
    run = result.result
    runs.append(run)

    assert isinstance(run, BenchRun)
    assert shell.user_ns["run"] is run
    assert run.wait(timeout=120)
    assert run.state == BenchState.FINISHED
    assert run.frame is not None and len(run.frame) == 2 * 2 * 2
    assert set(run.view.report_figures) == {
        "Speedup over TPE",
        "Speedup of best-first+t2pe over TPE",
        "Mean incumbent on FCN-B naval_propulsion, b_old 20",
        "Mean incumbent on NAS-B cifar10, b_old 20",
    }
    assert list(run.view.report_tables["Failure rates"].columns) == [10, 20, 40]
    assert len(run.view.report.children) == 1 + 4 + 2
    assert "finished; 4/4 units" in repr(run)
    assert "speedup over TPE" in repr(run)
    # Before the sweep has counted its units, the text says so (not "0/0 units").
    run._units = (0, 0)
    assert "finished; counting the units, methods" in repr(run)


def test_live_figure_gains_the_mean_incumbent_of_each_method(
    shell: InteractiveShell, tiny_config: SweepConfig, tmp_path: Path
) -> None:
    """Check that the live curves are the mean trajectories of results.jsonl."""
    run = BenchRun(tiny_config, tmp_path / "bench")
    run.wait(timeout=120)
    records = [
        json.loads(line)
        for line in (tmp_path / "bench" / RESULTS).read_text().splitlines()
    ]
    naval = [
        row
        for record in records
        for row in record["rows"]
        if row["task"] == "naval_propulsion"
    ]
    expected = mean_curves(naval, tiny_config.methods)

    assert run.view.group.value == ("FCN-B", "naval_propulsion", 20)
    assert len(run.view.rows) == 8
    assert list(expected) == ["tpe", "best-first+t2pe"]
    for i, method in enumerate(tiny_config.methods):
        assert list(run.view.figure.data[i].y) == pytest.approx(expected[method])
        assert len(run.view.figure.data[i].x) == 40
    assert len(run.view.figure.layout.shapes) == 3
    assert "Speedup over TPE so far" in run.view.speedup.value


def test_a_redraw_interrupted_by_ctrl_c_is_completed_by_the_next_flush(
    shell: InteractiveShell,
    tiny_config: SweepConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that Ctrl-C while the view draws the last units' rows leaves them
    to the next flush instead of losing them from the curves."""
    run = BenchRun(tiny_config, tmp_path / "bench")
    run.wait(timeout=120)
    rows = [
        row
        for line in (tmp_path / "bench" / RESULTS).read_text().splitlines()
        for row in json.loads(line)["rows"]
    ]
    view = BenchView(tiny_config, on_stop=lambda: None)
    updater = Updater(view.apply)
    draw = view._update_figure
    calls = []

    def interrupted_once() -> None:
        calls.append(len(view.rows))
        if len(calls) == 1:
            raise KeyboardInterrupt
        draw()

    monkeypatch.setattr(view, "_update_figure", interrupted_once)
    updater.post(UnitsFinished(4, 4, rows))
    with pytest.raises(KeyboardInterrupt):
        updater.flush()
    assert "Speedup over TPE so far" not in view.speedup.value

    updater.flush()

    assert calls == [8, 8]
    assert len(view.figure.data[0].y) == 40
    assert "Speedup over TPE so far" in view.speedup.value


def test_stop_ends_the_sweep_after_the_unit_in_flight(
    shell: InteractiveShell, tiny_config: SweepConfig, tmp_path: Path
) -> None:
    """Check that stop() ends the run early, keeps finished units and that a
    second stop() has nothing to stop."""
    run = BenchRun(tiny_config, tmp_path / "bench")

    assert run.stop()
    assert run.wait(timeout=120)
    assert run.state == BenchState.STOPPED
    assert run.frame is None
    assert run.view.report.children == ()
    assert not run.stop()
    assert "stopped" in repr(run)


def test_bad_method_prints_the_valid_names_without_traceback(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that an unknown method prints one line naming the valid methods."""
    result = shell.run_cell(
        f"%hptaa bench --methods tpe,bestfirst --seeds 1 --out {tmp_path / 'b'}"
    )
    err = capsys.readouterr().err

    assert result.result is None and result.success
    assert "%hptaa bench: Unknown method 'bestfirst'. Valid method names: " in err
    assert "best-first+t2pe" in err
    assert "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_bad_seeds_print_the_usage(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a bad option value prints the error and the usage."""
    shell.run_cell("%hptaa bench --seeds 0")
    err = capsys.readouterr().err

    assert "expected a positive integer, got '0'" in err
    assert "%hptaa bench [--benchmarks LIST]" in err
    assert "Traceback" not in err


def test_suite_option_adds_the_suite_and_refuses_unknown_ones(
    shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --suite reaches the sweep (an unknown suite is refused with the
    valid ones, nothing written) and that a known suite starts a sweep over it."""
    result = shell.run_cell(f"%hptaa bench --suite magic --out {tmp_path / 'b'}")
    err = capsys.readouterr().err
    assert result.result is None and result.success
    assert "magic" in err and "chain" in err and "inverted" in err
    assert "Traceback" not in err
    assert not (tmp_path / "b").exists()

    config = SweepConfig.create(None, ["tpe"], [10], 1, suite=["inverted"])
    assert {name for name, _ in config.tasks} == {"FCN-INV", "NAS-INV", "XGB-INV"}
