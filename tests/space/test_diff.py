"""Tests of the search-space diff: change kinds, rename suggestions, tables."""

from __future__ import annotations

from typing import Any

import ConfigSpace as CS
import pytest

from hptaa_lab import diff
from hptaa_lab.space import ChangeKind, Mapping, SpaceDiff, ValueTransform, build_space

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

K = ChangeKind


def _diff(previous: dict[str, Any], current: dict[str, Any], **kw: Any) -> SpaceDiff:
    return diff(build_space(previous), build_space(current), **kw)


@pytest.mark.parametrize(
    ("previous", "current", "kinds"),
    [
        ((0.0, 1.0), (0.0, 1.0), (K.UNCHANGED,)),
        (["a", "b"], ["a", "b"], (K.UNCHANGED,)),
        ({"ordinal": [1, 2, 3]}, {"ordinal": [1, 2, 3]}, (K.UNCHANGED,)),
        (3, 3, (K.UNCHANGED,)),
        (
            {"float": (0.0, 1.0), "default": 0.5},
            {"float": (0.0, 2.0), "default": 0.5},
            (K.WIDENED,),
        ),
        (
            {"int": (1, 100), "default": 10},
            {"int": (5, 50), "default": 10},
            (K.NARROWED,),
        ),
        (
            {"float": (0.0, 0.5), "default": 0.3},
            {"float": (0.2, 0.8), "default": 0.3},
            (K.SHIFTED,),
        ),
        (["relu", "tanh"], ["relu", "tanh", "gelu"], (K.CHOICES_ADDED,)),
        (["sgd", "adam", "rms"], ["sgd", "adam"], (K.CHOICES_REMOVED,)),
        (["a", "b"], ["a", "c"], (K.CHOICES_ADDED, K.CHOICES_REMOVED)),
        ({"ordinal": [1, 2]}, {"ordinal": [1, 2, 4]}, (K.CHOICES_ADDED,)),
        (
            {"float": (1.0, 100.0), "default": 10.0},
            {"float": (1.0, 100.0), "log": True, "default": 10.0},
            (K.LOG_CHANGED,),
        ),
        ((1, 10), (1.0, 10.0), (K.TYPE_CHANGED,)),
        (["a", "b"], {"ordinal": ["a", "b"]}, (K.TYPE_CHANGED,)),
        (
            {"float": (0.0, 1.0), "default": 0.2},
            {"float": (0.0, 1.0), "default": 0.7},
            (K.DEFAULT_CHANGED,),
        ),
        (
            {"choices": ["a", "b"], "default": "a"},
            {"choices": ["a", "b"], "default": "b"},
            (K.DEFAULT_CHANGED,),
        ),
        ((0.0, 1.0), (0.0, 2.0), (K.WIDENED,)),
        (
            {"float": (0.0, 1.0), "default": 0.2},
            {"float": (0.0, 2.0), "default": 0.3},
            (K.WIDENED, K.DEFAULT_CHANGED),
        ),
    ],
)
def test_diff_classifies_each_change_kind(
    previous: Any, current: Any, kinds: tuple[ChangeKind, ...]
) -> None:
    """Check that each way a hyperparameter can change is classified exactly."""
    result = _diff(
        {"x": previous, "keep": (0.0, 1.0)}, {"x": current, "keep": (0.0, 1.0)}
    )

    assert result["x"].kinds == kinds
    assert result["x"].previous_name == "x"
    assert result["keep"].unchanged
    assert result.is_identical == (kinds == (K.UNCHANGED,))


def test_diff_finds_added_and_removed() -> None:
    """Check that a hyperparameter only in one space is added or removed, and that
    shared lists the rest."""
    result = _diff(
        {"lr": (0.01, 1.0), "batch": (16, 256)},
        {"lr": (0.01, 1.0), "depth": (1, 8)},
    )

    assert result.added == ["depth"]
    assert result.removed == ["batch"]
    assert result.shared == ["lr"]
    assert result.unchanged == ["lr"]
    assert result["depth"].previous_name is None
    assert result["depth"].previous == "" and result["depth"].current == "int [1, 8]"
    assert result["batch"].current == "" and result["batch"].previous == "int [16, 256]"
    assert not result.is_identical


