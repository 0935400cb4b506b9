"""Tests of the Mapping: validation, JSON round trip, value transforms."""

from __future__ import annotations

import json
from fractions import Fraction

import ConfigSpace as CS
import numpy as np
import pytest

from hptaa_lab.errors import MappingError
from hptaa_lab.space import (
    ChangeKind,
    Mapping,
    ValueTransform,
    build_space,
    diff,
    project,
)

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")


@pytest.fixture
def previous() -> CS.ConfigurationSpace:
    return build_space(
        {
            "lr": (1e-4, 1e-1, "log"),
            "act": ["relu", "tanh"],
            "batch": (16, 256),
            "timeout_s": (1.0, 60.0),
        }
    )


@pytest.fixture
def current() -> CS.ConfigurationSpace:
    return build_space(
        {
            "learning_rate": (1e-5, 1e-1, "log"),
            "act": ["relu", "tanh", "gelu"],
            "depth": (1, 8),
            "timeout_ms": (1000.0, 60000.0),
        }
    )


def test_valid_mapping_passes(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a mapping that fits both spaces validates without error."""
    mapping = Mapping(
        renames={"lr": "learning_rate", "timeout_s": "timeout_ms"},
        transforms={"timeout_ms": ValueTransform(scale=1000.0)},
        previous_fixed={"depth": 3},
        current_fixed={"batch": 64},
    )

    mapping.validate(previous, current)

    assert not mapping.is_empty
    assert Mapping().is_empty


def test_unknown_name_is_named_with_candidates(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that an unknown name is named and the candidates are listed."""
    mapping = Mapping(renames={"lr": "learningrate"})

    with pytest.raises(MappingError) as info:
        mapping.validate(previous, current)

    message = str(info.value)
    assert "'learningrate', which is not in the current search space" in message
    assert "Candidates: " in message
    for name in current:
        assert name in message


def test_unknown_previous_name_lists_previous_candidates(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that an unknown previous name lists the previous hyperparameters."""
    with pytest.raises(
        MappingError,
        match=r"names 'rate', which is not in the previous search space\. "
        r"Candidates: .*batch",
    ):
        Mapping(renames={"rate": "learning_rate"}).validate(previous, current)


def test_categorical_renamed_onto_float_is_refused(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a categorical cannot take the values of a float."""
    with pytest.raises(
        MappingError,
        match=r"Cannot rename 'act' \(categorical\) onto 'learning_rate' \(float\)",
    ):
        Mapping(renames={"act": "learning_rate"}).validate(previous, current)


def test_constant_or_choices_of_numbers_renamed_onto_a_range_pass_and_project() -> None:
    """Check that a constant made tunable under a new name, and an ordinal or
    categorical of numbers widened to a range, may be renamed onto it (as they
    project when the name stays), with their values carried over; that one of
    bools or strings, or a range renamed onto choices, is still refused; and that
    a transform that moves every value out of the range is refused."""
    before = build_space(
        {
            "lr": 0.1,
            "width": {"ordinal": [16, 32, 64]},
            "depth": [2, 4],
            "flag": [True, False],
        }
    )
    after = build_space(
        {"learning_rate": (1e-3, 1.0, "log"), "units": (8, 48), "layers": (1, 8)}
    )
    mapping = Mapping(
        renames={"lr": "learning_rate", "width": "units", "depth": "layers"}
    )
    mapping.validate(before, after)
    projection = project(
        before,
        after,
        [
            {"lr": 0.1, "width": 32, "depth": 4, "flag": True},
            {"lr": 0.1, "width": 64, "depth": 2, "flag": False},
        ],
        [0.3, 0.2],
        mapping,
    )
    # 64 is outside [8, 48] now: that trial is dropped, as for a narrowed range.
    assert projection.configs == ({"learning_rate": 0.1, "units": 32, "layers": 4},)

    with pytest.raises(
        MappingError,
        match=r"Cannot rename 'flag' \(categorical\) onto 'layers' \(int\)",
    ):
        Mapping(renames={"flag": "layers"}).validate(before, after)
    with pytest.raises(
        MappingError, match=r"Cannot rename 'learning_rate' \(float\) onto 'lr'"
    ):
        Mapping(renames={"learning_rate": "lr"}).validate(after, before)
    with pytest.raises(
        MappingError,
        match=r"the values \[1600, 3200, 6400\] after the given transform \(scale 100\), "
        r"and 'units' takes \[8, 48\] now",
    ):
        Mapping(
            renames={"width": "units"}, transforms={"units": ValueTransform(scale=100)}
        ).validate(before, after)


def test_same_name_choices_with_a_transform_that_leaves_the_range_are_refused() -> None:
    """Check that a scale transform on choices of numbers that kept their name and
    became a range is checked as under a rename: one that moves every value out
    of the range is refused (before, it passed and projection dropped every
    trial), one that keeps some passes."""
    before = build_space({"t": [0.5, 1, 2]})
    after = build_space({"t": (1, 10)})
    with pytest.raises(
        MappingError,
        match=r"The transform of 't' would drop every previous trial that sets 't': "
        r"the previous trials hold the values .* after the given transform \(scale "
        r"1000\), .* or the transform \(its scale, offset or value map\)\.",
    ):
        Mapping(transforms={"t": ValueTransform(scale=1000)}).validate(before, after)
    Mapping(transforms={"t": ValueTransform(scale=2)}).validate(before, after)


def test_an_int_beyond_any_float_is_refused_or_dropped_not_a_crash() -> None:
    """Check that a previous constant too large for a float, renamed onto a range,
    is refused with a MappingError, and under its own name dropped by projection
    with the reason (both raised OverflowError)."""
    before = CS.ConfigurationSpace({"lr": CS.Constant("lr", 10**400), "x": (0.0, 1.0)})
    with pytest.raises(MappingError, match=r"would drop every previous trial"):
        Mapping(renames={"lr": "rate"}).validate(
            before, build_space({"rate": (0.0, 1.0), "x": (0.0, 1.0)})
        )
    projection = project(
        before,
        build_space({"lr": (0.0, 1.0), "x": (0.0, 1.0)}),
        [{"lr": 10**400, "x": 0.5}],
        [1.0],
    )
    assert projection.configs == ()
    assert "outside the current range" in projection.dropped[0][1]


def test_rename_whose_values_cannot_reach_the_current_range_is_refused(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a rename under which every previous trial would be dropped (a
    rename onto the wrong hyperparameter, a unit change without a transform) is
    refused, and that the same rename with the transform passes."""
    with pytest.raises(
        MappingError,
        match=r"Renaming 'lr' onto 'depth' would drop every previous trial that sets "
        r"'lr': .*"
        r"values from 0\.0001 to 0\.1, and 'depth' takes \[1, 8\] now",
    ):
        Mapping(renames={"lr": "depth"}).validate(previous, current)
    with pytest.raises(MappingError, match="give a transform"):
        Mapping(renames={"timeout_s": "timeout_ms"}).validate(previous, current)

    Mapping(
        renames={"timeout_s": "timeout_ms"},
        transforms={"timeout_ms": ValueTransform(scale=1000.0)},
    ).validate(previous, current)
    # Ranges that overlap in part keep the trials inside the overlap.
    Mapping(renames={"batch": "depth"}).validate(
        previous, build_space({"depth": (200, 1000)})
    )


def test_numeric_rename_with_a_value_map_is_checked_value_by_value() -> None:
    """Check that a value map on a numeric rename is not applied to the range's
    ends (a string there crashed the check): a map onto a current value passes,
    one onto a string is refused by the value check."""
    before = build_space({"a": (1, 3)})
    after = build_space({"b": (5, 6)})

    Mapping(
        renames={"a": "b"}, transforms={"b": ValueTransform(values={1: 5})}
    ).validate(before, after)
    with pytest.raises(MappingError, match=r"maps 1 onto 'one'"):
        Mapping(
            renames={"a": "b"}, transforms={"b": ValueTransform(values={1: "one"})}
        ).validate(before, build_space({"b": (1, 3)}))


def test_transform_without_rename_is_checked_too() -> None:
    """Check that a unit change on a hyperparameter that kept its name is refused
    when its scale puts every previous value outside the current range (inverted
    seconds -> ms), and passes with the right scale."""
    before = build_space({"timeout": (1.0, 60.0)})
    after = build_space({"timeout": (1000.0, 60000.0)})

    with pytest.raises(MappingError, match=r"The transform of 'timeout' would drop"):
        Mapping(transforms={"timeout": ValueTransform(scale=0.001)}).validate(
            before, after
        )
    Mapping(transforms={"timeout": ValueTransform(scale=1000.0)}).validate(
        before, after
    )


def test_rename_of_choices_none_of_which_exist_now_is_refused() -> None:
    """Check that renaming a categorical onto one that shares no value is refused,
    and that a value map onto the current choices makes it pass."""
    before = build_space({"opt": ["sgd", "adam"]})
    after = build_space({"optimizer": ["SGD", "Adam"]})

    with pytest.raises(MappingError, match=r"the values \['sgd', 'adam'\]"):
        Mapping(renames={"opt": "optimizer"}).validate(before, after)
    Mapping(
        renames={"opt": "optimizer"},
        transforms={"optimizer": ValueTransform(values={"sgd": "SGD", "adam": "Adam"})},
    ).validate(before, after)


def test_previous_fixed_outside_range_is_refused(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a previous fixed value outside the current range is refused."""
    with pytest.raises(
        MappingError, match=r"previous_fixed\['depth'\] = 12 is outside the current"
    ):
        Mapping(previous_fixed={"depth": 12}).validate(previous, current)


def test_previous_fixed_that_is_no_whole_number_on_an_int_range_says_so(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that 2.5 for an int range is named as no whole number, not as
    outside a range it lies in; 3.0 is the int 3."""
    with pytest.raises(
        MappingError, match=r"previous_fixed\['depth'\] = 2.5 is no whole number"
    ):
        Mapping(previous_fixed={"depth": 2.5}).validate(previous, current)
    Mapping(previous_fixed={"depth": 3.0}).validate(previous, current)


@pytest.mark.parametrize("value", [None, "3", True, [1], (1,)])
def test_previous_fixed_that_is_no_number_on_a_range_is_refused(value: object) -> None:
    """Check that a previous fixed value of a numeric range must be one number: a
    bool, None, text or a list (which ConfigSpace checked element-wise, so that
    [1] passed) is refused, saying so rather than speaking of the range."""
    before = build_space({"a": (0.0, 1.0)})
    after = build_space({"a": (0.0, 1.0), "x": (0.0, 5.0)})
    with pytest.raises(MappingError, match=r"previous_fixed\['x'\] = .* is no number"):
        Mapping(previous_fixed={"x": value}).validate(before, after)
    Mapping(previous_fixed={"x": 2}).validate(before, after)


@pytest.mark.parametrize("after", [[2], (2,), True])
def test_value_map_onto_no_single_number_of_a_range_is_refused(after: object) -> None:
    """Check that a value map onto a numeric range maps each previous value onto
    one number: a list, a tuple or a bool is refused."""
    before = build_space({"a": (1, 3)})
    current = build_space({"b": (1.0, 5.0)})
    with pytest.raises(
        MappingError, match=r"maps 1 onto .*which is not a value of 'b'"
    ):
        Mapping(
            renames={"a": "b"}, transforms={"b": ValueTransform(values={1: after})}
        ).validate(before, current)


def test_previous_fixed_of_shared_hyperparameter_is_refused(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that only added hyperparameters may have a previous fixed value."""
    with pytest.raises(
        MappingError, match="previous_fixed names 'act', which is not an added"
    ):
        Mapping(previous_fixed={"act": "relu"}).validate(previous, current)


def test_current_fixed_of_kept_hyperparameter_is_refused(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a hyperparameter still in the current space (by its name or a
    rename) cannot be fixed now."""
    with pytest.raises(
        MappingError, match="current_fixed names 'act', which is still in the current"
    ):
        Mapping(current_fixed={"act": "relu"}).validate(previous, current)
    with pytest.raises(
        MappingError, match="current_fixed names 'lr', which is still in the current"
    ):
        Mapping(renames={"lr": "learning_rate"}, current_fixed={"lr": 0.01}).validate(
            previous, current
        )


def test_current_fixed_of_name_replaced_by_rename_is_allowed() -> None:
    """Check that a previous b that a renamed a replaces counts as removed."""
    previous = build_space({"a": (0.0, 1.0), "b": (0.0, 1.0)})
    current = build_space({"b": (0.0, 1.0)})

    Mapping(renames={"a": "b"}, current_fixed={"b": 0.5}).validate(previous, current)


def test_current_fixed_must_be_a_json_scalar(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a current fixed value must be a number, string, bool or None
    (max_depth=None, fixed now, is a common case)."""
    with pytest.raises(MappingError, match=r"current_fixed\['batch'\] must be"):
        Mapping(current_fixed={"batch": [64]}).validate(previous, current)
    Mapping(current_fixed={"batch": None}).validate(previous, current)


def test_scaling_transform_of_categorical_is_refused(
    previous: CS.ConfigurationSpace, current: CS.ConfigurationSpace
) -> None:
    """Check that a numeric transform on a categorical asks for a value map."""
    with pytest.raises(MappingError, match="give a value map"):
        Mapping(transforms={"act": ValueTransform(scale=2.0)}).validate(
            previous, current
        )


def test_two_renames_onto_one_name_are_refused() -> None:
    """Check that two previous names cannot map onto one current name."""
    with pytest.raises(MappingError, match=r"renamed onto \['x'\]"):
        Mapping(renames={"a": "x", "b": "x"})


def test_json_round_trip_keeps_everything() -> None:
    """Check that a mapping read back from its JSON equals the original."""
    mapping = Mapping(
        renames={"lr": "learning_rate"},
        transforms={
            "timeout_ms": ValueTransform(scale=1000.0, offset=5.0),
            "act": ValueTransform(values={"relu": "gelu", 1: 2}),
        },
        previous_fixed={"depth": 3, "opt": "sgd"},
        current_fixed={"batch": 64, "flag": True},
    )

    back = Mapping.from_json(mapping.to_json())

    assert back == mapping
    assert back.transforms["act"].apply(1) == 2
    assert Mapping.from_json(None) == Mapping()
    assert Mapping.from_json("") == Mapping()


def test_from_dict_accepts_transform_dicts() -> None:
    """Check that the dict form builds value transforms from their dicts."""
    mapping = Mapping.from_dict({"transforms": {"t": {"scale": 60}}})

    assert mapping.transforms["t"] == ValueTransform(scale=60.0)


def test_value_map_may_be_a_dict_or_the_stored_pairs() -> None:
    """Check that a value map is accepted as a plain dict and as the list of pairs
    that to_dict writes, with non-string previous values kept."""
    plain = Mapping.from_dict({"transforms": {"k": {"values": {"sqrt": "log2"}}}})
    stored = Mapping.from_dict({"transforms": {"k": {"values": [[3, "three"]]}}})

    assert plain.transforms["k"].values == {"sqrt": "log2"}
    assert stored.transforms["k"].values == {3: "three"}
    assert Mapping.from_json(stored.to_json()) == stored


def test_value_map_onto_a_value_the_current_space_lacks_is_refused() -> None:
    """Check that validate refuses a value map whose target is not a current value
    (a typo, or a list), instead of crashing or dropping trials later."""
    current = build_space({"act": ["relu", "gelu"]})
    before = build_space({"act": ["relu", "tanh"]})
    for target in ["gleu", ["relu", "gelu"]]:
        mapping = Mapping(transforms={"act": ValueTransform(values={"tanh": target})})
        with pytest.raises(MappingError, match="not a value of 'act' in the current"):
            mapping.validate(before, current)
    good = Mapping(transforms={"act": ValueTransform(values={"tanh": "gelu"})})
    good.validate(before, current)


def test_value_map_key_that_is_no_previous_value_is_refused() -> None:
    """Check that a value map key matching no previous value (a typo, or a number
    that JSON turned into text) is refused with advice, instead of never applying;
    the list-of-pairs form of the same map passes."""
    before = build_space({"units": [16, 32, 64], "act": ["relu", "tanh"]})
    current = build_space({"units": [32, 64, 128], "act": ["relu", "gelu"]})
    from_json = Mapping.from_dict({"transforms": {"units": {"values": {"16": 32}}}})
    with pytest.raises(
        MappingError, match=r"maps '16', which is not a value of 'units'"
    ):
        from_json.validate(before, current)
    with pytest.raises(MappingError, match=r"list of pairs"):
        from_json.validate(before, current)
    typo = Mapping(transforms={"act": ValueTransform(values={"tahn": "gelu"})})
    with pytest.raises(MappingError, match="not a value of 'act' in the previous"):
        typo.validate(before, current)
    pairs = Mapping.from_dict({"transforms": {"units": {"values": [[16, 32]]}}})
    pairs.validate(before, current)
    renamed = build_space({"width": [16, 32, 64], "act": ["relu", "tanh"]})
    onto = Mapping(
        renames={"width": "units"},
        transforms={"units": ValueTransform(values={"17": 32})},
    )
    with pytest.raises(MappingError, match="not a value of 'width'"):
        onto.validate(renamed, current)
    # True equals 1 in Python, but is no int choice.
    ints = build_space({"n": [1, 2, 3]})
    as_bool = Mapping.from_dict({"transforms": {"n": {"values": [[True, 2]]}}})
    with pytest.raises(MappingError, match="maps True, which is not a value of 'n'"):
        as_bool.validate(ints, ints)
    # A JSON key on a previous int range gets the same advice.
    ranged = build_space({"bs": (16, 64)})
    text_key = Mapping.from_dict({"transforms": {"bs": {"values": {"17": 16}}}})
    with pytest.raises(MappingError, match="list of pairs"):
        text_key.validate(ranged, ranged)
    # A list is no previous value.
    with pytest.raises(MappingError, match="give a dict from previous to current"):
        Mapping.from_dict({"transforms": {"act": {"values": [[["x"], "y"]]}}})


def test_value_map_of_an_added_hyperparameter_is_refused() -> None:
    """Check that a value map on a hyperparameter that is new in the current space
    (no rename onto it) is refused: it could never apply."""
    before = build_space({"a": ["p", "q"]})
    after = build_space({"a": ["p", "q"], "b": ["p", "q"]})
    mapping = Mapping(transforms={"b": ValueTransform(values={"zzz": "p"})})
    with pytest.raises(MappingError, match="'b' can never apply: 'b' is new"):
        mapping.validate(before, after)


def test_unit_transform_of_an_added_hyperparameter_is_refused() -> None:
    """Check that a scale transform on a hyperparameter that is new in the current
    space (no rename onto it) is refused like a value map: it could never apply."""
    before = build_space({"t_s": (0.0, 10.0)})
    after = build_space({"t_ms": (0.0, 10000.0)})
    mapping = Mapping(transforms={"t_ms": ValueTransform(scale=1000.0)})
    with pytest.raises(
        MappingError, match="The transform of 't_ms' can never apply: 't_ms' is new"
    ):
        mapping.validate(before, after)
    Mapping(
        renames={"t_s": "t_ms"}, transforms={"t_ms": ValueTransform(scale=1000.0)}
    ).validate(before, after)


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ({"mult": 2}, r"transform of 't' has unknown keys \['mult'\]"),
        ({"scale": 2, "ofset": 1}, r"unknown keys \['ofset'\]"),
        (2, "transform of 't' must be a dict"),
        ({"scale": "x"}, "needs numbers for scale and offset"),
        ({"values": "ab"}, "give a dict from previous to current values"),
        ({"values": [["a"]]}, "give a dict from previous to current values"),
        ({"values": {"a": "b"}, "scale": 2}, "give one or the other"),
    ],
)
def test_bad_transform_is_a_clear_error(transform: object, message: str) -> None:
    """Check that a transform with a typo in a key, of the wrong type, or mixing
    a value map with arithmetic is refused instead of silently ignored."""
    with pytest.raises(MappingError, match=message):
        Mapping.from_dict({"transforms": {"t": transform}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "The mapping JSON could not be read"),
        ("[1]", r"A mapping is a dict .*; got list \[1\]"),
        ('{"renames": [["a", "b"]]}', "The mapping's renames must be a dict"),
        ('{"renames": {}, "extra": 1}', r"Unknown mapping keys \['extra'\]"),
        ("3", r"A mapping is a dict .*; got int 3"),
    ],
)
def test_from_json_rejects_bad_text(text: str, message: str) -> None:
    """Check that text that is not a mapping's JSON gives a MappingError."""
    with pytest.raises(MappingError, match=message):
        Mapping.from_json(text)


def test_a_file_name_given_as_the_mapping_says_how_to_read_the_file() -> None:
    """Check that a path given where a mapping belongs is refused with the call
    that reads a mapping file (it was read as a dict of its characters)."""
    with pytest.raises(
        MappingError, match=r"got str 'map\.json'\. To read .*from_json"
    ):
        Mapping.from_dict("map.json")


def test_diff_refuses_a_mapping_create_study_would_refuse() -> None:
    """Check that diff validates its mapping, so a diff shown before the study is
    created already reports a wrong name."""
    before = build_space({"a": (0.0, 1.0)})
    after = build_space({"b": (0.0, 1.0)})
    with pytest.raises(MappingError, match="'c'"):
        diff(before, after, {"renames": {"a": "c"}})
    assert diff(before, after, {"renames": {"a": "b"}}).added == []
    # A stored study's mapping is shown as it is (check=False), even one that a
    # later version's checks would refuse.
    stale = {"transforms": {"b": {"values": {"zzz": 1.0}}}}
    assert diff(before, after, stale, check=False).added == ["b"]


def test_unit_factor_transform_scales_values() -> None:
    """Check value * scale + offset, integers kept when exact, others untouched."""
    to_ms = ValueTransform(scale=1000.0)
    shift = ValueTransform(scale=2.0, offset=1.0)

    assert to_ms.apply(1.5) == 1500.0
    assert to_ms.apply(3) == 3000 and isinstance(to_ms.apply(3), int)
    assert ValueTransform(scale=0.5).apply(3) == 1.5
    assert shift.apply(2.0) == 5.0
    assert to_ms.apply("fast") == "fast"
    assert to_ms.apply(True) is True


def test_value_map_transform_maps_choices() -> None:
    """Check that a value map replaces mapped values and keeps the others."""
    transform = ValueTransform(values={"relu": "gelu"})

    assert transform.apply("relu") == "gelu"
    assert transform.apply("tanh") == "tanh"


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ({"scale": float("nan")}, "transform of 't' has scale nan; give a finite"),
        ({"scale": float("inf")}, "transform of 't' has scale inf; give a finite"),
        ({"scale": 0}, "transform of 't' has scale 0; give a finite, non-zero"),
        ({"offset": float("-inf")}, "transform of 't' has offset -inf; give a finite"),
        ({"scale": 2, "offset": "nan"}, "transform of 't' has offset nan"),
    ],
)
def test_transform_with_nan_infinite_or_zero_scale_is_refused(
    transform: object, message: str
) -> None:
    """Check that a scale or offset that is NaN or infinite, or a scale of zero,
    is refused by name, from the dict form and from JSON."""
    with pytest.raises(MappingError, match=message):
        Mapping.from_dict({"transforms": {"t": transform}})
    with pytest.raises(MappingError, match=message):
        Mapping.from_json(json.dumps({"transforms": {"t": transform}}))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": float("nan")}, "A transform has scale nan; give a finite"),
        ({"offset": float("inf")}, "A transform has offset inf; give a finite"),
        ({"scale": 0.0}, "A transform has scale 0.0; give a finite, non-zero"),
    ],
)
def test_value_transform_constructor_refuses_nan_infinite_or_zero_scale(
    kwargs: dict[str, float], message: str
) -> None:
    """Check that ValueTransform itself refuses what from_dict refuses."""
    with pytest.raises(MappingError, match=message):
        ValueTransform(**kwargs)


