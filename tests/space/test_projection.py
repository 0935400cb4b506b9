"""Tests of the projection of previous trials into the current search space."""

from __future__ import annotations

import logging
from typing import Any

import ConfigSpace as CS
import pytest

from hptaa_lab.space import (
    Mapping,
    ValueTransform,
    as_space,
    build_space,
    names_beyond,
    project,
    subspace,
)

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")


def _project(
    previous: dict[str, Any] | CS.ConfigurationSpace,
    current: dict[str, Any] | CS.ConfigurationSpace,
    configs: list[dict[str, Any]],
    mapping: Mapping | None = None,
) -> Any:
    return project(
        as_space(previous),
        as_space(current),
        configs,
        [float(i) for i in range(len(configs))],
        mapping,
        numbers=[10 + i for i in range(len(configs))],
    )


def test_removed_hyperparameter_is_dropped() -> None:
    """Check that the value of a removed hyperparameter leaves the configuration."""
    result = _project(
        {"lr": (0.01, 1.0), "batch": (16, 256)},
        {"lr": (0.01, 1.0)},
        [{"lr": 0.1, "batch": 32}],
    )

    assert result.configs == ({"lr": 0.1},)
    assert result.only_old == ("batch",)
    assert result.shared == ("lr",)
    assert result.numbers == (10,)


def test_illegal_shared_value_drops_the_trial(caplog: pytest.LogCaptureFixture) -> None:
    """Check that a trial whose shared value is outside the current range is
    dropped with its number and the reason, and the others are kept."""
    with caplog.at_level(logging.INFO, logger="hptaa_lab.space._projection"):
        result = _project(
            {"lr": (0.01, 1.0), "act": ["relu", "tanh"]},
            {"lr": (0.01, 0.5), "act": ["relu"]},
            [
                {"lr": 0.9, "act": "relu"},
                {"lr": 0.1, "act": "tanh"},
                {"lr": 0.2, "act": "relu"},
            ],
        )

    assert result.configs == ({"lr": 0.2, "act": "relu"},)
    assert result.values == (2.0,)
    assert [number for number, _ in result.dropped] == [10, 11]
    assert (
        result.dropped[0][1]
        == "lr=0.9 is outside the current range (float [0.01, 0.5])"
    )
    assert result.dropped[1][1] == (
        "act='tanh' is not one of the current choices (choice {'relu'})"
    )
    assert "projection kept 1 of 3 previous trials" in caplog.text


def test_forget_keeps_trials_of_a_removed_choice_with_that_value_unknown() -> None:
    """Check that with forget=True a trial whose choice was removed (categorical
    or ordinal) is kept with that value unknown and listed in ``forgotten``
    (with its child's value, measured under that choice, dropped),
    ``ranked(whole_first=True)``
    puts such trials last, and a value outside a numeric range still drops its
    trial; without forget the paper's projection drops them all."""
    previous = {
        "op": ["conv", "pool", "skip"],
        "width": {"ordinal": [8, 16, 32]},
        "lr": (0.0, 1.0),
        "k": {"int": (1, 5), "if": {"op": ["conv", "pool"]}},
    }
    current = {
        "op": ["conv", "skip"],
        "width": {"ordinal": [16, 32]},
        "lr": (0.0, 0.5),
        "k": {"int": (1, 5), "if": {"op": ["conv"]}},
    }
    configs = [
        {"op": "pool", "width": 16, "lr": 0.1, "k": 3},
        {"op": "conv", "width": 8, "lr": 0.2, "k": 2},
        {"op": "skip", "width": 32, "lr": 0.3},
        {"op": "pool", "width": 8, "lr": 0.9, "k": 1},
    ]
    args = (as_space(previous), as_space(current), configs, [0.1, 0.2, 0.3, 0.4])

    result = project(*args, numbers=[10, 11, 12, 13], forget=True)
    paper = project(*args, numbers=[10, 11, 12, 13])

    assert result.numbers == (10, 11, 12)
    assert result.configs[0] == {"width": 16, "lr": 0.1}
    assert result.configs[1] == {"op": "conv", "lr": 0.2, "k": 2}
    assert result.forgotten == ((10, "op"), (11, "width"))
    assert [number for number, _ in result.dropped] == [13]
    assert result.ranked() == [0, 1, 2]
    assert result.ranked(whole_first=True) == [2, 0, 1]
    assert paper.numbers == (12,) and paper.forgotten == ()


