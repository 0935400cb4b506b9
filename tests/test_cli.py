"""Tests of the hptaa command: the demo end to end and the store views."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hptaa_lab import TrialStore
from hptaa_lab.cli import main


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_end_to_end_writes_report_and_keeps_three_studies(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    """Check that the demo prints the diff and summary, repeats the job with the
    next seed and tabulates both runs, writes the report and leaves the previous,
    transfer and no-transfer studies of each run with their lineage."""
    report = tmp_path / "report.html"
    code, out, _ = run(
        capsys,
        "--store",
        store_url,
        "demo",
        "--trials",
        "6",
        "--previous-trials",
        "5",
        "--report",
        str(report),
        "--no-progress",
        "--runs",
        "2",
    )
    assert code == 0
    assert out.count("Search-space diff") == 1
    assert "Over 2 runs (seeds 0, 1;" in out and "median speedup" in out
    assert "C " in out and "widened" in out
    assert "speedup" in out and "evaluations to reach it" in out
    # the closing hint lists the studies of the store the demo used
    assert f"see `hptaa --store {store_url} studies`" in out
    page = report.read_text()
    assert "plotly" in page.lower() and "svm-b-diabetes-r1-v2" in page
    store = TrialStore(store_url)
    names = [s.name for s in store.list_studies()]
    assert names == [
        f"svm-b-diabetes-r{k}-{version}"
        for k in (1, 2)
        for version in ("v1", "v2", "v2-scratch")
    ]
    assert store.get_study("svm-b-diabetes-r2-v2").seed == 1
    assert store.get_study("svm-b-diabetes-r1-v2").previous == "svm-b-diabetes-r1-v1"
    assert store.count_trials("svm-b-diabetes-r1-v2-scratch")["COMPLETE"] == 6
    assert store.get_study("svm-b-diabetes-r1-v1").attrs["source"] == "live"

    code, out, _ = run(capsys, "studies", "--store", store_url)
    assert code == 0
    assert "`- svm-b-diabetes-r1-v2" in out
    assert "twin of svm-b-diabetes-r1-v2" in out


def test_demo_twice_uses_new_study_names(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    """Check that a second demo in the same store does not collide with the
    first, and that it says it replaced the first one's report."""
    for k in range(2):
        code, out, _ = run(
            capsys,
            "--store",
            store_url,
            "demo",
            "--benchmark",
            "NAS-B",
            "--trials",
            "3",
            "--previous-trials",
            "3",
            "--no-progress",
            "--runs",
            "1",
            "--report",
            str(tmp_path / "r.html"),
        )
        assert code == 0
        assert ("replaced the report of an earlier demo" in out) == (k == 1)
    names = [s.name for s in TrialStore(store_url).list_studies()]
    assert "nas-b-cifar10-r2-v2" in names


def test_demo_summary_numbers_match_studies(store_url: str) -> None:
    """Check that the demo's evaluations-to-target agree with its trajectories."""
    from hptaa_lab.demo import run_demo

    result = run_demo("FCN-B", trials=12, previous_trials=10, seed=3, store=store_url)
    target = result.trajectories["no transfer"][-1]
    assert result.target == target
    for label, evals in (
        ("transfer", result.evals_transfer),
        ("no transfer", result.evals_scratch),
    ):
        curve = result.trajectories[label]
        if evals is None:
            assert min(curve) > target
        else:
            assert curve[evals - 1] <= target
            assert evals == 1 or curve[evals - 2] > target
    if result.evals_transfer:
        assert math.isclose(
            result.speedup, result.evals_scratch / result.evals_transfer
        )
    # The paper's kind of targets: the no-transfer incumbent after each checkpoint
    # within the budget (the budget itself included).
    milestones = result.milestones()
    assert [m[0] for m in milestones] == [5, 10, 12]
    scratch = result.trajectories["no transfer"]
    for n, target, with_transfer, without in milestones:
        assert target == min(scratch[:n])
        assert without is not None and without <= n
        assert scratch[without - 1] <= target
        curve = result.trajectories["transfer"]
        if with_transfer is None:
            assert min(curve) > target
        else:
            assert curve[with_transfer - 1] <= target
    assert "after n evaluations" in result.format_summary()


