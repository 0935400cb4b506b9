"""Conformance suite of the sampler contract, run on every sampler and on every
transfer method with both models."""

from __future__ import annotations

import json
import math
from typing import Any

import ConfigSpace as CS
import pytest

from hptaa_lab.errors import UnknownNameError
from hptaa_lab.samplers import RandomSampler, Sampler, config_key, make_sampler
from hptaa_lab.samplers import names as sampler_names
from hptaa_lab.space import Encoder, build_space
from hptaa_lab.transfer import PreviousTrials, make_transfer
from hptaa_lab.transfer import names as transfer_names

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

KINDS = [
    *sampler_names(),
    *[f"{method}/{model}" for method in transfer_names() for model in ("tpe", "gp")],
]


def _objective(config: dict[str, Any]) -> float:
    """A cheap function of any configuration of the test spaces."""
    value = 0.0
    for name, v in sorted(config.items()):
        if isinstance(v, bool) or not isinstance(v, int | float):
            value += (hash(str(v)) % 7) / 7
        elif name == "lr":
            value += (math.log10(v) + 2.5) ** 2
        else:
            value += (float(v) % 3.7) / 3.7
    return value


def _previous(space: CS.ConfigurationSpace, n: int = 16) -> PreviousTrials:
    """Random trials of ``space``, as a previous study."""
    sampler = RandomSampler(space, seed=123)
    configs = []
    for _ in range(n):
        config = sampler.ask().config
        sampler.tell(config, 0.0)
        configs.append(config)
    return PreviousTrials(
        space=space,
        configs=tuple(configs),
        values=tuple(_objective(c) for c in configs),
        numbers=tuple(range(n)),
        study="previous",
    )


def _previous_of_cond_space() -> PreviousTrials:
    return _previous(
        build_space(
            {
                "opt": ["sgd", "adam"],
                "lr": (1e-5, 1e-1, "log"),
                "units": (16, 256),
                "gone": (0.0, 1.0),
            }
        )
    )


def _previous_of_discrete_space() -> PreviousTrials:
    return _previous(build_space({"a": [0, 1, 2], "c": ["p", "q"]}), n=6)


def make(
    kind: str,
    space: CS.ConfigurationSpace,
    previous: PreviousTrials | None,
    seed: int | None,
) -> Sampler:
    """A sampler (``random``, ``tpe``, ``gp``) or a transfer method
    (``method/model``) over ``space``."""
    if "/" not in kind:
        return make_sampler(kind, space, seed)
    assert previous is not None
    method, model = kind.split("/")
    return make_transfer(method, space, previous, model=model, seed=seed)


def _n_asks(kind: str) -> int:
    # NOTE(tests): a GP proposal fits a GP (about 0.1 s); few asks keep the suite fast.
    return 9 if "gp" in kind else 24


