"""XGB-A and XGB-B: adjustments of a gradient-boosting classifier.

The paper's XGBoost benchmarks are surrogates of OpenML runs, which cannot be
reached here. These are rebuilt on real training with scikit-learn on four
data sets that ship with it: gbtree is HistGradientBoostingClassifier, gblinear
a linear model trained by SGDClassifier, and the objective is one minus the
ROC AUC over fixed cross-validation folds. ``train_and_score`` holds the
mapping of the paper's hyperparameters onto the models' real parameters.
"""

from __future__ import annotations

import functools
import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MinMaxScaler

from hptaa_lab.benchmarks._base import Benchmark, check_configuration, register
from hptaa_lab.benchmarks._surrogate import SurrogateObjective, trained_objective

logger = logging.getLogger(__name__)

TASKS = ("breast_cancer", "digits", "wine", "diabetes")

N_FOLDS = 3
MAX_ROUNDS = 100
"""Boosting rounds (or SGD epochs) that nrounds = 5000 maps to."""
NROUNDS_UPPER = 5000
MAX_LEAF_NODES = 64
"""Leaves per tree at most; bounds the cost of deep trees (xgboost has no cap)."""
MAX_BINS = 64
"""Histogram bins per feature (xgboost's hist method uses 256)."""
MIN_ROWS_PER_CLASS = 2
"""Training rows of each class that every subsample keeps."""

PREVIOUS_TREE_VALUES: dict[str, Any] = {
    "colsample_bytree": 1.0,
    "colsample_bylevel": 1.0,
    "max_depth": 6,
    "min_child_weight": 1.0,
}
"""xgboost's defaults, hard-coded in XGB-A previous and in XGB-B previous."""
XGB_B_CURRENT_TREE_VALUES: dict[str, Any] = {
    "colsample_bytree": 1.0,
    "colsample_bylevel": 0.5,
    "max_depth": 10,
    "min_child_weight": 10.0,
}
"""The hidden values that XGB-B's current version changes."""


@dataclass(frozen=True)
class _Fold:
    """Rows of one cross-validation fold; ``order`` ranks the training rows for
    subsampling (a fixed random permutation that puts ``MIN_ROWS_PER_CLASS``
    rows of each class first)."""

    x_train: np.ndarray
    x_test: np.ndarray
    scaled_train: np.ndarray
    scaled_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    order: np.ndarray


def train_and_score(task: str, settings: Mapping[str, Any]) -> float:
    """Train on every fold of ``task`` and return one minus the mean ROC AUC.

    ``settings`` holds the paper's hyperparameters (every one of them, fixed or
    tuned). They map onto scikit-learn as follows.

    Both boosters:

    - nrounds (1..5000) -> ``ceil(nrounds * MAX_ROUNDS / 5000)`` rounds (1..100):
      boosting iterations for gbtree, SGD epochs for gblinear. The scale keeps
      the cost bounded while more rounds still mean more training.
    - eta -> learning_rate (gbtree) or the constant step size eta0 (gblinear).
    - subsample -> the share of training rows kept, drawn once per fold from a
      fixed random order (so a larger share keeps a superset of rows), at least
      ``MIN_ROWS_PER_CLASS`` of each class. xgboost redraws the rows every
      round; HistGradientBoosting cannot.

    gbtree (HistGradientBoostingClassifier, early stopping off):

    - lambda + alpha -> l2_regularization. lambda is the same L2 penalty on the
      leaf values; the model has no L1 penalty, so alpha is added to the L2 one.
    - colsample_bytree * colsample_bylevel -> max_features, the share of
      features drawn at each split (at least one feature): the model samples
      per split only, and this product is the share xgboost draws per level.
    - max_depth -> max_depth, with at most ``MAX_LEAF_NODES`` leaves per tree.
    - min_child_weight -> min_samples_leaf (rounded, at least 1): the model
      has no minimum hessian per leaf; a row's hessian is at most 1/4, so this
      is the looser constraint, in proportion to the small data sets.

    gblinear (SGDClassifier with the logistic loss on features scaled to
    [0, 1]): the penalty ``lambda/2 |w|^2 + alpha |w|_1`` of xgboost's summed
    loss, divided by the number of rows, becomes sklearn's alpha =
    (lambda + alpha) / n and l1_ratio = alpha / (lambda + alpha). The tree
    hyperparameters have no effect.

    Args:
        task: One of ``TASKS``.
        settings: Values of booster, nrounds, eta, subsample, lambda, alpha,
            colsample_bytree, colsample_bylevel, max_depth, min_child_weight.

    Returns:
        One minus the mean ROC AUC over the folds, in [0, 1].
    """
    aucs = [_fold_auc(fold, settings) for fold in _folds(task)]
    return 1.0 - math.fsum(aucs) / len(aucs)


