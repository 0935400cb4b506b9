"""Transfer methods: samplers that start the current study from previous trials."""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import Any

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
    "check_options",
    "make_transfer",
    "names",
    "options",
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


def options(name: str) -> list[str]:
    """Names of the options that transfer method ``name`` takes (see
    :func:`make_transfer`); empty for the paper's methods, which take none."""
    key = name.lower()
    if key not in _METHODS:
        raise UnknownNameError("transfer method", name, names())
    return list(_METHODS[key].options)


def make_transfer(
    name: str,
    space: CS.ConfigurationSpace,
    previous: PreviousTrials,
    *,
    mapping: Mapping | None = None,
    model: str = "tpe",
    seed: int | None = None,
    options: MappingABC[str, Any] | None = None,
) -> TransferSampler:
    """Create the transfer method ``name`` over the current ``space``.

    Args:
        name: One of :func:`names`.
        space: The current search space.
        previous: The previous study's complete trials.
        mapping: Confirmed renames, transforms and fixed values.
        model: "tpe" or "gp".
        seed: Seed of the random generator.
        options: Keyword options of the method (e.g. ``{"ties": None}`` for
            auto; see :class:`Auto`); :func:`options` names those it takes.

    Raises:
        UnknownNameError: If the method, the model or an option is unknown.
        ValueError: If an option's value is refused by the method.
    """
    key = name.lower()
    if key not in _METHODS:
        raise UnknownNameError("transfer method", name, names())
    if model not in MODELS:
        raise UnknownNameError(
            "transfer model", model, [m for m in sampler_names() if m in MODELS]
        )
    extra = dict(options or {})
    check_options(key, extra)
    return _METHODS[key](
        space, previous, mapping=mapping, model=model, seed=seed, **extra
    )


def check_options(name: str, options: MappingABC[str, Any]) -> None:
    """Check options of transfer method ``name`` without building it.

    Raises:
        UnknownNameError: If the method or an option name is unknown.
        ValueError: If the method takes no options, or refuses a value.
    """
    key = name.lower()
    if key not in _METHODS:
        raise UnknownNameError("transfer method", name, names())
    method = _METHODS[key]
    for option in options:
        if option not in method.options:
            if not method.options:
                raise ValueError(
                    f"Transfer method {key!r} takes no options, got {option!r}; "
                    f"options are for: "
                    f"{', '.join(n for n in names() if _METHODS[n].options)}."
                )
            raise UnknownNameError(f"{key} option", str(option), list(method.options))
    method.check_options(options)
