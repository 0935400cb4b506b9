"""Tests of hptaa_lab.errors."""

from __future__ import annotations

import pickle

import pytest

from hptaa_lab.benchmarks._base import UnknownBenchmarkError
from hptaa_lab.errors import (
    HptaaError,
    StoreError,
    StudyExistsError,
    StudyNotFoundError,
    UnknownNameError,
)


@pytest.mark.parametrize(
    "error",
    [
        UnknownNameError("transfer method", "bogus", ["auto", "tpe"]),
        UnknownBenchmarkError("FCN-Z"),
        StudyNotFoundError("v9", ["v1", "v2"], "sqlite:///s.db"),
        StudyExistsError("v1", "sqlite:///s.db", notebook=True),
        StoreError("The trial store is locked."),
    ],
)
def test_errors_survive_pickling(error: HptaaError) -> None:
    """Check that every error comes back from a pickle (as from a worker
    process) with its class, message and attributes, also those whose
    __init__ takes other arguments than a message."""
    again = pickle.loads(pickle.dumps(error))

    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.__dict__ == error.__dict__