def rounds(nrounds: int) -> int:
    """Rounds trained for the paper's nrounds (see ``train_and_score``)."""
    return max(1, math.ceil(nrounds * MAX_ROUNDS / NROUNDS_UPPER))


class XGBObjective:
    """One minus the mean ROC AUC of a gradient-boosting model, trained live.

    The data set's rows are split by StratifiedKFold(3, shuffle=True,
    random_state=0); every model is seeded, so the objective is deterministic.
    See ``train_and_score`` for the mapping onto scikit-learn.

    Args:
        label: Names the objective in error messages, e.g.
            "XGB-A previous (digits)".
        task: One of ``TASKS``.
        space: Search space whose values the objective accepts.
        fixed: Hard-coded values of the paper's hyperparameters that are not
            in ``space``.

    Raises:
        ValueError: If the task is unknown or ``space`` and ``fixed`` do not
            cover the hyperparameters exactly once.
    """

    def __init__(
        self,
        label: str,
        task: str,
        space: ConfigurationSpace,
        fixed: Mapping[str, Any],
    ) -> None:
        if task not in TASKS:
            raise ValueError(
                f"The task of {label} must be one of {', '.join(TASKS)}; got {task!r}."
            )
        given = sorted([*space, *fixed])
        if given != sorted(HYPERPARAMETERS):
            raise ValueError(
                f"The search space and the fixed values of {label} must cover "
                f"{sorted(HYPERPARAMETERS)} exactly once; got {given}."
            )
        self.label = label
        self.task = task
        self.space = space
        self.fixed = dict(fixed)

    def __call__(self, config: dict[str, Any]) -> float:
        """Objective value of one configuration.

        Args:
            config: Values of the active hyperparameters of ``space``.

        Returns:
            One minus the mean cross-validated ROC AUC, in [0, 1].

        Raises:
            ValueError: Naming the hyperparameter whose value is illegal,
                missing or unknown.
        """
        values = check_configuration(config, self.space, self.label)
        return train_and_score(self.task, {**self.fixed, **values})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"


HYPERPARAMETERS = (
    "booster",
    "nrounds",
    "eta",
    "subsample",
    "lambda",
    "alpha",
    "colsample_bytree",
    "colsample_bylevel",
    "max_depth",
    "min_child_weight",
)
"""Every hyperparameter of the XGB benchmarks, tuned or fixed."""


