"""Tests of the GP sampler (kept to few trials: each proposal fits a GP)."""

from __future__ import annotations

import numpy as np
import pytest

from hptaa_lab.samplers import GPSampler, RandomSampler, Sampler
from hptaa_lab.space import build_space

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")


def _bowl(config: dict[str, float]) -> float:
    return (config["x"] - 0.3) ** 2 + (config["y"] - 0.7) ** 2


def _best_after(sampler: Sampler, n_trials: int) -> float:
    best = np.inf
    for _ in range(n_trials):
        config = sampler.ask().config
        sampler.tell(config, _bowl(config))
        best = min(best, _bowl(config))
    return float(best)


@pytest.mark.parametrize(("random_fraction", "after"), [(0.0, "gp"), (1.0, "random")])
def test_first_d_proposals_are_random_then_gp(
    random_fraction: float, after: str
) -> None:
    """Check that the GP waits for d complete trials, then proposes with its model
    unless the random fraction says otherwise (the default is one half)."""
    space = build_space({"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)})
    sampler = GPSampler(space, seed=0, random_fraction=random_fraction)
    assert sampler.n_init == 3
    assert GPSampler(space).random_fraction == 0.5

    labels = []
    for _ in range(6):
        proposal = sampler.ask()
        labels.append(proposal.proposed_by)
        sampler.tell(proposal.config, sum(proposal.config.values()))

    assert labels == ["random"] * 3 + [after] * 3


def test_gp_beats_random_search_on_a_bowl() -> None:
    """Check that the GP's mean best value after 12 trials on a 2-d bowl is lower
    than random search's, over 4 seeds."""
    space = build_space({"x": (0.0, 1.0), "y": (0.0, 1.0)})

    gp = [
        _best_after(GPSampler(space, seed, random_fraction=0.0), 12)
        for seed in range(4)
    ]
    rnd = [_best_after(RandomSampler(space, seed), 12) for seed in range(4)]

    assert np.mean(gp) < np.mean(rnd)


def test_features_one_hot_categoricals_and_fill_inactive() -> None:
    """Check the GP's inputs: numeric dims as encoded (inactive -> 0.5) and each
    categorical one-hot (inactive -> all zero)."""
    space = build_space({"act": ["a", "b", "c"], "x": (0.0, 1.0)})
    sampler = GPSampler(space, seed=0)
    X = np.array([[2.0, 0.25], [np.nan, np.nan]])

    features = sampler._features(X)

    np.testing.assert_array_equal(
        features, [[0.25, 0.0, 0.0, 1.0], [0.5, 0.0, 0.0, 0.0]]
    )


def test_odd_number_of_candidates_works() -> None:
    """Check that any number of candidates can be scored (an odd count used to
    break the candidate set)."""
    space = build_space({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    sampler = GPSampler(space, seed=0, n_candidates=7, random_fraction=0.0)

    for _ in range(5):
        config = sampler.ask().config
        sampler.tell(config, _bowl(config))

    assert sampler.ask().proposed_by == "gp"


def test_same_data_reuses_the_fit() -> None:
    """Check that the GP is fitted once for unchanged data and again after a tell."""
    space = build_space({"x": (0.0, 1.0), "y": (0.0, 1.0)})
    sampler = GPSampler(space, seed=0)
    for _ in range(4):
        config = sampler.random_proposal().config
        sampler.tell(config, _bowl(config))

    first = sampler._fit(sampler.X, sampler.y)
    again = sampler._fit(sampler.X, sampler.y)
    sampler.tell({"x": 0.5, "y": 0.5}, 0.1)
    refit = sampler._fit(sampler.X, sampler.y)

    assert again is first
    assert refit is not first
