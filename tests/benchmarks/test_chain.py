"""Tests of the chain benchmarks: versions, mappings, objectives and chain units."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import Benchmark, protocol
from hptaa_lab.space import Mapping
from hptaa_lab.transfer import Auto, PreviousTrials, project_chain

CHAINS = ["FCN-CHAIN", "NAS-CHAIN", "SVM-CHAIN", "XGB-CHAIN"]
NODE_1 = {"Op0": "none", "Op2": "none", "Op4": "none"}
XGB_V2_TREE = {
    "colsample_bytree": 1.0,
    "colsample_bylevel": 0.5,
    "max_depth": 10,
    "min_child_weight": 10.0,
}
XGB_V1_TREE = {
    "colsample_bytree": 1.0,
    "colsample_bylevel": 1.0,
    "max_depth": 6,
    "min_child_weight": 1.0,
}


def _without(config: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in names}


# What a v1 configuration becomes in v3 with the mappings (values of added
# hyperparameters filled, removed ones dropped), and whether it matches the
# values v3 fixes.
EXPECTED_V3: dict[str, Callable[[dict[str, Any]], tuple[dict[str, Any], bool]]] = {
    "NAS-CHAIN": lambda c: ({**c, **NODE_1}, True),
    "FCN-CHAIN": lambda c: (
        {
            **_without(c, "batch_size"),
            "activation_fn_1": "tanh",
            "activation_fn_2": "tanh",
            "lr_schedule": "cosine",
        },
        c["batch_size"] == 16,
    ),
    "SVM-CHAIN": lambda c: ({**c, "kernel": "rbf"}, True),
    "XGB-CHAIN": lambda c: (
        {**_without(c, "booster"), **XGB_V2_TREE},
        c["booster"] == "gbtree",
    ),
}
# Hyperparameters of a v1 configuration that v3 keeps without the mappings.
KEPT_WITHOUT_MAPPING = {
    "NAS-CHAIN": ["Op1", "Op3", "Op5"],
    "FCN-CHAIN": ["dropout_1", "dropout_2", "init_lr", "n_units_1", "n_units_2"],
    "SVM-CHAIN": ["C", "gamma"],
    "XGB-CHAIN": ["alpha", "eta", "lambda", "nrounds", "subsample"],
}


def _unit(bench: Benchmark, budget: int = 10, **changes: Any) -> protocol.Unit:
    arguments: dict[str, Any] = {
        "benchmark": bench.name,
        "task": bench.task,
        "previous_budget": budget,
        "seed": 0,
        "methods": ("tpe",),
        "targets": (0.0, 0.0, 0.0),
    }
    arguments.update(changes)
    return protocol.Unit(**arguments)


def _mapping(bench: Benchmark) -> Mapping:
    return Mapping(
        previous_fixed=dict(bench.previous_fixed),
        current_fixed=dict(bench.current_fixed),
    )


@pytest.mark.parametrize("name", CHAINS)
def test_chain_has_three_versions_that_evaluate(name: str) -> None:
    """Check that a chain benchmark has one ancestor (v1) and that every
    version's objective evaluates its default configuration."""
    bench = benchmarks.get(name)

    assert benchmarks.suite_of(name) == "chain"
    assert [version.name for version in bench.ancestors] == ["v1"]
    v1 = bench.ancestors[0]
    assert v1.description
    for space, objective in [
        (v1.space, v1.objective),
        (bench.previous_space, bench.previous_objective),
        (bench.current_space, bench.current_objective),
    ]:
        value = objective(dict(space.get_default_configuration()))
        assert isinstance(value, float)


