"""Tree-ensemble surrogates of real training results (SVM and XGB benchmarks).

For each family ("svm", "xgb") and task, ``data/<family>_<task>.csv.gz`` holds
real evaluations made by ``scripts/make_surrogates.py``: one column per
hyperparameter of the union of the family's versions (fixed values included,
empty where inactive), the objective value, the split ("train" or "test") and
the version whose search space the configuration was drawn from. An
extremely randomized forest (scikit-learn's ExtraTreesRegressor) is fitted to
the log of the objective values of the training rows when a process first
queries the task, then flattened into arrays so that one prediction costs
about a hundred microseconds.
Both versions of a benchmark, and both benchmarks of a family, query the same
forest.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from ConfigSpace import ConfigurationSpace
from scipy.stats import spearmanr

from hptaa_lab.benchmarks._base import check_configuration

logger = logging.getLogger(__name__)

N_TREES = 100
"""Trees of every surrogate forest."""
LOG_OFFSET = 1e-3
"""The forest learns log(value + LOG_OFFSET): the good configurations, whose
values lie close to 0, then weigh as much as the bad ones."""
INACTIVE = -100.0
"""Feature value of an inactive or non-numeric hyperparameter value."""


@dataclass(frozen=True)
class Column:
    """One hyperparameter of a family and how it becomes a forest feature.

    Attributes:
        name: Hyperparameter name.
        kind: "log" (log2 of the value), "linear" or "categorical" (index in
            ``choices``).
        choices: The choices of a categorical hyperparameter.
    """

    name: str
    kind: str
    choices: tuple[str, ...] = ()

    def feature(self, value: Any) -> float:
        """The feature of one value; None or a string outside ``choices`` (such
        as gamma = "scale") gives ``INACTIVE``."""
        if value is None:
            return INACTIVE
        if self.kind == "categorical":
            return (
                float(self.choices.index(value)) if value in self.choices else INACTIVE
            )
        if isinstance(value, str):
            return INACTIVE
        return math.log2(value) if self.kind == "log" else float(value)


FAMILIES: dict[str, tuple[Column, ...]] = {
    "svm": (
        Column("kernel", "categorical", ("linear", "poly", "rbf")),
        Column("C", "log"),
        Column("gamma", "log"),
        Column("degree", "linear"),
    ),
    "xgb": (
        Column("booster", "categorical", ("gblinear", "gbtree")),
        Column("nrounds", "linear"),
        Column("eta", "log"),
        Column("subsample", "linear"),
        Column("lambda", "log"),
        Column("alpha", "log"),
        Column("colsample_bytree", "linear"),
        Column("colsample_bylevel", "linear"),
        Column("max_depth", "linear"),
        Column("min_child_weight", "log"),
    ),
}
"""The union of the hyperparameters of each family's versions."""


