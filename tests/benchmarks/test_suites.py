"""Tests of benchmark suites: registry, selection, listing and old sweep folders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks._cli import add_parser, benchmark_listing
from hptaa_lab.benchmarks._sweep import (
    FORMAT,
    MANIFEST,
    RESULTS,
    SweepConfig,
    load_results,
    parse_benchmarks,
    prepare_folder,
)
from hptaa_lab.errors import UnknownNameError

PAPER = ["FCN-A", "FCN-B", "NAS-A", "NAS-B", "SVM-A", "SVM-B", "XGB-A", "XGB-B"]
CHAIN = ["FCN-CHAIN", "NAS-CHAIN", "SVM-CHAIN", "XGB-CHAIN"]
INVERTED = ["FCN-INV", "NAS-INV", "XGB-INV"]
HOLDOUT = ["FCN-HO", "NAS-HO", "SVM-HO", "XGB-HO"]


def test_names_default_to_the_paper_suite() -> None:
    """Check that names() still gives the paper's eight and each suite its own."""
    assert benchmarks.names() == PAPER
    assert benchmarks.names("paper") == PAPER
    assert benchmarks.names("Chain") == CHAIN
    assert benchmarks.names("inverted") == INVERTED
    assert benchmarks.names("holdout") == HOLDOUT
    assert benchmarks.names("all") == sorted(PAPER + CHAIN + INVERTED + HOLDOUT)
    assert benchmarks.trained_names("all") == [
        "SVM-A",
        "SVM-B",
        "SVM-CHAIN",
        "SVM-HO",
        "XGB-A",
        "XGB-B",
        "XGB-CHAIN",
        "XGB-HO",
        "XGB-INV",
    ]
    named = ["nas-a", "fcn-chain", "xgb-inv", "svm-ho"]
    assert [benchmarks.suite_of(n) for n in named] == [
        "paper",
        "chain",
        "inverted",
        "holdout",
    ]


def test_unknown_suite_lists_the_valid_ones() -> None:
    """Check that an unknown suite names the valid suites."""
    message = (
        r"Unknown suite 'fancy'\. Valid suite names: paper, chain, inverted, holdout, "
        r"all\."
    )
    with pytest.raises(UnknownNameError, match=message):
        benchmarks.names("fancy")
    with pytest.raises(UnknownNameError, match=message):
        parse_benchmarks(None, "fancy")


def test_unknown_benchmark_lists_every_suite() -> None:
    """Check that an unknown benchmark lists the paper's benchmarks, then those
    of the other suites, and keeps every name in ``valid``."""
    with pytest.raises(UnknownNameError) as info:
        benchmarks.get("FCN-C")

    assert str(info.value) == (
        "Unknown benchmark 'FCN-C'. Valid benchmark names: "
        + ", ".join(PAPER)
        + ". Benchmarks of the other suites: chain: "
        + ", ".join(CHAIN)
        + "; inverted: "
        + ", ".join(INVERTED)
        + "; holdout: "
        + ", ".join(HOLDOUT)
        + ". Did you mean 'FCN-B'?"
    )
    assert info.value.valid == benchmarks.names("all")


