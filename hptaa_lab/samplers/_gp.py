"""Gaussian-process Bayesian optimisation with expected improvement (scikit-learn)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import ConfigSpace as CS
import numpy as np
from scipy.stats import norm
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from hptaa_lab.samplers._base import ModelSampler, Proposal, config_key

__all__ = ["GPSampler"]

# NOTE(samplers): scikit-learn's GP warns when a kernel hyperparameter ends at a
# bound or rounding makes a predicted variance negative; neither is anything a user
# can act on, and studies fit GPs all the time. A filter by module, not
# warnings.catch_warnings, which is not thread-safe: studies run in background
# threads (two at once with --compare), and one thread leaving catch_warnings
# restores the filters under the other.
warnings.filterwarnings("ignore", module=r"sklearn\.gaussian_process")


class GPSampler(ModelSampler):
    """GP with a Matern 5/2 kernel and expected improvement (HT-AA paper, section 2).

    Numeric dimensions enter on their [0, 1] encoding, categorical ones one-hot
    (so the kernel distance between two choices is a Hamming-style constant).
    Random configurations until there are ``d`` complete trials, then a random
    configuration with probability ``random_fraction``. Pending configurations
    are added with the worst value seen (constant liar).

    Args:
        space: The search space.
        seed: Seed of the random generator.
        n_init: Random configurations before the model; default ``d``.
        random_fraction: Share of random proposals once the model is used.
        n_candidates: Random plus local candidates scored by EI per proposal.
    """

    name = "gp"

    def __init__(
        self,
        space: CS.ConfigurationSpace,
        seed: int | None = None,
        *,
        n_init: int | None = None,
        random_fraction: float = 0.5,
        n_candidates: int = 512,
    ) -> None:
        super().__init__(space, seed)
        self.n_init = max(self.encoder.dim, 2) if n_init is None else n_init
        self.random_fraction = random_fraction
        self.n_candidates = n_candidates
        self._fitted: tuple[bytes, Any] | None = None

    def model_proposal(
        self,
        X: np.ndarray,
        y: np.ndarray,
        pending: Sequence[Mapping[str, Any]] = (),
        label: str = "gp",
    ) -> Proposal:
        """Propose the candidate of highest expected improvement under a GP on
        ``(X, y)`` (encoded, minimised)."""
        if pending:
            X = np.concatenate([X, self.encoder.encode(pending)])
            y = np.concatenate([y, np.full(len(pending), y.max())])
        # NOTE(samplers): the matrices are small; several BLAS threads only slow
        # the fit down (several times over on a busy machine).
        with threadpool_limits(1, user_api="blas"):
            gp = self._fit(X, y)
            candidates = self._candidates(X, y)
            mean, std = gp.predict(self._features(candidates), return_std=True)
        ei = _expected_improvement(mean, std, float(y.min()))
        pending_keys = {config_key(p) for p in pending}
        for i in np.argsort(-ei, kind="stable"):
            config = self.encoder.decode(candidates[i])
            if self.encoder.constrained and not self.encoder.is_valid(config):
                continue
            if self.is_fresh(config, pending_keys):
                return Proposal(config, label)
        return self.random_proposal(pending)

    def score(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """How promising the GP of the trials told finds each configuration:
        minus its predicted value (higher is better)."""
        with threadpool_limits(1, user_api="blas"):
            gp = self._fit(self.X, self.y)
            mean = gp.predict(self._features(self.encoder.encode(configs)))
        return -np.asarray(mean, dtype=float)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        """A GP fitted on ``(X, y)``; the last fit is reused for the same data (a
        model of fixed previous trials is asked many times)."""
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        key = X.tobytes() + b"|" + y.tobytes()
        if self._fitted is not None and self._fitted[0] == key:
            return self._fitted[1]
        features = self._features(X)
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
            length_scale=np.full(features.shape[1], 0.5),
            length_scale_bounds=(1e-2, 1e2),
            nu=2.5,
        ) + WhiteKernel(1e-4, (1e-8, 1e-1))
        gp = GaussianProcessRegressor(
            kernel=kernel, normalize_y=True, random_state=int(self.rng.integers(2**31))
        )
        gp.fit(features, y)
        self._fitted = (key, gp)
        return gp

    def _features(self, X: np.ndarray) -> np.ndarray:
        """Numeric dims as they are (inactive -> 0.5), categoricals one-hot."""
        enc = self.encoder
        columns = [np.nan_to_num(X[:, ~enc.is_categorical], nan=0.5)]
        for j in np.flatnonzero(enc.is_categorical):
            values = np.nan_to_num(X[:, j], nan=-1.0).astype(int)
            columns.append(np.eye(enc.n_choices[j] + 1)[values][:, : enc.n_choices[j]])
        return np.concatenate(columns, axis=1)

    def _candidates(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Half random, half perturbations of the five best points."""
        enc = self.encoder
        n_random = self.n_candidates // 2
        random = enc.sample(self.rng, n_random)
        best = X[np.argsort(y, kind="stable")[:5]]
        centres = best[self.rng.integers(len(best), size=self.n_candidates - n_random)]
        local = centres + self.rng.normal(0.0, 0.1, centres.shape)
        fresh = enc.sample(self.rng, len(local))
        local = np.where(np.isnan(local), fresh, local)
        flip = self.rng.random(local.shape) < 0.2
        cat = enc.is_categorical
        local[:, cat] = np.where(flip[:, cat], fresh[:, cat], centres[:, cat])
        local[:, cat] = np.nan_to_num(local[:, cat], nan=0.0)
        local[:, ~cat] = np.clip(local[:, ~cat], 0.0, 1.0)
        return np.concatenate([random, local])


def _expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    std = np.maximum(std, 1e-12)
    z = (best - mean) / std
    result: np.ndarray = (best - mean) * norm.cdf(z) + std * norm.pdf(z)
    return result