def test_forget_drops_the_values_below_a_forgotten_choice() -> None:
    """Check that forgetting a parent's removed choice also drops its children's
    values (measured under that choice; kept, they would decide the parent when
    the configuration is completed), that a value the current conditions switch
    off is not counted as forgotten, and that a choice removed down to one
    remaining choice is forgotten too."""
    before = as_space(
        {
            "opt": ["sgd", "adam", "rms"],
            "mom": {"float": (0.0, 1.0), "if": {"opt": "sgd"}},
            "sched": {"choices": ["cos", "none"], "if": {"opt": "sgd"}},
            "act": ["relu", "tanh"],
        }
    )
    after = as_space(
        {
            "opt": ["adam", "rms"],
            "mom": {"float": (0.0, 1.0), "if": {"opt": "rms"}},
            "sched": {"choices": ["cos"], "if": {"opt": "rms"}},
            "act": ["relu"],
        }
    )
    configs = [
        {"opt": "sgd", "mom": 0.5, "sched": "none", "act": "relu"},
        {"opt": "adam", "act": "tanh"},
    ]

    result = project(before, after, configs, [0.1, 0.2], forget=True)

    assert result.configs == ({"act": "relu"}, {"opt": "adam"})
    assert result.forgotten == ((0, "opt"), (1, "act"))


def test_clip_keeps_trials_outside_a_narrowed_range_at_the_nearest_bound() -> None:
    """Check that with clip=True a numeric value outside a narrowed range (float,
    log float, int, after a transform) moves to the nearest bound and its trial
    is kept and listed in ``clipped``, while a removed choice still drops the
    trial and trials inside the range are untouched."""
    previous = {
        "lr": (1e-4, 1.0, "log"),
        "rounds": (1, 5000),
        "frac": (0.0, 1.0),
        "act": ["relu", "tanh"],
    }
    current = {
        "lr": (1e-3, 0.1, "log"),
        "rounds": (1, 1000),
        "frac": (0.0, 100.0),
        "act": ["relu"],
    }
    configs = [
        {"lr": 0.5, "rounds": 3000, "frac": 0.5, "act": "relu"},
        {"lr": 1e-4, "rounds": 10, "frac": 0.2, "act": "relu"},
        {"lr": 0.01, "rounds": 500, "frac": 0.3, "act": "relu"},
        {"lr": 0.01, "rounds": 500, "frac": 0.3, "act": "tanh"},
        {"lr": 0.01, "rounds": 500, "frac": 2.0, "act": "relu"},
    ]
    mapping = Mapping(transforms={"frac": ValueTransform(scale=100.0)})

    result = project(
        as_space(previous),
        as_space(current),
        configs,
        [0.1, 0.2, 0.3, 0.4, 0.5],
        mapping,
        numbers=[10, 11, 12, 13, 14],
        clip=True,
    )

    assert result.configs == (
        {"lr": 0.1, "rounds": 1000, "frac": 50.0, "act": "relu"},
        {"lr": 1e-3, "rounds": 10, "frac": 20.0, "act": "relu"},
        {"lr": 0.01, "rounds": 500, "frac": 30.0, "act": "relu"},
        {"lr": 0.01, "rounds": 500, "frac": 100.0, "act": "relu"},
    )
    assert isinstance(result.configs[0]["rounds"], int)
    assert result.numbers == (10, 11, 12, 14)
    assert result.clipped == (10, 11, 14)
    assert [number for number, _ in result.dropped] == [13]
    default = project(
        as_space(previous), as_space(current), configs, [0.1] * 5, mapping
    )
    assert (len(default), default.clipped) == (1, ())


def test_clip_leaves_values_inside_the_range_and_ranges_that_only_touch() -> None:
    """Check that clipping moves only values beyond a bound: 1.5 renamed onto an
    int range that holds it is rounded (not moved to a bound), and a range that
    touches the previous one at an end clips nothing."""
    rename = Mapping(renames={"a": "b"})
    result = project(
        as_space({"a": (0.0, 10.0)}),
        as_space({"b": (1, 5)}),
        [{"a": 1.5}, {"a": 2.0}, {"a": 0.2}, {"a": 9.0}],
        [0.0, 1.0, 2.0, 3.0],
        rename,
        clip=True,
    )
    touching = project(
        as_space({"x": (0.0, 1.0)}),
        as_space({"x": (1.0, 2.0)}),
        [{"x": 0.5}, {"x": 1.0}],
        [0.0, 1.0],
        clip=True,
    )

    assert result.configs == ({"b": 2}, {"b": 2}, {"b": 1}, {"b": 5})
    assert result.dropped == ()
    assert list(result.clipped) == [2, 3]
    assert touching.configs == ({"x": 1.0},) and touching.clipped == ()


