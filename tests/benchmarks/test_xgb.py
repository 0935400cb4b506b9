"""Tests of the XGB benchmarks' live objective: the mapping onto scikit-learn."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MinMaxScaler

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import _xgb

SETTINGS: dict[str, Any] = {
    "booster": "gbtree",
    "nrounds": 1000,
    "eta": 0.1,
    "subsample": 1.0,
    "lambda": 2.0,
    "alpha": 0.5,
    "colsample_bytree": 1.0,
    "colsample_bylevel": 0.5,
    "max_depth": 3,
    "min_child_weight": 4.0,
}


def _folds(task: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    features, labels = _xgb.load_binary(task)
    splitter = StratifiedKFold(3, shuffle=True, random_state=0)
    return [
        (features[train], labels[train], features[test], labels[test])
        for train, test in splitter.split(features, labels)
    ]


def test_rounds_scale_nrounds_onto_at_most_one_hundred() -> None:
    """Check that nrounds 1..5000 maps to 1..100 rounds, rounding up."""
    assert [_xgb.rounds(n) for n in (1, 50, 51, 2500, 5000)] == [1, 1, 2, 50, 100]


def test_gbtree_objective_equals_histgradientboosting_with_mapped_parameters() -> None:
    """Check the gbtree mapping against HistGradientBoostingClassifier directly."""
    aucs = []
    for x_train, y_train, x_test, y_test in _folds("wine"):
        model = HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=20,
            max_leaf_nodes=64,
            max_depth=3,
            min_samples_leaf=4,
            l2_regularization=2.5,
            max_features=0.5,
            max_bins=64,
            early_stopping=False,
            random_state=0,
        ).fit(x_train, y_train)
        aucs.append(roc_auc_score(y_test, model.decision_function(x_test)))

    value = _xgb.train_and_score("wine", SETTINGS)

    assert value == pytest.approx(1.0 - float(np.mean(aucs)), abs=1e-12)


def test_gblinear_objective_equals_sgd_with_the_scaled_penalty() -> None:
    """Check the gblinear mapping against SGDClassifier with alpha = (l + a) / n."""
    settings = {**SETTINGS, "booster": "gblinear", "nrounds": 250}
    features, labels = _xgb.load_binary("diabetes")
    scaled = MinMaxScaler().fit_transform(features)
    splits = StratifiedKFold(3, shuffle=True, random_state=0).split(features, labels)
    aucs = []
    for (train, test), fold in zip(splits, _xgb._folds("diabetes"), strict=True):
        model = SGDClassifier(
            loss="log_loss",
            penalty="elasticnet",
            alpha=2.5 / len(train),
            l1_ratio=0.5 / 2.5,
            learning_rate="constant",
            eta0=0.1,
            max_iter=5,
            tol=None,
            random_state=0,
        )
        # The objective trains on its fixed subsample order; with subsample 1
        # that is every row, in another order, which SGD is sensitive to.
        model.fit(scaled[train][fold.order], labels[train][fold.order])
        aucs.append(roc_auc_score(labels[test], model.decision_function(scaled[test])))

    value = _xgb.train_and_score("diabetes", settings)

    assert value == pytest.approx(1.0 - float(np.mean(aucs)), abs=1e-12)


def test_subsample_keeps_nested_rows_with_both_classes() -> None:
    """Check that a smaller subsample keeps a prefix of one order, both classes."""
    for fold in _xgb._folds("breast_cancer"):
        order = fold.order
        assert sorted(order.tolist()) == list(range(len(fold.y_train)))
        head = fold.y_train[order[: 2 * _xgb.MIN_ROWS_PER_CLASS]]
        assert sorted(head.tolist()) == [0, 0, 1, 1]


def test_tiny_subsample_still_trains() -> None:
    """Check that subsample 0 trains on the minimal rows and gives a sane value."""
    value = _xgb.train_and_score("wine", {**SETTINGS, "subsample": 0.0})

    assert 0.0 <= value <= 1.0


@pytest.mark.parametrize("name", ["XGB-A", "XGB-B"])
def test_live_objectives_are_deterministic_and_in_range(name: str) -> None:
    """Check that live objectives of sampled configurations repeat exactly."""
    bench = benchmarks.get(name, "wine", live=True)
    assert bench.source == "live"

    for space, objective in [
        (bench.previous_space, bench.previous_objective),
        (bench.current_space, bench.current_objective),
    ]:
        space.seed(3)
        for config in space.sample_configuration(2):
            # At most 5 rounds keep the test quick.
            values = {**dict(config), "nrounds": min(int(config["nrounds"]), 250)}
            value = objective(values)
            assert 0.0 <= value <= 1.0 and math.isfinite(value)
            assert objective(dict(values)) == value


def test_xgb_b_versions_differ_only_through_hidden_tree_values() -> None:
    """Check that XGB-B's versions agree for gblinear and differ for gbtree."""
    bench = benchmarks.get("XGB-B", "breast_cancer", live=True)
    config = {
        k: SETTINGS[k] for k in ("nrounds", "eta", "subsample", "lambda", "alpha")
    }

    linear = {**config, "booster": "gblinear"}
    assert bench.previous_objective(linear) == bench.current_objective(linear)
    tree = {**config, "booster": "gbtree"}
    assert bench.previous_objective(tree) != bench.current_objective(tree)


def test_live_objective_rejects_uncovered_hyperparameters() -> None:
    """Check that an objective whose space and fixed values miss one fails early."""
    space = benchmarks.get("XGB-A").previous_space

    with pytest.raises(ValueError, match=r"must cover \['alpha', 'booster'"):
        _xgb.XGBObjective("broken", "wine", space, {"booster": "gbtree"})
