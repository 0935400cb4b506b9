"""Tests of the auto transfer method: trust, portfolio, chains, fallback."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from hptaa_lab import create_study, load_study
from hptaa_lab.space import Mapping, ValueTransform, build_space
from hptaa_lab.transfer import Auto, PreviousTrials, make_transfer, project_chain
from hptaa_lab.transfer._auto import (
    _GP_MAX_TRIALS,
    AVOID_RHO,
    PORTFOLIO_RATE,
    PRIOR_RATE,
    TIES,
    WIN_IF_RELEVANT,
    _at_most,
    _fewer_ties,
    choose_model,
    implied_defaults,
)

SPACE = build_space({"x": (0.0, 1.0), "y": (0.0, 1.0)})


def previous_trials(f, n: int = 30, seed: int = 0) -> PreviousTrials:
    rng = np.random.default_rng(seed)
    configs = tuple({"x": float(a), "y": float(b)} for a, b in rng.random((n, 2)))
    return PreviousTrials(SPACE, configs, tuple(f(c) for c in configs), study="prev")


def bowl(c: dict) -> float:
    return (c["x"] - 0.2) ** 2 + (c["y"] - 0.3) ** 2


def moved(c: dict) -> float:
    """The bowl moved to the far corner: the previous best region is poor now."""
    return (c["x"] - 0.9) ** 2 + (c["y"] - 0.9) ** 2


def upside_down(c: dict) -> float:
    """The bowl upside down, on the same scale: the farther from the previous
    optimum, the better."""
    return 1.0 - bowl(c)


def run(sampler: Auto, f, n: int) -> list[str]:
    labels = []
    for _ in range(n):
        proposal = sampler.ask()
        labels.append(proposal.proposed_by)
        sampler.tell(proposal.config, f(proposal.config))
    return labels


def test_trust_falls_when_source_proposals_lose_to_random_ones() -> None:
    """Check that trust stays high when the source's proposals beat random ones
    and falls to zero when the adjustment moved the optimum away."""
    agree = Auto(SPACE, previous_trials(bowl), seed=1)
    disagree = Auto(SPACE, previous_trials(bowl), seed=1)
    run(agree, bowl, 6)
    run(disagree, moved, 6)
    assert agree.trust(agree.sources[0]) > 0.5
    assert disagree.trust(disagree.sources[0]) == 0.0


def test_comparisons_with_random_proposals_count_min_pairs() -> None:
    """Check the evidence from random proposals: every (source, random) pair is
    compared, and the win share counts as min(n_source, n_random) trials, each a
    likelihood ratio of WIN_IF_RELEVANT against one half."""
    plain = Auto(SPACE, previous_trials(bowl), seed=0, calibrate=0.0)
    source = plain.sources[0]
    assert plain.relevance(source) == pytest.approx(plain.prior_relevance)
    source.values.extend([0.1, 0.1])
    source.rates.extend([PRIOR_RATE, PRIOR_RATE])
    source.shares.extend([1.0, 1.0])
    plain._random_values.extend([0.5, 0.5, 0.05])
    p = WIN_IF_RELEVANT
    prior = math.log(plain.prior_relevance / (1 - plain.prior_relevance))
    expected = prior + 2 * (2 / 3 * math.log(2 * p) + 1 / 3 * math.log(2 * (1 - p)))
    assert plain.evidence(source) == pytest.approx(expected)


def test_calibration_reads_the_quantile_among_previous_values() -> None:
    """Check that a portfolio entry that still beats every previous value makes
    the source more probably relevant, one that is worse than every previous value
    leaves it improbable after a single evaluation, and that many values count as
    at most ``calibrate`` observations."""
    previous = previous_trials(bowl)
    prior = math.log(0.85 / 0.15)

    def evidence(values: list[float], rate: float = PORTFOLIO_RATE, **kw) -> float:
        sampler = Auto(SPACE, previous, seed=0, prior_relevance=0.85, **kw)
        sampler.sources[0].values.extend(values)
        sampler.sources[0].rates.extend([rate] * len(values))
        sampler.sources[0].shares.extend([1.0] * len(values))
        return sampler.evidence(sampler.sources[0])

    best = evidence([-1.0])
    assert best == pytest.approx(prior + math.log(PORTFOLIO_RATE / -math.expm1(-10)))
    worst = evidence([10.0])
    assert 1 / (1 + math.exp(-worst)) < 0.25
    assert evidence([10.0] * 10) == pytest.approx(prior + 3 * (worst - prior))
    assert evidence([10.0] * 10, calibrate=0.0) == pytest.approx(prior)
    # A model's draw is expected to rank lower than a previous best: the same
    # middling quantile is weaker evidence against it.
    median = float(np.median(previous.values))
    assert evidence([median], rate=PRIOR_RATE) > evidence([median])


def _added_y_previous(n: int = 30) -> PreviousTrials:
    """Previous trials over x only: y was added since, and no mapping knows the
    value it had, so (with added_defaults=False) every source proposal draws y
    at random."""
    rng = np.random.default_rng(0)
    old = build_space({"x": (0.0, 1.0)})
    configs = tuple({"x": float(a)} for a in rng.random(n))
    return PreviousTrials(old, configs, tuple(abs(c["x"] - 0.2) for c in configs))


def test_values_drawn_at_random_weaken_the_calibration() -> None:
    """Check that a source proposal whose other values were drawn at random is
    weaker evidence: the same poor quantile leaves the source above the floor
    when half the values were random, and below it when the source chose them
    all; the share is recorded per value as told."""
    sampler = Auto(SPACE, _added_y_previous(), seed=0, added_defaults=False)
    source = sampler.sources[0]
    entry = sampler.ask()
    assert entry.proposed_by == "auto-portfolio"
    sampler.tell(entry.config, max(source.projection.values) + 1.0)

    assert source.shares == [0.5]
    assert sampler.relevance(source) > sampler.floor
    source.shares[0] = 1.0
    assert sampler.relevance(source) < sampler.floor
    # What the source predicts well still counts: the same share, a good value.
    source.shares[0] = 0.5
    source.values[0] = min(source.projection.values) - 1.0
    assert sampler.relevance(source) > sampler.prior_relevance


def test_share_false_counts_every_value_as_the_sources_own() -> None:
    """Check that with share=False a portfolio entry whose added value was drawn
    at random records a share of 1.0, so the same poor value puts the source
    below the floor (the calibration before the share)."""
    sampler = Auto(
        SPACE, _added_y_previous(), seed=0, share=False, added_defaults=False
    )
    source = sampler.sources[0]
    entry = sampler.ask()
    sampler.tell(entry.config, max(source.projection.values) + 1.0)

    assert source.shares == [1.0]
    assert sampler.relevance(source) < sampler.floor
    with pytest.raises(ValueError, match="share must be True or False"):
        Auto(SPACE, _added_y_previous(), share=1)


def test_prior_proposals_record_the_share_their_source_chose() -> None:
    """Check that a source's draws, over the hyperparameters it models, record
    that share; a source that knows every value records 1.0."""
    partial = Auto(
        SPACE, _added_y_previous(), seed=1, portfolio=0, added_defaults=False
    )
    whole = Auto(SPACE, previous_trials(bowl), seed=1, portfolio=0)
    for sampler in (partial, whole):
        for _ in range(4):
            p = sampler.ask()
            sampler.tell(p.config, bowl(p.config))

    assert partial.sources[0].shares and set(partial.sources[0].shares) == {0.5}
    assert whole.sources[0].shares and set(whole.sources[0].shares) == {1.0}


def test_added_hyperparameters_are_taken_to_have_run_at_their_defaults(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that an added hyperparameter the mapping gives no previous value is
    taken to have run at its default: the first configuration is the previous
    best with y at its default (drawn at random with added_defaults=False); as
    an assumption, y counts in the calibration as a random value does (share
    1/2, where a previous_fixed value from the mapping counts as the source's
    own), and the log says so."""
    space = build_space({"x": (0.0, 1.0), "y": {"float": (0.0, 1.0), "default": 0.25}})
    previous = _added_y_previous()

    with caplog.at_level("INFO", logger="hptaa_lab.transfer"):
        sampler = Auto(space, previous, seed=0)
    first = sampler.ask().config
    sampler.tell(first, 0.1)
    unknown = Auto(space, previous, seed=0, added_defaults=False).ask().config

    best = previous.configs[int(np.argmin(previous.values))]
    assert first == {"x": best["x"], "y": 0.25}
    assert unknown["y"] != 0.25 and unknown["x"] == first["x"]
    assert sampler.sources[0].shares == [0.5]
    assert sampler.implied == {"y": 0.25}
    assert "taken to have run with y=0.25 (the default)" in caplog.text
    given = Auto(space, previous, seed=0, mapping=Mapping(previous_fixed={"y": 0.75}))
    entry = given.ask().config
    given.tell(entry, 0.1)
    assert given.implied == {} and entry["y"] == 0.75
    assert given.sources[0].shares == [1.0]


