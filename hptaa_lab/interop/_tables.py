"""Import a previous study from a CSV file or a pandas DataFrame."""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ConfigSpace as CS

from hptaa_lab.interop._common import (
    ImportResult,
    InteropError,
    Problems,
    as_number,
    check_configuration,
    check_direction,
    coerce_value,
    given_space,
    is_missing,
    plain,
    require_file,
    require_pyarrow,
    study_record,
    write_import,
    written_as,
)
from hptaa_lab.records import TrialRecord, TrialState
from hptaa_lab.space import hp_kind
from hptaa_lab.space._encoding import CATEGORICAL, CONSTANT, ORDINAL, choice_values
from hptaa_lab.store import TrialStore, check_study_name

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["import_csv", "import_dataframe", "infer_space"]

logger = logging.getLogger(__name__)

#: Column prefix of configuration values in exported tables (and Optuna's).
PARAMS_PREFIX = "params_"
_STATE = "state"
_PROPOSED_BY = "proposed_by"
_TIMES = ("started_at", "finished_at")
_INT_TEXT = re.compile(r"[+-]?\d+")
_ZERO_LED = re.compile(r"[+-]?0\d+")
"""An integer written with leading zeros: a code such as "007", not a number."""
_BOOL_TEXT = {"true": True, "false": False}
_LOG_SPAN = 100.0

_ADVICE = (
    "Fix these cells and import again. To say what each column holds instead of "
    "letting it be inferred, pass a search space (space= in Python, --space on "
    "the command line); a hyperparameter that is not always active needs a "
    "condition in that space. An empty cell is also how a table holds the "
    "choice None (hptaa export writes it so): a column of such a choice needs "
    "a space that lists None among its choices (hptaa export --space writes "
    "the study's)."
)


@dataclass(frozen=True)
class _Table:
    """A table to import: its frame, a label per row, and what it came from."""

    frame: pd.DataFrame
    labels: list[str]
    source: str
    row_attrs: list[dict[str, Any]]


@dataclass(frozen=True)
class _Columns:
    """Which columns hold what."""

    hyperparameters: dict[str, str]
    objective: str
    exported: bool


