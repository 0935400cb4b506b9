"""Tests of local proposals: small moves of the incumbent, on every kind of value."""

from __future__ import annotations

from typing import Any

import ConfigSpace as CS
import numpy as np
import pytest

from hptaa_lab.samplers import RandomSampler
from hptaa_lab.samplers._local import local_proposal, stalled
from hptaa_lab.space import build_space


def _told(space: CS.ConfigurationSpace, configs: list[dict[str, Any]]):
    """A sampler told ``configs`` with values 0, 1, 2, ... (the first is best)."""
    sampler = RandomSampler(space, seed=0)
    for value, config in enumerate(configs):
        sampler.tell(config, float(value))
    return sampler


def _moves(sampler, n: int = 200) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        proposal = local_proposal(sampler, sampler.X, sampler.y, label="local")
        assert proposal is not None and proposal.proposed_by == "local"
        out.append(proposal.config)
    return out


def test_stalled_counts_trials_since_the_first_best() -> None:
    assert stalled(np.array([])) == 0
    assert stalled(np.array([3.0, 1.0, 2.0, 5.0])) == 2
    assert stalled(np.array([1.0, 2.0, 1.0])) == 2  # a tie is no improvement
    assert stalled(np.array([3.0, 2.0, 1.0])) == 0


def test_numeric_moves_are_small_and_mostly_one_value() -> None:
    """Check that a move starts from the best trial (not another one), changes
    one value in about half of the proposals, and moves it by a small step."""
    space = build_space({f"x{i}": (0.0, 1.0) for i in range(4)})
    best = {f"x{i}": 0.5 for i in range(4)}
    sampler = _told(space, [best, {f"x{i}": 0.9 for i in range(4)}])
    moves = _moves(sampler)
    changed = [sum(c[k] != best[k] for k in best) for c in moves]
    steps = [abs(c[k] - best[k]) for c in moves for k in best if c[k] != best[k]]
    assert min(changed) >= 1
    assert 0.35 < np.mean(np.array(changed) == 1) < 0.65
    assert np.median(steps) < 0.06 and max(steps) < 0.3


def test_a_small_step_on_a_grid_moves_to_the_neighbour() -> None:
    """Check that ordinals and ints, whose values a 0.05 step rarely leaves,
    move to a neighbouring value, never further, and stay in range at an end."""
    space = CS.ConfigurationSpace(
        {
            "drop": CS.OrdinalHyperparameter("drop", [0.0, 0.3, 0.6]),
            "layers": CS.UniformIntegerHyperparameter("layers", 1, 10),
        }
    )
    sampler = _told(space, [{"drop": 0.0, "layers": 5}, {"drop": 0.6, "layers": 1}])
    moves = _moves(sampler)
    assert {c["drop"] for c in moves} == {0.0, 0.3}
    assert {4, 6} <= {c["layers"] for c in moves} <= {3, 4, 5, 6, 7}


def test_a_moved_choice_activates_its_children_with_legal_values() -> None:
    """Check that a categorical moves to another choice and that a value its
    condition activates is filled, so every proposal is a legal configuration."""
    space = CS.ConfigurationSpace(
        {
            "kernel": CS.CategoricalHyperparameter("kernel", ["linear", "rbf", "poly"]),
            "gamma": CS.UniformFloatHyperparameter("gamma", 1e-3, 1.0, log=True),
        }
    )
    space.add(CS.InCondition(space["gamma"], space["kernel"], ["rbf", "poly"]))
    sampler = _told(space, [{"kernel": "linear"}, {"kernel": "rbf", "gamma": 0.1}])
    moves = _moves(sampler, 100)
    assert {c["kernel"] for c in moves} == {"rbf", "poly"}
    for config in moves:
        CS.Configuration(space, values=config).check_valid_configuration()
        assert "gamma" in config


def test_no_proposal_when_every_neighbour_was_evaluated() -> None:
    space = build_space({"opt": ["adam", "sgd"]})
    sampler = _told(space, [{"opt": "adam"}, {"opt": "sgd"}])
    assert local_proposal(sampler, sampler.X, sampler.y) is None
    assert local_proposal(sampler, sampler.X[:0], sampler.y[:0]) is None


@pytest.mark.parametrize("seed", range(3))
def test_moves_skip_pending_configurations(seed: int) -> None:
    space = build_space({"opt": ["adam", "sgd", "rmsprop"]})
    sampler = RandomSampler(space, seed=seed)
    sampler.tell({"opt": "adam"}, 0.0)
    proposal = local_proposal(sampler, sampler.X, sampler.y, [{"opt": "sgd"}])
    assert proposal is not None and proposal.config == {"opt": "rmsprop"}


def test_a_move_that_changes_nothing_is_not_the_incumbent_again() -> None:
    """Check that a value at its bound stepped outwards (no move) does not give
    back the incumbent, even where decoding its other values differs from the
    evaluated configuration in the last bit (which passed for fresh)."""
    space = build_space({"lr": (1e-5, 1.0, "log"), "y": (0.1, 0.7)})
    probe = RandomSampler(space, seed=0)
    rng = np.random.default_rng(0)
    while True:
        y0 = probe.encoder.decode(rng.random(2))["y"]
        if (
            probe.encoder.decode(probe.encoder.encode([{"lr": 1e-5, "y": y0}])[0])["y"]
            != y0
        ):
            break
    best = {"lr": 1e-5, "y": y0}
    sampler = _told(space, [best])
    for config in _moves(sampler):
        assert not all(np.isclose(config[k], best[k], rtol=1e-12, atol=0) for k in best)
