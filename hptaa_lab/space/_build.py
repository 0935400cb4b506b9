"""Build ConfigSpace search spaces from a short dict form, and JSON round trip."""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.errors import InvalidSearchSpaceError

__all__ = ["as_space", "build_space", "space_from_json", "space_to_json"]

_KIND_KEYS = ("float", "int", "choices", "ordinal", "constant")


def build_space(
    spec: Mapping[str, Any], name: str | None = None
) -> CS.ConfigurationSpace:
    """Build a search space from the short dict form.

    Each entry maps a hyperparameter name to one of:

    - ``(low, high)``: a float range, or an integer range when both are ints;
    - ``(low, high, "log")``: the same on log scale;
    - a list: categorical choices;
    - a scalar: a constant;
    - a dict with one kind key, ``float``/``int`` (``(low, high)`` or
      ``(low, high, "log")``),
      ``choices``, ``ordinal`` (an ordered list) or ``constant``, and optionally
      ``log`` (bool), ``default`` and ``if`` (``{"parent": value}`` or
      ``{"parent": [values]}``: active only when the parent takes that value).

    Args:
        spec: The short dict form.
        name: Optional name of the space.

    Returns:
        The ConfigSpace search space.

    Raises:
        InvalidSearchSpaceError: If the dict is empty or an entry is malformed.
    """
    if not isinstance(spec, Mapping) or not spec:
        raise InvalidSearchSpaceError(
            "The search space is empty: give at least one hyperparameter, e.g. "
            "{'lr': (1e-4, 1e-1, 'log')}."
        )
    space = CS.ConfigurationSpace(name=name)
    conditions: list[tuple[str, Mapping[str, Any]]] = []
    for hp_name, entry in spec.items():
        space.add(_hyperparameter(str(hp_name), entry))
        if isinstance(entry, Mapping) and "if" in entry:
            conditions.append((str(hp_name), entry["if"]))
    for child, when in conditions:
        space.add(_condition(space, child, when))
    return space


def _hyperparameter(name: str, entry: Any) -> Any:
    try:
        if isinstance(entry, Mapping):
            return _from_long_form(name, entry)
        if isinstance(entry, tuple):
            return _from_range(name, entry, log=False, default=None)
        if isinstance(entry, list):
            if not entry:
                raise InvalidSearchSpaceError(
                    f"Hyperparameter {name!r}: the list of choices is empty; give at "
                    "least one choice."
                )
            return CS.Categorical(name, _distinct(name, entry))
        if isinstance(entry, str | int | float | bool):
            return CS.Constant(name, entry)
    except InvalidSearchSpaceError:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: {entry!r} is not a valid entry ({exc})."
        ) from exc
    raise InvalidSearchSpaceError(
        f"Hyperparameter {name!r}: expected a (low, high) tuple, a list of choices, a "
        f"constant or a dict with one of {_KIND_KEYS}; got {entry!r}."
    )


def _from_long_form(name: str, entry: Mapping[str, Any]) -> Any:
    kinds = [k for k in _KIND_KEYS if k in entry]
    if len(kinds) != 1:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: the dict form needs exactly one of {_KIND_KEYS}; "
            f"got keys {sorted(entry)}."
        )
    kind = kinds[0]
    default = entry.get("default")
    if kind in ("float", "int"):
        bounds = entry[kind]
        log = bool(entry.get("log"))
        # (low, high, "log") as in the short form.
        if isinstance(bounds, list | tuple) and len(bounds) == 3 and bounds[2] == "log":
            bounds, log = bounds[:2], True
        if not isinstance(bounds, list | tuple) or len(bounds) != 2:
            raise InvalidSearchSpaceError(
                f"Hyperparameter {name!r}: {kind!r} takes (low, high) or (low, high, "
                f"'log'), e.g. {{{kind!r}: (1e-4, 1.0, 'log'), 'if': {{...}}}}; got "
                f"{bounds!r}."
            )
        low, high = bounds
        if kind == "float":
            low, high = float(low), float(high)
        else:
            low, high = int(low), int(high)
        return _from_range(name, (low, high), log=log, default=default)
    if kind in ("choices", "ordinal") and not list(entry[kind]):
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: the list of {kind} is empty; give at least one "
            "value."
        )
    if kind == "choices":
        if default is None:
            return CS.Categorical(name, _distinct(name, entry["choices"]))
        return CS.Categorical(name, _distinct(name, entry["choices"]), default=default)
    if kind == "ordinal":
        if default is None:
            return CS.OrdinalHyperparameter(name, _distinct(name, entry["ordinal"]))
        return CS.OrdinalHyperparameter(
            name, _distinct(name, entry["ordinal"]), default
        )
    return CS.Constant(name, entry["constant"])


