"""Edge cases of the auto transfer method: odd objective values, odd previous
studies, conditions, restarts, bad options, pending trials and workers.

Several of these found defects when they were written (a shift of the whole
scale, all-equal previous values, a parent the previous study lacked, a crashed
trial, ties, unchecked options); they guard the fixes.
"""

from __future__ import annotations

import itertools
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import ConfigSpace as CS
import numpy as np
import pytest

from hptaa_lab import Study, TrialState, create_study, load_study
from hptaa_lab.samplers import config_key
from hptaa_lab.space import build_space
from hptaa_lab.transfer import Auto, PreviousTrials

from .test_auto import previous_trials, run

# The objectives travel to Dask workers by value (see tests/execution/test_dask.py).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

SPEC: dict[str, Any] = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
SPACE = build_space(SPEC)
# The previous study lacked ``opt``: x is active only with opt == "a".
CONDITIONAL: dict[str, Any] = {
    "opt": ["a", "b", "c"],
    "x": {"float": (0.0, 1.0), "if": {"opt": "a"}},
    "z": {"float": (0.0, 1.0), "if": {"opt": ["b", "c"]}},
    "y": (0.0, 1.0),
}
Objective = Callable[[dict[str, Any]], Any]


def bowl(c: dict[str, Any]) -> float:
    return (c["x"] - 0.2) ** 2 + (c["y"] - 0.3) ** 2


def moved(c: dict[str, Any]) -> float:
    """The bowl moved to the far corner: the previous best region is poor now."""
    return (c["x"] - 0.9) ** 2 + (c["y"] - 0.9) ** 2


def conditional_bowl(c: dict[str, Any]) -> float:
    """Still the bowl with opt == "a"; the other choices are worse."""
    rest = (c["x"] - 0.2) ** 2 if c["opt"] == "a" else 0.3 + c["z"]
    return (c["y"] - 0.3) ** 2 + rest


def raises(c: dict[str, Any]) -> float:
    raise RuntimeError("the objective broke")


def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'edges.db'}"


def previous_study(url: str, n: int = 12, f: Objective = bowl) -> Study:
    study = create_study("v1", SPEC, store=url, seed=0)
    return study.optimize(f, n_trials=n)


def auto_of(study: Study) -> Auto:
    assert isinstance(study.sampler, Auto)
    return study.sampler


def n_duplicates(study: Study) -> int:
    keys = [config_key(t.config) for t in study.trials]
    return len(keys) - len(set(keys))


def snapshot(sampler: Auto) -> list[tuple[Any, ...]]:
    """What a restart must keep: per source its relevance, the length of its
    model's data, its values, rates and shares; the random values; the portfolio
    left. Order-free: parallel trials finish, and are told, in any order."""
    sources = [
        (
            s.name,
            round(sampler.relevance(s), 9),
            len(s.prior.y),
            sorted(zip(s.values, s.rates, s.shares, strict=True)),
        )
        for s in sampler.sources
    ]
    return [*sources, (sorted(sampler._random_values), len(sampler._portfolio))]


# -- objective values ----------------------------------------------------------


@pytest.mark.parametrize(
    "objective",
    [lambda c: math.nan, lambda c: math.inf, lambda c: -math.inf, raises],
    ids=["nan", "inf", "-inf", "raises"],
)
def test_every_trial_failing_leaves_auto_proposing_fresh_configurations(
    tmp_path: Path, objective: Objective
) -> None:
    """Check that an objective that returns NaN or +-inf, or raises, fails every
    trial, the study goes on with distinct configurations, the source's model
    learns each failure as its worst value (quantile 1) and no failure reaches
    the current model."""
    url = store_url(tmp_path)
    previous_study(url)
    study = create_study("v2", SPEC, previous="v1", store=url, seed=1)
    study.optimize(objective, n_trials=10)

    assert [t.state for t in study.trials] == [TrialState.FAIL] * 10
    assert n_duplicates(study) == 0
    sampler = auto_of(study)
    learned = sampler.sources[0].prior.y
    assert len(learned) == 12 + 10 and list(learned[12:]) == [1.0] * 10
    assert len(sampler._y_cur) == 0
    assert 0.0 <= sampler.relevance(sampler.sources[0]) <= 1.0