@pytest.mark.parametrize("kind", KINDS)
def test_proposals_are_legal(kind: str, cond_space: CS.ConfigurationSpace) -> None:
    """Check that every proposal is a legal, JSON-ready configuration that respects
    the conditions and forbidden clauses, and is labelled."""
    encoder = Encoder(cond_space)
    sampler = make(kind, cond_space, _previous_of_cond_space(), seed=0)

    for i in range(_n_asks(kind)):
        proposal = sampler.ask()
        config = proposal.config

        assert encoder.is_valid(config), config
        assert json.loads(json.dumps(config)) == config
        assert (config["opt"] == "sgd") == ("momentum" in config)
        assert (config["opt"], config["size"]) not in {("rms", "l"), ("adam", "m")}
        assert proposal.proposed_by
        sampler.tell(config, None if i % 5 == 4 else _objective(config))


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_reproduces_the_sequence(
    kind: str, cond_space: CS.ConfigurationSpace
) -> None:
    """Check that the same seed and calls give the same proposals, and another
    seed other ones."""
    previous = _previous_of_cond_space()

    def run(seed: int) -> list[tuple[Any, str]]:
        sampler = make(kind, cond_space, previous, seed)
        out = []
        for i in range(_n_asks(kind) // 2 + 3):
            proposal = sampler.ask()
            out.append((config_key(proposal.config), proposal.proposed_by))
            sampler.tell(
                proposal.config, None if i == 3 else _objective(proposal.config)
            )
        return out

    first = run(5)

    assert run(5) == first
    assert run(6) != first


@pytest.mark.parametrize("kind", KINDS)
def test_pending_configuration_is_never_proposed(
    kind: str, discrete_space: CS.ConfigurationSpace
) -> None:
    """Check, on a space of six configurations, that a pending configuration is
    never proposed: the one fresh configuration is found, and when none is fresh an
    evaluated one is repeated rather than a pending one."""
    everything = [{"a": a, "b": b} for a in (0, 1, 2) for b in ("x", "y")]
    sampler = make(kind, discrete_space, _previous_of_discrete_space(), seed=1)

    only_free = sampler.ask(pending=everything[1:]).config
    assert only_free == everything[0]

    for config in everything[:3]:
        sampler.tell(config, _objective(config))
    fresh = sampler.ask(pending=everything[3:5]).config
    assert fresh == everything[5]

    sampler.tell(everything[3], _objective(everything[3]))
    for _ in range(5):
        repeat = sampler.ask(pending=everything[4:]).config
        assert repeat in everything[:4]


@pytest.mark.parametrize("kind", KINDS)
def test_pending_from_another_run_is_avoided(
    kind: str, cond_space: CS.ConfigurationSpace
) -> None:
    """Check that configurations pending in parallel are not proposed again in a
    large space, and that several asks before their tells are distinct."""
    sampler = make(kind, cond_space, _previous_of_cond_space(), seed=2)
    pending: list[dict[str, Any]] = []

    for _ in range(_n_asks(kind) // 3):
        for _ in range(3):
            proposal = sampler.ask(pending)
            assert proposal.config not in pending
            pending.append(proposal.config)
        done = pending.pop(0)
        sampler.tell(done, _objective(done))


@pytest.mark.parametrize("kind", KINDS)
def test_failed_trials_do_not_break_the_sampler(
    kind: str, cond_space: CS.ConfigurationSpace
) -> None:
    """Check that trials told as failed (None, NaN) are counted apart, the complete
    ones are observed, and the sampler keeps proposing legal configurations, with
    its model once enough trials completed."""
    encoder = Encoder(cond_space)
    sampler = make(kind, cond_space, _previous_of_cond_space(), seed=3)

    for i in range(8):
        config = sampler.ask().config
        sampler.tell(config, None if i % 2 else math.nan)
    assert sampler.n_observed == 0
    assert sampler.n_failed == 8

    labels = set()
    for _ in range(_n_asks(kind)):
        proposal = sampler.ask()
        assert encoder.is_valid(proposal.config)
        labels.add(proposal.proposed_by)
        sampler.tell(proposal.config, _objective(proposal.config))
    assert sampler.n_observed == _n_asks(kind)
    assert sampler.X.shape == (_n_asks(kind), encoder.dim)
    assert len(sampler.y) == _n_asks(kind)
    if kind in ("tpe", "gp"):
        assert kind in labels


def test_make_sampler_lists_valid_names(small_space: CS.ConfigurationSpace) -> None:
    """Check that an unknown sampler name lists the valid ones."""
    with pytest.raises(
        UnknownNameError, match=r"Unknown sampler 'bohb'\. Valid sampler names: gp, "
    ):
        make_sampler("bohb", small_space)


def test_make_sampler_ignores_case(small_space: CS.ConfigurationSpace) -> None:
    """Check that sampler names are case-insensitive."""
    assert make_sampler("TPE", small_space).name == "tpe"


def test_sampler_names_are_sorted() -> None:
    """Check the sampler registry."""
    assert sampler_names() == ["gp", "random", "tpe"]