def import_csv(
    path: str | Path,
    name: str,
    *,
    objective: str = "value",
    columns: Sequence[str] | None = None,
    space: CS.ConfigurationSpace | dict[str, Any] | None = None,
    direction: str = "minimize",
    store: TrialStore | str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a previous study from a CSV file of configurations and values.

    Each row is one trial: its configuration in the configuration columns and
    its objective value in the objective column. The configuration columns
    are ``columns`` if given; else the ``params_<name>`` columns if there are
    any (the layout that :func:`export_csv` and Optuna write, whose ``state``
    column then keeps only COMPLETE rows and whose ``proposed_by``,
    ``started_at`` and ``finished_at`` columns are kept); else the search
    space's hyperparameters if a space is given; else every column but the
    objective. Empty cells are missing values.

    Without ``space`` the search space is inferred (see :func:`infer_space`);
    show ``result.format()`` to the user so they can confirm it.

    Args:
        path: The CSV file (with a header row).
        name: Name of the new study.
        objective: The column holding the objective value.
        columns: The columns holding the configuration.
        space: The search space (ConfigSpace or short dict form); inferred
            from the data when None.
        direction: "minimize" or "maximize" the objective.
        store: A TrialStore or SQLAlchemy URL; default the default store.
        dry_run: Check everything and return the result, writing nothing.

    Returns:
        What was imported.

    Raises:
        InteropError: The file cannot be read, a column is missing, or cells
            are missing or unparsable (every such cell is listed by line and
            column); nothing is imported.
        StudyExistsError: A study called ``name`` exists.
    """
    table = _read_csv(Path(path))
    attrs = {"imported_from": "csv", "path": str(Path(path).absolute())}
    return _import_table(
        table, name, objective, columns, space, direction, store, dry_run, attrs
    )


def import_parquet(
    path: str | Path,
    name: str,
    *,
    objective: str = "value",
    columns: Sequence[str] | None = None,
    space: CS.ConfigurationSpace | dict[str, Any] | None = None,
    direction: str = "minimize",
    store: TrialStore | str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a previous study from a Parquet file, one trial per row, as
    :func:`import_csv` does (the layout :func:`export_parquet` writes).

    Raises:
        InteropError: pyarrow is not installed, the file cannot be read, a
            column is missing, or cells are missing or unparsable; nothing is
            imported.
        StudyExistsError: A study called ``name`` exists.
    """
    import pandas as pd

    require_pyarrow("Reading")
    source = Path(path)
    require_file(source, dataset=True)
    try:
        frame = pd.read_parquet(source)
    except (OSError, ValueError) as exc:
        raise InteropError(
            f"Cannot import {source}: it is not a readable Parquet file ({exc})."
        ) from None
    table = _from_frame(frame, source=str(source))
    attrs = {"imported_from": "parquet", "path": str(source.absolute())}
    return _import_table(
        table, name, objective, columns, space, direction, store, dry_run, attrs
    )


def import_dataframe(
    frame: pd.DataFrame,
    name: str,
    *,
    objective: str = "value",
    columns: Sequence[str] | None = None,
    space: CS.ConfigurationSpace | dict[str, Any] | None = None,
    direction: str = "minimize",
    store: TrialStore | str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a previous study from a pandas DataFrame, one trial per row.

    The columns are chosen as for :func:`import_csv`; problems are reported by
    the row's index label.

    Raises:
        InteropError: A column is missing, or cells are missing or
            unparsable; nothing is imported.
        StudyExistsError: A study called ``name`` exists.
    """
    table = _from_frame(frame)
    attrs = {"imported_from": "dataframe"}
    return _import_table(
        table, name, objective, columns, space, direction, store, dry_run, attrs
    )


def infer_space(
    source: pd.DataFrame | str | Path,
    *,
    objective: str = "value",
    columns: Sequence[str] | None = None,
) -> CS.ConfigurationSpace:
    """Infer a search space from the configuration columns of a table.

    Integer columns become integer ranges, other numeric columns float
    ranges, both on log scale when every value is positive and the largest is
    more than 100 times the smallest; text and boolean columns become
    categorical hyperparameters; a column with a single value becomes a
    constant. Text cells that hold numbers count as numbers.

    Args:
        source: A DataFrame, or the path of a CSV file.
        objective: The objective column (never a hyperparameter).
        columns: The configuration columns (chosen as for :func:`import_csv`
            when None).

    Returns:
        The inferred search space.

    Raises:
        InteropError: A column is missing or has no value at all.
    """
    table = _table_of(source)
    chosen = _choose_columns(table, objective, columns, None)
    rows, _ = _rows_to_import(table, chosen)
    problems = Problems(table.source, columns=list(table.frame.columns))
    space = _infer(table, chosen, rows, problems)
    problems.raise_if_any(_ADVICE)
    return space


# -- reading -----------------------------------------------------------------


def _read_csv(path: Path) -> _Table:
    """Read a CSV file as text cells; rows are labelled by their line."""
    import pandas as pd

    require_file(path)
    try:
        with warnings.catch_warnings():
            # A line with more fields than the header would lose data quietly.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                index_col=False,
            )
    except pd.errors.EmptyDataError:
        raise InteropError(
            f"Cannot import {path}: the file is empty. Expected a header row of "
            "column names and one row per trial."
        ) from None
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        UnicodeDecodeError,
        IsADirectoryError,
    ) as exc:
        reason = " ".join(str(exc).split())
        raise InteropError(
            f"Cannot import {path}: it is not a readable CSV file ({reason}). "
            "Expected UTF-8 text with a header row and the same number of "
            "fields on every line."
        ) from None

    header = _header(path)
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise InteropError(
            f"Cannot import {path}: the header names the column(s) {repeated} more "
            "than once. Give every column its own name."
        )

    # Blank lines were kept so that row k is record k + 1; drop them now.
    starts = _record_lines(path)
    # A line of blanks alone (spaces, or commas only) is no row either.
    blank = frame.apply(lambda column: column.isna() | column.str.strip().eq(""))
    frame = frame[~blank.all(axis=1)]
    lines = [starts[int(index) + 1] for index in frame.index]
    labels = [f"line {line}" for line in lines]
    row_attrs = [{"csv_line": line} for line in lines]
    return _Table(frame.reset_index(drop=True), labels, str(path), row_attrs)


def _record_lines(path: Path) -> list[int]:
    """The line each record of a CSV file starts on (the header's is 1): a
    quoted cell may hold line breaks, so a record can span several lines."""
    import csv

    starts = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        for _ in reader:
            starts.append(reader.line_num)
    # line_num is the last line read: a record starts after the previous one.
    return [1, *(end + 1 for end in starts[:-1])]


def _header(path: Path) -> list[str]:
    """The column names of a CSV file's header row, as written."""
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def _table_of(source: Any) -> _Table:
    """A table from a CSV path or a DataFrame."""
    if isinstance(source, str | Path):
        return _read_csv(Path(source))
    return _from_frame(source)


def _from_frame(frame: Any, source: str = "the DataFrame") -> _Table:
    """A table from a DataFrame; ``source`` names it in messages (a file it
    was read from, whose rows are then labelled by number from 0)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InteropError(
            f"Expected a pandas DataFrame with one row per trial; got "
            f"{type(frame).__name__}."
        )
    names = [str(c) for c in frame.columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InteropError(
            f"Cannot import {source}: it has more than one column named "
            f"{', '.join(map(repr, repeated))} (column names are compared as "
            "text, so 1 and '1' are the same name). Give every column its own name."
        )
    labels = [f"row {plain(index)!r}" for index in frame.index]
    row_attrs = [{"dataframe_row": _json_label(index)} for index in frame.index]
    renamed = frame.rename(columns=str).reset_index(drop=True)
    return _Table(renamed, labels, source, row_attrs)


def _json_label(index: Any) -> Any:
    value = plain(index)
    return value if isinstance(value, int | str) else str(value)


# -- columns and rows --------------------------------------------------------


def _choose_columns(
    table: _Table,
    objective: str,
    columns: Sequence[str] | None,
    space: CS.ConfigurationSpace | None,
) -> _Columns:
    """Decide which columns hold the objective and each hyperparameter."""
    present = [str(c) for c in table.frame.columns]
    listing = ", ".join(repr(c) for c in present)
    if objective not in present:
        raise InteropError(
            f"Cannot import {table.source}: it has no objective column "
            f"{objective!r}; its columns are {listing}. Name the column that holds "
            "the objective value (objective= in Python, --objective on the "
            "command line)."
        )

    prefixed = [c for c in present if c.startswith(PARAMS_PREFIX)]
    if columns is not None:
        wanted = {str(c): _column_for(str(c), present) for c in columns}
    elif prefixed:
        wanted = {c[len(PARAMS_PREFIX) :]: c for c in prefixed}
    elif space is not None:
        wanted = {
            n: _column_for(n, present)
            for n in space
            if _needs_column(space, n) or _column_for(n, present)
        }
    else:
        wanted = {c: c for c in present if c not in (objective, _state_column(table))}

    missing = [name for name, column in wanted.items() if column is None]
    if missing:
        raise InteropError(
            f"Cannot import {table.source}: it has no column for "
            f"{', '.join(repr(m) for m in missing)}; its columns are {listing}. "
            "Name the configuration columns with columns= (--columns), or give a "
            "search space whose hyperparameters match the columns."
        )
    if objective in wanted.values():
        raise InteropError(
            f"Cannot import {table.source}: the objective column {objective!r} "
            "cannot also hold a hyperparameter. Leave it out of columns=."
        )
    if not wanted:
        raise InteropError(
            f"Cannot import {table.source}: no configuration column besides the "
            f"objective {objective!r}; its columns are {listing}."
        )
    _check_against_space(table, wanted, space)
    hyperparameters = {n: c for n, c in wanted.items() if c is not None}
    return _Columns(hyperparameters, objective, exported=bool(prefixed))


def _column_for(name: str, present: list[str]) -> str | None:
    """The column holding hyperparameter ``name``: itself or params_<name>."""
    for column in (name, PARAMS_PREFIX + name):
        if column in present:
            return column
    return None


def _only_value(hp: Any) -> tuple[bool, Any]:
    """Whether a hyperparameter has a single legal value, and that value."""
    kind = hp_kind(hp)
    if kind == CONSTANT:
        return True, plain(hp.value)
    values: Sequence[Any] = ()
    if kind == CATEGORICAL:
        values = hp.choices
    elif kind == ORDINAL:
        values = hp.sequence
    if len(values) == 1:
        return True, plain(values[0])
    return False, None


def _needs_column(space: CS.ConfigurationSpace, name: str) -> bool:
    """Whether a hyperparameter needs a column (a single value is filled in)."""
    return not _only_value(space[name])[0]


def _check_against_space(
    table: _Table, wanted: dict[str, str | None], space: CS.ConfigurationSpace | None
) -> None:
    """Refuse configuration columns the given space lacks, and the reverse."""
    if space is None:
        return
    unknown = [name for name in wanted if name not in space]
    if unknown:
        raise InteropError(
            f"Cannot import {table.source}: {', '.join(repr(u) for u in unknown)} "
            "are not hyperparameters of the given search space, whose "
            f"hyperparameters are {', '.join(repr(n) for n in space)}. Choose the "
            "configuration columns with columns= (--columns), or add them to "
            "the search space."
        )
    uncovered = [n for n in space if _needs_column(space, n) and n not in wanted]
    if uncovered:
        raise InteropError(
            f"Cannot import {table.source}: no column for hyperparameter "
            f"{', '.join(repr(u) for u in uncovered)} of the given search space. "
            "Add the column, or leave the hyperparameter out of the space."
        )


_STATES = ("COMPLETE", "FAIL", "RUNNING", "PRUNED", "WAITING")
"""Trial states a state column may hold (hptaa_lab's and Optuna's)."""


def _state_column(table: _Table) -> str | None:
    """The table's ``state`` column (any case), if it has one.

    Raises:
        InteropError: If more than one column could be it (``state`` and
            ``State``): which one holds the trial states is not guessed.
    """
    found = [
        str(column)
        for column in table.frame.columns
        if str(column).strip().lower() == _STATE
    ]
    if len(found) > 1:
        raise InteropError(
            f"Cannot import {table.source}: the columns {found} could each be the "
            "trial state column (its name is read in any case). Rename all but "
            "the one that holds COMPLETE / FAIL (a hyperparameter named like it "
            "needs another name)."
        )
    return found[0] if found else None


def _rows_to_import(table: _Table, chosen: _Columns) -> tuple[list[int], int]:
    """Positions of the rows to import, and how many were skipped (not COMPLETE).

    A state column (exported, or written by hand) keeps the COMPLETE rows, unless
    it was chosen as a hyperparameter; a cell that is no trial state (blank, or
    e.g. FAILED) is refused rather than guessed.
    """
    n_rows = len(table.frame)
    column = _state_column(table)
    if column is None or column in chosen.hyperparameters.values():
        return list(range(n_rows)), 0
    states = [str(cell).strip().upper() for cell in table.frame[column].tolist()]
    cells = table.frame[column].tolist()
    unknown = [
        f"{table.labels[i]}: " + ("blank" if is_missing(cells[i]) else repr(cells[i]))
        for i, state in enumerate(states)
        if state not in _STATES or is_missing(cells[i])
    ]
    if unknown:
        shown = "; ".join(unknown[:5]) + ("; ..." if len(unknown) > 5 else "")
        raise InteropError(
            f"Cannot import {table.source}: its column {column!r} holds values that "
            f"are no trial state ({shown}). Write COMPLETE for a finished trial and "
            f"FAIL for one that failed (also {', '.join(_STATES[2:])}; any case); "
            "only COMPLETE rows are imported. A hyperparameter named state is "
            "imported as one when given in columns= (--columns)."
        )
    rows = [i for i, state in enumerate(states) if state == TrialState.COMPLETE.value]
    return rows, n_rows - len(rows)


# -- the search space --------------------------------------------------------


def _storable(reading: Any) -> bool:
    """Whether an inferred hyperparameter can hold a reading: text, a bool, a
    float, or an int within 64 bits."""
    if isinstance(reading, bool | str | float):
        return True
    return isinstance(reading, int) and -(2**63) <= reading < 2**63


def _reading(cell: Any) -> Any:
    """What a cell holds: a bool, int, float or text (text is parsed)."""
    value = plain(cell)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in _BOOL_TEXT:
        return _BOOL_TEXT[text.lower()]
    if _INT_TEXT.fullmatch(text):
        return int(text)
    number = as_number(text)
    return text if number is None else number


def _infer(
    table: _Table, chosen: _Columns, rows: list[int], problems: Problems
) -> CS.ConfigurationSpace:
    """Infer one hyperparameter per configuration column."""
    space = CS.ConfigurationSpace()
    for name, column in chosen.hyperparameters.items():
        cells = table.frame[column].tolist()
        present = [plain(cells[i]) for i in rows if not is_missing(cells[i])]
        if any(isinstance(p, str) and _ZERO_LED.fullmatch(p.strip()) for p in present):
            # Codes such as "007" and "7" are two choices, not the number 7.
            readings: list[Any] = [str(p).strip() for p in present]
        else:
            readings = [_reading(p) for p in present]
        if not readings:
            problems.add(-1, "every row", column, "no value at all")
            continue
        odd = next((r for r in readings if not _storable(r)), None)
        if odd is not None:
            what = (
                "integers beyond 64 bits"
                if isinstance(odd, int)
                else (f"{type(odd).__name__} values")
            )
            problems.add(
                -1,
                "every row",
                column,
                f"holds {what}, which a search space cannot hold; leave the column "
                "out with columns= (--columns), or convert it",
            )
            continue
        try:
            space.add(_infer_one(name, readings))
        except (ValueError, OverflowError) as exc:  # ConfigSpace refused it
            problems.add(
                -1,
                "every row",
                column,
                f"cannot be inferred as a hyperparameter (ConfigSpace: {exc}); give "
                "the search space with space= (--space), or leave the column out "
                "with columns= (--columns)",
            )
    return space


def _infer_one(name: str, readings: list[Any]) -> Any:
    """A hyperparameter that holds every reading of one column."""
    numbers = [
        r
        for r in readings
        if isinstance(r, int | float) and not isinstance(r, bool) and math.isfinite(r)
    ]
    if 2 * len(numbers) <= len(readings):
        choices = sorted(set(readings), key=lambda c: (type(c).__name__, str(c)))
        if len(choices) == 1:
            return CS.Constant(name, choices[0])
        return CS.Categorical(name, choices)

    low, high = min(numbers), max(numbers)
    is_int = all(isinstance(n, int) for n in numbers)
    if low == high:
        return CS.Constant(name, int(low) if is_int else float(low))
    log = low > 0 and high / low > _LOG_SPAN
    if is_int:
        return CS.Integer(name, (int(low), int(high)), log=log)
    return _covering_float(name, float(low), float(high), log)


def _covering_float(
    name: str, low: float, high: float, log: bool
) -> CS.UniformFloatHyperparameter:
    """A float range whose bounds, as ConfigSpace stores them (rounded), still
    hold ``low`` and ``high``: widened by a tiny relative margin where needed."""
    for margin in (0.0, 1e-12, 1e-9, 1e-6, 1e-3):
        lower = low - margin * abs(low)
        upper = high + margin * abs(high)
        if log and lower <= 0.0:
            lower = low
        try:
            hyperparameter = CS.Float(name, (lower, upper), log=log)
        except ValueError:
            if margin == 1e-3:
                raise
            continue  # bounds too close for ConfigSpace: widen them
        if hyperparameter.legal_value(low) and hyperparameter.legal_value(high):
            break
    return hyperparameter


# -- trials ------------------------------------------------------------------


def _import_table(
    table: _Table,
    name: str,
    objective: str,
    columns: Sequence[str] | None,
    space: Any,
    direction: str,
    store: TrialStore | str | None,
    dry_run: bool,
    attrs: dict[str, Any],
) -> ImportResult:
    """Check a table, build its trials, and write them as a new study."""
    check_study_name(name)
    check_direction(direction)
    given = given_space(space)
    chosen = _choose_columns(table, objective, columns, given)
    rows, n_skipped = _rows_to_import(table, chosen)
    if not rows and not n_skipped:
        raise InteropError(
            f"Cannot import {table.source}: it has no rows, only the column "
            "names; nothing to import."
        )
    if not rows:
        raise InteropError(
            f"Cannot import {table.source}: no COMPLETE row ({n_skipped} rows are "
            "in other states); nothing to import."
        )

    problems = Problems(table.source, columns=list(table.frame.columns))
    final = given if given is not None else _infer(table, chosen, rows, problems)
    values = _objective_values(table, chosen, rows, problems)
    configs = _configurations(table, chosen, rows, final, problems)
    extras = _exported_fields(table, chosen, rows, problems)
    advice = _ADVICE
    cells = table.frame[chosen.objective].tolist()
    if any(is_missing(cells[i]) for i in rows) and _state_column(table) is None:
        advice = (
            "A row without an objective value is a trial that failed or never "
            "finished: add a 'state' column (COMPLETE, or FAIL for such rows) and "
            "those rows are skipped, or delete them. " + _ADVICE
        )
    problems.raise_if_any(advice)

    default_by = "csv" if attrs["imported_from"] == "csv" else "dataframe"
    trials = [
        TrialRecord(
            number=k,
            config=config,
            state=TrialState.COMPLETE,
            value=value,
            started_at=extra.get("started_at"),
            finished_at=extra.get("finished_at"),
            proposed_by=extra.get("proposed_by") or default_by,
        )
        for k, (config, value, extra) in enumerate(
            zip(configs, values, extras, strict=True)
        )
    ]
    record = study_record(name, final, direction, {**attrs, "objective": objective})
    return write_import(
        store,
        record,
        trials,
        [table.row_attrs[i] for i in rows],
        space=final,
        n_skipped=n_skipped,
        space_origin=ImportResult.GIVEN if given else ImportResult.INFERRED,
        dry_run=dry_run,
    )


def _objective_values(
    table: _Table, chosen: _Columns, rows: list[int], problems: Problems
) -> list[float]:
    cells = table.frame[chosen.objective].tolist()
    values: list[float] = []
    for i in rows:
        cell, label = cells[i], table.labels[i]
        number = as_number(cell)
        if is_missing(cell):
            problems.add(i, label, chosen.objective, "missing objective value")
        elif number is None:
            problems.add(i, label, chosen.objective, f"{plain(cell)!r} is not a number")
        elif not math.isfinite(number):
            problems.add(i, label, chosen.objective, f"{number} is not a finite number")
        values.append(number if number is not None else math.nan)
    return values


def _configurations(
    table: _Table,
    chosen: _Columns,
    rows: list[int],
    space: CS.ConfigurationSpace,
    problems: Problems,
) -> list[dict[str, Any]]:
    """One configuration per row, every cell checked against the space."""
    cells = {n: table.frame[c].tolist() for n, c in chosen.hyperparameters.items()}
    constants: dict[str, Any] = {}
    for name in space:
        single, value = _only_value(space[name])
        if single and name not in cells and not space.parents_of[name]:
            constants[name] = value
    configs = []
    for i in rows:
        label, n_before = table.labels[i], len(problems)
        config: dict[str, Any] = dict(constants)
        maybe_empty: dict[str, Any] = {}
        for name, column_cells in cells.items():
            if name not in space:
                continue  # a column whose inference failed (already reported)
            cell, column = column_cells[i], chosen.hyperparameters[name]
            if is_missing(cell):
                empty = _empty_choices(space[name], cell)
                if len(empty) > 1:
                    listed = " and ".join(repr(c) for c in empty)
                    problems.add(i, label, column, f"{_ALIKE_START} {listed}{_ALIKE}")
                elif empty:
                    # None (or "") is one of the choices; a table writes it as
                    # an empty cell (hptaa export does). Dropped below where
                    # inactive.
                    maybe_empty[name] = empty[0]
                elif not space.parents_of[name]:
                    problems.add(i, label, column, "missing value")
                continue
            value, why = coerce_value(space[name], cell, text=True)
            if why is None and isinstance(value, float) and not math.isfinite(value):
                why = f"{value} is not a finite number"
            if why is not None:
                problems.add(i, label, column, why)
            config[name] = value

        for name, empty in maybe_empty.items():
            # The choice where the hyperparameter is active, nothing where not.
            if not space.parents_of[name] or not check_configuration(
                space, {**config, name: empty}
            ):
                config[name] = empty
        if len(problems) == n_before:
            why = check_configuration(space, config)
            if why:
                problems.add(i, label, None, f"not a valid configuration: {why}")
        configs.append(config)
    return configs


_ALIKE_START = "an empty cell could be any of the choices"
_ALIKE = (
    ", which a table writes alike; import such a study from an Optuna storage "
    "(hptaa export writes one), which keeps them apart"
)


def _empty_choices(hp: Any, cell: Any) -> list[Any]:
    """The choices of ``hp`` that a cell with no value may stand for: a blank
    text as such (" "), else None and "" (both an empty field of a CSV)."""
    values = choice_values(hp)
    if isinstance(cell, str) and cell:
        exact = [c for c in values if isinstance(c, str) and c == cell]
        if exact:
            return exact
    return [c for c in values if written_as(c, "")]


def _exported_fields(
    table: _Table, chosen: _Columns, rows: list[int], problems: Problems
) -> list[dict[str, Any]]:
    """proposed_by and times of each row of an exported table, when present."""
    extras: list[dict[str, Any]] = [{} for _ in rows]
    if not chosen.exported:
        return extras
    frame = table.frame
    if _PROPOSED_BY in frame.columns:
        cells = frame[_PROPOSED_BY].tolist()
        for extra, i in zip(extras, rows, strict=True):
            if not is_missing(cells[i]):
                extra[_PROPOSED_BY] = str(cells[i]).strip()
    for column in _TIMES:
        if column not in frame.columns:
            continue
        cells = frame[column].tolist()
        for extra, i in zip(extras, rows, strict=True):
            if is_missing(cells[i]):
                continue
            when = _utc_time(cells[i])
            if when is None:
                problems.add(i, table.labels[i], column, f"{cells[i]!r} is not a time")
            extra[column] = when
    return extras


def _utc_time(cell: Any) -> datetime | None:
    """A cell as an aware UTC datetime (naive times are taken as UTC)."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(cell)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    result: datetime = stamp.tz_convert("UTC").to_pydatetime()
    return result