def test_transform_takes_any_real_number_and_saves_it_as_json() -> None:
    """Check that numpy numbers and quoted numbers are valid scales and are stored
    as plain floats, and that an integer too large for a float or a bool is refused
    with the transform's message, not an OverflowError."""
    import numpy as np

    transform = ValueTransform(scale=np.int64(1000), offset=np.float32(0.5))
    assert json.loads(json.dumps(transform.to_dict())) == {
        "scale": 1000.0,
        "offset": 0.5,
    }
    assert ValueTransform.from_dict({"scale": "1000"}).scale == 1000.0
    for bad in ({"scale": 10**400}, {"scale": True}, {"offset": 10**400}):
        with pytest.raises(MappingError, match="give a finite"):
            ValueTransform.from_dict(bad)
    with pytest.raises(MappingError, match="give a finite"):
        ValueTransform(scale=10**400)


def test_describe_puts_each_entry_in_words() -> None:
    """Check that describe gives one line per rename, transform and fixed value,
    and nothing for an empty mapping."""
    mapping = Mapping(
        renames={"lr": "learning_rate"},
        transforms={
            "learning_rate": ValueTransform(scale=1.0000001, offset=-5.5),
            "act": ValueTransform(values={"relu": "ReLU"}),
        },
        previous_fixed={"tol": 0.001},
        current_fixed={"batch_size": 16},
    )

    assert mapping.describe() == [
        "renamed lr -> learning_rate",
        "tol had 0.001 before it was added (previous_fixed)",
        "batch_size is fixed to 16 now that it is removed (current_fixed)",
        "learning_rate: previous values transformed, value x 1.0000001 - 5.5",
        "act: previous values transformed, 'relu' -> 'ReLU'",
    ]
    assert mapping.describe(renames=False) == mapping.describe()[1:]
    assert ValueTransform(scale=1000.0).describe() == "value x 1000"
    assert Mapping().describe() == []


