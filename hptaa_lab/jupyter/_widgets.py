"""The search-space diff widget: review how the space changed, confirm the mapping."""

from __future__ import annotations

import ast
import html
import logging
from collections.abc import Callable
from typing import Any

import ConfigSpace as CS
import ipywidgets as widgets

from hptaa_lab.errors import HptaaError, MappingError
from hptaa_lab.jupyter._html import diff_table_html
from hptaa_lab.space import (
    Mapping,
    RenameSuggestion,
    SpaceDiff,
    as_space,
    choice_index,
    diff,
    hp_kind,
)

__all__ = [
    "SpaceDiffWidget",
    "ValueField",
    "accepted_suggestions",
    "conflicting_suggestions",
    "parse_value",
    "unguessed_suggestions",
]

logger = logging.getLogger(__name__)

ConfirmCallback = Callable[[Mapping], None]

_UNKNOWN_INDEX = -1
_BAD_START_INDEX = -2
"""Dropdown index of a start value (from the cell's mapping) that is no choice."""
_CHOICE_KINDS = ("categorical", "ordinal")


class SpaceDiffWidget:
    """Previous and current search spaces side by side, and the mapping to confirm.

    Shows one row per hyperparameter, coloured and labelled by how it changed;
    each rename suggestion as an accept/reject choice; for every added
    hyperparameter a field for the value it had before it was exposed, and for
    every removed one a field for the value it is fixed to now. The Confirm
    button (or :meth:`confirm`) builds the :class:`~hptaa_lab.Mapping`, checks
    it against both spaces and hands it to the confirm callbacks, which store
    it with the study.

    Without a frontend, set the choices' and fields' ``value`` and call
    :meth:`confirm`; with no change made, confirming accepts the suggested
    renames that do not conflict (as ``%%hptaa tune --yes`` does).

    Args:
        previous_space: The previous study's search space.
        current_space: The current search space.
        previous_name: Name of the previous study (for headers).
        current_name: Name of the current study (for headers).
        mapping: Values to start from: its renames are pre-accepted, its fixed
            values fill the fields, its transforms are kept as they are.

    Attributes:
        space_diff: The diff without any rename applied (with suggestions).
        rename_choices: (previous name, current name) -> accept/reject choice.
        previous_fixed_inputs: Added hyperparameter -> the field for the value
            it had in the previous version.
        current_fixed_inputs: Removed hyperparameter -> the field for the value
            it is fixed to now.
        confirm_button: The Confirm button.
        mapping: The confirmed mapping, None until confirmed.
        widget: The ipywidgets box to display or nest.
    """

    def __init__(
        self,
        previous_space: CS.ConfigurationSpace,
        current_space: CS.ConfigurationSpace,
        *,
        previous_name: str = "",
        current_name: str = "",
        mapping: Mapping | None = None,
        renames_given: bool = False,
    ) -> None:
        self.previous_space = as_space(previous_space)
        self.current_space = as_space(current_space)
        self.previous_name = previous_name
        self.current_name = current_name
        self.space_diff = diff(self.previous_space, self.current_space)
        self.mapping: Mapping | None = None
        self._start = mapping or Mapping()
        # A cell's mapping that gives renames, even none ({"renames": {}}), lists
        # them all: no suggestion is accepted beside them.
        self._renames_given = renames_given or bool(self._start.renames)
        self._callbacks: list[ConfirmCallback] = []
        self._closed = False
        self._reasons: dict[tuple[str, str], str] = {}

        self.rename_choices = self._build_rename_choices()
        self.previous_fixed_inputs = {
            name: ValueField(
                name,
                self.current_space[name],
                self._start.previous_fixed.get(name, _UNKNOWN),
            )
            for name in self.space_diff.added
        }
        self.current_fixed_inputs = {
            name: ValueField(name, None, self._start.current_fixed.get(name, _UNKNOWN))
            for name in self.space_diff.removed
        }
        self.table = widgets.HTML()
        self.status = widgets.HTML()
        self._added_header = widgets.HTML(
            "<b>Added hyperparameters</b>: the value each had in the previous "
            "version, if it was hard-coded there. Left unknown, transfer "
            "<code>auto</code> takes it to have been the default (say "
            "<code>transfer_options = {'added_defaults': False}</code> in the cell "
            "if it had none); the paper's methods draw it at random."
        )
        self._removed_header = widgets.HTML(
            "<b>Removed hyperparameters</b>: the value each is fixed to now "
            "(optional; previous trials with that value count as exact matches)."
        )
        self.confirm_button = widgets.Button(
            description="Confirm",
            button_style="success",
            icon="check",
            tooltip="Store this mapping with the study and start tuning",
        )
        self.confirm_button.on_click(self._on_click)
        self.widget = self._layout()
        self.widget.add_class("hptaa-diff")
        for choice in self.rename_choices.values():
            choice.observe(self._on_choice, names="value")
        self._refresh()

    def __repr__(self) -> str:
        state = "confirmed" if self.mapping is not None else "not confirmed"
        lines = [
            f"Search-space diff {self.previous_name or 'previous'} -> "
            f"{self.current_name or 'current'} ({state}):",
            self.current_diff().format_table(),
        ]
        # The value fields, which the table does not show.
        try:
            mapping = self.mapping or self.build_mapping()
        except MappingError as exc:
            lines.append(f"The fields do not fit yet: {exc}")
        else:
            lines += mapping.describe(renames=False)
            left = self.unguessed_left_out(mapping)
            if left and self.mapping is None:
                lines.append(
                    f"Rename suggestions not accepted ({self._why_unguessed()}; "
                    "accept the right one in the widget, or set it in the cell's "
                    f"mapping): {', '.join(left)}"
                )
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = repr(self)
        return bundle

    # -- reading the fields --------------------------------------------------

    def accepted_renames(self) -> dict[str, str]:
        """Previous name -> current name of every accepted rename."""
        return {prev: cur for (prev, cur), c in self.rename_choices.items() if c.value}

    def unguessed_left_out(self, mapping: Mapping) -> list[str]:
        """The rename suggestions not accepted by default (see
        :func:`unguessed_suggestions`) that ``mapping`` settles neither way, as
        "old -> new"."""
        return [
            f"{s.previous} -> {s.current}"
            for s in unguessed_suggestions(
                self.space_diff, self._start, renames_given=self._renames_given
            )
            if s.previous not in mapping.renames
            and s.current not in mapping.renames.values()
            and s.current not in mapping.previous_fixed
            and s.previous not in mapping.current_fixed
        ]

    def _why_unguessed(self) -> str:
        if self._renames_given:
            return "the cell's mapping gives the renames"
        return "rivals: another suggestion names the same hyperparameter"

    def current_diff(self) -> SpaceDiff:
        """The diff with the accepted renames applied (none if they conflict)."""
        try:
            return diff(
                self.previous_space,
                self.current_space,
                Mapping(renames=self.accepted_renames()),
            )
        except MappingError:
            return self.space_diff

    def build_mapping(self) -> Mapping:
        """The mapping the fields describe now, checked against both spaces.

        Raises:
            MappingError: Naming the rename, field or value that does not fit.
        """
        renames = self.accepted_renames()
        _check_one_rename_each(renames)
        shown = self.current_diff()
        previous_fixed = {}
        for name in shown.added:
            value = self.previous_fixed_inputs[name].read()
            if value is not _UNKNOWN:
                previous_fixed[name] = value
        current_fixed = {}
        for name in shown.removed:
            value = self.current_fixed_inputs[name].read()
            if value is not _UNKNOWN:
                current_fixed[name] = value
        # Start values without a field stay in, so that validate() names them.
        for name, value in self._start.previous_fixed.items():
            if name not in self.previous_fixed_inputs:
                previous_fixed[name] = value
        for name, value in self._start.current_fixed.items():
            if name not in self.current_fixed_inputs:
                current_fixed[name] = value
        mapping = Mapping(
            renames=renames,
            transforms=dict(self._start.transforms),
            previous_fixed=previous_fixed,
            current_fixed=current_fixed,
        )
        mapping.validate(self.previous_space, self.current_space)
        return mapping

    # -- confirming ----------------------------------------------------------

    def on_confirm(self, callback: ConfirmCallback) -> None:
        """Call ``callback(mapping)`` when the mapping is confirmed.

        A callback that raises an HptaaError leaves the widget unconfirmed and
        shows the error, so the user can fix the fields and confirm again.
        """
        self._callbacks.append(callback)

    @property
    def confirmed(self) -> bool:
        """Whether the mapping was confirmed."""
        return self.mapping is not None

    def confirm(self) -> Mapping:
        """Build the mapping, hand it to the callbacks and lock the widget.

        Returns:
            The confirmed mapping (the same one again if already confirmed).

        Raises:
            MappingError: If the fields do not make a valid mapping.
            HptaaError: If the widget was closed, or a callback refused the
                mapping; the widget shows the error as well.
        """
        if self.mapping is not None:
            return self.mapping
        if self._closed:
            raise HptaaError(
                "This search-space diff was closed without confirming (the run was "
                "stopped); start a new %%hptaa tune to tune again."
            )
        try:
            mapping = self.build_mapping()
            for callback in self._callbacks:
                callback(mapping)
        except (HptaaError, ValueError) as exc:
            # A callback's ValueError too: e.g. create_study refusing a value.
            self._show(f"Not confirmed: {exc}", error=True)
            raise
        self.mapping = mapping
        self._lock()
        self._show(
            "Confirmed. Mapping stored with the study: "
            + ("(empty)" if mapping.is_empty else "; ".join(mapping.describe()))
        )
        return mapping

    def close(self, reason: str) -> None:
        """Lock the widget without confirming, showing ``reason``."""
        if self.mapping is None:
            self._closed = True
            self._lock()
            self._show(reason)

    def _on_click(self, button: Any) -> None:
        try:
            self.confirm()
        except (HptaaError, ValueError):
            logger.debug("confirmation refused", exc_info=True)

    def _on_choice(self, change: Any) -> None:
        self._refresh()

    # -- layout --------------------------------------------------------------

    def _build_rename_choices(self) -> dict[tuple[str, str], Any]:
        pairs: dict[tuple[str, str], str] = {
            pair: "from the mapping in the cell" for pair in self._start.renames.items()
        }
        rivals = conflicting_suggestions(self.space_diff, self._start)
        unguessed = unguessed_suggestions(
            self.space_diff, self._start, renames_given=self._renames_given
        )
        for s in self.space_diff.suggestions:
            others = [
                f"{o.previous} -> {o.current}"
                for o in rivals
                if o is not s and (o.previous == s.previous or o.current == s.current)
            ]
            conflict = (
                f"; conflicts with {', '.join(others)}: accept the right one"
                if s in rivals
                else "; not guessed: the cell's mapping gives the renames"
                if s in unguessed
                else ""
            )
            pairs.setdefault(
                (s.previous, s.current), f"score {s.score:.2f}: {s.reason}{conflict}"
            )
        accepted = accepted_suggestions(
            self.space_diff, self._start, renames_given=self._renames_given
        )
        choices = {}
        for pair, reason in pairs.items():
            choice = widgets.ToggleButtons(
                options=[("accept", True), ("reject", False)],
                value=accepted.get(pair[0]) == pair[1],
                style={"button_width": "70px"},
            )
            self._reasons[pair] = reason
            choices[pair] = choice
        return choices

    def _layout(self) -> Any:
        title = (
            f"<b>Search-space diff</b>: {html.escape(self.previous_name or 'previous')}"
            f" (previous) &rarr; {html.escape(self.current_name or 'current')} (current)"
        )
        rows: list[Any] = [widgets.HTML(title), self.table]
        if self.rename_choices:
            rows.append(
                widgets.HTML(
                    "<b>Possible renames</b>: accept one to transfer the previous values "
                    "of the old name to the new one."
                )
            )
            for (prev, cur), choice in self.rename_choices.items():
                text = (
                    f"{html.escape(prev)} &rarr; {html.escape(cur)} "
                    f"<small>({html.escape(self._reasons[(prev, cur)])})</small>"
                )
                rows.append(widgets.HBox([choice, widgets.HTML(text)]))
        rows.append(self._added_header)
        rows.extend(f.widget for f in self.previous_fixed_inputs.values())
        rows.append(self._removed_header)
        rows.extend(f.widget for f in self.current_fixed_inputs.values())
        rows.extend([self.confirm_button, self.status])
        return widgets.VBox(rows)

    def _refresh(self) -> None:
        shown = self.current_diff()
        self.table.value = diff_table_html(
            shown, previous=self.previous_name, current=self.current_name
        )
        for name, field in self.previous_fixed_inputs.items():
            field.widget.layout.display = None if name in shown.added else "none"
        for name, field in self.current_fixed_inputs.items():
            field.widget.layout.display = None if name in shown.removed else "none"
        self._added_header.layout.display = None if shown.added else "none"
        self._removed_header.layout.display = None if shown.removed else "none"
        try:
            _check_one_rename_each(self.accepted_renames())
        except MappingError as exc:
            self._show(str(exc), error=True)
        else:
            if not self.confirmed and not self._closed:
                self._show("Review the diff, then confirm to start tuning.")

    def _lock(self) -> None:
        for item in (
            *self.rename_choices.values(),
            *(f.widget for f in self.previous_fixed_inputs.values()),
            *(f.widget for f in self.current_fixed_inputs.values()),
            self.confirm_button,
        ):
            item.disabled = True

    def _show(self, text: str, *, error: bool = False) -> None:
        colour = "#a50e0e" if error else "#137333" if self.confirmed else "#444"
        self.status.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"


