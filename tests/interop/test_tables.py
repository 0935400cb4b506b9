"""Tests of importing previous studies from CSV files and pandas DataFrames."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import ConfigSpace as CS
import pandas as pd
import pytest

from hptaa_lab.errors import StudyExistsError, UnknownNameError
from hptaa_lab.interop import (
    ImportResult,
    InteropError,
    import_csv,
    import_dataframe,
    import_parquet,
    infer_space,
)
from hptaa_lab.records import TrialState
from hptaa_lab.space import build_space, describe, space_from_json
from hptaa_lab.store import TrialStore

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

RUNS = """\
lr,units,kernel,shrinking,loss
0.0001,16,rbf,True,0.5
0.1,256,linear,False,0.3

0.02,64,rbf,true,0.25
"""


def _write(tmp_path: Path, text: str, name: str = "runs.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def store(tmp_store_url: str) -> TrialStore:
    """An open, empty trial store."""
    with TrialStore(tmp_store_url) as opened:
        yield opened


def test_import_csv_infers_the_space_and_stores_every_row(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a CSV becomes a study whose trials are its rows, space inferred."""
    path = _write(tmp_path, RUNS)

    result = import_csv(path, "svm-v1", objective="loss", store=store)

    assert result.space_inferred and not result.dry_run
    assert (result.n_trials, result.n_skipped) == (3, 0)
    space = space_from_json(store.get_study("svm-v1").space_json)
    assert {name: describe(hp) for name, hp in space.items()} == {
        "kernel": "choice {'linear', 'rbf'}",
        "lr": "float [0.0001, 0.1] log",
        "shrinking": "choice {False, True}",
        "units": "int [16, 256]",
    }
    trials = store.get_trials("svm-v1")
    assert [(t.number, t.state, t.value, t.proposed_by) for t in trials] == [
        (0, TrialState.COMPLETE, 0.5, "csv"),
        (1, TrialState.COMPLETE, 0.3, "csv"),
        (2, TrialState.COMPLETE, 0.25, "csv"),
    ]
    assert trials[2].config == {
        "lr": 0.02,
        "units": 64,
        "kernel": "rbf",
        "shrinking": True,
    }
    assert [type(v) for v in trials[0].config.values()] == [float, int, str, bool]
    assert store.trial_attrs("svm-v1") == {
        0: {"csv_line": 2},
        1: {"csv_line": 3},
        2: {"csv_line": 5},
    }
    assert store.get_study("svm-v1").attrs == {
        "imported_from": "csv",
        "path": str(path),
        "objective": "loss",
    }


def test_infer_space_follows_the_kind_of_each_column() -> None:
    """Check ranges for numbers (log beyond two decades), choices for text."""
    frame = pd.DataFrame(
        {
            "narrow": [0.1, 0.5, 0.9],
            "two_decades": [0.01, 0.1, 1.0],
            "wide": [0.001, 0.1, 1.0],
            "negative": [-5.0, 1.0, 500.0],
            "count": [2, 8, 1000],
            "text_numbers": ["1", "2", "3"],
            "flag": [True, False, True],
            "mode": ["b", "a", "b"],
            "fixed": [3, 3, 3],
            "value": [1.0, 2.0, 3.0],
        }
    )

    space = infer_space(frame)

    described = {name: describe(hp) for name, hp in space.items()}
    assert described == {
        "narrow": "float [0.1, 0.9]",
        "two_decades": "float [0.01, 1]",
        "wide": "float [0.001, 1] log",
        "negative": "float [-5, 500]",
        "count": "int [2, 1000] log",
        "text_numbers": "int [1, 3]",
        "flag": "choice {False, True}",
        "mode": "choice {'a', 'b'}",
        "fixed": "constant 3",
    }


