"""auto: hptaa_lab's own transfer method.

The study starts with a small portfolio: the best projected configuration of the
previous study and of each older study along the chain of adjustments. Until the
current model has its 2(d + 1) trials, each proposal is a bandit's choice between a
random configuration (what plain TPE does then) and a proposal of one source of
previous trials (a TPE fitted on that source's ranks, as T2PE does, which also
learns each current result at its quantile among the source's previous values). The
bandit keeps, per source, the posterior probability that the source is still
relevant and draws from it (Thompson sampling). The evidence is where the current
values of the source's proposals fall among the source's own previous values (the
previous best configuration, evaluated again, should still rank near the top; the
less of a configuration the source chose, the less its value says) and how often
they beat the current random proposals; once an evaluation says a source's
good region turned poor (P(relevant) below a floor), that source proposes nothing more
and the proposals are random, as plain TPE's; if its ranking of the current trials is
upside down, the random proposals also keep away from its good region. Afterwards the current TPE
proposes, with each trusted source's densities mixed into its good and bad densities
in proportion to the source's trials (discounted by its trust; the sources of a chain
together weigh no more than the heaviest one) against the current trials. That weight
fades as current trials accumulate, so as they do, or as trust vanishes, the method
becomes plain TPE.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ConfigSpace as CS
import numpy as np
from scipy.special import expit, logsumexp
from scipy.stats import spearmanr

from hptaa_lab.samplers import Proposal, Sampler, config_key
from hptaa_lab.samplers._base import ModelSampler
from hptaa_lab.samplers._local import local_proposal, stalled
from hptaa_lab.samplers._tpe import _KDE
from hptaa_lab.space import Mapping as SpaceMapping
from hptaa_lab.space import Projection, names_beyond, project
from hptaa_lab.transfer._base import (
    PreviousTrials,
    TransferSampler,
    prior_sampler,
    project_chain,
    ranks,
    restricted,
    varying_names,
)

__all__ = ["Auto", "AutoLast", "Source"]

logger = logging.getLogger(__name__)

_MIN_BANDWIDTH = 1e-3
_CLIP_RULE = True
_BANDWIDTH_FACTOR = 3.0
_N_CANDIDATES = 64
_PORTFOLIO = "auto-portfolio"
_PRIOR = "auto-prior"
_RANDOM = "random"
_MAX_LOG_RATIO = math.log(20.0)
_DEFAULT_RELEVANCE = 0.85
_PRIOR_MIN_BANDWIDTH = 0.3
_RANDOM_QUANTILE = 0.5
"""Quantile among the previous values below which random current configurations
say that the scale moved down (then calibration's good quantiles count less)."""
PORTFOLIO_RATE = 10.0
"""Rate of the exponential that a portfolio entry's quantile among its source's
previous values follows when the source is relevant (mean about 0.1)."""
PRIOR_RATE = 4.0
"""The same for a draw from the source's model (mean about 0.25)."""
WIN_IF_RELEVANT = 0.7
"""Chance that a relevant source's proposal beats a random configuration."""
_SOURCE_MODELS = ("auto", "tpe", "gp")
_GP_MAX_TRIALS = 200
"""A source's GP is fitted on at most this many of its trials (a random subset)."""
_GP_MIN_TRIALS = 8
"""A source with fewer trials than this (or than 2 (k + 1)) gets a TPE model."""
TIES = 2
"""Trials of one tied value that count in the good set of the current model the
sources are mixed into; the rest of them count as bad."""
FADE = 20.0
"""Current trials after which the sources' weight in the current model has halved."""
FLOOR = 0.3
"""P(relevant) below which a source proposes nothing before the current model
exists."""
FAILURE_RATIO = 0.5
"""Factor on a source's odds of relevance for each failure of its proposals
beyond the failure rate of random proposals."""
LOCAL = 20
"""Current trials without a better value after which local proposals start."""
LOCAL_SHARE = 0.3
"""Share of the proposals that are local while the study is stalled."""
LOCAL_STEP = 0.05
"""Standard deviation of a local proposal's numeric step (unit-scaled space)."""
_LOCAL = "auto-local"
AVOID = 3
"""Random candidates of which a random proposal before the current model exists
is the one a misleading source rates worst (see ``avoid``)."""
AVOID_RHO = 0.2
"""Spearman correlation between a source's score of the current trials and their
values at or above which its ranking counts as upside down (a source that still
ranks well has a negative one)."""
AVOID_MIN = 2
"""Current trials needed before a source's ranking of them is read."""
_AVOID = "auto-avoid"


@dataclass
class Source:
    """Previous trials projected into the current search space, and what auto
    learned about them.

    Attributes:
        name: Where the trials come from (a study name).
        projection: The projected trials.
        names: Current hyperparameters that every projected trial knows.
        known: Their indices in the current encoding.
        prior: A model over ``names`` fitted on the projected trials' ranks
            (see ``model``).
        good: Density of the best projected trials over the known dimensions.
        bad: Density of the rest.
        values: Current objective values of the configurations this source
            proposed (portfolio and prior proposals).
        rates: For each value, the rate of the exponential its quantile among
            the previous values follows if the source is relevant.
        shares: For each value, the share of its configuration's values that
            the source chose; the rest were drawn at random.
        model: The kind of ``prior``: "tpe" or "gp".
    """

    name: str
    projection: Projection
    names: list[str]
    known: np.ndarray
    prior: Sampler
    good: _KDE
    bad: _KDE
    values: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)
    model: str = "tpe"

    def quantile(self, value: float) -> float:
        """Where a current value falls among the projected trials' previous
        values: the share that are better, ties counting half (0 when it beats
        them all; a failure, +inf, is 1)."""
        before = np.asarray(self.projection.values)
        return float((before < value).mean() + 0.5 * (before == value).mean())


