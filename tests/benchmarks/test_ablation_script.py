"""Tests of the report of scripts/auto_ablation.py on a small made-up results table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from hptaa_lab.benchmarks import protocol

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "auto_ablation.py"


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("auto_ablation", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["auto_ablation"] = module
    spec.loader.exec_module(module)
    return module


def _rows(benchmark: str, method: str, evaluations: list[int | None]) -> list[dict]:
    return [
        {
            "benchmark": benchmark,
            "task": "t",
            "previous_budget": b,
            "seed": seed,
            "method": method,
            **{f"evals_to_target_{t}": n for t in protocol.TARGET_BUDGETS},
        }
        for b in protocol.PREVIOUS_BUDGETS
        for seed, n in enumerate(evaluations)
    ]


def test_report_prints_grid_chain_inverted_and_failures(ablation, capsys) -> None:
    """Check each column of the report: speedups over TPE on the paper and chain
    and hold-out suites, relative evaluations on the inverted suite, and failures
    per suite."""
    rows = [
        *_rows("SVM-B", "tpe", [8, 8]),
        *_rows("SVM-B", "auto", [2, 2]),
        *_rows("SVM-CHAIN", "tpe", [8, 8]),
        *_rows("SVM-CHAIN", "auto", [4, None]),
        *_rows("XGB-INV", "tpe", [10, 10]),
        *_rows("XGB-INV", "auto", [11, 11]),
        *_rows("XGB-HO", "tpe", [6, 6]),
        *_rows("XGB-HO", "auto", [3, 3]),
    ]
    ablation.report(pd.DataFrame(rows), ["tpe", "auto"])
    out = capsys.readouterr().out.splitlines()
    auto = next(line for line in out if line.startswith("auto"))
    tpe = next(line for line in out if line.startswith("tpe"))
    # paper 8 / 2 = 4.00; chain 8 / mean(4, 400) = 0.04; hold-out 6 / 3 = 2.00;
    # inverted 11 / 10 = 1.10
    assert auto.split()[1:4] == ["4.00", "0.04", "2.00"]
    assert "1.10 / 1.10 / 1.10" in auto
    assert auto.split()[-7:] == ["0", "/", "3", "/", "0", "/", "0"]
    assert tpe.split()[-7:] == ["0", "/", "0", "/", "0", "/", "0"]


def test_variants_are_options_of_auto(ablation) -> None:
    """Check that every variant's options are accepted by Auto (a renamed option
    would otherwise only fail in a ten-minute run)."""
    from hptaa_lab.benchmarks._base import get
    from hptaa_lab.transfer import Auto, PreviousTrials

    bench = get("SVM-B", "diabetes")
    space = bench.previous_space
    configs = tuple(dict(c) for c in space.sample_configuration(6))
    previous = PreviousTrials(space, configs, tuple(float(i) for i in range(6)))
    for options in ablation.VARIANTS.values():
        Auto(bench.current_space, previous, seed=0, **options)
