"""Tree-structured Parzen estimator with the paper's (BOHB-style) defaults."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ConfigSpace as CS
import numpy as np
from scipy.special import logsumexp, ndtr, ndtri

from hptaa_lab.samplers._base import ModelSampler, Proposal, config_key

__all__ = ["TPESampler"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class TPESampler(ModelSampler):
    """Multivariate TPE as in the HT-AA paper (Stoll et al. 2020), section 2.

    Random configurations until there are ``2 (d + 1)`` complete trials; then, with
    probability ``random_fraction`` a random configuration, otherwise the best of
    ``n_candidates`` draws from the good density (bandwidths times
    ``bandwidth_factor``) by the ratio of good to bad density. Pending
    configurations join the bad set (constant liar), and so do failed ones.

    Args:
        space: The search space.
        seed: Seed of the random generator.
        n_init: Random configurations before the model; default ``2 (d + 1)``.
        random_fraction: Share of random proposals once the model is used.
        top_fraction: Share of observations in the good set (at least ``d + 1``).
        n_candidates: Candidates drawn from the good density per proposal.
        bandwidth_factor: Bandwidth multiplier when drawing candidates.
        min_bandwidth: Floor of every bandwidth.
    """

    name = "tpe"

    def __init__(
        self,
        space: CS.ConfigurationSpace,
        seed: int | None = None,
        *,
        n_init: int | None = None,
        random_fraction: float = 1 / 3,
        top_fraction: float = 0.15,
        n_candidates: int = 64,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(space, seed)
        d = self.encoder.dim
        self.n_init = 2 * (d + 1) if n_init is None else n_init
        self.min_points = d + 1
        self.random_fraction = random_fraction
        self.top_fraction = top_fraction
        self.n_candidates = n_candidates
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth

    def model_proposal(
        self,
        X: np.ndarray,
        y: np.ndarray,
        pending: Sequence[Mapping[str, Any]] = (),
        label: str = "tpe",
    ) -> Proposal:
        """Propose from densities fitted on ``(X, y)`` (encoded, minimised)."""
        # Pending configurations (constant liar) and failed ones count as bad, so
        # the model moves away from both.
        good_kde, bad_kde = self._densities(X, y, [*pending, *self.failed])
        candidates = good_kde.sample(
            self.rng, self.n_candidates, self.bandwidth_factor, self.min_bandwidth
        )
        score = good_kde.log_pdf(candidates) - bad_kde.log_pdf(candidates)
        pending_keys = {config_key(p) for p in pending}
        for i in np.argsort(-score, kind="stable"):
            config = self.encoder.decode(candidates[i])
            if self.encoder.constrained and not self.encoder.is_valid(config):
                continue
            if self.is_fresh(config, pending_keys):
                return Proposal(config, label)
        return self.random_proposal(pending)

    def score(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """How promising the model of the trials told finds each configuration:
        the log ratio of good to bad density (higher is better)."""
        good_kde, bad_kde = self._densities(self.X, self.y, self.failed)
        Z = self._impute(self.encoder.encode(configs))
        result: np.ndarray = good_kde.log_pdf(Z) - bad_kde.log_pdf(Z)
        return result

    def _densities(
        self, X: np.ndarray, y: np.ndarray, avoid: Sequence[Mapping[str, Any]]
    ) -> tuple[_KDE, _KDE]:
        """The good and bad densities of ``(X, y)``; ``avoid`` joins the bad."""
        X = self._impute(X)
        order = np.argsort(y, kind="stable")
        n_good = self.good_size(len(y))
        good, bad = X[order[:n_good]], X[order[n_good:]]
        if avoid:
            bad = np.concatenate([bad, self._impute(self.encoder.encode(avoid))])
        cat, n_choices = self.encoder.is_categorical, self.encoder.n_choices
        return (
            _KDE(good, cat, n_choices, self.min_bandwidth),
            _KDE(bad, cat, n_choices, self.min_bandwidth),
        )

    def good_size(self, n: int) -> int:
        """Size of the good set among ``n`` observations: the larger of ``d + 1``
        and ``top_fraction`` of ``n`` (rounded up), leaving at least one bad one."""
        return max(
            1, min(max(self.min_points, math.ceil(self.top_fraction * n)), n - 1)
        )

    def _impute(self, X: np.ndarray) -> np.ndarray:
        """Replace NaN (inactive) entries by random values of their dimension."""
        mask = np.isnan(X)
        if not mask.any():
            return X
        X = X.copy()
        filler = self.encoder.sample(self.rng, len(X))
        X[mask] = filler[mask]
        return X


class _KDE:
    """Product kernel density: Gaussian on numeric dims, Aitchison-Aitken on
    categorical dims, bandwidths by the normal reference rule."""

    def __init__(
        self,
        data: np.ndarray,
        is_categorical: np.ndarray,
        n_choices: np.ndarray,
        min_bandwidth: float,
    ) -> None:
        m, d = data.shape
        self.data = data
        self.cat = is_categorical
        self.num = ~is_categorical
        self.n_choices = n_choices
        std = data.std(axis=0) if m > 1 else np.zeros(d)
        bw = 1.06 * std * m ** (-1.0 / (4 + d))
        bw = np.maximum(bw, min_bandwidth)
        if self.cat.any():
            c = n_choices[self.cat].astype(float)
            bw[self.cat] = np.minimum(bw[self.cat], (c - 1) / c)
        self.bw = bw

    def log_pdf(self, X: np.ndarray) -> np.ndarray:
        """Log density at each row of X."""
        total = np.zeros((len(X), len(self.data)))
        if self.num.any():
            bw = self.bw[self.num]
            z = (X[:, None, self.num] - self.data[None, :, self.num]) / bw
            total += (-0.5 * z * z).sum(axis=2) - (np.log(bw) + _LOG_SQRT_2PI).sum()
        if self.cat.any():
            bw = self.bw[self.cat]
            c = self.n_choices[self.cat]
            same = X[:, None, self.cat] == self.data[None, :, self.cat]
            log_same = np.log1p(-bw)
            # A single-choice dimension has no other value (its bandwidth is 0).
            log_other = np.log(np.where(c > 1, bw / np.maximum(c - 1, 1), 1.0))
            total += np.where(same, log_same, log_other).sum(axis=2)
        result: np.ndarray = logsumexp(total, axis=1) - math.log(len(self.data))
        return result

    def sample(
        self, rng: np.random.Generator, n: int, factor: float, min_bandwidth: float
    ) -> np.ndarray:
        """Draw n points around random data points, bandwidths widened by factor."""
        centres = self.data[rng.integers(len(self.data), size=n)]
        out = centres.copy()
        if self.num.any():
            mu = centres[:, self.num]
            sd = np.maximum(self.bw[self.num] * factor, min_bandwidth)
            lo, hi = ndtr((0.0 - mu) / sd), ndtr((1.0 - mu) / sd)
            u = lo + rng.random(mu.shape) * (hi - lo)
            out[:, self.num] = np.clip(
                mu + sd * ndtri(np.clip(u, 1e-12, 1 - 1e-12)), 0.0, 1.0
            )
        for j in np.flatnonzero(self.cat):
            keep = rng.random(n) < 1.0 - self.bw[j]
            out[:, j] = np.where(
                keep, centres[:, j], rng.integers(self.n_choices[j], size=n)
            )
        return out
