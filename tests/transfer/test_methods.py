"""Tests of the transfer methods: best-first, only-new, drop-unimportant, T2PE,
their combination, and the fallback when no previous trial survives projection."""

from __future__ import annotations

import logging
from typing import Any

import ConfigSpace as CS
import numpy as np
import pytest

from hptaa_lab.errors import UnknownNameError
from hptaa_lab.samplers import RandomSampler, make_sampler
from hptaa_lab.space import Encoder, Mapping, ValueTransform, build_space
from hptaa_lab.transfer import (
    T2PE,
    DropUnimportant,
    OnlyNew,
    PreviousTrials,
    check_options,
    make_transfer,
    names,
    options,
)
from hptaa_lab.transfer._base import ranks

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

SHARED = ("act", "x", "y")


def _previous_value(config: dict[str, Any]) -> float:
    """y matters most, x a little, act not at all (0.5 for absent values)."""
    x, y = config.get("x", 0.5), config.get("y", 0.5)
    return 10 * (y - 0.9) ** 2 + 0.3 * (x - 0.2) ** 2 + config.get("units", 0) / 1e3


def _current_value(config: dict[str, Any]) -> float:
    return _previous_value(config) + (config.get("z", 0.5) - 0.5) ** 2


def _previous(n: int = 24, seed: int = 0, **spec: Any) -> PreviousTrials:
    """Random trials of the previous space (default: x, y, act)."""
    space = build_space(
        spec or {"x": (0.1, 1.7), "y": (0.01, 1.0, "log"), "act": ["a", "b"]}
    )
    sampler = RandomSampler(space, seed)
    configs = []
    for _ in range(n):
        config = sampler.ask().config
        sampler.tell(config, 0.0)
        # Values as a user's code gives them, not as the encoding rounds them.
        configs.append(
            {
                k: float(f"{v:.6g}") if isinstance(v, float) else v
                for k, v in config.items()
            }
        )
    return PreviousTrials(
        space=space,
        configs=tuple(configs),
        values=tuple(_previous_value(c) for c in configs),
        numbers=tuple(range(n)),
        study="v1",
    )


def _best(previous: PreviousTrials, legal: Any = None) -> dict[str, Any]:
    order = np.argsort(previous.values)
    for i in order:
        if legal is None or legal(previous.configs[i]):
            return previous.configs[i]
    raise AssertionError("no legal previous configuration")


@pytest.fixture
def current() -> CS.ConfigurationSpace:
    """The previous space plus a new hyperparameter z."""
    return build_space(
        {"x": (0.1, 1.7), "y": (0.01, 1.0, "log"), "act": ["a", "b"], "z": (0.0, 1.0)}
    )


def _run(sampler: Any, n: int) -> list[tuple[dict[str, Any], str]]:
    out = []
    for _ in range(n):
        proposal = sampler.ask()
        out.append((proposal.config, proposal.proposed_by))
        sampler.tell(proposal.config, _current_value(proposal.config))
    return out


@pytest.mark.parametrize("method", ["best-first", "best-first+t2pe"])
@pytest.mark.parametrize("model", ["tpe", "gp"])
def test_best_first_starts_with_best_previous_configuration(
    method: str, model: str, current: CS.ConfigurationSpace
) -> None:
    """Check that the first proposal holds exactly the shared values of the best
    previous trial, labelled best-first, and that it is proposed only once."""
    previous = _previous()
    sampler = make_transfer(method, current, previous, model=model, seed=0)

    trials = _run(sampler, 4 if model == "gp" else 6)

    first, label = trials[0]
    best = _best(previous)
    assert label == "best-first"
    assert {n: first[n] for n in SHARED} == {n: best[n] for n in SHARED}
    assert 0.0 <= first["z"] <= 1.0
    assert [lbl for _, lbl in trials[1:]].count("best-first") == 0