def test_numpy_values_become_python_values_that_save_as_json() -> None:
    """Check that numpy ints, floats and bools in previous_fixed, current_fixed
    and value maps are kept as Python values, so that the mapping saves as JSON
    (before, np.int64 passed validate and create_study raised TypeError)."""
    before = build_space({"a": (0.0, 1.0), "bs": [16, 64], "drop": [True, False]})
    after = build_space(
        {"a": (0.0, 1.0), "n": (1, 8), "f": (0.0, 1.0), "units": (8, 128)}
    )
    mapping = Mapping(
        renames={"bs": "units"},
        transforms={"units": ValueTransform(values={np.int64(16): np.int64(32)})},
        previous_fixed={"n": np.int64(3), "f": np.float32(0.25)},
        current_fixed={"drop": np.bool_(True)},
    )
    mapping.validate(before, after)

    assert json.loads(mapping.to_json()) == {
        "renames": {"bs": "units"},
        "transforms": {"units": {"values": [[16, 32]]}},
        "previous_fixed": {"n": 3, "f": 0.25},
        "current_fixed": {"drop": True},
    }
    assert type(mapping.previous_fixed["n"]) is int
    third = Mapping(previous_fixed={"f": Fraction(1, 3)})
    third.validate(before, after)
    assert third.previous_fixed == {"f": 1 / 3}


