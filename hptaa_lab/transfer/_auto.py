"""auto: hptaa_lab's own transfer method.

A TPE whose good and bad densities are mixtures of the current trials' densities
and one density pair per source of previous trials (the previous study and, along
a chain of adjustments, its ancestors). Each source's weight is its trust: how
well the ranking it predicts agrees with the current results so far (a Beta
posterior over concordant pairs). The study starts with a small portfolio of the
best previous configurations; proposals come from the previous densities while
they are trusted, and the method turns into plain TPE as their trust vanishes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ConfigSpace as CS
import numpy as np
from scipy.special import logsumexp

from hptaa_lab.samplers import Proposal, config_key
from hptaa_lab.samplers._tpe import _KDE
from hptaa_lab.space import Projection
from hptaa_lab.transfer._base import (
    PreviousTrials,
    TransferSampler,
    project_chain,
    ranks,
)

__all__ = ["Auto", "AutoLast", "Source"]

logger = logging.getLogger(__name__)

_MIN_BANDWIDTH = 1e-3
_BANDWIDTH_FACTOR = 3.0
_LOG_CATEGORY_MISMATCH = float(np.log(0.3))
_MIN_SCALE = 0.05


@dataclass
class Source:
    """Previous trials projected into the current search space, with their densities.

    Attributes:
        name: Where the trials come from (a study name).
        projection: The projected trials.
        known: Indices of the current dimensions every projected trial knows.
        good: Density of the best projected trials over the known dimensions.
        bad: Density of the rest.
        points: The projected trials' encodings over the known dimensions.
        ranks: Their ranks, scaled to [0, 1] (best 0).
        scale: Kernel width per known dimension for predicting ranks.
        concordant: Pairs of current trials ordered as this source predicts.
        discordant: Pairs ordered the other way.
    """

    name: str
    projection: Projection
    known: np.ndarray
    good: _KDE
    bad: _KDE
    points: np.ndarray
    ranks: np.ndarray
    scale: np.ndarray
    concordant: int = 0
    discordant: int = 0


class Auto(TransferSampler):
    """Trust-weighted transfer TPE over one or more sources of previous trials.

    Args:
        space: The current search space.
        previous: The direct previous study's complete trials.
        ancestors: Projections of older studies' trials into the current space
            (already composed along the chain), nearest first; by default they
            are computed from ``previous.ancestors``.
        portfolio: How many of the best previous configurations (from different
            sources first) to evaluate before the model proposes.
        prior_concordant: Prior pseudo-count of concordant pairs (trust at start).
        prior_discordant: Prior pseudo-count of discordant pairs.
        initial_share: Least share of proposals drawn from the previous densities
            while the current model has too few trials to exist.
        **options: mapping, model, seed as for every transfer method.
    """

    name = "auto"

    def __init__(
        self,
        space: CS.ConfigurationSpace,
        previous: PreviousTrials,
        *,
        ancestors: Sequence[tuple[str, Projection]] | None = None,
        portfolio: int = 2,
        prior_concordant: float = 7.0,
        prior_discordant: float = 1.0,
        initial_share: float = 0.75,
        source_good: str = "top15",
        weighting: str = "trust",
        worth: float = 1.0,
        **options: Any,
    ) -> None:
        options.pop("best_first", None)
        super().__init__(space, previous, **options)
        self.portfolio = portfolio
        self.prior = (prior_concordant, prior_discordant)
        self.source_good = source_good
        self.weighting = weighting
        self.worth = worth
        self.sources: list[Source] = []
        if ancestors is None:
            ancestors = project_chain(space, self.mapping, previous)
        pairs = [(previous.study or "previous", self.projection), *ancestors]
        for name, projection in pairs:
            source = self._make_source(name, projection)
            if source is not None:
                self.sources.append(source)
        if not self.sources and not self.fallback:
            logger.warning(
                "auto: no previous trial source has 2 or more trials that survived "
                "projection (%d survived); tuning with plain %s instead.",
                len(self.projection),
                self.model,
            )
        self.fallback = not self.sources
        self._portfolio = self._choose_portfolio()
        self._X_cur = np.empty((0, self.encoder.dim))
        self._y_cur = np.empty(0)
        self.random_fraction = 1 / 3
        self.initial_share = initial_share

    def _make_source(self, name: str, projection: Projection) -> Source | None:
        if len(projection) < 2:
            return None
        X = self.encoder.encode(projection.configs)
        known = np.flatnonzero(~np.isnan(X).any(axis=0))
        if known.size == 0:
            return None
        y = ranks(projection.values)
        order = np.argsort(y, kind="stable")
        if self.source_good == "tpe":
            n_good = min(max(known.size + 1, math.ceil(0.15 * len(y))), len(y) - 1)
        else:
            n_good = min(max(math.ceil(0.15 * len(y)), 2), len(y) - 1)
        cat, n_choices = (
            self.encoder.is_categorical[known],
            self.encoder.n_choices[known],
        )
        data = X[:, known]
        good = _KDE(data[order[:n_good]], cat, n_choices, _MIN_BANDWIDTH)
        bad = _KDE(data[order[n_good:]], cat, n_choices, _MIN_BANDWIDTH)
        scale = np.maximum(1.06 * data.std(axis=0) * len(y) ** (-0.2), _MIN_SCALE)
        return Source(name, projection, known, good, bad, data, y, scale)

    def _choose_portfolio(self) -> list[dict[str, Any]]:
        """The best projected configuration of each source, then the next best
        distinct ones of the direct previous study, up to ``portfolio``."""
        chosen: list[dict[str, Any]] = []
        keys: set[tuple[tuple[str, Any], ...]] = set()
        ranked = [
            [s.projection.configs[i] for i in s.projection.ranked()]
            for s in self.sources
        ]
        queue = [r[0] for r in ranked] + (ranked[0][1:] if ranked else [])
        for partial in queue:
            if len(chosen) >= self.portfolio:
                break
            key = config_key(partial)
            if key not in keys:
                keys.add(key)
                chosen.append(dict(partial))
        return chosen

    # -- trust ---------------------------------------------------------------

    def trust(self, source: Source) -> float:
        """Trust in a source, in [0, 1]: 2 P(concordant) - 1 under a Beta posterior."""
        a, b = self.prior
        p = (source.concordant + a) / (source.concordant + source.discordant + a + b)
        return float(min(max(2.0 * p - 1.0, 0.0), 1.0))

    def _tell(self, config: Mapping[str, Any], value: float | None) -> None:
        if value is None:
            return
        x = self.encoder.encode([config])
        for source in self.sources:
            score = self._source_score(source, x)[0]
            previous_scores = self._source_score(source, self._X_cur)
            decided = self._y_cur != value
            predicted = previous_scores[decided] > score
            observed = self._y_cur[decided] < value
            agree = int(np.count_nonzero(predicted == observed))
            source.concordant += agree
            source.discordant += int(decided.sum()) - agree
        self._X_cur = np.concatenate([self._X_cur, x])
        self._y_cur = np.append(self._y_cur, value)

    def _source_score(self, source: Source, X: np.ndarray) -> np.ndarray:
        """How good the source predicts each point to be: minus the kernel-weighted
        mean rank of the previous trials around it (Nadaraya-Watson)."""
        if len(X) == 0:
            return np.empty(0)
        data = self._fill(X)[:, source.known]
        points, y = source.points, source.ranks
        cat = self.encoder.is_categorical[source.known]
        log_w = np.zeros((len(data), len(points)))
        if (~cat).any():
            z = (data[:, None, ~cat] - points[None, :, ~cat]) / source.scale[~cat]
            log_w -= 0.5 * (z * z).sum(axis=2)
        if cat.any():
            same = data[:, None, cat] == points[None, :, cat]
            log_w += np.where(same, 0.0, _LOG_CATEGORY_MISMATCH).sum(axis=2)
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        result: np.ndarray = -(w @ y) / w.sum(axis=1)
        return result

    def _fill(self, X: np.ndarray) -> np.ndarray:
        mask = np.isnan(X)
        if not mask.any():
            return X
        X = X.copy()
        X[mask] = self.encoder.sample(self.rng, len(X))[mask]
        return X

    # -- proposals -----------------------------------------------------------

    def _ask(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        pending_keys = {config_key(p) for p in pending}
        while self._portfolio:
            partial = self._portfolio.pop(0)
            config = self.merge(partial, {})
            if config is not None and self.is_fresh(config, pending_keys):
                return Proposal(config, "auto-portfolio")
        weights = {id(s): self.trust(s) for s in self.sources}
        prior_share = max(weights.values())
        current = self._current_densities(pending)
        if self.weighting == "count" and current is not None:
            mass = {
                id(s): weights[id(s)] * self.worth * len(s.ranks) for s in self.sources
            }
            total_mass = sum(mass.values())
            prior_share = total_mass / (total_mass + len(self._y_cur))
            weights = mass
        if current is None:
            # Before the current model exists, the previous densities are the only
            # model there is: use them at least as often as T2PE does, and spread
            # the weight over the sources as their trust says.
            floor = self.initial_share
            weights = {k: max(w, floor) for k, w in weights.items()}
            prior_share = max(prior_share, floor)
        random_fraction = 0.05 + (self.random_fraction - 0.05) * (1.0 - prior_share)
        if self.rng.random() < random_fraction or (
            current is None and prior_share == 0.0
        ):
            return self.random_proposal(pending, "random")
        return self._mixture_proposal(pending, current, weights, prior_share)

    def _current_densities(
        self, pending: Sequence[Mapping[str, Any]]
    ) -> tuple[_KDE, _KDE] | None:
        d = self.encoder.dim
        n = len(self._y_cur)
        if n < 2 * (d + 1):
            return None
        X = self._fill(self._X_cur)
        order = np.argsort(self._y_cur, kind="stable")
        n_good = min(max(d + 1, math.ceil(0.15 * n)), n - 1)
        bad = X[order[n_good:]]
        avoid = [*pending, *self.base.failed]
        if avoid:
            bad = np.concatenate([bad, self._fill(self.encoder.encode(avoid))])
        cat, n_choices = self.encoder.is_categorical, self.encoder.n_choices
        return (
            _KDE(X[order[:n_good]], cat, n_choices, _MIN_BANDWIDTH),
            _KDE(bad, cat, n_choices, _MIN_BANDWIDTH),
        )

    def _mixture_proposal(
        self,
        pending: Sequence[Mapping[str, Any]],
        current: tuple[_KDE, _KDE] | None,
        weights: dict[int, float],
        prior_share: float,
    ) -> Proposal:
        pending_keys = {config_key(p) for p in pending}
        total = sum(weights.values()) or 1.0
        components: list[tuple[float, Any]] = [
            (prior_share * weights[id(s)] / total, s)
            for s in self.sources
            if weights[id(s)] > 0
        ]
        if current is not None:
            components.append((1.0 - prior_share if components else 1.0, current))
        shares = np.array([w for w, _ in components])
        shares = shares / shares.sum()
        n = 64
        picks = self.rng.choice(len(components), size=n, p=shares)
        candidates = self.encoder.sample(self.rng, n)
        for j, (_, component) in enumerate(components):
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
        log_good = []
        log_bad = []
        for share, (_, component) in zip(shares, components, strict=True):
            if isinstance(component, Source):
                data = candidates[:, component.known]
                base = self._uniform_log_density(component.known)
                good = component.good.log_pdf(data) + self._unseen(component.good, data)
                bad = component.bad.log_pdf(data) + self._unseen(component.bad, data)
                log_good.append(np.log(share) + good + base)
                log_bad.append(np.log(share) + bad + base)
            else:
                log_good.append(np.log(share) + component[0].log_pdf(candidates))
                log_bad.append(np.log(share) + component[1].log_pdf(candidates))
        score = logsumexp(np.array(log_good), axis=0) - logsumexp(
            np.array(log_bad), axis=0
        )
        for i in np.argsort(-score, kind="stable"):
            config = self.encoder.decode(candidates[i])
            if (self.encoder.has_conditions or self.encoder.has_forbiddens) and (
                not self.encoder.is_valid(config)
            ):
                continue
            if self.is_fresh(config, pending_keys):
                label = "auto" if current is None else "auto-tpe"
                return Proposal(config, label)
        return self.random_proposal(pending, "random")

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