def test_a_suggested_rename_or_a_rename_target_takes_no_default() -> None:
    """Check that an added name the diff suggests as a rename of a removed one
    (its previous trials ran with many values, under the other name), or that a
    rename reaches, is not taken to have run at its default; another added one
    is."""
    old = build_space({"lr": (1e-4, 1e-1, "log"), "units": (16, 256)})
    new = build_space(
        {
            "learning_rate": (1e-4, 1e-1, "log"),
            "width": (16, 256),
            "dropout": (0.0, 0.5),
        }
    )

    assert implied_defaults(None, old, new) == {"dropout": 0.25, "width": 136}
    renamed = Mapping(renames={"units": "width"})
    assert implied_defaults(renamed, old, new) == {"dropout": 0.25}
    assert implied_defaults(Mapping(previous_fixed={"dropout": 0.0}), old, new) == {
        "width": 136
    }


def test_an_assumed_default_that_would_drop_previous_trials_stays_unknown() -> None:
    """Check that an added choice whose default is forbidden beside the previous
    best trials (k == x && m == p) is not assumed: assuming it dropped every
    trial with k = x, the good ones."""
    import ConfigSpace as CS

    old = build_space({"a": (0.0, 1.0), "k": ["x", "y"]})
    configs = tuple({"a": a, "k": k} for a in (0.1, 0.4, 0.7) for k in ("x", "y"))
    values = tuple(c["a"] + (0.0 if c["k"] == "x" else 1.0) for c in configs)
    previous = PreviousTrials(old, configs, values, study="v1")
    new = CS.ConfigurationSpace({"a": (0.0, 1.0), "m": ["p", "q"]})
    new.add(CS.CategoricalHyperparameter("k", ["x", "y"], default_value="y"))
    new.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(new["k"], "x"),
            CS.ForbiddenEqualsClause(new["m"], "p"),
        )
    )

    sampler = Auto(new, previous, seed=0)

    assert sampler.implied == {}
    assert len(sampler.sources[0].projection) == len(configs)


def test_a_hyperparameter_added_back_takes_the_value_it_was_fixed_to() -> None:
    """Check that a hyperparameter the previous study removed (fixed to 7, its
    mapping records) and the current one adds back is filled at 7, a known value
    (counted as the source's own), not assumed at its default 5."""
    old = build_space({"x": (0.0, 1.0)})
    incoming = Mapping(current_fixed={"z": 7.0})
    configs = tuple({"x": x} for x in (0.1, 0.3, 0.6, 0.9))
    previous = PreviousTrials(
        old, configs, tuple(c["x"] for c in configs), study="v2", incoming=incoming
    )
    new = build_space({"x": (0.0, 1.0), "z": {"float": (0.0, 10.0), "default": 5.0}})

    sampler = Auto(new, previous, seed=0)
    entry = sampler.ask().config
    sampler.tell(entry, 0.1)

    assert entry == {"x": 0.1, "z": 7.0}
    assert sampler.implied == {} and sampler.sources[0].shares == [1.0]


def test_assumed_defaults_forbidden_only_together_are_not_both_assumed() -> None:
    """Check that two added choices whose defaults are forbidden only together
    beside the previous best trials (k == x && m == p && n == p) are not both
    assumed: each alone dropped nothing, both together every k = x trial."""
    import ConfigSpace as CS

    old = build_space({"a": (0.0, 1.0), "k": ["x", "y"]})
    configs = tuple({"a": a, "k": k} for a in (0.1, 0.4, 0.7) for k in ("x", "y"))
    values = tuple(c["a"] + (0.0 if c["k"] == "x" else 1.0) for c in configs)
    previous = PreviousTrials(old, configs, values, study="v1")
    new = CS.ConfigurationSpace({"a": (0.0, 1.0), "m": ["p", "q"], "n": ["p", "q"]})
    new.add(CS.CategoricalHyperparameter("k", ["x", "y"], default_value="y"))
    new.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(new["k"], "x"),
            CS.ForbiddenEqualsClause(new["m"], "p"),
            CS.ForbiddenEqualsClause(new["n"], "p"),
        )
    )

    sampler = Auto(new, previous, seed=0)

    assert sampler.implied == {"m": "p"}
    assert len(sampler.sources[0].projection) == len(configs)


def test_a_recorded_value_the_current_space_cannot_hold_stays_unknown() -> None:
    """Check that a hyperparameter added back whose recorded value (7) lies
    outside its current range (0..5) is neither filled at 7 (which dropped
    every previous trial) nor assumed at its default: it stays unknown."""
    old = build_space({"x": (0.0, 1.0)})
    configs = tuple({"x": x} for x in (0.1, 0.3, 0.6, 0.9))
    previous = PreviousTrials(
        old,
        configs,
        tuple(c["x"] for c in configs),
        study="v2",
        incoming=Mapping(current_fixed={"z": 7.0}),
    )
    new = build_space({"x": (0.0, 1.0), "z": (0.0, 5.0)})

    sampler = Auto(new, previous, seed=0)

    assert sampler.implied == {}
    assert len(sampler.sources[0].projection) == len(configs)


def test_a_child_no_previous_trial_activates_is_not_assumed() -> None:
    """Check that a hyperparameter added under a choice the previous study did
    not have (degree for the new poly kernel) is not said to have run at its
    default: no previous trial made it active."""
    old = build_space({"kernel": ["rbf", "linear"], "c": (0.0, 1.0)})
    configs = tuple(
        {"kernel": k, "c": c} for k in ("rbf", "linear") for c in (0.2, 0.8)
    )
    previous = PreviousTrials(old, configs, tuple(c["c"] for c in configs), study="v1")
    new = build_space(
        {
            "kernel": ["rbf", "linear", "poly"],
            "c": (0.0, 1.0),
            "degree": {"int": (2, 5), "if": {"kernel": "poly"}},
        }
    )

    assert Auto(new, previous, seed=0).implied == {}


def test_nothing_is_assumed_of_a_previous_study_without_complete_trials() -> None:
    """Check that with no complete previous trial no added value is assumed (the
    warning said the previous trials ran with z=0.5, then that there were
    none)."""
    previous = PreviousTrials(build_space({"x": (0.0, 1.0)}), (), (), study="v1")
    new = build_space({"x": (0.0, 1.0), "z": (0.0, 1.0)})

    assert Auto(new, previous, seed=0).implied == {}


def test_an_inactive_child_of_an_assumed_parent_is_not_assumed() -> None:
    """Check that a conditional hyperparameter added with its parent, inactive
    under the parent's default (mom only for sgd, default adam), is not said
    to have run at a value."""
    new = build_space(
        {
            "x": (0.0, 1.0),
            "opt": ["adam", "sgd"],
            "mom": {"float": (0.0, 0.9), "if": {"opt": "sgd"}},
        }
    )

    assert implied_defaults(None, build_space({"x": (0.0, 1.0)}), new) == {
        "opt": "adam"
    }


def test_source_models_learn_current_results_on_their_rank_scale() -> None:
    """Check that each current result joins the source's model with its quantile
    among the source's previous values (0 when it beats them all), and that
    prior_update=False leaves the model with the previous trials only."""
    previous = previous_trials(bowl)
    updating = Auto(SPACE, previous, seed=0)
    frozen = Auto(SPACE, previous, seed=0, prior_update=False)
    config = {"x": 0.2, "y": 0.3}
    for sampler in (updating, frozen):
        sampler.tell(config, -1.0)
    assert updating.sources[0].prior.y[-1] == 0.0
    assert len(updating.sources[0].prior.y) == len(previous.values) + 1
    assert len(frozen.sources[0].prior.y) == len(previous.values)
    worst = max(previous.values) + 1.0
    updating.tell({"x": 0.9, "y": 0.9}, worst)
    assert updating.sources[0].prior.y[-1] == 1.0