def test_a_rename_written_the_wrong_way_round_says_so() -> None:
    """Check that {current: previous} instead of {previous: current} is named as
    such, with the rename to write."""
    previous = build_space({"gamma": (1e-4, 1.0, "log")})
    current = build_space({"svc_gamma": (1e-4, 1.0, "log")})

    with pytest.raises(MappingError) as info:
        Mapping(renames={"svc_gamma": "gamma"}).validate(previous, current)

    assert str(info.value) == (
        "The rename 'svc_gamma' -> 'gamma' runs the wrong way: each name on the "
        "left is in the current search space and the one on the right in the "
        "previous one. A rename maps the previous name onto the current one: "
        "{'gamma': 'svc_gamma'}."
    )
    both_previous = build_space({"lr": (1e-4, 1.0, "log"), "depth": (1, 8)})
    both_current = build_space(
        {"learning_rate": (1e-4, 1.0, "log"), "max_depth": (1, 8)}
    )
    with pytest.raises(MappingError) as info:
        Mapping(renames={"learning_rate": "lr", "max_depth": "depth"}).validate(
            both_previous, both_current
        )
    assert str(info.value).startswith(
        "The renames 'learning_rate' -> 'lr', 'max_depth' -> 'depth' run the wrong way"
    )
    assert str(info.value).endswith("{'lr': 'learning_rate', 'depth': 'max_depth'}.")


