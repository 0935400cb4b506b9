"""Tests of exporting a study as a DataFrame, a CSV file and a Parquet file."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hptaa_lab.errors import StudyNotFoundError
from hptaa_lab.interop import (
    InteropError,
    export_csv,
    export_dataframe,
    export_parquet,
    import_csv,
    import_parquet,
)
from hptaa_lab.records import StudyRecord, TrialRecord, TrialState
from hptaa_lab.space import build_space, space_from_json, space_to_json
from hptaa_lab.store import TrialStore

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

T0 = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
SPACE = build_space(
    {
        "opt": ["sgd", "adam"],
        "momentum": {"float": (0.0, 0.99), "if": {"opt": "sgd"}},
        "lr": (1e-4, 1e-1, "log"),
        "units": (16, 256),
    }
)


@pytest.fixture
def store(tmp_store_url: str) -> TrialStore:
    """A store holding study 'v1': three COMPLETE, one FAIL and one RUNNING trial."""
    configs = [
        {"opt": "sgd", "momentum": 0.9, "lr": 0.01, "units": 32},
        {"opt": "adam", "lr": 0.001, "units": 64},
        {"opt": "adam", "lr": 0.0123456789012345, "units": 16},
        {"opt": "sgd", "momentum": 0.5, "lr": 0.1, "units": 256},
    ]
    trials = [
        TrialRecord(
            number=i,
            config=config,
            state=TrialState.FAIL if value is None else TrialState.COMPLETE,
            value=value,
            error=None if value is not None else "diverged",
            started_at=T0 + timedelta(minutes=i),
            finished_at=T0 + timedelta(minutes=i, seconds=30),
            proposed_by="random" if i == 0 else "tpe",
        )
        for i, (config, value) in enumerate(
            zip(configs, [0.4, None, 1 / 3, 0.2], strict=True)
        )
    ]
    with TrialStore(tmp_store_url) as opened:
        opened.import_study(StudyRecord("v1", space_to_json(SPACE)), trials)
        opened.start_trial("v1", {"opt": "adam", "lr": 0.05, "units": 100}, "tpe")
        yield opened


def test_export_dataframe_has_a_row_per_trial_and_a_column_per_hyperparameter(
    store: TrialStore,
) -> None:
    """Check the layout: trial columns, then params_<name> in the space's order."""
    frame = export_dataframe("v1", store=store)

    assert list(frame.columns) == [
        "number",
        "state",
        "value",
        "proposed_by",
        "started_at",
        "finished_at",
        "duration_s",
        "error",
        "params_lr",
        "params_opt",
        "params_units",
        "params_momentum",
    ]
    assert frame["number"].tolist() == [0, 1, 2, 3, 4]
    assert frame["state"].tolist() == [
        "COMPLETE",
        "FAIL",
        "COMPLETE",
        "COMPLETE",
        "RUNNING",
    ]
    assert pd.isna(frame["error"][0]) and frame["error"][1] == "diverged"
    assert frame["duration_s"].tolist()[:4] == [30.0] * 4
    assert str(frame["started_at"].dtype).endswith(", UTC]")
    assert frame["started_at"][0] == pd.Timestamp(T0)
    assert pd.isna(frame["finished_at"][4])
    assert frame["params_momentum"][0] == 0.9
    assert pd.isna(frame["params_momentum"][1])
    assert frame["params_units"].tolist() == [32, 64, 16, 256, 100]


