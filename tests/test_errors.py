"""Tests of hptaa_lab.errors."""

from __future__ import annotations

import pickle
from pathlib import Path

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


def test_study_not_found_lists_a_dozen_studies_and_the_closest_name() -> None:
    """Check that a missing study's error names at most 12 existing studies,
    says how many more there are, and suggests the closest name."""
    existing = [f"svm-r{i}-v2" for i in range(18)] + ["quick-v1"]

    text = str(StudyNotFoundError("quick-v2", existing, "sqlite:///s.db"))

    assert "svm-r11-v2 and 7 more (`hptaa studies` lists them all)." in text
    assert "svm-r12-v2" not in text
    assert text.endswith("Did you mean 'quick-v1'?")
    assert str(StudyNotFoundError("v9", [])).endswith("(the store is empty).")


def test_study_exists_names_the_store_unless_it_is_this_folders_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that the advice to resume leaves store= out only for the default
    store of the working folder, not for another project's .hptaa/studies.db
    (load_study there would look in the wrong store)."""
    monkeypatch.chdir(tmp_path)
    here = f"sqlite:///{tmp_path / '.hptaa' / 'studies.db'}"
    elsewhere = "sqlite:////other/project/.hptaa/studies.db"

    assert "load_study('v1')" in str(StudyExistsError("v1", here))
    assert f"load_study('v1', store={elsewhere!r})" in str(
        StudyExistsError("v1", elsewhere)
    )
