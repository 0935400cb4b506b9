"""Mapping: the confirmed link between a previous and a current search space."""

from __future__ import annotations

import json
import math
import numbers
import reprlib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.errors import MappingError
from hptaa_lab.space._encoding import FLOAT, INT, choice_index, choice_values, hp_kind

__all__ = ["Mapping", "ValueTransform"]

_NUMERIC = (FLOAT, INT)


@dataclass(frozen=True)
class ValueTransform:
    """How a previous value becomes a current one: ``value * scale + offset``.

    For categorical or ordinal hyperparameters use ``values`` instead, a dict from
    previous to current values (previous values not in it are kept as they are).

    Attributes:
        scale: Multiplier for numeric values (e.g. 1000 for seconds -> ms).
        offset: Added after scaling.
        values: Value map for categorical or ordinal values.

    Raises:
        MappingError: If scale or offset is NaN, infinite or not a number, or
            scale is zero.
    """

    scale: float = 1.0
    offset: float = 0.0
    values: dict[Any, Any] | None = None

    def __post_init__(self) -> None:
        _check_arithmetic(self.scale, self.offset, "A transform")
        # Plain floats (not numpy's), so that the mapping saves as JSON.
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "offset", float(self.offset))
        if self.values is not None:
            object.__setattr__(
                self,
                "values",
                {_plain(k): _plain(v) for k, v in dict(self.values).items()},
            )

    def apply(self, value: Any) -> Any:
        """Transform one previous value."""
        if self.values is not None:
            return self.values.get(value, value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        if self.scale == 1.0 and self.offset == 0.0:
            return value
        try:
            result = value * self.scale + self.offset
        except OverflowError:  # an int beyond any float: beyond any range too
            return math.copysign(math.inf, value * self.scale)
        if isinstance(value, int) and float(result).is_integer():
            return int(result)
        return result

    def describe(self) -> str:
        """The transform in words: "value x 1000 - 5" (no "+ 0"), or the value
        map "'auto' -> 'sqrt', ..."."""
        if self.values is not None:
            return ", ".join(f"{k!r} -> {v!r}" for k, v in self.values.items())
        text = f"value x {self.scale:.15g}"
        if self.offset:
            sign = "-" if self.offset < 0 else "+"
            text += f" {sign} {abs(self.offset):.15g}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        if self.values is not None:
            return {"values": [[k, v] for k, v in self.values.items()]}
        return {"scale": self.scale, "offset": self.offset}

    @classmethod
    def from_dict(cls, data: MappingABC[str, Any], name: str = "") -> ValueTransform:
        """Inverse of :meth:`to_dict`; ``values`` may also be a plain dict.

        Raises:
            MappingError: For anything but a dict of scale and offset (finite
                numbers, scale non-zero) or of values (a dict, or a list of
                [previous, current] pairs); the message names the hyperparameter
                ``name``.
        """
        where = f"The transform of {name!r}" if name else "A transform"
        example = (
            '{"scale": 1000, "offset": 0} for numbers, or {"values": {"old": "new"}} '
            "for choices"
        )
        if not isinstance(data, MappingABC):
            raise MappingError(
                f"{where} must be a dict such as {example}; got {data!r}."
            )
        unknown = set(data) - {"scale", "offset", "values"}
        if unknown:
            raise MappingError(
                f"{where} has unknown keys {sorted(map(str, unknown))}; it takes scale "
                f"and offset, or values: {example}."
            )
        if "values" in data:
            if set(data) != {"values"}:
                raise MappingError(
                    f"{where} gives values together with scale or offset; a value map "
                    "replaces the arithmetic, so give one or the other."
                )
            return cls(values=_value_map(data["values"], where))
        scale, offset = data.get("scale", 1.0), data.get("offset", 0.0)
        if isinstance(scale, str) or isinstance(offset, str):
            # JSON written by hand may quote its numbers.
            try:
                scale, offset = float(scale), float(offset)
            except (TypeError, ValueError) as exc:
                raise MappingError(
                    f"{where} needs numbers for scale and offset; got {dict(data)!r}."
                ) from exc
        _check_arithmetic(scale, offset, where)
        return cls(scale=scale, offset=offset)


def _check_arithmetic(scale: Any, offset: Any, where: str) -> None:
    """Refuse a scale or offset that is no finite number, and a scale of zero
    (which would map every previous value onto the offset)."""
    for key, value, instead in (
        ("scale", scale, "a finite, non-zero number, e.g. 1000 for seconds -> ms"),
        ("offset", offset, "a finite number, e.g. 0 for none"),
    ):
        # Any real number, numpy's included; a bool is no scale.
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        try:
            finite = number and math.isfinite(value)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite or (key == "scale" and value == 0):
            raise MappingError(f"{where} has {key} {value!r}; give {instead}.")


def _value_map(values: Any, where: str) -> dict[Any, Any]:
    """A value map from a dict or from a list of [previous, current] pairs (the
    stored form, which keeps non-string previous values)."""
    if isinstance(values, MappingABC):
        return dict(values)
    if isinstance(values, list | tuple) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in values
    ):
        try:
            return {previous: current for previous, current in values}
        except TypeError:
            pass  # a list as a previous value: no single value, refused below
    raise MappingError(
        f"{where} has values {values!r}; give a dict from previous to current "
        'values, e.g. {"values": {"sqrt": "log2"}}.'
    )


