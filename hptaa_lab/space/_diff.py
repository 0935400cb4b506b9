"""Search-space diff: classify how every hyperparameter changed between two spaces."""

from __future__ import annotations

import difflib
import enum
import math
import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ConfigSpace as CS
import numpy as np

from hptaa_lab.space._encoding import (
    CATEGORICAL,
    CONSTANT,
    FLOAT,
    INT,
    ORDINAL,
    choice_index,
    choice_values,
    hp_kind,
)

if TYPE_CHECKING:
    import pandas as pd

    from hptaa_lab.space._mapping import Mapping, ValueTransform

__all__ = ["Change", "ChangeKind", "RenameSuggestion", "SpaceDiff", "describe", "diff"]

_NUMERIC = (FLOAT, INT)
_MIN_NAME_SIMILARITY = 0.5


class ChangeKind(enum.StrEnum):
    """One way a hyperparameter changed between the previous and current space."""

    UNCHANGED = "unchanged"
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    WIDENED = "widened"
    NARROWED = "narrowed"
    SHIFTED = "shifted"
    CHOICES_ADDED = "choices added"
    CHOICES_REMOVED = "choices removed"
    ORDER_CHANGED = "order changed"
    LOG_CHANGED = "log scale changed"
    TYPE_CHANGED = "type changed"
    DEFAULT_CHANGED = "default changed"


@dataclass(frozen=True)
class Change:
    """How one hyperparameter changed.

    Attributes:
        name: Name in the current space (in the previous one for a removed one).
        previous_name: Name in the previous space (differs after a rename), or None
            if the hyperparameter was added.
        kinds: Every way it changed; ``(UNCHANGED,)`` if it did not.
        previous: Description of the previous hyperparameter, "" if added.
        current: Description of the current hyperparameter, "" if removed.
    """

    name: str
    previous_name: str | None
    kinds: tuple[ChangeKind, ...]
    previous: str = ""
    current: str = ""
    added_choices: tuple[Any, ...] = ()
    removed_choices: tuple[Any, ...] = ()

    @property
    def unchanged(self) -> bool:
        """Whether the hyperparameter is the same in both spaces."""
        return self.kinds == (ChangeKind.UNCHANGED,)

    @property
    def label(self) -> str:
        """The change kinds as words, e.g. "widened, default changed" or "choices
        removed ('poly')"."""
        words = []
        for kind in self.kinds:
            values = {
                ChangeKind.CHOICES_ADDED: self.added_choices,
                ChangeKind.CHOICES_REMOVED: self.removed_choices,
            }.get(kind, ())
            words.append(f"{kind}{_listed(values)}")
        return ", ".join(words)


@dataclass(frozen=True)
class RenameSuggestion:
    """A removed and an added hyperparameter that may be one renamed hyperparameter.

    Attributes:
        previous: The removed name.
        current: The added name.
        score: In [0, 1]; higher means more likely.
        reason: Why it is suggested, in words.
    """

    previous: str
    current: str
    score: float
    reason: str