def test_best_first_skips_trials_that_do_not_survive_projection() -> None:
    """Check that best-first takes the best previous trial that is legal in the
    current space, and fills an added hyperparameter with its previous fixed
    value."""
    previous = _previous()
    best = _best(previous)
    other = "b" if best["act"] == "a" else "a"
    narrowed = build_space(
        {"x": (0.1, 1.7), "y": (0.01, 1.0, "log"), "act": [other], "z": (0.0, 1.0)}
    )
    sampler = make_transfer(
        "best-first",
        narrowed,
        previous,
        mapping=Mapping(previous_fixed={"z": 0.25}),
        seed=0,
    )

    first = sampler.ask().config

    survivor = _best(previous, lambda c: c["act"] != best["act"])
    assert {n: first[n] for n in SHARED} == {n: survivor[n] for n in SHARED}
    assert first["z"] == 0.25


def test_best_first_applies_the_mapping() -> None:
    """Check that best-first carries a renamed and rescaled value across."""
    previous = _previous()
    best = _best(previous)
    current = build_space(
        {"x_pct": (10.0, 170.0), "y": (0.01, 1.0, "log"), "act": ["a", "b"]}
    )
    mapping = Mapping(
        renames={"x": "x_pct"},
        transforms={"x_pct": ValueTransform(scale=100.0)},
    )

    first = make_transfer("best-first", current, previous, mapping=mapping).ask()

    assert first.config["x_pct"] == best["x"] * 100.0
    assert first.config["y"] == best["y"]


@pytest.mark.parametrize("model", ["tpe", "gp"])
def test_only_new_keeps_shared_values_fixed(
    model: str, current: CS.ConfigurationSpace
) -> None:
    """Check that only-new tunes the new hyperparameter only: every proposal keeps
    the best previous trial's shared values."""
    previous = _previous()
    best = _best(previous)
    sampler = make_transfer("only-new", current, previous, model=model, seed=0)
    assert isinstance(sampler, OnlyNew)
    assert sampler.tuned == ["z"]

    trials = _run(sampler, 8 if model == "gp" else 20)

    assert {label for _, label in trials} == {"only-new"}
    for config, _ in trials:
        assert {n: config[n] for n in SHARED} == {n: best[n] for n in SHARED}
    assert len({c["z"] for c, _ in trials}) == len(trials)


def test_only_new_falls_back_when_its_subspace_is_used_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that only-new keeps the shared values while the new values last, then
    warns and continues with the plain model over the whole space."""
    previous = _previous()
    best = _best(previous)
    current = build_space(
        {"x": (0.1, 1.7), "y": (0.01, 1.0, "log"), "act": ["a", "b"], "w": [0, 1, 2]}
    )
    sampler = make_transfer("only-new", current, previous, seed=0)

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.transfer._methods"):
        trials = _run(sampler, 12)

    labels = [label for _, label in trials]
    assert labels[:3] == ["only-new"] * 3
    assert "only-new" not in labels[3:]
    assert sorted(c["w"] for c, _ in trials[:3]) == [0, 1, 2]
    for config, _ in trials[:3]:
        assert {n: config[n] for n in SHARED} == {n: best[n] for n in SHARED}
    assert any(c["x"] != best["x"] for c, _ in trials[3:])
    assert "its reduced search space is used up" in caplog.text


@pytest.mark.parametrize("model", ["tpe", "gp"])
def test_only_new_with_nothing_new_does_not_loop(
    model: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that only-new with no new hyperparameter proposes the best previous
    configuration once, then goes on with distinct configurations."""
    previous = _previous()
    best = _best(previous)
    sampler = make_transfer("only-new", previous.space, previous, model=model, seed=0)

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.transfer._methods"):
        trials = _run(sampler, 30 if model == "tpe" else 12)

    configs = [c for c, _ in trials]
    assert configs[0] == best
    assert trials[0][1] == "best-first"
    assert configs.count(best) == 1
    distinct = {tuple(sorted(c.items())) for c in configs}
    assert len(distinct) > (20 if model == "tpe" else 10)
    assert "it has nothing to optimize" in caplog.text