def test_diff_applies_confirmed_rename() -> None:
    """Check that a rename confirmed by a Mapping is one renamed hyperparameter,
    compared across the two names."""
    result = _diff(
        {"lr": {"float": (1e-4, 1e-1), "log": True, "default": 1e-2}},
        {"learning_rate": {"float": (1e-5, 1e-1), "log": True, "default": 1e-2}},
        mapping=Mapping(renames={"lr": "learning_rate"}),
    )

    change = result["learning_rate"]
    assert change.kinds == (K.RENAMED, K.WIDENED)
    assert change.previous_name == "lr"
    assert result.added == [] and result.removed == []
    assert result.shared == ["learning_rate"]
    assert result.suggestions == ()


def test_diff_marks_pure_rename() -> None:
    """Check that a rename without other change is only RENAMED."""
    result = _diff(
        {"n": (1, 10)}, {"units": (1, 10)}, mapping=Mapping(renames={"n": "units"})
    )

    assert result["units"].kinds == (K.RENAMED,)


def test_diff_rename_onto_a_kept_name_removes_the_old_one() -> None:
    """Check that renaming a onto b, where the previous space also had b, marks the
    previous b removed."""
    result = _diff(
        {"a": (0.0, 1.0), "b": (0.0, 1.0)},
        {"b": (0.0, 1.0)},
        mapping=Mapping(renames={"a": "b"}),
    )

    assert result["b"].kinds == (K.RENAMED,)
    assert result["b"].previous_name == "a"
    assert [c.name for c in result.changes if K.REMOVED in c.kinds] == ["b"]


def test_diff_suggests_lr_to_learning_rate() -> None:
    """Check that an unconfirmed lr -> learning_rate pair is suggested, not applied."""
    result = _diff(
        {"lr": (1e-4, 1e-1, "log"), "momentum": (0.0, 1.0)},
        {"learning_rate": (1e-5, 1e-1, "log"), "batch_size": (0.0, 1.0)},
    )

    pairs = [(s.previous, s.current) for s in result.suggestions]
    assert pairs == [("lr", "learning_rate")]
    assert result.suggestions[0].score > 0.8
    assert "same kind (float)" in result.suggestions[0].reason
    assert set(result.added) == {"learning_rate", "batch_size"}
    assert set(result.removed) == {"lr", "momentum"}


def test_diff_suggests_a_constant_or_choices_of_numbers_made_a_range() -> None:
    """Check that a removed constant or ordinal of numbers and an added range of
    a similar name that holds its values are suggested as renames (which the
    mapping accepts), one of text or outside the range is not."""
    result = _diff(
        {"lr": 0.1, "width": {"ordinal": [16, 32, 64]}, "act": ["relu", "tanh"]},
        {"learning_rate": (1e-3, 1.0, "log"), "widths": (200, 400), "acts": (0, 1)},
    )

    assert [(s.previous, s.current) for s in result.suggestions] == [
        ("lr", "learning_rate")
    ]
    assert "numbers (constant) -> float range" in result.suggestions[0].reason
    Mapping(renames={"lr": "learning_rate"}).validate(
        result.previous_space, result.current_space
    )


def test_diff_does_not_suggest_unrelated_names() -> None:
    """Check that unrelated names of the same kind and range are not suggested."""
    result = _diff(
        {"dropout": (0.0, 1.0), "optimizer": ["a", "b"]},
        {"weight_decay": (0.0, 1.0), "activation": ["a", "b"]},
    )

    assert result.suggestions == ()


def test_diff_never_suggests_categorical_for_float() -> None:
    """Check that a categorical is never suggested as the rename of a float, even
    with a similar name."""
    result = _diff({"lr": (1e-4, 1e-1, "log")}, {"lr_choice": [0.001, 0.01]})

    assert result.suggestions == ()


def test_diff_does_not_suggest_disjoint_ranges() -> None:
    """Check that a similar name with no overlapping values is not suggested."""
    result = _diff({"n_units": (1, 10)}, {"units": (20, 30)})

    assert result.suggestions == ()


def test_diff_suggests_int_for_float_rename() -> None:
    """Check that numeric kinds may be suggested across int and float."""
    result = _diff({"n_units": (1, 10)}, {"units": (1.0, 10.0)})

    assert [(s.previous, s.current) for s in result.suggestions] == [
        ("n_units", "units")
    ]