def _distinct(name: str, values: Any) -> list[Any]:
    """The choices as a list, refusing two that Python takes for one value (1
    and True, 0 and False, 2 and 2.0), which ConfigSpace reports as a choice
    given twice."""
    choices = list(values)
    for i, first in enumerate(choices):
        for second in choices[i + 1 :]:
            try:
                same = bool(first == second)
            except (TypeError, ValueError):
                same = False
            if same:
                texts = (
                    f", or use text such as {str(first)!r} and {str(second)!r}"
                    if str(first) != str(second)
                    else ""
                )
                raise InvalidSearchSpaceError(
                    f"Hyperparameter {name!r}: the choices {first!r} and {second!r} "
                    "are one value to Python (they compare equal), so a trial could "
                    f"not tell them apart; keep one of them{texts}."
                )
    return choices


def _from_range(name: str, entry: tuple[Any, ...], *, log: bool, default: Any) -> Any:
    if len(entry) == 3 and entry[2] == "log":
        log = True
        entry = entry[:2]
    if len(entry) != 2:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: a range is (low, high) or (low, high, 'log'); "
            f"got {entry!r}."
        )
    low, high = entry
    if not all(
        isinstance(b, numbers.Real) and not isinstance(b, bool | np.bool_)
        for b in (low, high)
    ):
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: a tuple is a numeric range (low, high); got "
            f"{entry!r}. For choices, give a list: [{', '.join(map(repr, entry))}]."
        )
    for bound in (low, high):
        if isinstance(bound, numbers.Real) and not _finite(bound):
            raise InvalidSearchSpaceError(
                f"Hyperparameter {name!r}: the bounds of a range must be finite "
                f"numbers; got {entry!r}."
            )
    if low >= high:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: the lower bound {low!r} must be below the upper "
            f"bound {high!r}."
        )
    if log and low <= 0:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: a log-scale range needs a positive lower bound; "
            f"got {low!r}."
        )
    if all(
        isinstance(b, numbers.Integral) and not isinstance(b, bool | np.bool_)
        for b in (low, high)
    ):
        # numpy ints too: (np.int64(8), np.int64(128)) is an int range.
        hp: Any = CS.Integer(name, (int(low), int(high)), log=log, default=default)
    else:
        hp = CS.Float(name, (float(low), float(high)), log=log, default=default)
    if not all(_finite(v) for v in (hp.lower, hp.upper, hp.default_value)):
        # ConfigSpace's arithmetic overflows for bounds near the float limit, and
        # it then keeps an infinite bound that no trial can be sampled from.
        raise InvalidSearchSpaceError(
            f"Hyperparameter {name!r}: the range {entry!r} is too wide for ConfigSpace "
            "(its bounds or default overflow); give bounds of a smaller magnitude, "
            "or a log scale."
        )
    return hp


def _condition(space: CS.ConfigurationSpace, child: str, when: Any) -> Any:
    if not isinstance(when, Mapping) or len(when) != 1:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {child!r}: 'if' must be one {{parent: value}} pair; got "
            f"{when!r}."
        )
    ((parent, value),) = when.items()
    if parent not in space:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {child!r}: its condition names {parent!r}, which is not in "
            f"the search space."
        )
    if isinstance(value, list | tuple) and any(
        isinstance(v, list | tuple | dict | set) for v in value
    ):
        raise InvalidSearchSpaceError(
            f"Hyperparameter {child!r}: its condition {{{parent!r}: {value!r}}} "
            f"nests a collection; list plain values of {parent!r}, e.g. "
            f"{{{parent!r}: ['a', 'b']}}."
        )
    if isinstance(value, list | tuple) and not value:
        raise InvalidSearchSpaceError(
            f"Hyperparameter {child!r}: its condition {{{parent!r}: []}} lists no "
            f"value of {parent!r}, so {child!r} would never be active; list the "
            "values under which it is."
        )
    try:
        if isinstance(value, list | tuple):
            return CS.InCondition(space[child], space[parent], list(value))
        return CS.EqualsCondition(space[child], space[parent], value)
    except (ValueError, TypeError) as exc:  # a value its parent cannot take
        raise InvalidSearchSpaceError(
            f"Hyperparameter {child!r}: its condition {{{parent!r}: {value!r}}} names "
            f"a value {parent!r} cannot take ({space[parent]}); use one of its "
            "values."
        ) from exc


