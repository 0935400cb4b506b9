"""Random search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hptaa_lab.samplers._base import Proposal, Sampler

__all__ = ["RandomSampler"]


class RandomSampler(Sampler):
    """Uniform random configurations (log-uniform on log-scale hyperparameters)."""

    name = "random"

    def ask(self, pending: Sequence[Mapping[str, Any]] = ()) -> Proposal:
        """Propose a random configuration that is not pending or already evaluated."""
        return self.random_proposal(pending)
