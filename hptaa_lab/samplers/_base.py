"""The sampler contract: seeded, ask with pending trials, tell results."""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.space import Encoder

__all__ = ["ModelSampler", "Proposal", "Sampler", "config_key"]


@dataclass(frozen=True)
class Proposal:
    """A configuration to evaluate and how it was proposed (e.g. "tpe", "random")."""

    config: dict[str, Any]
    proposed_by: str


def config_key(config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A hashable key that identifies a configuration."""
    return tuple(sorted(config.items()))


class Sampler(abc.ABC):
    """Proposes configurations of one search space and learns from their results.

    The contract every sampler and transfer method follows:

    - it is seeded: the same seed, space and sequence of calls give the same
      proposals;
    - ``ask(pending)`` returns a Proposal for a legal configuration (conditions and
      forbidden clauses respected) that is neither among ``pending`` (configurations
      being evaluated right now) nor, where the space allows, among the ones it was
      already told about;
    - ``tell(config, value)`` reports a finished trial: ``value`` is the objective
      value to be minimised, or None if the trial failed.

    Attributes:
        name: The sampler's name.
        space: The search space.
        encoder: Vector encoding of the space.
        rng: The sampler's random generator.
    """

    name: str = "sampler"

    def __init__(self, space: CS.ConfigurationSpace, seed: int | None = None) -> None:
        self.space = space
        self.encoder = Encoder(space)
        self.rng = np.random.default_rng(seed)
        self._X = np.empty((16, self.encoder.dim))
        self._y = np.empty(16)
        self._n = 0
        self._seen: set[tuple[tuple[str, Any], ...]] = set()
        self.n_failed = 0
        self.failed: list[dict[str, Any]] = []

    @property
    def n_observed(self) -> int:
        """Number of complete trials told."""
        return self._n

    @property
    def X(self) -> np.ndarray:
        """Encoded configurations of the complete trials told, ``(n, dim)``."""
        return self._X[: self._n]

    @property
    def y(self) -> np.ndarray:
        """Their objective values (minimised)."""
        return self._y[: self._n]

    def tell(self, config: Mapping[str, Any], value: float | None) -> None:
        """Report a finished trial; ``value`` is None for a failed one."""
        self._seen.add(config_key(config))
        if value is None or not math.isfinite(value):
            self.n_failed += 1
            self.failed.append(dict(config))
            return
        if self._n == len(self._y):
            self._X = np.concatenate([self._X, np.empty_like(self._X)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._X[self._n] = self.encoder.encode([config])[0]
        self._y[self._n] = value
        self._n += 1

    def restore(
        self, config: Mapping[str, Any], value: float | None, proposed_by: str
    ) -> None:
        """Report a trial of a resumed study with the label of what proposed it.

        Samplers that learn from which of their parts proposed a trial override
        this; the others just tell.
        """
        self.tell(config, value)

    def discard(self, config: Mapping[str, Any], proposed_by: str) -> None:
        """Forget a proposal whose evaluation was cut off (Ctrl-C, a stop, a
        process that ended): it says nothing about its configuration, which
        may be proposed again. Samplers that keep a queue of proposals put it
        back; the others have nothing to forget, since they were never told."""
        del config, proposed_by  # nothing to forget here

    def tell_many(
        self, configs: Sequence[Mapping[str, Any]], values: Sequence[float | None]
    ) -> None:
        """Report several finished trials at once."""
        for config, value in zip(configs, values, strict=True):
            self.tell(config, value)

    @abc.abstractmethod
    def ask(self, pending: Sequence[Mapping[str, Any]] = ()) -> Proposal:
        """Propose the next configuration, given those being evaluated now."""

    def is_fresh(
        self, config: Mapping[str, Any], pending_keys: set[tuple[tuple[str, Any], ...]]
    ) -> bool:
        """Whether a configuration is neither pending nor already evaluated."""
        key = config_key(config)
        return key not in pending_keys and key not in self._seen

    def random_proposal(
        self, pending: Sequence[Mapping[str, Any]] = (), label: str = "random"
    ) -> Proposal:
        """A uniformly random legal configuration, fresh where possible.

        When every configuration drawn was evaluated already, one of those that
        is not pending is proposed again.
        """
        pending_keys = {config_key(p) for p in pending}
        config: dict[str, Any] = {}
        repeat: dict[str, Any] | None = None
        for _ in range(64):
            vectors = self.encoder.sample(self.rng, 16)
            for vector in vectors:
                config = self.encoder.decode(vector)
                if self.encoder.constrained and not self.encoder.is_valid(config):
                    continue
                key = config_key(config)
                if key in pending_keys:
                    continue
                if key not in self._seen:
                    return Proposal(config, label)
                if repeat is None:
                    repeat = config
        if repeat is not None:
            return Proposal(repeat, label)
        if not config or not self.encoder.is_valid(config):
            config = self.encoder.fallback_default()
        return Proposal(config, label)


class ModelSampler(Sampler):
    """A sampler with a model: random configurations until ``n_init`` complete
    trials, then a random one with probability ``random_fraction`` and otherwise
    the model's proposal. Subclasses set both attributes and implement
    :meth:`model_proposal`."""

    n_init: int
    random_fraction: float

    def ask(self, pending: Sequence[Mapping[str, Any]] = ()) -> Proposal:
        """Propose the next configuration (see the class docstring)."""
        if self.encoder.dim == 0:
            return Proposal(self.encoder.decode(np.empty(0)), self.name)
        if (
            self.n_observed < max(self.n_init, 2)
            or self.rng.random() < self.random_fraction
        ):
            return self.random_proposal(pending)
        return self.model_proposal(self.X, self.y, pending)

    @abc.abstractmethod
    def model_proposal(
        self,
        X: np.ndarray,
        y: np.ndarray,
        pending: Sequence[Mapping[str, Any]] = (),
        label: str = "",
    ) -> Proposal:
        """Propose from the model fitted on ``(X, y)`` (encoded, minimised)."""
