"""Tests of fANOVA first-order importance on a random forest."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    Integer,
    OrdinalHyperparameter,
)

from hptaa_lab.errors import InvalidSearchSpaceError
from hptaa_lab.importance import fanova_importance, first_order_importance
from hptaa_lab.importance._fanova import _encode_design, _piecewise_importance
from hptaa_lab.space import Encoder

LOGGER = "hptaa_lab.importance._fanova"


def _unit_space(d: int) -> ConfigurationSpace:
    return ConfigurationSpace({f"x{i}": (0.0, 1.0) for i in range(d)})


def _unit_configs(d: int, n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {f"x{i}": float(v) for i, v in enumerate(row)} for row in rng.random((n, d))
    ]


def _numeric(d: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(d, dtype=bool), np.zeros(d, dtype=int)


def test_only_relevant_hyperparameter_gets_importance() -> None:
    """Check that a function of x0 alone gives x0 nearly all the importance."""
    configs = _unit_configs(5, 200, seed=0)
    values = [(c["x0"] - 0.3) ** 2 for c in configs]

    importance = fanova_importance(_unit_space(5), configs, values)

    assert list(importance) == [f"x{i}" for i in range(5)]
    assert importance["x0"] > 0.95
    assert all(importance[f"x{i}"] < 0.02 for i in range(1, 5))


def test_additive_importances_follow_squared_coefficients() -> None:
    """Check that y = 2 x0 + x1 gives importances in a ratio near 4 : 1."""
    configs = _unit_configs(4, 300, seed=1)
    values = [2.0 * c["x0"] + 1.0 * c["x1"] for c in configs]

    importance = fanova_importance(_unit_space(4), configs, values)

    assert 3.0 < importance["x0"] / importance["x1"] < 6.0
    assert importance["x0"] + importance["x1"] > 0.9
    assert importance["x2"] < 0.02 and importance["x3"] < 0.02


def test_deciding_categorical_hyperparameter_dominates() -> None:
    """Check that a categorical hyperparameter that sets the value dominates."""
    space = ConfigurationSpace(seed=2)
    space.add(
        Categorical("optimizer", ["adam", "sgd", "rmsprop"]),
        Float("x", (0.0, 1.0)),
    )
    configs = [dict(c) for c in space.sample_configuration(200)]
    level = {"adam": 0.0, "sgd": 5.0, "rmsprop": 1.0}
    values = [level[c["optimizer"]] + 0.1 * c["x"] for c in configs]

    importance = fanova_importance(space, configs, values)

    assert importance["optimizer"] > 0.95
    assert importance["x"] < 0.05


@pytest.mark.parametrize("deciding", ["size", "width"])
def test_deciding_ordinal_or_integer_hyperparameter_dominates(deciding: str) -> None:
    """Check that an ordinal or log-scale integer that sets the value dominates."""
    space = ConfigurationSpace(seed=12)
    space.add(
        OrdinalHyperparameter("size", ["small", "medium", "large"]),
        Integer("width", (1, 64), log=True),
        Float("x", (0.0, 1.0)),
    )
    configs = [dict(c) for c in space.sample_configuration(200)]
    level = {"small": 0.0, "medium": 1.0, "large": 3.0}
    if deciding == "size":
        values = [level[c["size"]] + 0.1 * c["x"] for c in configs]
    else:
        values = [float(np.log2(c["width"])) + 0.1 * c["x"] for c in configs]

    importance = fanova_importance(space, configs, values)

    assert importance[deciding] > 0.95
    assert importance["x"] < 0.05


def test_log_scale_hyperparameter_is_measured_on_log_scale() -> None:
    """Check that a step at the log-scale middle of lr counts as a 50/50 split.

    y = 2 [lr > 1e-3] + 2 x: on log scale the step has variance 1 and x has
    variance 1/3, so the shares are 0.75 and 0.25. On a linear scale the step
    would cover 99% of the range and its share would be near 0.1.
    """
    space = ConfigurationSpace(seed=3)
    space.add(Float("lr", (1e-5, 1e-1), log=True), Float("x", (0.0, 1.0)))
    configs = [dict(c) for c in space.sample_configuration(300)]
    values = [2.0 * (c["lr"] > 1e-3) + 2.0 * c["x"] for c in configs]

    importance = fanova_importance(space, configs, values)

    assert importance["lr"] == pytest.approx(0.75, abs=0.04)
    assert importance["x"] == pytest.approx(0.25, abs=0.04)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_importances_lie_in_unit_interval_and_sum_to_at_most_one(seed: int) -> None:
    """Check that importances are in [0, 1] and sum to at most 1 with interactions."""
    rng = np.random.default_rng(seed)
    X = rng.random((150, 4))
    y = X[:, 0] * X[:, 1] + X[:, 2] + 0.05 * rng.standard_normal(150)

    importance = first_order_importance(X, y, *_numeric(4), seed=seed)

    assert importance.shape == (4,)
    assert np.all((importance >= 0.0) & (importance <= 1.0))
    assert importance.sum() <= 1.0 + 1e-9


def test_constant_values_give_zeros_and_log_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that equal objective values give all zeros and a warning."""
    configs = _unit_configs(3, 20, seed=4)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        importance = fanova_importance(_unit_space(3), configs, [0.5] * 20)

    assert importance == {"x0": 0.0, "x1": 0.0, "x2": 0.0}
    assert "all 20 objective values are equal (0.5)" in caplog.text


