"""SVM-A and SVM-B: adjustments of a support vector classifier.

The objectives are a tree-ensemble surrogate of real SVC results by default
(see ``hptaa_lab.benchmarks._surrogate``), or real SVC training on every call
with ``live=True``.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer
from ConfigSpace.hyperparameters import (
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from hptaa_lab.benchmarks._base import Benchmark, check_configuration, register
from hptaa_lab.benchmarks._surrogate import SurrogateObjective, trained_objective

logger = logging.getLogger(__name__)

TASKS = ("digits", "breast_cancer", "wine", "diabetes")

KERNELS = ("linear", "poly", "rbf")
N_FOLDS = 3
MAX_ITER = 10_000
"""Solver iterations allowed per binary SVC problem; bounds the worst corners."""
COEF0 = 0.0
"""Independent term of the polynomial kernel, hard-coded in every version."""
POLY_GAMMA = "scale"
"""Gamma of the polynomial kernel, hard-coded: 1 / (n_features * X.var())."""

# SVC fits run one at a time within a process: the warnings filter that hides
# ConvergenceWarning is process-wide state, which threads must not interleave.
_FIT_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Fold:
    """Gram matrices (dot products) and labels of one cross-validation fold."""

    y_train: np.ndarray
    y_test: np.ndarray
    gram_train: np.ndarray  # train x train
    gram_test: np.ndarray  # test x train
    sq_train: np.ndarray  # squared norms of the training rows
    sq_test: np.ndarray
    gamma_scale: float  # what SVC's gamma="scale" gives on the training rows


class SVMObjective:
    """One minus the mean accuracy of an SVC over fixed cross-validation folds.

    The data of the task is scaled to [0, 1] per feature once (on all rows) and
    split by StratifiedKFold(3, shuffle=True, random_state=0). Each fold trains
    scikit-learn's SVC on the kernel matrix of the training rows
    (kernel="precomputed"), which gives the same model as the named kernel but
    reuses the dot products, which are computed once per process. Training
    stops after ``MAX_ITER`` solver iterations; ConvergenceWarning is hidden
    while the objective trains.

    Args:
        label: Names the objective in error messages, e.g.
            "SVM-A previous (digits)".
        task: One of ``TASKS``.
        space: Search space whose values the objective accepts.
        fixed: Hard-coded SVC settings that are not in ``space`` (kernel,
            gamma, degree). Gamma of a polynomial kernel defaults to "scale".

    Raises:
        ValueError: If the task is unknown or the kernel is neither in
            ``space`` nor in ``fixed``.
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
        if "kernel" not in space and "kernel" not in fixed:
            raise ValueError(
                f"The kernel of {label} must be a hyperparameter or a fixed "
                f"value; got neither (fixed: {dict(fixed)})."
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
            One minus the mean cross-validated accuracy, in [0, 1].

        Raises:
            ValueError: Naming the hyperparameter whose value is illegal,
                missing, unknown or inactive.
        """
        values = check_configuration(config, self.space, self.label)
        settings = {"gamma": POLY_GAMMA, **self.fixed, **values}
        accuracies = [_fold_accuracy(fold, settings) for fold in _folds(self.task)]
        return 1.0 - math.fsum(accuracies) / len(accuracies)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"


@register("SVM-A", TASKS, trained=True)
def svm_a(task: str, live: bool = False) -> Benchmark:
    """SVM-A: the kernel changes from radial (rbf) to polynomial.

    Paper row: kernel radial -> polynomial, gamma removed, degree (2..5) added,
    cost in [2^-10, 2^10] on a log scale.

    Previous version: hard-coded kernel "rbf"; search space C (float in
    [2^-10, 2^10], log, default 1) and gamma (float in [2^-10, 2^10], log,
    default 1).

    Current version: hard-coded kernel "poly" with coef0 = 0; search space C
    (as before) and degree (integer in 2..5, default 3). gamma is removed and
    fixed to "scale", i.e. 1 / (n_features * variance of the training rows)
    (``current_fixed``). degree had no value in the previous version (the
    radial kernel has none), so ``previous_fixed`` is empty.

    The data: one of scikit-learn's bundled data sets ("digits",
    "breast_cancer", "wine", or "diabetes" with the target split at its median
    into two classes), scaled to [0, 1]; see ``SVMObjective``. By default
    the objectives query a tree-ensemble surrogate of real results (one per
    task, shared by SVM-A and SVM-B); ``live=True`` trains SVC for real.

    Args:
        task: One of ``TASKS``.
        live: Train SVC for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = ConfigurationSpace(name="SVM-A previous")
    previous_space.add([_cost(-10, 10), _gamma()])
    current_space = ConfigurationSpace(name="SVM-A current")
    current_space.add([_cost(-10, 10), _degree()])
    return Benchmark(
        name="SVM-A",
        task=task,
        description=(
            "Kernel rbf -> poly (hard-coded in both versions): gamma removed from "
            "the search space and fixed to 'scale'; degree (2..5) added, with no "
            "previous value; C stays in [2^-10, 2^10] (log)."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=_objective(
            "SVM-A previous", task, previous_space, {"kernel": "rbf"}, live
        ),
        current_objective=_objective(
            "SVM-A current",
            task,
            current_space,
            {"kernel": "poly", "gamma": POLY_GAMMA},
            live,
        ),
        previous_fixed={},
        current_fixed={"gamma": POLY_GAMMA},
        source="live" if live else "surrogate",
    )


@register("SVM-B", TASKS, trained=True)
def svm_b(task: str, live: bool = False) -> Benchmark:
    """SVM-B: the range of the cost C widens.

    Paper row: cost range [2^-5, 2^5] -> [2^-10, 2^10]; kernel in {linear,
    polynomial, radial}.

    Previous version: search space kernel (categorical: linear, poly, rbf;
    default rbf), C (float in [2^-5, 2^5], log, default 1), gamma (float in
    [2^-10, 2^10], log, default 1; active only when kernel == "rbf") and degree
    (integer in 2..5, default 3; active only when kernel == "poly"). The
    polynomial kernel uses gamma = "scale" and coef0 = 0, hard-coded.

    Current version: the same, with C in [2^-10, 2^10] (log). The kernel
    choices are the same in both versions; no hyperparameter is added or
    removed.

    The data and the surrogate are the same as in ``svm_a``.

    Args:
        task: One of ``TASKS``.
        live: Train SVC for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = _kernel_space("SVM-B previous", _cost(-5, 5))
    current_space = _kernel_space("SVM-B current", _cost(-10, 10))
    return Benchmark(
        name="SVM-B",
        task=task,
        description=(
            "Range of C widened from [2^-5, 2^5] to [2^-10, 2^10] (log); kernel "
            "in {linear, poly, rbf} in both versions, gamma active for rbf and "
            "degree for poly."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=_objective("SVM-B previous", task, previous_space, {}, live),
        current_objective=_objective("SVM-B current", task, current_space, {}, live),
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
) -> SVMObjective | SurrogateObjective:
    result: SVMObjective | SurrogateObjective = trained_objective(
        SVMObjective, "svm", version, task, space, fixed, live
    )
    return result


def _cost(low_exponent: int, high_exponent: int) -> UniformFloatHyperparameter:
    return Float("C", (2.0**low_exponent, 2.0**high_exponent), log=True, default=1.0)


def _gamma() -> UniformFloatHyperparameter:
    return Float("gamma", (2.0**-10, 2.0**10), log=True, default=1.0)


def _degree() -> UniformIntegerHyperparameter:
    return Integer("degree", (2, 5), default=3)


def _kernel_space(name: str, cost: UniformFloatHyperparameter) -> ConfigurationSpace:
    space = ConfigurationSpace(name=name)
    kernel = Categorical("kernel", KERNELS, default="rbf")
    gamma = _gamma()
    degree = _degree()
    space.add([kernel, cost, gamma, degree])
    space.add(
        [EqualsCondition(gamma, kernel, "rbf"), EqualsCondition(degree, kernel, "poly")]
    )
    return space


def _fold_accuracy(fold: _Fold, settings: Mapping[str, Any]) -> float:
    kernel = settings["kernel"]
    train = _kernel_matrix(kernel, fold.gram_train, fold.sq_train, fold, settings)
    test = _kernel_matrix(kernel, fold.gram_test, fold.sq_test, fold, settings)
    model = SVC(kernel="precomputed", C=settings["C"], max_iter=MAX_ITER)
    with _FIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train, fold.y_train)
    return float(np.mean(model.predict(test) == fold.y_test))


def _kernel_matrix(
    kernel: str,
    gram: np.ndarray,
    sq_rows: np.ndarray,
    fold: _Fold,
    settings: Mapping[str, Any],
) -> np.ndarray:
    if kernel == "linear":
        return gram
    if kernel == "poly":
        gamma = fold.gamma_scale if settings["gamma"] == "scale" else settings["gamma"]
        matrix = gram * gamma
        matrix += COEF0
        return np.power(matrix, settings["degree"], out=matrix)
    if kernel == "rbf":
        # Squared distances from dot products, as libsvm computes them.
        matrix = gram * -2.0
        matrix += sq_rows[:, None]
        matrix += fold.sq_train[None, :]
        np.maximum(matrix, 0.0, out=matrix)
        matrix *= -settings["gamma"]
        return np.exp(matrix, out=matrix)
    raise ValueError(f"The kernel must be one of {', '.join(KERNELS)}; got {kernel!r}.")


@functools.cache
def _folds(task: str) -> tuple[_Fold, ...]:
    features, labels = _load(task)
    features = MinMaxScaler().fit_transform(features)
    gram = features @ features.T
    squares = np.diag(gram).copy()

    splitter = StratifiedKFold(N_FOLDS, shuffle=True, random_state=0)
    folds = []
    for train, test in splitter.split(features, labels):
        folds.append(
            _Fold(
                y_train=labels[train],
                y_test=labels[test],
                gram_train=gram[np.ix_(train, train)],
                gram_test=gram[np.ix_(test, train)],
                sq_train=squares[train],
                sq_test=squares[test],
                gamma_scale=1.0 / (features.shape[1] * features[train].var()),
            )
        )
    logger.debug("Prepared %d folds of %s (%d rows).", N_FOLDS, task, len(labels))
    return tuple(folds)


def _load(task: str) -> tuple[np.ndarray, np.ndarray]:
    if task == "diabetes":
        features, target = load_diabetes(return_X_y=True)
        return features, (target > np.median(target)).astype(int)
    loaders = {
        "digits": load_digits,
        "breast_cancer": load_breast_cancer,
        "wine": load_wine,
    }
    features, labels = loaders[task](return_X_y=True)
    return features, labels