class Auto(TransferSampler):
    """Transfer from one or more sources of previous trials, trusted as far as the
    current results confirm them.

    Args:
        space: The current search space.
        previous: The direct previous study's complete trials.
        ancestors: Projections of older studies' trials into the current space
            (already composed along the chain), nearest first; by default they
            are computed from ``previous.ancestors``.
        portfolio: How many best previous configurations to evaluate first (the
            best of each source in turn, nearest first); None for one per source,
            at most 3.
        prior_relevance: Prior probability that a source is relevant (trust
            at the start is 2 x this - 1).
        floor: Before the current model exists, a source whose P(relevant) has
            fallen below this after its first results proposes nothing more
            (they say its good region is poor now), however the bandit's draw
            falls; 0 leaves every source the bandit's second chances. Part of
            the bandit: with ``bandit=False`` the source always proposes.
        keep: Whether the sources stay in the model once the current TPE exists
            (False drops them then, as T2PE does).
        bandit: Whether the share of source proposals before the current model
            exists is learned (False: always a source proposal, as T2PE).
        calibrate: How many observations the calibration against a source's own
            previous values counts as at most (0 turns it off).
        prior_update: Whether each source's model also learns the current
            results (False: it knows the previous trials only, as T2PE's).
        prior_min_bandwidth: Floor of the source model's kernel bandwidths (in
            the unit-scaled space). Wide kernels keep its proposals spread over
            the good region instead of piling onto near-copies of the best
            configuration once it learns the current results.
        pool: Whether the sources together weigh no more than the heaviest
            one in the current model (see :meth:`weights`).
        fade: Finished current trials (failures do not count) after which the
            sources' weight in the current model has halved; None keeps it whole
            for the whole study.
        new_choices: Whether a source's proposals take each choice added to a
            categorical hyperparameter since the previous study at its uniform
            share (a source cannot rank a choice it never had), instead of as
            rarely as a poor previous choice.
        source_model: The model of each source's previous trials that proposes
            before the current model exists: "gp", "tpe", or "auto" (a GP once
            the source has 2 (k + 1) trials over its k hyperparameters, see
            :func:`choose_model`; a GP's fit uses at most 200 of them).
        clip: Whether a previous trial whose numeric value lies outside a
            narrowed current range is kept with that value at the nearest bound
            (``project(..., clip=True)``) instead of being dropped.
        forget: Whether a previous trial (of any study along the chain) whose
            choice was removed is kept with that value unknown
            (``project(..., forget=True)``) instead of being dropped: the
            source's model learns from its other values, and the portfolio takes
            trials that lost no value first.
        ties: How many of the current trials that share one value (a plateau,
            e.g. a cross-validated error over few samples) count in the good set
            of the current model the sources are mixed into; the others count as
            bad, so that the model moves on from a plateau it has mapped. None
            counts them all, as TPE does.
        share: Whether a source proposal's value counts in the calibration in
            proportion to the share of its configuration's values the source
            chose (the rest, e.g. an added hyperparameter of a portfolio entry,
            were drawn at random); False counts every value as the source's own.
        local: Once the current model exists and this many finished current
            trials have passed without a better value, 30 % of the proposals
            are the incumbent with one or a few values moved a little
            (:func:`hptaa_lab.samplers._local.local_proposal`, labelled
            "auto-local"); None never proposes locally.
        avoid: Before the current model exists, once a source misleads (below
            the floor, and its ranking of the current trials is upside down:
            see :meth:`agreement`), each random proposal is the one of this
            many random configurations that the source's model rates worst
            (labelled "auto-avoid"; it counts as a random proposal in the
            bandit's evidence). None or 1: plain random proposals.
        added_defaults: Whether a hyperparameter added since the previous study
            (not a rename's target, nor one the diff suggests as a rename of a
            removed one) whose previous value the mapping's ``previous_fixed``
            does not give is taken to have run at its current default before.
            Exposing a value that was hard-coded usually keeps the old value as
            the default, so that the code runs as before. As an assumption, not
            the source's knowledge, such a value counts in the calibration as a
            value drawn at random does (see ``share``): a default far from what
            the old code ran then costs the source less of its relevance. False
            leaves it unknown: the previous trials then say nothing about it,
            and the portfolio draws it at random.
        **options: mapping, model, seed as for every transfer method.
    """

    name = "auto"
    warns_without_projection = False

    def __init__(
        self,
        space: CS.ConfigurationSpace,
        previous: PreviousTrials,
        *,
        ancestors: Sequence[tuple[str, Projection]] | None = None,
        portfolio: int | None = None,
        prior_relevance: float = _DEFAULT_RELEVANCE,
        floor: float = FLOOR,
        keep: bool = True,
        bandit: bool = True,
        calibrate: float = 3.0,
        prior_update: bool = True,
        prior_min_bandwidth: float = _PRIOR_MIN_BANDWIDTH,
        pool: bool = True,
        fade: float | None = FADE,
        new_choices: bool = True,
        source_model: str = "auto",
        clip: bool = True,
        forget: bool = True,
        ties: int | None = TIES,
        share: bool = True,
        local: int | None = LOCAL,
        avoid: int | None = AVOID,
        added_defaults: bool = True,
        **options: Any,
    ) -> None:
        options.pop("best_first", None)
        _check_values(
            portfolio=portfolio,
            prior_relevance=prior_relevance,
            floor=floor,
            keep=keep,
            bandit=bandit,
            calibrate=calibrate,
            prior_update=prior_update,
            prior_min_bandwidth=prior_min_bandwidth,
            pool=pool,
            fade=fade,
            new_choices=new_choices,
            source_model=source_model,
            clip=clip,
            forget=forget,
            ties=ties,
            share=share,
            local=local,
            avoid=avoid,
            added_defaults=added_defaults,
        )
        # Added hyperparameters: the values the previous study's own mapping
        # records, and (an assumption) the defaults of the others.
        known, implied = added_values(
            space, previous, options.get("mapping"), assume=added_defaults
        )
        if known or implied:
            mapping = options.get("mapping") or SpaceMapping()
            fixed = {**mapping.previous_fixed, **known, **implied}
            options["mapping"] = replace(mapping, previous_fixed=fixed)
        if implied:
            logger.warning(
                "%s: the mapping gives no previous value for the added %s, so the "
                "previous trials are taken to have run with %s (the default%s). "
                "Give the values they had as previous_fixed in the mapping, or "
                "transfer_options={'added_defaults': False} if they had none.",
                self.name,
                "hyperparameter" + ("s" if len(implied) > 1 else ""),
                ", ".join(f"{name}={value!r}" for name, value in implied.items()),
                "s" if len(implied) > 1 else "",
            )
        self.implied = implied
        clipped: bool | list[str] = clip
        if clip and _CLIP_RULE:
            clipped = _worth_clipping(previous, space, options.get("mapping"))
        super().__init__(space, previous, clip=clipped, forget=forget, **options)
        self.prior_relevance = prior_relevance
        self.floor = floor
        self.keep = keep
        self.bandit = bandit
        self.calibrate = calibrate
        self.prior_update = prior_update
        self.prior_min_bandwidth = prior_min_bandwidth
        self.pool = pool
        self.new_choices = new_choices
        self.source_model = source_model
        self.fade = fade
        self.ties = ties
        self.share = share
        self.local = local
        self.avoid = avoid
        self.sources: list[Source] = []
        self._unusable: dict[str, str] = {}
        self._random_values: list[float] = []
        self._origin: dict[tuple[tuple[str, Any], ...], Source | str | None] = {}
        self._rates: dict[tuple[tuple[str, Any], ...], float] = {}
        # Share of each source proposal's values that the source chose.
        self._shares: dict[tuple[tuple[str, Any], ...], float] = {}
        self._X_cur = np.empty((0, self.encoder.dim))
        self._y_cur = np.empty(0)
        n_init = getattr(self.base, "n_init", 2 * (self.encoder.dim + 1))
        self.n_init: int = n_init
        self.random_fraction: float = getattr(self.base, "random_fraction", 1 / 3)
        self.clip = clip
        if ancestors is None:
            ancestors = project_chain(
                space, self.mapping, previous, clip=clipped, forget=forget
            )
        pairs = [(previous.study or "previous", self.projection), *ancestors]
        for study, projection in pairs:
            if projection.clipped:
                logger.info(
                    "%s: %d of the %d trials kept from %s lay outside a narrowed "
                    "or shifted range; their value moved to the nearest bound",
                    self.name,
                    len(projection.clipped),
                    len(projection),
                    study,
                )
            if projection.forgotten:
                logger.info(
                    "%s: %d of the %d trials kept from %s used a choice that was "
                    "removed since (of %s); that value is unknown in them",
                    self.name,
                    len({number for number, _ in projection.forgotten}),
                    len(projection),
                    study,
                    ", ".join(sorted({name for _, name in projection.forgotten})),
                )
        for k, (name, projection) in enumerate(pairs):
            source = self._make_source(name, projection, k)
            if source is not None:
                self.sources.append(source)
        self.added_choices = self._added_choices() if new_choices else {}
        size = min(len(self.sources), 3) if portfolio is None else portfolio
        self._portfolio = self._choose_portfolio(size)
        # Portfolio entries proposed, by configuration (see ``discard``).
        self._asked: dict[Any, tuple[Source | None, dict[str, Any]]] = {}
        if not self.sources and portfolio != 0:
            # Nothing to model, but a surviving trial is still a configuration
            # that ran: the best one is evaluated first, as best-first would.
            self._portfolio = self._lone_portfolio(pairs)
        self.fallback = not self.sources and not self._portfolio
        self._warn_about_sources(pairs)

    # Every keyword of __init__ but the ancestors (projections, not JSON values).
    options = tuple(
        name
        for name, parameter in inspect.signature(__init__).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and name != "ancestors"
    )

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Raise ValueError for a value of these options that auto refuses (the
        names are :attr:`options`; the rest take their defaults)."""
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(Auto.__init__).parameters.items()
            if name in Auto.options
        }
        _check_values(**{**defaults, **options})

    def _warn_about_sources(self, pairs: Sequence[tuple[str, Projection]]) -> None:
        """Say which previous studies auto cannot use, and why."""
        direct = pairs[0][0]
        older = f" nor of its {len(pairs) - 1} older studies" if len(pairs) > 1 else ""
        if not self.sources:
            survived = sum(len(projection) for _, projection in pairs)
            dropped = sum(len(projection.dropped) for _, projection in pairs)
            if survived == 0 and dropped == 0:
                why = f"{direct}{older} has no complete trial to transfer from"
            elif survived == 0:
                number, reason = next(
                    d for _, projection in pairs for d in projection.dropped
                )
                hint = (
                    "check the scale and offset of the mapping's transforms"
                    if self.mapping.transforms
                    else "a renamed hyperparameter whose unit changed needs a "
                    "transform in the mapping too"
                )
                why = (
                    f"no previous trial of {direct}{older} survived projection into "
                    f"the current search space ({dropped} dropped; e.g. trial "
                    f"{number}: {reason}; {hint})"
                )
            else:
                reasons = "; ".join(
                    f"{study}: {self._unusable[study]}"
                    for study, _ in pairs
                    if study in self._unusable
                )
                why = f"no previous study is usable to learn from ({reasons})"
                if dropped:
                    why += (
                        f" ({dropped} other trial(s) were dropped in projection, e.g. "
                        "out of the current range: check the mapping's renames and "
                        "transforms)"
                    )
            then = (
                "evaluating the best surviving configuration first, then tuning with "
                "plain %s"
                if self._portfolio
                else "tuning with plain %s instead"
            )
            logger.warning("%s: %s; " + then + ".", self.name, why, self.model)
        elif self.sources[0].name != direct:
            why = self._unusable.get(
                direct, "no usable trial in the current search space"
            )
            logger.warning(
                "%s: %s cannot be learned from (%s); transferring from older "
                "studies: %s.",
                self.name,
                direct,
                why,
                ", ".join(source.name for source in self.sources),
            )

    def _make_source(self, name: str, projection: Projection, k: int) -> Source | None:
        if len(projection) < 2:
            self._unusable[name] = f"{len(projection)} surviving trial(s), fewer than 2"
            return None
        if len(set(projection.values)) < 2:
            # All equally good: no ranking to learn.
            self._unusable[name] = (
                f"its {len(projection)} surviving trials are all equally good"
            )
            return None
        lost: dict[int, set[str]] = {}
        for number, lost_name in projection.forgotten:
            lost.setdefault(number, set()).add(lost_name)
        names = varying_names(
            projection.configs,
            self.encoder.names,
            [lost.get(number, set()) for number in projection.numbers],
        )
        if not names:
            self._unusable[name] = (
                f"its {len(projection)} surviving trials share no current "
                "hyperparameter that took more than one value"
            )
            return None
        known = np.array([self.encoder.names.index(n) for n in names])
        y = ranks(projection.values)
        seed = None if self.seed is None else self.seed + 7919 * k
        model = self.source_model
        if model == "auto":
            model = choose_model(len(projection), len(names))
        configs: Sequence[Mapping[str, Any]] = projection.configs
        values: Sequence[float] = projection.values
        extra: dict[str, Any] = {}
        if model == "gp":
            configs, values = _at_most(configs, values, _GP_MAX_TRIALS, seed)
        else:
            extra["min_bandwidth"] = self.prior_min_bandwidth
        prior = prior_sampler(
            model,
            self.space,
            names,
            configs,
            values,
            seed,
            n_init=0,
            random_fraction=0.0,
            **extra,
        )
        X = self._filled(self.encoder.encode(projection.configs)[:, known], known)
        order = np.argsort(y, kind="stable")
        n_good = min(max(known.size + 1, math.ceil(0.15 * len(y))), len(y) - 1)
        cat, n_choices = (
            self.encoder.is_categorical[known],
            self.encoder.n_choices[known],
        )
        good = _KDE(X[order[:n_good]], cat, n_choices, _MIN_BANDWIDTH)
        bad = _KDE(X[order[n_good:]], cat, n_choices, _MIN_BANDWIDTH)
        return Source(name, projection, names, known, prior, good, bad, model=model)

    def _filled(self, X: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Encoded trials over the ``known`` dimensions with each unknown value (a
        forgotten choice) replaced by a random one, as TPE fills an inactive
        value: the densities of a source stay neutral about it."""
        unknown = np.isnan(X)
        if not unknown.any():
            return X
        return np.where(unknown, self.encoder.sample(self.rng, len(X))[:, known], X)

    def _lone_portfolio(
        self, pairs: Sequence[tuple[str, Projection]]
    ) -> list[tuple[Source | None, dict[str, Any]]]:
        """Without a source: the best surviving trial of the nearest study that
        has one (no source models it, so its result is evidence for nothing)."""
        for _, projection in pairs:
            known = [
                i
                for i in projection.ranked(whole_first=True)
                if set(projection.configs[i]) - set(self.encoder.constants)
            ]
            if known:
                # A trial that knows no value any more would be a random one.
                return [(None, dict(projection.configs[known[0]]))]
        return []

    def _choose_portfolio(
        self, size: int
    ) -> list[tuple[Source | None, dict[str, Any]]]:
        """The best projected configuration of each source, nearest first, then the
        next best ones of the direct previous study, up to ``size``, distinct."""
        ranked = [
            [(s, s.projection.configs[i]) for i in s.projection.ranked(True)]
            for s in self.sources
        ]
        queue = [r[0] for r in ranked] + (ranked[0][1:] if ranked else [])
        chosen: list[tuple[Source | None, dict[str, Any]]] = []
        keys: set[tuple[tuple[str, Any], ...]] = set()
        for source, partial in queue:
            if len(chosen) >= size:
                break
            key = config_key(partial)
            if key not in keys:
                keys.add(key)
                chosen.append((source, dict(partial)))
        return chosen

    # -- trust ---------------------------------------------------------------

    def evidence(self, source: Source) -> float:
        """Log-odds that this source is relevant (its good region is still good),
        from the prior and the current results so far.

        Two kinds of evidence, each a log likelihood ratio of "relevant" against
        "irrelevant":

        - Calibration: where each current value of the source's proposals falls
          among the source's own previous values (its quantile u). Relevant, a
          proposal ranks near where the source expected it: u follows an
          exponential of rate ``PORTFOLIO_RATE`` (mean about a tenth) for a
          portfolio entry, a previous best configuration, and ``PRIOR_RATE`` for
          a draw from the source's model; irrelevant, u is uniform. Together the
          values count as at most ``calibrate`` observations, and good
          quantiles count less when the random proposals rank near the top too
          (the whole scale moved down).
        - Failures of the source's proposals beyond the failure rate of the
          random proposals: each multiplies the odds by ``FAILURE_RATIO`` (a
          failure may or may not be the configuration's fault).
        - Comparison with the current random proposals: relevant, a source
          proposal beats a random one with probability ``WIN_IF_RELEVANT``,
          irrelevant with one half; every (source, random) pair is compared,
          ties count neither way, and the evidence counts as min(source
          proposals, random proposals) trials.
        """
        logit = math.log(self.prior_relevance / (1.0 - self.prior_relevance))
        mine, theirs = np.asarray(source.values), np.asarray(self._random_values)
        if mine.size and self.calibrate > 0.0:
            ratios = []
            for value, rate, share in zip(
                source.values, source.rates, source.shares, strict=True
            ):
                if not math.isfinite(value):
                    # A failure has no quantile on the scale of values; it is
                    # counted on its own below.
                    continue
                u = source.quantile(value)
                # Values the source knew nothing of were drawn at random, and
                # may make a configuration poor whatever the source is worth:
                # relevant, u is as expected for the source's share of the
                # values and uniform for the rest.
                expected = rate * math.exp(-rate * u) / -math.expm1(-rate)
                relevant = share * expected + (1.0 - share)
                ratios.append(
                    min(max(math.log(relevant), -_MAX_LOG_RATIO), _MAX_LOG_RATIO)
                )
            # One shift of the whole scale moves every quantile alike: the values
            # are not independent evidence, so they count as at most a few.
            if ratios:
                mean = float(np.mean(ratios))
                if mean > 0.0 and theirs.size:
                    # It also rests on the scale staying the same. Random current
                    # configurations should rank in the worse part of the previous
                    # (tuned) values; where they rank near the top, every value
                    # moved down, and a good quantile proves little.
                    shift = min(self._random_quantile(source) / _RANDOM_QUANTILE, 1.0)
                    mean *= shift**2
                logit += mean * min(len(ratios), self.calibrate)
        # A failure may have nothing to do with the configuration (an outage, a
        # lost worker), or mean that the source's region fails now. Only the
        # source's failures beyond what random proposals' failure rate predicts
        # count (that rate with one pseudo-failure and one pseudo-success, so a
        # half before any random result): each halves the odds, so that a source
        # whose proposals keep failing loses its trust even when no random
        # proposal runs to compare with, and failures that strike every
        # configuration alike cost it nothing.
        failed = int(np.count_nonzero(~np.isfinite(mine)))
        if failed:
            rate = (np.count_nonzero(~np.isfinite(theirs)) + 1) / (theirs.size + 2)
            excess = failed - rate * mine.size
            logit += max(excess, 0.0) * math.log(FAILURE_RATIO)
        if mine.size and theirs.size:
            # Ties (flat or discrete objectives, a failure against a failure) are
            # no evidence either way.
            wins = (mine[:, None] < theirs[None, :]).mean()
            losses = (mine[:, None] > theirs[None, :]).mean()
            n = min(mine.size, theirs.size)
            p = WIN_IF_RELEVANT
            logit += n * (wins * math.log(2 * p) + losses * math.log(2 * (1 - p)))
        return logit

    def _random_quantile(self, source: Source) -> float:
        """Mean quantile of the current random proposals' values among the
        source's previous values (failures count as the worst), shrunk towards
        ``_RANDOM_QUANTILE`` by two pseudo-values so that one lucky random
        configuration does not read as a shift."""
        total = sum(source.quantile(value) for value in self._random_values)
        return (2 * _RANDOM_QUANTILE + total) / (2 + len(self._random_values))

    def relevance(self, source: Source) -> float:
        """Posterior probability that the source is relevant."""
        return float(expit(self.evidence(source)))

    def trust(self, source: Source) -> float:
        """Trust in a source, in [0, 1]: 2 P(relevant) - 1, floored at 0 (no trust
        unless relevance is more likely than not)."""
        return float(min(max(2.0 * self.relevance(source) - 1.0, 0.0), 1.0))

    def weights(self) -> list[float]:
        """Each source's weight in the current model, counted in trials (against
        the current trials, each of weight 1).

        A source weighs its trust times its number of projected trials. With
        ``pool``, the sources together weigh no more than the heaviest one, shared
        in proportion: the studies along a chain of adjustments mostly describe
        the same good region, and counting it once per study would let them
        outweigh the current trials for long. With ``fade``, the weights are
        multiplied by fade / (fade + current trials): the previous trials act as a
        prior whose pull halves once the study has ``fade`` trials of its own, so
        late in a study the current results decide.
        """
        mass = [self.trust(s) * float(len(s.projection)) for s in self.sources]
        total = sum(mass)
        if self.pool and total > 0.0:
            mass = [m * max(mass) / total for m in mass]
        if self.fade is not None:
            factor = self.fade / (self.fade + len(self._y_cur))
            mass = [m * factor for m in mass]
        return mass

    def _tell(self, config: Mapping[str, Any], value: float | None) -> None:
        key = config_key(config)
        origin = self._origin.pop(key, "other")
        rate = self._rates.pop(key, PRIOR_RATE)
        if value is None or not math.isfinite(value):
            # A failed configuration is worse than any finished one.
            value = math.inf
        if origin is None:
            self._random_values.append(value)
        elif isinstance(origin, Source):
            origin.values.append(value)
            origin.rates.append(rate)
            origin.shares.append(self._shares.pop(key, 1.0))
        if self.prior_update:
            # Each source's model learns the current result too, on the scale of
            # its own ranks: the value's quantile among the source's previous
            # values (a failure is the worst, 1), so that it stops proposing
            # where configurations fail now.
            for source in self.sources:
                if all(n in config for n in source.names):
                    u = source.quantile(value)
                    source.prior.tell(restricted(config, source.names), u)
        if math.isfinite(value):
            x = self.encoder.encode([config])
            self._X_cur = np.concatenate([self._X_cur, x])
            self._y_cur = np.append(self._y_cur, value)

    def restore(
        self, config: Mapping[str, Any], value: float | None, proposed_by: str
    ) -> None:
        """Tell a trial of a resumed study, crediting it to what proposed it: a
        random proposal, or the source of a portfolio or prior proposal (the
        nearest source whose portfolio entry or known values match), so that
        the bandit's evidence survives a restart."""
        key = config_key(config)
        labels = {self._prior_label(s): s for s in self.sources}
        if proposed_by in (_RANDOM, _AVOID):
            self._origin[key] = None
        elif proposed_by == _PORTFOLIO:
            for i, (source, partial) in enumerate(self._portfolio):
                if all(config.get(n) == v for n, v in partial.items()):
                    self._origin[key] = source if source is not None else "other"
                    self._rates[key] = PORTFOLIO_RATE
                    self._shares[key] = self._chosen_share(
                        config, self._source_chose(partial)
                    )
                    del self._portfolio[i]
                    break
        elif proposed_by in labels:
            self._origin[key] = labels[proposed_by]
            self._shares[key] = self._chosen_share(config, labels[proposed_by].names)
        self.tell(config, value)

    def discard(self, config: Mapping[str, Any], proposed_by: str) -> None:
        """Put a portfolio entry whose evaluation was cut off back at the front
        of the portfolio (the previous best is then the next proposal again);
        forget what proposed any other cut-off configuration."""
        key = config_key(config)
        entry = self._asked.pop(key, None)
        if proposed_by == _PORTFOLIO and entry is not None:
            self._portfolio.insert(0, entry)
        for kept in (self._origin, self._rates, self._shares):
            kept.pop(key, None)

    def _prior_label(self, source: Source) -> str:
        """Label of a source's prior proposals: "auto-prior" for the nearest
        source, "auto-prior-2", "auto-prior-3" for the next ones."""
        k = self.sources.index(source)
        return _PRIOR if k == 0 else f"{_PRIOR}-{k + 1}"

    # -- proposals -----------------------------------------------------------

    def _ask(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        pending_keys = {config_key(p) for p in pending}
        while self._portfolio:
            source, partial = self._portfolio.pop(0)
            config = self.merge(partial, {})
            if config is None:
                continue
            origin = source if source is not None else "other"
            if self.is_fresh(config, pending_keys):
                self._asked[config_key(config)] = (source, partial)
                return self._note(
                    Proposal(config, _PORTFOLIO), origin, self._source_chose(partial)
                )
            if config_key(config) in pending_keys:
                # Another worker evaluates this entry: its result, when it comes
                # in, is this source's evidence here too.
                self._note(Proposal(config, _PORTFOLIO), origin, partial)
        if self.base.n_observed < self.n_init:
            return self._initial_proposal(pending)
        if (
            self.local is not None
            and stalled(self._y_cur) >= self.local
            and self.rng.random() < LOCAL_SHARE
        ):
            # Stalled: refine the incumbent, which the model's good density,
            # spread over the whole good set, may keep missing by a little.
            local = local_proposal(
                self, self._X_cur, self._y_cur, pending, step=LOCAL_STEP, label=_LOCAL
            )
            if local is not None:
                return self._note(local, "other")
        if not self.keep or self.model != "tpe":
            # The GP is no density to mix sources into: it proposes on its own.
            return self._note(self.base.ask(pending), "other")
        if self.rng.random() < self.random_fraction:
            return self._note(self.random_proposal(pending, _RANDOM), None)
        return self._note(self._model_proposal(pending), "other")

    def _source_chose(self, partial: Mapping[str, Any]) -> list[str]:
        """The names of a portfolio entry's values that its source chose: not a
        value taken to be a default (``added_defaults``), an assumption that
        counts in the calibration as a random value does."""
        return [name for name in partial if name not in self.implied]

    def _note(
        self,
        proposal: Proposal,
        origin: Source | str | None,
        chosen: Collection[str] = (),
    ) -> Proposal:
        """Remember what proposed a configuration, and for a source, which of its
        values the source ``chose`` (the rest were filled at random)."""
        if origin == "other" and proposal.proposed_by == _RANDOM:
            origin = None  # the model's own random proposal: evidence as well
        key = config_key(proposal.config)
        self._origin[key] = origin
        if proposal.proposed_by == _PORTFOLIO:
            self._rates[key] = PORTFOLIO_RATE
        if isinstance(origin, Source):
            self._shares[key] = self._chosen_share(proposal.config, chosen)
        return proposal

    def _chosen_share(
        self, config: Mapping[str, Any], chosen: Collection[str]
    ) -> float:
        """Share of the configuration's values that were ``chosen`` (by a source),
        not filled at random; constants count neither way (1.0 if nothing is
        left)."""
        names = [n for n in config if n not in self.encoder.constants]
        if not names or not self.share:
            return 1.0
        return sum(n in chosen for n in names) / len(names)

    def _initial_proposal(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        """Before the current model exists: a random configuration, or a proposal
        of the source whose Thompson draw is best, if that draw beats random."""
        if self.bandit:
            # Thompson sampling over "relevant or not": each source is drawn
            # relevant with its posterior probability; the most probably relevant
            # of those drawn proposes. Below the floor, a source's draw no longer
            # counts: after a previous best that ranked in the worse half of its
            # old values, a second chance costs more evaluations than it finds.
            relevance = [self.relevance(s) for s in self.sources]
            drawn = [
                k
                for k, (p, s) in enumerate(zip(relevance, self.sources, strict=True))
                if self.rng.random() < p and (p >= self.floor or not s.values)
            ]
            best = max(drawn, key=lambda k: relevance[k], default=None)
            chosen = None if best is None else self.sources[best]
        else:
            chosen = self.sources[0] if self.sources else None
        if chosen is not None:
            proposal = self._source_proposal(chosen, pending)
            if proposal is not None:
                return self._note(proposal, chosen, chosen.names)
        misleading = self._misleading()
        if self.avoid is not None and self.avoid > 1 and misleading is not None:
            return self._note(self._avoiding_proposal(misleading, pending), None)
        return self._note(self.random_proposal(pending, _RANDOM), None)

    def _misleading(self) -> Source | None:
        """The nearest source that misleads: below the floor (its own proposals
        ranked poorly), and its ranking of the current trials is upside down
        (:meth:`agreement` at least ``AVOID_RHO``); None if there is none."""
        for source in self.sources:
            if (
                source.values
                and self.relevance(source) < self.floor
                and self.agreement(source) >= AVOID_RHO
            ):
                return source
        return None

    def agreement(self, source: Source) -> float:
        """Spearman correlation between the source's score of the current
        finished trials (its density of good previous trials against that of
        the rest) and their current values: negative while its ranking holds,
        positive when it is upside down (what it rates best does worst now); 0
        with fewer than ``AVOID_MIN`` trials or without differences."""
        if len(self._y_cur) < AVOID_MIN:
            return 0.0
        data = self._X_cur[:, source.known]
        data = np.where(np.isnan(data), 0.5, data)
        score = source.good.log_pdf(data) - source.bad.log_pdf(data)
        if np.ptp(score) == 0.0 or np.ptp(self._y_cur) == 0.0:
            return 0.0
        rho = spearmanr(score, self._y_cur).statistic
        return 0.0 if not math.isfinite(rho) else float(rho)

    def _avoiding_proposal(
        self, source: Source, pending: Sequence[Mapping[str, Any]]
    ) -> Proposal:
        """Of ``avoid`` random configurations, the one the misleading source's
        model (which learned its poor current results too) rates worst: its good
        region was found poor now, so the random proposals keep away from it."""
        candidates: list[Proposal] = []
        keys: set[tuple[tuple[str, Any], ...]] = set()
        assert self.avoid is not None
        for _ in range(self.avoid):
            proposal = self.random_proposal([*pending, *(c.config for c in candidates)])
            if config_key(proposal.config) not in keys:
                keys.add(config_key(proposal.config))
                candidates.append(proposal)
        scores = source.prior.score(  # type: ignore[attr-defined]
            [restricted(c.config, source.names) for c in candidates]
        )
        return Proposal(candidates[int(np.argmin(scores))].config, _AVOID)

    def _added_choices(self) -> dict[str, tuple[list[Any], float]]:
        """Current categorical hyperparameters with choices the previous space did
        not have (through the mapping's renames and value maps): name -> (the
        added choices, their share of all choices)."""
        renamed = {new: old for old, new in self.mapping.renames.items()}
        added: dict[str, tuple[list[Any], float]] = {}
        for name, hp in self.space.items():
            before = self.previous.space.get(renamed.get(name, name))
            if not isinstance(hp, CS.CategoricalHyperparameter) or not isinstance(
                before, CS.CategoricalHyperparameter
            ):
                continue
            transform = self.mapping.transforms.get(name)
            had = {transform.apply(v) if transform else v for v in before.choices}
            new = [c for c in hp.choices if c not in had]
            if new:
                added[name] = (new, len(new) / len(hp.choices))
        return added

    def _source_proposal(
        self, source: Source, pending: Sequence[Mapping[str, Any]]
    ) -> Proposal | None:
        label = self._prior_label(source)
        proposal = self.prior_proposal(source.prior, source.names, pending, label)
        if proposal is None or not self.added_choices:
            return proposal
        # The source knows nothing of the choices added since its study: each
        # takes its uniform share, instead of the little a poor previous choice
        # gets from the source's model.
        changed = dict(proposal.config)
        for name, (new, share) in self.added_choices.items():
            # Values the source does not model were drawn at random already.
            if name not in source.names or name not in changed:
                continue
            if self.rng.random() < share:
                changed[name] = new[int(self.rng.integers(len(new)))]
            elif changed[name] in new and source.model == "gp":
                # A GP's uncertainty draws it to a choice it never saw: outside the
                # added choices' share, the old choice it predicts best instead.
                changed[name] = self._best_old_choice(source, changed, name, new)
        config = None if changed == proposal.config else self.merge(changed, {})
        if (
            config is None
            or (self.encoder.constrained and not self.encoder.is_valid(config))
            or not self.is_fresh(config, {config_key(p) for p in pending})
        ):
            return proposal
        return Proposal(config, label)

    def _best_old_choice(
        self, source: Source, config: Mapping[str, Any], name: str, new: list[Any]
    ) -> Any:
        """The choice of categorical ``name`` that the previous space had and the
        source's model scores best, the rest of ``config`` as it is."""
        hp = self.space[name]
        old = [c for c in hp.choices if c not in new]  # type: ignore[attr-defined]
        known = restricted(config, source.names)
        variants = [{**known, name: choice} for choice in old]
        scores = source.prior.score(variants)  # type: ignore[attr-defined]
        return old[int(np.argmax(scores))]

    def _model_proposal(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        """The current TPE's proposal with trusted sources mixed into its densities.

        Each source weighs :meth:`weights` against the number of current trials;
        candidates come from the mixture of good densities and the one with the
        largest good/bad mixture ratio is proposed."""
        n_cur = len(self._y_cur)
        mass = self.weights()
        if n_cur < 2 or sum(mass) == 0.0:
            # No trusted source: the current TPE's own proposal (the random share
            # was drawn already in _ask).
            if isinstance(self.base, ModelSampler):
                return self.base.model_proposal(self.base.X, self.base.y, pending)
            return self.base.ask(pending)
        X = self._fill(self._X_cur)
        order = np.argsort(self._y_cur, kind="stable")
        d = self.encoder.dim
        n_good = min(max(d + 1, math.ceil(0.15 * n_cur)), n_cur - 1)
        if self.ties is not None:
            order = _fewer_ties(order, self._y_cur, self.ties, n_good)
        bad = X[order[n_good:]]
        avoid = [*pending, *self.base.failed]
        if avoid:
            bad = np.concatenate([bad, self._fill(self.encoder.encode(avoid))])
        cat, n_choices = self.encoder.is_categorical, self.encoder.n_choices
        current = (
            _KDE(X[order[:n_good]], cat, n_choices, _MIN_BANDWIDTH),
            _KDE(bad, cat, n_choices, _MIN_BANDWIDTH),
        )
        shares = np.array([*mass, float(n_cur)])
        shares = shares / shares.sum()
        components: list[Source | tuple[_KDE, _KDE]] = [*self.sources, current]
        picks = self.rng.choice(len(components), size=_N_CANDIDATES, p=shares)
        candidates = self.encoder.sample(self.rng, _N_CANDIDATES)
        for j, component in enumerate(components):
            rows = np.flatnonzero(picks == j)
            if rows.size == 0:
                continue
            if isinstance(component, Source):
                draws = component.good.sample(
                    self.rng, rows.size, _BANDWIDTH_FACTOR, _MIN_BANDWIDTH
                )
                candidates[np.ix_(rows, component.known)] = draws
            else:
                candidates[rows] = component[0].sample(
                    self.rng, rows.size, _BANDWIDTH_FACTOR, _MIN_BANDWIDTH
                )
        log_good, log_bad = [], []
        for share, component in zip(shares, components, strict=True):
            if share <= 0.0:
                continue
            if isinstance(component, Source):
                data = candidates[:, component.known]
                base = self._uniform_log_density(component.known)
                good = component.good.log_pdf(data) + self._unseen(component.good, data)
                bad_ = component.bad.log_pdf(data) + self._unseen(component.bad, data)
                log_good.append(np.log(share) + good + base)
                log_bad.append(np.log(share) + bad_ + base)
            else:
                log_good.append(np.log(share) + component[0].log_pdf(candidates))
                log_bad.append(np.log(share) + component[1].log_pdf(candidates))
        score = logsumexp(np.array(log_good), axis=0) - logsumexp(
            np.array(log_bad), axis=0
        )
        pending_keys = {config_key(p) for p in pending}
        for i in np.argsort(-score, kind="stable"):
            config = self.encoder.decode(candidates[i])
            if self.encoder.constrained and not self.encoder.is_valid(config):
                continue
            if self.is_fresh(config, pending_keys):
                return Proposal(config, "auto-tpe")
        return self.random_proposal(pending, _RANDOM)

    def _fill(self, X: np.ndarray) -> np.ndarray:
        mask = np.isnan(X)
        if not mask.any():
            return X
        X = X.copy()
        X[mask] = self.encoder.sample(self.rng, len(X))[mask]
        return X

    def _unseen(self, kde: _KDE, data: np.ndarray) -> np.ndarray:
        """Correction that makes a source neutral about categorical values it never
        saw (e.g. a choice added in the current space): their kernel term, the same
        for every kernel point, is replaced by the uniform 1/c."""
        correction = np.zeros(len(data))
        for j in np.flatnonzero(kde.cat):
            c = kde.n_choices[j]
            unseen = ~np.isin(data[:, j], kde.data[:, j])
            if unseen.any() and c > 1:
                kernel = np.log(kde.bw[j] / (c - 1))
                correction[unseen] += -np.log(c) - kernel
        return correction

    def _uniform_log_density(self, known: np.ndarray) -> float:
        """Log density of the uniform distribution over the unknown dimensions."""
        unknown = np.setdiff1d(np.arange(self.encoder.dim), known)
        cats = self.encoder.n_choices[unknown][self.encoder.is_categorical[unknown]]
        return float(-np.log(cats).sum()) if cats.size else 0.0


class AutoLast(Auto):
    """auto with the direct previous study only: the chain's ancestors are ignored
    (for measuring what transfer along the chain adds)."""

    name = "auto-last"

    def __init__(
        self, space: CS.ConfigurationSpace, previous: PreviousTrials, **options: Any
    ) -> None:
        options["ancestors"] = []
        super().__init__(space, previous, **options)


def added_values(
    space: CS.ConfigurationSpace,
    previous: PreviousTrials,
    mapping: SpaceMapping | None = None,
    *,
    assume: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The previous values of current hyperparameters added since ``previous``
    that ``mapping`` leaves out, as auto fills them: (known, assumed).

    Known: recorded by the previous study's own mapping (a hyperparameter it
    removed and fixed, added back now). Assumed (with ``assume``, auto's
    ``added_defaults``): the defaults of the others (see
    :func:`implied_defaults`), but none that would drop previous trials.
    """
    mapping = mapping or SpaceMapping()
    known = _known_before(mapping, previous, space)
    if not assume:
        return known, {}
    mapping = replace(mapping, previous_fixed={**mapping.previous_fixed, **known})
    implied = implied_defaults(mapping, previous.space, space)
    # A value the previous study recorded but the current space cannot hold is
    # known not to be the default: it stays unknown.
    recorded = previous.incoming.current_fixed if previous.incoming else {}
    implied = {name: v for name, v in implied.items() if name not in recorded}
    return known, _harmless(implied, mapping, previous, space)


def describe_assumed(values: Mapping[str, Any]) -> str:
    """``{"z": 0.5, "act": "relu"}`` -> "z=0.5, act='relu' to have been their
    defaults" ("... the default" for one value; "" for none)."""
    if not values:
        return ""
    listed = ", ".join(f"{name}={value!r}" for name, value in values.items())
    return f"{listed} to have been {'their defaults' if len(values) > 1 else 'the default'}"


def implied_defaults(
    mapping: SpaceMapping | None,
    previous_space: CS.ConfigurationSpace,
    space: CS.ConfigurationSpace,
) -> dict[str, Any]:
    """The previous values ``added_defaults`` takes for granted: name -> default
    of each current hyperparameter that is in neither the previous space nor
    ``mapping`` (as a rename's target or in ``previous_fixed``), and that the
    diff does not suggest as a rename of a removed hyperparameter (its previous
    trials ran with many values, under the other name)."""
    from hptaa_lab.space import diff

    mapping = mapping or SpaceMapping()
    targets = set(mapping.renames.values()) | set(mapping.previous_fixed)
    added = [
        name
        for name, hp in space.items()
        if name not in previous_space
        and name not in targets
        and not isinstance(hp, CS.Constant)
    ]
    if not added:
        return {}
    suggested = {
        s.current for s in diff(previous_space, space, mapping, check=False).suggestions
    }
    implied = {
        name: space[name].default_value for name in added if name not in suggested
    }
    # A conditional one whose parents are all assumed too, and inactive under
    # their values, ran with no value at all.
    while True:
        inactive = [
            name
            for name in implied
            for condition in space.parent_conditions_of[name]
            if all(p.name in implied for p in _parents(condition))
            and not condition.satisfied_by_value(implied)
        ]
        if not inactive:
            return implied
        for name in inactive:
            implied.pop(name, None)


def _parents(condition: Any) -> list[Any]:
    """The parent hyperparameters of a condition or a conjunction of them."""
    parents = getattr(condition, "parents", None)
    return list(parents) if parents is not None else [condition.parent]


def _known_before(
    mapping: SpaceMapping | None, previous: PreviousTrials, space: CS.ConfigurationSpace
) -> dict[str, Any]:
    """Values the previous study's own mapping records for current hyperparameters
    added since it: one it removed and fixed (``current_fixed``), added back now,
    ran at that value in every previous trial."""
    if previous.incoming is None:
        return {}
    mapping = mapping or SpaceMapping()
    taken = set(mapping.renames.values()) | set(mapping.previous_fixed)
    return {
        name: value
        for name, value in previous.incoming.current_fixed.items()
        if name in space
        and name not in previous.space
        and name not in taken
        # A value outside the current range or choices would drop every trial:
        # it stays unknown.
        and _is_legal(space[name], value)
    }


def _is_legal(hp: Any, value: Any) -> bool:
    """Whether ``value`` is a value of hyperparameter ``hp``."""
    try:
        return bool(hp.legal_value(value))
    except (TypeError, ValueError):
        return False


def _harmless(
    implied: dict[str, Any],
    mapping: SpaceMapping,
    previous: PreviousTrials,
    space: CS.ConfigurationSpace,
) -> dict[str, Any]:
    """The assumed values checked against the previous trials' projection.

    Taken one by one, those that together drop no previous trial that projects
    without them (an assumed value may be forbidden beside the previous best
    ones, alone or with another one): the others stay unknown rather than lose
    real trials. Then those some projected trial holds: a value assumed of no
    trial (no previous trial is complete, or none made a conditional
    hyperparameter active, its parent having gained the choice that activates
    it) is no assumption.
    """

    def projected(fixed: Mapping[str, Any]) -> Projection:
        extended = replace(mapping, previous_fixed={**mapping.previous_fixed, **fixed})
        return project(
            previous.space, space, previous.configs, previous.values, extended
        )

    if space.forbidden_clauses:
        plain = len(projected({}))
        kept: dict[str, Any] = {}
        for name, value in implied.items():
            if len(projected({**kept, name: value})) >= plain:
                kept[name] = value
        implied = kept
    if not implied:
        return implied
    held = {name for config in projected(implied).configs for name in config}
    return {name: value for name, value in implied.items() if name in held}


def _check_values(
    *,
    portfolio: Any,
    prior_relevance: Any,
    floor: Any,
    keep: Any,
    bandit: Any,
    calibrate: Any,
    prior_update: Any,
    prior_min_bandwidth: Any,
    pool: Any,
    fade: Any,
    new_choices: Any,
    source_model: Any,
    clip: Any,
    forget: Any,
    ties: Any,
    share: Any,
    local: Any,
    avoid: Any,
    added_defaults: Any,
) -> None:
    """Raise ValueError, saying what to pass, for an option value auto refuses."""
    switches = {
        "keep": keep,
        "bandit": bandit,
        "prior_update": prior_update,
        "pool": pool,
        "new_choices": new_choices,
        "clip": clip,
        "forget": forget,
        "share": share,
        "added_defaults": added_defaults,
    }
    for option, value in switches.items():
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{option} must be True or False, got {value!r}.")
    for option, number in (
        ("prior_relevance", prior_relevance),
        ("floor", floor),
        ("calibrate", calibrate),
        ("prior_min_bandwidth", prior_min_bandwidth),
    ):
        if not _is_number(number):
            raise ValueError(f"{option} must be a number, got {number!r}.")
    if not 0.0 < prior_min_bandwidth <= 1.0:
        raise ValueError(
            f"prior_min_bandwidth must be a number > 0 and at most 1 (a bandwidth "
            f"in the unit-scaled space), got {prior_min_bandwidth!r}; "
            f"{_PRIOR_MIN_BANDWIDTH} is the default."
        )
    if not 0.0 <= floor < 1.0:
        raise ValueError(
            f"floor must be a probability from 0 to below 1 (0: no floor), got "
            f"{floor!r}; {FLOOR} is the default."
        )
    if not 0.0 < prior_relevance < 1.0:
        raise ValueError(
            f"prior_relevance must lie strictly between 0 and 1, got "
            f"{prior_relevance!r}; {_DEFAULT_RELEVANCE} is the default."
        )
    if not 0.0 <= calibrate < math.inf:
        raise ValueError(
            f"calibrate must be a number >= 0 (0 turns the calibration off), "
            f"got {calibrate!r}."
        )
    if fade is not None and (not _is_number(fade) or not 0.0 < fade < math.inf):
        raise ValueError(
            f"fade must be a number of trials > 0, or None to keep the sources' "
            f"weight whole, got {fade!r}; {FADE:g} is the default."
        )
    if source_model not in _SOURCE_MODELS:
        raise ValueError(
            f"source_model must be one of {', '.join(_SOURCE_MODELS)}, got "
            f"{source_model!r}; 'auto' gives a source a GP once it has 2 (k + 1) "
            "trials over its k hyperparameters, else TPE."
        )
    if ties is not None and (not _is_int(ties) or ties < 1):
        raise ValueError(
            f"ties must be an int number of trials >= 1, or None to count every tied "
            f"trial as TPE does, got {ties!r}{_int_hint(ties)}; {TIES} is the default."
        )
    if local is not None and (not _is_int(local) or local < 1):
        raise ValueError(
            f"local must be an int number of trials >= 1, or None for no local "
            f"proposals, got {local!r}{_int_hint(local)}; {LOCAL} is the default."
        )
    if avoid is not None and (not _is_int(avoid) or not 1 <= avoid <= _N_CANDIDATES):
        raise ValueError(
            f"avoid must be an int number of random candidates from 1 to "
            f"{_N_CANDIDATES} (the candidates a model proposal weighs), or None for "
            f"plain random proposals, got {avoid!r}{_int_hint(avoid)}; {AVOID} is "
            "the default."
        )
    if portfolio is not None and (not _is_int(portfolio) or portfolio < 0):
        raise ValueError(
            f"portfolio must be an int >= 0 (0: no portfolio; None: one per "
            f"source), got {portfolio!r}{_int_hint(portfolio)}."
        )


def _int_hint(value: Any) -> str:
    """The hint for a whole float such as 20.0 (" (pass 20, an int)"), else ""."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return f" (pass {int(value)}, an int)"
    return ""


def _is_int(value: Any) -> bool:
    """An integer (numpy's too), not a bool or a numpy timedelta."""
    return _is_number(value) and isinstance(value, numbers.Integral)


def _is_number(value: Any) -> bool:
    """A real number (numpy's too), not a bool or a numpy timedelta."""
    return isinstance(value, numbers.Real) and not isinstance(
        value, bool | np.bool_ | np.timedelta64
    )


def _fewer_ties(order: np.ndarray, y: np.ndarray, reps: int, n_good: int) -> np.ndarray:
    """``order`` (best first) with the trials beyond ``reps`` of each tied value
    among the best moved behind the first ``n_good`` places, into the bad set (a
    plateau of equal values is one piece of evidence, not many; evaluated again,
    its neighbourhood tells nothing new)."""
    seen: dict[float, int] = {}
    front: list[int] = []
    back: list[int] = []
    for i in order:
        seen[y[i]] = seen.get(y[i], 0) + 1
        (front if seen[y[i]] <= reps or len(front) >= n_good else back).append(i)
    return np.array(front[:n_good] + back + front[n_good:], dtype=order.dtype)


def choose_model(n_trials: int, n_names: int) -> str:
    """ "gp" or "tpe" for a source of ``n_trials`` trials over ``n_names``
    hyperparameters: a GP once it has the 2 (k + 1) trials (and at least
    ``_GP_MIN_TRIALS``) that TPE itself waits for before it fits a model.

    With fewer, a GP fitted on them proposes greedily near the few best and does
    worse than TPE's wide densities; with more, its predictions rank the
    configurations more sharply (measured on the development seeds; see
    docs/benchmarks.md). Cross-validating the two models on the previous trials
    chose worse than this count.
    """
    return "gp" if n_trials >= max(_GP_MIN_TRIALS, 2 * (n_names + 1)) else "tpe"


def _at_most(
    configs: Sequence[Mapping[str, Any]],
    values: Sequence[float],
    limit: int,
    seed: int | None,
) -> tuple[list[Mapping[str, Any]], list[float]]:
    """At most ``limit`` of the trials, a random subset in their order (a GP's fit
    grows with the cube of its data)."""
    if len(configs) <= limit:
        return list(configs), list(values)
    keep = np.sort(
        np.random.default_rng(seed).choice(len(configs), limit, replace=False)
    )
    return [configs[int(i)] for i in keep], [values[int(i)] for i in keep]


def _worth_clipping(
    previous: PreviousTrials,
    space: CS.ConfigurationSpace,
    mapping: SpaceMapping | None,
) -> list[str]:
    """Current names of the narrowed ranges that some of the previous study's best
    quarter of trials lie beyond: the good region reached past the new bound, so
    the trials there say what works next to it. Where only poor trials lie beyond
    it, they describe a region the adjustment cut away, and are dropped."""
    if not previous.values:
        return []
    order = np.argsort(previous.values, kind="stable")
    best = [previous.configs[i] for i in order[: max(1, math.ceil(0.25 * len(order)))]]
    return sorted(names_beyond(previous.space, space, best, mapping))
