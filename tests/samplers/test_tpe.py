"""Tests of the TPE sampler: it optimizes, and its internals follow the paper."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hptaa_lab.samplers import RandomSampler, Sampler, TPESampler, _tpe
from hptaa_lab.space import build_space

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

QUADRATIC_SPACE = {f"x{i}": (-5.0, 5.0) for i in range(4)}


def _quadratic(config: dict[str, Any]) -> float:
    return sum((config[f"x{i}"] - 1.0 + 0.5 * i) ** 2 for i in range(4))


def _best_after(sampler: Sampler, n_trials: int) -> float:
    best = np.inf
    for _ in range(n_trials):
        config = sampler.ask().config
        value = _quadratic(config)
        sampler.tell(config, value)
        best = min(best, value)
    return float(best)


def test_tpe_beats_random_search_on_a_quadratic() -> None:
    """Check that TPE's mean best value after 40 trials on a 4-d quadratic is
    lower than random search's, over 20 seeds."""
    space = build_space(QUADRATIC_SPACE)

    tpe = [_best_after(TPESampler(space, seed), 40) for seed in range(20)]
    rnd = [_best_after(RandomSampler(space, seed), 40) for seed in range(20)]

    assert np.mean(tpe) < 0.75 * np.mean(rnd)


def test_first_two_d_plus_one_proposals_are_random() -> None:
    """Check that TPE proposes 2 (d + 1) random configurations before its model,
    and uses the model afterwards."""
    space = build_space({**QUADRATIC_SPACE, "c": "constant"})
    sampler = TPESampler(space, seed=0)
    assert sampler.n_init == 10

    labels = []
    for _ in range(30):
        proposal = sampler.ask()
        labels.append(proposal.proposed_by)
        sampler.tell(proposal.config, _quadratic(proposal.config))

    assert labels[:10] == ["random"] * 10
    assert "tpe" in labels[10:]
    assert labels[10:].count("tpe") >= 10


def test_failed_trials_do_not_count_towards_n_init() -> None:
    """Check that the model waits for 2 (d + 1) complete trials, not failed ones."""
    sampler = TPESampler(build_space(QUADRATIC_SPACE), seed=0)

    for _ in range(12):
        proposal = sampler.ask()
        assert proposal.proposed_by == "random"
        sampler.tell(proposal.config, None)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(2, 1), (5, 4), (10, 5), (20, 5), (34, 6), (40, 6), (41, 7), (100, 15)],
)
def test_good_set_size_rule(n: int, expected: int) -> None:
    """Check the good set size: max(d + 1, ceil(15% of n)), at most n - 1."""
    sampler = TPESampler(build_space(QUADRATIC_SPACE), seed=0)

    assert sampler.good_size(n) == expected


def test_model_fits_good_density_on_the_best_trials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that the good density is fitted on the best good_size trials and the
    bad density on the rest plus the pending configurations."""
    sampler = TPESampler(build_space(QUADRATIC_SPACE), seed=0)
    rng = np.random.default_rng(0)
    X = rng.random((40, 4))
    y = rng.permutation(40).astype(float)
    fitted: list[np.ndarray] = []

    class Recording(_tpe._KDE):
        def __init__(self, data: np.ndarray, *args: Any) -> None:
            fitted.append(data.copy())
            super().__init__(data, *args)

    monkeypatch.setattr(_tpe, "_KDE", Recording)
    pending = [{"x0": 0.0, "x1": 0.0, "x2": 0.0, "x3": 0.0}]
    sampler.model_proposal(X, y, pending)

    good, bad = fitted
    best = np.argsort(y)[:6]
    assert good.shape == (6, 4)
    np.testing.assert_array_equal(good, X[best])
    assert bad.shape == (35, 4)
    np.testing.assert_allclose(bad[-1], [0.5, 0.5, 0.5, 0.5])


def test_bandwidth_has_a_floor() -> None:
    """Check that identical points get the 1e-3 bandwidth floor, not zero, and
    that spread points get the normal reference rule."""
    same = np.full((5, 2), 0.3)
    spread = np.array([[0.1], [0.3], [0.5], [0.7], [0.9]])
    no_cat = np.zeros(2, bool)

    kde = _tpe._KDE(same, no_cat, np.zeros(2, int), 1e-3)
    wide = _tpe._KDE(spread, no_cat[:1], np.zeros(1, int), 1e-3)

    np.testing.assert_array_equal(kde.bw, [1e-3, 1e-3])
    assert np.isfinite(kde.log_pdf(same)).all()
    assert wide.bw[0] == pytest.approx(1.06 * spread.std() * 5 ** (-1 / 5))


def test_candidates_use_widened_bandwidth_with_floor() -> None:
    """Check that candidates are drawn around the good points with the bandwidth
    times the factor, never narrower than the floor, and stay in [0, 1]."""
    same = np.full((4, 1), 0.5)
    kde = _tpe._KDE(same, np.zeros(1, bool), np.zeros(1, int), 1e-3)
    rng = np.random.default_rng(0)

    floor = kde.sample(rng, 4000, 3.0, 0.05)
    widened = kde.sample(rng, 4000, 3.0, 1e-4)

    assert floor.std() == pytest.approx(0.05, rel=0.1)
    assert widened.std() == pytest.approx(3e-3, rel=0.1)
    assert ((floor >= 0) & (floor <= 1)).all()


def test_categorical_kernel_is_aitchison_aitken() -> None:
    """Check the categorical kernel: 1 - bw for the same choice, bw / (c - 1) for
    each other one, and a single-choice dimension without warnings."""
    data = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    cat = np.ones(2, bool)
    kde = _tpe._KDE(data, cat, np.array([3, 1]), 1e-3)
    lam = kde.bw[0]

    density = np.exp(kde.log_pdf(np.array([[0.0, 0.0], [2.0, 0.0]])))

    assert kde.bw[1] == 0.0
    assert density[0] == pytest.approx((2 * (1 - lam) + lam / 2) / 3)
    assert density[1] == pytest.approx(lam / 2)


def test_model_prefers_the_good_region() -> None:
    """Check that, after the random phase, TPE proposals concentrate near the
    optimum of a 1-d function."""
    space = build_space({"x": (0.0, 1.0)})
    sampler = TPESampler(space, seed=0, random_fraction=0.0)

    for _ in range(40):
        config = sampler.ask().config
        sampler.tell(config, (config["x"] - 0.8) ** 2)
    late = [sampler.ask().config["x"] for _ in range(10)]

    assert abs(float(np.median(late)) - 0.8) < 0.1


def test_space_of_constants_only_proposes_the_constants() -> None:
    """Check that a space without a free dimension proposes its constants."""
    sampler = TPESampler(build_space({"a": 1, "b": "x"}), seed=0)

    assert sampler.ask().config == {"a": 1, "b": "x"}


def test_tpe_moves_away_from_failing_region() -> None:
    """Check that failed trials count as bad: with a quarter of the range failing
    next to the optimum, TPE proposes there far less often than random search
    would, over several seeds."""
    from hptaa_lab.space import build_space

    space = build_space({"x": (0.0, 1.0)})
    share_in_failing = []
    for seed in range(4):
        sampler = TPESampler(space, seed=seed)
        in_failing = 0
        for _ in range(60):
            config = sampler.ask().config
            if config["x"] < 0.25:
                in_failing += 1
                sampler.tell(config, None)
            else:
                sampler.tell(config, abs(config["x"] - 0.3))
        share_in_failing.append(in_failing / 60)
    assert sum(share_in_failing) / len(share_in_failing) < 0.15
