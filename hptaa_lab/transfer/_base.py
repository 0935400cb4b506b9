"""Shared machinery of transfer methods: previous trials, projection, fallback."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.samplers import Proposal, Sampler, config_key, make_sampler
from hptaa_lab.space import Mapping as SpaceMapping
from hptaa_lab.space import Projection, project

__all__ = ["PreviousTrials", "TransferSampler"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreviousTrials:
    """The complete trials of a previous study.

    Attributes:
        space: The previous search space.
        configs: Configurations of the complete trials.
        values: Their objective values, to be minimised.
        numbers: Their trial numbers.
        study: The previous study's name (for messages).
        incoming: The mapping stored with this study, from its own previous study
            into it (used to follow a chain of adjustments).
        ancestors: The trials of older studies along the chain, nearest first
            (each with its own ``incoming`` mapping).
    """

    space: CS.ConfigurationSpace
    configs: tuple[dict[str, Any], ...]
    values: tuple[float, ...]
    numbers: tuple[int, ...] = ()
    study: str = ""
    incoming: SpaceMapping | None = None
    ancestors: tuple[PreviousTrials, ...] = ()


def project_chain(
    space: CS.ConfigurationSpace,
    mapping: SpaceMapping | None,
    previous: PreviousTrials,
    *,
    clip: bool | Collection[str] = False,
    forget: bool = False,
) -> list[tuple[str, Projection]]:
    """Project every ancestor's trials into the current space, hop by hop.

    An ancestor's trials are projected into the next newer study's space with the
    mapping stored on that study, and so on up to the current space (with
    ``mapping``). Values unknown after a hop stay unknown. ``clip`` as for
    ``project``, into the current space only: a value outside an older study's
    narrowed range drops its trial at that hop, as without ``clip``, rather than
    reaching the current space at the older bound (a range narrowed and then
    widened again would hold it where it was). ``forget`` as for ``project``, at
    every hop; the final projection's ``forgotten`` lists the values forgotten at
    any hop under their current names.

    Returns:
        (ancestor study name, projection) for each ancestor, nearest first.
    """
    newer = [previous, *previous.ancestors]
    result = []
    for k, ancestor in enumerate(previous.ancestors, start=1):
        configs: tuple[dict[str, Any], ...] = ancestor.configs
        values: tuple[float, ...] = ancestor.values
        # The ancestor's own trial numbers, through every hop (dropped and
        # clipped trials are reported by them).
        numbers: Sequence[int] = ancestor.numbers or range(len(configs))
        source_space = ancestor.space
        lost: set[str] = set()
        forgotten: list[tuple[int, str]] = []
        hops = [(t.space, t.incoming, t.study) for t in reversed(newer[:k])]
        steps = [*hops, (space, mapping, None)]
        for step, (target_space, incoming, into) in enumerate(steps):
            last = step == len(hops)
            hop = project(
                source_space,
                target_space,
                configs,
                values,
                incoming,
                numbers,
                clip=clip if last else False,
                forget=forget,
                label=f"trials of {ancestor.study or f'ancestor {k}'} (into the "
                + (f"space of {into})" if into else "current space)"),
            )
            # Values forgotten at an earlier hop follow this hop's renames.
            renames = incoming.renames if incoming else {}
            kept_numbers = set(hop.numbers)
            forgotten = [
                (number, renames.get(name, name))
                for number, name in forgotten
                if number in kept_numbers and renames.get(name, name) in target_space
            ] + list(hop.forgotten)
            # A hyperparameter removed at an earlier hop and added back here: the
            # ancestor's trials had their own values for it, so the value the
            # newer study hard-coded is not theirs; leave it unknown.
            refilled = lost & set(incoming.previous_fixed if incoming else ())
            before = {n for c in configs for n in c}
            configs = tuple(
                {n: v for n, v in c.items() if n not in refilled} for c in hop.configs
            )
            lost |= before - {n for c in configs for n in c}
            values, numbers, source_space = hop.values, hop.numbers, target_space
        final = dataclasses.replace(
            hop, configs=configs, forgotten=tuple(dict.fromkeys(forgotten))
        )
        result.append((ancestor.study or f"ancestor {k}", final))
    return result


_BEST_FIRST = "best-first"
"""What a best-first proposal is labelled."""


class TransferSampler(Sampler):
    """A sampler that uses previous trials, wrapping a plain model sampler.

    Subclasses implement :meth:`_ask`; with ``best_first`` the very first proposal
    is the best projected previous configuration (proposed once). When no previous
    trial survives projection the method warns and behaves as the plain sampler.

    Args:
        space: The current search space.
        previous: The previous study's complete trials.
        mapping: Confirmed renames, transforms and fixed values.
        model: "tpe" or "gp": the model of the current study (and of the previous
            trials where the method fits one).
        seed: Seed of the random generator.
        best_first: Whether to evaluate the best projected configuration first.
        clip: Keep previous trials outside a narrowed range at its nearest bound
            (``project(..., clip=True)``) instead of dropping them.
        forget: Keep previous trials whose choice was removed, with that value
            unknown (``project(..., forget=True)``), instead of dropping them.
    """

    name = "transfer"
    options: tuple[str, ...] = ()
    """Keyword options a user may set (through ``make_transfer`` or
    ``create_study(transfer_options=...)``): JSON values only."""
    warns_without_projection = True
    """Whether construction warns when no previous trial survives projection
    (methods with other sources of previous trials warn themselves)."""

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> None:
        """Raise ValueError for an option value the method refuses (the names
        are checked against :attr:`options` before)."""

    def __init__(
        self,
        space: CS.ConfigurationSpace,
        previous: PreviousTrials,
        *,
        mapping: SpaceMapping | None = None,
        model: str = "tpe",
        seed: int | None = None,
        best_first: bool = False,
        clip: bool | Collection[str] = False,
        forget: bool = False,
    ) -> None:
        super().__init__(space, seed)
        # Its own stream, apart from the model's: the model is seeded with ``seed``
        # so that the fallback proposes exactly what the plain sampler would.
        self.rng = np.random.default_rng(None if seed is None else [seed, 1])
        self.previous = previous
        self.mapping = mapping or SpaceMapping()
        self.model = model
        self.seed = seed
        self.base = make_sampler(model, space, seed)
        self.projection: Projection = project(
            previous.space,
            space,
            previous.configs,
            previous.values,
            self.mapping,
            previous.numbers or None,
            clip=clip,
            forget=forget,
            label=f"trials of {previous.study}" if previous.study else None,
        )
        self.fallback = len(self.projection) == 0
        self.best_first = best_first
        self._best_done = False
        if self.fallback and self.warns_without_projection:
            logger.warning(
                "%s: no previous trial of %s survived projection into the current "
                "search space (%d dropped); tuning with plain %s instead.",
                self.name,
                previous.study or "the previous study",
                len(self.projection.dropped),
                model,
            )

    @property
    def n_observed(self) -> int:
        """Number of complete current trials told."""
        return self.base.n_observed

    @property
    def X(self) -> np.ndarray:
        """Encoded configurations of the complete current trials told."""
        return self.base.X

    @property
    def y(self) -> np.ndarray:
        """Their objective values (minimised)."""
        return self.base.y

    def tell(self, config: Mapping[str, Any], value: float | None) -> None:
        """Report a finished current trial to this method and its model."""
        self._seen.add(config_key(config))
        if value is None or not math.isfinite(value):
            self.n_failed += 1
        self.base.tell(config, value)
        self._tell(config, value)
        self._best_done = True

    def _tell(self, config: Mapping[str, Any], value: float | None) -> None:
        """Hook for subclasses that keep extra models."""

    def discard(self, config: Mapping[str, Any], proposed_by: str) -> None:
        """A best-first proposal whose evaluation was cut off is due again."""
        if proposed_by == _BEST_FIRST:
            self._best_done = False

    def ask(self, pending: Sequence[Mapping[str, Any]] = ()) -> Proposal:
        """Best first where asked, then the method's own proposals."""
        if self.fallback:
            return self.base.ask(pending)
        if self.best_first and not self._best_done:
            self._best_done = True
            proposal = self.best_proposal(pending, _BEST_FIRST)
            if proposal is not None:
                return proposal
        return self._ask(pending)

    def _ask(self, pending: Sequence[Mapping[str, Any]]) -> Proposal:
        return self.base.ask(pending)

    def best_proposal(
        self, pending: Sequence[Mapping[str, Any]], label: str
    ) -> Proposal | None:
        """The best projected configuration, unknown values filled at random."""
        pending_keys = {config_key(p) for p in pending}
        for i in self.projection.ranked()[:10]:
            try:
                config = self.encoder.complete(self.projection.configs[i], self.rng)
            except ValueError:
                continue
            if self.is_fresh(config, pending_keys):
                return Proposal(config, label)
        return None

    def prior_proposal(
        self,
        prior: Sampler,
        names: Sequence[str],
        pending: Sequence[Mapping[str, Any]],
        label: str,
    ) -> Proposal | None:
        """A fresh configuration from a model of previous trials over ``names``,
        the other values filled at random; None after 20 stale tries."""
        pending_keys = {config_key(p) for p in pending}
        prior_pending = [restricted(p, names) for p in pending]
        for _ in range(20):
            partial = prior.ask(prior_pending).config
            config = self.merge(partial, {})
            if config is not None and self.is_fresh(config, pending_keys):
                return Proposal(config, label)
        return None

    def merge(
        self, partial: Mapping[str, Any], fixed: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Combine proposed and fixed values into a valid full configuration."""
        values = {**fixed, **partial}
        try:
            return self.encoder.complete(values, self.rng)
        except ValueError:
            return None


def ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks of values scaled to [0, 1] (best 0), ties broken by order."""
    order = np.argsort(np.asarray(values), kind="stable")
    out = np.empty(len(order))
    out[order] = np.arange(len(order))
    return out / max(len(order) - 1, 1)


def varying_names(
    configs: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    forgotten: Sequence[Collection[str]] = (),
) -> list[str]:
    """The names, in order, that every configuration knows and that take more than
    one value across them. ``forgotten`` gives, per configuration, names whose
    value projection left unknown (a removed choice): they count as known there.

    A value that never varied (e.g. one the previous version hard-coded, known
    through the mapping's previous fixed values) says nothing about which values
    are better, so models of previous trials leave it out; the best previous
    configuration still carries it.
    """
    lost = list(forgotten) or [()] * len(configs)
    known = (
        set.intersection(*(set(c) | set(f) for c, f in zip(configs, lost, strict=True)))
        if configs
        else set()
    )
    return [
        n
        for n in names
        if n in known and len({_hashable(c[n]) for c in configs if n in c}) > 1
    ]


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else repr(value)


def restricted(config: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The values of ``config`` for ``names`` only."""
    return {n: config[n] for n in names if n in config}


def prior_sampler(
    model: str,
    space: CS.ConfigurationSpace,
    names: Sequence[str],
    configs: Sequence[Mapping[str, Any]],
    values: Sequence[float],
    seed: int | None,
    **options: Any,
) -> Sampler:
    """A model sampler over ``names`` fitted on previous configurations (ranked);
    ``options`` go to the sampler (e.g. n_init, min_bandwidth)."""
    from hptaa_lab.space import subspace

    sampler = make_sampler(
        model, subspace(space, names), None if seed is None else seed + 7919, **options
    )
    sampler.tell_many([restricted(c, names) for c in configs], list(ranks(values)))
    # NOTE(transfer): previous configurations are not evaluated in the current
    # study yet, so the prior may propose them again; freshness is judged against
    # the current trials by the transfer method.
    sampler._seen.clear()
    return sampler
