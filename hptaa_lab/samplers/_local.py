"""Local proposals: the incumbent with one or a few values moved a little.

A model-based search that has settled on a basin can stay just short of what the
basin holds: its good density spreads over the good set, not around the best
point. After a stall, a share of proposals that perturb the incumbent refines it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hptaa_lab.samplers._base import Proposal, Sampler, config_key

__all__ = ["local_proposal", "stalled"]

_ATTEMPTS = 32
"""Perturbations tried before giving up (every one evaluated already)."""


def stalled(y: np.ndarray) -> int:
    """Trials told since the best of ``y`` (its first occurrence); 0 if empty."""
    if len(y) == 0:
        return 0
    return len(y) - 1 - int(np.argmin(y))


def local_proposal(
    sampler: Sampler,
    X: np.ndarray,
    y: np.ndarray,
    pending: Sequence[Mapping[str, Any]] = (),
    *,
    step: float = 0.05,
    label: str = "local",
) -> Proposal | None:
    """The best of ``(X, y)`` (encoded, minimised) with some values moved.

    One value moves, then each further one with probability 1/2 (a geometric
    count): a numeric value by a normal step of standard deviation ``step`` in
    the unit-scaled space, or to its neighbour when that step stays inside one
    value of an ordinal's or an int's grid; a categorical value to another
    choice at random. Values a moved choice activates are drawn at random.

    Returns:
        A legal, fresh proposal, or None when no move in a few dozen tries gave
        one (every neighbour evaluated or pending).
    """
    if len(y) == 0:
        return None
    encoder, rng = sampler.encoder, sampler.rng
    best = X[int(np.argmin(y))]
    # A categorical of one choice has nowhere to move.
    movable = ~encoder.is_categorical | (encoder.n_choices > 1)
    active = np.flatnonzero(~np.isnan(best) & movable)
    if active.size == 0:
        return None
    pending_keys = {config_key(p) for p in pending}
    # A move that changed nothing (a value at its bound stepped outwards) decodes
    # to the incumbent, which may differ from the configuration evaluated in the
    # last bit of a float and so pass for a fresh one.
    pending_keys.add(config_key(encoder.decode(best)))
    for _ in range(_ATTEMPTS):
        x = best.copy()
        inactive = np.isnan(x)
        x[inactive] = encoder.sample(rng, 1)[0][inactive]
        n_moved = 1
        while n_moved < active.size and rng.random() < 0.5:
            n_moved += 1
        for j in rng.choice(active, size=n_moved, replace=False):
            x[j] = _moved(sampler, int(j), float(x[j]), step)
        config = encoder.decode(x)
        if encoder.constrained and not encoder.is_valid(config):
            continue
        if sampler.is_fresh(config, pending_keys):
            return Proposal(config, label)
    return None


def _moved(sampler: Sampler, j: int, u: float, step: float) -> float:
    """Encoding ``u`` of dimension ``j`` moved a little (see local_proposal)."""
    encoder, rng = sampler.encoder, sampler.rng
    if encoder.is_categorical[j]:
        c = int(encoder.n_choices[j])
        return float((int(u) + 1 + int(rng.integers(c - 1))) % c) if c > 1 else u
    delta = rng.normal(0.0, step)
    moved = min(max(u + delta, 0.0), 1.0)
    before = encoder.decode_value(j, u)
    if encoder.decode_value(j, moved) != before:
        return moved
    # A step inside one value of the grid: the neighbour on the step's side (or
    # the other side at an end of the range).
    name = encoder.names[j]
    hp = sampler.space[name]
    sign = 1 if delta >= 0 else -1
    if hasattr(hp, "sequence"):
        grid = list(hp.sequence)
        i = grid.index(before)
        for k in (i + sign, i - sign):
            if 0 <= k < len(grid):
                return encoder.encode_value(name, grid[k])
        return u
    if isinstance(before, int):
        low, high = hp.lower, hp.upper  # type: ignore[attr-defined]
        for value in (before + sign, before - sign):
            if low <= value <= high:
                return encoder.encode_value(name, value)
    return moved
