"""Tests of the surrogates of the SVM and XGB benchmarks: data, fidelity, speed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import _surrogate

PAIRS = [
    (family, task)
    for family, name in [("svm", "SVM-A"), ("xgb", "XGB-A")]
    for task in benchmarks.tasks(name)
]
VERSIONS = {
    "svm": {"SVM-A previous", "SVM-A current", "SVM-B previous", "SVM-B current"},
    "xgb": {"XGB-A previous", "XGB-A current", "XGB-B previous", "XGB-B current"},
}


@pytest.mark.parametrize(("family", "task"), PAIRS)
def test_data_holds_real_evaluations_of_every_version(family: str, task: str) -> None:
    """Check the packaged data: at least 1000 training rows, held-out rows, all
    four versions, values in [0, 1]."""
    frame = _surrogate.evaluations(family, task)

    assert (frame["split"] == "train").sum() >= 1000
    assert (frame["split"] == "test").sum() >= 200
    assert set(frame["version"]) == VERSIONS[family]
    assert frame["value"].between(0.0, 1.0).all()


def test_data_fits_in_the_wheel() -> None:
    """Check that the packaged data stays far below 30 MB."""
    total = sum(_surrogate.data_file(f, t).stat().st_size for f, t in PAIRS)

    assert total < 30 * 2**20


@pytest.mark.parametrize(("family", "task"), PAIRS)
def test_surrogate_ranks_held_out_real_results_faithfully(
    family: str, task: str
) -> None:
    """Check fidelity: Spearman correlation >= 0.9 between the surrogate and the
    real values of held-out evaluations."""
    scores = _surrogate.fidelity(family, task)

    assert scores["all"] >= 0.9
    assert set(scores) == {"all", *VERSIONS[family]}


@pytest.mark.parametrize("kind", [RandomForestRegressor, ExtraTreesRegressor])
def test_compiled_forest_predicts_what_scikit_learn_predicts(kind: type) -> None:
    """Check the flattened forest against the fitted forest, row by row."""
    rng = np.random.default_rng(0)
    X = rng.random((300, 4)) * [1.0, 20.0, 3.0, 1.0] - [0.0, 10.0, 0.0, 0.5]
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 / 50 + (X[:, 2] > 1.5)
    forest = kind(n_estimators=20, random_state=0).fit(X, y)
    compiled = _surrogate.CompiledForest(forest)
    queries = rng.random((50, 4)) * [1.0, 20.0, 3.0, 1.0] - [0.0, 10.0, 0.0, 0.5]

    np.testing.assert_allclose(compiled.predict(queries), forest.predict(queries))
    for query in queries[:10]:
        assert compiled.predict_one(query) == pytest.approx(
            forest.predict(query[None, :])[0], abs=1e-12
        )


def test_versions_of_a_family_query_one_surrogate() -> None:
    """Check that the same union configuration gives the same value in every
    version that can express it."""
    svm_a = benchmarks.get("SVM-A", "digits")
    svm_b = benchmarks.get("SVM-B", "digits")
    xgb_a = benchmarks.get("XGB-A", "breast_cancer")
    xgb_b = benchmarks.get("XGB-B", "breast_cancer")
    rbf = {"C": 3.0, "gamma": 0.05}
    boosting = {
        "nrounds": 400,
        "eta": 0.2,
        "subsample": 0.8,
        "lambda": 1.0,
        "alpha": 0.01,
    }

    assert svm_a.source == "surrogate"
    assert svm_a.previous_objective(rbf) == svm_b.current_objective(
        {**rbf, "kernel": "rbf"}
    )
    assert xgb_a.previous_objective(boosting) == xgb_b.previous_objective(
        {**boosting, "booster": "gbtree"}
    )
    assert xgb_a.current_objective(
        {**boosting, **xgb_a.previous_fixed}
    ) == xgb_a.previous_objective(boosting)


def test_surrogate_is_deterministic_across_fits() -> None:
    """Check that refitting the surrogate (a new process) gives the same values."""
    bench = benchmarks.get("XGB-B", "wine")
    config = {
        "booster": "gbtree",
        "nrounds": 1200,
        "eta": 0.05,
        "subsample": 0.6,
        "lambda": 4.0,
        "alpha": 0.1,
    }
    before = bench.current_objective(config)

    _surrogate.surrogate.cache_clear()

    assert bench.current_objective(config) == before
    assert 0.0 <= before <= 1.0


def test_surrogate_follows_the_real_objective_on_a_clear_case() -> None:
    """Check that the surrogate, like real SVC, prefers a sane rbf SVM on digits
    to one with a huge gamma."""
    bench = benchmarks.get("SVM-A", "digits")

    good = bench.previous_objective({"C": 8.0, "gamma": 0.05})
    bad = bench.previous_objective({"C": 8.0, "gamma": 512.0})

    assert good < 0.05 < bad


def test_polynomial_gamma_scale_is_an_inactive_feature() -> None:
    """Check that gamma = "scale" and a missing gamma give the same features."""
    with_scale = _surrogate.features(
        "svm", [{"kernel": "poly", "C": 1.0, "gamma": "scale", "degree": 3}]
    )
    without = _surrogate.features("svm", [{"kernel": "poly", "C": 1.0, "degree": 3}])

    np.testing.assert_array_equal(with_scale, without)
    assert with_scale[0, 2] == _surrogate.INACTIVE


def test_live_is_refused_for_table_benchmarks() -> None:
    """Check that a table benchmark has no live objective."""
    message = (
        r"Benchmark 'NAS-A' looks its values up in a recorded table and has no "
        r"live objective; live=True applies to SVM-A, SVM-B, XGB-A, XGB-B\."
    )
    with pytest.raises(ValueError, match=message):
        benchmarks.get("nas-a", live=True)