def test_csv_export_then_import_gives_the_same_complete_trials(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check the CSV round trip: values, times and proposers of COMPLETE trials."""
    path = export_csv("v1", tmp_path / "v1.csv", store=store)
    space = space_from_json(store.get_study("v1").space_json)

    result = import_csv(path, "v1-again", space=space, store=store)

    assert (result.n_trials, result.n_skipped) == (3, 2)
    complete = store.get_trials("v1", states=[TrialState.COMPLETE])
    assert store.get_trials("v1-again") == [
        replace(t, number=i) for i, t in enumerate(complete)
    ]


def test_conditional_integer_column_is_written_without_decimals(
    tmp_path: Path, tmp_store_url: str
) -> None:
    """Check that an integer hyperparameter that some trials leave out (a
    conditional one) is written as 3, not 3.0, and reads back as the same ints."""
    space = build_space(
        {
            "kernel": ["rbf", "poly"],
            "degree": {"int": (2, 5), "if": {"kernel": "poly"}},
        }
    )
    configs = [{"kernel": "poly", "degree": 3}, {"kernel": "rbf"}]
    with TrialStore(tmp_store_url) as opened:
        opened.import_study(
            StudyRecord("svm", space_to_json(space)),
            [
                TrialRecord(i, c, TrialState.COMPLETE, value=0.5)
                for i, c in enumerate(configs)
            ],
        )
        frame = export_dataframe("svm", store=opened)
        path = export_csv("svm", tmp_path / "svm.csv", store=opened)
        result = import_csv(path, "svm-again", space=space, store=opened)
        again = opened.get_trials("svm-again")

    assert str(frame["params_degree"].dtype) == "Int64"
    # Ints beyond int64 stay as they were (Int64 cannot hold them).
    from hptaa_lab.interop._export import _whole_with_gaps

    assert _whole_with_gaps([3, None]) and not _whole_with_gaps([2**64, None])
    assert path.read_text().splitlines()[1].endswith(",poly,3")
    assert result.n_trials == 2
    assert [t.config for t in again] == configs


@pytest.mark.parametrize(
    ("space", "configs"),
    [
        (
            {"class_weight": [None, "balanced"], "C": (0.01, 1.0)},
            [{"class_weight": None, "C": 0.1}, {"class_weight": "balanced", "C": 0.5}],
        ),
        (
            {"k": ["p", "q"], "a": {"choices": [None, "x"], "if": {"k": "p"}}},
            [{"k": "p", "a": None}, {"k": "q"}, {"k": "p", "a": "x"}],
        ),
        (
            {"depth": {"ordinal": [None, 4, 8]}, "C": (0.01, 1.0)},
            [{"depth": None, "C": 0.1}, {"depth": 8, "C": 0.5}],
        ),
    ],
    ids=["plain", "conditional", "ordinal"],
)
def test_a_none_choice_survives_the_csv_round_trip(
    tmp_path: Path,
    tmp_store_url: str,
    space: dict[str, Any],
    configs: list[dict[str, Any]],
) -> None:
    """Check that a categorical or ordinal whose values include None (written as an
    empty cell) imports back as None with the space, instead of a missing value; a
    conditional one as None where it is active and as nothing where it is not."""
    built = build_space(space)
    with TrialStore(tmp_store_url) as opened:
        opened.import_study(
            StudyRecord("lr", space_to_json(built)),
            [
                TrialRecord(i, c, TrialState.COMPLETE, value=0.5)
                for i, c in enumerate(configs)
            ],
        )
        path = export_csv("lr", tmp_path / "lr.csv", store=opened)
        import_csv(path, "lr-again", space=built, store=opened)
        again = opened.get_trials("lr-again")
        if "class_weight" in space:
            # Without the space, the empty cell is a missing value: the error
            # says what it may be and what to pass.
            with pytest.raises(InteropError, match=r"lists None among its"):
                import_csv(path, "lr-inferred", store=opened)

    assert [t.config for t in again] == configs


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_choices_a_table_writes_alike_are_refused_not_swapped(
    tmp_path: Path, tmp_store_url: str, kind: str
) -> None:
    """Check that an import never swaps a choice for another that a table writes
    as the same text (7 became "7", True "True", "" None): such cells are
    refused, saying what to use; blank-string choices that a table keeps apart
    ("" and " ") come back exactly."""
    if kind == "parquet":
        pytest.importorskip("pyarrow")
    write = export_csv if kind == "csv" else export_parquet
    read = import_csv if kind == "csv" else import_parquet
    with TrialStore(tmp_store_url) as opened:
        for name, choices in (
            ("alike", [None, "", 7, "7", True, "True", "a"]),
            ("blank", ["", " ", "a"]),
        ):
            space = build_space({"c": choices})
            configs = [{"c": c} for c in choices]
            opened.import_study(
                StudyRecord(name, space_to_json(space)),
                [
                    TrialRecord(i, c, TrialState.COMPLETE, value=0.5)
                    for i, c in enumerate(configs)
                ],
            )
            path = write(name, tmp_path / f"{name}.{kind}", store=opened)
            if name == "alike":
                with pytest.raises(
                    InteropError, match="which a table writes as the same text"
                ):
                    read(path, f"{name}-again", space=space, store=opened)
                assert not opened.has_study(f"{name}-again")
            else:
                read(path, f"{name}-again", space=space, store=opened)
                again = opened.get_trials(f"{name}-again")
                assert [t.config for t in again] == configs


def test_parquet_export_reads_back_as_the_dataframe(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that the Parquet file holds the exported DataFrame."""
    pytest.importorskip("pyarrow")

    path = export_parquet("v1", tmp_path / "v1.parquet", store=store)

    back = pd.read_parquet(path)
    expected = export_dataframe("v1", store=store)
    assert list(back.columns) == list(expected.columns)
    assert back["value"].equals(expected["value"])
    assert back["params_opt"].tolist() == expected["params_opt"].tolist()
    assert back["params_units"].tolist() == [32, 64, 16, 256, 100]
    assert (back["started_at"] == expected["started_at"]).all()


def test_parquet_writes_a_column_of_mixed_types_as_text(
    tmp_path: Path, tmp_store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a categorical of ints and text is written as text, with a warning."""
    pytest.importorskip("pyarrow")
    space = build_space({"max_features": [1, "sqrt"], "depth": (1, 9)})
    with TrialStore(tmp_store_url) as opened:
        opened.create_study(StudyRecord("trees", space_to_json(space)))
        for i, choice in enumerate([1, "sqrt"]):
            trial = opened.start_trial(
                "trees", {"max_features": choice, "depth": 3}, "x"
            )
            opened.finish_trial("trees", trial.number, TrialState.COMPLETE, float(i))

        path = export_parquet("trees", tmp_path / "t.parquet", store=opened)

    assert pd.read_parquet(path)["params_max_features"].tolist() == ["1", "sqrt"]
    assert "Column params_max_features holds values of several types" in caplog.text


def test_parquet_without_pyarrow_names_the_extra(
    tmp_path: Path, store: TrialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that without pyarrow the error says which extra to install."""
    monkeypatch.setitem(sys.modules, "pyarrow", None)

    with pytest.raises(
        InteropError,
        match=r"Writing Parquet files needs the pyarrow package, an optional extra of "
        r"hptaa_lab: pip install 'hptaa_lab\[parquet\]'\.",
    ):
        export_parquet("v1", tmp_path / "v1.parquet", store=store)
    assert not (tmp_path / "v1.parquet").exists()


def test_export_to_a_missing_folder_or_study_is_refused(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that an unwritable path and an unknown study give clear errors."""
    target = tmp_path / "no" / "such" / "v1.csv"

    with pytest.raises(InteropError, match=rf"Cannot write {target}: "):
        export_csv("v1", target, store=store)
    with pytest.raises(StudyNotFoundError, match="No study named 'v9'"):
        export_csv("v9", tmp_path / "v9.csv", store=store)


def test_an_interrupted_export_leaves_no_partial_file(
    tmp_path: Path, store: TrialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a Ctrl-C while the file is written leaves neither a truncated
    file (it imported as fewer trials without a word) nor a temporary one, and
    that an existing file stays as it was."""
    real = pd.DataFrame.to_csv

    def half_then_interrupt(frame: pd.DataFrame, path: Any, **kwargs: Any) -> None:
        real(frame.head(2), path, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_interrupt)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "v1.csv"
    with pytest.raises(KeyboardInterrupt):
        export_csv("v1", target, store=store)
    assert list(folder.iterdir()) == []

    target.write_text("kept\n")
    with pytest.raises(KeyboardInterrupt):
        export_csv("v1", target, store=store)
    assert target.read_text() == "kept\n"
    assert [p.name for p in folder.iterdir()] == ["v1.csv"]

    monkeypatch.setattr(pd.DataFrame, "to_csv", real)
    export_csv("v1", target, store=store)
    assert len(pd.read_csv(target)) == len(store.get_trials("v1"))


def test_export_accepts_a_study_object(tmp_store_url: str) -> None:
    """Check that a Study can be exported without naming its store."""
    from hptaa_lab import create_study

    study = create_study("live", {"x": (0.0, 1.0)}, store=tmp_store_url, seed=0)
    study.optimize(lambda c: c["x"] ** 2, n_trials=2)

    frame = export_dataframe(study)

    assert frame["number"].tolist() == [0, 1]
    assert frame["value"].tolist() == [t.value for t in study.trials]
    study.close()