def test_unknown_benchmark_lists_valid_names(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that an unknown benchmark is an error that lists the valid ones."""
    code, _, err = run(capsys, "--store", store_url, "demo", "--benchmark", "nope")
    assert code == 2
    assert "Unknown benchmark 'nope'" in err and "SVM-A" in err


def test_unknown_transfer_method_lists_valid_names(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that an unknown transfer method is reported with the valid ones."""
    code, _, err = run(
        capsys,
        "--store",
        store_url,
        "demo",
        "--benchmark",
        "NAS-B",
        "--trials",
        "2",
        "--previous-trials",
        "2",
        "--transfer",
        "magic",
        "--no-progress",
    )
    assert code == 2
    assert "Unknown transfer method 'magic'" in err and "best-first+t2pe" in err


def test_bad_trials_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """Check that a non-positive --trials is refused by the argument parser."""
    with pytest.raises(SystemExit) as info:
        main(["demo", "--trials", "0"])
    assert info.value.code == 2
    assert "expected a positive integer, got '0'" in capsys.readouterr().err


def test_show_and_diff_of_unknown_study_list_existing(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that naming a study that does not exist lists the studies there are."""
    from hptaa_lab import create_study

    create_study("alpha", {"x": (0.0, 1.0)}, store=store_url)
    code, _, err = run(capsys, "show", "beta", "--store", store_url)
    assert code == 2 and "No study named 'beta'" in err and "alpha" in err
    code, _, err = run(capsys, "diff", "alpha", "beta", "--store", store_url)
    assert code == 2 and "alpha" in err


def test_show_and_diff_of_transfer_study(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that show lists space, mapping, diff and trials with their
    configurations, and diff applies the confirmed rename."""
    from hptaa_lab import create_study

    v1 = create_study(
        "v1", {"lr": (1e-4, 1e-1, "log"), "k": ["a", "b"]}, store=store_url, seed=0
    )
    v1.optimize(lambda c: c["lr"] + (c["k"] == "b"), n_trials=5)
    v2 = create_study(
        "v2",
        {"learning_rate": (1e-4, 1e-1, "log"), "k": ["a", "b", "c"]},
        previous="v1",
        mapping={"renames": {"lr": "learning_rate"}},
        store=store_url,
        seed=0,
        transfer_options={"ties": None},
    )
    v2.optimize(lambda c: c["learning_rate"] if c["k"] != "c" else 1 / 0, n_trials=4)
    code, out, _ = run(capsys, "show", "v2", "--store", store_url)
    assert code == 0
    assert "transfer   auto\noptions    ties=None\n" in out
    assert "options" not in run(capsys, "show", "v1", "--store", store_url)[1]
    assert "Mapping: confirmed" in out
    assert "lr -> learning_rate" in out and "renamed" in out
    assert "choices added" in out
    first = v2.trials[0].config
    assert f"k={first['k']!r}, learning_rate={first['learning_rate']:.4g}" in out
    code, out, _ = run(capsys, "diff", "v1", "v2", "--store", store_url)
    assert code == 0 and "with the confirmed mapping" in out
    assert "lr -> learning_rate" in out


def test_show_without_mapping_says_so_and_lists_possible_renames(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that show names a missing mapping and the renames it could confirm."""
    from hptaa_lab import create_study

    v1 = create_study("v1", {"lr": (1e-4, 1e-1, "log")}, store=store_url, seed=0)
    v1.optimize(lambda c: c["lr"], n_trials=3)
    create_study(
        "v2", {"learning_rate": (1e-4, 1e-1, "log")}, previous="v1", store=store_url
    )
    code, out, _ = run(capsys, "show", "v2", "--store", store_url)
    assert code == 0 and "Mapping: none" in out
    assert "possible rename: lr -> learning_rate" in out
    # A suggested rename's target is assumed at no default: no empty line.
    assert "takes the added" not in out


@pytest.mark.parametrize("options", [None, {"added_defaults": False}])
def test_show_says_what_auto_assumed_of_added_hyperparameters(
    capsys: pytest.CaptureFixture[str], store_url: str, options: dict | None
) -> None:
    """Check that show says which added hyperparameters auto took to have been
    their defaults before (with added_defaults, the default), and not otherwise."""
    from hptaa_lab import create_study

    v1 = create_study("v1", {"x": (0.0, 1.0)}, store=store_url, seed=0)
    v1.optimize(lambda c: c["x"], n_trials=3)
    space = {"x": (0.0, 1.0), "z": (0.0, 1.0)}
    create_study("v2", space, previous="v1", store=store_url, transfer_options=options)
    code, out, _ = run(capsys, "show", "v2", "--store", store_url)

    line = "auto takes the added z=0.5 to have been the default before"
    assert code == 0 and (line in out) == (options is None)


def test_show_lists_conditions_and_forbidden_clauses(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that show prints the space's conditions and forbidden clauses, which
    decide which configurations the study can propose."""
    import ConfigSpace as CS

    from hptaa_lab import create_study

    space = CS.ConfigurationSpace({"kernel": ["rbf", "linear", "poly"]})
    space.add(CS.Float("gamma", (1e-3, 1.0), log=True))
    space.add(CS.EqualsCondition(space["gamma"], space["kernel"], "rbf"))
    space.add(CS.ForbiddenEqualsClause(space["kernel"], "poly"))
    space.add(CS.Categorical("scale", ["none", "std"]))
    space.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(space["kernel"], "linear"),
            CS.ForbiddenEqualsClause(space["scale"], "none"),
        )
    )
    create_study("svm", space, store=store_url, seed=0)
    code, out, _ = run(capsys, "show", "svm", "--store", store_url)
    assert code == 0
    assert "condition: gamma | kernel == 'rbf'" in out
    assert "forbidden: kernel == 'poly'" in out and "Forbidden:" not in out
    assert "forbidden: (kernel == 'linear' && scale == 'none')" in out


def test_show_marks_running_trials_whose_process_ended_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    ended_owner: Callable[[str, str, int], None],
) -> None:
    """Check that show tells a running trial of a process that ended (killed) from
    one that still runs, and leaves both RUNNING (showing writes nothing)."""
    from hptaa_lab import create_study
    from hptaa_lab.records import TrialState

    create_study("v1", {"lr": (1e-4, 1e-1, "log")}, store=store_url, seed=0)
    store = TrialStore(store_url)
    store.start_trial("v1", {"lr": 0.01}, "random")
    store.start_trial("v1", {"lr": 0.02}, "random")
    ended_owner(store_url, "v1", 0)

    code, out, _ = run(capsys, "show", "v1", "--store", store_url)

    assert code == 0
    assert "1 running trial(s) belong to a process that ended" in out
    rows = {line.split()[0]: line for line in out.splitlines()[-2:]}
    assert "RUNNING (process ended)" in rows["0"]
    assert "RUNNING" in rows["1"] and "ended" not in rows["1"]
    assert store.count_trials("v1")[TrialState.RUNNING] == 2

    code, out, _ = run(capsys, "show", "v1", "--trials", "0", "--store", store_url)
    assert code == 0 and "Latest" not in out and "Incumbent: none yet" in out
    code, out, _ = run(capsys, "studies", "--store", store_url)
    assert code == 0 and " 0/2 (1 running, 1 left by an ended process) " in out

    # delete's listing tells the two apart too (the live trial blocks it).
    code, _, err = run(capsys, "delete", "v1", "--store", store_url)
    assert code == 2 and "is tuning it" in err
    store.finish_trial("v1", 1, TrialState.COMPLETE, 0.5)
    code, out, _ = run(capsys, "delete", "v1", "--store", store_url)
    assert code == 0
    assert (
        "would delete study 'v1': 2 trials, 1 left running by a process that ended"
        in out
    )