def as_space(space: Any) -> CS.ConfigurationSpace:
    """Return ``space`` as a ConfigurationSpace, building it from the dict form.

    Raises:
        InvalidSearchSpaceError: If it is neither, or has no hyperparameter.
    """
    if isinstance(space, CS.ConfigurationSpace):
        if len(space) == 0:
            raise InvalidSearchSpaceError(
                "The search space is empty: add at least one hyperparameter."
            )
        _check_values(space)
        return space
    if isinstance(space, Mapping):
        space = build_space(space)
        _check_values(space)
        return space
    raise InvalidSearchSpaceError(
        f"Expected a ConfigSpace ConfigurationSpace or a dict of hyperparameters; got "
        f"{type(space).__name__}."
    )


def _check_values(space: CS.ConfigurationSpace) -> None:
    """Refuse values no trial could store or compare: a choice, ordinal value or
    constant that is not a Python str, bool, int, finite float or None (a list,
    NaN or a numpy integer, say), and a range with an infinite bound."""
    for name, hp in space.items():
        if isinstance(hp, CS.CategoricalHyperparameter):
            values, what = list(hp.choices), "choice"
        elif isinstance(hp, CS.OrdinalHyperparameter):
            values, what = list(hp.sequence), "ordinal value"
        elif isinstance(hp, CS.Constant):
            values, what = [hp.value], "constant value"
        else:
            bounds = (getattr(hp, "lower", 0.0), getattr(hp, "upper", 0.0))
            if not all(_finite(b) for b in bounds):
                raise InvalidSearchSpaceError(
                    f"Hyperparameter {name!r}: the bounds of a range must be finite "
                    f"numbers; got {bounds!r}."
                )
            continue
        for value in values:
            if not _is_plain_value(value):
                raise InvalidSearchSpaceError(
                    f"Hyperparameter {name!r}: the {what} {value!r} "
                    f"({type(value).__name__}) cannot be stored with a trial; use "
                    "Python strings, ints, finite floats, bools or None (.item() "
                    "turns a numpy value into one; '16-32' can stand for a pair of "
                    "sizes, turned back in the objective)."
                )


def _is_plain_value(value: Any) -> bool:
    """Whether a trial can store ``value`` as JSON and read it back equal."""
    if value is None or isinstance(value, str | bool | int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (OverflowError, TypeError, ValueError):  # 10**400, or not a number
        return False


def space_to_json(space: CS.ConfigurationSpace) -> str:
    """Serialise a search space to ConfigSpace JSON text."""
    return json.dumps(space.to_serialized_dict(), sort_keys=True)


def space_from_json(text: str) -> CS.ConfigurationSpace:
    """Read a search space from ConfigSpace JSON text.

    Raises:
        InvalidSearchSpaceError: If the text is not JSON, or not a ConfigSpace
            search space, or the space is empty.
    """
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise InvalidSearchSpaceError(
            f"The search space is not valid JSON ({exc}); expected ConfigSpace JSON as "
            f"written by hptaa_lab.space.space_to_json."
        ) from exc
    if not isinstance(data, dict) or "hyperparameters" not in data:
        raise InvalidSearchSpaceError(
            "The JSON is not a ConfigSpace search space (no 'hyperparameters' key); "
            "expected ConfigSpace JSON as written by hptaa_lab.space.space_to_json."
        )
    try:
        space = CS.ConfigurationSpace.from_serialized_dict(data)
    except Exception as exc:
        raise InvalidSearchSpaceError(
            f"The ConfigSpace JSON could not be read ({type(exc).__name__}: {exc}); "
            "expected ConfigSpace JSON as written by hptaa_lab.space.space_to_json."
        ) from exc
    return as_space(space)
