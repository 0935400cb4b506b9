"""fANOVA first-order hyperparameter importance on a scikit-learn random forest.

A random forest is fitted to the objective values on a unit-cube encoding of the
configurations. Each regression tree is a piecewise constant function on boxes of
[0, 1]^d, so its functional ANOVA decomposition under the uniform measure can be
computed exactly: the first-order importance of dimension i is the variance of the
marginal f_i(x_i) (the tree averaged over every other dimension) divided by the
variance of the tree. The importances of the trees are averaged.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import ConfigSpace as CS
import numpy as np
from sklearn.ensemble import RandomForestRegressor

from hptaa_lab.errors import InvalidSearchSpaceError
from hptaa_lab.space import Encoder

__all__ = ["fanova_importance", "first_order_importance"]

logger = logging.getLogger(__name__)

# NOTE(importance): three samples a leaf keep the trees from splitting on noise
# (irrelevant hyperparameters stay near 0 on noisy objectives) while following
# the objective closely; bootstrap resampling across the trees smooths the rest.
# Small designs get smaller leaves (one per ten configurations), or no tree
# fitted on a bootstrap sample of a handful of configurations would split.
_MIN_SAMPLES_LEAF = 3
_CONFIGS_PER_LEAF_SAMPLE = 10


def fanova_importance(
    space: CS.ConfigurationSpace,
    configs: Sequence[Mapping[str, Any]],
    values: Sequence[float],
    *,
    n_trees: int = 32,
    seed: int | None = 0,
) -> dict[str, float]:
    """Estimate the first-order fANOVA importance of each hyperparameter.

    The importance of a hyperparameter is the share of the variance of the
    random forest's prediction, under the uniform measure on the search space,
    that is explained by that hyperparameter's marginal. Configurations are
    encoded by ``hptaa_lab.space.Encoder``: float hyperparameters are measured
    on their own scale (log scale where the hyperparameter is log scaled); each
    integer, ordinal value and category has the same mass. A hyperparameter that
    is missing from a configuration (inactive) takes its default value.

    Args:
        space: The search space the configurations come from.
        configs: Configurations as mappings from hyperparameter name to value
            (dicts or ConfigSpace ``Configuration`` objects). Names that are not
            in ``space`` are ignored.
        values: Objective value of each configuration, in the same order.
        n_trees: Number of trees of the random forest.
        seed: Seed of the random forest; ``None`` for a fresh random state.

    Returns:
        A dict from the name of every hyperparameter of ``space`` but the
        constants (in the order of the space) to its importance in [0, 1]. The
        importances sum to at most 1; the rest is explained by interactions.
        All importances are 0 (and a warning is logged) when fewer than two
        configurations are given or all objective values are equal.

    Raises:
        InvalidSearchSpaceError: If ``space`` has no hyperparameter or one of
            a type the encoder does not support.
        ValueError: If ``configs`` and ``values`` differ in length, an
            objective value is not finite, or a configuration holds a value
            outside its hyperparameter's domain.
    """
    if len(space) == 0:
        raise InvalidSearchSpaceError(
            f"The search space {space.name!r} has no hyperparameter; fANOVA "
            "importance needs at least one. Add hyperparameters to the space."
        )
    if len(configs) != len(values):
        raise ValueError(
            f"configs and values must have the same length, got {len(configs)} "
            f"configurations and {len(values)} objective values. Pass one "
            "objective value per configuration."
        )
    y = _objective_values(values)

    encoder = Encoder(space)
    if not encoder.names:
        logger.info(
            "The search space has only constant hyperparameters; no importance "
            "to compute."
        )
        return {}

    X = _encode_design(space, encoder, configs)
    shares = first_order_importance(
        X,
        y,
        encoder.is_categorical,
        encoder.n_choices,
        n_trees=n_trees,
        seed=seed,
    )
    return {
        name: float(share) for name, share in zip(encoder.names, shares, strict=True)
    }


def first_order_importance(
    X: np.ndarray,
    y: np.ndarray,
    categorical: np.ndarray,
    n_choices: np.ndarray,
    *,
    n_trees: int = 32,
    seed: int | None = 0,
) -> np.ndarray:
    """Estimate first-order fANOVA importances from an encoded design.

    Every dimension lives in the unit interval under the uniform measure. A
    categorical dimension with k categories is given as the category index
    0..k-1 and is mapped to the centre (c + 0.5) / k of its cell, so that each
    category has mass 1/k.

    Args:
        X: Encoded configurations, shape (n, d): numeric dimensions in [0, 1],
            categorical dimensions as category index. No NaN (impute inactive
            entries before).
        y: Objective values, shape (n,).
        categorical: Whether each dimension is categorical, shape (d,).
        n_choices: Number of categories of each categorical dimension, shape
            (d,); ignored for numeric dimensions.
        n_trees: Number of trees of the random forest.
        seed: Seed of the random forest; ``None`` for a fresh random state.

    Returns:
        The importance of each dimension, shape (d,), each in [0, 1], averaged
        over the trees. All zeros (and a warning is logged) when n < 2 or ``y``
        is constant.

    Raises:
        ValueError: If the shapes disagree, ``n_trees`` is not positive, or an
            entry of ``X`` or ``y`` is out of range or not finite.
    """
    X, y, categorical, n_choices = _check_design(X, y, categorical, n_choices)
    if isinstance(n_trees, bool) or not isinstance(n_trees, numbers.Integral):
        raise ValueError(f"n_trees must be a positive integer, got {n_trees!r}.")
    if n_trees < 1:
        raise ValueError(f"n_trees must be a positive integer, got {n_trees!r}.")
    n, d = X.shape

    if n < 2:
        logger.warning(
            "fANOVA importance is 0 for every hyperparameter: %d configuration(s) "
            "given, at least 2 are needed.",
            n,
        )
        return np.zeros(d)
    if np.all(y == y[0]):
        logger.warning(
            "fANOVA importance is 0 for every hyperparameter: all %d objective "
            "values are equal (%s).",
            n,
            y[0],
        )
        return np.zeros(d)

    unit = _to_unit_cube(X, categorical, n_choices)
    forest = RandomForestRegressor(
        n_estimators=int(n_trees),
        bootstrap=True,
        max_features=None,
        min_samples_leaf=min(_MIN_SAMPLES_LEAF, max(1, n // _CONFIGS_PER_LEAF_SAMPLE)),
        random_state=seed,
    )
    forest.fit(unit, y)

    per_tree = [
        _tree_importance(estimator.tree_, d) for estimator in forest.estimators_
    ]
    fitted = [shares for shares in per_tree if shares is not None]
    if not fitted:
        logger.warning(
            "fANOVA importance is 0 for every hyperparameter: every tree of the "
            "forest is constant."
        )
        return np.zeros(d)
    return np.clip(np.mean(fitted, axis=0), 0.0, 1.0)


def _objective_values(values: Sequence[float]) -> np.ndarray:
    try:
        y = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"values must be a sequence of numbers, got {values!r}. Pass one "
            "objective value (a float) per configuration."
        ) from error
    if y.ndim != 1:
        raise ValueError(
            f"values must be one-dimensional, got shape {y.shape}. Pass one "
            "objective value per configuration."
        )
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(
            f"Every objective value must be finite, got {y[bad[0]]} at position "
            f"{bad[0]}. Drop failed trials or replace their value before "
            "computing importance."
        )
    return y


def _encode_design(
    space: CS.ConfigurationSpace,
    encoder: Encoder,
    configs: Sequence[Mapping[str, Any]],
) -> np.ndarray:
    """Encode configurations, each inactive entry set to its encoded default."""
    for row, config in enumerate(configs):
        for name in encoder.names:
            value = config.get(name)
            if value is not None and not space[name].legal_value(value):
                raise ValueError(
                    f"Configuration {row} gives hyperparameter {name!r} the value "
                    f"{value!r}, which is outside its domain ({space[name]}). "
                    "Project the configuration onto the search space first."
                )
    X = encoder.encode(configs)

    defaults = encoder.encode([{n: space[n].default_value for n in encoder.names}])
    inactive = np.isnan(X)
    X[inactive] = np.broadcast_to(defaults, X.shape)[inactive]

    # Numeric encodings of legal values lie in [0, 1] up to rounding.
    numeric = ~encoder.is_categorical
    X[:, numeric] = np.clip(X[:, numeric], 0.0, 1.0)
    return X


def _check_design(
    X: np.ndarray, y: np.ndarray, categorical: np.ndarray, n_choices: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got shape {X.shape}.")
    n, d = X.shape
    y = np.asarray(y, dtype=float)
    if y.shape != (n,):
        raise ValueError(
            f"y must have shape ({n},) to match X of shape {X.shape}, got shape "
            f"{y.shape}."
        )
    categorical = np.asarray(categorical, dtype=bool)
    n_choices = np.asarray(n_choices)
    if categorical.shape != (d,) or n_choices.shape != (d,):
        raise ValueError(
            f"categorical and n_choices must have shape ({d},) to match X of "
            f"shape {X.shape}, got shapes {categorical.shape} and "
            f"{n_choices.shape}."
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError(
            "X and y must be finite; impute inactive (NaN) entries of X and drop "
            "trials without an objective value first."
        )
    _check_ranges(X, categorical, n_choices)
    return X, y, categorical, n_choices.astype(int)


def _check_ranges(
    X: np.ndarray, categorical: np.ndarray, n_choices: np.ndarray
) -> None:
    for dim in range(X.shape[1]):
        column = X[:, dim]
        if not categorical[dim]:
            if column.size and (column.min() < 0.0 or column.max() > 1.0):
                raise ValueError(
                    f"Numeric dimension {dim} of X must lie in [0, 1], got values "
                    f"from {column.min()} to {column.max()}."
                )
            continue
        k = int(n_choices[dim])
        if k < 1:
            raise ValueError(
                f"Categorical dimension {dim} must have n_choices >= 1, got {k}."
            )
        if np.any(column != np.round(column)) or np.any((column < 0) | (column >= k)):
            raise ValueError(
                f"Categorical dimension {dim} of X must hold category indices "
                f"0..{k - 1}, got {np.unique(column)}."
            )


def _to_unit_cube(
    X: np.ndarray, categorical: np.ndarray, n_choices: np.ndarray
) -> np.ndarray:
    unit = X.copy()
    cells = n_choices[categorical]
    unit[:, categorical] = (X[:, categorical] + 0.5) / cells
    return unit


def _tree_importance(tree: Any, n_dims: int) -> np.ndarray | None:
    """Importances of one fitted scikit-learn tree (its ``tree_``)."""
    return _piecewise_importance(
        np.asarray(tree.children_left),
        np.asarray(tree.children_right),
        np.asarray(tree.feature),
        np.asarray(tree.threshold, dtype=float),
        np.asarray(tree.value, dtype=float).reshape(len(tree.children_left), -1)[:, 0],
        n_dims,
    )


def _piecewise_importance(
    children_left: np.ndarray,
    children_right: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    value: np.ndarray,
    n_dims: int,
) -> np.ndarray | None:
    """First-order variance shares of a binary tree on [0, 1]^n_dims.

    Node arrays follow scikit-learn: a leaf has ``children_left == -1``; a point
    goes left when ``x[feature] <= threshold``. Returns None when the tree is
    constant (no variance to share).
    """
    lower, upper, leaf_value = _leaf_boxes(
        children_left, children_right, feature, threshold, value, n_dims
    )
    if leaf_value.max() == leaf_value.min():
        return None

    # Volume of each leaf and the variance of the tree under the uniform measure.
    widths = upper - lower
    volume = np.prod(widths, axis=1)
    mean = volume @ leaf_value
    total = volume @ (leaf_value - mean) ** 2
    if total <= 0.0:
        return None

    # others[:, i]: product of a leaf's widths over every dimension but i.
    ones = np.ones((widths.shape[0], 1))
    before = np.cumprod(np.hstack([ones, widths[:, :-1]]), axis=1)
    after = np.cumprod(np.hstack([ones, widths[:, :0:-1]]), axis=1)[:, ::-1]
    others = before * after

    shares = np.empty(n_dims)
    for dim in range(n_dims):
        marginal_variance = _marginal_variance(
            lower[:, dim], upper[:, dim], leaf_value * others[:, dim], mean
        )
        shares[dim] = marginal_variance / total
    return shares


def _marginal_variance(
    lower: np.ndarray, upper: np.ndarray, weight: np.ndarray, mean: float
) -> float:
    """Variance on [0, 1] of the step function sum of weight over [lower, upper)."""
    edges = np.unique(np.concatenate([lower, upper]))
    start = np.searchsorted(edges, lower)
    stop = np.searchsorted(edges, upper)

    # Each leaf adds its weight on the intervals between its two edges.
    steps = np.bincount(start, weight, minlength=edges.size) - np.bincount(
        stop, weight, minlength=edges.size
    )
    marginal = np.cumsum(steps)[:-1]
    return float(np.diff(edges) @ (marginal - mean) ** 2)


def _leaf_boxes(
    children_left: np.ndarray,
    children_right: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    value: np.ndarray,
    n_dims: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper corners and values of the leaves, one tree level at a time."""
    n_nodes = children_left.size
    lower = np.zeros((n_nodes, n_dims))
    upper = np.ones((n_nodes, n_dims))
    is_leaf = children_left < 0

    level = np.array([0])
    while level.size:
        split = level[~is_leaf[level]]
        left, right, dim = children_left[split], children_right[split], feature[split]
        cut = np.clip(threshold[split], lower[split, dim], upper[split, dim])
        for child in (left, right):
            lower[child] = lower[split]
            upper[child] = upper[split]
        upper[left, dim] = cut
        lower[right, dim] = cut
        level = np.concatenate([left, right])

    return lower[is_leaf], upper[is_leaf], value[is_leaf]
