"""Tests of the search-space diff widget, without a frontend."""

from __future__ import annotations

import ConfigSpace as CS
import pytest

from hptaa_lab.errors import HptaaError, MappingError
from hptaa_lab.jupyter import SpaceDiffWidget
from hptaa_lab.jupyter._widgets import (
    accepted_suggestions,
    conflicting_suggestions,
    parse_value,
)
from hptaa_lab.space import Mapping, build_space


@pytest.fixture
def previous_space() -> CS.ConfigurationSpace:
    """Version 1: lr and batch exist, dropout and kernel are hard-coded."""
    return build_space(
        {
            "lr": (1e-4, 1e-1, "log"),
            "units": (16, 256),
            "act": ["relu", "tanh"],
            "batch": [16, 32],
        }
    )


@pytest.fixture
def current_space() -> CS.ConfigurationSpace:
    """Version 2: lr renamed, units widened, act gains a choice, batch removed,
    dropout and kernel exposed."""
    return build_space(
        {
            "learning_rate": (1e-5, 1e-1, "log"),
            "units": (16, 512),
            "act": ["relu", "tanh", "gelu"],
            "dropout": (0.0, 0.5),
            "kernel": ["rbf", "poly"],
        }
    )


@pytest.fixture
def widget(
    previous_space: CS.ConfigurationSpace, current_space: CS.ConfigurationSpace
) -> SpaceDiffWidget:
    """The diff widget of the two versions."""
    return SpaceDiffWidget(
        previous_space, current_space, previous_name="net-v1", current_name="net-v2"
    )


def test_confirm_without_changes_accepts_the_rename_suggestion(
    widget: SpaceDiffWidget,
) -> None:
    """Check that confirming the untouched widget gives the suggested rename only."""
    received: list[Mapping] = []
    widget.on_confirm(received.append)

    mapping = widget.confirm()

    assert mapping == Mapping(renames={"lr": "learning_rate"})
    assert received == [mapping]
    assert widget.mapping == mapping
    assert widget.confirmed


def test_confirm_builds_the_mapping_from_the_choices_and_fields(
    widget: SpaceDiffWidget,
) -> None:
    """Check the mapping after rejecting the rename and filling every field."""
    widget.rename_choices[("lr", "learning_rate")].value = False
    widget.previous_fixed_inputs["learning_rate"].widget.value = "0.001"
    widget.previous_fixed_inputs["dropout"].widget.value = "0.1"
    widget.previous_fixed_inputs["kernel"].set("rbf")
    widget.current_fixed_inputs["batch"].widget.value = "32"

    widget.confirm_button.click()

    assert widget.mapping == Mapping(
        renames={},
        previous_fixed={"learning_rate": 0.001, "dropout": 0.1, "kernel": "rbf"},
        current_fixed={"batch": 32},
    )
    assert widget.confirm_button.disabled
    assert all(c.disabled for c in widget.rename_choices.values())
    assert "Confirmed" in widget.status.value
    assert "batch is fixed to 32 now that it is removed" in widget.status.value


def test_fields_follow_the_accepted_renames(widget: SpaceDiffWidget) -> None:
    """Check that a renamed hyperparameter has no previous-value field shown,
    and gets one back when the rename is rejected."""
    learning_rate = widget.previous_fixed_inputs["learning_rate"].widget
    lr = widget.current_fixed_inputs["lr"].widget
    assert learning_rate.layout.display == "none"
    assert lr.layout.display == "none"
    assert "lr → learning_rate" in widget.table.value

    widget.rename_choices[("lr", "learning_rate")].value = False

    assert learning_rate.layout.display is None
    assert lr.layout.display is None
    assert "lr → learning_rate" not in widget.table.value


def test_a_hidden_field_does_not_enter_the_mapping(widget: SpaceDiffWidget) -> None:
    """Check that a value typed for learning_rate is ignored while the rename
    that makes it shared is accepted."""
    widget.previous_fixed_inputs["learning_rate"].widget.value = "0.001"

    assert widget.confirm() == Mapping(renames={"lr": "learning_rate"})


def test_table_marks_each_change_in_words_and_colour(widget: SpaceDiffWidget) -> None:
    """Check that every hyperparameter has a row with its change words and colour."""
    table = widget.table.value

    for words in ("lr → learning_rate", "renamed, widened", "widened", "choices added"):
        assert words in table
    assert "added" in table and "removed" in table
    assert "background:#e6f4ea" in table  # added: green
    assert "background:#fce8e6" in table  # removed: red
    assert "background:#f3e8fd" in table  # renamed: purple
    assert "net-v1" in table and "net-v2" in table