def test_clipped_lists_only_trials_whose_clipped_value_stays_active() -> None:
    """Check that a trial whose clipped value a condition then makes inactive is
    kept but not listed as clipped (its configuration holds no moved value)."""
    previous = {"opt": ["sgd", "adam"], "momentum": (0.0, 1.0)}
    current = build_space(
        {
            "opt": ["sgd", "adam"],
            "momentum": {"float": (0.0, 0.5), "if": {"opt": "sgd"}},
        }
    )
    result = project(
        as_space(previous),
        current,
        [{"opt": "sgd", "momentum": 0.9}, {"opt": "adam", "momentum": 0.9}],
        [0.1, 0.2],
        clip=True,
    )

    assert result.configs == ({"opt": "sgd", "momentum": 0.5}, {"opt": "adam"})
    assert result.clipped == (0,)


def test_names_beyond_lists_the_narrowed_ranges_some_configs_exceed() -> None:
    """Check that names_beyond names each narrowed range (after renames) that a
    configuration lies beyond, whatever else the configuration holds, and not a
    range that moved away or a value that is merely no value of an int range."""
    previous = as_space(
        {"rounds": (1, 5000), "lr": (0.0, 1.0), "far": (0.0, 1.0), "depth": (1.0, 9.0)}
    )
    current = as_space(
        {"n_rounds": (1, 1000), "lr": (0.0, 0.5), "far": (5.0, 6.0), "depth": (1, 9)}
    )
    rename = Mapping(renames={"rounds": "n_rounds"})
    configs = [
        {"rounds": 3000, "lr": 0.1, "far": 0.5, "depth": 2.5},
        {"rounds": 10, "lr": 0.2, "far": 0.5, "depth": 3.0},
    ]

    assert names_beyond(previous, current, configs, rename) == {"n_rounds"}
    assert names_beyond(previous, current, [{**configs[1], "lr": 0.9}], rename) == {
        "lr"
    }


def test_added_filled_from_previous_fixed() -> None:
    """Check that an added hyperparameter takes its previous fixed value."""
    result = _project(
        {"lr": (0.01, 1.0)},
        {"lr": (0.01, 1.0), "depth": (1, 8)},
        [{"lr": 0.1}],
        Mapping(previous_fixed={"depth": 6}),
    )

    assert result.configs == ({"lr": 0.1, "depth": 6},)
    assert result.only_new == ("depth",)


def test_a_whole_float_previous_fixed_value_takes_the_type_of_its_values() -> None:
    """Check that 6.0 for an int range fills 6, and 1.0 for the choices [1, 2]
    the choice 1, so the objective gets ints as on every other trial; a bool
    stays a bool."""
    result = _project(
        {"lr": (0.01, 1.0)},
        {"lr": (0.01, 1.0), "depth": (1, 8), "k": [1, 2], "on": [True, False]},
        [{"lr": 0.1}],
        Mapping(previous_fixed={"depth": 6.0, "k": 1.0, "on": True}),
    )

    (config,) = result.configs
    assert config == {"lr": 0.1, "depth": 6, "k": 1, "on": True}
    assert [type(config[n]) for n in ("depth", "k", "on")] == [int, int, bool]


def test_added_without_previous_fixed_is_left_unknown() -> None:
    """Check that an added hyperparameter without a known value is absent."""
    result = _project(
        {"lr": (0.01, 1.0)}, {"lr": (0.01, 1.0), "depth": (1, 8)}, [{"lr": 0.1}]
    )

    assert result.configs == ({"lr": 0.1},)


def test_rename_and_unit_transform_are_applied() -> None:
    """Check that a renamed value arrives under its new name, scaled by the unit
    factor, and that an out-of-range result drops the trial."""
    mapping = Mapping(
        renames={"timeout_s": "timeout_ms"},
        transforms={"timeout_ms": ValueTransform(scale=1000.0)},
    )

    result = _project(
        {"timeout_s": (0.5, 100.0)},
        {"timeout_ms": (1000.0, 60000.0)},
        [{"timeout_s": 2.5}, {"timeout_s": 90.0}],
        mapping,
    )

    assert result.configs == ({"timeout_ms": 2500.0},)
    assert result.dropped[0][0] == 11
    assert result.shared == ("timeout_ms",)
    assert result.only_old == ()