@dataclass(frozen=True)
class SpaceDiff:
    """Every hyperparameter of two search spaces, classified.

    Build it with :func:`hptaa_lab.diff`. Rename suggestions are only suggestions:
    a rename applies when a :class:`Mapping` confirms it.

    Attributes:
        previous_space: The previous search space.
        current_space: The current search space.
        changes: One entry per hyperparameter: current ones in the current space's
            order, then the removed ones.
        suggestions: Rename candidates, best first.
        rules_removed: Conditions and forbidden clauses only the previous space
            has, as text in the current names (e.g. "condition: gamma | kernel
            == 'rbf'").
        rules_added: Conditions and forbidden clauses only the current space has.
        fixed: The mapping's fixed values and value transforms as text, e.g.
            "tol had 0.001 before it was added (previous_fixed)".
    """

    previous_space: CS.ConfigurationSpace
    current_space: CS.ConfigurationSpace
    changes: tuple[Change, ...]
    suggestions: tuple[RenameSuggestion, ...] = field(default=())
    rules_removed: tuple[str, ...] = field(default=())
    rules_added: tuple[str, ...] = field(default=())
    fixed: tuple[str, ...] = field(default=())

    def names(self, kind: ChangeKind) -> list[str]:
        """Names of the hyperparameters changed in this way."""
        return [c.name for c in self.changes if kind in c.kinds]

    @property
    def added(self) -> list[str]:
        """Hyperparameters only in the current space (X_only_new)."""
        return self.names(ChangeKind.ADDED)

    @property
    def removed(self) -> list[str]:
        """Hyperparameters only in the previous space (X_only_old)."""
        return self.names(ChangeKind.REMOVED)

    @property
    def shared(self) -> list[str]:
        """Current names of hyperparameters present in both spaces (X_both)."""
        gone = (ChangeKind.ADDED, ChangeKind.REMOVED)
        return [c.name for c in self.changes if not any(k in c.kinds for k in gone)]

    @property
    def unchanged(self) -> list[str]:
        """Hyperparameters that are the same in both spaces."""
        return [c.name for c in self.changes if c.unchanged]

    @property
    def is_identical(self) -> bool:
        """Whether the two spaces have the same hyperparameters with the same ranges,
        conditions and forbidden clauses."""
        unchanged = all(c.unchanged for c in self.changes)
        return unchanged and not self.rules_removed and not self.rules_added

    def __getitem__(self, name: str) -> Change:
        for change in self.changes:
            if change.name == name:
                return change
        raise KeyError(
            f"No hyperparameter {name!r} in either space; known: "
            f"{[c.name for c in self.changes]}."
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per hyperparameter: name, previous, current, change."""
        import pandas as pd

        rows = [
            {
                "hyperparameter": c.name,
                "previous name": c.previous_name or "",
                "previous": c.previous,
                "current": c.current,
                "change": c.label,
            }
            for c in self.changes
        ]
        return pd.DataFrame(rows)

    def format_table(self) -> str:
        """A plain-text table of the diff, with rename suggestions below it."""
        header = ("hyperparameter", "previous", "current", "change")
        rows = [
            (
                c.name
                if not c.previous_name or c.previous_name == c.name
                else f"{c.previous_name} -> {c.name}",
                c.previous or "-",
                c.current or "-",
                c.label,
            )
            for c in self.changes
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        for row in rows:
            lines.append(
                "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
            )
        lines += [f"removed {rule}" for rule in self.rules_removed]
        lines += [f"added {rule}" for rule in self.rules_added]
        lines += list(self.fixed)
        for s in self.suggestions:
            lines.append(
                f"possible rename: {s.previous} -> {s.current} (score {s.score:.2f}: "
                f"{s.reason}); confirm it in the mapping to transfer its values"
            )
        return "\n".join(line.rstrip() for line in lines)


def describe(hp: Any, *, precise: bool = False) -> str:
    """A short description of a hyperparameter, e.g. "float [0.001, 1] log"
    (bounds to 6 significant digits, or all of them if ``precise``)."""
    kind = hp_kind(hp)
    if kind == CONSTANT:
        return f"constant {hp.value!r}"
    if kind == CATEGORICAL:
        return "choice {" + ", ".join(repr(c) for c in hp.choices) + "}"
    if kind == ORDINAL:
        return "ordinal (" + ", ".join(repr(c) for c in hp.sequence) + ")"
    text = f"{kind} [{_num(hp.lower, precise)}, {_num(hp.upper, precise)}]"
    return text + (" log" if hp.log else "")


def _num(value: Any, precise: bool = False) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value)) if precise else f"{value:g}"
    return str(value)


def _side_by_side(old: Any, new: Any, kinds: tuple[ChangeKind, ...]) -> tuple[str, str]:
    """The previous and current descriptions of a hyperparameter that stayed,
    telling apart what changed: all digits of bounds that differ beyond the
    sixth, and both defaults when the default changed."""
    shown = set(kinds) - {ChangeKind.UNCHANGED, ChangeKind.RENAMED}
    precise = describe(old) == describe(new) and bool(
        shown - {ChangeKind.DEFAULT_CHANGED}
    )
    before, after = describe(old, precise=precise), describe(new, precise=precise)
    if ChangeKind.DEFAULT_CHANGED in kinds:
        # All digits when six do not tell the two defaults apart.
        exact = _default(old, False) == _default(new, False)
        before += f", default {_default(old, precise or exact)}"
        after += f", default {_default(new, precise or exact)}"
    return before, after


def _default(hp: Any, precise: bool) -> str:
    if hp_kind(hp) in _NUMERIC:
        return _num(hp.default_value, precise)
    return repr(hp.default_value)


def diff(
    previous_space: CS.ConfigurationSpace | dict[str, Any],
    current_space: CS.ConfigurationSpace | dict[str, Any],
    mapping: Mapping | dict[str, Any] | None = None,
    *,
    check: bool = True,
) -> SpaceDiff:
    """Classify how every hyperparameter changed from the previous to the current space.

    Args:
        previous_space: The search space of the previous study (a ConfigSpace
            object or the short dict form).
        current_space: The search space of the current study.
        mapping: Confirmed renames and value transforms, if any (a Mapping or
            its dict form); a renamed pair is compared as one hyperparameter and
            marked RENAMED, and previous ranges and choices are compared after
            their transform (seconds -> milliseconds is no range change).
        check: Validate the mapping against both spaces first (False to show a
            stored study's mapping as it is, even one that a later version's
            stricter checks would refuse).

    Returns:
        The SpaceDiff, with rename suggestions for unconfirmed removed/added pairs.

    Raises:
        MappingError: If the mapping does not fit the two spaces (as
            ``create_study`` would refuse it).
    """
    from hptaa_lab.space._build import as_space
    from hptaa_lab.space._mapping import as_mapping

    previous_space, current_space = as_space(previous_space), as_space(current_space)
    confirmed = as_mapping(mapping)
    # The same check as create_study's, so that a diff shown before creating the
    # study already refuses a mapping the study would refuse.
    if check:
        confirmed.validate(previous_space, current_space)
    renames = dict(confirmed.renames)
    back = {new: old for old, new in renames.items()}
    changes: list[Change] = []
    for name, hp in current_space.items():
        old_name = back.get(name, name)
        if old_name not in previous_space or (old_name == name and name in renames):
            changes.append(Change(name, None, (ChangeKind.ADDED,), "", describe(hp)))
            continue
        old = previous_space[old_name]
        transform = confirmed.transforms.get(name)
        kinds = _compare(old, hp, transform)
        if old_name != name:
            kinds = (
                ChangeKind.RENAMED,
                *[k for k in kinds if k != ChangeKind.UNCHANGED],
            )
        added_choices, removed_choices = _choice_delta(old, hp, transform)
        changes.append(
            Change(
                name,
                old_name,
                kinds,
                *_side_by_side(old, hp, kinds),
                added_choices,
                removed_choices,
            )
        )
    for name, hp in previous_space.items():
        if renames.get(name, name) not in current_space or (
            name not in renames and name in back
        ):
            changes.append(Change(name, name, (ChangeKind.REMOVED,), describe(hp), ""))
    removed = [c.name for c in changes if ChangeKind.REMOVED in c.kinds]
    added = [c.name for c in changes if ChangeKind.ADDED in c.kinds]
    suggestions = suggest_renames(previous_space, current_space, removed, added)
    # Rules compare by their content in current names: the order of an "in"
    # list or of a conjunction's parts is no change.
    before = {
        _rule_key(rule, renames, confirmed.transforms): _renamed(
            text, renames, list(previous_space)
        )
        for rule, text in zip(
            _rule_objects(previous_space), rules(previous_space), strict=True
        )
    }
    after = {
        _rule_key(rule, {}): text
        for rule, text in zip(
            _rule_objects(current_space), rules(current_space), strict=True
        )
    }
    return SpaceDiff(
        previous_space,
        current_space,
        tuple(changes),
        suggestions,
        rules_removed=tuple(t for k, t in before.items() if k not in after),
        rules_added=tuple(t for k, t in after.items() if k not in before),
        fixed=tuple(confirmed.describe(renames=False)),
    )


def _rule_objects(space: CS.ConfigurationSpace) -> list[Any]:
    """Conditions, then forbidden clauses, in the order of :func:`rules`."""
    return [*space.conditions, *space.forbidden_clauses]


def _rule_key(
    rule: Any,
    renames: dict[str, str],
    transforms: MappingABC[str, ValueTransform] | None = None,
) -> str:
    """A rule's content in current names and values (renames and the value
    transforms, keyed by current name, applied), independent of the order of
    "in" values and of a conjunction's parts."""
    transforms = transforms or {}

    def name(hp: Any) -> str:
        return repr(renames.get(hp.name, hp.name))

    def value(hp: Any, v: Any) -> str:
        transform = transforms.get(renames.get(hp.name, hp.name))
        v = v.item() if isinstance(v, np.generic) else v
        if transform is not None:
            v = transform.apply(v)
        # Scaled floats (0.1 x 1000) compare at 12 digits.
        return format(v, ".12g") if isinstance(v, float) else repr(v)

    kind = type(rule).__name__
    if hasattr(rule, "components"):
        parts = sorted(_rule_key(part, renames, transforms) for part in rule.components)
        return f"{kind}({', '.join(parts)})"
    if hasattr(rule, "left"):
        return f"{kind}({name(rule.left)}, {name(rule.right)})"
    subject_hp = rule.parent if hasattr(rule, "parent") else rule.hyperparameter
    # "== a" is "in {a}"; a value map may send several values to one.
    kind = _ONE_OF.get(kind, kind)
    raw = rule.values if hasattr(rule, "values") else [rule.value]
    values = repr(sorted({value(subject_hp, v) for v in raw}))
    transform = transforms.get(renames.get(subject_hp.name, subject_hp.name))
    if transform is not None and transform.values is None and transform.scale < 0:
        # A negative scale turns "x > 5" into "x < -5".
        kind = _MIRRORED.get(kind, kind)
    subject = (
        f"{name(rule.child)}, {name(rule.parent)}"
        if hasattr(rule, "child")
        else name(rule.hyperparameter)
    )
    return f"{kind}({subject}, {values})"


