"""What every importer and exporter shares: errors, results, values, the store."""

from __future__ import annotations

import decimal
import fractions
import logging
import math
import numbers
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import ConfigSpace as CS
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from hptaa_lab.errors import InteropError, StudyExistsError, UnknownNameError
from hptaa_lab.records import StudyRecord, TrialRecord
from hptaa_lab.space import as_space, describe, hp_kind, rules, space_to_json
from hptaa_lab.space._encoding import CATEGORICAL, CONSTANT, FLOAT, INT, ORDINAL
from hptaa_lab.store import DEFAULT_URL, TrialStore

if TYPE_CHECKING:
    from hptaa_lab.study import Study

__all__ = [
    "ImportResult",
    "InteropError",
    "Problems",
    "coerce_value",
    "format_space",
    "mask_url",
    "opened_store",
    "study_and_store",
    "write_import",
    "written_as",
]

logger = logging.getLogger(__name__)

DIRECTIONS = ("minimize", "maximize")
_MAX_LISTED = 20


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote to the trial store (or would write, on a dry run).

    Attributes:
        study: The new study's record (``created_at`` is None on a dry run).
        space: Its search space.
        n_trials: Number of trials imported.
        n_skipped: Rows or trials of the source that were not imported because
            they are not COMPLETE.
        space_origin: Where the search space came from: ``INFERRED`` from the
            data (show it to the user for confirmation), ``GIVEN`` by the
            caller, or ``EXPORTED`` with the source by hptaa_lab.
        dry_run: True when nothing was written.
    """

    INFERRED: ClassVar[str] = "inferred from the data"
    GIVEN: ClassVar[str] = "given"
    EXPORTED: ClassVar[str] = "kept by hptaa_lab's export"

    study: StudyRecord
    space: CS.ConfigurationSpace
    n_trials: int
    n_skipped: int = 0
    space_origin: str = GIVEN
    dry_run: bool = False

    @property
    def name(self) -> str:
        """Name of the new study."""
        return self.study.name

    @property
    def space_inferred(self) -> bool:
        """Whether the search space was inferred from the data."""
        return self.space_origin == self.INFERRED

    def format(self) -> str:
        """A few lines for the user: the search space and what was imported."""
        lines = [f"Search space ({self.space_origin}):", format_space(self.space), ""]
        verb = "Would import" if self.dry_run else "Imported"
        skipped = f" ({self.n_skipped} not COMPLETE, skipped)" if self.n_skipped else ""
        lines.append(
            f"{verb} {self.n_trials} trials{skipped} as study {self.name!r} "
            f"({self.study.direction})."
        )
        if not self.dry_run:
            lines.append(
                f"Transfer from it with create_study(..., previous={self.name!r})."
            )
        return "\n".join(lines)


def format_space(space: CS.ConfigurationSpace) -> str:
    """One line per hyperparameter, e.g. ``  lr: float [0.0001, 0.1] log``."""
    width = max((len(name) for name in space), default=0)
    lines = [f"  {name.ljust(width)}  {describe(hp)}" for name, hp in space.items()]
    lines += [f"  {rule}" for rule in rules(space)]
    return "\n".join(lines)


@dataclass
class Problems:
    """Problems found in the data, each tied to where it is (row and column)."""

    source: str
    column_word: str = "column"
    columns: Sequence[str] = ()
    _found: list[tuple[tuple[int, int], str]] = field(default_factory=list)

    @property
    def found(self) -> list[str]:
        """The problems, by row, then by column as ordered in ``columns``."""
        return [text for _, text in sorted(self._found, key=lambda p: p[0])]

    def __len__(self) -> int:
        return len(self._found)

    def add(self, position: int, where: str, column: str | None, message: str) -> None:
        """Record a problem at row ``where`` (position ``position``) and ``column``."""
        place = where if column is None else f"{where}, {self.column_word} {column!r}"
        order = list(self.columns)
        index = order.index(column) if column in order else len(order)
        self._found.append(((position, index), f"{place}: {message}"))

    def raise_if_any(self, advice: str) -> None:
        """Raise an InteropError that lists the problems, if there are any."""
        found = self.found
        if not found:
            return
        listed = [f"  {problem}" for problem in found[:_MAX_LISTED]]
        if len(found) > _MAX_LISTED:
            listed.append(f"  ... and {len(found) - _MAX_LISTED} more")
        count = len(found)
        raise InteropError(
            f"Cannot import {self.source}: {count} "
            f"{'problem' if count == 1 else 'problems'}, so nothing was imported.\n"
            + "\n".join(listed)
            + f"\n{advice}"
        )


# -- values ------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Turn a numpy scalar into the matching Python value, and a Decimal or a
    Fraction (a database's numeric column, say) into a float, as a study stores
    an objective's; anything else (an array of a list column, say) stays as it
    is."""
    if isinstance(value, decimal.Decimal) and value.is_nan():
        return math.nan  # float() refuses a signalling NaN
    if isinstance(value, decimal.Decimal | fractions.Fraction):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes) and _is_scalar(value):
        return item()
    return value