def test_value_map_transform_applies_to_categorical() -> None:
    """Check that a value map turns previous choices into current ones."""
    result = _project(
        {"act": ["relu", "sigmoid"]},
        {"act": ["relu", "gelu"]},
        [{"act": "sigmoid"}, {"act": "relu"}],
        Mapping(transforms={"act": ValueTransform(values={"sigmoid": "gelu"})}),
    )

    assert result.configs == ({"act": "gelu"}, {"act": "relu"})


def test_log_scale_value_is_kept() -> None:
    """Check that a value legal in a log range survives unchanged and the current
    range stays on log scale (the research code lost the log flag)."""
    previous = build_space({"lr": (1e-5, 1e-1, "log")})
    current = build_space({"lr": (1e-4, 1.0, "log")})

    result = _project(previous, current, [{"lr": 0.000123456789}, {"lr": 2e-5}])

    assert result.configs == ({"lr": 0.000123456789},)
    assert current["lr"].log
    assert subspace(current, result.shared)["lr"].log


def test_int_and_float_values_are_coerced() -> None:
    """Check that a float fits an int range as its nearest int, half up (a
    float range made an int one dropped every previous trial), an int a float
    range; and a float that rounds beyond the range is outside it."""
    result = _project(
        {"n": (1.0, 10.0), "x": (0, 10)},
        {"n": (1, 10), "x": (0.0, 10.0)},
        [{"n": 4.0, "x": 3}, {"n": 4.5, "x": 3}, {"n": 6.37, "x": 3}],
    )
    pct = _project(
        {"p": (0.0, 1.0)},
        {"pct": (0, 100)},
        [{"p": 0.4567}],
        Mapping(renames={"p": "pct"}, transforms={"pct": ValueTransform(scale=100)}),
    )
    beyond = _project({"n": (1.0, 10.4)}, {"n": (1, 10)}, [{"n": 10.4}, {"n": 10.6}])

    assert result.configs == (
        {"n": 4, "x": 3.0},
        {"n": 5, "x": 3.0},
        {"n": 6, "x": 3.0},
    )
    assert isinstance(result.configs[0]["n"], int)
    assert isinstance(result.configs[0]["x"], float)
    assert pct.configs == ({"pct": 46},)
    assert beyond.configs == ({"n": 10},)
    assert "n=11 is outside the current range" in beyond.dropped[0][1]


def test_ordinal_values_are_projected() -> None:
    """Check that an ordinal value in the current sequence survives and one that is
    gone drops the trial (the research code crashed on ordinals)."""
    result = _project(
        {"size": {"ordinal": [1, 2, 4, 8]}},
        {"size": {"ordinal": [2, 4, 8, 16]}},
        [{"size": 4}, {"size": 1}],
    )

    assert result.configs == ({"size": 4},)
    assert result.dropped[0][0] == 11


def test_constants_take_the_current_value() -> None:
    """Check that a constant gets its current value, whether it was there before
    with another value or is new (the research code crashed on constants)."""
    result = _project(
        {"lr": (0.01, 1.0), "seed": 1},
        {"lr": (0.01, 1.0), "seed": 1, "version": "v2"},
        [{"lr": 0.1, "seed": 1}],
    )

    assert result.configs == ({"lr": 0.1, "seed": 1, "version": "v2"},)


def test_changed_constant_drops_the_trial() -> None:
    """Check that a previous constant value that is not the current constant
    drops the trial."""
    result = _project(
        {"seed": 1, "x": (0.0, 1.0)},
        {"seed": 2, "x": (0.0, 1.0)},
        [{"seed": 1, "x": 0.5}],
    )

    assert result.configs == ()
    assert "seed=1 is outside the current range" in result.dropped[0][1]


def test_inactive_value_is_dropped() -> None:
    """Check that a value the current conditions make inactive is dropped, and one
    whose parent is still unknown is kept."""
    previous = build_space(
        {"opt": ["sgd", "adam"], "momentum": (0.0, 1.0), "lr": (0.01, 1.0)}
    )
    current = build_space(
        {
            "opt": ["sgd", "adam"],
            "momentum": {"float": (0.0, 1.0), "if": {"opt": "sgd"}},
            "lr": (0.01, 1.0),
        }
    )

    result = _project(
        previous,
        current,
        [
            {"opt": "adam", "momentum": 0.5, "lr": 0.1},
            {"opt": "sgd", "momentum": 0.5, "lr": 0.1},
        ],
    )

    assert result.configs == (
        {"opt": "adam", "lr": 0.1},
        {"opt": "sgd", "momentum": 0.5, "lr": 0.1},
    )