def test_suites_select_benchmarks_besides_named_ones() -> None:
    """Check that a sweep runs the paper's benchmarks by default, and a suite's
    benchmarks on every task, before any named ones, without repeats."""
    default = SweepConfig.create(None, ["tpe"], [10], 1)
    assert sorted({b for b, _ in default.tasks}) == PAPER

    config = SweepConfig.create(
        ["NAS-A:cifar10", "nas-inv:imagenet"], ["tpe"], [10], 1, suite="inverted"
    )
    assert config.tasks[:3] == (
        ("FCN-INV", "naval_propulsion"),
        ("FCN-INV", "parkinsons_telemonitoring"),
        ("FCN-INV", "protein_structure"),
    )
    assert config.tasks[-1] == ("NAS-A", "cifar10")
    assert len(config.tasks) == 4 + 3 + 4 + 1

    both = parse_benchmarks(None, ["chain", "inverted"])
    assert sorted({b for b, _ in both}) == sorted(CHAIN + INVERTED)
    assert len(parse_benchmarks(None, "all")) == 30 + 15 + 11 + 15


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hptaa")
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_cli_lists_benchmarks_with_their_suite(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that ``hptaa bench --list`` shows every benchmark with its suite and
    runs nothing."""
    args = _parser().parse_args(["bench", "--list", "--out", "/nonexistent/never"])

    assert args.handler(args) == 0

    printed = capsys.readouterr().out
    assert printed == benchmark_listing()
    assert "NAS-A [paper, 2 versions] tasks: cifar10, cifar100, imagenet\n" in printed
    assert "FCN-CHAIN [chain, 3 versions] tasks: naval_propulsion," in printed
    assert "NAS-INV [inverted, 2 versions] tasks:" in printed
    assert "SVM-HO [holdout, 2 versions] tasks:" in printed
    assert printed.count(" versions] tasks: ") == 19


def test_cli_parses_suites() -> None:
    """Check that --suite takes a comma-separated list."""
    args = _parser().parse_args(["bench", "--suite", "chain,inverted"])

    assert args.suite == ["chain", "inverted"]
    assert _parser().parse_args(["bench"]).suite is None


def test_folder_of_the_first_format_still_resumes(tmp_path: Path) -> None:
    """Check that a sweep folder written before the suites existed (manifest of
    format 1 with exactly its fields) resumes: the manifest is accepted and its
    finished units are kept."""
    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe", "best-first"], [10], 2)
    old_manifest = {
        "format": 1,
        "tasks": [["NAS-B", "cifar10"]],
        "methods": ["tpe", "best-first"],
        "previous_budgets": [10],
        "seeds": 2,
        "reference_seeds": 50,
        "use_mapping": False,
        "target_budgets": [10, 20, 40],
        "min_evaluations": 40,
        "max_evaluations": 400,
    }
    (tmp_path / MANIFEST).write_text(json.dumps(old_manifest, indent=2) + "\n")
    rows = [
        {"benchmark": "NAS-B", "method": method, "previous_budget": 10}
        for method in ["tpe", "best-first"]
    ]
    line = json.dumps({"unit": "NAS-B|cifar10|10|0", "rows": rows})
    (tmp_path / RESULTS).write_text(line + "\n")

    prepare_folder(tmp_path, config)

    assert FORMAT == 1
    assert json.loads((tmp_path / MANIFEST).read_text()) == old_manifest
    assert list(load_results(tmp_path / RESULTS, config)) == ["NAS-B|cifar10|10|0"]


def test_damaged_middle_line_skips_only_its_unit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that damaged lines in the middle of results.jsonl cost only their own
    units (the finished units after them are kept, with a warning): not JSON, a
    carriage return inside, a unit that is not text, rows without a benchmark,
    nested too deep. Only a cut-short last line is removed from the file."""
    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe"], [10], 4)

    def line(seed: int) -> str:
        rows = [{"benchmark": "NAS-B", "method": "tpe", "previous_budget": 10}]
        return json.dumps({"unit": f"NAS-B|cifar10|10|{seed}", "rows": rows})

    damaged = [
        "{not json",
        "junk\rjunk",
        '{"unit": ["x"], "rows": [{"benchmark": "NAS-B", "method": "tpe"}]}',
        '{"unit": "NAS-B|cifar10|10|1", "rows": [{"method": "tpe"}]}',
        "[" * 100_000,
        # Valid JSON, but text where a number goes (the tables then failed).
        '{"unit": "NAS-B|cifar10|10|1", "rows": [{"benchmark": "NAS-B", '
        '"method": "tpe", "evals_to_target_10": "abc"}]}',
    ]
    body = "\n".join([line(0), *damaged, line(2), line(3)])
    path = tmp_path / RESULTS
    path.write_bytes((body + "\n" + line(1)[:20]).encode())

    with caplog.at_level("WARNING"):
        done = load_results(path, config)

    assert sorted(done) == [f"NAS-B|cifar10|10|{s}" for s in (0, 2, 3)]
    assert (
        "Skipped 6 damaged line(s)" in caplog.text
        and "line 2, 3, 4, 5, 6, ..." in caplog.text
    )
    assert path.read_bytes() == (body + "\n").encode()


def test_lines_ended_by_carriage_returns_only_are_left_in_the_file(
    tmp_path: Path,
) -> None:
    """Check that a file whose lines end in carriage returns only is not taken
    for one cut-short line and emptied."""
    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe"], [10], 2)
    rows = [{"benchmark": "NAS-B", "method": "tpe", "previous_budget": 10}]
    text = "\r".join(
        json.dumps({"unit": f"NAS-B|cifar10|10|{s}", "rows": rows}) for s in (0, 1)
    )
    path = tmp_path / RESULTS
    path.write_bytes((text + "\r").encode())

    load_results(path, config)

    assert path.read_bytes() == (text + "\r").encode()


def test_whole_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    """Check that a complete record on the last line without a newline (an editor
    dropped it) is kept, and the newline is added back for the next append."""
    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe"], [10], 2)
    rows = [{"benchmark": "NAS-B", "method": "tpe", "previous_budget": 10}]
    text = json.dumps({"unit": "NAS-B|cifar10|10|0", "rows": rows})
    path = tmp_path / RESULTS
    path.write_text(text)

    assert list(load_results(path, config)) == ["NAS-B|cifar10|10|0"]
    assert path.read_text() == text + "\n"


def test_folder_that_cannot_be_written_is_a_sweep_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that an --out folder the user cannot write to (here: opening the lock
    file is denied) is a clear SweepError, not a traceback."""
    from hptaa_lab.benchmarks import _sweep

    def denied(folder: Path) -> None:
        raise PermissionError(13, "Permission denied", str(folder / _sweep.LOCK))

    monkeypatch.setattr(_sweep, "_only_writer", denied)
    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe"], [10], 1)
    with pytest.raises(_sweep.SweepError, match="Cannot write to the --out folder"):
        _sweep.run_sweep(config, out=tmp_path)


def test_second_sweep_on_a_busy_folder_is_refused(tmp_path: Path) -> None:
    """Check that a sweep on a folder another sweep is writing to stops with a
    clear error (and runs nothing), and that the folder is usable once free."""
    from hptaa_lab.benchmarks._sweep import SweepError, _only_writer, run_sweep

    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe"], [10], 1)
    prepare_folder(tmp_path, config)
    with _only_writer(tmp_path), pytest.raises(SweepError, match="Another sweep"):
        run_sweep(config, out=tmp_path)
    assert not (tmp_path / RESULTS).exists()
    with _only_writer(tmp_path):
        pass


def test_suite_order_does_not_make_another_sweep(tmp_path: Path) -> None:
    """Check that a folder made with --suite chain,inverted resumes with
    inverted,chain (and all), and that another sweep's refusal is short."""
    from hptaa_lab.benchmarks._sweep import SweepError

    def config(suite: list[str]) -> SweepConfig:
        return SweepConfig.create(None, ["tpe"], [10], 1, suite=suite)

    prepare_folder(tmp_path, config(["chain", "inverted"]))
    prepare_folder(tmp_path, config(["inverted", "chain"]))
    with pytest.raises(SweepError, match=r"tasks: \d+ not there, e\.g\.") as error:
        prepare_folder(tmp_path, config(["all"]))
    assert len(str(error.value)) < 500


def test_listing_follows_the_suite_and_out_must_be_a_folder(tmp_path: Path) -> None:
    """Check that --list --suite lists that suite only, and that --out naming a
    file is a clear error."""
    from hptaa_lab.benchmarks._sweep import SweepError

    listing = benchmark_listing(["chain"])
    assert "NAS-CHAIN" in listing and "FCN-A " not in listing
    with pytest.raises(UnknownNameError, match="suite"):
        benchmark_listing(["nope"])
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(SweepError, match="is a file, not a folder"):
        prepare_folder(afile, SweepConfig.create(None, ["tpe"], [10], 1))


def test_a_damaged_targets_file_is_computed_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Check that a targets.json that cannot be read (cut short, or values of
    the wrong kind) is computed again with a warning (it stopped every resume
    with a JSONDecodeError), and written whole."""
    from hptaa_lab.benchmarks._sweep import TARGETS, _targets

    config = SweepConfig.create(["NAS-B:cifar10"], ["tpe"], [10], 1, reference_seeds=2)

    def execute(function: Any, jobs: list[Any]) -> Any:
        return [(job, function(job)) for job in jobs]

    first = _targets(config, tmp_path, execute)
    for damage in (
        '{"x":',
        '{"NAS-B|cifar10": {"budgets": [10, 20, 40], '
        '"values": ["a", "b", "c"], "reference_seeds": 2}}',
    ):
        (tmp_path / TARGETS).write_text(damage)
        with caplog.at_level("WARNING"):
            again = _targets(config, tmp_path, execute)
        assert "cannot be read" in caplog.text and "computed again" in caplog.text
        assert again == first
        caplog.clear()
    assert [p.name for p in tmp_path.iterdir()] == [TARGETS]
