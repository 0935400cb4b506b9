"""Tests of the %hptaa magics through an IPython shell."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic_arguments import argument, magic_arguments

from hptaa_lab.jupyter import (
    HptaaMagics,
    RunState,
    TuneRun,
    _magics,
    commands,
    register_command,
)
from hptaa_lab.records import TrialState
from hptaa_lab.store import TrialStore

V1 = """\
%%hptaa tune --study v1 --trials 6 --seed 0 --as run1
space = {"x": (-2.0, 2.0), "y": (-2.0, 2.0)}
def objective(config):
    return (config["x"] - 1) ** 2 + config["y"] ** 2
"""

V2_BODY = """
space = {"x_pos": (-2.0, 2.0), "y": (-1.0, 1.0), "z": ["a", "b"]}
mapping = {"previous_fixed": {"z": "a"}}
def objective(config):
    return (config["x_pos"] - 1) ** 2 + config["y"] ** 2 + (config["z"] == "b")
"""


def run_cell(shell: InteractiveShell, code: str) -> Any:
    """Run a cell and return its result (the value shown as Out)."""
    return shell.run_cell(textwrap.dedent(code)).result


def test_question_mark_prints_the_usage_of_every_subcommand(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that %hptaa? shows each subcommand with its arguments."""
    shell.run_cell("%hptaa?")

    out = capsys.readouterr().out
    assert "%%hptaa tune --study NAME [--from PREVIOUS] [--transfer METHOD]" in out
    for usage in (
        "%hptaa diff A B",
        "%hptaa studies",
        "%hptaa status",
        "%hptaa stop [NAME]",
    ):
        assert usage in out


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            "%%hptaa tune --trials 0 --study s\nx = 1",
            "argument --trials: expected a positive integer, got '0'",
        ),
        ("%%hptaa tune\nx = 1", "the following arguments are required: --study"),
        (
            "%%hptaa tune --study s --colour red\nx = 1",
            "unrecognized arguments: --colour red",
        ),
        ("%hptaa diff onlyone", "the following arguments are required: B"),
        (
            "%%hptaa tune --study s --trails 3\nx = 1",
            "unrecognized arguments: --trails 3. Did you mean --trials?",
        ),
        (  # no suggestion that shares only the dashes
            "%%hptaa tune --study s --xyz\nx = 1",
            "unrecognized arguments: --xyz\n",
        ),
        (  # no abbreviations: "--y" would confirm a diff nobody saw
            "%%hptaa tune --study s --y --wa\nx = 1",
            "unrecognized arguments: --y --wa",
        ),
    ],
)
def test_argument_errors_print_the_usage_not_a_traceback(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], cell: str, message: str
) -> None:
    """Check that bad magic arguments print the error and the short usage (not
    the whole help, which pushed the error out of sight)."""
    result = shell.run_cell(cell)

    captured = capsys.readouterr()
    assert f"UsageError: {message}" in captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "%hptaa" in captured.err.split(message, 1)[1]
    assert captured.err.rstrip().endswith("(`%hptaa?` explains every option.)")
    assert len(captured.err.splitlines()) <= 6
    assert result.error_in_exec is None


def test_unknown_subcommand_lists_the_subcommands(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that an unknown subcommand is an error listing the subcommands."""
    shell.run_cell("%hptaa frobnicate")

    err = capsys.readouterr().err
    assert (
        "unknown %hptaa subcommand 'frobnicate'; the subcommands are bench, diff, "
        "import, status" in err
    )
    assert "Did you mean" not in err
    # the list is the help: the usage of every subcommand is not printed as well
    assert "%%hptaa tune" not in err


@pytest.mark.parametrize("line", ["-h", "--help", "help"])
def test_help_flags_print_the_overview(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    """Check that %hptaa -h, --help and help show the overview, not an error."""
    shell.run_cell(f"%hptaa {line}")

    captured = capsys.readouterr()
    assert "%%hptaa tune" in captured.out and "UsageError" not in captured.err


def test_unbalanced_quote_is_one_message(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that an unclosed quote says so in one message, without every
    subcommand's usage after it."""
    shell.run_cell('%hptaa diff a "b')

    err = capsys.readouterr().err
    assert "No closing quotation in the %hptaa line; close the quote" in err
    assert "%%hptaa tune" not in err


def test_misspelt_subcommand_suggests_the_closest(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a misspelt subcommand names the one it is close to."""
    shell.run_cell("%hptaa studeis")

    assert "Did you mean 'studies'?" in capsys.readouterr().err


def test_tune_as_a_line_magic_asks_for_a_cell(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that %hptaa tune (one %) says it needs a cell body."""
    shell.run_cell("%hptaa tune --study s")

    assert "%hptaa tune needs a cell body" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("space = {'x': (0.0, 1.0)}", "'objective'"),
        ("def objective(c):\n    return c['x']", "'space'"),
        ("x = 1", "'space' and 'objective'"),
    ],
)
def test_a_cell_without_space_or_objective_names_what_is_missing(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    body: str,
    missing: str,
) -> None:
    """Check the message, also when an earlier cell defined the names, and that
    the earlier values are kept."""
    shell.run_cell("space = 'old space'\nobjective = 'old objective'")

    result = run_cell(shell, f"%%hptaa tune --study s\n{body}")

    err = capsys.readouterr().err
    assert f"%%hptaa tune: The cell did not define {missing}" in err
    assert "Traceback" not in err
    assert result is None
    assert not magics.runs
    if "space" in missing:
        assert shell.user_ns["space"] == "old space"


