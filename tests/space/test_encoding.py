"""Tests of the vector encoding of configurations."""

from __future__ import annotations

import math

import ConfigSpace as CS
import numpy as np
import pytest

from hptaa_lab.errors import InvalidSearchSpaceError
from hptaa_lab.space import Encoder, build_space, hp_kind

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")


def test_hp_kind_names_every_kind(small_space: CS.ConfigurationSpace) -> None:
    """Check that hp_kind tells float, int, ordinal, categorical and constant."""
    kinds = {name: hp_kind(hp) for name, hp in small_space.items()}

    assert kinds == {
        "act": "categorical",
        "dropout": "float",
        "lr": "float",
        "seed": "constant",
        "size": "ordinal",
        "units": "int",
    }


def test_hp_kind_rejects_unsupported_type() -> None:
    """Check that an unknown hyperparameter type is named in the error."""

    class Odd:
        name = "odd"

    with pytest.raises(InvalidSearchSpaceError, match="'odd' has an unsupported type"):
        hp_kind(Odd())


def test_encoder_skips_constants(small_space: CS.ConfigurationSpace) -> None:
    """Check that constants are no dimension but are added when decoding."""
    encoder = Encoder(small_space)

    assert encoder.dim == 5
    assert "seed" not in encoder.names
    assert encoder.constants == {"seed": 7}
    assert encoder.decode(np.full(5, 0.5))["seed"] == 7


def test_encode_value_per_kind(small_space: CS.ConfigurationSpace) -> None:
    """Check the encoding of each kind: linear, log, integer cell centre, ordinal
    cell centre and categorical index."""
    encoder = Encoder(small_space)

    assert encoder.encode_value("dropout", 0.25) == pytest.approx(0.5)
    assert encoder.encode_value("lr", 1e-2 * 10**-0.5) == pytest.approx(0.5)
    assert encoder.encode_value("units", 16) == pytest.approx(0.5 / 241)
    assert encoder.encode_value("size", "m") == pytest.approx(0.5)
    assert encoder.encode_value("act", "gelu") == 2.0
    assert math.isnan(encoder.encode_value("act", None))


def test_decode_inverts_encode(small_space: CS.ConfigurationSpace) -> None:
    """Check that decoding an encoded configuration gives it back."""
    encoder = Encoder(small_space)
    config = {
        "lr": 0.003,
        "dropout": 0.1,
        "units": 100,
        "act": "tanh",
        "size": "l",
        "seed": 7,
    }

    back = encoder.decode(encoder.encode([config])[0])

    assert back.keys() == config.keys()
    assert back["lr"] == pytest.approx(0.003)
    assert back["dropout"] == pytest.approx(0.1)
    assert {k: back[k] for k in ("units", "act", "size")} == {
        "units": 100,
        "act": "tanh",
        "size": "l",
    }


def test_encode_marks_absent_values_nan(cond_space: CS.ConfigurationSpace) -> None:
    """Check that an inactive hyperparameter encodes as NaN."""
    encoder = Encoder(cond_space)

    row = encoder.encode([{"opt": "adam", "lr": 0.01, "units": 20, "size": "s"}])[0]

    assert math.isnan(row[encoder.index["momentum"]])
    assert not math.isnan(row[encoder.index["lr"]])


def test_decode_drops_inactive_values(cond_space: CS.ConfigurationSpace) -> None:
    """Check that decoding leaves out a value whose condition does not hold."""
    encoder = Encoder(cond_space)
    vector = np.full(encoder.dim, 0.5)
    vector[encoder.index["opt"]] = 1.0  # adam
    vector[encoder.index["one"]] = 0.0

    config = encoder.decode(vector)

    assert config["opt"] == "adam"
    assert "momentum" not in config