def test_drop_unimportant_keeps_important_and_new(
    current: CS.ConfigurationSpace,
) -> None:
    """Check that drop-unimportant tunes the previous hyperparameters of at least
    mean importance plus the new one, and fixes the rest at the best previous
    configuration."""
    previous = _previous(n=40)
    best = _best(previous)
    sampler = make_transfer("drop-unimportant", current, previous, seed=0)
    assert isinstance(sampler, DropUnimportant)

    assert sampler.importance["y"] > 0.5
    assert sampler.tuned == ["y", "z"]
    assert sampler.fixed == {"act": best["act"], "x": best["x"]}
    for config, label in _run(sampler, 12):
        assert label == "drop-unimportant"
        assert (config["act"], config["x"]) == (best["act"], best["x"])


def test_drop_unimportant_follows_renames() -> None:
    """Check that the importance of a renamed hyperparameter counts for its new
    name."""
    previous = _previous(n=40)
    current = build_space(
        {"x": (0.1, 1.7), "yy": (0.01, 1.0, "log"), "act": ["a", "b"]}
    )

    sampler = make_transfer(
        "drop-unimportant", current, previous, mapping=Mapping(renames={"y": "yy"})
    )

    assert isinstance(sampler, DropUnimportant)
    assert sampler.tuned == ["yy"]


@pytest.mark.parametrize("method", ["only-new", "drop-unimportant"])
def test_a_constant_made_tunable_is_tuned_not_fixed(method: str) -> None:
    """Check that a constant of the previous space renamed onto a range is tuned
    like a new hyperparameter: the previous study could not tune it, and fixing
    it at its old value would never tune it. Before, only-new found nothing to
    tune and drop-unimportant fixed it. A single previous trial, which holds
    every value once, makes nothing else new."""
    previous = _previous(n=40, x=(0.1, 1.7), y=(0.01, 1.0, "log"), rate=0.1)
    current = build_space({"x": (0.1, 1.7), "y": (0.01, 1.0, "log"), "lr": (1e-3, 1.0)})
    sampler = make_transfer(
        method, current, previous, mapping=Mapping(renames={"rate": "lr"}), seed=0
    )

    assert "lr" in sampler.tuned
    assert "lr" not in sampler.fixed
    assert len({config["lr"] for config, _ in _run(sampler, 6)}) == 6
    # One previous trial holds every value once: that alone makes nothing new.
    single = _previous(n=1, x=(0.1, 1.7), y=(0.01, 1.0, "log"), rate=0.1)
    sampler = make_transfer(
        method, current, single, mapping=Mapping(renames={"rate": "lr"}), seed=0
    )
    if method == "only-new":
        assert sampler.tuned == ["lr"]
    else:
        assert "lr" in sampler.tuned


@pytest.mark.parametrize("method", ["t2pe", "best-first+t2pe"])
def test_t2pe_uses_previous_model_until_two_d_plus_one(
    method: str, current: CS.ConfigurationSpace
) -> None:
    """Check that T2PE proposes from the previous-trial model until the current
    study has 2 (d + 1) complete trials, and from the plain TPE afterwards."""
    previous = _previous(n=40)
    sampler = make_transfer(method, current, previous, seed=0)
    assert isinstance(sampler, T2PE)
    n_init = 2 * (len(current) + 1)

    labels = [label for _, label in _run(sampler, n_init + 12)]

    head = labels[:n_init]
    if method == "best-first+t2pe":
        assert head[0] == "best-first"
        head = head[1:]
    assert head == ["t2pe"] * len(head)
    assert set(labels[n_init:]) <= {"tpe", "random"}
    assert "tpe" in labels[n_init:]


def test_t2pe_waits_for_complete_trials() -> None:
    """Check that failed current trials do not end the previous-model phase."""
    previous = _previous()
    sampler = make_transfer("t2pe", previous.space, previous, seed=0)

    for _ in range(12):
        proposal = sampler.ask()
        assert proposal.proposed_by == "t2pe"
        sampler.tell(proposal.config, None)


def test_t2pe_proposals_follow_the_previous_trials(
    current: CS.ConfigurationSpace,
) -> None:
    """Check that T2PE's shared values lean towards the previous optimum (y near
    0.9) far more than the random previous trials, while the new value is drawn
    freely."""
    previous = _previous(n=60)
    sampler = make_transfer("t2pe", current, previous, seed=1)

    trials = _run(sampler, 10)

    y_error = np.mean([abs(c["y"] - 0.9) for c, _ in trials])
    random_error = np.mean([abs(c["y"] - 0.9) for c in previous.configs])
    assert y_error < 0.6 * random_error
    assert len({round(c["z"], 6) for c, _ in trials}) == 10


