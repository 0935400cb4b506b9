"""Tests of the ``hptaa import`` and ``hptaa export`` subcommands."""

from __future__ import annotations

import argparse
import importlib.util
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from hptaa_lab.interop import InteropError
from hptaa_lab.interop._cli import add_parsers
from hptaa_lab.space import build_space, space_to_json
from hptaa_lab.store import TrialStore

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

RUNS = """\
lr,units,kernel,loss
0.001,16,rbf,0.5
0.1,256,linear,0.3
0.02,64,rbf,0.25
"""


def _run(store_url: str, *argv: str | Path) -> int:
    """Parse and run one subcommand the way ``hptaa`` does, --store after it."""
    parser = argparse.ArgumentParser(prog="hptaa")
    parser.add_argument("--store", default=None)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", default=argparse.SUPPRESS)
    add_parsers(parser.add_subparsers(dest="command", required=True), [common])
    args = parser.parse_args([*map(str, argv), "--store", store_url])
    status: int = args.handler(args)
    return status


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A CSV file of three trials, objective in 'loss'."""
    path = tmp_path / "runs.csv"
    path.write_text(RUNS)
    return path


def test_import_dry_run_shows_the_inferred_space_and_writes_nothing(
    tmp_path: Path, tmp_store_url: str, runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --dry-run prints the inferred space and imports nothing."""
    status = _run(
        tmp_store_url, "import", runs, "svm", "--objective", "loss", "--dry-run"
    )

    assert status == 0
    assert capsys.readouterr().out == textwrap.dedent(
        """\
        Search space (inferred from the data):
          kernel  choice {'linear', 'rbf'}
          lr      float [0.001, 0.1]
          units   int [16, 256]

        Would import 3 trials as study 'svm' (minimize).
        """
    )
    assert not (tmp_path / "studies.db").exists()