def test_value_under_unknown_parent_is_kept() -> None:
    """Check that a shared child whose parent is new (no known value) keeps its
    value, and that a previous fixed parent decides its activity."""
    previous = build_space({"momentum": (0.0, 1.0), "lr": (0.01, 1.0)})
    current = build_space(
        {
            "opt": ["sgd", "adam"],
            "momentum": {"float": (0.0, 1.0), "if": {"opt": "sgd"}},
            "lr": (0.01, 1.0),
        }
    )
    configs = [{"momentum": 0.3, "lr": 0.1}]

    unknown = _project(previous, current, configs)
    fixed_adam = _project(
        previous, current, configs, Mapping(previous_fixed={"opt": "adam"})
    )

    assert unknown.configs == ({"momentum": 0.3, "lr": 0.1},)
    assert fixed_adam.configs == ({"lr": 0.1, "opt": "adam"},)


def _forbidding(spec: dict[str, Any]) -> CS.ConfigurationSpace:
    space = build_space(spec)
    space.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(space["a"], "x"),
            CS.ForbiddenEqualsClause(space["b"], "y"),
        )
    )
    return space


def test_forbidden_projected_configuration_is_dropped() -> None:
    """Check that a complete projected configuration that hits a forbidden clause
    is dropped."""
    previous = build_space({"a": ["x", "z"], "b": ["y", "w"]})
    current = _forbidding({"a": ["z", "x"], "b": ["w", "y"]})

    result = _project(previous, current, [{"a": "x", "b": "y"}, {"a": "x", "b": "w"}])

    assert result.configs == ({"a": "x", "b": "w"},)
    assert result.dropped[0][0] == 10
    assert "forbidden" in result.dropped[0][1]


def test_partial_configuration_hitting_forbidden_clause_is_dropped() -> None:
    """Check that a partial configuration whose known values already hit a
    forbidden clause is dropped, whatever the unknown values would be."""
    previous = build_space({"a": ["x", "z"], "b": ["y", "w"]})
    current = _forbidding({"a": ["z", "x"], "b": ["w", "y"], "c": (0.0, 1.0)})

    result = _project(previous, current, [{"a": "x", "b": "y"}, {"a": "z", "b": "y"}])

    assert result.configs == ({"a": "z", "b": "y"},)
    assert "hits the forbidden clause" in result.dropped[0][1]


def test_exact_flag_follows_current_fixed() -> None:
    """Check that a trial is exact when its removed values equal those fixed now."""
    result = _project(
        {"lr": (0.01, 1.0), "batch": (16, 256)},
        {"lr": (0.01, 1.0)},
        [{"lr": 0.1, "batch": 64}, {"lr": 0.2, "batch": 32}],
        Mapping(current_fixed={"batch": 64}),
    )

    assert result.exact == (True, False)
    assert _project({"lr": (0.01, 1.0)}, {"lr": (0.01, 1.0)}, [{"lr": 0.1}]).exact == (
        True,
    )


def test_rename_onto_a_kept_name_uses_the_renamed_value() -> None:
    """Check that renaming a onto b takes a's value, not the previous b's."""
    result = _project(
        {"a": (0.0, 1.0), "b": (0.0, 1.0)},
        {"b": (0.0, 1.0)},
        [{"a": 0.25, "b": 0.75}],
        Mapping(renames={"a": "b"}),
    )

    assert result.configs == ({"b": 0.25},)


def test_best_and_ranked_order_by_value() -> None:
    """Check that best is the lowest value and ranked lists indices best first."""
    result = project(
        build_space({"x": (0.0, 1.0)}),
        build_space({"x": (0.0, 1.0)}),
        [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}],
        [3.0, 1.0, 2.0],
    )

    assert result.best() == ({"x": 0.2}, 1.0)
    assert result.ranked() == [1, 2, 0]
    assert len(result) == 3


def test_empty_projection_has_no_best() -> None:
    """Check that best is None when no trial is given or survives."""
    space = build_space({"x": (0.0, 1.0)})

    assert project(space, space, [], []).best() is None
    assert project(space, space, [], []).ranked() == []


