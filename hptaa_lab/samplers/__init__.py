"""Samplers: random search, TPE and GP, all on one contract (ask with pending, tell)."""

from __future__ import annotations

from typing import Any

import ConfigSpace as CS

from hptaa_lab.errors import UnknownNameError
from hptaa_lab.samplers._base import Proposal, Sampler, config_key
from hptaa_lab.samplers._gp import GPSampler
from hptaa_lab.samplers._random import RandomSampler
from hptaa_lab.samplers._tpe import TPESampler

__all__ = [
    "GPSampler",
    "Proposal",
    "RandomSampler",
    "Sampler",
    "TPESampler",
    "config_key",
    "make_sampler",
    "names",
]

_SAMPLERS: dict[str, type[Sampler]] = {
    "gp": GPSampler,
    "random": RandomSampler,
    "tpe": TPESampler,
}


def names() -> list[str]:
    """Names of the samplers, sorted."""
    return sorted(_SAMPLERS)


def make_sampler(
    name: str, space: CS.ConfigurationSpace, seed: int | None = None, **options: Any
) -> Sampler:
    """Create the sampler called ``name`` over ``space``.

    Raises:
        UnknownNameError: If there is no sampler of that name.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _SAMPLERS:
        raise UnknownNameError("sampler", str(name), names())
    return _SAMPLERS[key](space, seed, **options)