def test_import_csv_with_columns_direction_and_space(
    tmp_path: Path, tmp_store_url: str, runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --columns, --direction and --space reach the import."""
    space_file = tmp_path / "space.json"
    space_file.write_text(space_to_json(build_space({"lr": (1e-4, 1.0, "log")})))

    status = _run(
        tmp_store_url,
        "import",
        runs,
        "svm",
        "--objective",
        "loss",
        "--columns",
        "lr",
        "--direction",
        "maximize",
        "--space",
        space_file,
    )

    assert status == 0
    out = capsys.readouterr().out
    assert out.startswith("Search space (given):\n  lr  float [0.0001, 1] log\n")
    assert "Imported 3 trials as study 'svm' (maximize)." in out
    with TrialStore(tmp_store_url) as store:
        best = store.best_trial("svm")
        assert best is not None and best.config == {"lr": 0.001}


def test_export_writes_csv_parquet_and_optuna_by_output(
    tmp_path: Path, tmp_store_url: str, runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that the output's form picks the format, and the results read back."""
    pytest.importorskip("pyarrow")
    pytest.importorskip("optuna")
    _run(tmp_store_url, "import", runs, "svm", "--objective", "loss")
    optuna_url = f"sqlite:///{tmp_path / 'optuna.db'}"
    capsys.readouterr()

    assert _run(tmp_store_url, "export", "svm", tmp_path / "svm.csv") == 0
    assert _run(tmp_store_url, "export", "svm", tmp_path / "svm.parquet") == 0
    assert _run(tmp_store_url, "export", "svm", optuna_url) == 0
    assert _run(tmp_store_url, "import", optuna_url, "svm-back") == 0

    out = capsys.readouterr().out
    assert f"exported study 'svm' to {tmp_path / 'svm.csv'}" in out
    assert f"exported study 'svm' to Optuna study 'svm' in {optuna_url}" in out
    assert "Imported 3 trials as study 'svm-back' (minimize)." in out
    from_csv = pd.read_csv(tmp_path / "svm.csv")
    from_parquet = pd.read_parquet(tmp_path / "svm.parquet")
    assert from_csv["params_units"].tolist() == [16, 256, 64]
    assert from_parquet["value"].tolist() == [0.5, 0.3, 0.25]
    with TrialStore(tmp_store_url) as store:
        assert [t.config for t in store.get_trials("svm-back")] == [
            t.config for t in store.get_trials("svm")
        ]


def test_export_without_output_writes_to_the_working_folder_only(
    tmp_path: Path,
    tmp_store_url: str,
    runs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that without OUTPUT the file is named after the study in the working
    folder, even when the name holds '/' or '..'."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    _run(tmp_store_url, "import", runs, "../escape", "--objective", "loss")
    _run(tmp_store_url, "import", runs, "svm-v1.2", "--objective", "loss")

    assert _run(tmp_store_url, "export", "../escape") == 0
    assert _run(tmp_store_url, "export", "svm-v1.2") == 0

    assert sorted(p.name for p in work.iterdir()) == ["_._escape.csv", "svm-v1.2.csv"]
    assert not (tmp_path / "escape.csv").exists()

    # --format without OUTPUT: a Parquet file is named so (it went into .csv);
    # an Optuna storage has to be named.
    if importlib.util.find_spec("pyarrow") is not None:
        assert _run(tmp_store_url, "export", "svm-v1.2", "--format", "parquet") == 0
        assert (work / "svm-v1.2.parquet").read_bytes()[:4] == b"PAR1"
    with pytest.raises(InteropError, match="give its URL, or a SQLite file"):
        _run(tmp_store_url, "export", "svm-v1.2", "--format", "optuna")
    # A plain file with --format optuna holds an Optuna storage (SQLite).
    if importlib.util.find_spec("optuna") is not None:
        assert (
            _run(tmp_store_url, "export", "svm-v1.2", "o.db", "--format", "optuna") == 0
        )
        assert _run(tmp_store_url, "import", f"sqlite:///{work / 'o.db'}", "back") == 0


def test_export_refuses_to_replace_a_file_without_force(
    tmp_path: Path, tmp_store_url: str, runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that export leaves an existing file alone (two study names can share
    a file name: 'a/b' and 'a_b') unless --force is given."""
    monkeypatch.chdir(tmp_path)
    _run(tmp_store_url, "import", runs, "a/b", "--objective", "loss")
    _run(tmp_store_url, "import", runs, "a_b", "--objective", "loss")
    assert _run(tmp_store_url, "export", "a/b") == 0
    first = (tmp_path / "a_b.csv").read_text()
    (tmp_path / "notes.csv").write_text("mine\n")

    with pytest.raises(InteropError, match=r"a_b\.csv exists; .* --force to replace"):
        _run(tmp_store_url, "export", "a_b")
    with pytest.raises(InteropError, match="exists"):
        _run(tmp_store_url, "export", "a_b", tmp_path / "notes.csv")

    assert (tmp_path / "a_b.csv").read_text() == first
    assert (tmp_path / "notes.csv").read_text() == "mine\n"
    assert _run(tmp_store_url, "export", "a_b", "notes.csv", "--force") == 0
    assert pd.read_csv(tmp_path / "notes.csv")["value"].tolist() == [0.5, 0.3, 0.25]


def test_export_with_space_round_trips_a_conditional_study(
    tmp_path: Path,
    tmp_store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that --space writes the study's search space next to the table, that
    hptaa import --space reads both back into the same space and trials, and that
    the space file is not replaced without --force."""
    from hptaa_lab import create_study, load_study

    monkeypatch.chdir(tmp_path)
    space = build_space(
        {"kernel": ["rbf", "poly"], "degree": {"int": (2, 5), "if": {"kernel": "poly"}}}
    )
    study = create_study("svm", space, store=tmp_store_url, seed=0)
    study.optimize(lambda c: c.get("degree", 1) / 10, n_trials=6)

    assert _run(tmp_store_url, "export", "svm", "svm.csv", "--space", "svm.json") == 0
    assert "hptaa import svm.csv NAME --space svm.json" in capsys.readouterr().out
    assert _run(tmp_store_url, "import", "svm.csv", "copy", "--space", "svm.json") == 0

    copy = load_study("copy", store=tmp_store_url)
    assert list(copy.space.values()) == list(study.space.values())
    assert [t.config for t in copy.trials] == [t.config for t in study.trials]
    # Parquet reads back the same way.
    assert _run(tmp_store_url, "export", "svm", "svm.parquet", "--space", "p.json") == 0
    assert _run(tmp_store_url, "import", "svm.parquet", "pq", "--space", "p.json") == 0
    parquet = load_study("pq", store=tmp_store_url)
    assert [t.config for t in parquet.trials] == [t.config for t in study.trials]
    assert parquet.record.attrs["imported_from"] == "parquet"
    with pytest.raises(InteropError, match=r"svm\.json exists"):
        _run(tmp_store_url, "export", "svm", "again.csv", "--space", "svm.json")
    assert not (tmp_path / "again.csv").exists()
    with pytest.raises(InteropError, match="--space goes with a CSV or Parquet"):
        _run(tmp_store_url, "export", "svm", "-", "--space", "other.json")
    # Refused before anything is written: the table's own file, a missing folder.
    with pytest.raises(InteropError, match="names the table's own file"):
        _run(tmp_store_url, "export", "svm", "same.csv", "--space", "./same.csv")
    with pytest.raises(InteropError, match="its folder does not exist"):
        _run(tmp_store_url, "export", "svm", "t.csv", "--space", "nodir/sp.json")
    assert not (tmp_path / "same.csv").exists() and not (tmp_path / "t.csv").exists()
    (tmp_path / "folder").mkdir()
    with pytest.raises(InteropError, match="folder is a folder; give a file name"):
        _run(tmp_store_url, "export", "svm", "folder", "--force")


def test_import_without_space_points_to_the_space_file_beside_the_data(
    tmp_path: Path, tmp_store_url: str, runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that an import that infers its space names a JSON file of the same
    stem beside the data (what export --space writes), and that one given
    --space does not."""
    space = build_space(
        {"lr": (1e-4, 1.0), "units": (8, 512), "kernel": ["rbf", "linear"]}
    )
    (tmp_path / "runs.json").write_text(space_to_json(space))

    assert _run(tmp_store_url, "import", runs, "a", "--objective", "loss") == 0
    out = capsys.readouterr().out
    assert f"Note: {tmp_path / 'runs.json'} lies beside the data" in out
    assert f"(`hptaa --store {tmp_store_url} delete --yes a` first, to import" in out

    argv = ("import", runs, "b", "--objective", "loss", "--space", "runs.json")
    assert _run(tmp_store_url, *argv[:-1], tmp_path / "runs.json") == 0
    assert "Note:" not in capsys.readouterr().out


def test_export_of_a_maximized_study_says_how_to_import_it(
    tmp_path: Path, tmp_store_url: str, runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that exporting a study that maximizes names --direction maximize for
    the import (a CSV keeps no direction), and a minimized one says nothing."""
    _run(tmp_store_url, "import", runs, "acc", "--objective", "loss")
    _run(
        tmp_store_url,
        "import",
        runs,
        "acc-max",
        "--objective",
        "loss",
        "--direction",
        "maximize",
    )
    capsys.readouterr()

    assert _run(tmp_store_url, "export", "acc-max", tmp_path / "max.csv") == 0
    assert "import this file with --direction maximize" in capsys.readouterr().out
    assert _run(tmp_store_url, "export", "acc", tmp_path / "min.csv") == 0
    assert "--direction" not in capsys.readouterr().out

    # To standard output the note goes to stderr, beside the table alone.
    assert _run(tmp_store_url, "export", "acc-max", "-") == 0
    out, err = capsys.readouterr()
    assert "import this file with --direction maximize" in err
    assert out.startswith("number,") and "--direction" not in out


def test_export_refuses_an_output_named_for_another_format(
    tmp_path: Path, tmp_store_url: str, runs: Path
) -> None:
    """Check that an output such as svm.xlsx is refused (a CSV under that name
    would not open as a spreadsheet) and writes nothing, and that --format csv
    writes CSV under it on request."""
    _run(tmp_store_url, "import", runs, "svm", "--objective", "loss")
    target = tmp_path / "svm.xlsx"
    with pytest.raises(InteropError, match=r"--format csv to write CSV"):
        _run(tmp_store_url, "export", "svm", target)
    assert not target.exists()
    assert _run(tmp_store_url, "export", "svm", target, "--format", "csv") == 0
    assert pd.read_csv(target)["value"].tolist() == [0.5, 0.3, 0.25]
    # Names that merely contain a dot, and compressed CSV, are CSV as before.
    for name in ("svm_v1.2", "svm.csv.gz"):
        assert _run(tmp_store_url, "export", "svm", tmp_path / name) == 0
        assert pd.read_csv(tmp_path / name)["value"].tolist() == [0.5, 0.3, 0.25]


def test_export_to_standard_output(
    tmp_store_url: str, runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that OUTPUT - writes the CSV to standard output."""
    _run(tmp_store_url, "import", runs, "svm", "--objective", "loss")
    capsys.readouterr()

    assert _run(tmp_store_url, "export", "svm", "-") == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "number,state,value,proposed_by,started_at,finished_at,duration_s,error,"
        "params_kernel,params_lr,params_units"
    )
    assert lines[1] == "0,COMPLETE,0.5,csv,,,,,rbf,0.001,16"
    assert len(lines) == 4


def test_optuna_import_refuses_csv_options(tmp_store_url: str) -> None:
    """Check that --direction with an Optuna source is refused, not ignored."""
    with pytest.raises(
        InteropError, match="--direction and --columns apply to CSV files"
    ):
        _run(
            tmp_store_url,
            "import",
            "sqlite:///optuna.db",
            "prev",
            "--direction",
            "maximize",
        )


def test_unreadable_space_file_is_refused(tmp_path: Path, tmp_store_url: str) -> None:
    """Check that a --space file that cannot be read names the file."""
    missing = tmp_path / "space.json"

    with pytest.raises(
        InteropError, match=rf"Cannot read the search space file {missing}: "
    ):
        _run(tmp_store_url, "import", "runs.csv", "v1", "--space", missing)


@pytest.mark.parametrize("stored", [True, False])
def test_interrupted_import_says_whether_it_was_stored(
    tmp_store_url: str,
    runs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stored: bool,
) -> None:
    """Check that a Ctrl-C that reaches `hptaa import` after its transaction
    committed (a Ctrl-C during the write waits for its end) says the study was
    stored, with its trials, and one before says nothing was imported. Before,
    both said "every finished trial is kept", and a rerun of the stored import
    then met StudyExistsError."""
    import hptaa_lab.interop
    from hptaa_lab import cli

    real = hptaa_lab.interop.import_csv

    def import_then_ctrl_c(*args: object, **kwargs: object) -> object:
        if stored:
            real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(hptaa_lab.interop, "import_csv", import_then_ctrl_c)
    argv = ["--store", tmp_store_url, "import", str(runs), "svm", "--objective", "loss"]
    assert cli.main(argv) == 130

    err = capsys.readouterr().err
    if stored:
        assert "interrupted after the import was stored: study 'svm' holds 3" in err
    else:
        assert "nothing was imported" in err and "run the command again" in err


def test_interrupted_import_under_a_taken_name_says_nothing_was_imported(
    tmp_store_url: str,
    runs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that a Ctrl-C while `hptaa import` reads its file, under the name of
    a study the store already holds, says nothing was imported, not that the
    older study is the import."""
    import hptaa_lab.interop
    from hptaa_lab import cli

    assert _run(tmp_store_url, "import", runs, "svm", "--objective", "loss") == 0
    capsys.readouterr()

    def ctrl_c(*args: object, **kwargs: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(hptaa_lab.interop, "import_csv", ctrl_c)
    argv = ["--store", tmp_store_url, "import", str(runs), "svm", "--objective", "loss"]
    assert cli.main(argv) == 130

    err = capsys.readouterr().err
    assert "nothing was imported; a study named 'svm' already holds 3 trials" in err