def test_bandit_leaves_a_misleading_source_before_the_model_exists() -> None:
    """Check that before the current TPE exists, most proposals come from the
    source when it helps and most are random when it misleads (plain random, or
    random ones that keep away from its good region: auto-avoid)."""
    agree = run(Auto(SPACE, previous_trials(bowl), seed=3), bowl, 6)
    disagree = run(Auto(SPACE, previous_trials(bowl), seed=3), moved, 6)
    assert agree[0] == disagree[0] == "auto-portfolio"
    assert agree[1:].count("auto-prior") >= 4
    assert sum(label in ("random", "auto-avoid") for label in disagree[1:]) >= 3


def test_untrusted_auto_behaves_like_tpe() -> None:
    """Check that once trust is gone, proposals come from the current TPE or at
    random, never from the previous trials."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=2)
    run(sampler, moved, 20)
    assert sampler.trust(sampler.sources[0]) == 0.0
    labels = {sampler.ask().proposed_by for _ in range(20)}
    assert labels <= {"tpe", "random"}


@pytest.mark.parametrize("size", [1, 2, 3])
def test_portfolio_evaluates_the_best_previous_configurations_first(size: int) -> None:
    """Check that the first proposals are the best distinct previous configurations."""
    previous = previous_trials(bowl)
    sampler = Auto(SPACE, previous, seed=0, portfolio=size)
    best = sorted(range(len(previous.values)), key=previous.values.__getitem__)
    for i in range(size):
        proposal = sampler.ask()
        assert proposal.proposed_by == "auto-portfolio"
        assert proposal.config == previous.configs[best[i]]
        sampler.tell(proposal.config, bowl(proposal.config))
    assert sampler.ask().proposed_by != "auto-portfolio"


def test_auto_finds_the_optimum_faster_than_tpe_when_transfer_helps() -> None:
    """Check on a shared bowl that auto is ahead of plain TPE after 10 trials,
    on average over seeds."""
    from hptaa_lab.samplers import TPESampler

    auto_best, tpe_best = [], []
    for seed in range(6):
        sampler = Auto(SPACE, previous_trials(bowl, seed=seed), seed=seed)
        tpe = TPESampler(SPACE, seed=seed)
        for s, out in ((sampler, auto_best), (tpe, tpe_best)):
            values = []
            for _ in range(10):
                p = s.ask()
                values.append(bowl(p.config))
                s.tell(p.config, values[-1])
            out.append(min(values))
    assert np.mean(auto_best) < np.mean(tpe_best)


def test_chain_projection_composes_mappings_across_three_studies() -> None:
    """Check that v1 trials reach the v3 space through the v1->v2 rename and the
    v2->v3 unit change."""
    v1 = build_space({"lr": (1e-4, 1e-1, "log"), "k": ["a", "b"]})
    v2 = build_space({"learning_rate": (1e-4, 1e-1, "log"), "k": ["a", "b"]})
    v3 = build_space({"learning_rate_pct": (1e-2, 10.0, "log"), "k": ["a", "b"]})
    older = PreviousTrials(v1, ({"lr": 0.01, "k": "a"},), (1.0,), study="v1")
    previous = PreviousTrials(
        v2,
        ({"learning_rate": 0.02, "k": "b"},),
        (2.0,),
        study="v2",
        incoming=Mapping(renames={"lr": "learning_rate"}),
        ancestors=(older,),
    )
    to_v3 = Mapping.from_dict(
        {
            "renames": {"learning_rate": "learning_rate_pct"},
            "transforms": {"learning_rate_pct": {"scale": 100.0}},
        }
    )
    ((name, projection),) = project_chain(v3, to_v3, previous)
    assert name == "v1"
    assert projection.configs == ({"learning_rate_pct": 1.0, "k": "a"},)


def test_study_chain_uses_every_ancestor(tmp_path) -> None:
    """Check that a v3 study created with auto gets a source per ancestor study."""
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    spec = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    v1 = create_study("v1", spec, store=url, seed=0)
    v1.optimize(bowl, n_trials=8)
    v2 = create_study("v2", spec, previous="v1", transfer="auto", store=url, seed=0)
    v2.optimize(bowl, n_trials=8)
    v3 = create_study("v3", spec, previous="v2", transfer="auto", store=url, seed=0)
    assert [s.name for s in v3.sampler.sources] == ["v2", "v1"]
    v3.optimize(bowl, n_trials=4)
    labels = [t.proposed_by for t in v3.trials][:2]
    assert labels == ["auto-portfolio", "auto-portfolio"]
    resumed = load_study("v3", store=url)
    assert [s.name for s in resumed.sampler.sources] == ["v2", "v1"]


def test_auto_is_registered_and_falls_back_without_surviving_trials(caplog) -> None:
    """Check that make_transfer knows auto and that it warns and tunes plainly when
    no previous trial survives projection."""
    # x became a choice: no previous number is one of its values.
    changed = build_space({"x": ["low", "high"], "y": (0.99, 1.0)})
    sampler = make_transfer("auto", changed, previous_trials(bowl), seed=0)
    assert sampler.fallback
    assert "no previous trial" in caplog.text
    assert "tuning with plain tpe instead" in caplog.text
    proposal = sampler.ask()
    assert proposal.proposed_by == "random"
    assert 0.99 <= proposal.config["y"] <= 1.0


def test_one_surviving_trial_warning_counts_the_dropped_ones(caplog) -> None:
    """Check that when a wrong rename or range leaves a single trial, the warning
    says how many were dropped in projection and points at the mapping."""
    configs = tuple({"x": 0.05 * i, "y": 0.5} for i in range(10))
    previous = PreviousTrials(SPACE, configs, tuple(range(10)), study="prev")
    narrow = build_space({"x": (0.0, 0.01), "y": (0.0, 1.0)})
    sampler = Auto(narrow, previous, seed=0, clip=False)
    assert "(prev: 1 surviving trial(s), fewer than 2)" in caplog.text
    assert "9 other trial(s) were dropped in projection" in caplog.text
    assert "evaluating the best surviving configuration first" in caplog.text
    assert sampler.ask().config == {"x": 0.0, "y": 0.5}


def test_trials_outside_a_narrowed_range_are_kept_at_its_bound(caplog) -> None:
    """Check that auto keeps previous trials whose value lies outside a narrowed
    range, moved to the nearest bound (most of the previous study, and its best
    trials, when the range shrank around a poor region), and starts from the best
    of them; the paper's methods drop them."""
    configs = tuple(
        {"x": 0.05 * i, "y": 0.3 if 0.05 * i > 0.4 else 0.7} for i in range(20)
    )
    previous = PreviousTrials(
        SPACE, configs, tuple(abs(c["x"] - 0.6) for c in configs), study="prev"
    )
    narrow = build_space({"x": (0.0, 0.4), "y": (0.0, 1.0)})

    with caplog.at_level("INFO", logger="hptaa_lab.transfer"):
        sampler = make_transfer("auto", narrow, previous, seed=0)
    best_first = make_transfer("best-first", narrow, previous, seed=0)

    assert len(sampler.projection) == 20 and len(sampler.projection.clipped) == 11
    assert (
        "11 of the 20 trials kept from prev lay outside a narrowed or shifted range"
        in caplog.text
    )
    assert sampler.sources and len(best_first.projection) == 9
    # The best trial (x 0.6, clipped to 0.4) comes first, not the best inside.
    assert sampler.ask().config == {"x": 0.4, "y": 0.3}
    assert best_first.ask().config == {"x": 0.4, "y": 0.7}


def test_trials_with_a_removed_choice_are_kept_with_that_value_unknown(
    caplog,
) -> None:
    """Check that after a choice was removed from several hyperparameters (most
    previous trials used it somewhere) auto keeps those trials for its source,
    with the removed value unknown, models every hyperparameter, starts from the
    best trial that lost no value, and that forget=False drops them as the
    paper's methods do."""
    ops = ["conv", "skip", "none", "pool"]
    before = build_space({f"e{i}": ops for i in range(3)})
    after = build_space({f"e{i}": ops[:3] for i in range(3)})
    rng = np.random.default_rng(0)
    configs = tuple(
        {f"e{i}": str(rng.choice(ops)) for i in range(3)} for _ in range(30)
    )
    values = tuple(
        sum(c[f"e{i}"] != "conv" for i in range(3)) + 0.01 * k
        for k, c in enumerate(configs)
    )
    previous = PreviousTrials(before, configs, values, study="prev")
    whole = [k for k, c in enumerate(configs) if "pool" not in c.values()]

    with caplog.at_level("INFO", logger="hptaa_lab.transfer"):
        sampler = Auto(after, previous, seed=0)
    paper = Auto(after, previous, seed=0, forget=False)

    source = sampler.sources[0]
    assert len(source.projection) == 30 and len(source.projection.forgotten) > 0
    assert source.names == ["e0", "e1", "e2"]
    assert len(paper.sources[0].projection) == len(whole) < 30
    assert (
        f"{30 - len(whole)} of the 30 trials kept from prev used a choice that was "
        "removed since (of e0, e1, e2)" in caplog.text
    )
    best_whole = min(whole, key=lambda k: values[k])
    assert sampler.ask().config == configs[best_whole]
    # The source's densities still rank conv first on every edge.
    good = source.good.log_pdf(np.zeros((1, 3)))
    assert good > source.good.log_pdf(np.ones((1, 3)))


