"""Tests of the dict form of search spaces and their JSON round trip."""

from __future__ import annotations

import json
from fractions import Fraction

import ConfigSpace as CS
import numpy as np
import pytest

from hptaa_lab.errors import InvalidSearchSpaceError
from hptaa_lab.space import as_space, build_space, space_from_json, space_to_json

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")


def test_build_space_makes_every_kind() -> None:
    """Check that each entry of the dict form gives the hyperparameter it says."""
    space = build_space(
        {
            "lr": (1e-4, 1e-1, "log"),
            "dropout": (0.0, 0.5),
            "units": (16, 256),
            "act": ["relu", "tanh"],
            "seed": 7,
            "size": {"ordinal": ["s", "m", "l"], "default": "m"},
            "depth": {"int": (1, 64), "log": True, "default": 8},
            "wd": {"float": (0, 1), "default": 0.25},
            "kind": {"choices": ["a", "b"], "default": "b"},
            "fixed": {"constant": "x"},
        }
    )

    assert isinstance(space["lr"], CS.UniformFloatHyperparameter)
    assert (space["lr"].lower, space["lr"].upper, space["lr"].log) == (
        1e-4,
        1e-1,
        True,
    )
    assert isinstance(space["dropout"], CS.UniformFloatHyperparameter)
    assert not space["dropout"].log
    assert isinstance(space["units"], CS.UniformIntegerHyperparameter)
    assert isinstance(space["act"], CS.CategoricalHyperparameter)
    assert list(space["act"].choices) == ["relu", "tanh"]
    assert isinstance(space["seed"], CS.Constant)
    assert space["seed"].value == 7
    assert isinstance(space["size"], CS.OrdinalHyperparameter)
    assert space["size"].default_value == "m"
    assert isinstance(space["depth"], CS.UniformIntegerHyperparameter)
    assert space["depth"].log and space["depth"].default_value == 8
    assert isinstance(space["wd"], CS.UniformFloatHyperparameter)
    assert space["wd"].default_value == 0.25
    assert space["kind"].default_value == "b"
    assert space["fixed"].value == "x"


def test_build_space_long_form_without_default() -> None:
    """Check that the dict form without ``default`` takes ConfigSpace's default."""
    space = build_space(
        {
            "kind": {"choices": ["a", "b"]},
            "size": {"ordinal": ["s", "m"]},
            "wd": {"float": (0.0, 1.0)},
            "depth": {"int": (1, 9)},
        }
    )

    assert space["kind"].default_value == "a"
    assert space["size"].default_value == "s"
    assert space["wd"].default_value == 0.5
    assert space["depth"].default_value == 5


def test_build_space_adds_equals_and_in_conditions() -> None:
    """Check that ``if`` gives an equals condition for a value and an in condition
    for a list of values."""
    space = build_space(
        {
            "opt": ["sgd", "adam", "rms"],
            "momentum": {"float": (0.0, 1.0), "if": {"opt": "sgd"}},
            "beta": {"float": (0.5, 1.0), "if": {"opt": ["adam", "rms"]}},
        }
    )

    by_child = {c.child.name: c for c in space.conditions}
    assert isinstance(by_child["momentum"], CS.EqualsCondition)
    assert by_child["momentum"].value == "sgd"
    assert isinstance(by_child["beta"], CS.InCondition)
    assert list(by_child["beta"].values) == ["adam", "rms"]


def test_build_space_rejects_empty_dict() -> None:
    """Check that an empty dict form says the space is empty and how to fill it."""
    with pytest.raises(InvalidSearchSpaceError, match="The search space is empty"):
        build_space({})


def test_as_space_rejects_empty_configuration_space() -> None:
    """Check that a ConfigurationSpace without hyperparameters is refused."""
    with pytest.raises(
        InvalidSearchSpaceError, match="empty: add at least one hyperparameter"
    ):
        as_space(CS.ConfigurationSpace())