def _table_diff() -> SpaceDiff:
    return _diff(
        {
            "lr": {"float": (1e-4, 1e-1), "log": True, "default": 1e-2},
            "act": ["relu", "tanh"],
            "gone": (0, 5),
        },
        {
            "learning_rate": {"float": (1e-5, 1e-1), "log": True, "default": 1e-2},
            "act": ["relu", "tanh", "gelu"],
            "new": ["x", "y"],
        },
        mapping=Mapping(renames={"lr": "learning_rate"}),
    )


def test_format_table_shows_every_hyperparameter() -> None:
    """Check the plain-text table: header, one row per hyperparameter, renames
    shown as old -> new, missing sides as '-'."""
    lines = _table_diff().format_table().splitlines()

    assert lines[0].split() == ["hyperparameter", "previous", "current", "change"]
    assert set(lines[1]) <= {"-", " "}
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {"act", "lr", "new", "gone"}
    assert "lr -> learning_rate" in rows["lr"]
    assert rows["lr"].rstrip().endswith("renamed, widened")
    assert "float [1e-05, 0.1] log" in rows["lr"]
    assert "choice {'relu', 'tanh', 'gelu'}" in rows["act"]
    assert rows["act"].rstrip().endswith("choices added ('gelu')")
    assert rows["new"].split()[1] == "-" and rows["new"].endswith("added")
    assert "int [0, 5]" in rows["gone"] and rows["gone"].endswith("removed")
    assert all(line == line.rstrip() for line in lines)


def test_format_table_lists_rename_suggestions() -> None:
    """Check that suggestions appear below the table with how to confirm them."""
    table = _diff({"lr": (1e-4, 1e-1, "log")}, {"learning_rate": (1e-4, 1e-1, "log")})

    last = table.format_table().splitlines()[-1]
    assert last.startswith("possible rename: lr -> learning_rate (score ")
    assert "confirm it in the mapping" in last


def test_to_frame_has_one_row_per_hyperparameter() -> None:
    """Check the DataFrame's columns and content."""
    frame = _table_diff().to_frame()

    assert list(frame.columns) == [
        "hyperparameter",
        "previous name",
        "previous",
        "current",
        "change",
    ]
    rows = frame.set_index("hyperparameter")
    assert rows.loc["learning_rate", "previous name"] == "lr"
    assert rows.loc["learning_rate", "change"] == "renamed, widened"
    assert rows.loc["new", "previous name"] == ""
    assert rows.loc["new", "previous"] == ""
    assert rows.loc["new", "change"] == "added"
    assert rows.loc["gone", "change"] == "removed"
    assert rows.loc["gone", "current"] == ""
    assert rows.loc["act", "current"] == "choice {'relu', 'tanh', 'gelu'}"


def test_getitem_names_known_hyperparameters() -> None:
    """Check that an unknown name lists the known ones."""
    with pytest.raises(KeyError, match="No hyperparameter 'zzz' in either space"):
        _table_diff()["zzz"]


def test_diff_takes_dict_spaces_and_a_dict_mapping() -> None:
    """Check that diff accepts the short dict forms, as create_study does."""
    result = diff(
        {"lr": (1e-4, 1e-1, "log")},
        {"learning_rate": (1e-4, 1.0, "log")},
        {"renames": {"lr": "learning_rate"}},
    )
    (change,) = result.changes
    assert change.previous_name == "lr" and change.name == "learning_rate"


def test_ranges_and_choices_compare_after_the_mappings_transform() -> None:
    """Check that a unit change confirmed by a rename and a transform is only a
    rename (bounds and default carried over within rounding), that a transform
    that does not match the new range still shows the change, and that a value
    map onto the new choice is no choice change."""
    before = build_space({"max_samples": (0.1, 1.0), "mf": ["sqrt", "auto"]})
    after = build_space({"max_samples_pct": (10.0, 100.0), "mf": ["sqrt", "log2"]})
    renames = {"max_samples": "max_samples_pct"}
    exact = {
        "renames": renames,
        "transforms": {
            "max_samples_pct": {"scale": 100},
            "mf": {"values": {"auto": "log2"}},
        },
    }
    changed = {c.name: c.kinds for c in diff(before, after, exact).changes}
    assert changed["max_samples_pct"] == (ChangeKind.RENAMED,)
    assert changed["mf"] == (ChangeKind.UNCHANGED,)

    half = {"renames": renames, "transforms": {"max_samples_pct": {"scale": 50}}}
    changed = {c.name: c.kinds for c in diff(before, after, half).changes}
    assert ChangeKind.SHIFTED in changed["max_samples_pct"]
    assert ChangeKind.CHOICES_ADDED in changed["mf"]