def test_a_field_that_is_not_a_number_keeps_the_widget_open(
    widget: SpaceDiffWidget,
) -> None:
    """Check that "abc" for a float is refused with a message, and that fixing
    it lets the mapping be confirmed."""
    widget.previous_fixed_inputs["dropout"].widget.value = "abc"

    with pytest.raises(MappingError, match="The value of 'dropout' must be a number"):
        widget.confirm()
    assert not widget.confirmed
    assert "must be a number" in widget.status.value
    assert not widget.confirm_button.disabled

    widget.previous_fixed_inputs["dropout"].widget.value = "0.25"
    assert widget.confirm().previous_fixed == {"dropout": 0.25}


def test_a_value_outside_the_current_range_is_refused(widget: SpaceDiffWidget) -> None:
    """Check that a previous dropout of 0.9 (range [0, 0.5]) is refused."""
    widget.previous_fixed_inputs["dropout"].widget.value = "0.9"

    with pytest.raises(
        MappingError, match=r"previous_fixed\['dropout'\] = 0.9 is outside"
    ):
        widget.confirm()


def test_a_callback_that_refuses_leaves_the_widget_unconfirmed(
    widget: SpaceDiffWidget,
) -> None:
    """Check that an HptaaError from a callback is shown and confirming again works."""
    refuse = [True]

    def callback(mapping: Mapping) -> None:
        if refuse[0]:
            raise HptaaError("the study name is taken")

    widget.on_confirm(callback)
    widget.confirm_button.click()

    assert not widget.confirmed
    assert "the study name is taken" in widget.status.value

    refuse[0] = False
    widget.confirm_button.click()
    assert widget.confirmed


def test_start_mapping_fills_the_choices_and_fields(
    previous_space: CS.ConfigurationSpace, current_space: CS.ConfigurationSpace
) -> None:
    """Check that a mapping given to the widget pre-sets its fields."""
    start = Mapping(previous_fixed={"dropout": 0.0, "kernel": "poly"})
    widget = SpaceDiffWidget(previous_space, current_space, mapping=start)

    assert widget.previous_fixed_inputs["dropout"].widget.value == "0.0"
    assert widget.confirm() == Mapping(
        renames={"lr": "learning_rate"},
        previous_fixed={"dropout": 0.0, "kernel": "poly"},
    )


def test_a_start_value_that_is_no_choice_is_shown_and_refused_until_changed(
    previous_space: CS.ConfigurationSpace, current_space: CS.ConfigurationSpace
) -> None:
    """Check that a cell's previous_fixed value outside a categorical's choices
    is not turned into "unknown" silently: confirming names it, and picking a
    choice or unknown instead confirms."""
    start = Mapping(previous_fixed={"kernel": "RBF"})
    widget = SpaceDiffWidget(previous_space, current_space, mapping=start)
    field = widget.previous_fixed_inputs["kernel"]

    assert "'RBF' (not a choice)" in [label for label, _ in field.widget.options]
    with pytest.raises(MappingError, match=r"previous_fixed\['kernel'\] = 'RBF'"):
        widget.confirm()
    assert not widget.confirmed

    field.set("rbf")
    assert widget.confirm().previous_fixed == {"kernel": "rbf"}

    other = SpaceDiffWidget(previous_space, current_space, mapping=start)
    other.previous_fixed_inputs["kernel"].set(None)
    assert "kernel" not in other.confirm().previous_fixed

    # No start value leaves a dropdown unknown even when None is a choice; a
    # start value None picks that choice.
    with_none = build_space({"feat": ["sqrt", None]})
    bare = build_space({"x": (0.0, 1.0)})
    assert "feat" not in SpaceDiffWidget(bare, with_none).confirm().previous_fixed
    fixed_none = Mapping(previous_fixed={"feat": None})
    given = SpaceDiffWidget(bare, with_none, mapping=fixed_none).confirm()
    assert given.previous_fixed == {"feat": None}

    # True is no choice of [1, 2], nor 1 of [True, False] (True == 1 in Python).
    flags = build_space({"n": [1, 2], "flag": [True, False]})
    for fixed in ({"n": True}, {"flag": 1}):
        mixed = SpaceDiffWidget(
            build_space({"x": (0.0, 1.0)}), flags, mapping=Mapping(previous_fixed=fixed)
        )
        with pytest.raises(MappingError, match="previous_fixed"):
            mixed.confirm()