def test_show_names_the_live_processes_tuning_a_study(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that show names a process inside optimize (alive here, or on another
    host) and leaves out one that ended, and says nothing once the run ended."""
    import sqlalchemy as sa

    from hptaa_lab import create_study
    from hptaa_lab.store import this_process
    from hptaa_lab.store._schema import runs

    create_study("v1", {"lr": (1e-4, 1e-1, "log")}, store=store_url, seed=0)
    store = TrialStore(store_url)
    mine = store.begin_run("v1")
    for host, pid in (("elsewhere", 7), (this_process().host, 2**22 + 1)):
        store.begin_run("v1")
        with store._transaction(write=True) as conn:
            newest = conn.scalar(sa.select(sa.func.max(runs.c.id)))
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == newest)
                .values(owner_host=host, owner_pid=pid, owner_start=None)
            )

    code, out, _ = run(capsys, "show", "v1", "--store", store_url)

    me = this_process()
    assert code == 0
    assert (
        f"tuned by   pid {me.pid} on host {me.host}, pid 7 on host elsewhere "
        "(not checked from here)\n"
    ) in out
    store.end_run(mine)
    code, out, _ = run(capsys, "show", "v1", "--store", store_url)
    assert "tuned by   pid 7 on host elsewhere" in out
    assert f"pid {me.pid} on host" not in out


def test_studies_on_empty_store_says_how_to_start(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that listing an empty store explains how to create a study."""
    TrialStore(store_url).close()
    code, out, _ = run(capsys, "studies", "--store", store_url)
    assert code == 0 and "No studies" in out and "hptaa demo" in out


@pytest.mark.parametrize(
    "argv",
    [
        ("studies",),
        ("show", "v1"),
        ("diff", "v1", "v2"),
        ("export", "v1", "-"),
    ],
)
def test_reading_commands_refuse_a_missing_store_and_create_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """Check that a --store typo is an error naming the path, not a new empty
    store (and no folder is created for it)."""
    missing = tmp_path / "typo" / "studeis.db"
    code, out, err = run(capsys, *argv, "--store", f"sqlite:///{missing}")
    assert code == 2 and out == ""
    assert f"There is no trial store at {missing}" in err and "--store" in err
    assert not missing.parent.exists()


def test_unknown_transfer_method_is_refused_before_any_tuning(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that a typo in --transfer leaves no half-finished demo in the store."""
    code, _, err = run(
        capsys,
        "--store",
        store_url,
        "demo",
        "--transfer",
        "bestfirst",
        "--no-progress",
    )
    assert code == 2 and "Unknown transfer method 'bestfirst'" in err
    assert TrialStore(store_url).list_studies() == []


def test_summary_says_when_transfer_needed_more_evaluations() -> None:
    """Check the speedup wording on both sides of 1 and without checkpoints."""
    from hptaa_lab.demo import DemoResult
    from hptaa_lab.space import build_space, diff

    space = build_space({"x": (0.0, 1.0)})
    base = dict(
        benchmark="B",
        task="t",
        previous="a",
        transfer="b",
        scratch="c",
        method="m",
        space_diff=diff(space, space),
        target=1.0,
        store_url="u",
    )
    slower = DemoResult(
        trajectories={"transfer": [3.0, 2.0, 1.0], "no transfer": [2.0, 1.0, 1.0]},
        evals_transfer=3,
        evals_scratch=2,
        **base,  # type: ignore[arg-type]
    )
    text = slower.format_summary()
    assert "0.67x (transfer needed 1.50 times more evaluations)" in text
    assert "no checkpoint of (5, 10, 20, 40) within the budget" in text


def test_interrupted_bench_says_how_to_resume(monkeypatch, capsys, tmp_path) -> None:
    """Check that Ctrl-C during `hptaa bench` names the kept results and the way
    to resume, and that other commands name the trial store."""
    from hptaa_lab import cli

    def interrupt(args):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep-folder").mkdir()
    (tmp_path / "sweep-folder" / "results.jsonl").write_text('{"unit": "x"}\n')
    parser = cli.build_parser
    args = parser().parse_args(["bench", "--out", "sweep-folder"])
    args.handler = interrupt
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(args))
    assert cli.main(["bench"]) == 130
    err = capsys.readouterr().err
    assert "sweep-folder" in err and "same --out to resume" in err

    other = parser().parse_args(["demo"])
    other.handler = interrupt
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(other))
    assert cli.main(["demo"]) == 130
    assert "trial store" in capsys.readouterr().err


def test_interrupt_while_starting_up_is_no_traceback(monkeypatch, capsys) -> None:
    """Check that Ctrl-C while the parser's modules are imported exits with 130
    and one line, not a traceback."""
    from hptaa_lab import cli

    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupt)
    assert cli.main(["studies"]) == 130
    err = capsys.readouterr().err
    assert "interrupted before anything ran" in err and "Traceback" not in err


class _Fixed:
    """A parser stand-in that returns parsed arguments prepared beforehand."""

    def __init__(self, args) -> None:
        self.args = args

    def parse_known_args(self, argv):
        return self.args, []


def test_command_starts_without_loading_the_heavy_libraries(loaded_by_import) -> None:
    """Check that importing the command's module loads neither ConfigSpace, nor
    SQLAlchemy, nor numpy (the package's names load on first use), so Ctrl-C at
    start-up reaches the command's own handling, and every public name resolves."""
    heavy = {"ConfigSpace", "sqlalchemy", "numpy"}
    assert loaded_by_import("hptaa_lab.cli", heavy) == []

    import hptaa_lab

    for name in hptaa_lab.__all__:
        assert getattr(hptaa_lab, name) is not None
    assert hptaa_lab.space.build_space is hptaa_lab.build_space
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = hptaa_lab.nope


def test_help_loads_none_of_the_heavy_libraries() -> None:
    """Check that `hptaa --help` imports no subcommand's heavy libraries (bench,
    import and export get their arguments only when used), so it answers at once."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from hptaa_lab.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(set(sys.modules))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, text=True
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "usage: hptaa" in done.stdout
    assert loaded & {"ConfigSpace", "numpy", "pandas", "sklearn"} == set()


def test_deferred_subcommands_are_listed_and_show_their_full_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that `hptaa --help` lists bench, import and export with their lines,
    and that each one's help is the one of a parser that defines it at once."""
    import argparse

    from hptaa_lab.benchmarks._cli import add_parser
    from hptaa_lab.cli import DEFERRED_SUBCOMMANDS
    from hptaa_lab.interop._cli import add_parsers

    with pytest.raises(SystemExit, match="0"):
        main(["--help"])
    listing = " ".join(capsys.readouterr().out.split())
    eager = argparse.ArgumentParser(prog="hptaa")
    subparsers = eager.add_subparsers()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        metavar="URL",
        help="trial store (SQLAlchemy URL, or a SQLite file's path)",
    )
    add_parsers(subparsers, [common])
    add_parser(subparsers)

    for name, deferred in DEFERRED_SUBCOMMANDS.items():
        assert f" {name} {deferred.help} " in listing
        with pytest.raises(SystemExit, match="0"):
            main([name, "--help"])
        assert capsys.readouterr().out == subparsers.choices[name].format_help()


def test_optional_subpackages_are_not_loaded_by_attribute_checks() -> None:
    """Check that hasattr on a subpackage whose extra is missing (jupyter without
    IPython) is False, as before the names loaded lazily, and that dir lists the
    subpackages that import hptaa_lab always made available."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['IPython'] = None; import hptaa_lab; "
        "print(hasattr(hptaa_lab, 'jupyter'), 'space' in dir(hptaa_lab), "
        "'transfer' in dir(hptaa_lab))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True", "True"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("a" * 250, "at most 200 characters"), ("bad\nname", "control characters")],
)
def test_import_with_a_bad_study_name_is_one_error_line(
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    tmp_path: Path,
    name: str,
    message: str,
) -> None:
    """Check that hptaa import refuses a name create_study would refuse with one
    message and a failing status, not a traceback, and stores nothing."""
    runs = tmp_path / "runs.csv"
    runs.write_text("x,loss\n0.1,1.0\n0.2,0.5\n")

    code, _out, err = run(
        capsys, "--store", store_url, "import", str(runs), name, "--objective", "loss"
    )

    assert code != 0
    assert message in err and "Traceback" not in err
    assert TrialStore(store_url).list_studies() == []


def test_runs_table_counts_a_run_that_never_reached_the_target_as_slowest(
    store_url: str,
) -> None:
    """Check the several-runs summary: per-seed evaluations and speedups, the
    runs that reached the target, and a median in which a run that never reached
    it ranks below every speedup."""
    from dataclasses import replace

    from hptaa_lab.demo import format_runs, run_demo

    one = run_demo("FCN-B", trials=4, previous_trials=4, seed=0, store=store_url)
    runs = [
        replace(one, evals_transfer=2, evals_scratch=8),
        replace(one, evals_transfer=None, evals_scratch=3),
        replace(one, evals_transfer=4, evals_scratch=4),
    ]
    text = format_runs(runs, [7, 8, 9])
    assert "Over 3 runs (seeds 7, 8, 9;" in text
    assert "transfer reached it in 2 of 3 runs; median speedup 1.00x" in text
    final, final_scratch = (
        one.trajectories[k][-1] for k in ("transfer", "no transfer")
    )
    assert (
        f"     8          never        3      n/a  {final:>16.6g}  {final_scratch:>10.6g}"
        "  fcn-b-"
    ) in text
    assert "final best: with     without  studies" in text
    better = 3 if final < final_scratch else 0
    worse = 3 if final > final_scratch else 0
    assert (
        f"final incumbents (lower is better): transfer's better in {better} of 3 "
        f"runs, the same in {3 - better - worse}, worse in {worse}"
    ) in text
    assert "(never: not within the 4 evaluations of the run)" in text
    assert "4.00x" in text
    never = format_runs(runs[1:2] * 2 + runs[:1], [1, 2, 3])
    assert "median speedup n/a (at least half of the runs never reached it)" in never
    # With an even count the median is the lower middle run, not the mean of
    # "never" and a speedup.
    even = format_runs(runs[:2], [1, 2])
    assert "median speedup n/a" in even
    assert "median speedup 1.00x" in format_runs([runs[2], runs[0]], [1, 2])
    with pytest.raises(ValueError, match="one seed per demo result"):
        format_runs(runs, [1])
    assert "ends better more often" not in text

    # Transfer ends better in most runs but reaches each run's own target (an
    # early no-transfer incumbent) later: the table says why both hold.
    def ending(result: Any, transfer: float, scratch: float) -> Any:
        trajectories = {
            **result.trajectories,
            "transfer": [*result.trajectories["transfer"][:-1], transfer],
            "no transfer": [*result.trajectories["no transfer"][:-1], scratch],
        }
        return replace(result, trajectories=trajectories)

    lucky = [
        ending(replace(one, evals_transfer=4, evals_scratch=1), 0.1, 0.2),
        ending(replace(one, evals_transfer=3, evals_scratch=2), 0.1, 0.2),
        ending(replace(one, evals_transfer=None, evals_scratch=1), 0.3, 0.2),
    ]
    text = format_runs(lucky, [1, 2, 3])
    assert "median speedup 0.25x" in text
    assert "transfer's better in 2 of 3 runs" in text
    assert "found their final incumbent early, at evaluation 1 of 4" in text


def test_demo_refuses_seeds_out_of_range_before_tuning(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that a negative seed, or a seed whose later runs would pass 2**62 - 1,
    is refused before anything is tuned."""
    with pytest.raises(SystemExit):
        main(["--store", store_url, "demo", "--seed", "-1"])
    assert "expected a seed from 0 to 2**62 - 1" in capsys.readouterr().err
    code, _, err = run(
        capsys, "--store", store_url, "demo", "--seed", str(2**62 - 1), "--runs", "2"
    )
    assert code == 2 and "Give a smaller --seed" in err
    assert TrialStore(store_url).list_studies() == []


def test_show_and_diff_display_a_stored_mapping_later_checks_refuse(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Check that show and diff display a study whose stored mapping an earlier
    version accepted and the current checks refuse (a value map on an added
    hyperparameter), instead of stopping with the mapping error."""
    import json
    import sqlite3

    import hptaa_lab

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    a = hptaa_lab.create_study("a", {"x": (0.0, 1.0)}, store=url, seed=0)
    a.optimize(lambda c: c["x"], n_trials=3)
    b = hptaa_lab.create_study(
        "b", {"x": (0.0, 1.0), "opt": ["sgd", "adam"]}, previous="a", store=url
    )
    b.optimize(lambda c: c["x"], n_trials=2)
    stale = {"transforms": {"opt": {"values": [["momentum", "sgd"]]}}}
    with sqlite3.connect(path) as connection:
        connection.execute(
            "update hptaa_studies set mapping_json = ? where name = 'b'",
            (json.dumps(stale),),
        )
    for command in (("diff", "a", "b"), ("show", "b")):
        code, out, err = run(capsys, "--store", url, *command)
        assert code == 0, err
        assert "opt: previous values transformed, 'momentum' -> 'sgd'" in out
    _, out, _ = run(capsys, "--store", url, "show", "b")
    assert "Latest" in out


@pytest.mark.parametrize("command", ["studies", "show", "diff", "delete"])
def test_every_store_subcommand_says_what_it_does_in_its_help(command, capsys) -> None:
    """Check that `hptaa COMMAND --help` has a description, not only the usage."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    description = out.split("\n\n")[1]
    assert not description.startswith(("options:", "positional")), out


def test_a_name_that_looks_like_an_option_is_shown_where_it_goes(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that a study name argparse reads as an unknown option gets the rule
    for such names, with no command to copy (one built from the subcommand's
    arguments alone would drop a --store given before it, and run on the
    default store); that abbreviated options are refused ("--y" is no --yes);
    and that the rule works."""
    from hptaa_lab import create_study

    create_study("-x", {"x": (0.0, 1.0)}, store=store_url, seed=0).close()
    create_study("x", {"x": (0.0, 1.0)}, store=store_url, seed=0).close()

    for argv, name in (
        (["delete", "-x"], "-x"),
        (["--store", store_url, "delete", "-x", "--yes"], "-x"),
        (["delete", "-inf"], "-inf"),  # argparse reads no "-inf" as a number
        (["delete", "-hello"], "-hello"),
        (["diff", "-x", "b"], "-x"),
        (["delete", "-x", "--", "a"], "-x"),
        (["--store", store_url, "delete", "x", "--y"], "--y"),
    ):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        err = capsys.readouterr().err
        assert exited.value.code == 2
        command = "diff" if "diff" in argv else "delete"
        assert err.endswith(
            f"{name}: no option of hptaa {command}. A name that starts with '-' "
            "goes after '--', which ends the options: every option first, then "
            f"'--', then the names (hptaa {command} [options] -- {name}).\n"
        ), err
    assert TrialStore(store_url).has_study("x")

    for argv in (["studies", "-x"], ["show", "x", "--trials", "-1"]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "'--'" not in capsys.readouterr().err

    code, out, _ = run(capsys, "--store", store_url, "delete", "--yes", "--", "-x")
    assert code == 0 and "deleted study '-x'" in out
    assert not TrialStore(store_url).has_study("-x")


def test_options_may_come_between_a_subcommands_names(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    """Check that an option between two names is read (argparse alone fills
    ``STUDY [OUTPUT]`` at once, so "export s --format csv OUT" left OUT as an
    unrecognized argument); "--" still ends the options (tested above)."""
    from hptaa_lab import create_study

    study = create_study("s", {"x": (0.0, 1.0)}, store=store_url, seed=0)
    study.tell(study.ask(), 0.5)
    study.close()
    out_file = tmp_path / "out.csv"

    code, out, err = run(
        capsys, "--store", store_url, "export", "s", "--format", "csv", str(out_file)
    )

    assert code == 0, err
    assert out_file.read_text().splitlines()[0].startswith("number,")
    code, out, err = run(capsys, "export", "s", "--store", store_url, "-")
    assert code == 0 and out.startswith("number,"), err
    code, out, err = run(capsys, "delete", "s", "--store", store_url, "--yes")
    assert code == 0 and "deleted study 's'" in out
    # Not once "--" is there: the error says where options go then.
    with pytest.raises(SystemExit):
        main(["delete", "s", "--store", store_url, "--", "-y"])
    assert capsys.readouterr().err.endswith(
        "unrecognized arguments: -- -y\nWith '--', every option comes first, then "
        "'--', then all the names (hptaa delete [options] -- NAME ...).\n"
    )


def test_an_unknown_option_is_reported_with_its_subcommands_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that a mistyped option of a subcommand shows that subcommand's usage,
    not the top-level one."""
    with pytest.raises(SystemExit) as exited:
        main(["show", "v1", "--trails", "3"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: hptaa show ")
    assert "hptaa show: error: unrecognized arguments: --trails 3" in err


def test_delete_lists_without_yes_and_keeps_every_lineage_whole(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that delete without --yes deletes nothing, refuses to leave a study
    whose previous study is gone (before deleting anything), deletes a chain named
    whole in any order, and lists the studies for an unknown name."""
    from hptaa_lab import create_study

    space = {"x": (0.0, 1.0)}
    for name, previous in (("v1", None), ("v2", "v1"), ("v3", "v2"), ("other", None)):
        study = create_study(name, space, previous=previous, store=store_url, seed=0)
        study.tell(study.ask(), 0.5)
        study.close()
    store = TrialStore(store_url)

    code, out, _ = run(capsys, "--store", store_url, "delete", "v3")
    assert code == 0
    assert "would delete study 'v3': 1 trial\n" in out
    assert "Nothing was deleted: add --yes" in out
    assert store.has_study("v3")

    code, _, err = run(capsys, "--store", store_url, "delete", "v1", "v2", "--yes")
    assert code == 2
    assert "Nothing was deleted. 'v2': study 'v3' names it as previous study" in err
    assert store.has_study("v1") and store.has_study("v2")

    code, out, _ = run(
        capsys, "delete", "v1", "v3", "v2", "--store", store_url, "--yes"
    )
    assert code == 0
    assert out.index("'v3'") < out.index("'v2'") < out.index("'v1'")
    assert [s.name for s in store.list_studies()] == ["other"]

    code, _, err = run(capsys, "--store", store_url, "delete", "v9", "--yes")
    assert code == 2 and "Existing studies: other" in err

    # A study this (live) process tunes is not deleted under it.
    busy = create_study("busy", space, store=store_url, seed=0)
    busy.ask()
    code, _, err = run(capsys, "--store", store_url, "delete", "busy", "--yes")
    assert code == 2 and "Cannot delete study 'busy': pid " in err
    assert "is tuning it. Stop the run first" in err
    assert store.has_study("busy")


def test_delete_of_a_study_tuned_on_another_host_needs_force(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that a run recorded on another host blocks `hptaa delete` (it
    cannot be checked from here) until --force, which the help mentions."""
    import sqlalchemy as sa

    from hptaa_lab import create_study
    from hptaa_lab.store._schema import runs

    create_study("shared", {"x": (0.0, 1.0)}, store=store_url).close()
    store = TrialStore(store_url)
    store.begin_run("shared")
    with store._transaction(write=True) as conn:
        conn.execute(sa.update(runs).values(owner_host="gpu-node-4", owner_pid=7))

    code, _, err = run(capsys, "--store", store_url, "delete", "shared", "--yes")
    assert code == 2
    assert "'shared': pid 7 on host gpu-node-4 is recorded as tuning it" in err
    assert store.has_study("shared")
    code, out, _ = run(
        capsys, "--store", store_url, "delete", "shared", "--yes", "--force"
    )
    assert code == 0 and "deleted study 'shared'" in out
    assert not store.has_study("shared")
    with pytest.raises(SystemExit):
        run(capsys, "delete", "--help")
    assert "unless --force" in " ".join(capsys.readouterr().out.split())


def test_ctrl_c_during_delete_waits_for_it_and_says_what_happened(
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    sigint_raises: None,
) -> None:
    """Check that a Ctrl-C while the studies are being deleted lets the deletion
    finish, then lists what was deleted (not "every trial is kept") and exits
    130."""
    import os
    import signal

    from hptaa_lab import create_study

    create_study("gone", {"x": (0.0, 1.0)}, store=store_url).close()
    delete_studies = TrialStore.delete_studies

    def interrupted(self: TrialStore, *args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return delete_studies(self, *args, **kwargs)

    monkeypatch.setattr(TrialStore, "delete_studies", interrupted)

    code, out, err = run(capsys, "--store", store_url, "delete", "gone", "--yes")

    assert code == 130
    assert "deleted study 'gone': 0 trials" in out
    assert "interrupted: after the command had finished" in out
    assert "kept" not in out + err
    assert not TrialStore(store_url).has_study("gone")


def test_show_names_a_process_holding_an_asked_trial(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that show names the process of a trial in flight too, as the
    delete refusal does."""
    from hptaa_lab import create_study
    from hptaa_lab.store import this_process

    study = create_study("q", {"x": (0.0, 1.0)}, store=store_url)
    study.ask()

    code, out, _ = run(capsys, "show", "q", "--store", store_url)

    assert code == 0 and f"tuned by   {this_process()}\n" in out


def test_delete_names_a_kept_twin_and_studies_forget_a_deleted_transfer_study(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that deleting a transfer study names its no-transfer twin, which is
    kept unless named too, and that the listing no longer calls the twin the
    twin of a study that is gone."""
    from hptaa_lab import create_study

    space = {"x": (0.0, 1.0)}
    create_study("v1", space, store=store_url, seed=0).close()
    create_study(
        "v2", space, previous="v1", store=store_url, attrs={"scratch_twin": "v2-s"}
    ).close()
    create_study("v2-s", space, store=store_url, attrs={"twin_of": "v2"}).close()
    code, out, _ = run(capsys, "--store", store_url, "studies")
    assert "none, twin of v2" in out

    code, out, _ = run(capsys, "--store", store_url, "delete", "v2", "--yes")

    assert code == 0
    assert "kept: 'v2-s', the no-transfer twin of 'v2' (--compare)" in out
    code, out, _ = run(capsys, "--store", store_url, "studies")
    assert "v2-s" in out and "twin of" not in out
    code, out, _ = run(capsys, "--store", store_url, "show", "v2-s")
    assert "attrs      twin_of=v2 (no longer: deleted)" in out
    # Nor of a new study that takes the deleted one's name.
    create_study("v2", space, previous="v1", store=store_url).close()
    code, out, _ = run(capsys, "--store", store_url, "studies")
    assert "twin of" not in out
    code, out, _ = run(capsys, "--store", store_url, "delete", "v1", "v2-s")
    assert "kept:" not in out


def test_studies_marks_the_incumbents_of_maximised_studies(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that a maximised study's incumbent is marked, a minimised one's not,
    so the one column of values is not misread."""
    from hptaa_lab import create_study

    for name, direction in (("acc", "maximize"), ("loss", "minimize")):
        study = create_study(
            name, {"x": (0.0, 1.0)}, direction=direction, store=store_url
        )
        study.tell(study.ask(), 0.95)
        study.close()

    code, out, _ = run(capsys, "--store", store_url, "studies")

    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "0.95 (max)" in rows["acc"]
    assert "0.95" in rows["loss"] and "(max)" not in rows["loss"]


def test_studies_marks_imported_studies(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path
) -> None:
    """Check that an imported study says where its trials came from in the
    transfer column (it read "-", as a study tuned here)."""
    from hptaa_lab import create_study

    csv = tmp_path / "runs.csv"
    csv.write_text("x,loss\n0.1,0.5\n0.2,0.4\n")
    assert (
        main(["--store", store_url, "import", str(csv), "old", "--objective", "loss"])
        == 0
    )
    create_study("mine", {"x": (0.0, 1.0)}, store=store_url).close()
    capsys.readouterr()

    code, out, _ = run(capsys, "--store", store_url, "studies")

    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert " none, imported (csv) " in rows["old"]
    assert "imported" not in rows["mine"]


def test_an_interrupted_bench_says_whether_any_unit_was_kept(tmp_path: Path) -> None:
    """Check the message after a Ctrl-C of hptaa bench: finished units are kept
    only if there are any (it said so before the first unit had finished)."""
    import argparse

    from hptaa_lab.cli import _interrupted

    args = argparse.Namespace(command="bench", out=str(tmp_path / "out"))
    assert "before any unit finished" in _interrupted(args)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.jsonl").write_text('{"unit": "x", "rows": []}\n')
    assert "every finished unit is kept in" in _interrupted(args)


def test_an_interrupted_export_says_no_file_was_written_only_for_files() -> None:
    """Check that after a Ctrl-C, export says no output file was written when it
    writes a CSV or Parquet file (whole or not at all), that the Optuna study
    it started was removed, and that standard output holds part of it."""
    import argparse

    from hptaa_lab.cli import _interrupted

    def said(output: str | None, kind: str | None = None) -> str:
        return _interrupted(
            argparse.Namespace(command="export", output=output, kind=kind)
        )

    assert "no output file was written" in said(None)
    assert "no output file was written" in said("v1.parquet", "parquet")
    assert "standard output holds part of the study only" in said("-")
    for output, kind in (("sqlite:///o.db", None), ("o.db", "optuna")):
        assert "no output file was written" not in said(output, kind)
        assert "the Optuna study it had started was removed" in said(output, kind)


def test_the_studies_hint_quotes_a_store_url_for_the_shell() -> None:
    """Check that the demo's closing hint can be pasted into a shell when the
    store's path holds a space (it printed the URL as it is)."""
    import shlex

    from hptaa_lab.cli import _studies_command

    command = _studies_command("sqlite:////tmp/sp ace/s.db")

    assert shlex.split(command) == [
        "hptaa",
        "--store",
        "sqlite:////tmp/sp ace/s.db",
        "studies",
    ]
    assert _studies_command(None) == "hptaa studies"


@pytest.mark.parametrize("report", ["", "FOLDER"])
def test_demo_refuses_a_report_path_that_is_no_file_before_tuning(
    capsys: pytest.CaptureFixture[str], store_url: str, tmp_path: Path, report: str
) -> None:
    """Check that --report naming a folder (or nothing) is refused before any
    tuning (it crashed with IsADirectoryError after all the runs)."""
    path = str(tmp_path) if report == "FOLDER" else report

    code, _, err = run(capsys, "--store", store_url, "demo", "--report", path)

    assert code == 2 and "give the path of an HTML file" in err
    assert TrialStore(store_url).list_studies() == []


def test_demo_refuses_a_chain_benchmark(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    """Check that the demo refuses a chain of adjustments before tuning (it
    tuned the chain's last step alone, under the names of a single step)."""
    code, _, err = run(capsys, "--store", store_url, "demo", "--benchmark", "NAS-CHAIN")

    assert code == 2
    assert "NAS-CHAIN is a chain of adjustments" in err
    assert "hptaa bench --suite chain" in err
    assert TrialStore(store_url).list_studies() == []
