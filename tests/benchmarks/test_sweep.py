"""Tests of sweeps: a small end-to-end run on Dask with resume, bad input, CLI."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hptaa_lab.benchmarks import _outputs, protocol
from hptaa_lab.benchmarks._cli import add_parser
from hptaa_lab.benchmarks._sweep import RESULTS, SweepConfig, SweepError, run_sweep
from hptaa_lab.errors import UnknownNameError

BENCHMARKS = ["NAS-A:cifar100", "NAS-B:cifar10"]
METHODS = ["tpe", "best-first+t2pe"]


def _config(seeds: int = 3, **changes: Any) -> SweepConfig:
    arguments: dict[str, Any] = {
        "benchmarks": BENCHMARKS,
        "methods": METHODS,
        "previous_budgets": [10],
        "seeds": seeds,
        "reference_seeds": 4,
    }
    arguments.update(changes)
    return SweepConfig.create(**arguments)


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["seconds", "cpu_seconds", "trajectory"])


def test_sweep_on_dask_streams_results_and_resumes(tmp_path: Path) -> None:
    """Check a sweep on 2 Dask workers: outputs, streamed lines, and a resume
    after an interruption that reruns only the lost units."""
    out = tmp_path / "sweep"
    config = _config()
    calls: list[tuple[int, int]] = []

    first = run_sweep(
        config, out=out, workers=2, progress=lambda d, t: calls.append((d, t))
    )

    n_units = 2 * 1 * 3
    assert len(first) == n_units * len(METHODS)
    assert calls[0] == (0, n_units) and calls[-1] == (n_units, n_units)
    lines = (out / RESULTS).read_text().splitlines()
    assert len(lines) == n_units
    for name in ["results.csv", "speedup_grid.csv", "speedup_grid.md", "report.html"]:
        assert (out / name).is_file()
    table = pd.read_csv(out / "results.csv")
    assert len(table) == n_units * len(METHODS)
    assert "trajectory" not in table.columns

    # An interruption: the last two units are lost, one line is cut short.
    kept = lines[:-2]
    (out / RESULTS).write_text("\n".join(kept) + "\n" + lines[-2][:40])
    calls.clear()

    second = run_sweep(
        config, out=out, workers=2, progress=lambda d, t: calls.append((d, t))
    )

    assert calls[0] == (n_units - 2, n_units)
    pd.testing.assert_frame_equal(_values(first), _values(second))
    assert len((out / RESULTS).read_text().splitlines()) == n_units
    for line in (out / RESULTS).read_text().splitlines():
        json.loads(line)

    # A well-formed line of a unit this sweep does not plan (seed 99, added by
    # hand) stays out of the outputs.
    stray = json.loads(lines[0])
    stray["unit"] = "|".join([*stray["unit"].split("|")[:-1], "99"])
    for row in stray["rows"]:
        row["seed"] = 99
    with (out / RESULTS).open("a") as sink:
        sink.write(json.dumps(stray) + "\n")
    third = run_sweep(config, out=out, workers=None)
    pd.testing.assert_frame_equal(_values(first), _values(third))
    assert len(pd.read_csv(out / "results.csv")) == n_units * len(METHODS)

    # The workers' rows equal a run of the same unit in this process.
    unit = config.units(_targets(out))[-1]
    here = pd.DataFrame(protocol.run_unit(unit))
    there = first[
        (first["benchmark"] == unit.benchmark)
        & (first["task"] == unit.task)
        & (first["seed"] == unit.seed)
    ].reset_index(drop=True)
    pd.testing.assert_frame_equal(_values(here), _values(there))


def _targets(out: Path) -> dict[tuple[str, str], protocol.Targets]:
    data = json.loads((out / "targets.json").read_text())
    targets = {}
    for key, entry in data.items():
        benchmark, task = key.split("|")
        targets[benchmark, task] = protocol.Targets(
            benchmark,
            task,
            tuple(entry["budgets"]),
            tuple(entry["values"]),
            entry["reference_seeds"],
        )
    return targets


def test_folder_of_another_configuration_is_refused(tmp_path: Path) -> None:
    """Check that a folder holding another configuration's results is refused."""
    out = tmp_path / "sweep"
    run_sweep(_config(seeds=1, benchmarks=["NAS-B:cifar10"]), out=out)

    with pytest.raises(SweepError, match=r"holds results of a different sweep.*seeds"):
        run_sweep(_config(seeds=2, benchmarks=["NAS-B:cifar10"]), out=out)