def test_constant_compares_after_its_value_map() -> None:
    """Check that a constant whose value a value map carries over is unchanged."""
    before = build_space({"c": "a"})
    after = build_space({"c": "b"})
    mapped = {"transforms": {"c": {"values": {"a": "b"}}}}
    assert diff(before, after, mapped).changes[0].kinds == (ChangeKind.UNCHANGED,)
    assert ChangeKind.CHOICES_ADDED in diff(before, after).changes[0].kinds


def test_log_range_with_offset_transform_keeps_its_automatic_default() -> None:
    """Check that a log-scale range carried over exactly by a transform with an
    offset is only a rename: both defaults are ConfigSpace's automatic one (the
    geometric mean, which an offset does not carry along), so neither changed."""
    before = CS.ConfigurationSpace()
    before.add(CS.Float("delay_s", (1.0, 100.0), log=True))
    after = CS.ConfigurationSpace()
    after.add(CS.Float("delay_ms", (1010.0, 100010.0), log=True))
    mapping = {
        "renames": {"delay_s": "delay_ms"},
        "transforms": {"delay_ms": {"scale": 1000, "offset": 10}},
    }

    assert diff(before, after, mapping)["delay_ms"].kinds == (K.RENAMED,)


def test_log_range_with_offset_transform_still_shows_a_set_default() -> None:
    """Check that a default set by hand on a transformed log range is compared
    after the transform: carried over it is no change, moved it is one."""
    before = CS.ConfigurationSpace()
    before.add(CS.Float("delay_s", (1.0, 100.0), log=True, default=2.0))
    mapping = {
        "renames": {"delay_s": "delay_ms"},
        "transforms": {"delay_ms": {"scale": 1000, "offset": 10}},
    }
    for default, kinds in [
        (2010.0, (K.RENAMED,)),
        (5010.0, (K.RENAMED, K.DEFAULT_CHANGED)),
    ]:
        after = CS.ConfigurationSpace()
        after.add(CS.Float("delay_ms", (1010.0, 100010.0), log=True, default=default))

        assert diff(before, after, mapping)["delay_ms"].kinds == kinds


@pytest.mark.parametrize(
    ("previous", "current", "kinds"),
    [
        ({"ordinal": [1, 2, 3]}, {"ordinal": [3, 2, 1]}, (K.ORDER_CHANGED,)),
        (
            {"ordinal": ["s", "m", "l"], "default": "m"},
            {"ordinal": ["l", "m", "s"], "default": "l"},
            (K.ORDER_CHANGED, K.DEFAULT_CHANGED),
        ),
        (
            {"ordinal": [1, 2, 3]},
            {"ordinal": [3, 2, 1, 4]},
            (K.CHOICES_ADDED, K.ORDER_CHANGED),
        ),
        ({"ordinal": [1, 2, 3]}, {"ordinal": [1, 3]}, (K.CHOICES_REMOVED,)),
        (["a", "b"], ["b", "a"], (K.DEFAULT_CHANGED,)),
    ],
)
def test_diff_reports_a_reordered_ordinal(
    previous: Any, current: Any, kinds: tuple[ChangeKind, ...]
) -> None:
    """Check that an ordinal whose shared values come in another order is ORDER
    CHANGED (its automatic default, the first value, follows the order), and
    that the order of a categorical's choices is no order change."""
    result = _diff({"x": previous}, {"x": current})

    assert result["x"].kinds == kinds


def test_format_table_says_order_changed() -> None:
    """Check that the table (what `hptaa diff` prints) names the order change."""
    result = _diff({"x": {"ordinal": [1, 2, 3]}}, {"x": {"ordinal": [3, 2, 1]}})

    assert result["x"].label == "order changed"
    assert "x               ordinal (1, 2, 3)  ordinal (3, 2, 1)  order changed" in (
        result.format_table()
    )