def test_range_narrowed_away_from_poor_trials_only_drops_them() -> None:
    """Check that when only poor previous trials lie beyond a narrowed range (the
    adjustment cut away a poor region), auto drops them as the paper does, while
    a range whose cut-away part held some of the best trials is clipped."""
    configs = tuple({"x": 0.05 * i, "y": 0.3} for i in range(20))
    # Best near x = 0.2: the trials beyond 0.62 are all poor.
    previous = PreviousTrials(
        SPACE, configs, tuple(abs(c["x"] - 0.2) for c in configs), study="prev"
    )
    narrow = build_space({"x": (0.0, 0.62), "y": (0.0, 1.0)})

    sampler = make_transfer("auto", narrow, previous, seed=0)

    assert sampler.projection.clipped == ()
    assert len(sampler.projection) == 13 and len(sampler.projection.dropped) == 7
    # The same previous trials with the best ones beyond the bound are clipped.
    moved = PreviousTrials(
        SPACE, configs, tuple(abs(c["x"] - 0.9) for c in configs), study="prev"
    )
    assert len(make_transfer("auto", narrow, moved, seed=0).projection.clipped) == 7


def test_one_surviving_trial_is_evaluated_first_then_plain_tpe() -> None:
    """Check that a previous study with a single usable trial (no ranking to model)
    still has that configuration evaluated first, as best-first would, and that
    the study then proposes exactly as plain TPE with the same seed."""
    previous = PreviousTrials(SPACE, ({"x": 0.25, "y": 0.75},), (0.1,), study="prev")
    sampler = Auto(SPACE, previous, seed=3)
    assert not sampler.fallback and not sampler.sources
    first = sampler.ask()
    assert (first.proposed_by, first.config) == (
        "auto-portfolio",
        {"x": 0.25, "y": 0.75},
    )
    sampler.tell(first.config, bowl(first.config))
    labels = run(sampler, bowl, 14)
    assert set(labels) <= {"random", "tpe"}
    assert "tpe" in labels
    # The portfolio entry is no evidence about any source nor about random draws.
    assert sampler._random_values and len(sampler._random_values) == labels.count(
        "random"
    )


def test_all_equal_previous_values_still_give_a_first_configuration() -> None:
    """Check that previous trials that all scored alike (no ranking) still give
    one configuration to evaluate first, and that portfolio=0 turns it off."""
    configs = tuple({"x": 0.1 * i, "y": 0.5} for i in range(1, 5))
    previous = PreviousTrials(SPACE, configs, (0.3,) * 4, study="prev")
    sampler = Auto(SPACE, previous, seed=0)
    assert sampler.ask().proposed_by == "auto-portfolio"
    assert Auto(SPACE, previous, seed=0, portfolio=0).fallback


def test_resumed_study_keeps_the_bandit_evidence(tmp_path) -> None:
    """Check that load_study credits stored trials to random proposals and to the
    source as they were proposed, so trust is the same as before the restart."""
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    spec = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    create_study("v1", spec, store=url, seed=0).optimize(bowl, n_trials=12)
    v2 = create_study("v2", spec, previous="v1", store=url, seed=1)
    v2.optimize(moved, n_trials=5)
    labels = {t.proposed_by for t in v2.trials}
    assert {"auto-portfolio", "random"} <= labels

    resumed = load_study("v2", store=url)
    live, again = v2.sampler.sources[0], resumed.sampler.sources[0]
    assert again.values == live.values
    assert resumed.sampler._random_values == v2.sampler._random_values
    assert again.rates == live.rates
    assert again.shares == live.shares
    assert resumed.sampler.evidence(again) == v2.sampler.evidence(live)
    assert resumed.sampler._portfolio == []


def test_without_trust_the_random_share_is_plain_tpe_s() -> None:
    """Check that with trust gone, random proposals come a third of the time as
    in plain TPE (not drawn twice, once by auto and again by its TPE)."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=5)
    run(sampler, moved, 20)
    assert sampler.trust(sampler.sources[0]) == 0.0
    labels = run(sampler, moved, 150)
    share = labels.count("random") / len(labels)
    assert 0.2 < share < 0.45, share


def test_gp_model_proposes_once_the_portfolio_and_bandit_are_done() -> None:
    """Check that with model="gp" the GP makes the model proposals."""
    sampler = make_transfer("auto", SPACE, previous_trials(bowl), model="gp", seed=0)
    labels = run(sampler, bowl, 12)
    assert labels[0] == "auto-portfolio"
    assert "gp" in labels[sampler.n_init :]
    assert "auto-tpe" not in labels


def test_chain_prior_proposals_are_labelled_by_source_and_restored(tmp_path) -> None:
    """Check that prior proposals name their source (auto-prior, auto-prior-2) and
    that a resumed study credits each source with its own trials."""
    url = f"sqlite:///{tmp_path / 'chain.db'}"
    spec = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    create_study("v1", spec, store=url, seed=0).optimize(bowl, n_trials=10)
    v2 = create_study("v2", spec, previous="v1", store=url, seed=0)
    v2.optimize(moved, n_trials=10)
    v3 = create_study("v3", spec, previous="v2", store=url, seed=2)
    v3.optimize(bowl, n_trials=6)
    labels = {t.proposed_by for t in v3.trials}
    assert labels & {"auto-prior", "auto-prior-2"}
    resumed = load_study("v3", store=url)
    for live, again in zip(v3.sampler.sources, resumed.sampler.sources, strict=True):
        assert again.values == live.values
        assert again.rates == live.rates
        assert again.shares == live.shares
        assert resumed.sampler.evidence(again) == v3.sampler.evidence(live)


def test_unusable_direct_previous_study_says_older_ones_are_used(caplog) -> None:
    """Check the warning when only older studies of the chain can be used."""
    older = previous_trials(bowl)
    empty = PreviousTrials(
        build_space({"z": (0.0, 1.0)}), (), (), study="v2", ancestors=(older,)
    )
    sampler = Auto(SPACE, empty, ancestors=[("v1", _projected(older))], seed=0)
    assert not sampler.fallback
    assert "v2 cannot be learned from (0 surviving trial(s)" in caplog.text
    assert "transferring from older studies: v1" in caplog.text


def test_a_direct_previous_study_of_ties_is_named_as_such(caplog) -> None:
    """Check that when the direct previous study's trials all project but are all
    equally good, the warning says so instead of calling them unusable."""
    older = previous_trials(bowl)
    flat = previous_trials(lambda c: 0.5)
    flat = PreviousTrials(
        SPACE, flat.configs, flat.values, study="v2", ancestors=(older,)
    )
    Auto(SPACE, flat, ancestors=[("v1", _projected(older))], seed=0)
    assert (
        "v2 cannot be learned from (its 30 surviving trials are all equally good)"
        in (caplog.text)
    )
    assert "no usable trial" not in caplog.text


def _projected(previous: PreviousTrials):
    from hptaa_lab.space import project

    return project(previous.space, SPACE, previous.configs, previous.values)


def test_chain_does_not_refill_a_value_removed_then_added_back() -> None:
    """Check that when v2 removed a hyperparameter (fixed it) and v3 exposes it
    again with v2's fixed value as previous_fixed, v1's trials, which ran with
    their own values, project with that value unknown, not relabelled."""
    v1 = build_space({"lr": (0.0, 1.0), "dropout": (0.0, 0.9)})
    v2 = build_space({"lr": (0.0, 1.0)})
    v3 = build_space({"lr": (0.0, 1.0), "dropout": (0.0, 0.9)})
    older = PreviousTrials(v1, ({"lr": 0.25, "dropout": 0.5},), (1.0,), study="v1")
    previous = PreviousTrials(
        v2,
        ({"lr": 0.3},),
        (2.0,),
        study="v2",
        incoming=Mapping(current_fixed={"dropout": 0.1}),
        ancestors=(older,),
    )
    to_v3 = Mapping(previous_fixed={"dropout": 0.1})
    ((_name, projection),) = project_chain(v3, to_v3, previous)
    assert projection.configs == ({"lr": 0.25},)


def test_chain_clips_into_the_current_space_only() -> None:
    """Check that along a chain an ancestor's value outside an intermediate
    study's narrowed range is not moved to that older bound (v2 narrowed x, v3
    widened it again: v1's x = 1.0 is legal in v3), while a value outside the
    current range is clipped into it."""
    v1 = build_space({"x": (0.0, 3.0)})
    v2 = build_space({"x": (2.0, 3.0)})
    v3 = build_space({"x": (0.5, 2.5)})
    older = PreviousTrials(v1, ({"x": 1.0}, {"x": 2.9}), (1.0, 2.0), study="v1")
    previous = PreviousTrials(v2, ({"x": 2.2},), (3.0,), study="v2", ancestors=(older,))

    ((_name, clipped),) = project_chain(v3, None, previous, clip=True)
    ((_name, plain),) = project_chain(v3, None, previous)

    assert clipped.configs == ({"x": 2.5},) and clipped.clipped == (1,)
    assert [number for number, _ in clipped.dropped] == []
    assert plain.configs == ()


def test_chain_forgets_a_choice_removed_at_an_older_hop() -> None:
    """Check that an ancestor's trial whose choice an intermediate study removed
    is kept with that value unknown (forget), reported under its current name
    after a later rename, and dropped without forget."""
    v1 = build_space({"x": (0.0, 1.0), "op": ["a", "b", "c"]})
    v2 = build_space({"x": (0.0, 1.0), "op": ["a", "b"]})
    v3 = build_space({"x": (0.0, 1.0), "operation": ["a", "b"]})
    older = PreviousTrials(
        v1, ({"x": 0.1, "op": "c"}, {"x": 0.2, "op": "a"}), (1.0, 2.0), study="v1"
    )
    previous = PreviousTrials(
        v2, ({"x": 0.3, "op": "b"},), (3.0,), study="v2", ancestors=(older,)
    )
    to_v3 = Mapping(renames={"op": "operation"})

    ((_name, kept),) = project_chain(v3, to_v3, previous, forget=True)
    ((_name, plain),) = project_chain(v3, to_v3, previous)

    assert kept.configs == ({"x": 0.1}, {"x": 0.2, "operation": "a"})
    assert kept.forgotten == ((0, "operation"),)
    assert plain.configs == ({"x": 0.2, "operation": "a"},)


@pytest.mark.parametrize("prior", [0.0, 1.0, 1.5])
def test_prior_relevance_outside_the_open_interval_is_refused(prior: float) -> None:
    """Check that a prior relevance of 0 or 1 (infinite log-odds) is a clear error."""
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        Auto(SPACE, previous_trials(bowl), prior_relevance=prior)


def test_source_proposals_spread_over_the_good_region() -> None:
    """Check that a TPE source model, once it learns the current results, does not
    pile its proposals onto near-copies of the best configuration (its kernels
    have a floor of prior_min_bandwidth; with a tiny floor they collapse)."""

    def spread(**options: float) -> float:
        """Mean over seeds of the spread of x among the source's proposals."""
        spreads = []
        for seed in range(3):
            sampler = Auto(
                SPACE, previous_trials(bowl), seed=seed, source_model="tpe", **options
            )
            xs = []
            for _ in range(5):
                proposal = sampler.ask()
                if proposal.proposed_by == "auto-prior":
                    xs.append(proposal.config["x"])
                sampler.tell(proposal.config, bowl(proposal.config))
            spreads.append(float(np.std(xs)))
        return float(np.mean(spreads))

    assert spread() > 0.03  # 0.038 with the default floor
    assert spread(prior_min_bandwidth=1e-3) < 0.02  # 0.016: near-copies