def test_import_with_a_given_space_checks_every_cell(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a given space is kept and values are converted to its types."""
    path = _write(tmp_path, RUNS)
    space = build_space(
        {
            "lr": (1e-5, 1.0, "log"),
            "units": (8, 512),
            "kernel": ["rbf", "linear", "poly"],
            "shrinking": [True, False],
            "seed": 0,
        }
    )

    result = import_csv(path, "v1", objective="loss", space=space, store=store)

    assert result.space_origin == ImportResult.GIVEN
    assert space_from_json(store.get_study("v1").space_json) == space
    assert store.get_trials("v1")[1].config == {
        "seed": 0,
        "lr": 0.1,
        "units": 256,
        "kernel": "linear",
        "shrinking": False,
    }


def test_import_dataframe_keeps_types_and_direction(store: TrialStore) -> None:
    """Check that a DataFrame imports with its own types and the given direction."""
    frame = pd.DataFrame(
        {"depth": [3, 5, 8], "criterion": ["gini", "gini", "entropy"]},
        index=["a", "b", "c"],
    )
    frame["accuracy"] = [0.8, 0.85, 0.9]

    import_dataframe(
        frame, "trees", objective="accuracy", direction="maximize", store=store
    )

    study = store.get_study("trees")
    assert study.direction == "maximize"
    best = store.best_trial("trees")
    assert best is not None and best.config == {"depth": 8, "criterion": "entropy"}
    assert store.trial_attrs("trees")[0] == {"dataframe_row": "a"}


def test_exported_layout_keeps_only_complete_rows(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that params_ columns are the configuration and non-COMPLETE rows skip."""
    path = _write(
        tmp_path,
        """\
        number,state,value,proposed_by,started_at,finished_at,params_x,params_k
        0,COMPLETE,0.5,tpe,2024-02-01 10:00:00+00:00,2024-02-01 10:01:30.250000+00:00,1.5,a
        1,FAIL,,tpe,2024-02-01 10:02:00+00:00,2024-02-01 10:02:01+00:00,2.5,b
        2,RUNNING,,tpe,2024-02-01 10:03:00+00:00,,3.5,a
        3,COMPLETE,0.25,random,,,4.5,b
        """,
    )

    result = import_csv(path, "old", store=store)

    assert (result.n_trials, result.n_skipped) == (2, 2)
    first, second = store.get_trials("old")
    assert first.config == {"x": 1.5, "k": "a"}
    assert (first.proposed_by, second.proposed_by) == ("tpe", "random")
    assert first.started_at == pd.Timestamp("2024-02-01 10:00:00+00:00")
    assert first.finished_at == pd.Timestamp("2024-02-01 10:01:30.25+00:00")
    assert second.started_at is None
    assert store.trial_attrs("old") == {0: {"csv_line": 2}, 1: {"csv_line": 5}}


def test_csv_with_bad_cells_imports_nothing_and_names_each_cell(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that unparsable and missing cells are listed by line and column."""
    path = _write(
        tmp_path,
        """\
        lr,units,kernel,loss
        0.001,16,rbf,0.5
        abc,32,linear,0.3
        0.01,,rbf,
        0.02,0x10,rbf,inf
        0.03,40,linear,slow
        """,
    )

    with pytest.raises(InteropError) as raised:
        import_csv(path, "v1", objective="loss", store=store)

    assert str(raised.value).splitlines()[:7] == [
        f"Cannot import {path}: 6 problems, so nothing was imported.",
        "  line 3, column 'lr': 'abc' is not a number",
        "  line 4, column 'units': missing value",
        "  line 4, column 'loss': missing objective value",
        "  line 5, column 'units': '0x10' is not a number",
        "  line 5, column 'loss': inf is not a finite number",
        "  line 6, column 'loss': 'slow' is not a number",
    ]
    assert not store.has_study("v1")


def test_problems_name_the_line_a_record_starts_on(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a quoted cell holding line breaks (hptaa export writes such a
    choice so) does not shift the line numbers of later problems, that a line
    of spaces is no row, and that a text objective gets no advice about rows
    without an objective value."""
    path = tmp_path / "runs.csv"
    path.write_text('kernel,loss\n"multi\nline",0.1\nrbf,0.2\n   \nrbf,slow\n')

    with pytest.raises(InteropError) as raised:
        import_csv(path, "v1", objective="loss", store=store)

    assert "  line 6, column 'loss': 'slow' is not a number" in str(raised.value)
    assert "without an objective value" not in str(raised.value)


def test_csv_values_outside_a_given_space_are_refused(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a given space refuses values outside its ranges and choices."""
    path = _write(tmp_path, RUNS.replace("0.02,64", "0.02,6.5"))
    space = build_space(
        {"lr": (1e-3, 1.0), "units": (8, 128), "kernel": ["rbf"], "shrinking": [True]}
    )

    with pytest.raises(InteropError) as raised:
        import_csv(path, "v1", objective="loss", space=space, store=store)

    assert str(raised.value).splitlines()[1:6] == [
        "  line 2, column 'lr': 0.0001 is outside [0.001, 1]",
        "  line 3, column 'units': 256 is outside [8, 128]",
        "  line 3, column 'kernel': 'linear' is not one of the choices 'rbf'",
        "  line 3, column 'shrinking': 'False' is not one of the choices True",
        "  line 5, column 'units': 6.5 is not an integer",
    ]
    assert not store.has_study("v1")


def test_conditions_of_a_given_space_allow_empty_inactive_cells(
    tmp_path: Path, store: TrialStore, cond_space: CS.ConfigurationSpace
) -> None:
    """Check that an inactive hyperparameter may be empty, an active one not."""
    good = _write(
        tmp_path,
        """\
        opt,momentum,lr,units,size,value
        sgd,0.9,0.01,32,s,1.0
        adam,,0.001,64,l,0.5
        """,
    )
    bad = _write(
        tmp_path,
        """\
        opt,momentum,lr,units,size,value
        sgd,,0.01,32,s,1.0
        adam,0.5,0.001,64,l,0.5
        rms,,0.001,64,l,0.7
        """,
        name="bad.csv",
    )

    import_csv(good, "ok", space=cond_space, store=store)
    with pytest.raises(InteropError) as raised:
        import_csv(bad, "bad", space=cond_space, store=store)

    assert store.get_trials("ok")[1].config == {
        "one": "only",
        "seed": 7,
        "opt": "adam",
        "lr": 0.001,
        "units": 64,
        "size": "l",
    }
    lines = str(raised.value).splitlines()
    assert lines[0].endswith("3 problems, so nothing was imported.")
    assert lines[1].startswith("  line 2: not a valid configuration: ")
    assert lines[2].startswith("  line 3: not a valid configuration: ")
    assert lines[3].startswith("  line 4: not a valid configuration: ")
    assert not store.has_study("bad")


def test_missing_objective_column_says_which_columns_exist(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a CSV without the objective column names the columns it has."""
    path = _write(tmp_path, RUNS)

    with pytest.raises(
        InteropError,
        match=re.escape(
            f"Cannot import {path}: it has no objective column 'value'; its columns "
            "are 'lr', 'units', 'kernel', 'shrinking', 'loss'. Name the column that "
            "holds the objective value (objective= in Python, --objective on the "
            "command line)."
        ),
    ):
        import_csv(path, "v1", store=store)
    assert store.list_studies() == []


def test_missing_configuration_columns_are_named(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that columns asked for, or needed by a space, must exist."""
    path = _write(tmp_path, RUNS)

    with pytest.raises(
        InteropError,
        match=r"it has no column for 'depth', 'gamma'; its columns are 'lr', "
        r"'units', 'kernel', 'shrinking', 'loss'\. Name the configuration columns",
    ):
        import_csv(
            path, "v1", objective="loss", columns=["lr", "depth", "gamma"], store=store
        )
    with pytest.raises(InteropError, match=r"it has no column for 'gamma'; its"):
        import_csv(
            path,
            "v1",
            objective="loss",
            space={"lr": (1e-5, 1.0), "gamma": (0.0, 1.0)},
            store=store,
        )
    with pytest.raises(
        InteropError,
        match=r"'units' are not hyperparameters of the given search space, whose "
        r"hyperparameters are 'lr'\.",
    ):
        import_csv(
            path,
            "v1",
            objective="loss",
            columns=["lr", "units"],
            space={"lr": (1e-5, 1.0)},
            store=store,
        )
    assert store.list_studies() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("a,loss\n1,2,3\n", "it is not a readable CSV file"),
        ("a,loss\n1,2\n3,4,5\n", r"Expected 2 fields in line 3, saw 3"),
        ("a,loss\n", "it has no rows, only the column names"),
    ],
)
def test_unreadable_csv_files_are_refused(
    tmp_path: Path, store: TrialStore, text: str, message: str
) -> None:
    """Check that an empty, ragged or header-only file gives a clear error."""
    path = _write(tmp_path, text)

    with pytest.raises(InteropError, match=message):
        import_csv(path, "v1", objective="loss", store=store)


def test_exported_table_without_a_complete_row_is_refused(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that an exported table whose rows are all in other states says so
    (not that it has no rows)."""
    path = _write(tmp_path, "params_a,value,state\n1,2,FAIL\n3,,RUNNING\n")

    with pytest.raises(InteropError, match=r"no COMPLETE row \(2 rows are in other"):
        import_csv(path, "v1", store=store)


def test_folder_is_refused_as_a_table(tmp_path: Path, store: TrialStore) -> None:
    """Check that a folder named like a table is refused as a folder (pandas
    would read an empty folder as one empty table), except a Parquet dataset
    folder that holds files."""
    for name in ("x.csv", "x.parquet"):
        (tmp_path / name).mkdir()
    with pytest.raises(InteropError, match=r"x\.csv: it is a folder"):
        import_csv(tmp_path / "x.csv", "v1", store=store)
    pytest.importorskip("pyarrow")
    with pytest.raises(InteropError, match=r"x\.parquet: it is an empty folder"):
        import_parquet(tmp_path / "x.parquet", "v1", store=store)
    # A partitioned Parquet dataset is a folder of files, and imports.
    frame = pd.DataFrame(
        {"a": [0.1, 0.2, 0.3], "value": [1.0, 2.0, 3.0], "b": [1, 1, 2]}
    )
    frame.to_parquet(tmp_path / "parts.parquet", partition_cols=["b"])
    result = import_parquet(tmp_path / "parts.parquet", "v1", store=store)
    assert result.n_trials == 3


def test_missing_file_is_refused(tmp_path: Path, store: TrialStore) -> None:
    """Check that a CSV path that does not exist is named in the error."""
    with pytest.raises(InteropError, match=r"nope\.csv: no such file"):
        import_csv(tmp_path / "nope.csv", "v1", store=store)


def test_dry_run_writes_nothing_and_checks_the_name(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a dry run returns the inferred space and writes nothing."""
    path = _write(tmp_path, RUNS)

    result = import_csv(path, "v1", objective="loss", dry_run=True, store=store)

    assert result.dry_run and result.n_trials == 3
    assert result.study.created_at is None
    assert list(result.space) == ["kernel", "lr", "shrinking", "units"]
    assert "Would import 3 trials as study 'v1' (minimize)." in result.format()
    assert "  lr         float [0.0001, 0.1] log" in result.format()
    assert store.list_studies() == []
    import_csv(path, "v1", objective="loss", store=store)
    with pytest.raises(StudyExistsError, match="A study named 'v1' already exists"):
        import_csv(path, "v1", objective="loss", dry_run=True, store=store)
    # An import cannot resume a study: the advice is another name.
    with pytest.raises(StudyExistsError, match="Import under another name") as info:
        import_csv(path, "v1", objective="loss", store=store)
    assert "load_study" not in str(info.value)


def test_bad_name_and_direction_are_refused(tmp_path: Path, store: TrialStore) -> None:
    """Check that the study name and direction are checked first."""
    path = _write(tmp_path, RUNS)

    with pytest.raises(ValueError, match="A study name must be a non-empty string"):
        import_csv(path, " ", objective="loss", store=store)
    with pytest.raises(UnknownNameError, match="Unknown direction 'up'"):
        import_csv(path, "v1", objective="loss", direction="up", store=store)
    assert store.list_studies() == []


def test_imported_study_is_a_previous_study_for_transfer(
    tmp_path: Path, tmp_store_url: str
) -> None:
    """Check that a new study can transfer from an imported one and run trials."""
    from hptaa_lab import create_study

    path = _write(tmp_path, RUNS)
    import_csv(path, "svm-v1", objective="loss", store=tmp_store_url)
    space = build_space({"lr": (1e-4, 1e-1, "log"), "kernel": ["rbf", "linear"]})

    study = create_study(
        "svm-v2", space, previous="svm-v1", store=tmp_store_url, seed=0
    )
    study.optimize(lambda c: c["lr"] * (1 if c["kernel"] == "rbf" else 2), n_trials=3)

    assert study.previous == "svm-v1"
    assert len(study.trials) == 3
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    study.close()


def test_infinite_parameter_value_is_reported_and_nothing_imported(
    tmp_path: Path,
) -> None:
    """Check that a parameter cell too big for a float is a per-line error."""
    path = tmp_path / "inf.csv"
    path.write_text("lr,val_error\n1e400,0.5\n0.1,0.3\n")
    url = f"sqlite:///{tmp_path / 'inf.db'}"
    with pytest.raises(InteropError, match="inf is not a finite number"):
        import_csv(path, "s_inf", objective="val_error", store=url)
    assert not TrialStore(url).has_study("s_inf")


def test_repeated_column_name_is_refused(tmp_path: Path) -> None:
    """Check that a header naming a column twice is an error, not a made-up
    hyperparameter 'lr.1'."""
    path = tmp_path / "dup.csv"
    path.write_text("lr,lr,val_error\n0.1,0.2,0.5\n")
    url = f"sqlite:///{tmp_path / 'dup.db'}"
    with pytest.raises(InteropError, match=r"names the column\(s\) \['lr'\] more"):
        import_csv(path, "s_dup", objective="val_error", store=url)
    assert not TrialStore(url).has_study("s_dup")


@pytest.mark.parametrize("columns", [["x", "x", "value"], [1, "1", "value"]])
def test_a_dataframe_with_a_repeated_column_name_is_refused(
    store: TrialStore, columns: list[object]
) -> None:
    """Check that a DataFrame naming a column twice (1 and '1' count as one name)
    is an error naming it, not an AttributeError from pandas."""
    frame = pd.DataFrame([[1, 2, 0.5]], columns=columns)

    with pytest.raises(InteropError, match="more than one column named"):
        import_dataframe(frame, "dup", store=store)


def test_two_columns_that_could_be_the_state_are_refused(store: TrialStore) -> None:
    """Check that state and STATE together are an error rather than one of them
    picked (a FAIL row was imported as COMPLETE)."""
    frame = pd.DataFrame(
        {"x": [1, 2], "state": ["COMPLETE"] * 2, "STATE": ["FAIL", "COMPLETE"]}
    )
    frame["value"] = [0.5, 0.4]

    with pytest.raises(InteropError, match=r"\['state', 'STATE'\] could each be"):
        import_dataframe(frame, "two", store=store)


@pytest.mark.parametrize(
    ("cells", "inferred"),
    [
        ([0.3, 0.30000000000000004], "float"),
        ([1e308, -1e308], None),
        ([1e-320, 1.0], None),
        ([-(2**63), 2**63 - 1], None),
    ],
)
def test_columns_configspace_refuses_are_problems_or_widened(
    store: TrialStore, cells: list[float], inferred: str | None
) -> None:
    """Check that values ConfigSpace cannot make a range of are either covered by
    a slightly wider one (near-equal floats) or reported as a problem of their
    column, never a ConfigSpace traceback."""
    frame = pd.DataFrame({"x": cells, "value": [0.5, 0.4]})

    if inferred is not None:
        space = infer_space(frame)
        assert all(space["x"].legal_value(v) for v in cells)
        return
    with pytest.raises(
        InteropError, match=r"column 'x': cannot be inferred as a hyperparameter"
    ):
        import_dataframe(frame, "odd", store=store)


def test_full_precision_values_stay_inside_the_inferred_range(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that columns of full-precision floats (as an export writes them)
    import: ConfigSpace rounds range bounds, and the inferred range must still
    hold the smallest and largest values."""
    frame = pd.DataFrame(
        {
            "C": [0.062319047110521904, 3.7, 862.7531234567891],
            "gamma": [0.00016576512345678, 0.01, 0.11650677907562479],
            "eps": [0.010083212345, 0.2, 0.55097812345678],
            "value": [0.3, 0.2, 0.1],
        }
    )
    space = infer_space(frame)
    for name in ("C", "gamma", "eps"):
        assert all(space[name].legal_value(v) for v in frame[name])
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    result = import_csv(path, "full-precision", store=store)
    assert result.n_trials == 3


def test_a_column_of_times_is_a_problem_not_a_crash(store: TrialStore) -> None:
    """Check that inferring a space from a column a search space cannot hold
    (timestamps) names the column and how to leave it out."""
    frame = pd.DataFrame(
        {
            "lr": [0.1, 0.2],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "value": [0.5, 0.4],
        }
    )

    with pytest.raises(
        InteropError, match=r"'when'.*holds Timestamp values.*--columns"
    ):
        import_dataframe(frame, "t", store=store)
    assert import_dataframe(frame, "t", columns=["lr"], store=store).n_trials == 2
    # Lists (a Parquet list column) and ints beyond 64 bits are refused the same way.
    odd = pd.DataFrame({"l": [[1, 2], [2]], "big": [2**70, 1], "value": [0.5, 0.4]})
    with pytest.raises(InteropError) as info:
        import_dataframe(odd, "odd", store=store)
    assert "'l': holds list values" in str(info.value)
    assert "'big': holds integers beyond 64 bits" in str(info.value)


@pytest.mark.parametrize("columns", [None, ["C", "kernel"]])
def test_a_hand_made_state_column_keeps_the_complete_rows(
    tmp_path: Path, store: TrialStore, columns: list[str] | None
) -> None:
    """Check that a state column of trial states in a hand-made CSV skips the
    rows that are not COMPLETE (a failed trial has no value), as in an exported
    one, and is not inferred as a hyperparameter."""
    path = _write(
        tmp_path,
        """\
        C,kernel,accuracy,state
        0.1,rbf,0.91,COMPLETE
        1.0,rbf,0.95,complete
        3,rbf,,FAIL
        """,
    )

    result = import_csv(path, "v1", objective="accuracy", columns=columns, store=store)

    assert (result.n_trials, result.n_skipped) == (2, 1)
    assert sorted(space_from_json(store.get_study("v1").space_json)) == ["C", "kernel"]


@pytest.mark.parametrize("cell", ["FAILED", "", "finished"])
def test_a_state_cell_that_is_no_trial_state_is_refused(
    tmp_path: Path, store: TrialStore, cell: str
) -> None:
    """Check that a state column (any case) is never guessed as a hyperparameter
    and that a cell that is no trial state (another tool's word, a blank) is
    refused with the words to use, instead of importing a failed row."""
    path = _write(tmp_path, f"lr,loss,State\n0.1,0.5,COMPLETE\n0.01,9.9,{cell}\n")

    with pytest.raises(InteropError) as info:
        import_csv(path, "v1", objective="loss", store=store)

    message = str(info.value)
    assert (
        "its column 'State' holds values that are no trial state (line 3: "
        + ("blank" if cell == "" else repr(cell))
        + ")"
        in message
    )
    assert "Write COMPLETE for a finished trial and FAIL for one that failed" in message
    assert store.list_studies() == []


def test_a_state_hyperparameter_is_imported_when_named_in_columns(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a hyperparameter named state is imported as one when the
    columns name it, and is refused as a state column otherwise."""
    path = _write(tmp_path, "lr,state,loss\n0.1,CA,0.5\n0.2,NY,0.4\n")

    with pytest.raises(InteropError, match="no trial state"):
        import_csv(path, "v1", objective="loss", store=store)
    result = import_csv(
        path, "v1", objective="loss", columns=["lr", "state"], store=store
    )

    assert (result.n_trials, result.n_skipped) == (2, 0)
    space = space_from_json(store.get_study("v1").space_json)
    assert sorted(space) == ["lr", "state"]


def test_a_row_without_an_objective_value_says_how_to_skip_it(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a missing objective value without a state column is refused
    with the way to mark the row as failed."""
    path = _write(tmp_path, "C,loss\n0.1,0.5\n3,\n")

    with pytest.raises(InteropError) as info:
        import_csv(path, "v1", objective="loss", store=store)

    message = str(info.value)
    assert "line 3, column 'loss': missing objective value" in message
    assert "add a 'state' column (COMPLETE, or FAIL for such rows)" in message
    assert store.list_studies() == []


def test_codes_with_leading_zeros_are_choices_not_numbers(
    tmp_path: Path, store: TrialStore
) -> None:
    """Check that a column of codes such as "007" is inferred as choices of
    text, each kept as written ("007" and "7" were merged into the int 7)."""
    path = _write(tmp_path, "code,n,loss\n007,1,0.5\n7,2,0.3\n08,3,0.2\n")

    import_csv(path, "codes", objective="loss", store=store)

    space = space_from_json(store.get_study("codes").space_json)
    assert describe(space["code"]) == "choice {'007', '08', '7'}"
    assert describe(space["n"]) == "int [1, 3]"
    assert [t.config["code"] for t in store.get_trials("codes")] == ["007", "7", "08"]


def test_decimal_and_fraction_cells_import_as_floats(store: TrialStore) -> None:
    """Check that a DataFrame of Decimal or Fraction cells (a database's numeric
    column) imports as floats, as a study stores an objective that returns one
    ("Decimal('0.5') is not a number" refused it)."""
    from decimal import Decimal
    from fractions import Fraction

    frame = pd.DataFrame(
        {
            "lr": [Decimal("0.1"), Decimal("0.2")],
            "w": [Fraction(1, 4), Fraction(1, 2)],
            "loss": [Decimal("0.5"), Decimal("0.25")],
        }
    )

    import_dataframe(frame, "dec", objective="loss", store=store)

    trials = store.get_trials("dec")
    assert [(t.config, t.value) for t in trials] == [
        ({"lr": 0.1, "w": 0.25}, 0.5),
        ({"lr": 0.2, "w": 0.5}, 0.25),
    ]
    # A signalling NaN is a missing value, as NaN is (float() refuses it).
    frame.loc[1, "loss"] = Decimal("sNaN")
    with pytest.raises(InteropError, match="row 1, column 'loss'"):
        import_dataframe(frame, "dec-nan", objective="loss", store=store)