def test_as_space_rejects_other_types() -> None:
    """Check that something that is neither a space nor a dict names its type."""
    with pytest.raises(InvalidSearchSpaceError, match="got list"):
        as_space([("lr", (0.1, 1.0))])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ((1, 0), "the lower bound 1 must be below the upper bound 0"),
        ((0.0, 1.0, "log"), "a log-scale range needs a positive lower bound"),
        ((1,), r"a range is \(low, high\) or \(low, high, 'log'\)"),
        ({"float": (0, 1), "int": (0, 1)}, "needs exactly one of"),
        (None, "expected a \\(low, high\\) tuple"),
        (
            ("gini", "entropy"),
            r"a tuple is a numeric range .* give a list: \['gini', 'entropy'\]",
        ),
        ((True, 5), "a tuple is a numeric range"),
        (
            {"int": (2, 5), "if": {"kind": "polly"}},
            r"its condition \{'kind': 'polly'\} names a value 'kind' cannot take",
        ),
        ({"int": (2, 5), "if": {"kind": []}}, "would never be active"),
        ({"int": (2, 5), "if": {"kind": [["rbf"]]}}, "nests a collection"),
        ({"int": (2, 5), "if": {"kind": {"x": 1}}}, "names a value 'kind' cannot"),
    ],
)
def test_build_space_rejects_malformed_entry(entry: object, message: str) -> None:
    """Check that a malformed entry names the hyperparameter and the problem once."""
    with pytest.raises(InvalidSearchSpaceError, match=message) as info:
        build_space({"kind": ["rbf", "poly"], "x": entry})

    assert str(info.value).startswith("Hyperparameter 'x': ")
    assert str(info.value).count("Hyperparameter 'x'") == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([[1], [2]], "the choice \\[1\\] \\(list\\) cannot be stored with a"),
        ([(1, 2), (3, 4)], "the choice \\(1, 2\\) \\(tuple\\) cannot be stored"),
        ([1.5, float("nan")], "the choice nan \\(float\\) cannot be stored"),
        ({"ordinal": [1, {"a": 1}]}, "the ordinal value \\{'a': 1\\} \\(dict\\)"),
        ([np.int64(1), np.int64(2)], "\\(int64\\) cannot be stored.*\\.item\\(\\)"),
        ([Fraction(1, 2), 1], "\\(Fraction\\) cannot be stored"),
        ((0.0, float("inf")), "the bounds of a range must be finite"),
        ((float("-inf"), 1.0), "the bounds of a range must be finite"),
        ((0, 10**400), "the bounds of a range must be finite"),
    ],
)
def test_as_space_rejects_values_no_trial_could_store(
    entry: object, message: str
) -> None:
    """Check that choices a trial could not store or compare (lists, tuples, NaN)
    and infinite bounds are refused when the space is given, before a study is
    created, with what to use instead."""
    with pytest.raises(InvalidSearchSpaceError, match=message) as info:
        as_space({"x": entry, "y": (0.0, 1.0)})

    assert str(info.value).startswith("Hyperparameter 'x': ")


def test_as_space_checks_a_configuration_space_too() -> None:
    """Check that a ConfigSpace space is held to the same rule, and plain values
    (strings, numbers, bools, None) pass."""
    space = CS.ConfigurationSpace(
        {"x": ["a", None, 2, 2.5, False, 10**30, np.float64(0.5), np.str_("s")]}
    )
    assert as_space(space) is space
    space.add(CS.Constant("c", "k"))
    space.add(CS.Categorical("bad", ["a", ("b", "c")]))
    with pytest.raises(InvalidSearchSpaceError, match="'bad'"):
        as_space(space)


def test_build_space_rejects_condition_on_unknown_parent() -> None:
    """Check that a condition on a missing parent names the parent."""
    with pytest.raises(
        InvalidSearchSpaceError, match="its condition names 'opt', which is not in"
    ):
        build_space({"momentum": {"float": (0.0, 1.0), "if": {"opt": "sgd"}}})


def _full_space() -> CS.ConfigurationSpace:
    space = build_space(
        {
            "opt": ["sgd", "adam", "rms"],
            "momentum": {"float": (0.0, 0.99), "if": {"opt": "sgd"}, "default": 0.9},
            "beta": {"float": (0.5, 1.0), "if": {"opt": ["adam", "rms"]}},
            "lr": (1e-4, 1e-1, "log"),
            "units": (16, 256),
            "depth": {"int": (1, 64), "log": True, "default": 8},
            "size": {"ordinal": [1, 2, 4], "default": 2},
            "act": {"choices": ["relu", "tanh"], "default": "tanh"},
            "seed": 7,
            "name": {"constant": "net"},
        }
    )
    space.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(space["opt"], "rms"),
            CS.ForbiddenEqualsClause(space["act"], "relu"),
        ),
        CS.ForbiddenInClause(space["size"], [4]),
        CS.ForbiddenLessThanRelation(space["units"], space["depth"]),
    )
    return space