def accepted_suggestions(
    space_diff: SpaceDiff, start: Mapping | None = None, *, renames_given: bool = False
) -> dict[str, str]:
    """The renames to accept by default.

    The renames of ``start``; if it gives none (and ``renames_given`` is false:
    a cell's ``{"renames": {}}`` says there are none), every suggestion that
    does not contradict it (a current name it gives a previous fixed value is
    an added hyperparameter; a previous name it fixes now is a removed one) and
    has no rival: another open suggestion of the same previous or current name
    (see :func:`conflicting_suggestions`); rivals are left for the user to
    choose.
    """
    start = start or Mapping()
    renames = dict(start.renames)
    unguessed = set(
        map(
            _pair,
            unguessed_suggestions(space_diff, start, renames_given=renames_given),
        )
    )
    for s in _open_suggestions(space_diff, start):
        if _pair(s) not in unguessed:
            renames[s.previous] = s.current
    return renames


def unguessed_suggestions(
    space_diff: SpaceDiff, start: Mapping | None = None, *, renames_given: bool = False
) -> list[RenameSuggestion]:
    """The open suggestions not accepted by default: the rivals (see
    :func:`conflicting_suggestions`), or all of them when ``start`` has renames
    or ``renames_given`` (a mapping that gives renames lists them all: a guess
    beside them, unseen under ``--yes``, could transfer an unrelated
    hyperparameter's values)."""
    start = start or Mapping()
    if start.renames or renames_given:
        return _open_suggestions(space_diff, start)
    return conflicting_suggestions(space_diff, start)