def test_results_without_manifest_are_refused(tmp_path: Path) -> None:
    """Check that results of unknown configuration are not mixed in."""
    (tmp_path / RESULTS).write_text("{}\n")

    with pytest.raises(SweepError, match=r"holds results\.jsonl but no manifest"):
        run_sweep(_config(seeds=1), out=tmp_path)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        (
            {"benchmarks": ["XGB-C"]},
            UnknownNameError,
            r"Unknown benchmark 'XGB-C'\. Valid benchmark names: FCN-A, FCN-B,",
        ),
        (
            {"benchmarks": ["NAS-A:mnist"]},
            UnknownNameError,
            r"Unknown task 'mnist'\. Valid task names: cifar10, cifar100, imagenet\.",
        ),
        (
            {"methods": ["tpe", "hyperband"]},
            UnknownNameError,
            r"Unknown method 'hyperband'\. Valid method names: random, tpe, gp,",
        ),
        (
            {"seeds": 0},
            SweepError,
            r"The number of seeds must be a positive integer; got 0\.",
        ),
        (
            {"seeds": 2.5},
            SweepError,
            r"The number of seeds must be a positive integer; got 2\.5\.",
        ),
        (  # it listed its units forever
            {"seeds": 10**20},
            SweepError,
            r"A sweep takes at most 10,000 seeds; got 100,000,000,000,000,000,000\.",
        ),
        (
            {"reference_seeds": 10_001},
            SweepError,
            r"A sweep takes at most 10,000 reference seeds; got 10,001\.",
        ),
        (
            {"previous_budgets": [10, -20]},
            SweepError,
            r"The previous budget must be a positive integer; got -20\.",
        ),
        (
            {"previous_budgets": []},
            SweepError,
            r"The previous budgets must list at least one positive integer",
        ),
    ],
)
def test_bad_sweep_arguments_are_refused(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    """Check that bad sweep arguments raise errors that say what is valid."""
    with pytest.raises(error, match=message):
        _config(**changes)


def test_tpe_is_always_run_first() -> None:
    """Check that tpe, which every comparison needs, is added first."""
    config = _config(methods=["best-first", "Only-New"])

    assert config.methods == ("tpe", "best-first", "only-new")


def test_benchmark_without_task_means_every_task() -> None:
    """Check that a bare benchmark name selects all of its tasks."""
    config = _config(benchmarks=["nas-a", "FCN-B:Protein_Structure"])

    assert config.tasks == (
        ("NAS-A", "cifar10"),
        ("NAS-A", "cifar100"),
        ("NAS-A", "imagenet"),
        ("FCN-B", "protein_structure"),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hptaa")
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_cli_parses_lists_and_counts() -> None:
    """Check the bench subcommand's arguments."""
    args = _parser().parse_args(
        [
            "bench",
            "--benchmarks",
            "FCN-A,NAS-B:cifar10",
            "--methods",
            "tpe,t2pe/gp",
            "--previous-budgets",
            "10,40",
            "--seeds",
            "7",
            "--workers",
            "2",
            "--out",
            "somewhere",
        ]
    )

    assert args.benchmarks == ["FCN-A", "NAS-B:cifar10"]
    assert args.methods == ["tpe", "t2pe/gp"]
    assert args.previous_budgets == [10, 40]
    assert (args.seeds, args.workers, args.out) == (7, 2, "somewhere")
    assert args.handler.__name__ == "run_bench"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "0"], "argument --seeds: expected a positive integer, got '0'"),
        (["--workers", "two"], "argument --workers: expected a positive integer"),
        (
            ["--previous-budgets", "10,x"],
            "argument --previous-budgets: expected comma-separated positive "
            "integers such as 10,20,40, got '10,x'",
        ),
    ],
)
def test_cli_refuses_counts_that_are_not_positive_integers(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that the CLI refuses bad counts with argparse's usage error."""
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["bench", *argv])

    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_runs_a_sweep_and_prints_the_grid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the handler end to end, in one worker process."""
    args = _parser().parse_args(
        [
            "bench",
            "--benchmarks",
            "NAS-B:cifar10",
            "--methods",
            "best-first",
            "--previous-budgets",
            "10",
            "--seeds",
            "2",
            "--workers",
            "1",
            "--reference-seeds",
            "3",
            "--out",
            str(tmp_path),
            "--no-progress",
        ]
    )

    assert args.handler(args) == 0

    printed = capsys.readouterr().out
    assert "best-first\n\n| b_old | target 10 | target 20 | target 40 |" in printed
    grid = pd.read_csv(tmp_path / "speedup_grid.csv")
    assert set(grid["method"]) == {"best-first"}
    assert list(grid["previous_budget"].unique()) == [10]


def test_outputs_hold_the_grid_of_the_results(tmp_path: Path) -> None:
    """Check that the written grid equals the protocol's grid of the results."""
    config = _config(seeds=2, benchmarks=["NAS-B:cifar10"])
    frame = run_sweep(config, out=tmp_path)

    written = pd.read_csv(tmp_path / "speedup_grid.csv")
    grid = protocol.speedup_grid(frame, "best-first+t2pe").to_dict()
    for budget, target, speedup in zip(
        written["previous_budget"],
        written["target_budget"],
        written["speedup"],
        strict=True,
    ):
        assert speedup == pytest.approx(grid[target][budget], rel=1e-5)
    curves = _outputs.mean_trajectories(frame, "NAS-B", "cifar10", 10)
    assert set(curves) == set(config.methods)
    assert all(len(curve) == 40 for curve in curves.values())