def test_value_map_that_merges_ordinal_values_is_no_change_of_order() -> None:
    """Check that a value map merging two previous ordinal values onto one current
    value, order kept, is reported as choices removed, not as order changed."""
    before = CS.ConfigurationSpace()
    before.add(CS.OrdinalHyperparameter("q", ["low", "mid", "high"]))
    after = CS.ConfigurationSpace()
    after.add(CS.OrdinalHyperparameter("q", ["a", "b"]))
    mapping = {"transforms": {"q": {"values": {"low": "a", "mid": "a", "high": "b"}}}}
    kinds = {c.name: c.kinds for c in diff(before, after, mapping).changes}
    assert ChangeKind.ORDER_CHANGED not in kinds["q"]


def _svm(child: str = "gamma") -> CS.ConfigurationSpace:
    space = CS.ConfigurationSpace({"kernel": ["rbf", "linear"], child: (1e-3, 1.0)})
    return space


def test_diff_reports_added_and_removed_conditions_and_forbidden_clauses() -> None:
    """Check that spaces differing only by a condition and a forbidden clause are
    not identical, and the table names each rule as removed or added."""
    previous = _svm()
    previous.add(CS.ForbiddenEqualsClause(previous["kernel"], "linear"))
    current = _svm()
    current.add(CS.EqualsCondition(current["gamma"], current["kernel"], "rbf"))

    space_diff = diff(previous, current)

    assert space_diff.unchanged == ["kernel", "gamma"]
    assert not space_diff.is_identical
    assert space_diff.rules_removed == ("forbidden: kernel == 'linear'",)
    assert space_diff.rules_added == ("condition: gamma | kernel == 'rbf'",)
    table = space_diff.format_table()
    assert "removed forbidden: kernel == 'linear'" in table
    assert "added condition: gamma | kernel == 'rbf'" in table


def test_a_condition_that_follows_a_confirmed_rename_is_no_change() -> None:
    """Check that a rule compares in the current names: the same condition on a
    renamed child is unchanged once the rename is confirmed, and shows as
    removed and added without it."""
    previous = _svm("gamma")
    previous.add(CS.EqualsCondition(previous["gamma"], previous["kernel"], "rbf"))
    current = _svm("g")
    current.add(CS.EqualsCondition(current["g"], current["kernel"], "rbf"))

    confirmed = diff(previous, current, Mapping(renames={"gamma": "g"}))
    unconfirmed = diff(previous, current)

    assert confirmed.rules_removed == () and confirmed.rules_added == ()
    assert confirmed.is_identical is False  # the rename itself is a change
    assert unconfirmed.rules_removed == ("condition: gamma | kernel == 'rbf'",)
    assert unconfirmed.rules_added == ("condition: g | kernel == 'rbf'",)


def test_identical_spaces_with_the_same_rules_are_identical() -> None:
    """Check that equal conditions and forbidden clauses leave the spaces
    identical."""
    spaces = []
    for _ in range(2):
        space = _svm()
        space.add(CS.EqualsCondition(space["gamma"], space["kernel"], "rbf"))
        space.add(CS.ForbiddenEqualsClause(space["kernel"], "linear"))
        spaces.append(space)

    assert diff(*spaces).is_identical


def test_a_rename_does_not_touch_quoted_values_or_hyphenated_names() -> None:
    """Check that a confirmed rename of 'lr' leaves a choice 'lr' and a name 'lr-x'
    alone: the same rule on the renamed child is no change."""

    def space(child: str) -> CS.ConfigurationSpace:
        result = CS.ConfigurationSpace(
            {"opt": ["lr", "sgd"], child: (0.1, 1.0), "lr-x": (0.1, 1.0)}
        )
        result.add(CS.EqualsCondition(result[child], result["opt"], "lr"))
        result.add(CS.ForbiddenEqualsClause(result["opt"], "sgd"))
        return result

    confirmed = diff(space("lr"), space("eta"), Mapping(renames={"lr": "eta"}))
    unconfirmed = diff(space("lr"), space("eta"))

    assert confirmed.rules_removed == () and confirmed.rules_added == ()
    assert unconfirmed.rules_removed == ("condition: lr | opt == 'lr'",)