def test_json_round_trip_keeps_every_kind_condition_and_forbidden_clause() -> None:
    """Check that a space read back from its JSON equals the original, with its
    log scales, defaults, conditions and forbidden clauses added on the
    ConfigSpace object."""
    space = _full_space()

    text = space_to_json(space)
    back = space_from_json(text)

    assert back == space
    assert space_to_json(back) == text
    assert back["lr"].log and back["depth"].log
    assert back["momentum"].default_value == 0.9
    assert back["size"].default_value == 2
    assert back["act"].default_value == "tanh"
    assert back["seed"].value == 7 and back["name"].value == "net"
    assert {str(c) for c in back.conditions} == {str(c) for c in space.conditions}
    assert len(back.forbidden_clauses) == 3
    assert {str(f) for f in back.forbidden_clauses} == {
        str(f) for f in space.forbidden_clauses
    }


def test_json_is_plain_json_text() -> None:
    """Check that the JSON text is readable by the json module (no pickles)."""
    data = json.loads(space_to_json(build_space({"lr": (0.1, 1.0)})))

    assert [hp["name"] for hp in data["hyperparameters"]] == ["lr"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "The search space is not valid JSON"),
        ("", "The search space is not valid JSON"),
        ("[1, 2]", "The JSON is not a ConfigSpace search space"),
        ('{"name": "x"}', "no 'hyperparameters' key"),
        ('{"hyperparameters": "lr"}', "The ConfigSpace JSON could not be read"),
        (
            '{"hyperparameters": [{"name": "x", "type": "mystery"}]}',
            "could not be read .*expected ConfigSpace JSON",
        ),
        ('{"hyperparameters": []}', "The search space is empty"),
    ],
)
def test_space_from_json_rejects_corrupt_or_foreign_json(
    text: str, message: str
) -> None:
    """Check that corrupt, foreign or empty JSON gives a clear error."""
    with pytest.raises(InvalidSearchSpaceError, match=message):
        space_from_json(text)


@pytest.mark.parametrize("entry", [[], {"choices": []}, {"ordinal": []}])
def test_empty_list_of_choices_is_a_clear_error(entry: object) -> None:
    """Check that an empty list of choices is refused with advice, not a crash."""
    with pytest.raises(InvalidSearchSpaceError, match="is empty; give at least one"):
        build_space({"x": entry})


def test_a_range_of_numpy_ints_is_an_int_range() -> None:
    """Check that (np.int64(8), np.int64(128)) makes an int range, as (8, 128)
    does, not a float range (which sampled sizes such as 84.43)."""
    space = build_space({"batch_size": (np.int64(8), np.int64(128))})
    hp = space["batch_size"]

    assert isinstance(hp, CS.UniformIntegerHyperparameter)
    assert (hp.lower, hp.upper) == (8, 128)
    assert type(hp.lower) is int


def test_a_range_too_wide_for_configspace_is_refused() -> None:
    """Check that a range whose bounds make ConfigSpace overflow is refused with
    advice (before, ConfigSpace kept an infinite upper bound and the first ask
    failed with ActiveHyperparameterNotSetError)."""
    with pytest.raises(InvalidSearchSpaceError, match=r"'x': the range .* too wide"):
        build_space({"x": (0.0, 1e300)})
    assert build_space({"x": (0.0, 1e200)})["x"].upper == 1e200


def test_the_dict_form_takes_a_log_range_as_the_short_form_does() -> None:
    """Check that {"float": (low, high, "log"), "if": ...} is a log range (the
    natural guess failed with "too many values to unpack"), and that a bad
    range says what it takes."""
    space = build_space(
        {
            "kernel": ["rbf", "linear"],
            "gamma": {"float": (1e-4, 1.0, "log"), "if": {"kernel": "rbf"}},
            "n": {"int": [1, 64, "log"]},
        }
    )

    assert space["gamma"].log and (space["gamma"].lower, space["gamma"].upper) == (
        1e-4,
        1.0,
    )
    assert space["n"].log and space["n"].upper == 64
    assert [c.child.name for c in space.conditions] == ["gamma"]
    with pytest.raises(InvalidSearchSpaceError, match=r"'float' takes \(low, high\)"):
        build_space({"g": {"float": (1.0, 2.0, 3.0)}})


@pytest.mark.parametrize(
    ("entry", "pair"),
    [
        ([1, 2.5, "s", None, True], "1 and True"),
        ({"choices": [0, False]}, "0 and False"),
        ({"ordinal": [2, 2.0, 3]}, "2 and 2.0"),
        (["a", "a"], "'a' and 'a'"),
    ],
)
def test_choices_that_python_takes_for_one_value_are_refused(
    entry: object, pair: str
) -> None:
    """Check that choices comparing equal (1 and True) are refused naming both
    (ConfigSpace's own error said a choice was given twice)."""
    with pytest.raises(InvalidSearchSpaceError, match=f"the choices {pair} are one"):
        build_space({"c": entry})