@register("XGB-A", TASKS, trained=True)
def xgb_a(task: str, live: bool = False) -> Benchmark:
    """XGB-A: four tree hyperparameters exposed.

    Paper row: colsample_bytree, colsample_bylevel, max_depth (1..15) and
    min_child_weight (1..2^7, log) exposed; they were hard-coded to 1, 1, 6, 1.

    Previous version: search space nrounds (integer 1..5000), eta (float
    2^-10..1, log), subsample (float 0..1), lambda and alpha (floats
    2^-10..2^10, log); booster gbtree and the four tree values hard-coded.

    Current version: the same plus colsample_bytree, colsample_bylevel (floats
    0..1), max_depth (integer 1..15) and min_child_weight (float 1..2^7, log),
    whose defaults are their previous values (``previous_fixed``).

    The data: one of scikit-learn's bundled sets as a binary problem
    (breast_cancer; digits 5..9 against 0..4; wine class 1 against the rest;
    diabetes split at its median). The objective is one minus the ROC AUC
    over three fixed folds; see ``train_and_score`` for how the
    hyperparameters map onto HistGradientBoostingClassifier. By default the
    objectives are the tree-ensemble surrogate of real results (see
    ``hptaa_lab.benchmarks._surrogate``); ``live=True`` trains for real.

    Args:
        task: One of ``TASKS``.
        live: Train models for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = ConfigurationSpace(name="XGB-A previous")
    previous_space.add(_base_hyperparameters())
    current_space = ConfigurationSpace(name="XGB-A current")
    current_space.add([*_base_hyperparameters(), *_tree_hyperparameters()])
    previous_fixed = {"booster": "gbtree", **PREVIOUS_TREE_VALUES}
    return Benchmark(
        name="XGB-A",
        task=task,
        description=(
            "colsample_bytree, colsample_bylevel, max_depth (1..15) and "
            "min_child_weight (1..2^7, log) added to the search space; they were "
            "hard-coded to 1, 1, 6, 1. Booster gbtree in both versions."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=_objective(
            "XGB-A previous", task, previous_space, previous_fixed, live
        ),
        current_objective=_objective(
            "XGB-A current", task, current_space, {"booster": "gbtree"}, live
        ),
        previous_fixed=dict(PREVIOUS_TREE_VALUES),
        current_fixed={},
        source="live" if live else "surrogate",
    )


@register("XGB-B", TASKS, trained=True)
def xgb_b(task: str, live: bool = False) -> Benchmark:
    """XGB-B: homogeneous; hidden tree values change.

    Paper row: the search space stays; colsample_bylevel 1 -> 0.5, max_depth
    6 -> 10 and min_child_weight 1 -> 10, all hard-coded.

    Both versions: search space booster (gblinear, gbtree; default gbtree),
    nrounds (integer 1..5000), eta (float 2^-10..1, log), subsample (float
    0..1), lambda and alpha (floats 2^-10..2^10, log). Previous hard-coded
    tree values: colsample_bytree 1, colsample_bylevel 1, max_depth 6,
    min_child_weight 1; current: 1, 0.5, 10, 10. They only matter for gbtree.
    Neither ``previous_fixed`` nor ``current_fixed`` lists them: no
    hyperparameter is added or removed.

    Data, objective and surrogate as in ``xgb_a``.

    Args:
        task: One of ``TASKS``.
        live: Train models for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = _booster_space("XGB-B previous")
    current_space = _booster_space("XGB-B current")
    return Benchmark(
        name="XGB-B",
        task=task,
        description=(
            "Search space unchanged (booster in {gblinear, gbtree}); the "
            "hard-coded colsample_bylevel 1 -> 0.5, max_depth 6 -> 10, "
            "min_child_weight 1 -> 10."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=_objective(
            "XGB-B previous", task, previous_space, PREVIOUS_TREE_VALUES, live
        ),
        current_objective=_objective(
            "XGB-B current", task, current_space, XGB_B_CURRENT_TREE_VALUES, live
        ),
        previous_fixed={},
        current_fixed={},
        source="live" if live else "surrogate",
    )


def _objective(
    version: str,
    task: str,
    space: ConfigurationSpace,
    fixed: Mapping[str, Any],
    live: bool,
) -> XGBObjective | SurrogateObjective:
    result: XGBObjective | SurrogateObjective = trained_objective(
        XGBObjective, "xgb", version, task, space, fixed, live
    )
    return result


def _base_hyperparameters() -> list[Any]:
    return [
        Integer("nrounds", (1, NROUNDS_UPPER), default=100),
        Float("eta", (2.0**-10, 1.0), log=True, default=0.3),
        Float("subsample", (0.0, 1.0), default=1.0),
        Float("lambda", (2.0**-10, 2.0**10), log=True, default=1.0),
        Float("alpha", (2.0**-10, 2.0**10), log=True, default=2.0**-10),
    ]


def _tree_hyperparameters() -> list[Any]:
    return [
        Float("colsample_bytree", (0.0, 1.0), default=1.0),
        Float("colsample_bylevel", (0.0, 1.0), default=1.0),
        Integer("max_depth", (1, 15), default=6),
        Float("min_child_weight", (1.0, 2.0**7), log=True, default=1.0),
    ]


def _booster_space(name: str) -> ConfigurationSpace:
    space = ConfigurationSpace(name=name)
    space.add(
        [
            Categorical("booster", ("gblinear", "gbtree"), default="gbtree"),
            *_base_hyperparameters(),
        ]
    )
    return space


def _fold_auc(fold: _Fold, settings: Mapping[str, Any]) -> float:
    n_keep = max(2 * MIN_ROWS_PER_CLASS, round(settings["subsample"] * len(fold.order)))
    rows = fold.order[:n_keep]
    n_rounds = rounds(int(settings["nrounds"]))
    if settings["booster"] == "gblinear":
        scores = _linear_scores(fold, rows, n_rounds, settings)
    else:
        scores = _tree_scores(fold, rows, n_rounds, settings)
    return float(roc_auc_score(fold.y_test, scores))


def _tree_scores(
    fold: _Fold, rows: np.ndarray, n_rounds: int, settings: Mapping[str, Any]
) -> np.ndarray:
    n_features = fold.x_train.shape[1]
    share = settings["colsample_bytree"] * settings["colsample_bylevel"]
    model = HistGradientBoostingClassifier(
        learning_rate=settings["eta"],
        max_iter=n_rounds,
        max_leaf_nodes=MAX_LEAF_NODES,
        max_depth=int(settings["max_depth"]),
        min_samples_leaf=max(1, round(settings["min_child_weight"])),
        l2_regularization=settings["lambda"] + settings["alpha"],
        max_features=min(1.0, max(share, 1.0 / n_features)),
        max_bins=MAX_BINS,
        early_stopping=False,
        random_state=0,
    )
    model.fit(fold.x_train[rows], fold.y_train[rows])
    scores: np.ndarray = model.decision_function(fold.x_test)
    return scores


def _linear_scores(
    fold: _Fold, rows: np.ndarray, n_rounds: int, settings: Mapping[str, Any]
) -> np.ndarray:
    penalty = settings["lambda"] + settings["alpha"]
    model = SGDClassifier(
        loss="log_loss",
        penalty="elasticnet",
        alpha=penalty / len(rows),
        l1_ratio=settings["alpha"] / penalty,
        learning_rate="constant",
        eta0=settings["eta"],
        max_iter=n_rounds,
        tol=None,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(fold.scaled_train[rows], fold.y_train[rows])
    scores: np.ndarray = model.decision_function(fold.scaled_test)
    return scores


@functools.cache
def _folds(task: str) -> tuple[_Fold, ...]:
    features, labels = load_binary(task)
    scaled = MinMaxScaler().fit_transform(features)
    splitter = StratifiedKFold(N_FOLDS, shuffle=True, random_state=0)
    folds = []
    for i, (train, test) in enumerate(splitter.split(features, labels)):
        folds.append(
            _Fold(
                x_train=features[train],
                x_test=features[test],
                scaled_train=scaled[train],
                scaled_test=scaled[test],
                y_train=labels[train],
                y_test=labels[test],
                order=_subsample_order(labels[train], seed=i),
            )
        )
    logger.debug("Prepared %d folds of %s (%d rows).", N_FOLDS, task, len(labels))
    return tuple(folds)


def _subsample_order(labels: np.ndarray, seed: int) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(len(labels))
    first = [order[labels[order] == label][:MIN_ROWS_PER_CLASS] for label in (0, 1)]
    head = np.concatenate(first)
    rest = order[~np.isin(order, head)]
    return np.concatenate([head, rest])


def load_binary(task: str) -> tuple[np.ndarray, np.ndarray]:
    """Features and 0/1 labels of one XGB task (see ``xgb_a``).

    Args:
        task: One of ``TASKS``.

    Returns:
        The feature matrix and the labels.
    """
    if task == "breast_cancer":
        features, labels = load_breast_cancer(return_X_y=True)
    elif task == "digits":
        features, digits = load_digits(return_X_y=True)
        labels = (digits >= 5).astype(int)
    elif task == "wine":
        features, classes = load_wine(return_X_y=True)
        labels = (classes == 1).astype(int)
    elif task == "diabetes":
        features, target = load_diabetes(return_X_y=True)
        labels = (target > np.median(target)).astype(int)
    else:
        raise ValueError(f"The task must be one of {', '.join(TASKS)}; got {task!r}.")
    return np.asarray(features, dtype=float), np.asarray(labels, dtype=int)