def test_a_rename_leaves_a_longer_name_with_a_space_alone() -> None:
    """Check that a previous rule shown with 'lr' renamed to 'eta' keeps the name
    'lr rate' whole (its text read 'eta rate')."""
    previous = CS.ConfigurationSpace({"opt": ["a", "b"], "lr": (0.1, 1.0)})
    previous.add(CS.UniformFloatHyperparameter("lr rate", 0.1, 1.0))
    previous.add(CS.EqualsCondition(previous["lr rate"], previous["opt"], "a"))
    current = CS.ConfigurationSpace({"opt": ["a", "b"], "eta": (0.1, 1.0)})
    current.add(CS.UniformFloatHyperparameter("lr rate", 0.1, 1.0))

    space_diff = diff(previous, current, Mapping(renames={"lr": "eta"}))

    assert space_diff.rules_removed == ("condition: lr rate | opt == 'a'",)


def test_a_rule_on_value_mapped_choices_is_no_change() -> None:
    """Check that a condition on a choice the mapping's value map renamed (rbf ->
    gaussian) and a forbidden value of a scaled range are the same rules in
    current values: not listed as removed and added again."""

    def space(kernel: str, name: str, unit: float) -> CS.ConfigurationSpace:
        result = CS.ConfigurationSpace(
            {
                "kernel": [kernel, "linear"],
                "gamma": (0.1, 1.0),
                name: (0.5 * unit, 100.0 * unit),
            }
        )
        result.add(CS.EqualsCondition(result["gamma"], result["kernel"], kernel))
        result.add(CS.ForbiddenEqualsClause(result[name], 0.7 * unit))
        return result

    previous = space("rbf", "timeout_s", 1.0)
    current = space("gaussian", "timeout_ms", 1000.0)
    mapping = Mapping(
        renames={"timeout_s": "timeout_ms"},
        transforms={
            "kernel": ValueTransform(values={"rbf": "gaussian"}),
            "timeout_ms": ValueTransform(scale=1000),
        },
    )

    mapped = diff(previous, current, mapping)
    assert mapped.rules_removed == () and mapped.rules_added == ()
    unmapped = diff(
        previous, current, Mapping(renames={"timeout_s": "timeout_ms"}), check=False
    )
    assert unmapped.rules_removed == (
        "condition: gamma | kernel == 'rbf'",
        "forbidden: timeout_ms == 0.7",
    )


def test_a_negative_scale_turns_a_comparison_around() -> None:
    """Check that under a transform of scale -1 the condition y | x > 5 is the
    same as y | x < -5 (it was listed as removed and added) and differs from
    y | x > -5 (which was read as no change)."""

    def space(rule: type, value: float) -> CS.ConfigurationSpace:
        result = CS.ConfigurationSpace({"x": (-10.0, 10.0), "y": (0.0, 1.0)})
        result.add(rule(result["y"], result["x"], value))
        return result

    previous = space(CS.GreaterThanCondition, 5.0)
    mapping = Mapping(transforms={"x": ValueTransform(scale=-1)})

    same = diff(previous, space(CS.LessThanCondition, -5.0), mapping)
    assert same.rules_removed == () and same.rules_added == ()
    changed = diff(previous, space(CS.GreaterThanCondition, -5.0), mapping)
    assert changed.rules_removed == ("condition: y | x > 5.0",)


def test_values_a_value_map_merges_are_one_value() -> None:
    """Check that a condition on rbf or sigmoid, both mapped to gaussian, is the
    condition == gaussian of the current space."""
    previous = CS.ConfigurationSpace(
        {"kernel": ["rbf", "sigmoid", "linear"], "gamma": (0.1, 1.0)}
    )
    previous.add(
        CS.InCondition(previous["gamma"], previous["kernel"], ["rbf", "sigmoid"])
    )
    current = CS.ConfigurationSpace(
        {"kernel": ["gaussian", "linear"], "gamma": (0.1, 1.0)}
    )
    current.add(CS.EqualsCondition(current["gamma"], current["kernel"], "gaussian"))
    values = {"rbf": "gaussian", "sigmoid": "gaussian"}
    mapping = Mapping(transforms={"kernel": ValueTransform(values=values)})

    space_diff = diff(previous, current, mapping)

    assert space_diff.rules_removed == () and space_diff.rules_added == ()