def _chain_of_copies(n: int = 30) -> PreviousTrials:
    """A previous study whose older study holds the same trials (a chain whose
    studies describe one good region)."""
    same = previous_trials(bowl, n=n)
    older = PreviousTrials(SPACE, same.configs, same.values, study="v1")
    return PreviousTrials(
        SPACE, same.configs, same.values, study="v2", ancestors=(older,)
    )


def test_chain_sources_together_weigh_no_more_than_the_heaviest() -> None:
    """Check that pooling shares the weight of the heaviest source among a chain's
    sources (in proportion to trust x trials), and that without it each source
    counts in full."""
    pooled = Auto(SPACE, _chain_of_copies(), seed=0, fade=None)
    summed = Auto(SPACE, _chain_of_copies(), seed=0, fade=None, pool=False)
    assert len(pooled.sources) == 2
    full = [pooled.trust(s) * 30 for s in pooled.sources]
    assert summed.weights() == pytest.approx(full)
    assert sum(pooled.weights()) == pytest.approx(max(full))
    assert pooled.weights()[0] == pytest.approx(pooled.weights()[1])


def test_source_weight_halves_after_fade_current_trials() -> None:
    """Check that the sources' weight in the current model fades as the study's
    own trials accumulate: whole at the start, half after ``fade`` trials, a
    fifth after four times as many; with fade=None it stays whole."""
    fading = Auto(SPACE, previous_trials(bowl), seed=0, fade=10.0)
    whole = Auto(SPACE, previous_trials(bowl), seed=0, fade=None)
    start = fading.weights()[0]
    assert start == pytest.approx(whole.weights()[0]) and start > 0.0
    run(fading, bowl, 10)
    trust = fading.trust(fading.sources[0])
    assert fading.weights()[0] == pytest.approx(0.5 * trust * 30)
    run(fading, bowl, 30)
    trust = fading.trust(fading.sources[0])
    assert fading.weights()[0] == pytest.approx(0.2 * trust * 30)


@pytest.mark.parametrize("fade", [0.0, -5.0, math.inf, math.nan, True, "20"])
def test_fade_must_be_a_positive_number_of_trials(fade: object) -> None:
    """Check that a fade that is not a positive number is a clear error."""
    with pytest.raises(ValueError, match="fade must be a number of trials > 0"):
        Auto(SPACE, previous_trials(bowl), fade=fade)  # type: ignore[arg-type]


def _with_added_choice() -> tuple[PreviousTrials, object]:
    """A previous study over k in {a, b} (b best), and a current space that also
    offers c, with x renamed to width."""
    before = build_space({"x": (0.0, 1.0), "k": ["a", "b"]})
    rng = np.random.default_rng(0)
    configs = tuple(
        {"x": float(x), "k": str(rng.choice(["a", "b"]))} for x in rng.random(30)
    )
    values = tuple(c["x"] + (c["k"] == "a") for c in configs)
    previous = PreviousTrials(before, configs, values, study="v1")
    after = build_space({"width": (0.0, 1.0), "k": ["a", "b", "c"]})
    return previous, after


def test_added_choices_come_from_the_space_diff_through_the_mapping() -> None:
    """Check that only choices the previous space lacked count as added (through
    renames and value maps), with their share of all choices."""
    previous, after = _with_added_choice()
    mapping = Mapping(renames={"x": "width"})
    sampler = Auto(after, previous, mapping=mapping, seed=0)
    assert sampler.added_choices == {"k": (["c"], pytest.approx(1 / 3))}
    mapped = Mapping(
        renames={"x": "width"}, transforms={"k": ValueTransform(values={"a": "c"})}
    )
    assert Auto(after, previous, mapping=mapped, seed=0).added_choices == {
        "k": (["a"], pytest.approx(1 / 3))
    }
    same = Auto(build_space({"x": (0.0, 1.0), "k": ["a", "b"]}), previous, seed=0)
    assert same.added_choices == {}


def test_source_proposals_take_an_added_choice_at_its_uniform_share() -> None:
    """Check that the source's proposals pick the added choice about a third of
    the time (it was never proposed without new_choices, as the source never saw
    it), and that without added choices the proposals are unchanged."""
    previous, after = _with_added_choice()
    mapping = Mapping(renames={"x": "width"})

    def share_of_c(**options: Any) -> float:
        sampler = Auto(after, previous, mapping=mapping, seed=3, **options)
        source = sampler.sources[0]
        assert source.model == options.get("source_model", source.model)
        picks = [
            sampler._source_proposal(source, []).config["k"]  # type: ignore[union-attr]
            for _ in range(300)
        ]
        return picks.count("c") / len(picks)

    # A GP's uncertainty would draw it to c every time; outside c's share it
    # takes the old choice it predicts best.
    for model in ("tpe", "gp"):
        assert 0.25 < share_of_c(source_model=model) < 0.42
    assert share_of_c(source_model="tpe", new_choices=False) < 0.05

    plain = Auto(SPACE, previous_trials(bowl), seed=5)
    other = Auto(SPACE, previous_trials(bowl), seed=5, new_choices=False)
    assert run(plain, bowl, 12) == run(other, bowl, 12)
    assert plain._y_cur.tolist() == other._y_cur.tolist()