_ONE_OF = {
    "EqualsCondition": "InCondition",
    "ForbiddenEqualsClause": "ForbiddenInClause",
}
"""Rules on one value, keyed as the rules on a set of values."""

_MIRRORED = {
    "GreaterThanCondition": "LessThanCondition",
    "LessThanCondition": "GreaterThanCondition",
}
"""Comparisons that a negative scale turns around."""


def rules(space: CS.ConfigurationSpace) -> list[str]:
    """The space's conditions and forbidden clauses as text, e.g. "condition:
    gamma | kernel == 'rbf'" and "forbidden: (kernel == 'linear' && scale ==
    'none')"."""
    conditions = [f"condition: {c}" for c in space.conditions]
    forbidden = [
        f"forbidden: {str(clause).replace('Forbidden: ', '')}"
        for clause in space.forbidden_clauses
    ]
    return conditions + forbidden


def _renamed(rule: str, renames: dict[str, str], names: Sequence[str] = ()) -> str:
    """A previous rule's text, for display, with confirmed renames applied to
    whole names outside quoted values. ``names`` are the space's other names: a
    longer one that starts with a renamed one ("lr rate" beside "lr") is matched
    whole, and kept."""
    if not renames:
        return rule
    alternatives = sorted({*renames, *names}, key=len, reverse=True)
    pattern = re.compile(
        rf"(?<![\w.\-])(?:{'|'.join(map(re.escape, alternatives))})(?![\w.\-])"
    )
    # Quoted values ('lr', "a b") alternate with the rest; only the rest holds names.
    pieces = re.split(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""", rule)
    return "".join(
        piece
        if i % 2
        else pattern.sub(lambda m: renames.get(m.group(0), m.group(0)), piece)
        for i, piece in enumerate(pieces)
    )


_LISTED = 5
"""Choices a label names at most; the rest are counted."""


def _listed(values: tuple[Any, ...]) -> str:
    """ " ('a', 'b')" for a label, at most ``_LISTED`` values and a count of the
    rest; "" for none."""
    if not values:
        return ""
    shown = [repr(v.item() if isinstance(v, np.generic) else v) for v in values]
    if len(shown) > _LISTED:
        shown = [*shown[: _LISTED - 1], f"and {len(shown) - _LISTED + 1} more"]
    return f" ({', '.join(shown)})"


def _choice_delta(
    old: Any, new: Any, transform: Any = None
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The values a categorical, ordinal or constant gained and lost (previous
    values after the mapping's transform); empty for ranges and type changes."""
    if hp_kind(old) != hp_kind(new) or hp_kind(old) in _NUMERIC:
        return (), ()
    before = [
        v if transform is None else transform.apply(v) for v in choice_values(old)
    ]
    after = list(choice_values(new))
    return (
        _distinct(v for v in after if not _among(before, v)),
        _distinct(v for v in before if not _among(after, v)),
    )


def _distinct(values: Iterable[Any]) -> tuple[Any, ...]:
    """``values`` without repeats, in order (a value map may merge old values)."""
    kept: list[Any] = []
    for value in values:
        if not _among(kept, value):
            kept.append(value)
    return tuple(kept)


def _among(values: list[Any], value: Any) -> bool:
    """Whether ``value`` is one of the choices ``values``, a bool only a bool
    (0 == False in Python, but the choices [0, 1] are not [False, True])."""
    return choice_index(values, value) is not None


def _compare(old: Any, new: Any, transform: Any = None) -> tuple[ChangeKind, ...]:
    old_kind, new_kind = hp_kind(old), hp_kind(new)
    if old_kind != new_kind:
        return (ChangeKind.TYPE_CHANGED,)
    kinds: list[ChangeKind] = []

    def moved(value: Any) -> Any:
        """A previous value in the current units (after the mapping's transform)."""
        return value if transform is None else transform.apply(value)

    if old_kind in _NUMERIC:
        if bool(old.log) != bool(new.log):
            kinds.append(ChangeKind.LOG_CHANGED)
        low, high = sorted((moved(old.lower), moved(old.upper)))
        scaled = bool(old.log or new.log)
        kinds.extend(_compare_range(low, high, new.lower, new.upper, log=scaled))
    elif old_kind == CONSTANT:
        if not _among([new.value], moved(old.value)):
            kinds.extend([ChangeKind.CHOICES_ADDED, ChangeKind.CHOICES_REMOVED])
    else:
        old_values = [
            moved(v) for v in (old.choices if old_kind == CATEGORICAL else old.sequence)
        ]
        new_values = list(new.choices if new_kind == CATEGORICAL else new.sequence)
        if any(not _among(old_values, v) for v in new_values):
            kinds.append(ChangeKind.CHOICES_ADDED)
        if any(not _among(new_values, v) for v in old_values):
            kinds.append(ChangeKind.CHOICES_REMOVED)
        if old_kind == ORDINAL and _order_changed(old_values, new_values):
            kinds.append(ChangeKind.ORDER_CHANGED)
    old_default = moved(old.default_value)
    if old_kind in _NUMERIC:
        same_default = _close(
            old_default,
            new.default_value,
            new.upper - new.lower,
            old.upper - old.lower,
            log=bool(old.log or new.log),
        )
    else:
        same_default = _among([new.default_value], old_default)
    if old_kind != CONSTANT and not same_default:
        # A default that only followed its range (both sides are ConfigSpace's
        # automatic default) is implied by the range change, not a change of its own.
        # A numeric range the transform carried over exactly counts too: on a log
        # scale an offset does not carry the automatic default (the geometric mean)
        # along with the bounds, nor does rounding an integer's.
        implied = (bool(kinds) or old_kind in _NUMERIC) and (
            old.default_value == _automatic_default(old)
            and new.default_value == _automatic_default(new)
        )
        if not implied:
            kinds.append(ChangeKind.DEFAULT_CHANGED)
    return tuple(kinds) or (ChangeKind.UNCHANGED,)


def _order_changed(old_values: list[Any], new_values: list[Any]) -> bool:
    """Whether the values in both sequences come in another order."""
    # A value map may merge previous values: each counts once, where it first is.
    shared_old = _distinct(v for v in old_values if _among(new_values, v))
    shared_new = _distinct(v for v in new_values if _among(old_values, v))
    return len(shared_old) != len(shared_new) or any(
        not _among([new], old) for old, new in zip(shared_old, shared_new, strict=True)
    )


def _automatic_default(hp: Any) -> Any:
    """The default ConfigSpace gives a hyperparameter of this range and no default."""
    kind = hp_kind(hp)
    if kind == CATEGORICAL:
        return hp.choices[0]
    if kind == ORDINAL:
        return hp.sequence[0]
    factory = CS.Float if kind == FLOAT else CS.Integer
    return factory(hp.name, (hp.lower, hp.upper), log=hp.log).default_value


def _compare_range(
    lo: float, hi: float, new_lo: float, new_hi: float, *, log: bool = False
) -> list[ChangeKind]:
    # Bounds that a transform carried over (0.1 s * 1000) may differ in the last
    # bits from the current ones (see _close).
    widths = (hi - lo, new_hi - new_lo)
    if _close(lo, new_lo, *widths, log=log):
        lo = new_lo
    if _close(hi, new_hi, *widths, log=log):
        hi = new_hi
    if (lo, hi) == (new_lo, new_hi):
        return []
    if new_lo <= lo and new_hi >= hi:
        return [ChangeKind.WIDENED]
    if new_lo >= lo and new_hi <= hi:
        return [ChangeKind.NARROWED]
    return [ChangeKind.SHIFTED]


def _close(a: float, b: float, *widths: float, log: bool = False) -> bool:
    """Whether two bounds (or defaults) are equal but for rounding: within a
    relative 1e-9, or, on a linear scale, within 1e-12 of the range's width (an
    offset may leave 1e-17 where the current bound is 0). A fixed tolerance
    would hide the change of a range as small as an epsilon's (1e-13 to
    9e-13), and one scaled by a log range's width a lower bound moved by
    decades (1e-10 to 1e-9 under an upper bound of 1e6)."""
    spread = 0.0 if log else 1e-12 * max(map(abs, widths))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=spread)