@dataclass(frozen=True)
class Mapping:
    """Confirmed correspondences between a previous and a current search space.

    Attributes:
        renames: Previous name -> current name, for hyperparameters that were
            renamed.
        transforms: Current name -> ValueTransform applied to previous values
            (e.g. a unit change).
        previous_fixed: Current name -> the value an added hyperparameter had
            (hard-coded) in the previous version; projection fills it in.
        current_fixed: Previous name -> the value a removed hyperparameter is now
            fixed to; previous trials with that value are marked exact matches.
    """

    renames: dict[str, str] = field(default_factory=dict)
    transforms: dict[str, ValueTransform] = field(default_factory=dict)
    previous_fixed: dict[str, Any] = field(default_factory=dict)
    current_fixed: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Python values (not numpy's), so that the mapping saves as JSON.
        for attribute in ("previous_fixed", "current_fixed"):
            values = getattr(self, attribute)
            plain = {k: _plain(v) for k, v in dict(values).items()}
            object.__setattr__(self, attribute, plain)
        # A name onto itself is no rename (a mapping built as {n: n for n in ...}
        # may hold some): kept, the diff would call the name added and removed.
        renames = {old: new for old, new in dict(self.renames).items() if old != new}
        object.__setattr__(self, "renames", renames)
        targets = list(self.renames.values())
        duplicates = sorted({t for t in targets if targets.count(t) > 1})
        if duplicates:
            raise MappingError(
                f"Several previous hyperparameters are renamed onto {duplicates}; each "
                "current hyperparameter can take the values of one previous one."
            )

    @property
    def is_empty(self) -> bool:
        """Whether the mapping says nothing."""
        return not (
            self.renames or self.transforms or self.previous_fixed or self.current_fixed
        )

    def validate(
        self,
        previous_space: CS.ConfigurationSpace,
        current_space: CS.ConfigurationSpace,
    ) -> None:
        """Check that every name and value fits the two spaces.

        Raises:
            MappingError: Naming the hyperparameter, what was expected and the
                candidates.
        """
        reversed_ = {
            old: new
            for old, new in self.renames.items()
            if old not in previous_space
            and new not in current_space
            and new in previous_space
            and old in current_space
        }
        if reversed_:
            wrong = ", ".join(f"{o!r} -> {n!r}" for o, n in reversed_.items())
            right = ", ".join(f"{n!r}: {o!r}" for o, n in reversed_.items())
            raise MappingError(
                f"The rename{'s' if len(reversed_) > 1 else ''} {wrong} run"
                f"{'' if len(reversed_) > 1 else 's'} the wrong way: each name on the "
                "left is in the current search space and the one on the right in "
                "the previous one. A rename maps the previous name onto the current "
                f"one: {{{right}}}."
            )
        for old, new in self.renames.items():
            _require(old, previous_space, "previous", "rename")
            _require(new, current_space, "current", "rename")
            old_kind, new_kind = (
                hp_kind(previous_space[old]),
                hp_kind(current_space[new]),
            )
            if (old_kind in _NUMERIC) != (new_kind in _NUMERIC) and not (
                new_kind in _NUMERIC and _numbers_only(previous_space[old])
            ):
                raise MappingError(
                    f"Cannot rename {old!r} ({old_kind}) onto {new!r} ({new_kind}): a "
                    "numeric range maps only onto a numeric one, a categorical, "
                    "ordinal or constant onto a categorical, ordinal or constant, or, "
                    "where all its values are numbers, onto a numeric range."
                )
            _check_reachable(
                previous_space[old],
                current_space[new],
                self.transforms.get(new),
                f"Renaming {old!r} onto {new!r}",
            )
        for name, transform in self.transforms.items():
            _require(name, current_space, "current", "transform")
            kind = hp_kind(current_space[name])
            if transform.values is None and kind not in _NUMERIC:
                raise MappingError(
                    f"The transform of {name!r} scales values, but {name!r} is {kind}; "
                    "give a value map (ValueTransform(values={...})) instead."
                )
            source = _renamed_from(name, self.renames, previous_space)
            if source is None and (transform.values is None or transform.values):
                what = "transform" if transform.values is None else "value map"
                raise MappingError(
                    f"The {what} of {name!r} can never apply: {name!r} is new in "
                    "the current space and no previous hyperparameter is renamed "
                    f"onto it. Add the rename, or leave the {what} out."
                )
            for before, after in (transform.values or {}).items():
                if source is not None and not _is_value(previous_space[source], before):
                    raise MappingError(
                        f"The value map of {name!r} maps {before!r}, which is not a "
                        f"value of {source!r} in the previous space "
                        f"({previous_space[source]}); its keys are previous values."
                        + _json_key_hint(before, previous_space[source])
                    )
                if not _is_value(current_space[name], after):
                    raise MappingError(
                        f"The value map of {name!r} maps {before!r} onto {after!r}, "
                        f"which is not a value of {name!r} in the current space "
                        f"({current_space[name]}); map each previous value onto one "
                        "of its current values."
                    )
            if (
                name in previous_space
                and name not in self.renames
                and name not in self.renames.values()
                and (
                    hp_kind(previous_space[name]) in _NUMERIC
                    or _numbers_only(previous_space[name])
                )
                and kind in _NUMERIC
            ):
                # Renamed ones were checked above, with their transform.
                _check_reachable(
                    previous_space[name],
                    current_space[name],
                    transform,
                    f"The transform of {name!r}",
                )
        for name, value in self.previous_fixed.items():
            _require(name, current_space, "current", "previous fixed value")
            if name not in _added(previous_space, current_space, self.renames):
                raise MappingError(
                    f"previous_fixed names {name!r}, which is not an added hyperparameter; "
                    "only hyperparameters that are new in the current space had a fixed "
                    "value before."
                )
            hp: Any = current_space[name]
            if hp_kind(hp) in _NUMERIC and not _is_number(value):
                raise MappingError(
                    f"previous_fixed[{name!r}] = {value!r} is no number, and {name!r} "
                    f"is a numeric range now ({hp}); give the one number it was fixed "
                    "to before, or leave it out if it was not fixed."
                )
            if (
                hp_kind(hp) == "int"
                and hp.lower <= value <= hp.upper
                and float(value) != int(value)
            ):
                raise MappingError(
                    f"previous_fixed[{name!r}] = {value!r} is no whole number, and "
                    f"{name!r} is an int range now ({hp}); give the int it was fixed "
                    "to before, or leave it out if it was not fixed."
                )
            if not _is_value(hp, value):
                where = "the current range" if hp_kind(hp) in _NUMERIC else "the values"
                raise MappingError(
                    f"previous_fixed[{name!r}] = {value!r} is outside {where} of "
                    f"{name!r} ({hp}); every previous trial would be dropped. Give the "
                    "value it was fixed to, or leave it out if it was not fixed."
                )
        for name, value in self.current_fixed.items():
            _require(name, previous_space, "previous", "current fixed value")
            if name in _kept(previous_space, current_space, self.renames):
                raise MappingError(
                    f"current_fixed names {name!r}, which is still in the current space; "
                    "only removed hyperparameters are fixed now."
                )
            if value is not None and not _is_json_scalar(value):
                raise MappingError(
                    f"current_fixed[{name!r}] must be a number, string, bool or None; got "
                    f"{value!r}."
                )

    def describe(self, renames: bool = True) -> list[str]:
        """The mapping in words, one line per entry (none when it is empty).

        Example lines: ``renamed lr -> learning_rate``, ``tol had 0.001 before it
        was added (previous_fixed)``, ``batch_size is fixed to 16 now that it is
        removed (current_fixed)``, ``t_ms: previous values transformed, value x
        1000``. With ``renames=False`` the renames are left out (a diff shows
        them in its rows).
        """
        lines = (
            [f"renamed {old} -> {new}" for old, new in self.renames.items()]
            if renames
            else []
        )
        lines += [
            f"{name} had {value!r} before it was added (previous_fixed)"
            for name, value in self.previous_fixed.items()
        ]
        lines += [
            f"{name} is fixed to {value!r} now that it is removed (current_fixed)"
            for name, value in self.current_fixed.items()
        ]
        lines += [
            f"{name}: previous values transformed, {transform.describe()}"
            for name, transform in self.transforms.items()
        ]
        return lines

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(
            {
                "renames": self.renames,
                "transforms": {k: t.to_dict() for k, t in self.transforms.items()},
                "previous_fixed": self.previous_fixed,
                "current_fixed": self.current_fixed,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> Mapping:
        """Read a mapping from JSON text (None or "" gives an empty mapping).

        Raises:
            MappingError: If the text is not a mapping's JSON.
        """
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls.from_dict(data)
        except (json.JSONDecodeError, TypeError, AttributeError, ValueError) as exc:
            if isinstance(exc, MappingError):
                raise
            raise MappingError(f"The mapping JSON could not be read: {exc}") from exc

    @classmethod
    def from_dict(cls, data: MappingABC[str, Any] | str | PurePath) -> Mapping:
        """Build a mapping from its dict form (as in :meth:`to_json`)."""
        if not isinstance(data, MappingABC):
            hint = (
                " To read a mapping from a JSON file, pass "
                "hptaa_lab.Mapping.from_json(pathlib.Path(FILE).read_text())."
                if isinstance(data, str | PurePath)
                else ""
            )
            raise MappingError(
                "A mapping is a dict (or a hptaa_lab.Mapping) such as "
                '{"renames": {"eta0": "lr"}}; got '
                f"{type(data).__name__} {data!r}.{hint}"
            )
        for section in ("renames", "transforms", "previous_fixed", "current_fixed"):
            if not isinstance(data.get(section, {}), MappingABC):
                raise MappingError(
                    f"The mapping's {section} must be a dict from names to "
                    f"{'names' if section == 'renames' else 'values'}; got "
                    f"{data[section]!r}."
                )
        unknown = set(data) - {
            "renames",
            "transforms",
            "previous_fixed",
            "current_fixed",
        }
        if unknown:
            raise MappingError(
                f"Unknown mapping keys {sorted(unknown)}; expected renames, transforms, "
                "previous_fixed, current_fixed."
            )
        transforms = {
            k: v if isinstance(v, ValueTransform) else ValueTransform.from_dict(v, k)
            for k, v in dict(data.get("transforms", {})).items()
        }
        return cls(
            renames=dict(data.get("renames", {})),
            transforms=transforms,
            previous_fixed=dict(data.get("previous_fixed", {})),
            current_fixed=dict(data.get("current_fixed", {})),
        )


def _require(name: str, space: CS.ConfigurationSpace, side: str, what: str) -> None:
    if name not in space:
        raise MappingError(
            f"The {what} names {name!r}, which is not in the {side} search space. "
            f"Candidates: {', '.join(space)}."
        )


def _added(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    renames: dict[str, str],
) -> set[str]:
    kept = {renames.get(n, n) for n in previous_space}
    return {n for n in current_space if n not in kept}


def _kept(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    renames: dict[str, str],
) -> set[str]:
    """Previous names whose values reach the current space (renamed or not).

    A previous name that another previous hyperparameter is renamed onto is not
    kept: the renamed one takes its place.
    """
    targets = set(renames.values())
    return {
        n
        for n in previous_space
        if renames.get(n, n) in current_space and (n in renames or n not in targets)
    }


def _check_reachable(
    previous: Any, current: Any, transform: ValueTransform | None, what: str
) -> None:
    """Refuse a rename under which no previous value is legal in the current
    range: projection would drop every previous trial that sets it (a rename onto
    the wrong hyperparameter, or a unit change without a transform)."""
    transform = transform or ValueTransform()
    if hp_kind(previous) in _NUMERIC:
        ends = mapped_range(previous, transform)
        if ends is None:
            return  # a value map of numbers: its values are checked one by one
        low, high = float(current.lower), float(current.upper)
        if ends[1] > low and ends[0] < high:
            return
        # Ranges that only touch share one value: an int range may hold it, a
        # float range only at a measure-zero point (nothing fits, in practice).
        whole = INT in (hp_kind(previous), hp_kind(current))
        if whole and ends[1] >= low and ends[0] <= high:
            return
        found = f"values from {_number(ends[0])} to {_number(ends[1])}"
        wanted = f"[{_number(low)}, {_number(high)}]"
    else:
        values = [transform.apply(v) for v in choice_values(previous)]
        if any(_legal(current, v) for v in values):
            return
        found = f"the values {_short(values)}"
        if hp_kind(current) in _NUMERIC:
            wanted = (
                f"[{_number(float(current.lower))}, {_number(float(current.upper))}]"
            )
        else:
            wanted = str(choice_values(current))
    given = transform != ValueTransform()
    raise MappingError(
        f"{what} would drop every previous trial that sets {previous.name!r}: the "
        f"previous trials hold {found}"
        + (
            f" after the given transform ({_transform_text(transform)})"
            if given
            else ""
        )
        + f", and {current.name!r} takes {wanted} now. Check that the rename names "
        "the right hyperparameter, or "
        + (
            "the transform (its scale, offset or value map)."
            if given
            else "give a transform (e.g. ValueTransform(scale=1000) for a unit "
            "change, or a value map for choices)."
        )
    )


def _transform_text(transform: ValueTransform) -> str:
    """A transform as "scale 100, offset -1" or "values {...}"."""
    parts = []
    if transform.scale != 1.0:
        parts.append(f"scale {_number(transform.scale)}")
    if transform.offset != 0.0:
        parts.append(f"offset {_number(transform.offset)}")
    if transform.values is not None:
        parts.append(f"values {_short(list(transform.values.items()))}")
    return ", ".join(parts)


def mapped_range(
    previous: Any, transform: ValueTransform | None
) -> tuple[float, float] | None:
    """(low, high) of a numeric previous hyperparameter's range after the
    transform (a negative scale swaps the ends); None for a value map, which
    moves single values, not the range."""
    if transform is not None and transform.values is not None:
        return None
    transform = transform or ValueTransform()
    low, high = sorted(
        float(transform.apply(float(v))) for v in (previous.lower, previous.upper)
    )
    return low, high


def _renamed_from(
    name: str, renames: dict[str, str], previous_space: CS.ConfigurationSpace
) -> str | None:
    """The previous hyperparameter whose values reach current ``name``, if any."""
    for old, new in renames.items():
        if new == name:
            return old
    return name if name in previous_space and name not in renames else None


def _is_value(hp: Any, value: Any) -> bool:
    """Whether ``value`` is one value of ``hp``, a bool matching only a bool (True
    equals 1 in Python, but a value map key True is no int choice 1)."""
    if not (value is None or isinstance(value, str | bool | np.bool_ | numbers.Real)):
        return False  # a list or tuple, which ConfigSpace checks element-wise
    if not _legal(hp, value):
        return False
    if hasattr(hp, "lower"):
        return _is_number(value)
    return choice_index(choice_values(hp), value) is not None


def _json_key_hint(key: Any, previous: Any) -> str:
    """Advice for a value map key that is the text of a non-text previous value
    (JSON object keys are always strings)."""
    if not isinstance(key, str):
        return ""
    if hasattr(previous, "lower"):  # a numeric range
        try:
            number = float(key)
        except ValueError:
            return ""
        values = [number] if previous.lower <= number <= previous.upper else []
        text = [key]
    else:
        values = choice_values(previous)
        text = [str(v) for v in values] + [json.dumps(v) for v in values]
    if any(not isinstance(v, str) for v in values) and key in text:
        return (
            " JSON object keys are always text: to map numbers or bools, give the "
            'value map as a list of pairs, e.g. {"values": [[16, 32]]}.'
        )
    return ""


def _plain(value: Any) -> Any:
    """A numpy bool, number or string as its Python value (np.int64(3) -> 3), a
    Fraction as a float; any other value as it is, for the checks to judge."""
    if isinstance(value, np.bool_ | np.integer | np.floating | np.str_):
        return value.item()
    if isinstance(value, numbers.Rational) and not isinstance(value, int):
        return float(value)  # a Fraction: JSON keeps no fraction
    return value


def _numbers_only(hp: Any) -> bool:
    """Whether a categorical, ordinal or constant takes numbers only (no bools):
    such values can be values of a numeric range too (a constant made tunable,
    a set of choices widened to a range)."""
    values = choice_values(hp)
    return bool(values) and all(_is_number(v) for v in values)


def _is_number(value: Any) -> bool:
    """A real number that is no bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _legal(hp: Any, value: Any) -> bool:
    try:
        return bool(hp.legal_value(value))
    except (TypeError, ValueError, OverflowError):
        return False


def _short(values: list[Any]) -> str:
    """A list of values for a message, each at most about 40 characters."""
    shown = reprlib.Repr()
    shown.maxlong = shown.maxstring = shown.maxother = 40
    shown.maxlist = 20
    return shown.repr(values)


def _number(value: float) -> str:
    return f"{value:g}"


def _is_json_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int | bool)


def as_mapping(mapping: Mapping | MappingABC[str, Any] | None) -> Mapping:
    """A Mapping from a Mapping, its dict form (see :meth:`Mapping.from_dict`) or
    None (no renames, transforms or fixed values)."""
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    return Mapping.from_dict(mapping)
