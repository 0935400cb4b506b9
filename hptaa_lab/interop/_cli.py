"""The ``hptaa import`` and ``hptaa export`` subcommands."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from hptaa_lab.cli import DEFERRED_SUBCOMMANDS, delete_command
from hptaa_lab.interop._common import DIRECTIONS, InteropError

__all__ = [
    "add_parsers",
    "define_export",
    "define_import",
    "run_export",
    "run_import",
]

logger = logging.getLogger(__name__)

_CSV = "csv"
_OPTUNA = "optuna"
_PARQUET = "parquet"
_PARQUET_SUFFIXES = (".parquet", ".pq")
_OTHER_FORMATS = frozenset(
    [
        ".xlsx",
        ".xls",
        ".ods",
        ".json",
        ".jsonl",
        ".feather",
        ".arrow",
        ".h5",
        ".hdf5",
        ".pkl",
        ".pickle",
        ".db",
        ".sqlite",
        ".sqlite3",
        ".html",
        ".tsv",
    ]
)
"""Suffixes of formats that hptaa export does not write: a CSV under such a name
would not open where the name promises."""


def add_parsers(
    subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()
) -> None:
    """Add ``import`` and ``export`` to the subparsers of a parser of one's own
    (the ``hptaa`` command defers `define_import` and `define_export` until the
    subcommand is used).

    Args:
        subparsers: What ``ArgumentParser.add_subparsers`` returned. The
            handlers read the ``--store`` option as ``args.store``.
        parents: Parsers whose options every subcommand takes (such as a
            ``--store`` that may follow the subcommand).
    """
    for name, define in (("import", define_import), ("export", define_export)):
        define(
            subparsers.add_parser(
                name, parents=list(parents), help=DEFERRED_SUBCOMMANDS[name].help
            )
        )


def define_import(parser: argparse.ArgumentParser) -> None:
    """Give the ``import`` subcommand's parser its description, arguments and
    handler (set as ``handler``)."""
    parser.description = (
        "Import a previous study into the trial store, so that a new "
        "study can transfer from it (create_study(..., previous=NAME)). SOURCE is a "
        "CSV file with one trial per row (configuration columns and an objective "
        "column), a Parquet file of the same layout, or an Optuna storage URL, "
        "whose COMPLETE trials are imported. "
        "Without --space the search space is inferred and shown."
    )
    parser.add_argument(
        "source", metavar="SOURCE", help="CSV or Parquet file, or Optuna storage URL"
    )
    parser.add_argument("name", metavar="NAME", help="name of the new study")
    parser.add_argument(
        "--from",
        dest="kind",
        choices=(_CSV, _PARQUET, _OPTUNA),
        default=None,
        help="what SOURCE is (default: optuna for a URL, parquet for a .parquet "
        "or .pq file, else csv)",
    )
    parser.add_argument(
        "--objective",
        default="value",
        help="CSV or Parquet: the column holding the objective value (value)",
    )
    parser.add_argument(
        "--columns",
        default=None,
        metavar="A,B,...",
        help="CSV or Parquet: the configuration columns (default: the params_* "
        "columns if any, else every column but the objective)",
    )
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default=None,
        help="CSV or Parquet: minimize or maximize the objective (minimize); an Optuna "
        "study brings its own",
    )
    parser.add_argument(
        "--space",
        default=None,
        metavar="FILE",
        help="the search space as ConfigSpace JSON, instead of inferring it",
    )
    parser.add_argument(
        "--optuna-study",
        default=None,
        metavar="STUDY",
        help="Optuna: the study to import (needed if the storage holds several)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show the search space and what would be imported; write nothing",
    )
    parser.set_defaults(handler=run_import)


def define_export(parser: argparse.ArgumentParser) -> None:
    """Give the ``export`` subcommand's parser its description, arguments and
    handler (set as ``handler``)."""
    parser.description = (
        "Write a study's trials to a CSV or Parquet file (one row per "
        "trial, a params_<name> column per hyperparameter), or to a new study in an "
        "Optuna storage that Optuna's own tools can show."
    )
    parser.add_argument("study", metavar="STUDY", help="the study to export")
    parser.add_argument(
        "output",
        metavar="OUTPUT",
        nargs="?",
        default=None,
        help="a .csv or .parquet file, an Optuna storage URL, or - for CSV on "
        "standard output (default: STUDY.csv, STUDY.parquet with --format parquet)",
    )
    parser.add_argument(
        "--format",
        dest="kind",
        choices=(_CSV, _PARQUET, _OPTUNA),
        default=None,
        help="what to write (default: from OUTPUT)",
    )
    parser.add_argument(
        "--optuna-study",
        default=None,
        metavar="NAME",
        help="Optuna: name of the new Optuna study (default: STUDY)",
    )
    parser.add_argument(
        "--space",
        default=None,
        metavar="FILE",
        help="also write the study's search space to FILE as ConfigSpace JSON, "
        "which hptaa import --space reads back (a table does not hold the space)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace OUTPUT (and the --space FILE) if it exists (default: refuse)",
    )
    parser.set_defaults(handler=run_export)


def run_import(args: argparse.Namespace) -> int:
    """Handle ``hptaa import``; returns the exit status."""
    from hptaa_lab.interop import import_csv, import_optuna, import_parquet

    kind = args.kind or source_kind(args.source)
    space = read_space_file(args.space)
    if kind == _OPTUNA:
        if args.direction is not None or args.columns is not None:
            raise InteropError(
                "--direction and --columns apply to CSV files; an Optuna study "
                "brings its own direction and parameters."
            )
        result = import_optuna(
            args.source,
            args.name,
            optuna_study=args.optuna_study,
            space=space,
            store=args.store,
            dry_run=args.dry_run,
        )
    else:
        columns = None
        if args.columns is not None:
            columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        read = import_parquet if kind == _PARQUET else import_csv
        result = read(
            args.source,
            args.name,
            objective=args.objective,
            columns=columns,
            space=space,
            direction=args.direction or "minimize",
            store=args.store,
            dry_run=args.dry_run,
        )
    print(result.format())
    sibling = Path(args.source).with_suffix(".json")
    if result.space_inferred and kind != _OPTUNA and sibling.is_file():
        again = (
            ""
            if result.dry_run
            else f" (`{delete_command(result.name, args.store)}` first, to import it "
            "again)"
        )
        print(
            f"\nNote: {sibling} lies beside the data; if it is the search space "
            f"that `hptaa export --space` wrote, pass --space {sibling}{again}: an "
            "inferred space knows only the values the data holds."
        )
    return 0


def source_kind(source: str) -> str:
    """What an import SOURCE is: "optuna" for a URL, "parquet" for a .parquet or
    .pq file, else "csv"."""
    if "://" in source:
        return _OPTUNA
    return _PARQUET if Path(source).suffix.lower() in _PARQUET_SUFFIXES else _CSV


def _file_name(study: str) -> str:
    """A file name for ``study`` in the working folder: path separators and
    characters that are unsafe in file names become '_', a leading '.' too."""
    name = re.sub(r"[^\w.\-+=@,]", "_", study)
    return "_" + name[1:] if name.startswith(".") else name


def run_export(args: argparse.Namespace) -> int:
    """Handle ``hptaa export``; returns the exit status."""
    from hptaa_lab.interop import (
        export_csv,
        export_dataframe,
        export_optuna,
        export_parquet,
    )
    from hptaa_lab.study import open_store

    # Exporting reads: a --store path that holds no store is an error, not a new
    # empty store.
    store = open_store(args.store, create=False)
    # Without OUTPUT the file goes to the working folder, whatever the study name
    # holds (a '/' or '..' names no folder here).
    if args.output is None and args.kind == _OPTUNA:
        raise InteropError(
            "--format optuna writes into an Optuna storage: give its URL, or a "
            "SQLite file to hold it, as OUTPUT (e.g. hptaa export "
            f"{args.study} sqlite:///optuna.db, or optuna.db --format optuna)."
        )
    suffix = ".parquet" if args.kind == _PARQUET else ".csv"
    output = args.output or _file_name(args.study) + suffix
    kind = args.kind or _kind_of(output)
    if args.space is not None and (kind == _OPTUNA or output == "-"):
        raise InteropError(
            "--space goes with a CSV or Parquet file: an Optuna study holds its "
            "own search space, and standard output takes the table alone."
        )
    if kind == _OPTUNA:
        if "://" not in output:
            # A file path with --format optuna: an Optuna storage in that SQLite file.
            output = f"sqlite:///{Path(output).absolute()}"
        name = export_optuna(
            args.study, output, optuna_study=args.optuna_study, store=store
        )
        print(f"exported study {args.study!r} to Optuna study {name!r} in {output}")
        return 0
    if output == "-":
        if kind != _CSV:
            raise InteropError("Only CSV can be written to standard output (-).")
        export_dataframe(args.study, store=store).to_csv(sys.stdout, index=False)
        # Standard output holds the table alone.
        _note_direction(store, args.study, sys.stderr)
        return 0

    if args.space is not None:
        _check_space_target(args.space, output)
    for target in (output, args.space):
        if target is not None and Path(target).is_dir():
            raise InteropError(f"{target} is a folder; give a file name.")
        if target is not None and Path(target).exists() and not args.force:
            # Two study names can also share a file name ('a/b' and 'a_b').
            raise InteropError(
                f"{target} exists; hptaa export does not replace a file. Give "
                "another name, or --force to replace it."
            )
    write = export_parquet if kind == _PARQUET else export_csv
    path = write(args.study, output, store=store)
    print(f"exported study {args.study!r} to {path}")
    if args.space is not None:
        _write_space(store.get_study(args.study).space_json, args.space)
        print(
            f"wrote its search space to {args.space} (hptaa import {path} NAME "
            f"--space {args.space} reads both back)"
        )
    _note_direction(store, args.study, sys.stdout)
    return 0


def _note_direction(store: Any, study: str, out: TextIO) -> None:
    """Say that a maximised study's table imports with --direction maximize:
    a table keeps no direction, and import minimises by default."""
    if store.get_study(study).direction == "maximize":
        print(
            f"note: {study!r} maximizes its objective; import this file with "
            "--direction maximize.",
            file=out,
        )


def _check_space_target(space: str, output: str) -> None:
    """Refuse a --space FILE that is the table's own file or cannot be written,
    before anything is written."""
    target = Path(space)
    if target.resolve() == Path(output).resolve():
        raise InteropError(
            f"--space {space} names the table's own file; give the search space a "
            "file of its own, e.g. SPACE.json."
        )
    if target.is_dir() or not target.parent.is_dir():
        raise InteropError(
            f"Cannot write the search space to {space}: "
            + ("it is a folder." if target.is_dir() else "its folder does not exist.")
        )


def _write_space(space_json: str, path: str) -> None:
    try:
        Path(path).write_text(space_json + "\n", encoding="utf-8")
    except OSError as exc:
        raise InteropError(
            f"Cannot write the search space to {path}: {exc.strerror or exc}."
        ) from None


def writes_a_file(output: str | None, kind: str | None) -> bool:
    """Whether ``hptaa export`` with this OUTPUT and --format writes a CSV or
    Parquet file (not an Optuna storage, nor standard output)."""
    if output == "-":
        return False
    if kind is not None:
        return kind != _OPTUNA
    try:
        return output is None or _kind_of(output) != _OPTUNA
    except InteropError:
        return False  # refused before anything was written


def _kind_of(output: str) -> str:
    """What to write, from the output's form; a suffix that names a format
    export does not write (.xlsx, .json) is refused rather than given a CSV
    under that name."""
    if "://" in output:
        return _OPTUNA
    suffix = Path(output).suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        return _PARQUET
    if suffix not in _OTHER_FORMATS:
        # Other names (svm_v1.2, runs.csv.gz: pandas compresses by the suffix)
        # get CSV, the default.
        return _CSV
    raise InteropError(
        f"Cannot tell what to write to {output}: hptaa export writes CSV (.csv or "
        ".txt), Parquet (.parquet, .pq) or an Optuna storage (a URL). Give "
        "one of those, or --format csv to write CSV under this name."
    )


def read_space_file(path: str | None) -> Any:
    """The search space in a ConfigSpace JSON file (as ``hptaa export --space``
    writes it), or None."""
    if path is None:
        return None
    from hptaa_lab.errors import InvalidSearchSpaceError
    from hptaa_lab.space import space_from_json

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InteropError(
            f"Cannot read the search space file {path}: {exc.strerror or exc}. "
            "Pass a ConfigSpace JSON file, as written by space_to_json."
        ) from None
    try:
        return space_from_json(text)
    except InvalidSearchSpaceError as exc:
        raise InteropError(
            f"The search space file {path} is not usable: {exc}"
        ) from None
