"""The ``%hptaa`` magics: tune in the background, diff studies, list and stop runs."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import html
import keyword
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from IPython.utils.process import arg_split
from sqlalchemy import exc as sa_exc

from hptaa_lab._argtypes import positive_int
from hptaa_lab.errors import HptaaError, StoreError
from hptaa_lab.jupyter._html import TextAndHtml, diff_table_html, table_html, table_text
from hptaa_lab.jupyter._run import RunState, TuneRequest, TuneRun, twin_name
from hptaa_lab.records import STUDIES_HEADER, studies_rows
from hptaa_lab.space import Mapping, diff, space_from_json
from hptaa_lab.store import DEFAULT_URL, TrialStore, as_store_url
from hptaa_lab.store._store import check_sqlite_url
from hptaa_lab.study import DEFAULT_TRANSFER
from hptaa_lab.transfer import names as transfer_names

__all__ = ["BODY_NAMES", "Command", "HptaaMagics", "commands", "register_command"]

logger = logging.getLogger(__name__)

#: Names a ``%%hptaa tune`` cell defines: required first, then optional ones.
BODY_NAMES = ("space", "objective", "direction", "mapping", "transfer_options")
_REQUIRED = ("space", "objective")

Handler = Callable[["HptaaMagics", argparse.Namespace, "str | None"], Any]


@dataclass(frozen=True)
class Command:
    """One ``%hptaa`` subcommand.

    Attributes:
        name: The word after ``%hptaa``, e.g. "diff".
        parser: Its argument parser (built by IPython's magic_arguments).
        handler: Called as ``handler(magics, args, cell)``; what it returns is
            the magic's result.
        summary: One line for the overview.
        cell: True for a cell magic (``%%hptaa tune``), False for a line magic.
    """

    name: str
    parser: Any
    handler: Handler
    summary: str
    cell: bool = False

    @property
    def usage(self) -> str:
        """The usage line(s), e.g. "%hptaa diff A B"."""
        return _strip_rst(self.parser.format_usage())

    @property
    def help(self) -> str:
        """The full help text of the subcommand."""
        return _strip_rst(self.parser.format_help())


_COMMANDS: dict[str, Command] = {}


def commands() -> dict[str, Command]:
    """The registered subcommands, by name."""
    return dict(_COMMANDS)


def register_command(
    name: str,
    arguments: Callable[..., Any],
    handler: Handler,
    *,
    summary: str,
    cell: bool = False,
) -> Command:
    """Add a ``%hptaa`` subcommand (the extension point for e.g. ``%hptaa bench``).

    Args:
        name: The word after ``%hptaa``.
        arguments: A function decorated with IPython's ``@magic_arguments(name=
            "hptaa <name>")`` and ``@argument(...)``; its docstring describes
            the subcommand.
        handler: Called as ``handler(magics, args, cell)`` with the parsed
            arguments and the cell body (None for a line magic). Raise an
            HptaaError or ValueError for bad input: the message is printed.
        summary: One line for the overview of ``%hptaa?``.
        cell: Whether the subcommand is a cell magic (``%%hptaa <name>``).

    Returns:
        The registered command.

    Raises:
        ValueError: If the name is taken or ``arguments`` has no parser.
    """
    if name in _COMMANDS:
        raise ValueError(
            f"A %hptaa subcommand named {name!r} exists already; choose another name."
        )
    parser = getattr(arguments, "parser", None)
    if parser is None:
        raise ValueError(
            f"arguments for %hptaa {name} must be decorated with IPython's "
            "@magic_arguments() (it has no parser)."
        )
    # No abbreviated options, as on the command line: "--y" must not mean --yes.
    parser.allow_abbrev = False
    command = Command(name, parser, handler, summary, cell)
    _COMMANDS[name] = command
    HptaaMagics.hptaa.__doc__ = _overview()
    return command


@magics_class
class HptaaMagics(Magics):
    """The ``%hptaa`` line and cell magic of hptaa_lab.

    Attributes:
        runs: The runs started in this session, oldest first.
    """

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self.runs: list[TuneRun] = []
        self._store_url: str | None = None
        self._stores: dict[str | None, TrialStore] = {}

    def at_exit(self) -> None:
        """At interpreter exit, end the runs still going on instead of dropping
        them with their trials in flight (their threads would simply stop).

        In a terminal or a script (``ipython --ext hptaa_lab tune.ipy``) it
        waits for in-process runs, saying so; Ctrl-C stops them all (their
        trials in flight finish first). Runs on Dask workers cannot go on once
        the interpreter exits, and a kernel that shuts down cannot wait: those
        runs are stopped. Every run keeps its finished trials. A run that waits
        for its diff to be confirmed tuned nothing and is cancelled.
        """
        active = [run for run in self.runs if not run.done]
        if not active:
            return
        kernel = getattr(self.shell, "kernel", None) is not None
        ending: list[TuneRun] = []
        for run in active:
            if run.state == RunState.WAITING:
                run.stop()
                print(
                    f"hptaa: the run of {run.name!r} was cancelled at exit; it "
                    "waited for its diff to be confirmed and tuned nothing.",
                    file=sys.stderr,
                )
                continue
            ending.append(run)
            if kernel:
                run.stop()
            elif (run.request.workers or 1) > 1:
                run.stop()
                print(
                    f"hptaa: the run of {run.name!r} evaluates on Dask workers, "
                    "which cannot go on once the interpreter exits: stopped it (its "
                    "finished trials are kept, and --resume continues it). Add "
                    "--wait to the %%hptaa tune line to have the cell wait for its "
                    "run.",
                    file=sys.stderr,
                )
            elif run.stopping:
                # Stopped already (a Ctrl-C in a --wait cell): only its trials
                # in flight are left, not its budget.
                print(
                    f"hptaa: waiting for the trials in flight of the stopped run of "
                    f"{run.name!r} before exiting.",
                    file=sys.stderr,
                )
            else:
                print(
                    f"hptaa: waiting for the run of {run.name!r} to finish before "
                    "exiting; Ctrl-C stops it (its finished trials are kept, and "
                    "--resume continues it).",
                    file=sys.stderr,
                )
        _wait_at_exit(ending, stopped=kernel)
        if not kernel:
            for run in ending:
                print(repr(run), file=sys.stderr)

    @property
    def store_url(self) -> str:
        """The trial store's URL. A relative SQLite path (the default,
        sqlite:///.hptaa/studies.db, too) is fixed to the working folder when it is
        set or first used, so a later %cd does not move the session's store."""
        if self._store_url is None:
            self._store_url = _absolute_url(DEFAULT_URL)
        return self._store_url

    @store_url.setter
    def store_url(self, url: str | None) -> None:
        self._store_url = None if url is None else _absolute_url(url)

    @property
    def user_ns(self) -> dict[str, Any]:
        """The notebook's namespace."""
        if self.shell is None:
            raise HptaaError(
                "The %hptaa magics need an IPython shell; load them with "
                "%load_ext hptaa_lab."
            )
        return self.shell.user_ns

    def store(self, *, create: bool = True) -> TrialStore:
        """The trial store of this session (opened on first use).

        Args:
            create: Whether a missing SQLite store is created, for subcommands
                that write (``%%hptaa tune``). False is for reading: a URL that
                holds no trial store, often a typo, is then an error.

        Raises:
            StoreError: The store cannot be opened; with ``create=False``, also
                when there is no trial store at the URL.
        """
        url = self.store_url
        if url not in self._stores:
            path = _sqlite_path(url)
            if not create and path is not None and not path.exists():
                raise StoreError(_no_store_message(path))
            self._stores[url] = TrialStore(url, create=create)
        return self._stores[url]

    @line_cell_magic
    def hptaa(self, line: str, cell: str | None = None) -> Any:
        """(replaced by the overview of the subcommands)"""
        try:
            words = arg_split(line, posix=True)
        except ValueError as exc:
            _error(
                f"UsageError: {exc} in the %hptaa line; close the quote (`%hptaa` "
                "alone shows how to use each subcommand)."
            )
            return None
        if not words or words[0] in ("-h", "--help", "help"):
            print(_overview())
            return None
        command = _COMMANDS.get(words[0])
        if command is None:
            close = difflib.get_close_matches(words[0], list(_COMMANDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            _error(
                f"UsageError: unknown %hptaa subcommand {words[0]!r}; the subcommands "
                f"are {', '.join(sorted(_COMMANDS))}.{hint} `%hptaa` alone shows "
                "how to use each."
            )
            return None
        if command.cell != (cell is not None):
            _error(_wrong_form(command), command.usage)
            return None
        try:
            # Split as a shell splits (quotes removed), not as parse_argstring
            # does, which keeps them: '"sqlite:///my runs/s.db"' is one path.
            args = command.parser.parse_args(words[1:])
        except UsageError as exc:
            # The usage and a pointer, not the whole help (40 lines under
            # the error, which it pushed out of sight).
            _error(
                f"UsageError: {exc}{_option_hint(str(exc), command)}",
                f"{command.usage.rstrip()}\n(`%hptaa?` explains every option.)",
            )
            return None
        try:
            return command.handler(self, args, cell)
        except (HptaaError, ValueError) as exc:
            percent = "%%" if command.cell else "%"
            if getattr(args, "wait", False):
                # A cell that waits is there so that what follows runs after
                # tuning: it fails (IPython shows a UsageError without a
                # traceback), so that Run All or a script stops here.
                raise UsageError(f"{percent}hptaa {command.name}: {exc}") from None
            _error(f"{percent}hptaa {command.name}: {exc}")
            return None


def _absolute_url(url: str) -> str:
    """The URL (or a SQLite file's path) with a relative SQLite file path made
    absolute (others as given)."""
    url = as_store_url(url)
    path = _sqlite_path(url)
    if path is None:
        return url
    return (
        sa.make_url(url).set(database=str(path)).render_as_string(hide_password=False)
    )


def _sqlite_path(url: str | None) -> Path | None:
    """The absolute path of a SQLite file store URL (None means the default);
    None for other databases, in-memory SQLite, URI-style and malformed URLs,
    which TrialStore checks when it opens them."""
    try:
        parsed = sa.make_url(DEFAULT_URL if url is None else url)
    except sa_exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.host:
        return None
    if parsed.database in (None, "", ":memory:"):
        return None
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        return None
    return Path(parsed.database).expanduser().absolute()


def _is_sqlite(url: str) -> bool:
    try:
        return sa.make_url(url).get_backend_name() == "sqlite"
    except sa_exc.ArgumentError:
        return False


def _no_store_message(path: Path) -> str:
    return (
        f"There is no trial store at {path}; nothing was created there. Check the "
        "path for a typo and point this session at the store that holds your "
        "studies with %hptaa store URL, or tune a study with %%hptaa tune, which "
        "creates the store."
    )


def _option_hint(message: str, command: Command) -> str:
    """ " Did you mean --trials?" for an unrecognized option close to one of
    the command's, else ""."""
    if "unrecognized arguments" not in message:
        return ""
    known = [
        option
        for action in command.parser._actions
        for option in action.option_strings
        if option.startswith("--")
    ]
    # Compared without the dashes, which every option shares.
    bare = {option.lstrip("-"): option for option in known}
    for word in message.split(":", 1)[-1].split():
        if word.startswith("-"):
            typed = word.split("=")[0].lstrip("-")
            close = difflib.get_close_matches(typed, list(bare), n=1)
            if close:
                return f". Did you mean {bare[close[0]]}?"
    return ""


def _error(message: str, usage: str = "") -> None:
    print(message, file=sys.stderr)
    if usage:
        print(usage, file=sys.stderr)


def _wrong_form(command: Command) -> str:
    if command.cell:
        return (
            f"UsageError: %hptaa {command.name} needs a cell body: write "
            f"%%hptaa {command.name} ... on the first line of a cell, with the code "
            "below it."
        )
    return (
        f"UsageError: %hptaa {command.name} takes no cell body: use the line magic "
        f"%hptaa {command.name} ... (one %)."
    )


def _strip_rst(text: str) -> str:
    """IPython's magic help starts usage lines with an RST '::' block; drop it."""
    return text.replace("::\n\n  %", "%").strip()


def _overview() -> str:
    lines = [
        "hptaa_lab in Jupyter: tune a study in the background with a live widget,",
        "transfer from a previous study, and look into the trial store.",
        "",
        "Subcommands:",
    ]
    width = max((len(c.name) for c in _COMMANDS.values()), default=0) + 8
    for command in _COMMANDS.values():
        form = f"{'%%' if command.cell else '%'}hptaa {command.name}"
        lines.append(f"  {form.ljust(width)}  {command.summary}")
    for command in _COMMANDS.values():
        lines += ["", "-" * 72, command.help]
    return "\n".join(lines)


# -- tune ---------------------------------------------------------------------


@magic_arguments(name="%hptaa tune")
@argument(
    "--study",
    required=True,
    metavar="NAME",
    help="name of the study: a new one, or an existing one with --resume",
)
@argument(
    "--from",
    dest="previous",
    metavar="PREVIOUS",
    help="previous study to transfer from; its search-space diff comes first",
)
@argument(
    "--transfer",
    metavar="METHOD",
    help=f"transfer method (default {DEFAULT_TRANSFER}): {', '.join(transfer_names())}",
)
@argument(
    "--trials",
    type=positive_int,
    default=20,
    metavar="N",
    help="trials to run (each study with --compare; default 20)",
)
@argument(
    "--compare",
    action="store_true",
    help="also tune a no-transfer twin NAME-scratch with the same budget, beside it",
)
@argument(
    "--workers",
    type=positive_int,
    metavar="N",
    help="evaluate N trials at a time on Dask worker processes",
)
@argument("--seed", type=int, metavar="S", help="seed of the samplers")
@argument(
    "--yes",
    action="store_true",
    help="accept the diff's rename suggestions and fields without asking",
)
@argument(
    "--resume",
    action="store_true",
    help="continue the existing study NAME (with --compare its twin too) for N "
    "more trials, as stored: previous study, transfer, mapping, seed and space",
)
@argument(
    "--as",
    dest="var",
    metavar="VAR",
    help="also keep the run handle in the variable VAR",
)
@argument(
    "--wait",
    action="store_true",
    help="the cell waits for the run to end (for scripts and Run All); Ctrl-C "
    "stops the run",
)
def _tune_arguments(line: str, cell: str) -> None:
    """Tune a study in a background thread; the cell returns the run at once.

    The cell body runs first, in the notebook's namespace, and must define:

      space      the search space: a dict such as {"C": (1e-3, 1e3, "log"),
                 "kernel": ["rbf", "poly"]} or a ConfigSpace ConfigurationSpace
      objective  a function config -> objective value (minimised)

    and may define:

      direction  "maximize" to maximise the objective (default "minimize")
      mapping    renames and values to start the diff from, e.g.
                 {"previous_fixed": {"n_components": 64}}
      transfer_options
                 options of the transfer method, e.g. {"ties": None}
                 (hptaa_lab.transfer.options("auto") names them)

    The run shows as the live widget; keep it with --as VAR (or take _ in the
    next cell) to call run.wait(), run.stop() or read run.study. With --wait the
    cell blocks until the run ends (a script or Run All goes on only after
    tuning). After a stop, the same cell with --resume continues the study where
    it ended.
    """


def _wait_at_exit(runs: list[TuneRun], *, stopped: bool) -> None:
    """Wait for the threads of ``runs`` to end, drawing nothing. A Ctrl-C stops
    them all; once they are stopped, further Ctrl-Cs are ignored and each run
    gets a minute at most for its trials in flight."""
    deadline = time.monotonic() + _EXIT_WAIT_S if stopped else None
    for run in runs:
        while not run.done:
            if deadline is not None and time.monotonic() >= deadline:
                print(
                    f"hptaa: gave up waiting for the run of {run.name!r}; its "
                    "trials in flight are marked failed when the study is loaded.",
                    file=sys.stderr,
                )
                break
            try:
                run._done.wait(0.25)
            except KeyboardInterrupt:
                if deadline is None:
                    print(
                        "hptaa: stopping the runs; their trials in flight finish "
                        "first.",
                        file=sys.stderr,
                    )
                    for other in runs:
                        other.stop()
                    deadline = time.monotonic() + _EXIT_WAIT_S


_EXIT_WAIT_S = 60.0
"""Seconds a stopped run gets at exit for its trials in flight."""


def _run_names(run: TuneRun) -> set[str]:
    """The studies a run tunes: its own, and its twin's with --compare."""
    return {run.name} | ({twin_name(run.name)} if run.request.compare else set())


def _tune(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> Any:
    if args.var is not None and (
        not args.var.isidentifier() or keyword.iskeyword(args.var)
    ):
        raise ValueError(
            f"--as {args.var!r} is no Python variable name, so the run could not be "
            "read back from it; use letters, digits and _, not starting with a "
            "digit (e.g. --as run2). Nothing was tuned."
        )
    if args.resume:
        wanted = {args.study} | ({twin_name(args.study)} if args.compare else set())
        for run in magics.runs:
            if not run.done and wanted & _run_names(run):
                stop = "" if run.stopping else f"stop it (%hptaa stop {run.name}) or "
                raise ValueError(
                    f"The run of {run.name!r} in this session is "
                    f"{'stopping' if run.stopping else run.state}; {stop}wait for it "
                    "(run.wait()) before resuming."
                )
    names = _run_body(magics.shell, cell or "")
    mapping = names.get("mapping")
    request = TuneRequest(
        study=args.study,
        space=names["space"],
        objective=names["objective"],
        n_trials=args.trials,
        previous=args.previous,
        transfer=args.transfer,
        compare=args.compare,
        workers=args.workers,
        seed=args.seed,
        direction=names.get("direction"),
        mapping=_as_mapping(mapping),
        renames_given=isinstance(mapping, dict) and "renames" in mapping,
        transfer_options=names.get("transfer_options") or {},
        resume=args.resume,
    )
    run = TuneRun(request, magics.store(), confirm=args.yes)
    if args.wait and run.state == RunState.WAITING:
        # Refused before anything ran: no run of this session to list or stop.
        run.stop()
        raise ValueError(
            "--wait cannot wait for a run whose diff waits to be confirmed: "
            "nobody could confirm it meanwhile. Add --yes to accept the diff "
            "as shown (the cell's `mapping`, if any, and the suggested renames), "
            "or leave --wait out and "
            "confirm the diff. Nothing was tuned."
        )
    magics.runs.append(run)
    if args.var:
        magics.user_ns[args.var] = run
    if args.wait:
        # A notebook shows the live view while it waits; a terminal or a
        # script, which shows no widget, the final summary.
        live = getattr(magics.shell, "kernel", None) is not None
        handle = display(run, display_id=True) if live else None
        try:
            run.wait()
        except KeyboardInterrupt:
            print(
                f"hptaa: Ctrl-C stopped the run of {run.name!r}; its trials in "
                "flight finish first, every finished trial is kept, and the same "
                "cell with --resume goes on from there.",
                file=sys.stderr,
            )
            raise
        finally:
            if handle is not None:
                # The output saved with the notebook shows the run as it ended,
                # not as it started (its text form is taken when displayed).
                handle.update(run)
        if not live:
            display(run)
        return None
    return run


def _run_body(shell: Any, cell: str) -> dict[str, Any]:
    """Run the cell body in the user namespace; return the names it defined.

    The names are set aside while the body runs, so only what the body defines
    counts; the ones it does not define get their old values back.
    """
    if not cell.strip():
        raise ValueError(
            "The %%hptaa tune cell is empty. Below the magic line, define `space` "
            "(the search space) and `objective` (a function config -> value)."
        )
    ns = shell.user_ns
    saved = {name: ns.pop(name) for name in BODY_NAMES if name in ns}
    ok = _exec_body(shell, cell)
    defined = {name: ns[name] for name in BODY_NAMES if name in ns}
    missing = [name for name in _REQUIRED if name not in defined]
    for name in BODY_NAMES:
        if name not in defined and name in saved:
            ns[name] = saved[name]
    if not ok:
        # Raised so that a --wait cell fails (Run All stops there) as other
        # refusals do; otherwise it is one line under the body's traceback.
        raise HptaaError("the cell body raised an error (above); nothing was tuned.")
    if missing:
        raise ValueError(
            f"The cell did not define {' and '.join(map(repr, missing))}. "
            "It must define `space` (a dict such as {'C': (1e-3, 1e3, 'log')} or a "
            "ConfigurationSpace) and `objective` (a function config -> value to "
            "minimise)."
        )
    if not callable(defined["objective"]):
        raise ValueError(
            "`objective` must be a function config -> value; the cell set it to a "
            f"{type(defined['objective']).__name__}."
        )
    return defined


def _exec_body(shell: Any, cell: str) -> bool:
    """Run the cell body in the user namespace as IPython runs a cell (IPython
    syntax allowed, tracebacks point into the cell); False if it raised."""
    source = shell.transform_cell(cell)
    filename = shell.compile.cache(source, shell.execution_count, raw_code=cell)
    try:
        code = shell.compile(source, filename, "exec")
    except SyntaxError:
        shell.showsyntaxerror(filename)
        return False
    try:
        exec(code, shell.user_global_ns, shell.user_ns)
    except Exception:
        shell.showtraceback()
        return False
    return True


def _as_mapping(value: Any) -> Mapping:
    if value is None:
        return Mapping()
    if isinstance(value, Mapping):
        return value
    if isinstance(value, dict | str):
        return Mapping.from_dict(value)
    raise ValueError(
        "`mapping` must be a hptaa_lab.Mapping or its dict form, e.g. "
        f"{{'previous_fixed': {{'n_components': 64}}}}; got {type(value).__name__}."
    )


# -- diff, studies, status, stop, store ----------------------------------------


@magic_arguments(name="hptaa diff")
@argument("study_a", metavar="A", help="the previous study")
@argument("study_b", metavar="B", help="the current study")
def _diff_arguments(line: str) -> None:
    """Show the search-space diff between two studies of the trial store.

    When B transfers from A, B's confirmed mapping is applied (renames).
    """


def _diff(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> None:
    store = magics.store(create=False)
    a, b = store.get_study(args.study_a), store.get_study(args.study_b)
    mapping = Mapping.from_json(b.mapping_json) if b.previous == a.name else None
    space_diff = diff(
        space_from_json(a.space_json),
        space_from_json(b.space_json),
        mapping,
        check=False,
    )
    title = f"Search-space diff {a.name} -> {b.name}"
    if mapping is not None and not mapping.is_empty:
        title += " (with the confirmed mapping)"
    display(
        TextAndHtml(
            f"{title}:\n{space_diff.format_table()}",
            f"<b>{html.escape(title)}</b>"
            + diff_table_html(space_diff, previous=a.name, current=b.name),
        )
    )


@magic_arguments(name="hptaa studies")
def _studies_arguments(line: str) -> None:
    """List the studies of the trial store: lineage, trials and incumbent."""


def _studies(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> None:
    store = magics.store(create=False)
    summaries = store.lineage_tree()
    if not summaries:
        print(f"No studies in {store.shown_url} yet; tune one with %%hptaa tune.")
        return
    header, rows = STUDIES_HEADER, studies_rows(summaries)
    title = f"Studies in {store.shown_url}"
    display(
        TextAndHtml(
            f"{title}:\n{table_text(header, rows)}",
            f"<b>{html.escape(title)}</b>"
            + table_html(header, rows, ["white-space:pre"] * len(rows)),
        )
    )


@magic_arguments(name="hptaa status")
def _status_arguments(line: str) -> None:
    """Show the runs started in this session: state, trials and incumbent."""


def _status(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> None:
    if not magics.runs:
        print("No runs in this session yet; start one with %%hptaa tune.")
        return
    print("\n".join(repr(run) for run in magics.runs))


@magic_arguments(name="hptaa stop")
@argument("name", nargs="?", metavar="NAME", help="study of the run (default: all)")
def _stop_arguments(line: str) -> None:
    """Stop a run (all active runs without NAME).

    In-process the trial in flight finishes first; with --workers the trials in
    flight are cancelled and fail as cancelled. A run waiting for its diff to be
    confirmed is cancelled. Stopping a run that ended does nothing.
    """


def _stop(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> None:
    runs = magics.runs
    if args.name is not None:
        runs = [r for r in runs if args.name in _run_names(r)]
        if not runs:
            known = ", ".join(dict.fromkeys(r.name for r in magics.runs)) or "none yet"
            raise ValueError(
                f"No run of a study named {args.name!r} in this session; runs: {known}."
            )
    elif not any(not r.done for r in runs):
        print("No active run to stop.")
        return
    stopped = False
    for run in runs:
        waiting = run.state == RunState.WAITING
        if run.stop():
            stopped = True
            if waiting:
                print(
                    f"Cancelled the run of {run.name!r}: it was waiting for its diff "
                    "to be confirmed, and nothing was tuned."
                )
            else:
                print(f"Stopping the run of {run.name!r}: {run.stop_effect}.")
    if stopped:
        return
    if args.name is None:
        names = ", ".join(repr(r.name) for r in runs if r.stopping)
        print(f"Every active run is stopping already ({names}); nothing more to stop.")
        return
    # Earlier runs of the same study name ended long ago: the latest says it.
    latest = runs[-1]
    if latest.stopping:
        print(
            f"The run of {latest.name!r} is stopping already ({latest.stop_effect}); "
            "nothing more to stop."
        )
    else:
        print(f"The run of {latest.name!r} is {latest.state}; nothing to stop.")


@magic_arguments(name="hptaa store")
@argument(
    "url",
    nargs="?",
    metavar="URL",
    help="SQLAlchemy URL of the trial store, or a SQLite file's path",
)
def _store_arguments(line: str) -> None:
    """Show or set the trial store of this session.

    Without URL it prints the store in use (default sqlite:///.hptaa/studies.db
    in the working folder). Variables expand: %hptaa store sqlite:///{folder}/s.db

    A SQLite file that does not exist yet is created by the first %%hptaa tune;
    its folder must exist.
    """


def _store(magics: HptaaMagics, args: argparse.Namespace, cell: str | None) -> None:
    if args.url is None:
        _show_store(magics)
        return
    args.url = as_store_url(args.url)  # a path names a SQLite file
    _check_folder(args.url)
    previous = magics.store_url
    magics.store_url = args.url
    try:
        _show_store(magics)
    except HptaaError:
        magics.store_url = previous
        raise


def _check_folder(url: str) -> None:
    """Refuse a SQLite store URL whose folder does not exist, with a host, user
    or password, which SQLite ignores, or of an in-memory database."""
    with contextlib.suppress(sa_exc.ArgumentError):
        parsed = sa.make_url(url)
        check_sqlite_url(parsed)
        if parsed.get_backend_name() == "sqlite" and parsed.database in (
            None,
            "",
            ":memory:",
        ):
            raise StoreError(
                f"{url} is an in-memory SQLite database: its studies would be lost "
                "when the kernel exits, and neither the sidebar nor `hptaa` could "
                "see them. Name a file, e.g. %hptaa store sqlite:///studies.db; the "
                "trial store is unchanged."
            )
    path = _sqlite_path(url)
    if path is None or path.exists() or path.parent.is_dir():
        return
    raise StoreError(
        f"Cannot use {url} as the trial store: the folder {path.parent} does not "
        "exist. Check the path for a typo, or create the folder first (e.g. with "
        "os.makedirs) and run %hptaa store again; the trial store is unchanged."
    )


def _show_store(magics: HptaaMagics) -> None:
    """Print the session's trial store, opening it when it exists; a missing
    SQLite file is named, not created."""
    path = _sqlite_path(magics.store_url)
    if path is None or path.exists():
        # Existing files are opened for reading, so that a file that holds no
        # trial store is refused; other databases are opened as TrialStore does,
        # but for a SQLite URI's file, which is not created either.
        create = path is None and not _is_sqlite(magics.store_url)
        print(f"trial store: {magics.store(create=create).shown_url}")
        return
    shown = sa.make_url(magics.store_url).render_as_string(hide_password=True)
    print(f"trial store: {shown}")
    print(
        f"There is no trial store at {path} yet; the first %%hptaa tune creates "
        "it there. If you meant an existing store, check the path."
    )


register_command(
    "tune",
    _tune_arguments,
    _tune,
    summary="tune a study in the background; the cell defines space and objective",
    cell=True,
)
register_command(
    "diff", _diff_arguments, _diff, summary="search-space diff of two studies"
)
register_command("studies", _studies_arguments, _studies, summary="list the studies")
register_command("status", _status_arguments, _status, summary="runs of this session")
register_command("stop", _stop_arguments, _stop, summary="stop a run, or all runs")
register_command(
    "store", _store_arguments, _store, summary="show or set the trial store"
)