def features(family: str, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Forest features of union configurations, one row each.

    SVM features are the columns of ``FAMILIES["svm"]``. XGB features are what
    the trained model sees (see ``_xgb.train_and_score``): the booster, log2
    of the rounds trained, log2 eta, log2 of eta times the rounds (the total
    step), subsample, log2 of the penalty lambda + alpha, log2 of alpha's
    share of it, the share of features drawn per split, max_depth and log2 of
    min_samples_leaf.

    Args:
        family: "svm" or "xgb".
        configs: Values of the family's hyperparameters; a missing one is
            inactive.

    Returns:
        A float array with one row per configuration.
    """
    columns = FAMILIES[family]
    raw = np.array(
        [
            [column.feature(config.get(column.name)) for column in columns]
            for config in configs
        ],
        dtype=float,
    ).reshape(len(configs), len(columns))
    return _xgb_features(raw) if family == "xgb" else raw


def _xgb_features(raw: np.ndarray) -> np.ndarray:
    from hptaa_lab.benchmarks._xgb import MAX_ROUNDS, NROUNDS_UPPER

    booster, nrounds, log_eta, subsample, log_lambda, log_alpha = raw[:, :6].T
    bytree, bylevel, max_depth, log_weight = raw[:, 6:].T
    log_rounds = np.log2(np.maximum(1.0, np.ceil(nrounds * MAX_ROUNDS / NROUNDS_UPPER)))
    log_penalty = np.logaddexp2(log_lambda, log_alpha)
    leaf = np.maximum(1.0, np.round(np.exp2(log_weight)))
    return np.column_stack(
        [
            booster,
            log_rounds,
            log_eta,
            log_eta + log_rounds,
            subsample,
            log_penalty,
            log_alpha - log_penalty,
            bytree * bylevel,
            max_depth,
            np.log2(leaf),
        ]
    )


class CompiledForest:
    """A fitted scikit-learn forest flattened into arrays.

    Leaves point to themselves, so walking every tree ``depth`` steps at once
    lands each on its leaf; the prediction is the mean of the leaf values,
    exactly what the forest predicts (features are compared as float32, as
    scikit-learn does).

    Args:
        forest: A fitted RandomForestRegressor (or any forest of regression
            trees with ``estimators_``).
    """

    def __init__(self, forest: Any) -> None:
        trees = [estimator.tree_ for estimator in forest.estimators_]
        offsets = np.cumsum([0] + [tree.node_count for tree in trees])
        self.roots = offsets[:-1].astype(np.intp)
        feature, threshold, left, right, value = [], [], [], [], []
        for tree, offset in zip(trees, offsets[:-1], strict=True):
            ids = np.arange(tree.node_count)
            leaf = tree.children_left == -1
            feature.append(np.where(leaf, 0, tree.feature))
            threshold.append(np.where(leaf, np.inf, tree.threshold))
            left.append(np.where(leaf, ids, tree.children_left) + offset)
            right.append(np.where(leaf, ids, tree.children_right) + offset)
            value.append(tree.value.reshape(tree.node_count))
        self.feature = np.concatenate(feature).astype(np.intp)
        self.threshold = np.concatenate(threshold)
        self.left = np.concatenate(left).astype(np.intp)
        self.right = np.concatenate(right).astype(np.intp)
        self.value = np.concatenate(value)
        self.depth = max(tree.max_depth for tree in trees)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions for the rows of ``X``."""
        X32 = np.asarray(X, dtype=np.float32).astype(np.float64)
        rows = np.arange(len(X32))[:, None]
        nodes = np.broadcast_to(self.roots, (len(X32), len(self.roots)))
        for _ in range(self.depth):
            go_left = X32[rows, self.feature[nodes]] <= self.threshold[nodes]
            nodes = np.where(go_left, self.left[nodes], self.right[nodes])
        result: np.ndarray = self.value[nodes].mean(axis=1)
        return result

    def predict_one(self, x: np.ndarray) -> float:
        """Prediction for one feature vector."""
        x32 = np.asarray(x, dtype=np.float32).astype(np.float64)
        nodes = self.roots
        feature, threshold, left, right = (
            self.feature,
            self.threshold,
            self.left,
            self.right,
        )
        for _ in range(self.depth):
            nodes = np.where(
                x32[feature[nodes]] <= threshold[nodes], left[nodes], right[nodes]
            )
        return float(self.value[nodes].mean())


def data_file(family: str, task: str) -> Any:
    """The packaged file of real evaluations of one family and task."""
    return (
        importlib.resources.files("hptaa_lab.benchmarks")
        / "data"
        / (f"{family}_{task}.csv.gz")
    )


@functools.cache
def evaluations(family: str, task: str) -> pd.DataFrame:
    """The real evaluations of one family and task (read once per process).

    Args:
        family: "svm" or "xgb".
        task: A task of the family's benchmarks.

    Returns:
        One row per evaluation: the family's hyperparameters (NaN or None where
        inactive), ``value``, ``split`` and ``version``.

    Raises:
        FileNotFoundError: If the package lacks the file; regenerate it with
            scripts/make_surrogates.py.
    """
    path = data_file(family, task)
    if not path.is_file():
        raise FileNotFoundError(
            f"The surrogate data of {family} on {task} is missing ({path}). "
            "Regenerate it with `python scripts/make_surrogates.py`."
        )
    with importlib.resources.as_file(path) as local:
        frame = pd.read_csv(local, keep_default_na=True)
    return frame


def _records(frame: pd.DataFrame, family: str) -> list[dict[str, Any]]:
    names = [column.name for column in FAMILIES[family]]
    records = []
    for row in frame[names].itertuples(index=False):
        records.append(
            {
                name: value
                for name, value in zip(names, row, strict=True)
                if not (isinstance(value, float) and math.isnan(value))
            }
        )
    return records


class Surrogate:
    """A compiled forest on log values, predicting objective values.

    Args:
        forest: The forest fitted to ``log(value + LOG_OFFSET)``.
    """

    def __init__(self, forest: CompiledForest) -> None:
        self.forest = forest

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted objective values of the rows of ``X``."""
        result: np.ndarray = np.exp(self.forest.predict(X)) - LOG_OFFSET
        return result

    def predict_one(self, x: np.ndarray) -> float:
        """Predicted objective value of one feature vector."""
        return math.exp(self.forest.predict_one(x)) - LOG_OFFSET


def fit_surrogate(family: str, X: np.ndarray, y: np.ndarray) -> Surrogate:
    """Fit the surrogate forest on features ``X`` and objective values ``y``.

    Args:
        family: "svm" or "xgb" (for the log message).
        X: Features from :func:`features`.
        y: Objective values (at least ``-LOG_OFFSET``).

    Returns:
        The fitted surrogate.
    """
    from sklearn.ensemble import ExtraTreesRegressor

    forest = ExtraTreesRegressor(
        n_estimators=N_TREES, max_features=1.0, random_state=0, n_jobs=1
    )
    forest.fit(X, np.log(np.asarray(y, dtype=float) + LOG_OFFSET))
    compiled = CompiledForest(forest)
    logger.debug(
        "Fitted the %s surrogate on %d evaluations (depth %d).",
        family,
        len(y),
        compiled.depth,
    )
    return Surrogate(compiled)


@functools.cache
def surrogate(family: str, task: str) -> Surrogate:
    """The surrogate of one family and task, fitted on its training rows once
    per process."""
    frame = evaluations(family, task)
    train = frame[frame["split"] == "train"]
    X = features(family, _records(train, family))
    return fit_surrogate(family, X, train["value"].to_numpy(dtype=float))


def fidelity(family: str, task: str) -> dict[str, float]:
    """Spearman correlation of surrogate and real values on the held-out rows.

    Args:
        family: "svm" or "xgb".
        task: A task of the family's benchmarks.

    Returns:
        "all": over every held-out row; and one entry per version (e.g.
        "XGB-A current") over that version's held-out rows.
    """
    frame = evaluations(family, task)
    test = frame[frame["split"] == "test"]
    predicted = surrogate(family, task).predict(
        features(family, _records(test, family))
    )
    real = test["value"].to_numpy(dtype=float)
    result = {"all": _spearman(predicted, real)}
    for version in sorted(test["version"].unique()):
        mask = (test["version"] == version).to_numpy()
        result[str(version)] = _spearman(predicted[mask], real[mask])
    return result


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a, b).statistic)


class SurrogateObjective:
    """Objective of one version that queries the family's surrogate forest.

    The configuration is checked against the version's search space, merged
    with the version's hard-coded values into a configuration of the family's
    union, and predicted by the forest: deterministic, and microseconds a call.
    The forest is not pickled with the objective; each process fits it from
    the packaged data on first use.

    Args:
        label: Names the objective in error messages, e.g.
            "SVM-A current (wine)".
        family: "svm" or "xgb".
        task: A task of the family.
        space: Search space whose values the objective accepts.
        fixed: Hard-coded values of the version that are not in ``space``.
    """

    def __init__(
        self,
        label: str,
        family: str,
        task: str,
        space: ConfigurationSpace,
        fixed: Mapping[str, Any],
    ) -> None:
        if family not in FAMILIES:
            raise ValueError(
                f"The surrogate family of {label} must be one of "
                f"{', '.join(FAMILIES)}; got {family!r}."
            )
        self.label = label
        self.family = family
        self.task = task
        self.space = space
        self.fixed = dict(fixed)

    def __call__(self, config: dict[str, Any]) -> float:
        """Surrogate objective value of one configuration.

        Args:
            config: Values of the active hyperparameters of ``space``.

        Returns:
            The predicted objective value (minimised).

        Raises:
            ValueError: Naming the hyperparameter whose value is illegal,
                missing, unknown or inactive.
        """
        values = {**self.fixed, **check_configuration(config, self.space, self.label)}
        return surrogate(self.family, self.task).predict_one(
            features(self.family, [values])[0]
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"


def trained_objective(
    live_objective: Callable[..., Any],
    family: str,
    version: str,
    task: str,
    space: ConfigurationSpace,
    fixed: Mapping[str, Any],
    live: bool,
) -> Any:
    """The objective of one version of a trained benchmark: real training with
    ``live_objective(label, task, space, fixed)``, else the family's surrogate."""
    label = f"{version} ({task})"
    if live:
        return live_objective(label, task, space, fixed)
    return SurrogateObjective(label, family, task, space, fixed)