def test_fewer_than_two_configs_give_zeros_and_log_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that a single configuration gives all zeros and a warning."""
    configs = _unit_configs(2, 1, seed=5)

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        importance = fanova_importance(_unit_space(2), configs, [1.0])

    assert importance == {"x0": 0.0, "x1": 0.0}
    assert "1 configuration(s) given, at least 2 are needed" in caplog.text


def test_mismatched_lengths_raise() -> None:
    """Check that configs and values of different lengths raise ValueError."""
    configs = _unit_configs(2, 5, seed=6)

    with pytest.raises(
        ValueError,
        match=r"configs and values must have the same length, got 5 configurations "
        r"and 4 objective values",
    ):
        fanova_importance(_unit_space(2), configs, [1.0, 2.0, 3.0, 4.0])


def test_empty_space_raises() -> None:
    """Check that a search space without hyperparameters raises."""
    with pytest.raises(InvalidSearchSpaceError, match=r"has no hyperparameter"):
        fanova_importance(ConfigurationSpace(), [], [])


def test_value_outside_range_raises() -> None:
    """Check that a numeric value outside its range raises ValueError."""
    configs = [{"x0": 0.2, "x1": 0.5}, {"x0": 1.5, "x1": 0.5}]

    with pytest.raises(
        ValueError,
        match=r"Configuration 1 gives hyperparameter 'x0' the value 1.5, which is "
        r"outside its domain",
    ):
        fanova_importance(_unit_space(2), configs, [1.0, 2.0])


def test_unknown_category_raises() -> None:
    """Check that a value that is not among the choices raises ValueError."""
    space = ConfigurationSpace({"optimizer": ["adam", "sgd"]})

    with pytest.raises(
        ValueError,
        match=r"Configuration 1 gives hyperparameter 'optimizer' the value 'lbfgs'",
    ):
        fanova_importance(
            space, [{"optimizer": "adam"}, {"optimizer": "lbfgs"}], [1, 2]
        )


def test_non_finite_objective_value_raises() -> None:
    """Check that a NaN objective value raises ValueError."""
    configs = _unit_configs(2, 3, seed=7)

    with pytest.raises(ValueError, match=r"must be finite, got nan at position 1"):
        fanova_importance(_unit_space(2), configs, [1.0, float("nan"), 2.0])


def test_same_seed_gives_same_importances() -> None:
    """Check that a fixed seed makes the result reproducible."""
    configs = _unit_configs(3, 80, seed=8)
    rng = np.random.default_rng(9)
    values = [c["x0"] + c["x1"] ** 2 + 0.1 * rng.standard_normal() for c in configs]

    first = fanova_importance(_unit_space(3), configs, values, n_trees=8, seed=3)
    second = fanova_importance(_unit_space(3), configs, values, n_trees=8, seed=3)

    assert first == second


def test_single_tree_decomposition_matches_hand_computation() -> None:
    """Check the exact variance decomposition of a hand-made tree.

    Root splits x0 at 0.3: the left leaf is 1; the right node splits x1 at 0.6
    into leaves 2 (below) and 6 (above). Leaf volumes 0.3, 0.42, 0.28.
    Mean 0.3 + 0.84 + 1.68 = 2.82. Variance
    0.3 * 1.82^2 + 0.42 * 0.82^2 + 0.28 * 3.18^2 = 4.1076.
    f0 is 1 on [0, 0.3) and 0.6 * 2 + 0.4 * 6 = 3.6 above: variance
    0.3 * 1.82^2 + 0.7 * 0.78^2 = 1.4196.
    f1 is 0.3 + 0.7 * 2 = 1.7 on [0, 0.6) and 0.3 + 0.7 * 6 = 4.5 above: variance
    0.6 * 1.12^2 + 0.4 * 1.68^2 = 1.8816.
    """
    children_left = np.array([1, -1, 3, -1, -1])
    children_right = np.array([2, -1, 4, -1, -1])
    feature = np.array([0, -2, 1, -2, -2])
    threshold = np.array([0.3, -2.0, 0.6, -2.0, -2.0])
    value = np.array([2.82, 1.0, 3.6, 2.0, 6.0])

    shares = _piecewise_importance(
        children_left, children_right, feature, threshold, value, n_dims=3
    )

    assert shares is not None
    np.testing.assert_allclose(
        shares, [1.4196 / 4.1076, 1.8816 / 4.1076, 0.0], rtol=1e-12, atol=1e-15
    )


def test_constant_tree_has_no_decomposition() -> None:
    """Check that a tree that is a single leaf yields no shares."""
    shares = _piecewise_importance(
        np.array([-1]),
        np.array([-1]),
        np.array([-2]),
        np.array([-2.0]),
        np.array([4.0]),
        n_dims=2,
    )

    assert shares is None


def test_categorical_cells_give_exact_decomposition() -> None:
    """Check the array core on a 2 x 2 categorical table it fits exactly.

    y(a, b) = [[0, 1], [2, 5]], each cell of mass 1/4: mean 2, variance
    (4 + 1 + 0 + 9) / 4 = 3.5. f_a = (0.5, 3.5): variance 2.25, share 9/14.
    f_b = (1, 3): variance 1, share 2/7. The rest, 1/14, is the interaction.
    """
    table = np.array([[0.0, 1.0], [2.0, 5.0]])
    cells = np.array([(a, b) for a in range(2) for b in range(2)] * 25, dtype=float)
    y = table[cells[:, 0].astype(int), cells[:, 1].astype(int)]

    shares = first_order_importance(
        cells, y, np.array([True, True]), np.array([2, 2]), n_trees=16
    )

    np.testing.assert_allclose(shares, [9 / 14, 2 / 7], rtol=1e-6)


def test_categorical_dimension_with_three_choices_uses_equal_cells() -> None:
    """Check that each of three categories has mass 1/3.

    y = (0, 0, 3) by category: mean 1, variance (1 + 1 + 4) / 3 = 2, all of it
    first order, so the share is 1 whatever the cells' positions, while the
    second (numeric, unused) dimension has share 0.
    """
    rng = np.random.default_rng(10)
    X = np.column_stack([np.tile([0.0, 1.0, 2.0], 30), rng.random(90)])
    y = np.array([0.0, 0.0, 3.0])[X[:, 0].astype(int)]

    shares = first_order_importance(X, y, np.array([True, False]), np.array([3, 0]))

    np.testing.assert_allclose(shares, [1.0, 0.0], atol=1e-12)


def test_inactive_hyperparameter_takes_its_default() -> None:
    """Check that a missing (inactive) value is encoded as the default value."""
    space = ConfigurationSpace()
    space.add(
        Categorical("optimizer", ["adam", "sgd"], default="adam"),
        Float("momentum", (0.0, 1.0), default=0.9),
        Constant("seed", 7),
    )
    space.add(EqualsCondition(space["momentum"], space["optimizer"], "sgd"))
    encoder = Encoder(space)

    X = _encode_design(
        space,
        encoder,
        [{"optimizer": "adam", "seed": 7}, {"optimizer": "sgd", "momentum": 0.25}],
    )

    assert encoder.names == ["optimizer", "momentum"]
    np.testing.assert_allclose(X, [[0.0, 0.9], [1.0, 0.25]])


def test_constants_are_left_out() -> None:
    """Check that constant hyperparameters get no importance entry."""
    space = ConfigurationSpace()
    space.add(Float("x", (0.0, 1.0)), Constant("epochs", 10))
    configs = [{"x": x, "epochs": 10} for x in np.linspace(0.0, 1.0, 30)]

    importance = fanova_importance(space, configs, [c["x"] for c in configs])

    assert list(importance) == ["x"]
    assert importance["x"] > 0.95


def test_only_constants_give_empty_result() -> None:
    """Check that a space of constants only gives an empty dict."""
    space = ConfigurationSpace()
    space.add(Constant("epochs", 10))

    assert fanova_importance(space, [{"epochs": 10}] * 3, [1.0, 2.0, 3.0]) == {}


def test_conditional_space_configs_give_importance_of_every_hyperparameter() -> None:
    """Check that sampled configurations with inactive entries are handled."""
    space = ConfigurationSpace(seed=11)
    space.add(
        Categorical("optimizer", ["adam", "sgd"]),
        Float("momentum", (0.0, 1.0)),
        Float("lr", (1e-4, 1e-1), log=True),
        Constant("epochs", 10),
    )
    space.add(EqualsCondition(space["momentum"], space["optimizer"], "sgd"))
    configs = [dict(c) for c in space.sample_configuration(120)]
    values = [np.log10(c["lr"]) + 3.0 * c.get("momentum", 0.0) for c in configs]

    importance = fanova_importance(space, configs, values)

    assert set(importance) == {"optimizer", "momentum", "lr"}
    assert max(importance, key=importance.__getitem__) in {"lr", "momentum"}
    assert sum(importance.values()) <= 1.0 + 1e-9


def test_array_core_rejects_bad_input() -> None:
    """Check that the array core rejects out-of-range and missing entries."""
    X = np.array([[0.5, 1.0], [0.2, 0.0]])
    y = np.array([1.0, 2.0])
    categorical = np.array([False, True])
    n_choices = np.array([0, 2])

    with pytest.raises(ValueError, match=r"must hold category indices 0..1, got"):
        first_order_importance(X + np.array([0, 1]), y, categorical, n_choices)
    with pytest.raises(ValueError, match=r"Numeric dimension 0 of X must lie in"):
        first_order_importance(X + np.array([1, 0]), y, categorical, n_choices)
    with pytest.raises(ValueError, match=r"impute inactive \(NaN\) entries"):
        first_order_importance(X * np.array([np.nan, 1]), y, categorical, n_choices)
    with pytest.raises(ValueError, match=r"y must have shape \(2,\)"):
        first_order_importance(X, y[:1], categorical, n_choices)
    with pytest.raises(ValueError, match=r"n_trees must be a positive integer"):
        first_order_importance(X, y, categorical, n_choices, n_trees=0)


def test_handful_of_configs_still_gives_importance() -> None:
    """Check that eight configurations are enough for the trees to split."""
    rng = np.random.default_rng(13)
    X = rng.random((8, 3))

    importance = first_order_importance(X, 2.0 * X[:, 0], *_numeric(3))

    assert importance.argmax() == 0
    assert importance[0] > 0.5