def _is_scalar(value: Any) -> bool:
    return getattr(value, "ndim", 0) == 0


def is_missing(value: Any) -> bool:
    """Whether a cell holds no value (None, NaN, NA, or blank text)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, decimal.Decimal):
        return value.is_nan()  # pandas' check raises on a signalling NaN
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_number(value: Any) -> float | None:
    """The number a cell holds (text is parsed), or None when it holds none."""
    value = plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _matching_choice(value: Any, choices: Sequence[Any]) -> tuple[bool, Any]:
    """The choice a cell names: same type first, then same number, then same text."""
    value = plain(value)
    for choice in choices:
        if type(choice) is type(value) and choice == value:
            return True, choice
    number = as_number(value)
    for choice in choices:
        is_number = isinstance(choice, numbers.Real) and not isinstance(choice, bool)
        if number is not None and is_number and float(choice) == number:
            return True, choice
    text = str(value).strip()
    for choice in choices:
        same = (
            str(choice).lower() == text.lower() if isinstance(choice, bool) else False
        )
        if same or str(choice) == text:
            return True, choice
    return False, None


def coerce_value(hp: Any, value: Any, *, text: bool = False) -> tuple[Any, str | None]:
    """Convert a cell to a legal value of ``hp``.

    With ``text`` (a cell of a table, written as text), a cell whose text more
    than one choice writes as (7 and "7", True and "True", None and "" as an
    empty cell) is no value: which one it was cannot be told.

    Returns:
        ``(value, None)``, or ``(None, why it is not legal)``.
    """
    kind = hp_kind(hp)
    if kind in (FLOAT, INT):
        number = as_number(value)
        if number is None:
            return None, f"{plain(value)!r} is not a number"
        if not math.isfinite(number):
            return None, f"{number} is not a finite number"
        if kind == INT and not number.is_integer():
            return None, f"{number:g} is not an integer"
        if not hp.lower <= number <= hp.upper:
            return None, f"{number:g} is outside [{hp.lower:g}, {hp.upper:g}]"
        return (int(number) if kind == INT else number), None

    choices: tuple[Any, ...] = ()
    if kind == CATEGORICAL:
        choices = tuple(hp.choices)
    elif kind == ORDINAL:
        choices = tuple(hp.sequence)
    elif kind == CONSTANT:
        choices = (hp.value,)
    if text and isinstance(plain(value), str):
        alike = [c for c in choices if written_as(c, plain(value))]
        if len(alike) > 1:
            listed = " and ".join(repr(c) for c in alike)
            return None, (
                f"{plain(value)!r} could be any of the choices {listed}, which a "
                "table writes as the same text; import such a study from an Optuna "
                "storage (hptaa export writes one), which keeps their types"
            )
    found, choice = _matching_choice(value, choices)
    if not found:
        listed = ", ".join(repr(c) for c in choices)
        return None, f"{plain(value)!r} is not one of the choices {listed}"
    return plain(choice), None


def written_as(choice: Any, text: str) -> bool:
    """Whether a table that writes ``choice`` as text could hold it as ``text``
    (None and "" are an empty cell, as hptaa export writes them)."""
    if choice is None:
        return not text.strip() or text.strip() == "None"
    if isinstance(choice, str):
        return choice == text or (bool(text.strip()) and choice == text.strip())
    if isinstance(choice, bool):
        return str(choice).lower() == text.strip().lower()
    if isinstance(choice, numbers.Real):
        number = as_number(text)
        return number is not None and float(choice) == number
    return str(choice) == text.strip()


def check_configuration(space: CS.ConfigurationSpace, config: dict[str, Any]) -> str:
    """Why a configuration breaks a condition or forbidden clause, or ""."""
    if not space.conditions and not space.forbidden_clauses:
        return ""
    try:
        CS.Configuration(space, values=config).check_valid_configuration()
    except (ValueError, KeyError, TypeError) as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return ""


# -- studies and the store ---------------------------------------------------


def check_direction(direction: Any) -> str:
    """Refuse a direction other than minimize or maximize."""
    if direction not in DIRECTIONS:
        raise UnknownNameError("direction", str(direction), list(DIRECTIONS))
    return str(direction)


def given_space(space: Any) -> CS.ConfigurationSpace | None:
    """The given search space (ConfigSpace or short dict form), or None."""
    return None if space is None else as_space(space)


@contextmanager
def opened_store(store: TrialStore | str | None) -> Iterator[TrialStore]:
    """The given store, or one opened on a URL and closed afterwards."""
    if isinstance(store, TrialStore):
        yield store
        return
    with TrialStore(store) as opened:
        yield opened


@contextmanager
def study_and_store(
    study: str | Study, store: TrialStore | str | None
) -> Iterator[tuple[str, TrialStore]]:
    """The study name and the store that keeps it (a Study brings its own)."""
    from hptaa_lab.study import Study

    if isinstance(study, Study):
        yield study.name, study.store
        return
    with opened_store(store) as opened:
        yield study, opened


def sentence(text: Any) -> str:
    """Text (such as a driver's error) on one line, ending in a full stop."""
    line = " ".join(str(text).split()).rstrip(".")
    return line if line.endswith(("?", "!")) else line + "."


def mask_url(url: str) -> str:
    """A URL with its password replaced by ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def write_import(
    store: TrialStore | str | None,
    record: StudyRecord,
    trials: Sequence[TrialRecord],
    trial_attrs: Sequence[dict[str, Any]],
    *,
    space: CS.ConfigurationSpace,
    n_skipped: int,
    space_origin: str,
    dry_run: bool,
) -> ImportResult:
    """Write an imported study and its trials at once (nothing on a dry run)."""
    result = ImportResult(
        study=record,
        space=space,
        n_trials=len(trials),
        n_skipped=n_skipped,
        space_origin=space_origin,
        dry_run=dry_run,
    )
    if dry_run and _is_missing_file(store):
        return result  # no store yet, so no study of that name either
    with opened_store(store) as opened:
        if dry_run:
            if opened.has_study(record.name):
                raise StudyExistsError(record.name, importing=True)
            return result
        stored = opened.import_study(record, trials, trial_attrs)
    return replace(result, study=stored)


def _is_missing_file(store: TrialStore | str | None) -> bool:
    """Whether ``store`` names a SQLite file that does not exist (yet)."""
    if isinstance(store, TrialStore):
        return False
    try:
        url = sa.make_url(DEFAULT_URL if store is None else store)
    except sa_exc.ArgumentError:
        return False
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return False
    return not Path(database).expanduser().exists()


def study_record(
    name: str,
    space: CS.ConfigurationSpace,
    direction: str,
    attrs: Mapping[str, Any],
) -> StudyRecord:
    """The record of an imported study: no previous study, sampler tpe."""
    return StudyRecord(
        name=name,
        space_json=space_to_json(space),
        direction=direction,
        attrs=dict(attrs),
    )


def require_pyarrow(doing: str) -> None:
    """Refuse Parquet work without pyarrow; ``doing`` is "Reading" or "Writing"."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        raise InteropError(
            f"{doing} Parquet files needs the pyarrow package, an optional extra "
            "of hptaa_lab: pip install 'hptaa_lab[parquet]'."
        )


def require_file(path: Path, *, dataset: bool = False) -> None:
    """Refuse an import source that does not exist or is a folder; with
    ``dataset``, a folder is refused only if it holds no file (a partitioned
    Parquet dataset is a folder of files)."""
    if path.is_dir() and not (dataset and any(p.is_file() for p in path.rglob("*"))):
        raise InteropError(
            f"Cannot import {path}: it is "
            + ("an empty folder" if dataset else "a folder")
            + ". Give the path of one file (as hptaa export writes it)."
        )
    if not path.exists():
        raise InteropError(
            f"Cannot import {path}: no such file. Check the path (relative paths "
            f"start at {Path.cwd()})."
        )