def test_two_renames_onto_one_name_are_refused() -> None:
    """Check that accepting two suggestions onto learning_rate is an error, and
    that neither is accepted at first (they conflict, and each says so)."""
    previous = build_space({"lr": (1e-4, 1e-1, "log"), "l_rate": (1e-4, 1e-1, "log")})
    current = build_space({"learning_rate": (1e-4, 1e-1, "log")})
    widget = SpaceDiffWidget(previous, current)
    choices = widget.rename_choices
    assert set(choices) == {("lr", "learning_rate"), ("l_rate", "learning_rate")}
    assert sum(c.value for c in choices.values()) == 0
    assert (
        "conflicts with l_rate -> learning_rate: accept the right one"
        in (widget._reasons[("lr", "learning_rate")])
    )

    for choice in choices.values():
        choice.value = True

    with pytest.raises(
        MappingError, match="several renames are accepted onto the same"
    ):
        widget.confirm()
    assert "Reject all but one" in widget.status.value


def test_rival_suggestions_of_one_previous_name_are_left_to_the_user() -> None:
    """Check that when one removed hyperparameter has two likely new names, no
    guess is pre-accepted (the better-scored one may be the wrong one), while a
    suggestion without a rival is, and a mapping that fixes one rival leaves the
    other accepted."""
    previous = build_space(
        {"min_samples_split": (2, 20), "depth": (2, 10), "crit": ["gini", "entropy"]}
    )
    current = build_space(
        {
            "min_split": (2, 20),
            "min_samples_leaf": (1, 10),
            "max_depth": (1, 30),
            "crit": ["gini", "entropy"],
        }
    )
    widget = SpaceDiffWidget(previous, current)
    rivals = conflicting_suggestions(widget.space_diff)
    assert {(s.previous, s.current) for s in rivals} == {
        ("min_samples_split", "min_split"),
        ("min_samples_split", "min_samples_leaf"),
    }

    assert (
        "Rename suggestions not accepted (rivals: another suggestion names the "
        "same hyperparameter; accept the right one in the widget, or set it in "
        "the cell's mapping): min_samples_split -> "
    ) in repr(widget)

    mapping = widget.confirm()

    assert "min_samples_split" not in mapping.renames
    assert mapping.renames.get("depth") == "max_depth"
    fixed = Mapping(previous_fixed={"min_samples_leaf": 1})
    assert accepted_suggestions(widget.space_diff, fixed)["min_samples_split"] == (
        "min_split"
    )


def test_closing_the_widget_prevents_confirming(widget: SpaceDiffWidget) -> None:
    """Check that a closed widget is locked and refuses to confirm."""
    widget.close("Stopped before confirming.")

    assert widget.confirm_button.disabled
    with pytest.raises(HptaaError, match="closed without confirming"):
        widget.confirm()


def test_plain_text_repr_is_the_diff_table(widget: SpaceDiffWidget) -> None:
    """Check the text form: the diff with the accepted renames."""
    text = repr(widget)

    assert text.startswith("Search-space diff net-v1 -> net-v2 (not confirmed):")
    assert "lr -> learning_rate" in text


def test_plain_text_repr_shows_the_value_fields() -> None:
    """Check that the text form shows the fixed values the fields hold (from the
    cell's mapping), which Confirm stores, and says when they do not fit."""
    previous = build_space({"x": (0.0, 1.0), "d": (1, 8)})
    current = build_space({"x": (0.0, 1.0), "lr": (0.1, 1.0)})
    widget = SpaceDiffWidget(
        previous,
        current,
        mapping=Mapping(previous_fixed={"lr": 0.5}, current_fixed={"d": 3}),
    )

    text = repr(widget)

    assert "lr had 0.5 before it was added (previous_fixed)" in text
    assert "d is fixed to 3 now that it is removed (current_fixed)" in text
    widget.previous_fixed_inputs["lr"].widget.value = "7"
    assert "The fields do not fit yet:" in repr(widget)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16", 16),
        ("'tanh'", "tanh"),
        ("tanh", "tanh"),
        ("True", True),
        ("1.5", 1.5),
        ("None", None),
        ("'None'", "None"),
    ],
)
def test_parse_value_reads_literals_and_falls_back_to_text(
    text: str, expected: object
) -> None:
    """Check how a field without a numeric hyperparameter reads its text."""
    assert parse_value(text) == expected


def test_a_start_value_for_an_added_name_vetoes_a_rename_onto_it() -> None:
    """Check that a suggestion lr -> lr_decay is not pre-accepted when the start
    mapping gives lr_decay a previous fixed value (so it is added), and that the
    other suggestion lr -> learning_rate is accepted instead."""
    previous = build_space({"lr": (1e-4, 1e-1, "log"), "gamma": (1e-5, 1e-1, "log")})
    current = build_space(
        {
            "learning_rate": (1e-4, 1e-1, "log"),
            "gamma": (1e-5, 1e-1, "log"),
            "lr_decay": (1e-4, 1e-1, "log"),
        }
    )
    start = Mapping(previous_fixed={"lr_decay": 1e-3})
    widget = SpaceDiffWidget(previous, current, mapping=start)
    assert ("lr", "lr_decay") in widget.rename_choices
    assert not widget.rename_choices[("lr", "lr_decay")].value

    assert widget.confirm() == Mapping(
        renames={"lr": "learning_rate"}, previous_fixed={"lr_decay": 1e-3}
    )