def test_a_rename_onto_the_same_name_is_no_rename() -> None:
    """Check that {"b": "b"} is dropped from the renames (kept, the diff called
    b added while projection carried its values over, and a previous fixed
    value for it was refused as not added), also beside a real rename."""
    mapping = Mapping.from_dict({"renames": {"b": "b", "a": "x"}})

    assert mapping.renames == {"a": "x"}
    assert Mapping(renames={"b": "b"}).is_empty
    result = diff(
        {"a": (0.0, 1.0), "b": (0.0, 1.0)}, {"x": (0.0, 1.0), "b": (0.0, 0.5)}, mapping
    )
    assert result["b"].kinds == (ChangeKind.NARROWED,)


def test_a_float_range_that_only_touches_the_current_one_is_refused() -> None:
    """Check that a rename whose transformed float range meets the current one
    at a single point is refused (1e-3..1e-1 x 1000 is 1..100, against 1e-5..1:
    every trial was dropped after the mapping was accepted), while int ranges
    that share an end value are not (that value fits)."""
    with pytest.raises(MappingError, match="values from 1 to 100 after the given"):
        diff(
            {"lr": (1e-3, 1e-1, "log")},
            {"learning_rate": (1e-5, 1.0, "log")},
            {
                "renames": {"lr": "learning_rate"},
                "transforms": {"learning_rate": {"scale": 1000}},
            },
        )
    assert diff({"n": (1, 5)}, {"m": (5, 10)}, {"renames": {"n": "m"}})["m"].kinds == (
        ChangeKind.RENAMED,
        ChangeKind.SHIFTED,
    )