def test_added_choice_of_a_categorical_the_source_never_varied_is_drawn_once() -> None:
    """Check that a categorical the source does not model (one value in every
    previous trial) keeps its plain random draw: the added choice b gets half of
    the proposals, not an extra share on top of the random one."""
    before = build_space({"x": (0.0, 1.0), "k": ["a"]})
    rng = np.random.default_rng(1)
    configs = tuple({"x": float(x), "k": "a"} for x in rng.random(20))
    previous = PreviousTrials(before, configs, tuple(c["x"] for c in configs))
    after = build_space({"x": (0.0, 1.0), "k": ["a", "b"]})
    sampler = Auto(after, previous, seed=2)
    source = sampler.sources[0]
    assert "k" not in source.names and sampler.added_choices
    picks = [
        sampler._source_proposal(source, []).config["k"]  # type: ignore[union-attr]
        for _ in range(400)
    ]
    assert 0.4 < picks.count("b") / len(picks) < 0.6


def test_study_after_a_one_trial_study_starts_from_its_configuration(tmp_path) -> None:
    """Check that a study whose previous study ran a single trial evaluates that
    configuration first, and that a resumed study does not propose it again."""
    url = f"sqlite:///{tmp_path / 'one.db'}"
    spec = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    create_study("v1", spec, store=url, seed=0).optimize(bowl, n_trials=1)
    v2 = create_study("v2", spec, previous="v1", store=url, seed=1)
    v2.optimize(bowl, n_trials=3)
    v1_config = load_study("v1", store=url).trials[0].config
    assert v2.trials[0].proposed_by == "auto-portfolio"
    assert v2.trials[0].config == v1_config
    resumed = load_study("v2", store=url)
    resumed.optimize(bowl, n_trials=2)
    later = [t.proposed_by for t in resumed.trials[3:]]
    assert later and "auto-portfolio" not in later


def test_source_model_is_a_gp_once_the_source_has_enough_trials() -> None:
    """Check the choice of a source's model: a GP from 2 (k + 1) trials over k
    hyperparameters (and at least 8), TPE below, and the option forcing either."""
    assert Auto(SPACE, previous_trials(bowl, n=30), seed=0).sources[0].model == "gp"
    assert Auto(SPACE, previous_trials(bowl, n=7), seed=0).sources[0].model == "tpe"
    forced = Auto(SPACE, previous_trials(bowl, n=30), seed=0, source_model="tpe")
    assert forced.sources[0].model == "tpe"
    assert [choose_model(n, 2) for n in (7, 8)] == ["tpe", "gp"]
    assert [choose_model(n, 6) for n in (13, 14)] == ["tpe", "gp"]
    with pytest.raises(ValueError, match="source_model must be one of auto, tpe, gp"):
        Auto(SPACE, previous_trials(bowl), seed=0, source_model="forest")


def test_gp_source_proposes_near_the_previous_optimum_and_learns() -> None:
    """Check that a GP source's proposals before the current model exists are
    better than random ones on an unchanged objective, and that its data grow
    with every current result (it learns them at their quantile)."""
    sampler = Auto(SPACE, previous_trials(bowl, n=30), seed=4, source_model="gp")
    source = sampler.sources[0]
    labels = run(sampler, bowl, 8)
    assert labels[0] == "auto-portfolio"
    mine = [
        v
        for v, label in zip(sampler._y_cur, labels, strict=True)
        if label == "auto-prior"
    ]
    assert mine and float(np.median(mine)) < 0.05  # random: median about 0.3
    assert len(source.prior.y) == 30 + 8


def test_a_gp_source_is_fitted_on_at_most_a_random_subset_of_trials() -> None:
    """Check that the GP of a source with many trials is fitted on at most
    _GP_MAX_TRIALS of them, drawn the same way for the same seed."""
    configs = [{"x": i / 500, "y": 0.5} for i in range(500)]
    values = [bowl(c) for c in configs]
    kept, kept_values = _at_most(configs, values, _GP_MAX_TRIALS, 7)
    assert len(kept) == _GP_MAX_TRIALS
    assert kept == _at_most(configs, values, _GP_MAX_TRIALS, 7)[0]
    assert [bowl(c) for c in kept] == kept_values
    assert _at_most(configs[:10], values[:10], _GP_MAX_TRIALS, 7)[0] == configs[:10]
    big = PreviousTrials(SPACE, tuple(configs), tuple(values), study="big")
    sampler = Auto(SPACE, big, seed=0, source_model="gp")
    assert len(sampler.sources[0].prior.y) == _GP_MAX_TRIALS


def test_without_bandit_a_lone_portfolio_entry_then_plain_tpe() -> None:
    """Check that bandit=False with a previous study of one usable trial (no
    source) proposes that trial first and then random configurations."""
    previous = PreviousTrials(SPACE, ({"x": 0.25, "y": 0.75},), (0.1,), study="prev")
    labels = run(Auto(SPACE, previous, seed=0, bandit=False), bowl, 4)
    assert labels == ["auto-portfolio", "random", "random", "random"]


def test_tied_values_beyond_the_first_two_count_as_bad() -> None:
    """Check that among the best current trials, those sharing a value beyond the
    first ``ties`` of them move behind the good set (into the bad one), and that
    distinct values keep their order."""
    y = np.array([0.2, 0.1, 0.1, 0.1, 0.3, 0.1, 0.25])
    order = np.argsort(y, kind="stable")

    assert TIES == 2
    assert _fewer_ties(order, y, 2, 3).tolist() == [1, 2, 0, 3, 5, 6, 4]
    assert _fewer_ties(order, y, 5, 3).tolist() == order.tolist()


def test_ties_move_the_model_off_a_plateau_it_has_mapped() -> None:
    """Check that on an objective whose previous best region is a flat plateau,
    with a better basin elsewhere, auto proposes fewer configurations on the
    plateau once it has mapped it when tied trials beyond the first two count as
    bad (the default) than when all of them are good (ties=None, as TPE)."""

    def plateau(c: dict) -> float:
        if c["x"] < 0.4:
            return 0.2
        return 0.1 + 2 * ((c["x"] - 0.8) ** 2 + (c["y"] - 0.8) ** 2)

    def share_on_plateau(ties: int | None) -> float:
        shares = []
        for seed in range(8):
            rng = np.random.default_rng(seed)
            configs = tuple(
                {"x": float(a) * 0.45, "y": float(b)} for a, b in rng.random((20, 2))
            )
            values = tuple(plateau(c) + 0.001 * i for i, c in enumerate(configs))
            previous = PreviousTrials(SPACE, configs, values, study="prev")
            sampler = Auto(SPACE, previous, seed=seed, ties=ties)
            xs = []
            for _ in range(60):
                config = sampler.ask().config
                sampler.tell(config, plateau(config))
                xs.append(config["x"])
            shares.append(float(np.mean(np.array(xs[20:]) < 0.4)))
        return float(np.mean(shares))

    assert share_on_plateau(TIES) < share_on_plateau(None) - 0.03


@pytest.mark.parametrize("ties", [0, -1, 1.5, True])
def test_ties_must_be_a_positive_number_of_trials(ties: object) -> None:
    """Check that a ties option that is no positive int is a clear error."""
    with pytest.raises(ValueError, match="ties must be an int number of trials >= 1"):
        Auto(SPACE, previous_trials(bowl), ties=ties)  # type: ignore[arg-type]