def conflicting_suggestions(
    space_diff: SpaceDiff, start: Mapping | None = None
) -> list[RenameSuggestion]:
    """The suggestions that are not accepted by default because another one
    names the same previous or the same current hyperparameter (a guess between
    them could map the values onto the wrong one), best first; those ``start``
    decides are left out."""
    candidates = _open_suggestions(space_diff, start or Mapping())
    return [
        s
        for s in candidates
        if any(
            o is not s and (o.previous == s.previous or o.current == s.current)
            for o in candidates
        )
    ]


def _open_suggestions(space_diff: SpaceDiff, start: Mapping) -> list[RenameSuggestion]:
    """The suggestions ``start`` leaves open: not reusing a name one of its
    renames takes, not naming a hyperparameter it fixes."""
    taken_before, taken_now = set(start.renames), set(start.renames.values())
    return [
        s
        for s in space_diff.suggestions
        if s.previous not in taken_before
        and s.current not in taken_now
        and s.current not in start.previous_fixed
        and s.previous not in start.current_fixed
    ]


def _pair(suggestion: RenameSuggestion) -> tuple[str, str]:
    return suggestion.previous, suggestion.current


def _check_one_rename_each(renames: dict[str, str]) -> None:
    targets = list(renames.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        sources = {t: sorted(p for p, c in renames.items() if c == t) for t in twice}
        raise MappingError(
            "Each current hyperparameter can take the values of one previous one, "
            f"but several renames are accepted onto the same name: {sources}. "
            "Reject all but one of them."
        )


class _Unknown:
    def __repr__(self) -> str:
        return "unknown"


_UNKNOWN: Any = _Unknown()


class ValueField:
    """A field for one hyperparameter's value: a dropdown of the choices of a
    categorical or ordinal hyperparameter, else a text field.

    Args:
        name: The hyperparameter's name (the field's label).
        hp: The hyperparameter whose range the value must fit, or None for any
            number, string or bool.
        start: The value to show at first (default: unknown). None is the
            choice None of a dropdown that has it, else the text ``None``.

    Attributes:
        widget: The ipywidgets field; its ``value`` is the choice index (-1:
            unknown) for a dropdown, the text otherwise.
    """

    def __init__(self, name: str, hp: Any = None, start: Any = _UNKNOWN) -> None:
        self.name = name
        self.hp = hp
        self.choices: list[Any] | None = None
        self._bad_start: Any = None
        layout = widgets.Layout(width="480px")
        style = {"description_width": "180px"}
        kind = None if hp is None else hp_kind(hp)
        if kind in _CHOICE_KINDS:
            self.choices = list(hp.choices if kind == "categorical" else hp.sequence)
            options = [("unknown", _UNKNOWN_INDEX)]
            options += [(repr(v), i) for i, v in enumerate(self.choices)]
            # No start value is unknown, not the choice None (a real choice
            # of, say, max_features): None is only what the mapping says.
            index = (
                _UNKNOWN_INDEX
                if start is _UNKNOWN
                else _choice_index(self.choices, start)
            )
            if start is not _UNKNOWN and index == _UNKNOWN_INDEX:
                # Shown and kept, so that confirming names it (it was dropped
                # silently before): pick a choice or "unknown" instead.
                self._bad_start = start
                options.append((f"{start!r} (not a choice)", _BAD_START_INDEX))
                index = _BAD_START_INDEX
            self.widget = widgets.Dropdown(
                options=options,
                value=index,
                description=name,
                layout=layout,
                style=style,
            )
        else:
            self.widget = widgets.Text(
                # A cell's current_fixed {"k": None} is the value None, shown as
                # such (it was shown empty, which reads as unknown, and dropped).
                value="" if start is _UNKNOWN else repr(start),
                placeholder="unknown",
                description=name,
                layout=layout,
                style=style,
            )

    def read(self) -> Any:
        """The value entered, or the unknown marker.

        Raises:
            MappingError: If a number was expected and the text is not one.
        """
        if self.choices is not None:
            index = self.widget.value
            if index == _BAD_START_INDEX:
                return self._bad_start
            return _UNKNOWN if index == _UNKNOWN_INDEX else self.choices[index]
        return parse_value(self.widget.value, self.hp, self.name)

    def set(self, value: Any) -> None:
        """Enter ``value`` as a user would (None: unknown, or the choice None
        of a dropdown that has it)."""
        if self.choices is not None:
            self.widget.value = _choice_index(self.choices, value)
        else:
            self.widget.value = "" if value is None else str(value)


def _choice_index(choices: list[Any], value: Any) -> int:
    """The dropdown index of ``value`` among ``choices`` (see
    ``space.choice_index``), else unknown's."""
    index = choice_index(choices, value)
    return _UNKNOWN_INDEX if index is None else index


def parse_value(text: str, hp: Any = None, name: str = "") -> Any:
    """Read a value typed into a field.

    Empty text means unknown (returns an internal marker). For a float or
    integer hyperparameter the text must be a number; otherwise it is read as
    a Python literal (``'tanh'``, ``16``, ``True``, ``None``), falling back to
    the text.

    Raises:
        MappingError: If a number was expected and the text is not one.
    """
    text = str(text).strip()
    if not text:
        return _UNKNOWN
    kind = None if hp is None else hp_kind(hp)
    if kind in ("float", "int"):
        try:
            number = float(text)
        except ValueError:
            raise MappingError(
                f"The value of {name!r} must be a number ({kind} hyperparameter); got "
                f"{text!r}. Type a number, or clear the field if the value is unknown."
            ) from None
        if kind == "int" and number.is_integer():
            return int(number)
        return number
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return (
        value if value is None or isinstance(value, str | int | float | bool) else text
    )