def test_a_start_value_for_a_name_that_was_not_added_is_refused(
    previous_space: CS.ConfigurationSpace, current_space: CS.ConfigurationSpace
) -> None:
    """Check that a previous fixed value for a shared hyperparameter is not
    dropped silently but refused with the mapping's own message."""
    start = Mapping(previous_fixed={"units": 64})
    widget = SpaceDiffWidget(previous_space, current_space, mapping=start)

    with pytest.raises(
        MappingError, match="previous_fixed names 'units', which is not an added"
    ):
        widget.confirm()


def test_a_change_of_conditions_only_shows_in_the_widget() -> None:
    """Check that a space that only gained a condition is shown as a change: the
    widget's table names the added condition."""
    previous = CS.ConfigurationSpace({"kernel": ["rbf", "linear"], "gamma": (0.1, 1.0)})
    current = CS.ConfigurationSpace({"kernel": ["rbf", "linear"], "gamma": (0.1, 1.0)})
    current.add(CS.EqualsCondition(current["gamma"], current["kernel"], "rbf"))

    widget = SpaceDiffWidget(previous, current)

    assert not widget.space_diff.is_identical
    assert "added condition: gamma | kernel == &#x27;rbf&#x27;" in widget.table.value


def test_a_start_mapping_with_renames_lists_them_all() -> None:
    """Check that when the cell's mapping gives renames, the diff's other
    suggestions are shown but not accepted (under --yes, a guessed
    min_samples_leaf -> min_samples_split beside the cell's lr -> learning_rate
    transferred an unrelated hyperparameter's values), and say why."""
    previous = build_space(
        {"lr": (1e-4, 1e-1, "log"), "min_samples_leaf": (1, 20), "depth": (1, 9)}
    )
    current = build_space(
        {
            "learning_rate": (1e-4, 1e-1, "log"),
            "min_samples_split": (2, 20),
            "depth": (1, 9),
        }
    )
    start = Mapping(renames={"lr": "learning_rate"})
    widget = SpaceDiffWidget(previous, current, mapping=start)

    pair = ("min_samples_leaf", "min_samples_split")
    assert pair in widget.rename_choices
    assert not widget.rename_choices[pair].value
    assert (
        "Rename suggestions not accepted (the cell's mapping gives the renames; "
        "accept the right one in the widget, or set it in the cell's mapping): "
        "min_samples_leaf -> min_samples_split"
    ) in repr(widget)
    assert widget.confirm() == start
    assert widget.unguessed_left_out(start) == ["min_samples_leaf -> min_samples_split"]

    guessed = SpaceDiffWidget(previous, current)
    assert guessed.confirm().renames == {
        "lr": "learning_rate",
        "min_samples_leaf": "min_samples_split",
    }


def test_renames_given_as_none_accept_no_suggestion() -> None:
    """Check that a cell's mapping that gives its renames as none (renames_given,
    from {"renames": {}}) leaves every suggestion unaccepted, and says why."""
    previous = build_space({"lr": (1e-4, 1e-1, "log"), "depth": (1, 9)})
    current = build_space({"learning_rate": (1e-4, 1e-1, "log"), "depth": (1, 9)})

    widget = SpaceDiffWidget(previous, current, renames_given=True)

    assert not widget.rename_choices[("lr", "learning_rate")].value
    assert "(the cell's mapping gives the renames;" in repr(widget)
    assert widget.confirm().renames == {}
    assert SpaceDiffWidget(previous, current).confirm().renames == {
        "lr": "learning_rate"
    }


def test_a_start_value_none_for_a_removed_name_is_kept() -> None:
    """Check that a cell's current_fixed {"k": None} is shown as None and kept
    when confirmed (the field showed it empty, which reads as unknown, so the
    stored mapping lost it)."""
    previous = build_space({"k": ["a", "b", None], "x": (0.0, 1.0)})
    current = build_space({"x": (0.0, 1.0)})
    start = Mapping(current_fixed={"k": None})

    widget = SpaceDiffWidget(previous, current, mapping=start)

    assert widget.current_fixed_inputs["k"].widget.value == "None"
    assert widget.confirm() == start