def test_rules_differing_only_in_order_are_no_change() -> None:
    """Check that the order of an 'in' list or of a conjunction's parts does not
    make two spaces different."""

    def space(values: list[str], swap: bool) -> CS.ConfigurationSpace:
        result = CS.ConfigurationSpace({"opt": ["x", "y", "z"], "v": (0.1, 1.0)})
        result.add(CS.InCondition(result["v"], result["opt"], values))
        parts = [
            CS.ForbiddenEqualsClause(result["opt"], "z"),
            CS.ForbiddenEqualsClause(result["v"], 0.5),
        ]
        result.add(CS.ForbiddenAndConjunction(*(parts[::-1] if swap else parts)))
        return result

    assert diff(space(["x", "y"], False), space(["y", "x"], True)).is_identical
    assert not diff(space(["x", "y"], False), space(["x", "z"], False)).is_identical


def test_format_table_shows_the_mappings_fixed_values() -> None:
    """Check that the values an added hyperparameter had before and a removed one
    is fixed to now are shown, so that they can be checked before confirming."""
    space_diff = _diff(
        {"x": (0.0, 1.0), "old": ["a", "b"]},
        {"x": (0.0, 1.0), "tol": (1e-4, 1e-1, "log")},
        mapping=Mapping(previous_fixed={"tol": 1e-3}, current_fixed={"old": "b"}),
    )

    table = space_diff.format_table()
    assert "tol had 0.001 before it was added (previous_fixed)" in table
    assert "old is fixed to 'b' now that it is removed (current_fixed)" in table


def test_format_table_shows_the_mappings_value_transforms() -> None:
    """Check that value maps and unit transforms are shown under the table, so a
    value map can be checked in the diff before the study is created."""
    space_diff = _diff(
        {"loss": ["hinge", "log_loss"], "t": (1.0, 10.0)},
        {"loss": ["hinge", "log"], "t_ms": (1000.0, 10000.0)},
        mapping=Mapping.from_dict(
            {
                "renames": {"t": "t_ms"},
                "transforms": {
                    "loss": {"values": {"log_loss": "log"}},
                    "t_ms": {"scale": 1000},
                },
            }
        ),
    )

    table = space_diff.format_table()
    assert "loss: previous values transformed, 'log_loss' -> 'log'" in table
    assert "t_ms: previous values transformed, value x 1000\n" in table + "\n"


def test_choice_changes_name_the_choices_gained_and_lost() -> None:
    """Check that the diff names the choices a categorical, ordinal or constant
    gained and lost, after the mapping's value map, and names none for a range."""
    previous = {"k": ["lin", "poly", "rbf"], "o": {"ordinal": [1, 2, 3]}, "c": "a"}
    current = {"k": ["linear", "rbf", "sig"], "o": {"ordinal": [1, 2]}, "c": "b"}
    mapping = {"transforms": {"k": {"values": {"lin": "linear"}}}}

    result = diff(previous, current, mapping)

    assert result["k"].label == "choices added ('sig'), choices removed ('poly')"
    assert (result["k"].added_choices, result["k"].removed_choices) == (
        ("sig",),
        ("poly",),
    )
    assert result["o"].label == "choices removed (3)"
    assert result["c"].label == "choices added ('b'), choices removed ('a')"
    widened = diff({"x": (0.0, 1.0)}, {"x": (0.0, 2.0)})["x"]
    assert (widened.label, widened.added_choices) == ("widened", ())


def test_choice_labels_name_each_value_once_and_count_a_long_list() -> None:
    """Check that a value map merging old values names the merged value once,
    and that a long list of new choices names four and counts the rest."""
    merged = diff(
        {"k": ["a", "b", "c"]},
        {"k": ["x", "c"]},
        {"transforms": {"k": {"values": {"a": "y", "b": "y"}}}},
        check=False,
    )["k"]
    many = diff({"k": ["0"]}, {"k": [str(i) for i in range(12)]})["k"]

    assert merged.label == "choices added ('x'), choices removed ('y')"
    assert many.label == "choices added ('1', '2', '3', '4', and 7 more)"
    assert len(many.added_choices) == 11