def suggest_renames(
    previous_space: CS.ConfigurationSpace,
    current_space: CS.ConfigurationSpace,
    removed: list[str],
    added: list[str],
) -> tuple[RenameSuggestion, ...]:
    """Suggest removed/added pairs of the same kind (or choices of numbers and a
    range), overlapping values, similar name."""
    found: list[RenameSuggestion] = []
    for old_name in removed:
        for new_name in added:
            old, new = previous_space[old_name], current_space[new_name]
            overlap = _value_overlap(old, new)
            if overlap is None:
                continue
            similarity = _name_similarity(old_name, new_name)
            if similarity < _MIN_NAME_SIMILARITY or overlap <= 0.0:
                continue
            score = 0.6 * similarity + 0.4 * overlap
            kind = hp_kind(new)
            if hp_kind(old) in _NUMERIC and kind in _NUMERIC and hp_kind(old) != kind:
                score *= 0.8
                kind = f"same kind (numeric, {hp_kind(old)} -> {kind})"
            elif hp_kind(old) != kind:
                score *= 0.8
                kind = f"numbers ({hp_kind(old)}) -> {kind} range"
            else:
                kind = f"same kind ({kind})"
            reason = (
                f"{kind}, name similarity {similarity:.2f}, value overlap {overlap:.2f}"
            )
            score = round(score, 3)
            found.append(RenameSuggestion(old_name, new_name, score, reason))
    found.sort(key=lambda s: (-s.score, s.previous, s.current))
    return tuple(found)


