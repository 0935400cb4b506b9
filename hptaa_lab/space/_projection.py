"""Projection of previous trials into the current search space (HT-AA paper, section 1)."""

from __future__ import annotations

import copy
import logging
import math
import sys
from collections.abc import Collection, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.space._diff import describe
from hptaa_lab.space._encoding import (
    CATEGORICAL,
    CONSTANT,
    FLOAT,
    INT,
    ORDINAL,
    Encoder,
    choice_index,
    choice_values,
    hp_kind,
)
from hptaa_lab.space._mapping import Mapping, _kept, _legal, mapped_range

__all__ = ["Projection", "names_beyond", "project", "subspace"]

_NO_CHOICE = object()
"""A previous value that is none of a current hyperparameter's choices."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Projection:
    """Previous trials expressed in the current search space.

    Attributes:
        configs: Projected configurations; hyperparameters whose value is unknown
            (added ones without a previous fixed value) are absent.
        values: Their objective values, in the current study's direction
            (to be minimised).
        numbers: The previous trial numbers they come from.
        exact: Whether each trial matches every value a removed hyperparameter is
            fixed to now (True when the mapping fixes none).
        dropped: (previous trial number, reason) for each trial that did not
            survive.
        clipped: Previous trial numbers kept by moving a value outside its
            current range to the nearest bound (``project(..., clip=True)``).
        forgotten: (previous trial number, current name) for each value that is
            no longer a current choice and was left unknown, keeping its trial
            (``project(..., forget=True)``).
        shared: Current names of hyperparameters present in both spaces.
        only_new: Hyperparameters only in the current space.
        only_old: Hyperparameters only in the previous space.
    """

    configs: tuple[dict[str, Any], ...]
    values: tuple[float, ...]
    numbers: tuple[int, ...]
    exact: tuple[bool, ...]
    dropped: tuple[tuple[int, str], ...] = field(default=())
    clipped: tuple[int, ...] = ()
    forgotten: tuple[tuple[int, str], ...] = ()
    shared: tuple[str, ...] = ()
    only_new: tuple[str, ...] = ()
    only_old: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.configs)

    def best(self) -> tuple[dict[str, Any], float] | None:
        """The projected configuration with the lowest value, or None if empty."""
        if not self.values:
            return None
        i = min(range(len(self.values)), key=self.values.__getitem__)
        return self.configs[i], self.values[i]

    def ranked(self, whole_first: bool = False) -> list[int]:
        """Indices of the projected trials, best first; with ``whole_first``, the
        trials with a forgotten value come after all the others."""
        partial = {number for number, _ in self.forgotten} if whole_first else set()
        return sorted(
            range(len(self.values)),
            key=lambda i: (self.numbers[i] in partial, self.values[i]),
        )


def project(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    configs: Sequence[MappingABC[str, Any]],
    values: Sequence[float],
    mapping: Mapping | None = None,
    numbers: Sequence[int] | None = None,
    *,
    clip: bool | Collection[str] = False,
    forget: bool = False,
    label: str | None = None,
) -> Projection:
    """Project previous configurations into the current search space.

    Renames and value transforms of the mapping apply first. Values of removed
    hyperparameters are dropped; a trial whose shared value is illegal in the
    current range is dropped; values of added hyperparameters are filled from the
    mapping's previous fixed values where known, else left unknown. Values of
    hyperparameters that the current conditions make inactive are dropped, and a
    complete configuration that hits a forbidden clause is dropped.

    Args:
        previous_space: The previous search space.
        current_space: The current search space.
        configs: Previous configurations (complete trials only).
        values: Their objective values (minimised).
        mapping: Confirmed renames, transforms and fixed values.
        numbers: Previous trial numbers (default: positions).
        clip: Keep a trial whose numeric value lies outside a narrowed current
            range, with the value moved to the nearest bound, instead of dropping
            it (the paper drops it). After a range was narrowed, the trials outside
            it are often most of the previous study and its best ones. True for
            every range that overlaps its previous one, or the current names of
            the ranges to clip.
        forget: Keep a trial whose categorical or ordinal value is no longer a
            current choice (a removed choice), with that value unknown, instead of
            dropping it (the paper drops it). After a choice was removed from
            several hyperparameters (an operation from every edge of a cell),
            most trials used it somewhere; their other values still say which
            configurations were good.
        label: What the trials are, for the log ("the trials of v1"); by
            default "previous trials".

    Returns:
        The Projection.
    """
    mapping = mapping or Mapping()
    numbers = list(numbers) if numbers is not None else list(range(len(configs)))
    encoder = Encoder(current_space)
    renamed = {mapping.renames.get(n, n) for n in previous_space}
    shared = tuple(n for n in current_space if n in renamed)
    only_new = tuple(n for n in current_space if n not in renamed)
    only_old = tuple(
        n for n in previous_space if mapping.renames.get(n, n) not in current_space
    )
    clippable = _overlapping(previous_space, current_space, mapping) if clip else set()
    if clip is not True:
        clippable &= set(clip or ())
    kept: list[tuple[dict[str, Any], float, int, bool]] = []
    dropped: list[tuple[int, str]] = []
    clipped: list[int] = []
    forgotten: list[tuple[int, str]] = []
    forgettable = (
        _choice_names(previous_space, current_space, mapping) if forget else set()
    )
    for config, value, number in zip(configs, values, numbers, strict=True):
        moved: list[str] = []
        lost: list[str] = []
        result = _project_one(
            config, current_space, encoder, mapping, clippable, moved, forgettable, lost
        )
        if isinstance(result, str):
            dropped.append((number, result))
            continue
        if any(name in result for name in moved):  # not if it became inactive
            clipped.append(number)
        forgotten.extend((number, name) for name in lost)
        exact = all(
            config.get(name) == fixed for name, fixed in mapping.current_fixed.items()
        )
        kept.append((result, float(value), number, exact))
    if dropped:
        logger.info(
            "projection kept %d of %d %s; first drop: trial %d, %s",
            len(kept),
            len(configs),
            label or "previous trials",
            dropped[0][0],
            dropped[0][1],
        )
    return Projection(
        configs=tuple(k[0] for k in kept),
        values=tuple(k[1] for k in kept),
        numbers=tuple(k[2] for k in kept),
        exact=tuple(k[3] for k in kept),
        dropped=tuple(dropped),
        clipped=tuple(clipped),
        forgotten=tuple(forgotten),
        shared=shared,
        only_new=only_new,
        only_old=only_old,
    )


def _project_one(
    config: MappingABC[str, Any],
    space: CS.ConfigurationSpace,
    encoder: Encoder,
    mapping: Mapping,
    clippable: Collection[str] = (),
    clipped: list[str] | None = None,
    forgettable: Collection[str] = (),
    forgotten: list[str] | None = None,
) -> dict[str, Any] | str:
    """The projected configuration, or the reason the trial is dropped. Values
    of ``clippable`` hyperparameters outside their current range move to the
    nearest bound, and their names are appended to ``clipped``; values of
    ``forgettable`` ones that are no current choice are left out (unknown), and
    their names are appended to ``forgotten``."""
    values: dict[str, Any] = {}
    lost: list[str] = []
    for name, value in _mapped(config, space, mapping):
        given = value
        if hp_kind(space[name]) in (CATEGORICAL, ORDINAL, CONSTANT):
            # A choice matches as Python's == does, but a bool only a bool (the
            # previous choice 0 is no current choice False), and becomes the
            # current choice (1.0 the choice 1, as every other trial gets it).
            index = choice_index(choice_values(space[name]), value)
            value = _NO_CHOICE if index is None else choice_values(space[name])[index]
        elif isinstance(value, bool | np.bool_):
            # True == 1 in Python, but a previous bool is no number of a range.
            value = _NO_CHOICE
        if name in clippable and not _legal(space[name], value):
            bounded = _nearest_bound(space[name], value)
            if bounded is not None:
                value = bounded
                if clipped is not None:
                    clipped.append(name)
        legal = value is not _NO_CHOICE and _legal(space[name], value)
        if name in forgettable and not legal:
            lost.append(name)
            continue
        if not legal:
            if hp_kind(space[name]) in (CATEGORICAL, ORDINAL):
                return (
                    f"{name}={given!r} is not one of the current choices "
                    f"({describe(space[name])})"
                )
            if isinstance(given, bool | np.bool_):
                return (
                    f"{name}={given!r} is a bool, not a number of the current range "
                    f"({describe(space[name])})"
                )
            value = given if value is _NO_CHOICE else value
            where = "not a value of" if _within(space[name], value) else "outside"
            return (
                f"{name}={value!r} is {where} the current range "
                f"({describe(space[name])})"
            )
        values[name] = value
    # Values of the hyperparameters below a forgotten one were measured under
    # the removed choice; kept, they would also decide its value when the
    # configuration is completed.
    below = _descendants(space, lost)
    for name in below:
        values.pop(name, None)
    for name, fixed in mapping.previous_fixed.items():
        values.setdefault(name, _native(space[name], fixed))
    values.update(encoder.constants)
    values = encoder.active_values(values)
    if forgotten is not None:
        # Not one that the current conditions switch off anyway.
        forgotten.extend(
            name
            for name in lost
            if name not in below
            and name
            in encoder.active_values({**values, name: space[name].default_value})
        )
    if encoder.missing_active(values):
        clause = _violated_clause(space, values)
        if clause is not None:
            return f"configuration {values!r} hits the forbidden clause {clause}"
    elif not encoder.is_valid(values):
        return f"configuration {values!r} is forbidden in the current search space"
    return values


def _descendants(space: CS.ConfigurationSpace, names: Sequence[str]) -> set[str]:
    """Names of the hyperparameters whose conditions depend, directly or through
    others, on any of ``names``."""
    found: set[str] = set()
    todo = list(names)
    while todo:
        for child in space.children_of[todo.pop()]:
            if child.name not in found:
                found.add(child.name)
                todo.append(child.name)
    return found


def _violated_clause(space: CS.ConfigurationSpace, values: dict[str, Any]) -> Any:
    """A forbidden clause that the known values already hit, whatever the unknown
    ones turn out to be, or None."""
    for clause in space.forbidden_clauses:
        involved = {h.name for h in _clause_hps(clause)}
        if involved <= set(values) and clause.is_forbidden_value(values):
            return clause
    return None


def _mapped(
    config: MappingABC[str, Any], space: CS.ConfigurationSpace, mapping: Mapping
) -> list[tuple[str, Any]]:
    """(current name, value after the mapping's rename and transform) for each
    value of a previous configuration that reaches the current space."""
    result = []
    for old_name, value in config.items():
        name = mapping.renames.get(old_name, old_name)
        if name not in space or (old_name != name and old_name not in mapping.renames):
            continue
        if old_name not in mapping.renames and old_name in mapping.renames.values():
            continue  # another previous hyperparameter is renamed onto this name
        if name in mapping.transforms:
            value = mapping.transforms[name].apply(value)
        result.append((name, _coerce(space[name], value)))
    return result


def names_beyond(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    configs: Sequence[MappingABC[str, Any]],
    mapping: Mapping | None = None,
) -> set[str]:
    """Current names of the narrowed ranges (those ``project(..., clip=True)``
    clips) that some of ``configs`` lie beyond."""
    mapping = mapping or Mapping()
    clippable = _overlapping(previous_space, current_space, mapping)
    return {
        name
        for config in configs
        for name, value in _mapped(config, current_space, mapping)
        if name in clippable
        and not _legal(current_space[name], value)
        and _nearest_bound(current_space[name], value) is not None
    }


def _overlapping(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    mapping: Mapping,
) -> set[str]:
    """Current numeric hyperparameters whose previous range (after the mapping's
    rename and transform) overlaps their current one: narrowed or shifted, so
    a previous value outside the current range is near a current bound. A range
    that moved away entirely (or touches the current one at an end) says nothing
    about the current one. A value map is not applied to the ends."""
    names = set()
    for old, new in _reaching(previous_space, current_space, mapping):
        before: Any = previous_space[old]
        now: Any = current_space[new]
        if hp_kind(before) not in (FLOAT, INT) or hp_kind(now) not in (FLOAT, INT):
            continue
        ends = mapped_range(before, mapping.transforms.get(new))
        # Ranges that merely touch share one value: no previous trial would be
        # near the current range but that one.
        if ends is not None and ends[1] > now.lower and ends[0] < now.upper:
            names.add(new)
    return names


def _reaching(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    mapping: Mapping,
) -> list[tuple[str, str]]:
    """(previous name, current name) for each previous hyperparameter whose
    values reach the current space, renamed or not."""
    kept = _kept(previous_space, current_space, mapping.renames)
    return [
        (old, mapping.renames.get(old, old)) for old in previous_space if old in kept
    ]


def _choice_names(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    mapping: Mapping,
) -> set[str]:
    """Current names of the categorical and ordinal hyperparameters that were
    categorical or ordinal before too (a value that was a number in a range is no
    removed choice)."""
    choice_kinds = (CATEGORICAL, ORDINAL)
    names = set()
    for old, new in _reaching(previous_space, current_space, mapping):
        now: Any = current_space[new]
        if (
            hp_kind(previous_space[old]) in choice_kinds
            and hp_kind(now) in choice_kinds
        ):
            names.add(new)
    return names


def _within(hp: Any, value: Any) -> bool:
    """Whether a real number lies between a numeric range's bounds (1.5 in an
    int range does, yet is no value of it)."""
    return (
        hp_kind(hp) in (FLOAT, INT)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and hp.lower <= value <= hp.upper
    )


def _nearest_bound(hp: Any, value: Any) -> Any:
    """The bound of a numeric range nearest to a real number outside it, or
    None (not a numeric range, or not a real number)."""
    if hp_kind(hp) not in (FLOAT, INT) or isinstance(value, bool):
        return None
    if not isinstance(value, int | float) or value != value or _within(hp, value):
        return None  # NaN, or inside the range and illegal for another reason
    bound = hp.lower if value < hp.lower else hp.upper
    return _coerce(hp, int(bound) if hp_kind(hp) == INT else float(bound))


def _coerce(hp: Any, value: Any) -> Any:
    """Fit a value to the current type: a float to the nearest int of an int
    range (a float range made an int one, or a transform's result: the trial
    stands for its neighbourhood, as any other does), an int to a float."""
    kind = hp_kind(hp)
    if isinstance(value, bool):
        return value
    if kind == INT and isinstance(value, float) and math.isfinite(value):
        whole = math.floor(value)
        return whole + (value - whole >= 0.5)  # half up, as 4.5 -> 5
    if kind == FLOAT and isinstance(value, int) and abs(value) <= sys.float_info.max:
        return float(value)
    return value  # an int beyond any float stays as it is, outside any range


def subspace(
    space: CS.ConfigurationSpace, names: Sequence[str]
) -> CS.ConfigurationSpace:
    """The search space restricted to ``names``.

    Conditions whose parent and child are both kept stay; forbidden clauses stay
    only if every hyperparameter they name is kept. ``space`` is left as it was:
    the new space gets copies (ConfigSpace re-indexes the conditions and clauses
    it is given, which would corrupt the original space's checks).
    """
    space = copy.deepcopy(space)
    keep = [n for n in space if n in set(names)]
    sub = CS.ConfigurationSpace(name=space.name)
    sub.add([space[n] for n in keep])
    for condition in space.conditions:
        involved = {h.name for h in _condition_hps(condition)}
        if involved <= set(keep):
            sub.add(condition)
    for clause in space.forbidden_clauses:
        involved = {h.name for h in _clause_hps(clause)}
        if involved <= set(keep):
            sub.add(clause)
    return sub


def _condition_hps(condition: Any) -> list[Any]:
    if hasattr(condition, "components"):
        out = [condition.child] if hasattr(condition, "child") else []
        for c in condition.components:
            out.extend(_condition_hps(c))
        return out
    return [condition.child, condition.parent]


def _clause_hps(clause: Any) -> list[Any]:
    if hasattr(clause, "components"):
        out: list[Any] = []
        for c in clause.components:
            out.extend(_clause_hps(c))
        return out
    hps = [
        getattr(clause, "hyperparameter", None),
        getattr(clause, "left", None),
        getattr(clause, "right", None),
    ]
    return [h for h in hps if h is not None]


def _native(hp: Any, value: Any) -> Any:
    """A fixed value as the hyperparameter's own values are: 2.0 for an int
    range is 2, 1 for a float range is 1.0, and 1.0 for the choices [1, 2] is
    the choice 1 (the objective would otherwise get a float where it gets ints
    on every other trial)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    kind = hp_kind(hp)
    if kind == INT and float(value).is_integer():
        return int(value)
    if kind == FLOAT:
        return float(value)
    if kind in (CATEGORICAL, ORDINAL):
        choices = choice_values(hp)
        index = choice_index(choices, value)
        if index is not None:
            return choices[index]
    return value