def test_a_tiny_range_that_narrows_is_a_change() -> None:
    """Check that the bounds of a range as small as an epsilon's compare at
    their own scale (a fixed tolerance of 1e-12 called 1e-13 -> 9e-13
    unchanged, so a resumed study ran on a space other than its stored one),
    while bounds a transform carried over stay equal up to rounding."""
    narrowed = diff({"eps": (1e-13, 1e-10, "log")}, {"eps": (9e-13, 1e-10, "log")})
    assert narrowed["eps"].kinds == (K.NARROWED,)
    assert not narrowed.is_identical
    # Nor does a wide range hide a lower bound moved by decades (a tolerance
    # scaled by the width called these unchanged).
    wide = diff(
        {"C": (1e-6, 1e6, "log"), "w": (1e-10, 1.0, "log"), "n": (0, 10**12)},
        {"C": (1e-4, 1e6, "log"), "w": (1e-9, 1.0, "log"), "n": (100, 10**12)},
    )
    assert [c.kinds for c in wide.changes] == [(K.NARROWED,)] * 3
    assert diff({"eps": (1e-13, 1e-10)}, {"eps": (1e-13, 1e-10)}).is_identical
    seconds = {"t": (0.1, 0.3)}
    millis = {"transforms": {"t": {"scale": 1000.0}}}
    assert diff(seconds, {"t": (100.0, 300.0)}, millis)["t"].kinds == (K.UNCHANGED,)
    shifted = {"transforms": {"t": {"offset": -0.1}}}
    assert diff(seconds, {"t": (0.0, 0.2)}, shifted)["t"].kinds == (K.UNCHANGED,)


def test_choices_of_bools_are_not_the_numbers_zero_and_one() -> None:
    """Check that choices [0, 1] made [False, True] are a change of choices
    (0 == False in Python), also for an ordinal's order and a constant."""
    result = diff({"k": [0, 1], "c": 1}, {"k": [False, True], "c": True})

    assert result["k"].label == ("choices added (False, True), choices removed (0, 1)")
    assert result["c"].kinds == (K.CHOICES_ADDED, K.CHOICES_REMOVED)
    assert diff({"k": [1, 2]}, {"k": [1.0, 2.0]}).is_identical
    ordinal = diff({"o": {"ordinal": [0, 2, True]}}, {"o": {"ordinal": [True, 0, 2]}})
    assert ordinal["o"].kinds == (K.ORDER_CHANGED,)


def test_each_side_shows_what_changed() -> None:
    """Check that a changed default shows both defaults (the row said "default
    changed" with no default in either column), and that bounds that differ
    beyond the sixth digit show all their digits (both columns read
    "float [0.123457, 1]")."""
    previous = CS.ConfigurationSpace({"d": (0.0, 1.0), "k": ["a", "b"]})
    current = CS.ConfigurationSpace()
    current.add(CS.Float("d", (0.0, 1.0), default=0.3))
    current.add(CS.Categorical("k", ["a", "b"], default="b"))

    result = diff(previous, current)
    digits = diff({"x": (0.1234567, 1.0)}, {"x": (0.12345678, 1.0)})

    assert (result["d"].previous, result["d"].current) == (
        "float [0, 1], default 0.5",
        "float [0, 1], default 0.3",
    )
    assert result["k"].current == "choice {'a', 'b'}, default 'b'"
    assert (digits["x"].previous, digits["x"].current) == (
        "float [0.1234567, 1.0]",
        "float [0.12345678, 1.0]",
    )
    assert diff({"x": (0.1, 1.0)}, {"x": (0.2, 1.0)})["x"].previous == "float [0.1, 1]"


def test_defaults_that_differ_beyond_six_digits_show_every_digit() -> None:
    """Check that a default moved from 0.1234567 to 0.1234568 shows both in
    full (both columns read "default 0.123457")."""
    previous, current = CS.ConfigurationSpace(), CS.ConfigurationSpace()
    previous.add(CS.Float("x", (0.0, 1.0), default=0.1234567))
    current.add(CS.Float("x", (0.0, 1.0), default=0.1234568))

    change = diff(previous, current)["x"]

    assert change.previous.endswith("default 0.1234567")
    assert change.current.endswith("default 0.1234568")
