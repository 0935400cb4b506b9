"""The paper's transfer methods: best-first, T2PE, only-new, drop-unimportant."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.samplers import Proposal, Sampler, config_key, make_sampler
from hptaa_lab.space import hp_kind, subspace
from hptaa_lab.space._encoding import CONSTANT
from hptaa_lab.transfer._base import (
    PreviousTrials,
    TransferSampler,
    prior_sampler,
    restricted,
    varying_names,
)

__all__ = ["T2PE", "BestFirst", "DropUnimportant", "OnlyNew"]

logger = logging.getLogger(__name__)


class BestFirst(TransferSampler):
    """Evaluate the best projected previous configuration first, then the plain
    model (new hyperparameters filled at random, or with their previous fixed
    value when the mapping knows it)."""

    name = "best-first"

    def __init__(
        self, space: CS.ConfigurationSpace, previous: PreviousTrials, **options: Any
    ) -> None:
        options["best_first"] = True
        super().__init__(space, previous, **options)


class T2PE(TransferSampler):
    """Transfer TPE: while the current model is still in its initial random phase,
    sample the hyperparameters the previous trials know from a model fitted on the
    projected previous trials (objective values replaced by ranks) and fill the
    others at random; afterwards the plain model alone."""

    name = "t2pe"

    def __init__(
        self, space: CS.ConfigurationSpace, previous: PreviousTrials, **options: Any
    ) -> None:
        super().__init__(space, previous, **options)
        self.prior: Sampler | None = None
        if self.fallback:
            return
        self.prior_names = varying_names(self.projection.configs, self.encoder.names)
        if self.prior_names:
            self.prior = prior_sampler(
                self.model,
                space,
                self.prior_names,
                self.projection.configs,
                self.projection.values,
                self.seed,
            )

    @property
    def in_prior_phase(self) -> bool:
        """Whether proposals still come from the previous-trial model."""
        n_init = getattr(self.base, "n_init", 0)
        return self.prior is not None and self.base.n_observed < n_init

    def _ask(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        if self.prior is None or not self.in_prior_phase:
            return self.base.ask(pending)
        proposal = self.prior_proposal(self.prior, self.prior_names, pending, "t2pe")
        return proposal if proposal is not None else self.base.ask(pending)


class BestFirstT2PE(T2PE):
    """Best first, then T2PE: the paper's best combination."""

    name = "best-first+t2pe"

    def __init__(
        self, space: CS.ConfigurationSpace, previous: PreviousTrials, **options: Any
    ) -> None:
        options["best_first"] = True
        super().__init__(space, previous, **options)


class _FixedSubset(TransferSampler):
    """Fix some hyperparameters at the best projected configuration and tune the
    rest with the model; with nothing left to tune, propose the fixed
    configuration once and continue as the plain model."""

    def __init__(
        self, space: CS.ConfigurationSpace, previous: PreviousTrials, **options: Any
    ) -> None:
        super().__init__(space, previous, **options)
        self.inner: Sampler | None = None
        self.fixed: dict[str, Any] = {}
        self.tuned: list[str] = []
        self._exhausted = False
        if self.fallback:
            return
        best = self.projection.best()
        assert best is not None
        self.tuned = self._tuned_names()
        self.fixed = {n: v for n, v in best[0].items() if n not in self.tuned}
        if self.tuned:
            self.inner = make_sampler(
                self.model, subspace(space, self.tuned), self.seed
            )
        else:
            self.best_first = True

    def _tuned_names(self) -> list[str]:
        raise NotImplementedError

    def _unknown_names(self) -> set[str]:
        """Current hyperparameters the previous study could not tune: new ones,
        and those that were a constant of the previous space (a fixed value made
        tunable, under its name or renamed onto a range); they are tuned, not
        fixed."""
        renamed = {new: old for old, new in self.mapping.renames.items()}
        constants = {
            name
            for name in self.encoder.names
            if (old := renamed.get(name, name)) in self.previous.space
            and (name in renamed or name not in self.mapping.renames)
            and hp_kind(self.previous.space[old]) == CONSTANT
        }
        return set(self.projection.only_new) | constants

    def _tell(self, config: Mapping[str, Any], value: float | None) -> None:
        if self.inner is not None:
            self.inner.tell(restricted(config, self.tuned), value)

    def _ask(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        if self.inner is None or self._exhausted:
            return self._give_up(pending, "it has nothing to optimize")
        pending_keys = {config_key(p) for p in pending}
        inner_pending = [restricted(p, self.tuned) for p in pending]
        for _ in range(20):
            partial = self.inner.ask(inner_pending).config
            config = self.merge(partial, self.fixed)
            if config is not None and self.is_fresh(config, pending_keys):
                return Proposal(config, self.name)
        self._exhausted = True
        return self._give_up(pending, "its reduced search space is used up")

    def _give_up(self, pending: Sequence[Mapping[str, Any]], why: str) -> Proposal:
        if not getattr(self, "_warned", False):
            self._warned = True
            logger.warning(
                "%s: %s; continuing with plain %s over the whole search space.",
                self.name,
                why,
                self.model,
            )
        return self.base.ask(pending)


class OnlyNew(_FixedSubset):
    """Fix the shared hyperparameters at the best projected configuration; tune
    only the hyperparameters that are new in the current space (or were a
    constant of the previous space)."""

    name = "only-new"

    def _tuned_names(self) -> list[str]:
        unknown = self._unknown_names()
        return [n for n in self.encoder.names if n in unknown]


class DropUnimportant(_FixedSubset):
    """Tune the new hyperparameters (and those that were a constant of the
    previous space) and the shared ones whose fANOVA importance on the previous
    trials is at least the mean; fix the rest at the best projected
    configuration."""

    name = "drop-unimportant"

    def _tuned_names(self) -> list[str]:
        from hptaa_lab.importance import fanova_importance

        previous = self.previous
        importance = fanova_importance(
            previous.space, previous.configs, previous.values, seed=self.seed
        )
        self.importance = importance
        threshold = float(np.mean(list(importance.values()))) if importance else 0.0
        renames = self.mapping.renames
        important = {renames.get(n, n) for n, v in importance.items() if v >= threshold}
        unknown = self._unknown_names()
        return [n for n in self.encoder.names if n in unknown or n in important]