def _value_overlap(old: Any, new: Any) -> float | None:
    """Share of the smaller value set covered by both; None if kinds do not match
    (choices of numbers onto a range: the share of them inside it)."""
    from hptaa_lab.space._mapping import _legal, _numbers_only

    kind, new_kind = hp_kind(old), hp_kind(new)
    if kind not in _NUMERIC and new_kind in _NUMERIC and _numbers_only(old):
        values = choice_values(old)
        return sum(_legal(new, v) for v in values) / len(values)
    if kind in _NUMERIC and new_kind in _NUMERIC:
        lo, hi = max(old.lower, new.lower), min(old.upper, new.upper)
        if hi < lo:
            return 0.0
        width = min(old.upper - old.lower, new.upper - new.lower)
        return 1.0 if width <= 0 else min(1.0, (hi - lo) / width)
    if kind != new_kind or kind == CONSTANT:
        return None
    old_values = set(old.choices if kind == CATEGORICAL else old.sequence)
    new_values = set(new.choices if kind == CATEGORICAL else new.sequence)
    both = len(old_values & new_values)
    return both / min(len(old_values), len(new_values)) if both else None


def _name_similarity(a: str, b: str) -> float:
    """Similarity of two names in [0, 1]: edit ratio, shared words, containment,
    or one being the initials of the other ("lr" and "learning_rate")."""
    a_low, b_low = a.lower(), b.lower()
    words_a = [w for w in re.split(r"[^a-z0-9]+", a_low) if w]
    words_b = [w for w in re.split(r"[^a-z0-9]+", b_low) if w]
    scores = [difflib.SequenceMatcher(None, a_low, b_low).ratio()]
    union = set(words_a) | set(words_b)
    scores.append(len(set(words_a) & set(words_b)) / max(len(union), 1))
    short, long = sorted((a_low, b_low), key=len)
    long_words = words_b if long == b_low else words_a
    if short in long and (len(short) >= 3 or short in long_words):
        scores.append(0.8)
    for short, words in ((a_low, words_b), (b_low, words_a)):
        if len(words) > 1 and short == "".join(w[0] for w in words):
            scores.append(0.9)
    return max(scores)
