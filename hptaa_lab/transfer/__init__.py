"""Transfer methods: samplers that start the current study from previous trials."""

from __future__ import annotations

import ConfigSpace as CS

from hptaa_lab.errors import UnknownNameError
from hptaa_lab.samplers import names as sampler_names
from hptaa_lab.space import Mapping
from hptaa_lab.transfer._auto import Auto, AutoLast
from hptaa_lab.transfer._base import PreviousTrials, TransferSampler, project_chain
from hptaa_lab.transfer._methods import (
    T2PE,
    BestFirst,
    BestFirstT2PE,
    DropUnimportant,
    OnlyNew,
)

__all__ = [
    "T2PE",
    "Auto",
    "AutoLast",
    "BestFirst",
    "BestFirstT2PE",
    "DropUnimportant",
    "OnlyNew",
    "PreviousTrials",
    "TransferSampler",
    "make_transfer",
    "names",
    "project_chain",
]

_METHODS: dict[str, type[TransferSampler]] = {
    "auto": Auto,
    "auto-last": AutoLast,
    "best-first": BestFirst,
    "best-first+t2pe": BestFirstT2PE,
    "drop-unimportant": DropUnimportant,
    "only-new": OnlyNew,
    "t2pe": T2PE,
}

MODELS = ("gp", "tpe")


def names() -> list[str]:
    """Names of the transfer methods, sorted."""
    return sorted(_METHODS)


def make_transfer(
    name: str,
    space: CS.ConfigurationSpace,
    previous: PreviousTrials,
    *,
    mapping: Mapping | None = None,
    model: str = "tpe",
    seed: int | None = None,
) -> TransferSampler:
    """Create the transfer method ``name`` over the current ``space``.

    Args:
        name: One of :func:`names`.
        space: The current search space.
        previous: The previous study's complete trials.
        mapping: Confirmed renames, transforms and fixed values.
        model: "tpe" or "gp".
        seed: Seed of the random generator.

    Raises:
        UnknownNameError: If the method or the model is unknown.
    """
    key = name.lower()
    if key not in _METHODS:
        raise UnknownNameError("transfer method", name, names())
    if model not in MODELS:
        raise UnknownNameError(
            "transfer model", model, [m for m in sampler_names() if m in MODELS]
        )
    return _METHODS[key](space, previous, mapping=mapping, model=model, seed=seed)