def test_a_cell_body_that_raises_tunes_nothing(
    shell: InteractiveShell, magics: HptaaMagics, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that an error in the body shows its traceback and starts no run."""
    run_cell(shell, "%%hptaa tune --study s\nspace = {'x': (0.0, 1.0)}\n1 / 0")

    captured = capsys.readouterr()
    assert "ZeroDivisionError" in captured.out + captured.err
    assert (
        "%%hptaa tune: the cell body raised an error (above); nothing was tuned"
        in captured.err
    )
    assert not magics.store().has_study("s")

    # With --wait the cell fails, so that Run All stops there.
    for body in ("1 / 0", "def broken(:"):
        result = shell.run_cell(f"%%hptaa tune --study s --wait\n{body}")
        err = capsys.readouterr().err
        assert isinstance(result.error_in_exec, UsageError), body
        assert "the cell body raised an error (above); nothing was tuned" in err
    assert not magics.store().has_study("s")


def test_tune_returns_the_run_and_keeps_it_in_a_variable(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the run handle: the cell's value, --as, wait() and the repr."""
    run = run_cell(shell, V1)

    assert isinstance(run, TuneRun)
    assert shell.user_ns["run1"] is run
    assert shell.user_ns["_"] is run
    shell.run_cell("run1.wait(); print(run1)")
    out = capsys.readouterr().out
    assert "TuneRun 'v1': finished\n  v1  6/6 trials, 0 failed, incumbent" in out
    assert run.study is not None and run.study.record.seed == 0


def test_transfer_with_compare_diff_studies_and_status(
    shell: InteractiveShell, magics: HptaaMagics, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the main job in magics: tune v1, transfer-tune v2 beside its twin,
    then look at the diff, the studies and the runs."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    run = run_cell(
        shell,
        "%%hptaa tune --study v2 --from v1 --compare --trials 5 --seed 0 --yes"
        + V2_BODY,
    )
    assert isinstance(run, TuneRun)
    run.wait(timeout=60)
    capsys.readouterr()

    shell.run_cell("%hptaa diff v1 v2")
    out = capsys.readouterr().out
    assert "Search-space diff v1 -> v2 (with the confirmed mapping):" in out
    assert "x -> x_pos" in out and "renamed" in out and "narrowed" in out

    shell.run_cell("%hptaa studies")
    out = capsys.readouterr().out
    rows = [line.split("  ")[0] for line in out.splitlines()[3:]]
    assert rows == ["v1", "`- v2", "v2-scratch"]
    assert " auto " in out
    assert "none, twin of v2" in out
    # The same table as `hptaa studies` prints.
    from hptaa_lab.cli import main

    assert main(["--store", magics.store_url, "studies"]) == 0
    assert capsys.readouterr().out.splitlines()[:5] == out.splitlines()[1:6]

    shell.run_cell("%hptaa status")
    out = capsys.readouterr().out
    assert "TuneRun 'v1': finished" in out
    assert "TuneRun 'v2': finished; transfer auto from 'v1'" in out
    assert "v2-scratch  5/5 trials" in out

    shell.run_cell("%hptaa stop v2")
    assert "The run of 'v2' is finished; nothing to stop." in capsys.readouterr().out


def test_a_cell_mapping_with_empty_renames_accepts_no_guessed_rename(
    shell: InteractiveShell, magics: HptaaMagics
) -> None:
    """Check that a cell's mapping {"renames": {}} says there is no rename: under
    --yes, the diff's suggestion x -> x_pos is not accepted (it was, as if the
    cell had no mapping), and x's values are not transferred."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    body = V2_BODY.replace(
        'mapping = {"previous_fixed"', 'mapping = {"renames": {}, "previous_fixed"'
    )
    run = run_cell(
        shell, "%%hptaa tune --study v2 --from v1 --trials 2 --seed 0 --yes" + body
    )
    run.wait(timeout=60)

    stored = TrialStore(magics.store_url).get_study("v2")
    assert '"renames": {}' in stored.mapping_json
    assert "x_pos" not in stored.mapping_json


def test_a_run_says_what_auto_assumed_of_an_added_hyperparameter(
    shell: InteractiveShell,
) -> None:
    """Check that the run's text names the added hyperparameter auto took to
    have been its default before (the mapping gives no previous value)."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    body = V2_BODY.replace('mapping = {"previous_fixed": {"z": "a"}}', "")
    run = run_cell(shell, "%%hptaa tune --study v2 --from v1 --trials 2 --yes" + body)
    run.wait(timeout=60)

    assert "auto takes the added z='a' to have been the default before" in repr(run)


def test_a_waiting_run_says_what_auto_would_assume_before_confirming(
    shell: InteractiveShell,
) -> None:
    """Check that a run waiting for its diff to be confirmed says which added
    hyperparameter auto would take to have been its default (it was said only
    once the study existed), and no longer once a field gives the value."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    body = V2_BODY.replace('mapping = {"previous_fixed": {"z": "a"}}', "")
    run = run_cell(shell, "%%hptaa tune --study v2 --from v1 --trials 2" + body)

    line = "As it stands, auto will take the added z='a' to have been the default"
    assert line in repr(run)
    run.diff_widget.previous_fixed_inputs["z"].set("b")
    assert line not in repr(run)
    # The previous study deleted while the run waits: its text still shows.
    run.diff_widget.previous_fixed_inputs["z"].set(None)
    run.store.delete_study("v1")
    assert "trials planned, none run" in repr(run)
    run.stop()


def test_tune_from_a_changed_space_waits_and_stop_cancels_it(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that without --yes the run waits for Confirm, and %hptaa stop
    cancels it."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    run = run_cell(shell, "%%hptaa tune --study v2 --from v1 --trials 5" + V2_BODY)

    assert isinstance(run, TuneRun) and run.state == RunState.WAITING
    capsys.readouterr()
    shell.run_cell("%hptaa stop v2")

    out = capsys.readouterr().out
    assert "Cancelled the run of 'v2'" in out and "nothing was tuned" in out
    assert "after the trials in flight" not in out
    assert run.state == RunState.STOPPED

    # A second run of v2, now confirmed: stopping it by name says what happens
    # to the trial in flight, and nothing about the earlier, cancelled run.
    slow_v2 = V2_BODY.replace(
        "def objective(config):",
        "def objective(config):\n    import time; time.sleep(1.0)",
    )
    again = run_cell(
        shell, "%%hptaa tune --study v2 --from v1 --trials 500 --yes" + slow_v2
    )
    assert isinstance(again, TuneRun) and again is not run
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
        again.study is not None
        and any(t.state == TrialState.RUNNING for t in again.study.trials)
    ):
        time.sleep(0.01)  # a trial in flight (1 s) keeps the run stopping a while
    capsys.readouterr()
    shell.run_cell("%hptaa stop v2")

    out = capsys.readouterr().out
    assert "Stopping the run of 'v2': after the trials in flight." in out
    assert "nothing to stop" not in out
    # While its trial in flight finishes, the run says it is stopping.
    shell.run_cell("%hptaa stop v2")
    shell.run_cell("%hptaa stop")
    shell.run_cell("%hptaa status")
    out = capsys.readouterr().out
    assert (
        "The run of 'v2' is stopping already (after the trials in flight); nothing "
        "more to stop.\nEvery active run is stopping already ('v2'); nothing more "
        "to stop.\n"
    ) in out
    assert "TuneRun 'v2': stopping (after the trials in flight); transfer" in out
    assert again.wait(timeout=60) and again.state == RunState.STOPPED


def test_cell_transfer_options_configure_the_transfer_study(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a cell's `transfer_options` reach the transfer study (and are
    kept with it), and that an unknown option is refused before any study is
    created."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    capsys.readouterr()

    bad = "%%hptaa tune --study v3 --from v1 --trials 3 --yes" + V2_BODY
    run_cell(shell, bad + 'transfer_options = {"tiez": 1}\n')
    err = capsys.readouterr().err
    assert "Unknown auto option 'tiez'. Valid auto option names: portfolio" in err
    assert "Traceback" not in err
    # A refused value, without --yes: said at once, not after Confirm.
    waiting = bad.replace(" --yes", "") + 'transfer_options = {"floor": 5}\n'
    assert run_cell(shell, waiting) is None
    err = capsys.readouterr().err
    assert "floor must be a probability from 0 to below 1" in err
    run_cell(shell, bad + "transfer_options = [1]\n")
    assert "transfer_options must be a dict" in capsys.readouterr().err
    assert (
        run_cell(shell, waiting.replace("--trials 3", "--trials 3 --seed -1")) is None
    )
    assert "seed must be an int from 0" in capsys.readouterr().err

    good = "%%hptaa tune --study v2 --from v1 --trials 4 --seed 0 --yes" + V2_BODY
    run = run_cell(shell, good + 'transfer_options = {"ties": None, "portfolio": 0}\n')
    run.wait(timeout=60)

    (study,) = run.studies
    assert study.transfer_options == {"ties": None, "portfolio": 0}
    assert study.sampler.ties is None
    assert "auto-portfolio" not in {t.proposed_by for t in study.trials}
    assert not run.store.has_study("v3")


def test_store_errors_are_printed_without_a_traceback(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that tuning a taken name, a missing previous study or an unknown
    stop target prints one message."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    capsys.readouterr()

    run_cell(shell, V1)
    run_cell(shell, V1.replace("--study v1", "--study v3 --from nope"))
    shell.run_cell("%hptaa stop nope")

    err = capsys.readouterr().err
    assert (
        "%%hptaa tune: A study named 'v1' already exists in the trial store sqlite:"
        in err
    )
    assert "Add --resume to the %%hptaa tune line to continue it" in err
    assert "%%hptaa tune: No study named 'nope' in the trial store sqlite://" in err
    assert (
        "%hptaa stop: No run of a study named 'nope' in this session; runs: v1." in err
    )
    assert "Traceback" not in err


def test_store_shows_and_sets_the_trial_store(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """Check %hptaa store with and without a URL, with variable expansion, and
    that a bad URL keeps the previous store."""
    (tmp_path / "other").mkdir()
    shell.user_ns["folder"] = str(tmp_path / "other")
    shell.run_cell("%hptaa store sqlite:///{folder}/s.db")
    assert f"trial store: sqlite:///{tmp_path}/other/s.db" in capsys.readouterr().out

    shell.run_cell("%hptaa store nonsense")
    assert "Cannot open the trial store at 'nonsense'" in capsys.readouterr().err

    shell.run_cell("%hptaa store")
    assert f"{tmp_path}/other/s.db" in capsys.readouterr().out

    # A path with a space, quoted as in a shell.
    (tmp_path / "my runs").mkdir()
    shell.run_cell(f'%hptaa store "sqlite:///{tmp_path}/my runs/s.db"')
    assert f"trial store: sqlite:///{tmp_path}/my runs/s.db" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("line", ["%hptaa studies", "%hptaa diff v1 v2"])
def test_reading_magics_refuse_a_missing_store_and_create_nothing(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    line: str,
) -> None:
    """Check that reading a store URL with a typo names the path and says how to
    go on, instead of showing a new, empty store."""
    missing = tmp_path / "typo" / "studeis.db"
    magics.store_url = f"sqlite:///{missing}"

    result = shell.run_cell(line)

    captured = capsys.readouterr()
    assert f"There is no trial store at {missing}; nothing was created" in captured.err
    assert "%hptaa store URL" in captured.err and "%%hptaa tune" in captured.err
    assert "No studies" not in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert result.error_in_exec is None
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite://", "sqlite:// is an in-memory SQLite database"),
        ("sqlite:///:memory:", "sqlite:///:memory: is an in-memory SQLite database"),
        ("sqlite:///file:uri_store.db?uri=true", "There is no trial store at "),
    ],
)
def test_store_refuses_memory_and_creates_no_uri_file(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    said: str,
) -> None:
    """Check that %hptaa store refuses an in-memory SQLite database (its
    studies would vanish with the kernel, unseen by the sidebar and hptaa) and
    creates no file for a URI-style URL (it made a store there), keeping the
    session's store."""
    monkeypatch.chdir(tmp_path)
    previous = magics.store_url

    shell.run_cell(f"%hptaa store {url}")

    assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert magics.store_url == previous


def test_store_refuses_a_url_in_a_missing_folder(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Check that %hptaa store refuses a SQLite path whose folder does not exist,
    creates nothing and keeps the previous store."""
    previous = magics.store_url
    missing = tmp_path / "no-such-folder" / "s.db"

    shell.run_cell(f"%hptaa store sqlite:///{missing}")

    err = capsys.readouterr().err
    assert (
        f"%hptaa store: Cannot use sqlite:///{missing} as the trial store: the "
        f"folder {missing.parent} does not exist." in err
    )
    assert "the trial store is unchanged" in err
    assert magics.store_url == previous
    assert not missing.parent.exists()


def test_store_says_a_new_store_is_created_by_the_first_tune(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Check that setting (or showing) a store URL that holds no store yet says
    so without creating it, and that %%hptaa tune then creates it."""
    new = tmp_path / "new.db"
    shell.run_cell(f"%hptaa store sqlite:///{new}")
    out = capsys.readouterr().out
    assert f"trial store: sqlite:///{new}" in out
    assert f"There is no trial store at {new} yet; the first %%hptaa tune" in out
    shell.run_cell("%hptaa store")
    assert f"There is no trial store at {new} yet" in capsys.readouterr().out
    assert not new.exists()

    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    shell.run_cell("%hptaa studies")

    assert new.is_file()
    assert "v1 " in capsys.readouterr().out


def test_store_refuses_a_database_that_holds_no_trial_store(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Check that %hptaa store on another program's SQLite file writes nothing to
    it and keeps the previous store."""
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    previous = magics.store_url

    shell.run_cell(f"%hptaa store sqlite:///{other}")

    assert "holds no hptaa_lab trial store" in capsys.readouterr().err
    assert magics.store_url == previous
    with contextlib.closing(sqlite3.connect(other)) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("notes",)]


def test_register_command_adds_a_subcommand(
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check the extension point for subcommands: parsing, the handler's result,
    the overview, and a refused duplicate."""
    monkeypatch.setattr(_magics, "_COMMANDS", dict(_magics._COMMANDS))
    monkeypatch.setattr(HptaaMagics.hptaa, "__doc__", HptaaMagics.hptaa.__doc__)

    @magic_arguments(name="hptaa probe")
    @argument("--budget", type=int, default=10)
    def probe_arguments(line: str) -> None:
        """Probe the extension point."""

    def probe(magics: HptaaMagics, args: Any, cell: str | None) -> str:
        return f"probe with budget {args.budget}"

    register_command("probe", probe_arguments, probe, summary="a test probe")

    assert run_cell(shell, "%hptaa probe --budget 40") == "probe with budget 40"
    assert "probe" in commands()
    shell.run_cell("%hptaa")
    assert "%hptaa probe     a test probe" in capsys.readouterr().out
    with pytest.raises(
        ValueError, match="A %hptaa subcommand named 'probe' exists already"
    ):
        register_command("probe", probe_arguments, probe, summary="again")


def test_import_shows_the_inferred_space_then_imports_with_yes(
    shell: InteractiveShell, magics: HptaaMagics, tmp_path: Any, capsys: Any
) -> None:
    """Check that %hptaa import is a dry run that shows the inferred space, and
    that --yes writes a study that %%hptaa tune can transfer from."""
    path = tmp_path / "previous.csv"
    path.write_text("lr,units,value\n0.001,32,0.4\n0.01,64,0.3\n0.1,128,0.5\n")
    run_cell(shell, f"%hptaa import {path} old --objective value")
    out = capsys.readouterr().out
    assert "lr" in out and "units" in out and "Nothing was written" in out
    assert not magics.store().has_study("old")

    run_cell(shell, f"%hptaa import {path} old --yes")
    out = capsys.readouterr().out
    assert "Nothing was written" not in out
    assert magics.store().count_trials("old")["COMPLETE"] == 3


def test_import_takes_the_search_space_from_a_file(
    shell: InteractiveShell, magics: HptaaMagics, tmp_path: Any, capsys: Any
) -> None:
    """Check that %hptaa import --space FILE imports a CSV of a conditional space
    with that space (inferring it fails on the empty cells), and that a taken
    name gets the advice to import under another one."""
    from hptaa_lab.space import build_space, space_to_json

    space = build_space(
        {"kernel": ["rbf", "poly"], "degree": {"int": (2, 5), "if": {"kernel": "poly"}}}
    )
    (tmp_path / "space.json").write_text(space_to_json(space))
    path = tmp_path / "previous.csv"
    path.write_text("kernel,degree,value\npoly,3,0.4\nrbf,,0.3\n")

    run_cell(shell, f"%hptaa import {path} old --space {tmp_path / 'space.json'} --yes")

    assert magics.store().count_trials("old")["COMPLETE"] == 2
    stored = magics.store().get_study("old").space_json
    assert stored == space_to_json(space)
    capsys.readouterr()
    run_cell(shell, f"%hptaa import {path} old --space {tmp_path / 'space.json'}")
    captured = capsys.readouterr()
    assert "Import under another name" in captured.out + captured.err


def test_import_dry_run_creates_no_store(
    shell: InteractiveShell, magics: HptaaMagics, tmp_path: Any, capsys: Any
) -> None:
    """Check that a dry run of %hptaa import into a store that does not exist yet
    writes nothing, not even an empty store file, and that --yes then creates it."""
    path = tmp_path / "previous.csv"
    path.write_text("lr,value\n0.001,0.4\n0.01,0.3\n")
    target = tmp_path / "new.db"
    run_cell(shell, f"%hptaa store sqlite:///{target}")
    run_cell(shell, f"%hptaa import {path} old")
    assert "Nothing was written" in capsys.readouterr().out
    assert not target.exists()
    run_cell(shell, f"%hptaa import {path} old --yes")
    assert target.exists() and magics.store().count_trials("old")["COMPLETE"] == 2


def test_import_of_a_bad_csv_names_the_problem(
    shell: InteractiveShell, magics: HptaaMagics, tmp_path: Any, capsys: Any
) -> None:
    """Check that a CSV without the objective column is reported, not raised."""
    path = tmp_path / "bad.csv"
    path.write_text("lr,units\n0.001,32\n")
    run_cell(shell, f"%hptaa import {path} old --yes")
    captured = capsys.readouterr()
    assert "value" in captured.out + captured.err
    assert not magics.store().has_study("old")


def test_a_relative_store_path_stays_put_after_a_change_of_folder(
    shell: InteractiveShell,
    magics: HptaaMagics,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """Check that a relative SQLite store path (and the default one) is fixed to
    the folder it was set or first used in, so that after %cd every subcommand
    still speaks of the same store."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    run_cell(shell, "%hptaa store sqlite:///rel.db")
    monkeypatch.chdir(second)
    assert magics.store_url == f"sqlite:///{first / 'rel.db'}"
    run_cell(shell, "%hptaa store")
    assert str(first / "rel.db") in capsys.readouterr().out

    magics.store_url = None
    monkeypatch.chdir(first)
    default = magics.store_url
    monkeypatch.chdir(second)
    assert magics.store_url == default == f"sqlite:///{first / '.hptaa/studies.db'}"


def _until_each_study_has_a_trial(*runs: TuneRun, timeout: float = 30.0) -> None:
    """Wait until every study of the runs has started a trial (a stop that comes
    before a run's first trial leaves it with none)."""
    deadline = time.monotonic() + timeout
    while any(not study.trials for run in runs for study in run.studies):
        assert time.monotonic() < deadline, "no trial started"
        time.sleep(0.01)


def test_the_same_cell_with_resume_continues_a_stopped_transfer_run(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that after %hptaa stop, the same cell with --resume continues the
    transfer study and its twin as stored, numbering on, with the budget on top
    of the trials already there."""
    run_cell(shell, V1)
    shell.run_cell("run1.wait()")
    cell = "%%hptaa tune --study v2 --from v1 --trials 400 --compare --yes" + (
        V2_BODY.replace(
            "def objective(config):",
            "def objective(config):\n    import time; time.sleep(0.01)",
        )
    )
    first = run_cell(shell, cell)
    assert isinstance(first, TuneRun)
    _until_each_study_has_a_trial(first)
    shell.run_cell("%hptaa stop v2")
    assert first.wait(timeout=60) and first.state == RunState.STOPPED
    before = {study.name: len(study.trials) for study in first.studies}
    assert 0 < before["v2"] < 400

    resumed = run_cell(
        shell, cell.replace("--trials 400", "--trials 3").replace("--yes", "--resume")
    )

    assert isinstance(resumed, TuneRun) and resumed.wait(timeout=60)
    assert resumed.state == RunState.FINISHED
    assert resumed.diff_widget is None
    for study, name in zip(resumed.studies, ("v2", "v2-scratch"), strict=True):
        assert study.name == name
        numbers = [t.number for t in study.trials]
        assert numbers == list(range(before[name] + 3))
    transfer = resumed.studies[0]
    assert transfer.record.previous == "v1" and transfer.record.transfer == "auto"
    assert resumed.view.count_label.value.startswith(
        f"{sum(before.values()) + 6}/{sum(before.values()) + 6}"
    )
    assert "resumed: 3 more trials" in resumed.view.header.value
    capsys.readouterr()
    shell.run_cell("%hptaa status")
    status = capsys.readouterr().out
    assert "TuneRun 'v2': stopped" in status
    assert "TuneRun 'v2' (resumed): finished" in status


def test_resume_is_refused_while_a_run_of_the_study_goes_on(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --resume of a study this session is still tuning is refused
    (two threads would tune it at once), and that %hptaa stop NAME-scratch does
    not stop a run that has no twin."""
    slow = V1.replace("--trials 6", "--trials 400").replace(
        "def objective(config):",
        "def objective(config):\n    import time; time.sleep(0.01)",
    )
    run = run_cell(shell, slow)
    assert isinstance(run, TuneRun)
    capsys.readouterr()

    again = run_cell(shell, slow.replace("--trials 400", "--trials 3 --resume"))
    shell.run_cell("%hptaa stop v1-scratch")

    captured = capsys.readouterr()
    assert again is None
    assert (
        "%%hptaa tune: The run of 'v1' in this session is running; stop it "
        "(%hptaa stop v1) or wait for it (run.wait()) before resuming." in captured.err
    )
    assert "No run of a study named 'v1-scratch' in this session; runs: v1." in (
        captured.err
    )
    assert not run.done
    shell.run_cell("%hptaa stop v1")
    # While it winds down, a resume waits for it, and does not say to stop it.
    with run._lock:  # hold the run's end back for this check
        run_cell(shell, slow.replace("--trials 400", "--trials 3 --resume"))
    assert (
        "The run of 'v1' in this session is stopping; wait for it (run.wait()) "
        "before resuming." in capsys.readouterr().err
    )
    assert run.wait(timeout=60) and run.state == RunState.STOPPED


def test_at_exit_waits_for_a_run_in_a_script_and_stops_it_in_a_kernel(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check what the interpreter's exit does to a run still going on: outside
    a kernel it waits for the run to finish, saying so; in a kernel it stops it
    (the trial in flight finishes), and nothing is left running."""
    slow = V1.replace("--trials 6", "--trials 12").replace(
        "def objective(config):",
        "def objective(config):\n    import time; time.sleep(1.0)",
    )
    run = run_cell(shell, slow)
    assert isinstance(run, TuneRun) and not run.done

    magics.at_exit()

    assert run.state == RunState.FINISHED and len(run.study.trials) == 12
    err = capsys.readouterr().err
    assert "waiting for the run of 'v1' to finish before exiting" in err
    assert "12/12 trials" in err

    # A run stopped already (a Ctrl-C in a --wait cell) is not said to go on.
    slower = slow.replace("--study v1", "--study v1s").replace("0.05", "1.0")
    stopped = run_cell(shell, slower)
    stopped.stop()  # its first trial is still in flight for a second
    magics.at_exit()
    err = capsys.readouterr().err
    assert "waiting for the trials in flight of the stopped run of 'v1s'" in err
    assert "to finish before exiting" not in err
    assert stopped.state == RunState.STOPPED

    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    again = run_cell(
        shell,
        slow.replace("--study v1", "--study v1b").replace(
            "--trials 12", "--trials 400"
        ),
    )
    _until_each_study_has_a_trial(again)
    magics.at_exit()

    assert again.state == RunState.STOPPED
    states = {t.state for t in again.study.trials}
    assert 0 < len(again.study.trials) < 400 and TrialState.RUNNING not in states
    assert "waiting" not in capsys.readouterr().err


def test_a_tune_cell_in_an_ipy_script_runs_to_its_end(tmp_path: Path) -> None:
    """Check end to end that `ipython --ext hptaa_lab tune.ipy` waits for the
    cell's run before exiting, instead of leaving its trials unfinished."""
    done, states = _run_ipy(tmp_path, "--trials 8", 0.05)

    assert done.returncode == 0, done.stderr
    assert "waiting for the run of 'v1' to finish" in done.stderr
    assert states == [TrialState.COMPLETE] * 8


def test_ctrl_c_at_exit_stops_every_run_and_waits_for_their_trials(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that one Ctrl-C while the exit waits stops all runs, not only the
    first, and that the exit still waits for their trials in flight (nothing is
    left running)."""
    slow = V1.replace("--trials 6", "--trials 400").replace(
        "def objective(config):",
        "def objective(config):\n    import time; time.sleep(1.0)",
    )
    first = run_cell(shell, slow)
    second = run_cell(shell, slow.replace("--study v1", "--study v1b"))

    class Interrupted:
        """The first run's done-event, interrupted by Ctrl-C on its first wait."""

        def __init__(self, event: Any) -> None:
            self.event, self.calls = event, 0

        def wait(self, timeout: float | None = None) -> bool:
            self.calls += 1
            if self.calls == 1:
                raise KeyboardInterrupt
            return self.event.wait(timeout)

        def is_set(self) -> bool:
            return self.event.is_set()

        def set(self) -> None:
            self.event.set()

    first._done = Interrupted(first._done)
    _until_each_study_has_a_trial(first, second)
    magics.at_exit()

    for run in (first, second):
        assert run.state == RunState.STOPPED
        assert 0 < len(run.study.trials) < 400
        assert TrialState.RUNNING not in {t.state for t in run.study.trials}
    assert "hptaa: stopping the runs; their trials in flight finish first." in (
        capsys.readouterr().err
    )


def test_wait_blocks_the_cell_until_the_run_ends(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --wait returns only once the run finished, and that it refuses
    a run whose diff waits for a confirmation nobody could give meanwhile."""
    result = run_cell(shell, V1.replace("--as run1", "--as run1 --wait"))

    assert result is None
    assert shell.user_ns["run1"].state == RunState.FINISHED
    assert len(shell.user_ns["run1"].study.trials) == 6
    assert "TuneRun 'v1': finished" in capsys.readouterr().out

    refused = shell.run_cell("%%hptaa tune --study v2 --from v1 --wait" + V2_BODY)
    err = capsys.readouterr().err
    assert "--wait cannot wait for a run whose diff waits to be confirmed" in err
    assert "Nothing was tuned." in err
    # The cell fails, so that Run All or a script stops there.
    assert isinstance(refused.error_in_exec, UsageError)
    # It leaves no run behind in the session's list.
    shell.run_cell("%hptaa status")
    assert "'v2'" not in capsys.readouterr().out


def test_a_waiting_cell_in_a_kernel_leaves_the_run_as_it_ended_in_its_output(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that in a kernel, a --wait cell shows the live view while it waits
    and then updates that output, so that the notebook saves the run's final
    text form, not "running 0/6"."""
    from hptaa_lab.jupyter import _magics

    shown: list[tuple[str, str]] = []

    class Handle:
        def update(self, obj: Any) -> None:
            shown.append(("update", repr(obj)))

    def fake_display(obj: Any, display_id: bool = False) -> Handle:
        shown.append(("display", repr(obj)))
        return Handle()

    monkeypatch.setattr(_magics, "display", fake_display)
    monkeypatch.setattr(shell, "kernel", object(), raising=False)

    run_cell(shell, V1.replace("--as run1", "--as run1 --wait"))

    assert [kind for kind, _ in shown] == ["display", "update"]
    assert "TuneRun 'v1': finished" in shown[1][1] and "6/6 trials" in shown[1][1]


def test_a_cell_mapping_value_that_is_no_choice_fails_the_cell_with_yes(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], tmp_store_url: str
) -> None:
    """Check that --yes refuses a previous_fixed value outside a categorical's
    choices (it was dropped silently and the study created without it)."""
    run_cell(shell, V1.replace("--as run1", "--as run1 --wait"))
    body = V2_BODY.replace('{"z": "a"}', '{"z": "A"}')

    result = shell.run_cell("%%hptaa tune --study v2 --from v1 --yes --wait" + body)

    assert "previous_fixed['z'] = 'A'" in capsys.readouterr().err
    assert isinstance(result.error_in_exec, UsageError)
    assert not TrialStore(tmp_store_url).has_study("v2")


def test_ctrl_c_in_a_waiting_cell_stops_the_run_and_says_how_to_go_on(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], sigint_raises: None
) -> None:
    """Check that a Ctrl-C while a --wait cell waits stops the run, keeps its
    finished trials, names --resume, and still interrupts the cell (so Run All
    stops there)."""
    cell = V1.replace("--trials 6", "--trials 40").replace(
        "--as run1", "--as run1 --wait"
    )
    cell = cell.replace(
        "def objective(config):",
        "import _thread, time\n"
        "def objective(config):\n"
        "    time.sleep(0.05)\n"
        "    if config['x'] > -9: _thread.interrupt_main()",
    )
    result = shell.run_cell(cell)

    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    run = shell.user_ns["run1"]
    run._done.wait(10)
    assert run.state == RunState.STOPPED
    assert 1 <= len(run.study.trials) < 40
    err = capsys.readouterr().err
    assert "Ctrl-C stopped the run of 'v1'" in err
    assert "--resume" in err


@pytest.mark.parametrize("wait", [True, False])
def test_an_ipy_script_with_workers_ends_without_hanging(
    tmp_path: Path, wait: bool
) -> None:
    """Check `ipython --ext hptaa_lab tune.ipy` with --workers 2: with --wait
    every trial completes; without it the exit, after which Dask cannot go on,
    stops the run and says so instead of hanging, and nothing is left running."""
    line = "--trials 6 --workers 2" + (" --wait" if wait else "")
    done, states = _run_ipy(tmp_path, line, 0.5)

    assert done.returncode == 0, done.stderr
    if wait:
        assert states == [TrialState.COMPLETE] * 6
        assert "TuneRun 'v1': finished" in done.stdout
    else:
        assert "evaluates on Dask workers, which cannot go on" in done.stderr
        assert TrialState.RUNNING not in states


def test_exit_while_dask_workers_evaluate_stops_the_run_cleanly(
    tmp_path: Path,
) -> None:
    """Check a script that starts a --workers 2 run, goes on with other work and
    ends while trials are in flight: the run is stopped (not failed) before
    Dask's thread pools shut down, without distributed's tracebacks, its trials
    in flight failed as stopped, nothing left running. Before, the stop came
    after the pools were gone: tracebacks, and the run failed with an
    AttributeError."""
    done, states = _run_ipy(
        tmp_path, "--trials 40 --workers 2", 0.5, after="import time; time.sleep(4)"
    )

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "TuneRun 'v1': stopped" in done.stderr
    assert TrialState.COMPLETE in states and TrialState.RUNNING not in states
    store = TrialStore(f"sqlite:///{tmp_path / '.hptaa' / 'studies.db'}")
    errors = {t.error for t in store.get_trials("v1") if t.state == TrialState.FAIL}
    store.close()
    assert errors <= {"cancelled: the study was stopped before this trial finished"}


def _run_ipy(
    tmp_path: Path, line: str, sleep: float, after: str = ""
) -> tuple[subprocess.CompletedProcess[str], list[TrialState]]:
    """Run V1 with ``line`` for its options and an objective that sleeps, as
    `ipython --ext hptaa_lab tune.ipy` (then the code ``after``, if any);
    return the process and the stored trials' states."""
    script = tmp_path / "tune.ipy"
    cell = V1.replace("--trials 6", line).replace(
        "def objective(config):",
        f"def objective(config):\n    import time; time.sleep({sleep})",
    )
    if after:
        first, body = cell.split("\n", 1)
        cell = (
            f"get_ipython().run_cell_magic('hptaa', {first[len('%%hptaa ') :]!r}, "
            f"{body!r})\n{after}\n"
        )
    script.write_text(cell)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ipython"),
            "--ext",
            "hptaa_lab",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")},
    )
    store = TrialStore(f"sqlite:///{tmp_path / '.hptaa' / 'studies.db'}")
    try:
        states = (
            [t.state for t in store.get_trials("v1")] if store.has_study("v1") else []
        )
    finally:
        store.close()
    return done, states


def test_diff_and_studies_escape_names_in_their_html(
    shell: InteractiveShell,
    magics: HptaaMagics,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that a study name holding HTML (a teammate's, in a shared store) is
    text in the HTML of %hptaa diff and %hptaa studies, not markup that runs."""
    from hptaa_lab import create_study
    from hptaa_lab.jupyter import _magics

    shown: list[Any] = []
    monkeypatch.setattr(_magics, "display", shown.append)
    magics.store_url = f"sqlite:///{tmp_path / 's.db'}"
    evil = "<img src=x onerror=alert(1)>"
    for name in (evil, "b"):
        create_study(name, {"x": (0.0, 1.0)}, store=magics.store_url).close()

    shell.run_cell(f"%hptaa diff '{evil}' b")
    shell.run_cell("%hptaa studies")

    assert len(shown) == 2
    for output in shown:
        page = output._repr_mimebundle_()["text/html"]
        assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize("name", ["1bad", "class", "a-b"])
def test_as_refuses_a_name_that_is_no_variable(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    """Check that --as with a name no code can read back is refused before
    anything runs (the run was stored under that key, out of reach)."""
    run_cell(shell, f"%%hptaa tune --study s --as {name}\nspace = {{'x': (0.0, 1.0)}}")

    assert f"--as {name!r} is no Python variable name" in capsys.readouterr().err
    assert name not in shell.user_ns and not magics.runs


def test_store_takes_a_sqlite_files_path(
    shell: InteractiveShell,
    magics: HptaaMagics,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that %hptaa store, TrialStore and `hptaa --store` take a SQLite
    file's path (the README's `%hptaa store ../.hptaa/studies.db` was "not a
    database URL"), fixed to the folder it was given in."""
    from hptaa_lab import create_study
    from hptaa_lab.cli import main

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    shell.run_cell("%hptaa store ../mine.db")
    out, err = capsys.readouterr()
    assert err == "" and f"trial store: sqlite:///{work}/../mine.db" in out

    create_study("s", {"x": (0.0, 1.0)}, store="../mine.db").close()
    assert (tmp_path / "mine.db").is_file()
    assert main(["--store", "../mine.db", "studies"]) == 0
    assert "s " in capsys.readouterr().out