@pytest.mark.parametrize("method", names())
@pytest.mark.parametrize("model", ["tpe", "gp"])
def test_empty_projection_warns_and_behaves_like_plain_sampler(
    method: str, model: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that, when no previous trial survives projection, the method warns
    and proposes exactly what the plain sampler with the same seed proposes."""
    previous = _previous()
    current = build_space({"x": (2.0, 3.0), "y": (0.01, 1.0, "log"), "act": ["a", "b"]})

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.transfer"):
        sampler = make_transfer(method, current, previous, model=model, seed=4)
    plain = make_sampler(model, current, seed=4)

    assert sampler.fallback
    assert f"{method}: no previous trial of v1 survived projection" in caplog.text
    assert "(24 dropped" in caplog.text
    assert f"tuning with plain {model} instead" in caplog.text
    n = 6 if model == "gp" else 14
    assert _run(sampler, n) == _run(plain, n)


def test_unknown_method_lists_valid_names(current: CS.ConfigurationSpace) -> None:
    """Check that an unknown transfer method lists the valid ones."""
    with pytest.raises(
        UnknownNameError,
        match=r"Unknown transfer method 'magic'\. Valid transfer method names: "
        r"auto, auto-last, best-first, best-first\+t2pe, drop-unimportant, only-new, "
        r"t2pe\.",
    ):
        make_transfer("magic", current, _previous())


def test_unknown_model_lists_valid_names(current: CS.ConfigurationSpace) -> None:
    """Check that an unknown model lists the models a transfer method can use."""
    with pytest.raises(
        UnknownNameError,
        match=r"Unknown transfer model 'random'\. Valid transfer model names: gp, tpe\.",
    ):
        make_transfer("t2pe", current, _previous(), model="random")


def test_transfer_proposals_are_valid_in_conditional_space(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that best-first fills a conditional space validly."""
    previous = _previous(
        n=12, opt=["sgd", "adam"], lr=(1e-5, 1e-1, "log"), units=(16, 256)
    )
    sampler = make_transfer("best-first", cond_space, previous, seed=0)

    first = sampler.ask()

    assert first.proposed_by == "best-first"
    assert Encoder(cond_space).is_valid(first.config)


def test_ranks_scale_best_to_zero() -> None:
    """Check that ranks map values to [0, 1], best first, ties by order."""
    np.testing.assert_allclose(ranks([3.0, 1.0, 2.0, 1.0]), [1.0, 0.0, 2 / 3, 1 / 3])


def test_make_transfer_passes_options_that_the_method_takes(
    current: CS.ConfigurationSpace,
) -> None:
    """Check that options reach auto, that options() names them, and that an
    unknown option or an option for a paper method is refused with the valid
    names."""
    previous = _previous()

    sampler: Any = make_transfer(
        "auto", current, previous, seed=0, options={"ties": None, "portfolio": 0}
    )

    assert (sampler.ties, sampler._portfolio) == (None, [])
    assert "ties" in options("auto") and "ancestors" not in options("auto")
    assert options("auto-last") == options("auto")
    assert all(options(name) == [] for name in names() if not name.startswith("auto"))
    with pytest.raises(UnknownNameError, match="Unknown auto option 'tie'"):
        make_transfer("auto", current, previous, options={"tie": 1})
    with pytest.raises(ValueError, match="'best-first' takes no options"):
        make_transfer("best-first", current, previous, options={"ties": 1})
    with pytest.raises(UnknownNameError, match="Unknown transfer method 'nope'"):
        options("nope")
    # Checked without building the method: names first, then values.
    check_options("auto", {"ties": 3, "floor": 0.5})
    with pytest.raises(ValueError, match="floor must be a probability"):
        check_options("auto-last", {"floor": 2})
    with pytest.raises(UnknownNameError, match="Unknown auto option 'x'"):
        check_options("auto", {"x": 1, "floor": 2})