@pytest.mark.parametrize("name", CHAINS)
def test_v1_configuration_projected_through_v2_into_v3_keeps_its_values(
    name: str,
) -> None:
    """Check that the chain's mappings compose: a v1 configuration projected into
    v2 and then v3 keeps its values, gains the values each version hard-coded
    and loses the removed ones."""
    bench = benchmarks.get(name)
    previous = protocol.previous_trials(bench, _unit(bench, 20, use_mapping=True))

    ((label, projection),) = project_chain(
        bench.current_space, _mapping(bench), previous
    )

    assert label == f"{name} v1 ({bench.task})"
    v1_configs = previous.ancestors[0].configs
    assert len(projection) == len(v1_configs) == 20
    for config, projected, exact in zip(
        v1_configs, projection.configs, projection.exact, strict=True
    ):
        assert (projected, exact) == EXPECTED_V3[name](config)
        bench.current_objective(projected)


@pytest.mark.parametrize("name", CHAINS)
def test_without_mapping_added_values_stay_unknown(name: str) -> None:
    """Check that without the mappings only the shared values of a v1
    configuration reach v3."""
    bench = benchmarks.get(name)
    previous = protocol.previous_trials(bench, _unit(bench))

    ((_, projection),) = project_chain(bench.current_space, None, previous)

    assert previous.incoming is None
    for config, projected in zip(
        previous.ancestors[0].configs, projection.configs, strict=True
    ):
        kept = KEPT_WITHOUT_MAPPING[name]
        assert projected == {k: config[k] for k in kept}


def _v1_configs(bench: Benchmark, n: int) -> list[dict[str, Any]]:
    space = bench.ancestors[0].space
    space.seed(3)
    return [dict(c) for c in space.sample_configuration(n)]


def _into_v3(bench: Benchmark, config: dict[str, Any]) -> dict[str, Any]:
    return EXPECTED_V3[bench.name](config)[0]


@pytest.mark.parametrize("name", ["NAS-CHAIN", "SVM-CHAIN"])
def test_v3_objective_equals_v1_on_configurations_v1_can_express(name: str) -> None:
    """Check that NAS-CHAIN and SVM-CHAIN change only the search space: v3
    gives a v1 configuration, with v1's hard-coded values, v1's value."""
    bench = benchmarks.get(name)
    v1 = bench.ancestors[0]

    for config in _v1_configs(bench, 30):
        assert bench.current_objective(_into_v3(bench, config)) == v1.objective(config)


def test_fcn_chain_v3_differs_from_v1_by_the_learning_rate_schedule() -> None:
    """Check that FCN-CHAIN v3 gives v1's value when it uses v1's schedule
    (const) and batch size 16, and another value with cosine."""
    bench = benchmarks.get("FCN-CHAIN", "protein_structure")
    v1 = bench.ancestors[0]
    configs = [{**c, "batch_size": 16} for c in _v1_configs(bench, 30)]

    changed = 0
    for config in configs:
        v3_config = _into_v3(bench, config)
        const = bench.current_objective({**v3_config, "lr_schedule": "const"})
        assert const == v1.objective(config)
        changed += bench.current_objective(v3_config) != v1.objective(config)

    assert changed == len(configs)


def test_xgb_chain_v3_differs_from_v1_by_the_hidden_tree_values() -> None:
    """Check that XGB-CHAIN v3 gives v1's value (gbtree) with v1's hidden tree
    values, and another value with v2's, which the v2 -> v3 mapping fills."""
    bench = benchmarks.get("XGB-CHAIN", "digits")
    v1 = bench.ancestors[0]
    configs = [{**c, "booster": "gbtree"} for c in _v1_configs(bench, 30)]

    changed = 0
    for config in configs:
        v3_config = _into_v3(bench, config)
        v1_value = v1.objective(config)
        assert bench.current_objective({**v3_config, **XGB_V1_TREE}) == v1_value
        changed += bench.current_objective(v3_config) != v1_value

    assert changed >= 25


