"""Tests of the inverted benchmarks: the inversion, its harm, and a tiny sweep."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ConfigSpace import Categorical, ConfigurationSpace

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._cli import add_parser
from hptaa_lab.benchmarks._inverted import (
    InvertedObjective,
    Mirrored,
    Reversed,
    Swapped,
)

INVERTED = {
    "FCN-INV": [
        "naval_propulsion",
        "parkinsons_telemonitoring",
        "protein_structure",
        "slice_localization",
    ],
    "NAS-INV": ["cifar10", "cifar100", "imagenet"],
    "XGB-INV": ["breast_cancer", "digits", "wine", "diabetes"],
}
LEARNING_RATES = (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)
DROPOUTS = (0.0, 0.3, 0.6)


def test_inverted_suite_lists_benchmarks_on_different_bases() -> None:
    """Check that the inverted suite has benchmarks on several bases, each with
    the same search space in both versions and nothing hard-coded differently."""
    assert benchmarks.names("inverted") == sorted(INVERTED)
    for name in INVERTED:
        bench = benchmarks.get(name)
        assert benchmarks.suite_of(name) == "inverted"
        assert list(bench.previous_space.values()) == list(bench.current_space.values())
        assert (bench.previous_fixed, bench.current_fixed, bench.ancestors) == (
            {},
            {},
            (),
        )
        assert "current code" in bench.description


def test_transforms_read_values_inverted() -> None:
    """Check the three ways a current version reads a value."""
    reverse = Reversed(LEARNING_RATES)
    assert [reverse(v) for v in LEARNING_RATES] == list(reversed(LEARNING_RATES))
    swap = Swapped("nor_conv_3x3", "avg_pool_3x3")
    assert [swap(v) for v in ["nor_conv_3x3", "avg_pool_3x3", "none"]] == [
        "avg_pool_3x3",
        "nor_conv_3x3",
        "none",
    ]
    assert Mirrored(0.0, 1.0)(0.25) == 0.75
    assert Mirrored(2.0**-10, 1.0, log=True)(2.0**-3) == 2.0**-7


def test_inverted_objective_evaluates_the_transformed_configuration() -> None:
    """Check that an inverted objective passes transformed values to the code it
    wraps, and refuses a transform of an unknown hyperparameter."""
    space = ConfigurationSpace()
    space.add(Categorical("op", ("a", "b", "c")))
    seen: list[dict[str, Any]] = []

    def inner(config: dict[str, Any]) -> float:
        seen.append(config)
        return 1.0

    objective = InvertedObjective(
        "toy current", space, inner, {"op": Swapped("a", "c")}
    )

    assert objective({"op": "a"}) == 1.0
    assert seen == [{"op": "c"}]
    with pytest.raises(ValueError, match=r"Hyperparameter 'op' of toy current"):
        objective({"op": "d"})
    with pytest.raises(ValueError, match=r"name \['width'\], which are not in"):
        InvertedObjective("toy current", space, inner, {"width": Swapped(1, 2)})


def _inverted(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """What the previous code would have to get to train as the current code
    does with ``config``."""
    if name == "FCN-INV":
        lr = LEARNING_RATES[::-1][LEARNING_RATES.index(config["init_lr"])]
        drop = {d: DROPOUTS[::-1][DROPOUTS.index(config[d])] for d in DROPOUTS_HP}
        return {**config, "init_lr": lr, **drop}
    if name == "NAS-INV":
        swap = {"nor_conv_3x3": "avg_pool_3x3", "avg_pool_3x3": "nor_conv_3x3"}
        return {edge: swap.get(op, op) for edge, op in config.items()}
    return {
        **config,
        "subsample": 1.0 - config["subsample"],
        "eta": 2.0**-10 / config["eta"],
    }


DROPOUTS_HP = ("dropout_1", "dropout_2")


@pytest.mark.parametrize("name", sorted(INVERTED))
def test_current_objective_reads_the_values_inverted(name: str) -> None:
    """Check that the current objective of a configuration is the previous
    objective of the inverted configuration."""
    bench = benchmarks.get(name)
    bench.current_space.seed(5)

    for config in bench.current_space.sample_configuration(20):
        values = dict(config)
        current = bench.current_objective(values)
        assert current == pytest.approx(
            bench.previous_objective(_inverted(name, values)), rel=1e-12
        )


def _samples(name: str, task: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    bench = benchmarks.get(name, task)
    bench.previous_space.seed(11)
    configs = [dict(c) for c in bench.previous_space.sample_configuration(n)]
    previous = np.array([bench.previous_objective(c) for c in configs])
    current = np.array([bench.current_objective(c) for c in configs])
    return previous, current


@pytest.mark.parametrize(
    ("name", "task"), [(name, task) for name in INVERTED for task in INVERTED[name]]
)
def test_previous_best_is_poor_in_the_current_version(name: str, task: str) -> None:
    """Check the inversion on every task: of 1000 random configurations, the
    previous best is worse than the current median, and so is, on average, the
    best 5% of the previous version."""
    previous, current = _samples(name, task, 1000)
    best = int(np.argmin(previous))
    top = np.argsort(previous, kind="stable")[:50]

    def share_better(i: int) -> float:
        return float(np.mean(current < current[i]))

    assert current[best] > np.median(current)
    assert share_better(best) > 0.6
    assert np.mean([share_better(i) for i in top]) > 0.55


def test_protocol_run_on_an_inverted_benchmark(tmp_path: Path) -> None:
    """Check a tiny sweep of an inverted benchmark end to end, and that the
    evaluations relative to TPE are the ratio of the mean evaluations."""
    frame = protocol.run(
        ["NAS-INV:cifar100"],
        methods=["best-first", "auto"],
        previous_budgets=[10],
        seeds=2,
        reference_seeds=3,
        out=tmp_path,
    )

    relative = protocol.relative_evaluations(frame)
    assert set(relative["method"]) == {"tpe", "best-first", "auto"}
    for method in ["tpe", "auto"]:
        rows = frame[frame["method"] == method]
        evaluations = rows["evals_to_target_40"].fillna(400).mean()
        tpe = frame[frame["method"] == "tpe"]["evals_to_target_40"].fillna(400)
        cell = relative[
            (relative["method"] == method) & (relative["target_budget"] == 40)
        ]
        assert cell["relative_evaluations"].item() == pytest.approx(
            evaluations / tpe.mean()
        )
        assert cell["n_runs"].item() == 2
    speedups = protocol.speedups(frame)
    auto = speedups[(speedups["method"] == "auto") & (speedups["target_budget"] == 40)]
    assert auto["speedup"].item() == pytest.approx(
        1.0
        / relative[(relative["method"] == "auto") & (relative["target_budget"] == 40)][
            "relative_evaluations"
        ].item()
    )
    written = pd.read_csv(tmp_path / "relative_evaluations.csv")
    assert set(written["previous_budget"].astype(str)) == {"10", "all"}
    assert "Evaluations relative to TPE" in (tmp_path / "speedup_grid.md").read_text()


def test_relative_evaluations_pool_tasks_and_seeds() -> None:
    """Check the arithmetic on a hand-made table: failures count 400, tasks and
    seeds are pooled, and ``by`` chooses the groups."""
    rows = []
    for task, tpe, auto in [("a", [10, 30], [20, None]), ("b", [40, 40], [40, 40])]:
        for seed in range(2):
            for method, values in [("tpe", tpe), ("auto", auto)]:
                rows.append(
                    {
                        "benchmark": "X-INV",
                        "task": task,
                        "previous_budget": 10,
                        "seed": seed,
                        "method": method,
                        "evals_to_target_10": values[seed],
                    }
                )
    frame = pd.DataFrame(rows)

    table = protocol.relative_evaluations(frame)
    auto = table[table["method"] == "auto"].iloc[0]
    assert auto["mean_evaluations"] == (20 + 400 + 40 + 40) / 4
    assert auto["reference_evaluations"] == (10 + 30 + 40 + 40) / 4
    assert auto["relative_evaluations"] == pytest.approx(500 / 120)
    assert auto["failure_rate"] == 0.25
    per_task = protocol.relative_evaluations(frame, by=("task",))
    assert list(per_task[per_task["method"] == "auto"]["relative_evaluations"]) == [
        pytest.approx(420 / 40),
        1.0,
    ]
    with pytest.raises(ValueError, match=r"must be among benchmark, task,"):
        protocol.relative_evaluations(frame, by=("method",))


def test_cli_runs_an_inverted_benchmark_and_prints_relative_evaluations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check ``hptaa bench`` on an inverted benchmark in one worker."""
    parser = argparse.ArgumentParser(prog="hptaa")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "bench",
            "--benchmarks",
            "FCN-INV:naval_propulsion",
            "--methods",
            "auto",
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
    assert "auto\n\n| b_old | target 10 | target 20 | target 40 |" in printed
    assert "| benchmark | method | b_old | target 10 |" in printed
    assert "| FCN-INV | auto | all |" in printed