def test_subspace_keeps_conditions_and_clauses_of_kept_names(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that a subspace keeps a condition or clause only if every name in it
    is kept."""
    both = subspace(cond_space, ["opt", "momentum", "size"])
    child_only = subspace(cond_space, ["momentum", "lr"])

    assert list(both) == [n for n in cond_space if n in {"opt", "momentum", "size"}]
    assert len(both.conditions) == 1
    assert len(both.forbidden_clauses) == 2
    assert child_only.conditions == []
    assert child_only.forbidden_clauses == []


def test_subspace_leaves_the_original_space_checks_intact() -> None:
    """Check that taking a subspace does not re-index the original space's
    forbidden clauses and conditions (ConfigSpace edits the objects it is given)."""
    import ConfigSpace as CS

    from hptaa_lab.space import Encoder, subspace

    space = CS.ConfigurationSpace()
    space.add(
        [
            CS.UniformFloatHyperparameter("lr", 1e-4, 1.0, log=True),
            CS.CategoricalHyperparameter("opt", ["sgd", "adam", "lbfgs"]),
            CS.CategoricalHyperparameter("kernel", ["rbf", "poly"]),
            CS.UniformIntegerHyperparameter("degree", 2, 5),
        ]
    )
    space.add(CS.ForbiddenEqualsClause(space["opt"], "lbfgs"))
    space.add(CS.EqualsCondition(space["degree"], space["kernel"], "poly"))
    subspace(space, ["opt"])
    subspace(space, ["kernel", "degree"])
    encoder = Encoder(space)
    assert not encoder.is_valid({"lr": 0.01, "opt": "lbfgs", "kernel": "rbf"})
    assert encoder.is_valid({"lr": 0.01, "opt": "sgd", "kernel": "poly", "degree": 3})
    assert not encoder.is_valid({"lr": 0.01, "opt": "sgd", "kernel": "poly"})


def test_a_previous_number_is_no_current_bool_choice_and_takes_its_choice() -> None:
    """Check that a previous choice 0 is no current choice False (0 == False in
    Python, so the objective got the int 0 on the transferred trial and False
    on every other one), and that a previous 1.0 becomes the current choice 1."""
    result = _project(
        {"k": [0, 1], "n": [1.0, 2.0]},
        {"k": [False, True], "n": [1, 2]},
        [{"k": 0, "n": 1.0}],
    )
    assert result.configs == ()
    assert result.dropped[0][1] == (
        "k=0 is not one of the current choices (choice {False, True})"
    )

    kept = _project({"n": [1.0, 2.0]}, {"n": [1, 2]}, [{"n": 2.0}])
    assert kept.configs == ({"n": 2},)
    assert type(kept.configs[0]["n"]) is int
    mapped = _project(
        {"k": [0, 1]},
        {"k": [False, True]},
        [{"k": 1}],
        Mapping.from_dict({"transforms": {"k": {"values": {0: False, 1: True}}}}),
    )
    assert mapped.configs == ({"k": True},)


def test_a_previous_bool_is_no_number_of_a_range() -> None:
    """Check that a previous bool choice projected onto a float or int range
    drops its trial (True == 1 in Python: the objective got True from a float
    range, and the study could not make a CSV round trip)."""
    for current in ({"c": (0.0, 1.0)}, {"c": (0, 5)}):
        result = _project({"c": [True, False]}, current, [{"c": True}, {"c": False}])
        assert result.configs == ()
        assert result.dropped[0][1].startswith(
            "c=True is a bool, not a number of the current range"
        )


def test_a_whole_previous_fixed_value_of_a_float_range_is_a_float() -> None:
    """Check that previous_fixed {"f": 1} for a float range fills 1.0 (the
    objective got the int 1 on the transferred trials, floats on the rest),
    and that rounding onto an int range is half up at the float's own value
    (0.49999999999999994 is no half: it became 1)."""
    result = _project(
        {"x": (0.0, 1.0)},
        {"x": (0.0, 1.0), "f": (0.0, 2.0), "n": (0, 3)},
        [{"x": 0.5}],
        Mapping(previous_fixed={"f": 1}),
    )
    (config,) = result.configs
    assert config["f"] == 1.0 and type(config["f"]) is float

    rounded = _project({"n": (0.0, 3.0)}, {"n": (0, 3)}, [{"n": 0.49999999999999994}])
    assert rounded.configs == ({"n": 0},)