def test_a_source_below_the_floor_proposes_nothing_more_before_the_model() -> None:
    """Check that once the previous best ranks among the worse previous values
    (P(relevant) below the floor), the source proposes nothing more in the
    initial phase, where floor=0 still gives it the bandit's second chances; a
    source that stays relevant keeps proposing."""
    floored, unfloored = [], []
    for seed in range(5):
        sampler = Auto(SPACE, previous_trials(bowl), seed=seed)
        floored += run(sampler, moved, sampler.n_init)
        assert sampler.relevance(sampler.sources[0]) < sampler.floor == 0.3
        loose = Auto(SPACE, previous_trials(bowl), seed=seed, floor=0.0)
        unfloored += run(loose, moved, loose.n_init)
    relevant = Auto(SPACE, previous_trials(bowl), seed=0)
    kept = run(relevant, bowl, relevant.n_init)

    assert floored.count("auto-portfolio") == 5 and "auto-prior" not in floored
    assert unfloored.count("auto-prior") >= 2
    assert kept.count("auto-prior") >= 3


@pytest.mark.parametrize("bandwidth", [0, 1.5, 10**400])
def test_prior_min_bandwidth_must_lie_in_the_unit_scaled_space(bandwidth) -> None:
    """Check that a bandwidth floor above 1 (or a number no float holds) is
    refused when the options are checked, not at a later proposal."""
    with pytest.raises(ValueError, match="prior_min_bandwidth must be a number > 0"):
        Auto(SPACE, previous_trials(bowl), prior_min_bandwidth=bandwidth)


@pytest.mark.parametrize("floor", [-0.1, 1.0, "0.3", True])
def test_floor_must_be_a_probability_below_one(floor) -> None:
    """Check that a floor outside [0, 1) or not a number is refused."""
    with pytest.raises(ValueError, match="floor must be"):
        Auto(SPACE, previous_trials(bowl), floor=floor)


def test_floor_waits_for_a_source_s_first_results() -> None:
    """Check that a prior relevance below the floor does not silence a source
    before it has any result: the floor acts on what the results say."""
    labels = []
    for seed in range(4):
        sampler = Auto(
            SPACE, previous_trials(bowl), seed=seed, prior_relevance=0.25, portfolio=0
        )
        labels += run(sampler, bowl, sampler.n_init)

    assert "auto-prior" in labels


def test_a_vanishing_prior_relevance_does_not_overflow() -> None:
    """Check that an extreme prior relevance gives a relevance of about 0, not
    an overflow at every proposal."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=0, prior_relevance=1e-320)

    labels = run(sampler, moved, 4)

    assert sampler.relevance(sampler.sources[0]) == pytest.approx(0.0, abs=1e-300)
    assert labels[0] == "auto-portfolio"


def test_a_source_below_the_floor_does_not_propose_in_another_s_place() -> None:
    """Check that when the source drawn is one without results and another source
    with results below the floor has the same P(relevant), the drawn one
    proposes: the choice goes by source, not by its probability."""
    older = Auto(SPACE, previous_trials(bowl, seed=1), seed=0).projection
    sampler = Auto(
        SPACE,
        previous_trials(bowl),
        seed=0,
        ancestors=[("older", older)],
        prior_relevance=0.25,
        portfolio=0,
    )
    near, far = sampler.sources
    # A result of values the source did not choose (share 0): no evidence.
    near.values.append(0.5)
    near.rates.append(4.0)
    near.shares.append(0.0)
    assert sampler.relevance(near) == sampler.relevance(far) < sampler.floor

    labels = [sampler.ask().proposed_by for _ in range(40)]

    assert "auto-prior" not in labels
    assert "auto-prior-2" in labels


def _labels_and_stalls(sampler: Auto, f, n: int) -> list[tuple[str, int]]:
    """(label, finished trials since the best so far) of each of n proposals."""
    out, values = [], []
    for _ in range(n):
        proposal = sampler.ask()
        stall = len(values) - 1 - int(np.argmin(values)) if values else 0
        out.append((proposal.proposed_by, stall))
        value = f(proposal.config)
        sampler.tell(proposal.config, value)
        values.append(value)
    return out


def test_local_proposals_come_only_after_a_stall_and_take_their_share() -> None:
    """Check that no proposal is local before ``local`` trials have passed
    without a better value, that about 30 % are once they have, and that
    local=None never proposes locally."""
    stalled_labels = []
    for seed in range(4):
        sampler = Auto(SPACE, previous_trials(bowl), seed=seed, local=5)
        for label, stall in _labels_and_stalls(sampler, moved, 120):
            if stall < 5 or label in ("auto-portfolio", "auto-prior"):
                assert label != "auto-local"
            else:
                stalled_labels.append(label)
    share = stalled_labels.count("auto-local") / len(stalled_labels)
    assert len(stalled_labels) > 100 and 0.2 < share < 0.4, share
    off = Auto(SPACE, previous_trials(bowl), seed=0, local=None)
    assert "auto-local" not in {
        label for label, _ in _labels_and_stalls(off, moved, 120)
    }


def _needle(c: dict) -> float:
    """A broad bowl whose bottom holds a narrow, deeper well."""
    broad = (c["x"] - 0.3) ** 2 + (c["y"] - 0.6) ** 2
    well = 0.05 * math.exp(-(((c["x"] - 0.33) ** 2 + (c["y"] - 0.58) ** 2) / 2e-4))
    return broad - well


def test_local_proposals_refine_an_incumbent_the_model_keeps_missing() -> None:
    """Check that after a stall the local proposals find values the model's
    proposals alone do not: over a few seeds, a narrow well next to the
    incumbent is reached more often and the final best is lower."""
    with_local, without = [], []
    for seed in range(6):
        for local, out in ((20, with_local), (None, without)):
            sampler = Auto(SPACE, previous_trials(bowl), seed=seed, local=local)
            values: list[float] = []
            for _ in range(100):
                config = sampler.ask().config
                values.append(_needle(config))
                sampler.tell(config, values[-1])
            out.append(min(values))
    assert np.mean(with_local) < np.mean(without)
    assert sum(v < -0.005 for v in with_local) >= sum(v < -0.005 for v in without) + 2


@pytest.mark.parametrize("local", [0, -3, 2.5, True, "20"])
def test_local_must_be_a_positive_number_of_trials(local: object) -> None:
    with pytest.raises(ValueError, match="local must be an int number of trials >= 1"):
        Auto(SPACE, previous_trials(bowl), local=local)  # type: ignore[arg-type]


@pytest.mark.parametrize("option", ["local", "ties", "portfolio"])
def test_a_whole_float_count_is_refused_with_the_int_to_pass(option: str) -> None:
    with pytest.raises(ValueError, match=r"got 20\.0 \(pass 20, an int\)"):
        Auto.check_options({option: 20.0})
    with pytest.raises(ValueError) as refused:
        Auto.check_options({option: 2.5})
    assert "pass" not in str(refused.value)


def test_a_resumed_study_proposes_locally_as_the_live_one_would(tmp_path) -> None:
    """Check that local proposals survive a resume: the stall is counted on the
    restored trials, and a resumed study keeps proposing locally."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    v1 = create_study("v1", space={"x": (0.0, 1.0), "y": (0.0, 1.0)}, store=url, seed=0)
    v1.optimize(lambda c: bowl(c), n_trials=20)
    v2 = create_study(
        "v2",
        space={"x": (0.0, 1.0), "y": (0.0, 1.0)},
        store=url,
        previous="v1",
        seed=1,
        transfer_options={"local": 5},
    )
    v2.optimize(lambda c: moved(c), n_trials=60)
    labels = [t.proposed_by for t in v2.trials]
    assert "auto-local" in labels
    resumed = load_study("v2", store=url)
    assert list(resumed.sampler._y_cur) == list(v2.sampler._y_cur)
    resumed.optimize(lambda c: moved(c), n_trials=40)
    assert "auto-local" in [t.proposed_by for t in resumed.trials[60:]]


def _fails_in_places(c: dict) -> float:
    if c["x"] > 0.6:
        raise RuntimeError("diverged")
    if c["y"] > 0.7:
        return math.nan
    if c["c"] == "a" and c["x"] < 0.1:
        return math.inf
    return (c["x"] - 0.35) ** 2 + (c["y"] - 0.2) ** 2