def test_mixed_odd_values_only_finite_results_reach_the_models(tmp_path: Path) -> None:
    """Check that with NaN, +-inf, huge values, a string and exceptions mixed in,
    only the complete trials join the current model, and the source's model
    learns the failures as its worst value."""
    url = store_url(tmp_path)
    previous_study(url)
    odd = itertools.cycle([math.nan, None, math.inf, 1e308, -math.inf, None, "0.1"])

    def objective(c: dict[str, Any]) -> Any:
        value = next(odd)
        if value is None:
            return bowl(c)
        if value == 1e308:
            raise ValueError("odd")
        return value

    study = create_study("v2", SPEC, previous="v1", store=url, seed=2)
    study.optimize(objective, n_trials=21)

    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 6
    assert n_duplicates(study) == 0
    sampler = auto_of(study)
    learned = sampler.sources[0].prior.y
    assert len(learned) == 12 + 21
    assert np.all(np.isfinite(learned)) and np.count_nonzero(learned[12:] < 1.0) <= 6
    assert len(sampler._y_cur) == len(complete)


@pytest.mark.parametrize(
    "objective",
    [
        lambda c: 1e300 * (1.0 + bowl(c)),
        lambda c: -1e300 * (1.0 + bowl(c)),
        lambda c: 0.5,
    ],
    ids=["huge", "-huge", "all-equal"],
)
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_huge_or_equal_values_complete_without_duplicates(
    tmp_path: Path, objective: Objective, direction: str
) -> None:
    """Check that huge values of either sign, or one value for every trial, in
    either direction, complete every trial with distinct configurations and a
    relevance that is a probability."""
    url = store_url(tmp_path)
    previous_study(url)
    study = create_study(
        "v2", SPEC, previous="v1", store=url, seed=3, direction=direction
    )
    study.optimize(objective, n_trials=14)

    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert n_duplicates(study) == 0
    sampler = auto_of(study)
    assert 0.0 <= sampler.relevance(sampler.sources[0]) <= 1.0
    assert len(sampler.sources[0].prior.y) == 12 + 14


# -- odd previous studies ------------------------------------------------------


def test_previous_study_of_two_trials_is_a_usable_source() -> None:
    """Check that two previous trials make a source (one good, one bad) that
    proposes, and that auto runs past the point where its model exists."""
    sampler = Auto(SPACE, previous_trials(bowl, n=2), seed=0)
    assert len(sampler.sources) == 1
    labels = run(sampler, bowl, 14)
    assert labels[0] == "auto-portfolio"
    assert len(sampler.sources[0].prior.y) == 2 + 14