def test_active_values_keeps_value_of_unknown_parent(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that a child whose parent has no value at all is kept (its activity
    is unknown), and one whose parent is inactive or unsatisfied is dropped."""
    encoder = Encoder(cond_space)

    unknown = encoder.active_values({"momentum": 0.5, "lr": 0.01})
    unsatisfied = encoder.active_values({"momentum": 0.5, "opt": "adam"})

    assert unknown == {"momentum": 0.5, "lr": 0.01}
    assert unsatisfied == {"opt": "adam"}


def test_active_values_drops_child_of_inactive_parent() -> None:
    """Check that a grandchild is dropped when its parent is inactive."""
    space = build_space(
        {
            "a": ["on", "off"],
            "b": {"choices": ["x", "y"], "if": {"a": "on"}},
            "c": {"float": (0.0, 1.0), "if": {"b": "x"}},
        }
    )
    encoder = Encoder(space)

    assert encoder.active_values({"a": "off", "b": "x", "c": 0.3}) == {"a": "off"}
    assert encoder.active_values({"a": "on", "b": "x", "c": 0.3}) == {
        "a": "on",
        "b": "x",
        "c": 0.3,
    }


def test_missing_active_lists_unfilled_active_names(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that missing_active names active hyperparameters without a value."""
    encoder = Encoder(cond_space)

    missing = encoder.missing_active({"opt": "sgd", "lr": 0.01})

    assert set(missing) == {"momentum", "units", "size", "one", "seed"}


def test_complete_keeps_given_values_exactly() -> None:
    """Check that completing a partial configuration keeps its values bit for bit
    (they do not pass through the [0, 1] encoding)."""
    space = build_space({"a": (1e-5, 1.0, "log"), "b": (0.0, 1.0), "c": (0.1, 7.3)})
    encoder = Encoder(space)
    rng = np.random.default_rng(0)

    for _ in range(50):
        partial = {"a": float(np.exp(rng.uniform(-11.5, 0.0))), "c": 7.3 * rng.random()}
        partial["c"] = max(partial["c"], 0.1)
        config = encoder.complete(partial, rng)

        assert config["a"] == partial["a"]
        assert config["c"] == partial["c"]
        assert 0.0 <= config["b"] <= 1.0


def test_complete_respects_conditions_and_forbidden_clauses(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that completions are valid and keep the given values."""
    encoder = Encoder(cond_space)
    rng = np.random.default_rng(1)

    for _ in range(30):
        config = encoder.complete({"opt": "rms", "lr": 0.0123}, rng)

        assert encoder.is_valid(config)
        assert config["size"] != "l"
        assert config["lr"] == 0.0123
        assert "momentum" not in config


def test_complete_raises_when_no_completion_exists(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that a partial configuration that is always forbidden is refused."""
    encoder = Encoder(cond_space)

    with pytest.raises(ValueError, match="No valid completion of"):
        encoder.complete({"opt": "rms", "size": "l"}, np.random.default_rng(0))


def test_check_returns_given_values_in_space_order(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that a legal configuration comes back unchanged, in the space's order."""
    encoder = Encoder(cond_space)
    config = {
        "units": 20,
        "opt": "sgd",
        "momentum": 0.123456789,
        "lr": 0.00123456789,
        "size": "s",
        "one": "only",
        "seed": 7,
    }

    checked = encoder.check(config)

    assert checked == config
    assert list(checked) == [n for n in cond_space if n in config]


def test_check_names_illegal_value_and_unknown_name(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that check names the offending hyperparameter."""
    encoder = Encoder(cond_space)

    with pytest.raises(ValueError, match=r"Value 2\.0 is not legal for hyperparameter"):
        encoder.check({"lr": 2.0})
    with pytest.raises(ValueError, match="'nope' is not in the search space"):
        encoder.check({"nope": 1})


def test_is_valid_rejects_forbidden_and_inactive_values(
    cond_space: CS.ConfigurationSpace,
) -> None:
    """Check that a forbidden configuration or an inactive value is not valid."""
    encoder = Encoder(cond_space)
    base = {"lr": 0.01, "units": 20, "one": "only", "seed": 7}

    assert encoder.is_valid({**base, "opt": "rms", "size": "m"})
    assert not encoder.is_valid({**base, "opt": "rms", "size": "l"})
    assert not encoder.is_valid({**base, "opt": "adam", "size": "m"})
    assert not encoder.is_valid({**base, "opt": "adam", "size": "s", "momentum": 0.5})
    assert not encoder.is_valid({**base, "opt": "sgd", "size": "s"})


def test_sample_stays_in_the_encoding(small_space: CS.ConfigurationSpace) -> None:
    """Check that samples are in [0, 1] and categorical indices are whole."""
    encoder = Encoder(small_space)

    sample = encoder.sample(np.random.default_rng(0), 200)
    cat = encoder.is_categorical

    assert sample.shape == (200, encoder.dim)
    assert ((sample[:, ~cat] >= 0) & (sample[:, ~cat] <= 1)).all()
    assert set(np.unique(sample[:, cat])) == {0.0, 1.0, 2.0}


def test_complete_fills_a_missing_parent_so_given_values_stay_active() -> None:
    """Check that a missing parent is filled with a choice under which every given
    value stays active, and that a given value its given parent makes inactive is
    still dropped."""
    space = build_space(
        {
            "opt": ["a", "b", "c"],
            "x": {"float": (0.0, 1.0), "if": {"opt": "a"}},
            "y": (0.0, 1.0),
        }
    )
    encoder = Encoder(space)
    for seed in range(20):
        config = encoder.complete({"x": 0.3}, np.random.default_rng(seed))
        assert config["opt"] == "a"
        assert config["x"] == 0.3
    dropped = encoder.complete({"x": 0.3, "opt": "b"}, np.random.default_rng(0))
    assert "x" not in dropped
    assert dropped["opt"] == "b"


def test_a_none_choice_encodes_as_its_index_and_models_learn_it() -> None:
    """Check that None, where it is one of the choices (penalty=None), encodes as
    its choice index and decodes back, while None elsewhere stays unknown (NaN);
    a TPE then learns that the None choice is the good one."""
    from hptaa_lab.samplers import make_sampler

    space = build_space(
        {"pen": [None, "l1", "l2"], "w": {"ordinal": [None, 8, 16]}, "x": (0.0, 1.0)}
    )
    encoder = Encoder(space)
    row = encoder.encode([{"pen": None, "w": None, "x": None}])[0]
    assert row[encoder.index["pen"]] == 0.0
    assert row[encoder.index["w"]] == pytest.approx(0.5 / 3)
    assert math.isnan(row[encoder.index["x"]])
    assert encoder.decode(encoder.encode([{"pen": None, "w": 8, "x": 0.5}])[0]) == {
        "pen": None,
        "w": 8,
        "x": 0.5,
    }

    sampler = make_sampler("tpe", space, 0)
    chosen = []
    for _ in range(60):
        config = sampler.ask().config
        chosen.append(config["pen"])
        sampler.tell(config, (0.0 if config["pen"] is None else 1.0) + config["x"])
    assert chosen[-20:].count(None) >= 11  # about 7 if None were unknown
