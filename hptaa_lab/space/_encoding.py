"""Vector encoding of configurations: numeric dims in [0, 1], categoricals as indices."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import ConfigSpace as CS
import numpy as np
from ConfigSpace.util import deactivate_inactive_hyperparameters

from hptaa_lab.errors import InvalidSearchSpaceError

__all__ = ["Encoder", "hp_kind"]

FLOAT, INT, ORDINAL, CATEGORICAL, CONSTANT = (
    "float",
    "int",
    "ordinal",
    "categorical",
    "constant",
)


def hp_kind(hp: Any) -> str:
    """Return the kind of a hyperparameter: float, int, ordinal, categorical, constant."""
    if isinstance(hp, CS.Constant | CS.UnParametrizedHyperparameter):
        return CONSTANT
    if isinstance(hp, CS.CategoricalHyperparameter):
        return CATEGORICAL
    if isinstance(hp, CS.OrdinalHyperparameter):
        return ORDINAL
    if isinstance(hp, CS.UniformIntegerHyperparameter | CS.NormalIntegerHyperparameter):
        return INT
    if isinstance(hp, CS.BetaIntegerHyperparameter):
        return INT
    if isinstance(hp, CS.hyperparameters.FloatHyperparameter):
        return FLOAT
    raise InvalidSearchSpaceError(
        f"Hyperparameter {hp.name!r} has an unsupported type {type(hp).__name__}."
    )


class Encoder:
    """Encode configurations of one search space as float vectors and back.

    Every non-constant hyperparameter is one dimension. Float and integer
    hyperparameters map to [0, 1] (log-aware; an integer value sits at the centre
    of its cell), ordinals to the centre of their cell, categoricals to their
    choice index. An inactive or unknown value encodes as NaN.

    Attributes:
        space: The search space.
        names: Dimension names, in the space's order.
        kinds: The kind of each dimension.
        is_categorical: Whether each dimension is categorical.
        n_choices: Number of choices of each categorical dimension, 0 otherwise.
        constants: Constant hyperparameters and their values.
    """

    def __init__(self, space: CS.ConfigurationSpace) -> None:
        self.space = space
        self.constants: dict[str, Any] = {}
        self.names: list[str] = []
        self.kinds: list[str] = []
        self._hps: list[Any] = []
        every: list[Any] = list(space.values())
        for hp in every:
            kind = hp_kind(hp)
            if kind == CONSTANT:
                self.constants[hp.name] = hp.value
                continue
            self.names.append(hp.name)
            self.kinds.append(kind)
            self._hps.append(hp)
        self.is_categorical = np.array([k == CATEGORICAL for k in self.kinds], bool)
        self.n_choices = np.array(
            [len(hp.choices) if k == CATEGORICAL else 0 for hp, k in self._zip()], int
        )
        self.index = {name: i for i, name in enumerate(self.names)}
        self.has_conditions = bool(space.conditions)
        self.has_forbiddens = bool(space.forbidden_clauses)

    def _zip(self) -> list[tuple[Any, str]]:
        return list(zip(self._hps, self.kinds, strict=True))

    @property
    def constrained(self) -> bool:
        """Whether the space has conditions or forbidden clauses (a decoded vector
        may then be invalid)."""
        return self.has_conditions or self.has_forbiddens

    @property
    def dim(self) -> int:
        """Number of dimensions (non-constant hyperparameters)."""
        return len(self.names)

    def encode_value(self, name: str, value: Any) -> float:
        """Encode one value of hyperparameter ``name`` (NaN for None, unless None
        is one of its choices)."""
        i = self.index[name]
        hp, kind = self._hps[i], self.kinds[i]
        if value is None and None not in choice_values(hp):
            return math.nan
        if kind == CATEGORICAL:
            return float(hp.choices.index(value))
        if kind == ORDINAL:
            return (hp.sequence.index(value) + 0.5) / len(hp.sequence)
        low, high = float(hp.lower), float(hp.upper)
        v = float(value)
        if kind == INT:
            low, high = low - 0.5, high + 0.5
        if hp.log:
            return (math.log(v) - math.log(low)) / (math.log(high) - math.log(low))
        return (v - low) / (high - low)

    def decode_value(self, i: int, u: float) -> Any:
        """Decode dimension ``i`` from its encoding ``u`` (clipped to the range)."""
        hp, kind = self._hps[i], self.kinds[i]
        if kind == CATEGORICAL:
            return hp.choices[min(max(round(u), 0), len(hp.choices) - 1)]
        u = min(max(u, 0.0), 1.0)
        if kind == ORDINAL:
            n = len(hp.sequence)
            return hp.sequence[min(int(u * n), n - 1)]
        low, high = float(hp.lower), float(hp.upper)
        if kind == INT:
            low, high = low - 0.5, high + 0.5
        if hp.log:
            v = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        else:
            v = low + u * (high - low)
        if kind == INT:
            return int(min(max(round(v), hp.lower), hp.upper))
        return float(min(max(v, hp.lower), hp.upper))

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode configurations as an ``(n, dim)`` array; NaN where a value is absent."""
        out = np.full((len(configs), self.dim), np.nan)
        for row, config in enumerate(configs):
            for name, value in config.items():
                if name in self.index:
                    out[row, self.index[name]] = self.encode_value(name, value)
        return out

    def decode(self, vector: np.ndarray) -> dict[str, Any]:
        """Decode one vector into a configuration of the active hyperparameters.

        NaN entries are left out; constants are added; values of hyperparameters
        that the conditions make inactive are dropped.
        """
        values: dict[str, Any] = dict(self.constants)
        for i, u in enumerate(vector):
            if not math.isnan(u):
                values[self.names[i]] = self.decode_value(i, float(u))
        if self.has_conditions:
            values = self.active_values(values)
        return values

    def active_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Drop the values of hyperparameters that the conditions make inactive.

        A value whose condition names a parent without any value in ``values``
        (unknown, e.g. a hyperparameter new in the current space) is kept: its
        activity is decided once the parent is known.
        """
        if not self.has_conditions:
            return dict(values)
        active: dict[str, Any] = {}
        for name in self.space:
            if name not in values:
                continue
            conditions = self.space.parent_conditions_of[name]
            if all(
                c.satisfied_by_value(active)
                if _parent_known(c, active)
                else not _parent_known(c, values)
                for c in conditions
            ):
                active[name] = values[name]
        return {name: values[name] for name in values if name in active}

    def missing_active(self, values: Mapping[str, Any]) -> list[str]:
        """Names of active hyperparameters that have no value in ``values``."""
        missing = []
        for name in self.space:
            if name in values:
                continue
            conditions = self.space.parent_conditions_of[name]
            if all(_parent_known(c, values) for c in conditions) and all(
                c.satisfied_by_value(dict(values)) for c in conditions
            ):
                missing.append(name)
        return missing

    def is_valid(self, config: Mapping[str, Any]) -> bool:
        """Whether a full configuration is legal, active-complete and not forbidden."""
        try:
            self.check(config)
        except ValueError:
            return False
        return True

    def check(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``config`` in the space's order if it is legal, else raise.

        Raises:
            ValueError: Naming the hyperparameter or clause that is violated.
        """
        for name, value in config.items():
            if name not in self.space:
                raise ValueError(
                    f"Hyperparameter {name!r} is not in the search space; its "
                    f"hyperparameters are {list(self.space)}."
                )
            if not self.space[name].legal_value(value):
                raise ValueError(
                    f"Value {value!r} is not legal for hyperparameter {name!r} "
                    f"({self.space[name]})."
                )
        if not self.has_conditions and not self.has_forbiddens:
            missing = [n for n in self.space if n not in config]
            if missing:
                raise ValueError(f"Active hyperparameters without a value: {missing}.")
            return {n: config[n] for n in self.space}
        try:
            # Configuration validates ranges, conditions and forbidden clauses.
            CS.Configuration(self.space, values=dict(config))
        except (ValueError, KeyError) as exc:
            raise ValueError(
                f"Configuration {dict(config)!r} is not valid: {exc}"
            ) from exc
        # NOTE(space): the values given are returned, in the space's order, not
        # ConfigSpace's: its vector round trip moves floats by a few ulps.
        return {n: config[n] for n in self.space if n in config}

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` vectors uniformly (in the encoding) over every dimension."""
        out = rng.random((n, self.dim))
        for i in np.flatnonzero(self.is_categorical):
            out[:, i] = rng.integers(self.n_choices[i], size=n)
        return out

    def complete(
        self, partial: Mapping[str, Any], rng: np.random.Generator
    ) -> dict[str, Any]:
        """Fill the active hyperparameters missing from ``partial`` at random.

        The values of ``partial`` are kept exactly. Missing parents are filled so
        that every given value stays active where some filling allows it;
        otherwise the values the conditions make inactive are dropped. Tries up to
        100 random fillings (also to avoid forbidden clauses).

        Raises:
            ValueError: If no valid completion was found.
        """
        given = {n: v for n, v in partial.items() if n in self.index}
        last_error: Exception | None = None
        dropping: dict[str, Any] | None = None
        for _ in range(100):
            vector = self.sample(rng, 1)[0]
            values = dict(self.constants)
            for i, u in enumerate(vector):
                values[self.names[i]] = self.decode_value(i, float(u))
            # The given values are kept exactly, not passed through the encoding.
            values.update(given)
            try:
                config = self.check(self.active_values(values))
            except ValueError as exc:
                last_error = exc
                continue
            if given.keys() <= config.keys():
                return config
            # A parent filled at random made a given value inactive: prefer a
            # filling that keeps every given value, if there is one.
            dropping = dropping or config
        if dropping is not None:
            return dropping
        raise ValueError(
            f"No valid completion of {dict(partial)!r} found in 100 tries: {last_error}"
        )

    def fallback_default(self) -> dict[str, Any]:
        """The space's default configuration as a plain dict."""
        return dict(self.space.get_default_configuration())


def choice_values(hp: Any) -> list[Any]:
    """The values a categorical, ordinal or constant hyperparameter takes; none
    for a numeric range."""
    for attribute in ("choices", "sequence"):
        if hasattr(hp, attribute):
            return list(getattr(hp, attribute))
    return [hp.value] if hasattr(hp, "value") else []


def choice_index(choices: Sequence[Any], value: Any) -> int | None:
    """The position of ``value`` among ``choices``, a bool matching only a bool
    (True == 1 in Python, but True is no choice of [1, 2], nor 1 of [True,
    False]); None if it is none of them."""
    for i, choice in enumerate(choices):
        both = isinstance(choice, bool | np.bool_) == isinstance(value, bool | np.bool_)
        if both and choice == value:
            return i
    return None


def _parent_known(condition: Any, values: Mapping[str, Any]) -> bool:
    parents = getattr(condition, "parent", None)
    if parents is not None:
        return bool(parents.name in values)
    return all(
        getattr(c, "parent", None) is None or c.parent.name in values
        for c in getattr(condition, "components", ())
    )


def deactivate(space: CS.ConfigurationSpace, values: dict[str, Any]) -> dict[str, Any]:
    """Drop inactive values using ConfigSpace's own rules."""
    return dict(deactivate_inactive_hyperparameters(values, space))