def test_previous_study_without_complete_trials_means_plain_tpe(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a previous study whose trials all failed leaves auto warning and
    tuning with plain TPE."""
    url = store_url(tmp_path)
    previous_study(url, n=4, f=raises)
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.transfer._auto"):
        study = create_study("v2", SPEC, previous="v1", store=url, seed=0)
    assert auto_of(study).fallback
    assert "tuning with plain tpe" in caplog.text
    study.optimize(bowl, n_trials=5)
    assert {t.proposed_by for t in study.trials} <= {"random", "tpe"}


def test_chain_skips_a_direct_previous_study_whose_trials_all_failed(
    tmp_path: Path,
) -> None:
    """Check that when every trial of the direct previous study failed, auto
    transfers from the older study of the chain."""
    url = store_url(tmp_path)
    previous_study(url)
    create_study("v2", SPEC, previous="v1", store=url, seed=0).optimize(
        raises, n_trials=3
    )
    v3 = create_study("v3", SPEC, previous="v2", store=url, seed=0)
    assert [s.name for s in auto_of(v3).sources] == ["v1"]
    v3.optimize(bowl, n_trials=6)
    assert v3.trials[0].proposed_by == "auto-portfolio"


# -- conditions ----------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_new_parent_condition_gives_valid_distinct_configurations(
    tmp_path: Path, seed: int
) -> None:
    """Check that when the current space adds a categorical parent the previous
    study lacked, every proposal is a valid configuration of the current space
    (children active only with their parent's choices) and none repeats."""
    url = store_url(tmp_path)
    previous_study(url)
    study = create_study("v2", CONDITIONAL, previous="v1", store=url, seed=seed)
    assert auto_of(study).sources[0].names == ["y", "x"]
    study.optimize(conditional_bowl, n_trials=16)

    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert n_duplicates(study) == 0
    for trial in study.trials:
        CS.Configuration(study.space, values=trial.config).check_valid_configuration()


# -- restarts ------------------------------------------------------------------


@pytest.mark.parametrize("half", [1, 3, 6, 9])
def test_resume_keeps_the_evidence_and_the_source_models(
    tmp_path: Path, half: int
) -> None:
    """Check that load_study halfway rebuilds the same evidence, relevance, source
    model data and remaining portfolio as the study had before the restart,
    during the portfolio, the bandit and the model phase."""
    url = store_url(tmp_path)
    previous_study(url)
    study = create_study("v2", SPEC, previous="v1", store=url, seed=3, transfer="auto")
    study.optimize(bowl, n_trials=half)

    resumed = load_study("v2", store=url)
    assert snapshot(auto_of(resumed)) == snapshot(auto_of(study))
    resumed.optimize(bowl, n_trials=4)
    assert n_duplicates(resumed) == 0
    assert len(auto_of(resumed).sources[0].prior.y) == 12 + half + 4


def test_resume_with_failed_trials_keeps_the_evidence(tmp_path: Path) -> None:
    """Check the same with every other trial failed."""
    url = store_url(tmp_path)
    previous_study(url)
    calls = itertools.count()

    def objective(c: dict[str, Any]) -> float:
        if next(calls) % 2:
            raise RuntimeError("flaky")
        return moved(c)

    study = create_study("v2", SPEC, previous="v1", store=url, seed=1)
    study.optimize(objective, n_trials=8)
    resumed = load_study("v2", store=url)
    assert snapshot(auto_of(resumed)) == snapshot(auto_of(study))


# -- options -------------------------------------------------------------------


@pytest.mark.parametrize("prior", [-0.5, math.nan, math.inf])
def test_prior_relevance_that_is_no_probability_is_refused(prior: float) -> None:
    """Check that a negative, NaN or infinite prior relevance is refused."""
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        Auto(SPACE, previous_trials(bowl), prior_relevance=prior)


def test_empty_portfolio_starts_with_the_bandit() -> None:
    """Check that portfolio=0 evaluates no previous configuration again and the
    source still proposes."""
    sampler = Auto(SPACE, previous_trials(bowl), portfolio=0, seed=0)
    labels = run(sampler, bowl, 8)
    assert "auto-portfolio" not in labels
    assert "auto-prior" in labels


def test_prior_relevance_error_names_the_real_default() -> None:
    """Check that the message for a bad prior_relevance names the default that
    Auto really uses (0.85)."""
    with pytest.raises(ValueError, match=r"0\.85 is the default"):
        Auto(SPACE, previous_trials(bowl), prior_relevance=2.0)


@pytest.mark.parametrize("calibrate", [-1.0, math.nan])
def test_negative_or_nan_calibrate_is_refused(calibrate: float) -> None:
    """Check that calibrate below 0 or NaN is an error naming calibrate, not a
    silent way to turn the calibration off."""
    with pytest.raises(ValueError, match="calibrate"):
        Auto(SPACE, previous_trials(bowl), calibrate=calibrate)


def test_negative_portfolio_is_refused() -> None:
    """Check that a negative portfolio size is an error naming portfolio, not a
    silent 0."""
    with pytest.raises(ValueError, match="portfolio"):
        Auto(SPACE, previous_trials(bowl), portfolio=-2)


# -- pending trials and workers ------------------------------------------------


def test_pending_proposals_are_distinct_and_each_credited_once() -> None:
    """Check that with up to four trials pending, told out of order, proposals are
    distinct and every one is credited once: to its source or to random ones."""
    sampler = Auto(SPACE, previous_trials(bowl), portfolio=3, seed=0)
    pending: list[dict[str, Any]] = []
    proposals = []
    for i in range(24):
        proposal = sampler.ask(pending)
        proposals.append(proposal)
        pending.append(proposal.config)
        if len(pending) > 4:
            config = pending.pop(i % 3)
            sampler.tell(config, bowl(config))
    for config in pending:
        sampler.tell(config, bowl(config))

    assert len({config_key(p.config) for p in proposals}) == 24
    assert sampler._origin == {}
    labels = [p.proposed_by for p in proposals]
    from_source = labels.count("auto-portfolio") + labels.count("auto-prior")
    assert len(sampler.sources[0].values) == from_source
    assert len(sampler._random_values) == labels.count("random")


def test_exhausted_discrete_space_keeps_proposing() -> None:
    """Check that in a space of four configurations auto proposes each of them
    before repeating one, and keeps answering with all of them pending."""
    space = build_space({"a": ["p", "q"], "b": {"ordinal": [1, 2]}})
    configs = ({"a": "p", "b": 1}, {"a": "q", "b": 2}, {"a": "q", "b": 1})
    previous = PreviousTrials(space, configs, (0.1, 0.5, 0.3), study="prev")
    sampler = Auto(space, previous, seed=0)
    proposals = []
    for _ in range(6):
        proposal = sampler.ask()
        proposals.append(config_key(proposal.config))
        sampler.tell(proposal.config, float(proposal.config["b"]))
    assert len(set(proposals[:4])) == 4
    pending: list[dict[str, Any]] = []
    for _ in range(5):
        pending.append(sampler.ask(pending).config)


def test_two_workers_run_auto_without_duplicates(tmp_path: Path) -> None:
    """Check that auto with two Dask workers (on 127.0.0.1) and a failing trial
    proposes distinct configurations, credits every trial, and resumes with the
    same evidence."""
    url = store_url(tmp_path)
    previous_study(url)
    study = create_study("v2", SPEC, previous="v1", store=url, seed=0)
    study.optimize(_bowl_failing_far_right, n_trials=10, workers=2)

    assert len(study.trials) == 10
    assert n_duplicates(study) == 0
    sampler = auto_of(study)
    assert sampler._origin == {}
    labels = [t.proposed_by for t in study.trials]
    source = labels.count("auto-portfolio") + labels.count("auto-prior")
    assert len(sampler.sources[0].values) == source
    assert snapshot(auto_of(load_study("v2", store=url))) == snapshot(sampler)


def _bowl_failing_far_right(c: dict[str, Any]) -> float:
    if c["x"] > 0.9:
        raise RuntimeError("far right")
    return bowl(c)


# -- defects -------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_misleading_source_is_left_when_every_current_value_beats_the_old_ones(
    seed: int,
) -> None:
    """Check that a source whose proposals lose to random ones loses trust even
    when the adjustment also lowered every objective value below the previous ones
    (the optimum moved, then the scale shifted down by 1). Every quantile among
    the previous values is then 0; the random proposals rank near the top too,
    which says the scale moved, so the calibration's good quantiles count for
    (almost) nothing and the pairs against random proposals decide. Before this
    was handled, relevance stayed about 0.99 after 30 trials."""
    sampler = Auto(SPACE, previous_trials(bowl), seed=seed)
    run(sampler, lambda c: moved(c) - 1.0, 30)
    source = sampler.sources[0]
    mine, theirs = np.array(source.values), np.array(sampler._random_values)
    assert (mine[:, None] < theirs[None, :]).mean() < 0.5  # it loses to random
    assert sampler._random_quantile(source) < 0.25  # the shift is seen
    # The pairs alone are slow evidence against a prior of 0.85: after 30 trials
    # relevance is 0.4-0.7 (it was about 0.99 before shifts were handled).
    assert sampler.relevance(source) < 0.7


def test_calibration_still_counts_when_the_scale_stays() -> None:
    """Check the other side of the shift test: without a shift, a relevant
    source stays trusted (the shift estimate is shrunk, so one or two lucky
    random configurations do not cancel the calibration)."""
    for seed in range(4):
        sampler = Auto(SPACE, previous_trials(bowl), seed=seed)
        run(sampler, bowl, 12)
        # 0.93-0.999 over these seeds (0.85 is the prior).
        assert sampler.relevance(sampler.sources[0]) > 0.9


def test_source_whose_previous_values_are_all_equal_is_not_used() -> None:
    """Check that previous trials that all had the same value (no information on
    where the good region is) make no source, as trials whose hyperparameters
    never varied make none. Otherwise the source's model would be fitted on ranks
    that only follow the trials' order, and every current value below the
    constant would read as quantile 0 (relevance ~1)."""
    sampler = Auto(SPACE, previous_trials(lambda c: 1.0), seed=1)
    assert sampler.sources == []


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_source_is_credited_only_with_configurations_that_keep_its_values(
    seed: int,
) -> None:
    """Check that when the current space adds a parent the previous study lacked,
    the portfolio entry (the source's best x, y) is evaluated with x kept, or else
    its value is not counted as the source's evidence. A parent filled at random
    ("b" or "c") used to drop x, so the previous best was never evaluated and its
    poor value counted against the source at the portfolio rate."""
    sampler = Auto(build_space(CONDITIONAL), previous_trials(bowl), seed=seed)
    best = dict(sampler._portfolio[0][1])
    proposal = sampler.ask()
    assert proposal.proposed_by == "auto-portfolio"
    sampler.tell(proposal.config, conditional_bowl(proposal.config))
    kept = all(proposal.config.get(n) == v for n, v in best.items())
    assert kept or sampler.sources[0].values == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resume_in_a_conditional_space_keeps_the_evidence(
    tmp_path: Path, seed: int
) -> None:
    """Check that a restart keeps the evidence when the current space adds a
    parent the previous study lacked (restore matches the portfolio trial by the
    source's values, which a random parent used to drop: the evidence was lost
    and the portfolio entry proposed again)."""
    url = store_url(tmp_path)
    previous_study(url, n=15)
    study = create_study("v2", CONDITIONAL, previous="v1", store=url, seed=seed)
    study.optimize(conditional_bowl, n_trials=6)
    resumed = load_study("v2", store=url)
    assert snapshot(auto_of(resumed)) == snapshot(auto_of(study))


def test_trial_left_running_by_a_crash_is_no_evidence_against_the_source(
    tmp_path: Path,
) -> None:
    """Check that a portfolio trial that never finished (the process ended while
    it ran; load_study marks it failed) does not count against the source in the
    calibration. It used to count as a value worse than every previous one at the
    portfolio rate: relevance fell from 0.85 to 0.22 and the resumed study
    proposed mostly at random although the objective was the previous one."""
    url = store_url(tmp_path)
    previous_study(url)
    study = create_study("v2", SPEC, previous="v1", store=url, seed=0)
    assert study.ask().proposed_by == "auto-portfolio"

    resumed = load_study("v2", store=url)
    sampler = auto_of(resumed)
    assert sampler.relevance(sampler.sources[0]) >= sampler.prior_relevance


def test_ties_with_random_proposals_are_neutral_evidence() -> None:
    """Check that a source proposal tying with a random one (a flat or discrete
    objective, or both failed) leaves relevance where it was. Half a win and half
    a loss would not cancel (0.5 log 1.4 + 0.5 log 0.6 < 0)."""
    sampler = Auto(SPACE, previous_trials(bowl), calibrate=0.0, seed=0)
    source = sampler.sources[0]
    before = sampler.evidence(source)
    source.values.extend([0.3, 0.3])
    source.rates.extend([4.0, 4.0])
    source.shares.extend([1.0, 1.0])
    sampler._random_values.extend([0.3, 0.3])
    assert sampler.evidence(source) == pytest.approx(before)


def test_warning_for_previous_study_without_complete_trials_blames_no_projection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Check that when the previous study has no complete trial the warning does
    not say that none survived projection ("0 dropped"): none was projected."""
    empty = PreviousTrials(SPACE, (), (), study="prev")
    with caplog.at_level(logging.WARNING, logger="hptaa_lab.transfer._auto"):
        Auto(SPACE, empty, seed=0)
    assert "tuning with plain tpe" in caplog.text
    assert "survived projection" not in caplog.text


@pytest.mark.parametrize(
    ("configs", "values", "reason"),
    [
        (({"x": 0.2, "y": 0.3},), (1.0,), "prev: 1 surviving trial(s), fewer than 2"),
        (
            ({"x": 0.2, "y": 0.3}, {"x": 0.5, "y": 0.5}),
            (1.0, 1.0),
            "prev: its 2 surviving trials are all equally good",
        ),
        (
            ({"x": 0.2, "y": 0.3}, {"x": 0.2, "y": 0.3}),
            (1.0, 2.0),
            "prev: its 2 surviving trials share no current hyperparameter that took "
            "more than one value",
        ),
    ],
)
def test_warning_for_an_unusable_previous_study_names_the_reason_that_applied(
    caplog: pytest.LogCaptureFixture,
    configs: tuple[dict[str, Any], ...],
    values: tuple[float, ...],
    reason: str,
) -> None:
    """Check that when the surviving trials cannot be learned from, the warning
    says why for this study, not every reason there could be."""
    previous = PreviousTrials(SPACE, configs, values, study="prev")

    with caplog.at_level(logging.WARNING, logger="hptaa_lab.transfer._auto"):
        sampler = Auto(SPACE, previous, seed=0)

    assert not sampler.sources
    assert f"no previous study is usable to learn from ({reason})" in caplog.text
    assert caplog.text.count("surviving trial") == 1


def test_two_workers_credit_the_portfolio_entries_they_split_alike(
    tmp_path: Path,
) -> None:
    """Check that when two workers of one study split the portfolio (the second
    skips the entry the first is evaluating), both credit both results to the
    source, as a fresh load does: their trust in it agrees."""
    url = store_url(tmp_path)
    previous_study(url)
    create_study(
        "v2", SPEC, previous="v1", store=url, seed=1, transfer_options={"portfolio": 2}
    )
    a = load_study("v2", store=url, seed=1)
    b = load_study("v2", store=url, seed=2)

    first, second = a.ask(), b.ask()
    assert first.proposed_by == second.proposed_by == "auto-portfolio"
    a.tell(first, bowl(first.config))
    b.tell(second, bowl(second.config))
    a.ask()
    b.ask()  # each takes in the other's result
    fresh = load_study("v2", store=url)

    credited = [len(auto_of(s).sources[0].values) for s in (a, b, fresh)]
    evidence = {
        round(auto_of(s).evidence(auto_of(s).sources[0]), 9) for s in (a, b, fresh)
    }
    assert credited == [2, 2, 2]
    assert len(evidence) == 1