def test_folder_made_by_other_code_is_refused(tmp_path: Path) -> None:
    """Check that the manifest records the code version, that the same code
    resumes, and that a folder made by other code is refused with a message
    saying what to do."""
    from hptaa_lab.benchmarks._sweep import MANIFEST, code_version, prepare_folder

    config = _config(seeds=1, benchmarks=["NAS-B:cifar10"])
    prepare_folder(tmp_path, config)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["code"] == code_version()
    assert len(code_version()) == 12
    prepare_folder(tmp_path, config)  # same code: resumes

    manifest["code"] = "0" * 12
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(SweepError, match=r"other hptaa_lab code.*another --out"):
        prepare_folder(tmp_path, config)


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", "null"])
def test_unreadable_manifest_is_a_clear_error(tmp_path: Path, text: str) -> None:
    """Check that a damaged manifest.json (cut short, not JSON, not an object) is
    refused with a message saying what to do, not a traceback."""
    from hptaa_lab.benchmarks._sweep import MANIFEST, prepare_folder

    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(SweepError, match=r"cannot be read.*another --out"):
        prepare_folder(tmp_path, _config(seeds=1, benchmarks=["NAS-B:cifar10"]))


def test_ctrl_c_to_the_process_group_stops_a_sweep_on_workers_quietly(
    tmp_path: Path,
) -> None:
    """Check a Ctrl-C as a terminal sends it (SIGINT to every process of the
    job) during `hptaa bench --workers 2`: the sweep ends with status 130 and
    its one message, without a traceback from the driver or the workers, and
    the same command then finishes it."""
    out = tmp_path / "out"
    command = [
        str(Path(sys.executable).parent / "hptaa"),
        "bench",
        "--benchmarks",
        "FCN-B",
        "--methods",
        "tpe,best-first",
        "--seeds",
        "2",
        "--previous-budgets",
        "10",
        "--workers",
        "2",
        "--out",
        str(out),
        "--no-progress",
    ]
    job = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As a terminal starts a job: SIGINT at its default action.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    results = out / RESULTS
    while time.monotonic() < deadline and not (
        results.is_file() and results.stat().st_size
    ):
        time.sleep(0.2)
    os.killpg(job.pid, signal.SIGINT)
    _, err = job.communicate(timeout=120)

    assert job.returncode == 130, err
    assert "Traceback" not in err, err
    assert "every finished unit is kept in" in err
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(pd.read_csv(out / "results.csv")) == 4 * 2 * 2


def test_the_plan_counts_in_words() -> None:
    """Check the sweep's plan as the CLI and the notebook print it ("1 tasks"
    and "1 previous budgets" read wrong)."""
    config = _config(seeds=1)

    tasks = len(config.tasks)
    assert config.plan() == (
        f"{tasks} task{'' if tasks == 1 else 's'} x 1 previous budget x 1 seed, "
        f"methods {', '.join(config.methods)}"
    )