@pytest.mark.parametrize("seed", [0, 1])
def test_a_source_stops_proposing_where_configurations_fail(tmp_path, seed) -> None:
    """Check that the source's model learns that its proposals failed and the
    bandit counts the failures. With these seeds, before, 98 and 94 of 100
    trials failed: the source's first results ranked well, P(relevant) stayed
    at 0.99, the source kept proposing where trials fail, and with too few
    finished trials the current model never started."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = {"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]}
    v1 = create_study("v1", space, store=url, seed=seed)
    v1.optimize(_fails_in_places, n_trials=20)
    v2 = create_study("v2", space, store=url, previous="v1", seed=seed)
    v2.optimize(_fails_in_places, n_trials=100)
    failed = sum(t.value is None for t in v2.trials)
    assert failed < 40, failed


def test_each_failure_of_a_source_proposal_halves_its_odds() -> None:
    """Check that two failed source proposals, with no random result yet (a
    failure rate of one half expected), cost the odds one halving, and that
    the source's model learned both as its worst value."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=0, bandit=False)
    source = sampler.sources[0]
    before = sampler.evidence(source)
    for value in (None, None):
        proposal = sampler.ask()
        assert proposal.proposed_by in ("auto-portfolio", "auto-prior")
        sampler.tell(proposal.config, value)
    assert sampler.evidence(source) == pytest.approx(before + math.log(0.5))
    assert list(source.prior.y[-2:]) == [1.0, 1.0]


@pytest.mark.parametrize(
    ("mine", "theirs", "excess"),
    [
        ([math.inf, 0.1, 0.2, 0.3], [0.5, 0.6], 1 - 4 / 4),  # rate 1/4: none
        ([math.inf, math.inf, 0.1, 0.2], [0.5, 0.6], 2 - 4 / 4),
        ([math.inf, math.inf, 0.1, 0.2], [math.inf, math.inf, 0.5, 0.6], 0.0),
        ([math.inf] * 6, [0.5] * 8, 6 - 6 / 10),
    ],
)
def test_failures_count_only_beyond_the_random_proposals_rate(
    monkeypatch, mine, theirs, excess
) -> None:
    """Check that failures that strike random proposals as often (an outage,
    a flaky cluster) cost a source nothing, and each one beyond that rate
    halves its odds."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=0)
    source = sampler.sources[0]
    source.values[:] = mine
    source.rates[:] = [PRIOR_RATE] * len(mine)
    source.shares[:] = [1.0] * len(mine)
    sampler._random_values[:] = theirs
    counted = sampler.evidence(source)
    monkeypatch.setattr("hptaa_lab.transfer._auto.FAILURE_RATIO", 1.0)
    ignored = sampler.evidence(source)
    assert counted - ignored == pytest.approx(max(excess, 0.0) * math.log(0.5))


def test_after_a_misleading_source_random_proposals_avoid_its_good_region() -> None:
    """Check that once the source fell below the floor and its ranking of the
    current trials is upside down, the random proposals (labelled auto-avoid)
    are the candidates its model rates worst: farther from the previous
    optimum than plain random ones."""

    def distances(avoid: int | None) -> tuple[list[float], list[str]]:
        found, labels = [], []
        for seed in range(6):
            sampler = Auto(SPACE, previous_trials(bowl), seed=seed, avoid=avoid)
            for _ in range(sampler.n_init):
                proposal = sampler.ask()
                labels.append(proposal.proposed_by)
                if proposal.proposed_by == ("auto-avoid" if avoid else "random"):
                    c = proposal.config
                    found.append(math.hypot(c["x"] - 0.2, c["y"] - 0.3))
                sampler.tell(proposal.config, upside_down(proposal.config))
        return found, labels

    plain, plain_labels = distances(None)
    avoiding, labels = distances(3)

    assert "auto-avoid" not in plain_labels
    assert labels.count("auto-avoid") >= 12 and "auto-prior" not in labels
    assert np.mean(avoiding) > np.mean(plain) + 0.07


def test_a_relevant_source_leaves_random_proposals_plain() -> None:
    """Check that avoid changes nothing while the source stays relevant: its
    proposals go on, and the model's random share stays plain random."""
    labels = []
    for seed in range(3):
        sampler = Auto(SPACE, previous_trials(bowl), seed=seed, avoid=3)
        labels += run(sampler, bowl, 20)

    assert "auto-avoid" not in labels and "random" in labels


def test_a_source_misleads_only_when_its_ranking_is_upside_down() -> None:
    """Check the rule: a source below the floor misleads only when its score of
    the current trials rises with their values (what it rates best does worst
    now); one whose ranking still holds, or with fewer than AVOID_MIN trials,
    does not."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=0, prior_relevance=0.01)
    source = sampler.sources[0]
    source.values.append(1.0)
    source.rates.append(PORTFOLIO_RATE)
    source.shares.append(1.0)
    assert sampler.relevance(source) < sampler.floor
    near, far = {"x": 0.2, "y": 0.3}, {"x": 0.9, "y": 0.9}
    sampler._tell(near, bowl(near))
    assert sampler.agreement(source) == 0.0  # one trial: nothing to read
    sampler._tell(far, bowl(far))

    assert sampler.agreement(source) == pytest.approx(-1.0)
    assert sampler._misleading() is None

    inverted = Auto(SPACE, previous_trials(bowl), seed=0, prior_relevance=0.01)
    flipped = inverted.sources[0]
    flipped.values.append(1.0)
    flipped.rates.append(PORTFOLIO_RATE)
    flipped.shares.append(1.0)
    inverted._tell(near, moved(near))
    inverted._tell(far, moved(far))

    assert inverted.agreement(flipped) == pytest.approx(1.0)
    assert inverted.agreement(flipped) >= AVOID_RHO
    assert inverted._misleading() is flipped


@pytest.mark.parametrize("avoid", [0, 2.0, "3", True, 65, 10**30])
def test_avoid_must_be_a_positive_int(avoid: object) -> None:
    """Check that avoid takes an int number of candidates from 1 to 64, or None
    (a huge one made each proposal take seconds)."""
    with pytest.raises(ValueError, match="avoid must be an int number of random"):
        Auto(SPACE, previous_trials(bowl), avoid=avoid)


def test_a_resumed_study_counts_avoiding_proposals_as_random_evidence(
    tmp_path,
) -> None:
    """Check that restoring a trial labelled auto-avoid credits its value to the
    random proposals, as it was when the study ran."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=0, avoid=3)
    sampler.restore({"x": 0.9, "y": 0.9}, 0.5, "auto-avoid")

    assert sampler._random_values == [0.5]


def test_trials_kept_at_a_bound_are_logged_for_every_study_of_a_chain(
    caplog, tmp_path
) -> None:
    """Check that the trials moved to a narrowed bound (the range shrank away
    from the best previous values) are counted per study of the chain, ancestors
    too (only the previous study's were logged)."""
    from hptaa_lab import create_study

    url = f"sqlite:///{tmp_path / 's.db'}"
    v1 = create_study("v1", {"a": (0.0, 1.0)}, store=url, sampler="random", seed=0)
    v1.optimize(lambda c: 1.0 - c["a"], n_trials=12)
    v2 = create_study(
        "v2",
        {"alpha": (0.0, 1.0)},
        previous="v1",
        mapping={"renames": {"a": "alpha"}},
        store=url,
        seed=1,
    )
    v2.optimize(lambda c: 1.0 - c["alpha"], n_trials=10)

    with caplog.at_level("INFO", logger="hptaa_lab.transfer"):
        create_study(
            "v3",
            {"lr": (0.0, 0.3)},
            previous="v2",
            mapping={"renames": {"alpha": "lr"}},
            store=url,
            seed=2,
        ).ask()

    for study, name, trials in (("v2", "alpha", v2.trials), ("v1", "a", v1.trials)):
        beyond = sum(t.config[name] > 0.3 for t in trials)
        assert 0 < beyond < len(trials)
        assert (
            f"auto: {beyond} of the {len(trials)} trials kept from {study} lay outside "
            "a narrowed or shifted range" in caplog.text
        )


def test_projection_drops_are_logged_per_study_of_a_chain(caplog, tmp_path) -> None:
    """Check that the projection's count of dropped trials names whose trials
    they are, along a chain (two lines read alike: "projection kept 7 of 15
    previous trials")."""
    from hptaa_lab import create_study

    url = f"sqlite:///{tmp_path / 's.db'}"
    v1 = create_study("v1", {"a": (0.0, 1.0)}, store=url, sampler="random", seed=0)
    v1.optimize(lambda c: c["a"], n_trials=12)
    create_study("v2", {"a": (0.0, 1.0)}, previous="v1", store=url, seed=1).optimize(
        lambda c: c["a"], n_trials=10
    )

    with caplog.at_level("INFO", logger="hptaa_lab.space"):
        create_study("v3", {"a": (0.0, 0.3)}, previous="v2", store=url, seed=2)

    assert re.search(r"projection kept \d+ of 10 trials of v2; first drop", caplog.text)
    assert re.search(
        r"projection kept \d+ of 12 trials of v1 \(into the current space\); first",
        caplog.text,
    )