def test_chain_unit_gives_transfer_methods_the_ancestors() -> None:
    """Check that a chain unit tunes v1 and v2 for b_old evaluations each and
    hands transfer methods the v2 trials with the v1 trials as ancestor: auto
    uses both sources, auto-last only the direct previous study."""
    bench = benchmarks.get("FCN-CHAIN", "naval_propulsion")
    unit = _unit(bench, 10, use_mapping=True)

    previous = protocol.previous_trials(bench, unit)

    assert isinstance(previous, PreviousTrials)
    assert previous.space == bench.previous_space
    assert len(previous.configs) == 10
    assert previous.incoming == Mapping(
        previous_fixed=bench.ancestors[0].previous_fixed
    )
    (ancestor,) = previous.ancestors
    assert ancestor.space == bench.ancestors[0].space
    assert len(ancestor.configs) == 10
    assert (ancestor.incoming, ancestor.ancestors) == (None, ())
    assert ancestor.configs != previous.configs

    seed = protocol.derive_seed(0, 1)
    auto = protocol.make_method("auto", bench, previous, seed, _mapping(bench))
    last = protocol.make_method("auto-last", bench, previous, seed, _mapping(bench))
    assert isinstance(auto, Auto) and isinstance(last, Auto)
    assert [source.name for source in auto.sources] == [previous.study, ancestor.study]
    assert [source.name for source in last.sources] == [previous.study]


def test_previous_trials_of_a_paper_benchmark_have_no_ancestors() -> None:
    """Check that a benchmark of two versions still gets its previous trials
    alone, as before the chain benchmarks existed."""
    bench = benchmarks.get("NAS-A", "cifar10")
    unit = _unit(bench, 10, use_mapping=True)

    previous = protocol.previous_trials(bench, unit)

    assert (previous.ancestors, previous.incoming) == ((), None)
    assert previous.study == "NAS-A previous (cifar10)"


def test_chain_rows_carry_the_ancestor_budget() -> None:
    """Check that every row of a chain unit says how much the older version was
    tuned, and that auto and auto-last, seeing different sources, may differ
    while the other methods do not depend on the ancestor."""
    bench = benchmarks.get("NAS-CHAIN", "cifar100")
    targets = protocol.compute_targets(bench.name, bench.task, reference_seeds=3)
    unit = _unit(
        bench,
        20,
        methods=("tpe", "best-first+t2pe", "auto", "auto-last"),
        targets=targets.values,
    )

    rows = protocol.run_unit(unit)

    assert [row["method"] for row in rows] == list(unit.methods)
    for row in rows:
        assert (row["n_ancestors"], row["ancestor_budget"]) == (1, 20)
        assert row["ancestor_best"] >= 0.0
    # NAS-CHAIN's last step is NAS-A's adjustment: without the ancestor, a
    # method sees what it sees on NAS-A with the same seeds.
    nas_a = protocol.run_unit(dataclasses.replace(unit, benchmark="NAS-A"))
    for chain_row, nas_a_row in zip(rows, nas_a, strict=True):
        if chain_row["method"] != "auto":
            assert chain_row["trajectory"] == nas_a_row["trajectory"]
        assert "n_ancestors" not in nas_a_row


def test_protocol_run_on_a_chain_benchmark(tmp_path: Path) -> None:
    """Check a tiny sweep of a chain benchmark end to end: rows, the chain
    columns of the tidy table, speedups and the written files."""
    frame = protocol.run(
        ["FCN-CHAIN:naval_propulsion"],
        methods=["auto", "auto-last"],
        previous_budgets=[10],
        seeds=2,
        reference_seeds=3,
        out=tmp_path,
    )

    assert len(frame) == 2 * 3
    assert set(frame["method"]) == {"tpe", "auto", "auto-last"}
    assert (frame["ancestor_budget"] == 10).all()
    table = pd.read_csv(tmp_path / "results.csv")
    assert list(table["n_ancestors"].unique()) == [1]
    speedups = protocol.speedups(frame)
    assert set(speedups["method"]) == {"tpe", "auto", "auto-last"}
    assert (speedups[speedups["method"] == "tpe"]["speedup"] == 1.0).all()
    grid = pd.read_csv(tmp_path / "speedup_grid_by_suite.csv")
    assert set(grid["suite"]) == {"chain"}
    assert "FCN-CHAIN" in (tmp_path / "speedup_grid.md").read_text()
