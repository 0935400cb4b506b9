"""The ``hptaa`` command: the main job, and a look into the trial store."""

from __future__ import annotations

import argparse
import importlib
import itertools
import logging
import os
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from hptaa_lab._argtypes import count_int, positive_int, seed_int
from hptaa_lab.errors import HptaaError

__all__ = ["DEFERRED_SUBCOMMANDS", "DeferredSubcommand", "build_parser", "main"]

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class DeferredSubcommand:
    """A subcommand whose module is slow to import (it loads pandas, ConfigSpace
    or scikit-learn), so its parser is filled in only when it is used.

    Attributes:
        help: Its line in ``hptaa --help``.
        define: "module:function"; the function gets the subcommand's parser and
            adds its description, arguments and handler.
        store_option: Whether ``--store`` may follow the subcommand.
    """

    help: str
    define: str
    store_option: bool = True


#: The subcommands after ``diff``, in the order ``hptaa --help`` lists them.
DEFERRED_SUBCOMMANDS = {
    "import": DeferredSubcommand(
        "import a previous study from a CSV or Parquet file or an Optuna storage",
        "hptaa_lab.interop._cli:define_import",
    ),
    "export": DeferredSubcommand(
        "export a study to CSV, Parquet or an Optuna storage",
        "hptaa_lab.interop._cli:define_export",
    ),
    "bench": DeferredSubcommand(
        "the paper's protocol over benchmarks, methods, budgets and seeds",
        "hptaa_lab.benchmarks._cli:define_bench",
        store_option=False,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hptaa`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="hptaa",
        allow_abbrev=False,
        description="Hyperparameter transfer across developer adjustments: keep every "
        "study, diff search spaces, and tune the next version with a head start.",
    )
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="trial store (SQLAlchemy URL, or a SQLite file's path); default "
        "sqlite:///.hptaa/studies.db",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        required=True,
        parser_class=_SubcommandParser,
    )
    common = _SubcommandParser(add_help=False)
    common.add_argument(
        "--store",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="trial store (SQLAlchemy URL, or a SQLite file's path)",
    )

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="the main job on a built-in real benchmark, with an HTML report",
        description="Tune the previous version of a benchmark, show the search-space "
        "diff, then tune the current version with and without transfer and report "
        "the gain.",
    )
    demo.add_argument("--benchmark", default="SVM-B", help="benchmark name (SVM-B)")
    demo.add_argument(
        "--task",
        default=None,
        help="task (default: diabetes for SVM-A and SVM-B, else the first one)",
    )
    demo.add_argument(
        "--trials",
        type=positive_int,
        default=40,
        help="budget of each current study (40)",
    )
    demo.add_argument(
        "--previous-trials",
        type=positive_int,
        default=20,
        help="budget of the previous study (20)",
    )
    demo.add_argument(
        "--seed", type=seed_int, default=0, help="seed of every sampler (0)"
    )
    demo.add_argument(
        "--runs",
        type=positive_int,
        default=5,
        help="repeat the whole job with seeds SEED, SEED+1, ... and summarise (5); "
        "the report shows the first run",
    )
    demo.add_argument("--transfer", default=None, help="transfer method (default auto)")
    demo.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="evaluate this many trials at a time on Dask",
    )
    demo.add_argument(
        "--report",
        default="hptaa_report.html",
        help="where to write the HTML report (hptaa_report.html)",
    )
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(handler=_demo)

    studies = sub.add_parser(
        "studies",
        parents=[common],
        help="list studies with their lineage",
        description="List every study in the store as a tree of lineage (each "
        "study under its previous one), with its transfer method, sampler, "
        "complete and total trials, incumbent value and creation time.",
    )
    studies.set_defaults(handler=_studies)

    show = sub.add_parser(
        "show",
        parents=[common],
        help="show one study: space, mapping, trials",
        description="Show one study: its search space, previous study and mapping, "
        "the diff against the previous study, the incumbent and the latest trials.",
    )
    show.add_argument("study", metavar="STUDY", help="study name (see hptaa studies)")
    show.add_argument(
        "--trials",
        type=count_int,
        default=10,
        help="how many of the latest trials to list (10; 0 lists none)",
    )
    show.set_defaults(handler=_show)

    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="search-space diff between two studies",
        description="Classify how every hyperparameter changed from STUDY_A's search "
        "space to STUDY_B's (with STUDY_B's mapping when STUDY_A is its previous "
        "study), and suggest renames.",
    )
    diff.add_argument("study_a", metavar="STUDY_A", help="previous study")
    diff.add_argument("study_b", metavar="STUDY_B", help="current study")
    diff.set_defaults(handler=_diff)

    delete = sub.add_parser(
        "delete",
        parents=[common],
        help="delete studies and their trials",
        description="Delete studies and all their trials from the store. Without "
        "--yes it only lists what would be deleted. A study that another study "
        "transfers from (its previous study) is deleted only together with that "
        "study. A study that a process is tuning (a trial in flight, or between "
        "two trials) is not deleted: stop the run first; a process on another "
        "host cannot be checked and also blocks, unless --force. A --compare run's "
        "no-transfer twin (NAME-scratch) is kept unless named too.",
    )
    delete.add_argument(
        "studies", metavar="STUDY", nargs="+", help="study names (see hptaa studies)"
    )
    delete.add_argument(
        "--yes", action="store_true", help="delete (without it: only list)"
    )
    delete.add_argument(
        "--force",
        action="store_true",
        help="delete even while processes on other hosts are recorded as tuning "
        "the studies (they ended without saying so); a live process on this "
        "host still blocks",
    )
    delete.set_defaults(handler=_delete)

    for name, deferred in DEFERRED_SUBCOMMANDS.items():
        sub.add_parser(
            name,
            parents=[common] if deferred.store_option else [],
            help=deferred.help,
            define=deferred.define,
        )
    for subparser in sub.choices.values():
        # An unknown option is reported with the usage of its subcommand.
        subparser.set_defaults(subparser=subparser)
    return parser


class _SubcommandParser(argparse.ArgumentParser):
    """The parser of a subcommand, or of options all subcommands take. One made
    with ``define`` (a DeferredSubcommand's) imports its module and gets its
    arguments when it first parses or shows help."""

    def __init__(self, *args: Any, define: str | None = None, **kwargs: Any) -> None:
        # No abbreviated options: "delete x --y" must not mean --yes.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._define = define
        self._parsing: list[str] = []
        self._intermixing = False

    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        self._load()
        self._parsing = list(sys.argv[1:] if args is None else args)
        if self._intermixing or self._subparsers is not None or "--" in self._parsing:
            return super().parse_known_args(args, namespace)
        # Options may come between the names: "export STUDY --format parquet
        # OUT" left OUT over, because argparse fills STUDY [OUTPUT] at once.
        # (After "--", where every option came first, argparse's own way holds:
        # intermixed parsing does not keep "--" apart.)
        self._intermixing = True
        try:
            return super().parse_known_intermixed_args(self._parsing, namespace)
        finally:
            self._intermixing = False

    def error(self, message: str) -> NoReturn:
        """Print the usage and the error; an unknown option (such as a study
        named ``-x``) also says where a name that starts with "-" goes."""
        ahead = list(itertools.takewhile(lambda arg: arg != "--", self._parsing))
        unknown = [arg for arg in ahead if self._unknown_option(arg)]
        named_first = any(not arg.startswith("-") for arg in ahead[:1])
        if (
            "--" in self._parsing
            and "unrecognized arguments" in message
            and (named_first or not unknown)
        ):
            # Options may come between the names, but not once "--" is there.
            message += (
                "\nWith '--', every option comes first, then '--', then all the "
                f"names ({self.prog} [options] -- NAME ...)."
            )
        elif unknown and self._get_positional_actions():
            names = " ".join(shlex.quote(arg) for arg in unknown)
            message += (
                f"\n{names}: no option of {self.prog}. A name that starts with '-' "
                "goes after '--', which ends the options: every option first, then "
                f"'--', then the names ({self.prog} [options] -- {names})."
            )
        super().error(message)

    def _unknown_option(self, arg: str) -> bool:
        """Whether argparse reads ``arg`` as an option that this parser does not
        know (abbreviations are off: every option is spelled out)."""
        if not arg.startswith("-") or arg in ("-", "--"):
            return False
        if self._negative_number_matcher.match(arg):
            return False  # argparse reads "-1" and "-.5" as values
        if arg.split("=", 1)[0] in self._option_string_actions:
            return False
        if arg.startswith("--") or len(arg) == 2:
            return True
        # "-n5" is a short option with its value attached; "-hello" is none.
        action = self._option_string_actions.get(arg[:2])
        return action is None or action.nargs == 0

    def format_usage(self) -> str:
        self._load()
        return super().format_usage()

    def format_help(self) -> str:
        self._load()
        return super().format_help()

    def _load(self) -> None:
        if self._define is None:
            return
        module, _, function = self._define.partition(":")
        self._define = None
        getattr(importlib.import_module(module), function)(self)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hptaa`` command; returns the exit status."""
    try:
        # Parsing bench, import or export imports their modules, which takes a
        # moment: Ctrl-C then is an interruption too, not a traceback.
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            getattr(args, "subparser", parser).error(
                f"unrecognized arguments: {' '.join(unknown)}"
            )
    except KeyboardInterrupt:
        print("\ninterrupted before anything ran.", file=sys.stderr)
        return 130
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    args.started_at = datetime.now(UTC)
    try:
        return handler(args)
    except HptaaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(_interrupted(args), file=sys.stderr)
        return 130


def _interrupted(args: argparse.Namespace) -> str:
    """What survives an interruption of the command, and how to go on."""
    if args.command == "bench":
        out = args.out
        results = Path(out) / "results.jsonl"
        if not results.is_file() or results.stat().st_size == 0:
            return (
                "\ninterrupted before any unit finished; the same command starts "
                "the sweep again."
            )
        return (
            f"\ninterrupted: every finished unit is kept in {out} (results.jsonl); "
            "rerun the same command with the same --out to resume."
        )
    if args.command == "import":
        return _import_interrupted(args)
    if args.command == "export" and getattr(args, "output", None) == "-":
        return (
            "\ninterrupted: the export did not finish, so what it wrote to standard "
            "output holds part of the study only; the study in the trial store is "
            "unchanged."
        )
    if args.command == "export" and not _exports_a_file(args):
        return (
            "\ninterrupted: the export did not finish; the Optuna study it had "
            "started was removed (a warning above says so if it could not be), and "
            "the study in the trial store is unchanged."
        )
    if args.command == "export":
        # A file is written whole or not at all (renamed into place at the end).
        return (
            "\ninterrupted: the export did not finish, and no output file was "
            "written or changed; the study in the trial store is unchanged."
        )
    return "\ninterrupted: every finished trial is kept in the trial store."


def _exports_a_file(args: argparse.Namespace) -> bool:
    """Whether ``hptaa export`` writes a CSV or Parquet file (not an Optuna
    study, nor standard output)."""
    from hptaa_lab.interop._cli import writes_a_file

    return writes_a_file(getattr(args, "output", None), getattr(args, "kind", None))


def _import_interrupted(args: argparse.Namespace) -> str:
    """An import is one transaction: say whether it was stored before the
    interruption (a Ctrl-C during the write waits for it to end)."""
    if getattr(args, "dry_run", False):
        return "\ninterrupted: a dry run writes nothing."
    from hptaa_lab.study import open_store

    try:
        with open_store(args.store, create=False) as store:
            record = store.get_study(args.name) if store.has_study(args.name) else None
            count = sum(store.count_trials(args.name).values()) if record else 0
    except Exception:  # no store yet, or it cannot be read: nothing to report
        record, count = None, 0
    started = getattr(args, "started_at", None)
    created = None if record is None else record.created_at
    if created is not None and started is not None and created < started:
        return (
            f"\ninterrupted: nothing was imported; a study named {args.name!r} "
            f"already holds {count} trials (`hptaa show {args.name}`): import under "
            "another name."
        )
    if record is not None:
        return (
            f"\ninterrupted after the import was stored: study {args.name!r} holds "
            f"{count} trials (`hptaa show {args.name}`)."
        )
    return (
        "\ninterrupted: nothing was imported (an import is stored whole or not at "
        "all); run the command again."
    )


def _demo(args: argparse.Namespace) -> int:
    from hptaa_lab.demo import format_runs, run_demo, write_demo_report
    from hptaa_lab.study import DEFAULT_TRANSFER

    bar = _ProgressBar(
        (args.previous_trials + 2 * args.trials) * args.runs, disabled=args.no_progress
    )

    def on_diff(space_diff: Any) -> None:
        bar.write("\nSearch-space diff (previous -> current):\n")
        bar.write(space_diff.format_table() + "\n")

    if not args.report.strip() or Path(args.report).is_dir():
        # Checked before the tuning, which the report comes after.
        why = "is a folder" if args.report.strip() else "names no file"
        print(
            f"error: --report {args.report!r} {why}; give the path of an HTML file, "
            "e.g. --report results/demo.html.",
            file=sys.stderr,
        )
        return 2
    seeds = [args.seed + k for k in range(args.runs)]
    if seeds[-1] >= 2**62:
        print(
            f"error: --seed {args.seed} with --runs {args.runs} would use seeds up to "
            f"{seeds[-1]}; seeds go up to 2**62 - 1. Give a smaller --seed.",
            file=sys.stderr,
        )
        return 2
    results = []
    try:
        for k, seed in enumerate(seeds):
            if len(seeds) > 1:
                bar.write(f"\nrun {k + 1} of {len(seeds)} (seed {seed})\n")
            results.append(
                run_demo(
                    args.benchmark,
                    args.task,
                    trials=args.trials,
                    previous_trials=args.previous_trials,
                    seed=seed,
                    method=args.transfer or DEFAULT_TRANSFER,
                    store=args.store,
                    workers=args.workers,
                    on_diff=on_diff if k == 0 else None,
                    progress=bar.update,
                )
            )
    finally:
        bar.close()
    result = results[0]
    print(
        f"\nSummary: {result.benchmark} on {result.task}, transfer method "
        f"{result.method}, seed {args.seed}\n"
    )
    print(result.format_summary())
    runs = format_runs(results, seeds) if len(results) > 1 else None
    if runs:
        print("\n" + runs)
    replaced = Path(args.report).exists()
    path = write_demo_report(result, args.report, runs)
    print(f"\nreport (seed {args.seed}): {path}")
    if replaced:
        print(
            "(it replaced the report of an earlier demo; --report PATH writes "
            "elsewhere)"
        )
    names = [name for r in results for name in (r.previous, r.transfer, r.scratch)]
    shown = ", ".join(names[:3]) + (
        f" and {len(names) - 3} more" if len(names) > 3 else ""
    )
    print(
        f"studies: {shown} "
        f"(in {result.store_url}; see "
        f"`{_studies_command(None if args.store is None else result.store_url)}`)"
    )
    return 0


class _ProgressBar:
    """Progress on stderr: a tqdm bar on a terminal, a line per 10 trials otherwise."""

    def __init__(self, total: int, disabled: bool) -> None:
        from tqdm import tqdm

        self._lines = not sys.stderr.isatty() and not disabled
        self._bar = tqdm(
            total=total,
            disable=disabled or self._lines,
            unit="trial",
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.2,
        )
        self._phase = ""
        self._count = 0

    def update(self, phase: str, study: Any, trial: Any) -> None:
        best = study.incumbent
        incumbent = "incumbent " + ("-" if best is None else f"{best.value:.5g}")
        if self._lines:
            self._count = self._count + 1 if phase == self._phase else 1
            self._phase = phase
            if self._count % 10 == 0:
                print(f"{phase}: {self._count} trials, {incumbent}", file=sys.stderr)
            return
        self._bar.set_description(phase)
        self._bar.set_postfix_str(incumbent, refresh=False)
        self._bar.update(1)

    def write(self, text: str) -> None:
        self._bar.write(text, file=sys.stdout)

    def close(self) -> None:
        self._bar.close()


def _studies(args: argparse.Namespace) -> int:
    from hptaa_lab.records import STUDIES_HEADER, studies_rows
    from hptaa_lab.study import open_store

    store = open_store(args.store, create=False)
    if not store.summaries():
        print(
            f"No studies in {store.shown_url} yet. Run `hptaa demo` or create one with "
            "hptaa_lab.create_study()."
        )
        return 0
    print(_format_table(STUDIES_HEADER, studies_rows(store.lineage_tree())))
    return 0


def _format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
        )
    return "\n".join(line.rstrip() for line in lines)


def _studies_command(store: str | None) -> str:
    """The command that lists the studies of ``store`` (--store left out for the
    default store)."""
    import shlex

    if store is None:
        return "hptaa studies"
    return f"hptaa --store {shlex.quote(store)} studies"


def delete_command(name: str, store_url: str | None = None) -> str:
    """The shell command that deletes study ``name`` from the store at
    ``store_url`` (None: the default store of the folder it runs in)."""
    import shlex

    where = "" if store_url is None else f"--store {shlex.quote(store_url)} "
    dashes = "-- " if name.startswith("-") else ""
    return f"hptaa {where}delete --yes {dashes}{shlex.quote(name)}"


def _delete(args: argparse.Namespace) -> int:
    from hptaa_lab.study import open_store

    store = open_store(args.store, create=False)
    names = list(dict.fromkeys(args.studies))
    for name in names:
        store.get_study(name)  # an unknown name: the error lists the studies
    summaries = {r["name"]: r for r in store.lineage_tree()}
    from hptaa_lab.records import twin_links

    twins = {
        name: twin
        for name in names
        if (twin := twin_links(store.get_study(name), store.find_study)["scratch_twin"])
        and twin not in names
    }
    ended = {name: len(store.abandoned(name)) for name in names}
    from hptaa_lab._interrupts import interrupts_deferred

    # All or nothing, checked and deleted in one transaction (without --yes
    # only checked); a Ctrl-C waits for it, so that what is said below holds.
    interrupted, deleted = False, {}
    try:
        with interrupts_deferred():
            deleted = store.delete_studies(
                names, force=args.force, dry_run=not args.yes
            )
    except KeyboardInterrupt:
        interrupted = True
    for name in deleted:
        r = summaries[name]
        running = _running_count(r["n_running"], ended.get(name, 0))
        verb = "deleted" if args.yes else "would delete"
        trials = f"{r['n_trials']} trial{'' if r['n_trials'] == 1 else 's'}"
        print(f"{verb} study {name!r}: {trials}{running}")
    for name, twin in twins.items():
        print(
            f"kept: {twin!r}, the no-transfer twin of {name!r} (--compare); name it "
            "too to delete it, as a new --compare run of that name needs both "
            "names free."
        )
    if not args.yes:
        print("Nothing was deleted: add --yes to delete.")
    if interrupted:
        print("interrupted: after the command had finished (as listed above).")
        return 130
    return 0


def _show(args: argparse.Namespace) -> int:
    from hptaa_lab.space import diff, space_from_json

    study = _view_study(args.study, args.store)
    record = study.record
    counts = {str(k): v for k, v in study.store.count_trials(study.name).items()}
    print(f"study      {study.name}")
    print(
        f"created    {record.created_at:%Y-%m-%d %H:%M:%S} UTC"
        if record.created_at
        else "created    -"
    )
    print(f"direction  {record.direction}")
    print(f"sampler    {record.sampler}")
    print(f"transfer   {record.transfer or '-'}")
    if record.transfer_options:
        options = ", ".join(f"{k}={v!r}" for k, v in record.transfer_options.items())
        print(f"options    {options}")
    print(f"previous   {record.previous or '-'}")
    print("trials     " + ", ".join(f"{k.lower()} {v}" for k, v in counts.items()))
    tuners = _tuners(study)
    if tuners:
        print(f"tuned by   {', '.join(tuners)}")
    ended = study.store.abandoned(study.name)
    if ended:
        print(
            f"           {len(ended)} running trial(s) belong to a process that "
            "ended; resuming the study (load_study) marks them failed"
        )
    if record.attrs:
        from hptaa_lab.records import twin_links

        # A twin link whose study was deleted (or made again without this twin)
        # no longer holds: say so beside the stored attribute.
        links = twin_links(record, study.store.find_study)
        print(
            "attrs      "
            + ", ".join(
                f"{k}={v}"
                + (" (no longer: deleted)" if k in links and links[k] is None else "")
                for k, v in record.attrs.items()
            )
        )
    print("\nSearch space:")
    from hptaa_lab.space import describe, rules

    for name, hp in study.space.items():
        print(f"  {name}: {describe(hp)}")
    for rule in rules(study.space):
        print(f"  {rule}")
    if record.previous:
        previous = study.store.get_study(record.previous)
        mapping = study.mapping
        if mapping.is_empty:
            print("\nMapping: none (hyperparameters match by name)")
        else:
            print("\nMapping: confirmed; the diff below lists its entries")
        assumed = _assumed_defaults(study)
        if assumed:
            print(
                f"{record.transfer} takes the added {assumed} before (the mapping "
                "gives no previous value)"
            )
        print(f"\nDiff to previous study {record.previous}:")
        print(
            diff(
                space_from_json(previous.space_json), study.space, mapping, check=False
            ).format_table()
        )
    best = study.incumbent
    print(
        "\nIncumbent: "
        + (
            "none yet"
            if best is None
            else f"trial {best.number}, value {best.value:.6g}"
        )
    )
    if best is not None:
        for k, v in best.config.items():
            print(f"  {k} = {v!r}")
    latest = study.trials[-args.trials :] if args.trials else []
    if latest:
        print(f"\nLatest {len(latest)} trials:")
        rows = [
            (
                str(t.number),
                f"{t.state} (process ended)" if t.number in ended else str(t.state),
                "-" if t.value is None else f"{t.value:.6g}",
                t.proposed_by,
                _short_config(t.config),
                _short_error(t.error),
            )
            for t in latest
        ]
        print(
            _format_table(
                ("number", "state", "value", "proposed by", "config", "error"), rows
            )
        )
    return 0


def _short_config(config: dict[str, Any], width: int = 70) -> str:
    """``name=value, ...`` with floats at 4 significant digits, cut to ``width``
    characters (the incumbent above shows a configuration in full)."""
    text = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}"
        for k, v in config.items()
    )
    return text if len(text) <= width else text[: width - 3] + "..."


def _tuners(study: Any) -> list[str]:
    """The processes tuning the study now (inside ``optimize``, or running one
    of its trials): those alive on this host, and those on other hosts (which
    cannot be checked)."""
    from hptaa_lab.store import Liveness

    return [
        str(owner) if seen is Liveness.ALIVE else f"{owner} (not checked from here)"
        for owner, seen in study.store.tuners(study.name)
    ]


def _running_count(running: int, ended: int) -> str:
    """The running part of a study's listing (", 2 running"), telling trials whose
    process has ended (RUNNING in the store, but no longer evaluated)."""
    if not running:
        return ""
    if ended == running:
        return f", {running} left running by a process that ended"
    if ended:
        return f", {running} running ({ended} of them left by a process that ended)"
    return f", {running} running"


def _assumed_defaults(study: Any) -> str:
    """What ``auto`` (or ``auto-last``) assumed of the study's added
    hyperparameters (``added_defaults``), as "z=0.5, act='relu'"; "" if
    nothing, or another transfer method."""
    from hptaa_lab.study import previous_trials
    from hptaa_lab.transfer._auto import added_values, describe_assumed

    record = study.record
    options = record.transfer_options or {}
    if record.transfer not in ("auto", "auto-last") or not options.get(
        "added_defaults", True
    ):
        return ""
    previous = previous_trials(study.store, record.previous)
    _, assumed = added_values(study.space, previous, study.mapping)
    return describe_assumed(assumed)


def _view_study(name: str, store_url: str | None) -> Any:
    """A study read from the store without resuming it (nothing is written)."""
    from hptaa_lab.samplers import RandomSampler
    from hptaa_lab.space import space_from_json
    from hptaa_lab.study import Study, open_store

    store = open_store(store_url, create=False)
    record = store.get_study(name)
    sampler = RandomSampler(space_from_json(record.space_json))
    return Study(record, store, sampler, store.get_trials(name))


def _short_error(error: str | None) -> str:
    from hptaa_lab.records import error_summary

    return error_summary(error, 60)


def _diff(args: argparse.Namespace) -> int:
    from hptaa_lab.space import Mapping, diff, space_from_json
    from hptaa_lab.study import open_store

    store = open_store(args.store, create=False)
    a, b = store.get_study(args.study_a), store.get_study(args.study_b)
    mapping = Mapping.from_json(b.mapping_json) if b.previous == a.name else None
    print(
        f"Search-space diff {a.name} -> {b.name}"
        + (" (with the confirmed mapping)" if mapping and not mapping.is_empty else "")
        + ":\n"
    )
    print(
        diff(
            space_from_json(a.space_json),
            space_from_json(b.space_json),
            mapping,
            check=False,
        ).format_table()
    )
    return 0
