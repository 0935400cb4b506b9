"""``%hptaa import``: bring a previous study in from a CSV or Parquet file or an
Optuna storage."""

from __future__ import annotations

import argparse

from IPython.core.magic_arguments import argument, magic_arguments

from hptaa_lab.jupyter._magics import HptaaMagics, _sqlite_path, register_command
from hptaa_lab.store import TrialStore

__all__: list[str] = []


@magic_arguments(name="hptaa import")
@argument("source", help="a CSV or Parquet file, or an Optuna storage URL")
@argument("name", help="name of the new study in the trial store")
@argument(
    "--from",
    dest="kind",
    choices=("csv", "parquet", "optuna"),
    default=None,
    help="source kind (default: optuna for a URL, parquet for a .parquet or .pq "
    "file, else csv)",
)
@argument("--objective", default="value", help="CSV column of the objective value")
@argument(
    "--columns",
    default=None,
    help="CSV configuration columns, comma separated (default: inferred)",
)
@argument(
    "--direction",
    default="minimize",
    choices=("minimize", "maximize"),
    help="direction of the CSV objective",
)
@argument(
    "--space",
    default=None,
    help="a ConfigSpace JSON file of the search space (hptaa export --space writes "
    "one); needed for a CSV of a conditional space",
)
@argument("--optuna-study", default=None, help="study name inside the Optuna storage")
@argument(
    "--yes",
    action="store_true",
    help="import now; without it, show the inferred search space and what "
    "would be imported, and write nothing",
)
def _import_arguments(line: str) -> None:
    """Import a previous study from a CSV or Parquet file or an Optuna storage.

    Without --yes this is a dry run: it shows the search space (inferred unless the
    source defines it) and how many trials would be imported, so you can check
    them; rerun with --yes to import. The new study can then be used as
    --from in %%hptaa tune.
    """


def _import(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> None:
    from hptaa_lab import interop
    from hptaa_lab.interop._cli import read_space_file, source_kind

    kind = args.kind or source_kind(args.source)
    space = read_space_file(args.space)
    path = _sqlite_path(magics.store_url)
    if not args.yes and path is not None and not path.exists():
        # A dry run writes nothing, not even an empty store: no study exists
        # there yet, so an empty in-memory store answers the same questions.
        store = TrialStore("sqlite://")
    else:
        store = magics.store()
    if kind == "optuna":
        result = interop.import_optuna(
            args.source,
            args.name,
            optuna_study=args.optuna_study,
            space=space,
            store=store,
            dry_run=not args.yes,
        )
    else:
        columns = (
            [c.strip() for c in args.columns.split(",") if c.strip()]
            if args.columns
            else None
        )
        read = interop.import_parquet if kind == "parquet" else interop.import_csv
        result = read(
            args.source,
            args.name,
            objective=args.objective,
            columns=columns,
            direction=args.direction,
            space=space,
            store=store,
            dry_run=not args.yes,
        )
    print(result.format())
    if not args.yes:
        print(f"\nNothing was written. Rerun with --yes to import it as {args.name!r}.")


register_command(
    "import",
    _import_arguments,
    _import,
    summary="import a previous study from a CSV or Parquet file or an Optuna storage",
)
