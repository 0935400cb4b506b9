"""Export a study's trials as a pandas DataFrame, a CSV file or a Parquet file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hptaa_lab.interop._common import (
    InteropError,
    is_missing,
    require_pyarrow,
    study_and_store,
)
from hptaa_lab.interop._tables import PARAMS_PREFIX
from hptaa_lab.records import trials_frame
from hptaa_lab.space import space_from_json
from hptaa_lab.store import TrialStore

if TYPE_CHECKING:
    import pandas as pd

    from hptaa_lab.study import Study

__all__ = ["export_csv", "export_dataframe", "export_parquet"]

logger = logging.getLogger(__name__)


def export_dataframe(
    study: str | Study, *, store: TrialStore | str | None = None
) -> pd.DataFrame:
    """Return a study's trials as a DataFrame, one row per trial by number.

    The columns are number, state, value, proposed_by, started_at and
    finished_at (UTC), duration_s, error, then ``params_<name>`` for every
    hyperparameter of the search space (empty where a trial does not set it; an
    integer column with empty cells has pandas' nullable Int64 type).
    This is the layout :func:`import_csv` and :func:`import_dataframe` read.

    Args:
        study: The study's name (or a Study).
        store: A TrialStore or SQLAlchemy URL holding the study.

    Raises:
        StudyNotFoundError: No such study.
    """

    import pandas as pd

    with study_and_store(study, store) as (name, trial_store):
        record = trial_store.get_study(name)
        trials = trial_store.get_trials(name)

    names = list(space_from_json(record.space_json))
    names += sorted({k for t in trials for k in t.config} - set(names))
    frame = trials_frame(trials, names)
    for name in names:
        values = [t.config.get(name) for t in trials]
        if _whole_with_gaps(values):
            # A conditional integer hyperparameter: written as 5, not 5.0.
            frame[f"{PARAMS_PREFIX}{name}"] = pd.array(values, dtype="Int64")
    return frame


def _whole_with_gaps(values: list[object]) -> bool:
    """Whether the values are ints (no bools, within int64) with some missing,
    which pandas would turn into floats."""
    present = [v for v in values if v is not None]
    return 0 < len(present) < len(values) and all(
        isinstance(v, int) and not isinstance(v, bool) and _INT64[0] <= v <= _INT64[1]
        for v in present
    )


_INT64 = (-(2**63), 2**63 - 1)
"""The values pandas' Int64 holds; larger ints stay as they were."""


def export_csv(
    study: str | Study, path: str | Path, *, store: TrialStore | str | None = None
) -> Path:
    """Write a study's trials to a CSV file (the :func:`export_dataframe` layout).

    Returns:
        The path written.

    Raises:
        StudyNotFoundError: No such study.
        InteropError: The file cannot be written.
    """
    frame = export_dataframe(study, store=store)
    target = Path(path)
    _write_whole(target, lambda part: frame.to_csv(part, index=False))
    logger.info("Wrote %d trials to %s", len(frame), target)
    return target


def export_parquet(
    study: str | Study, path: str | Path, *, store: TrialStore | str | None = None
) -> Path:
    """Write a study's trials to a Parquet file (the :func:`export_dataframe` layout).

    A configuration column whose values are of several types (a categorical
    hyperparameter with choices 1 and "auto", say) is written as text.

    Returns:
        The path written.

    Raises:
        StudyNotFoundError: No such study.
        InteropError: pyarrow is not installed, or the file cannot be written.
    """
    require_pyarrow("Writing")

    frame = export_dataframe(study, store=store)
    for column in frame.columns:
        if str(column).startswith(PARAMS_PREFIX):
            frame[column] = _one_type(frame[column])
    target = Path(path)
    _write_whole(target, lambda part: frame.to_parquet(part, index=False))
    logger.info("Wrote %d trials to %s", len(frame), target)
    return target


def _write_whole(target: Path, write: Callable[[Path], object]) -> None:
    """Write ``target`` through a temporary file beside it, renamed over it once
    complete: an export that is interrupted (Ctrl-C) or fails leaves no
    truncated file, which would import as fewer trials without a word."""
    # The name ends as the target's: pandas compresses by the suffix (.csv.gz).
    part = target.with_name(f".part-{os.getpid()}-{target.name}")
    try:
        write(part)
        os.replace(part, target)
    except OSError as exc:
        raise _unwritable(target, exc) from None
    finally:
        part.unlink(missing_ok=True)


def _one_type(column: pd.Series) -> pd.Series:
    """The column as is if its values share a type, else as text."""
    types = {type(v) for v in column.dropna().tolist()}
    if len(types) <= 1 or types <= {int, float}:
        return column
    logger.warning(
        "Column %s holds values of several types (%s); written as text",
        column.name,
        ", ".join(sorted(t.__name__ for t in types)),
    )
    return column.map(lambda v: None if is_missing(v) else str(v))


def _unwritable(path: Path, exc: OSError) -> InteropError:
    return InteropError(
        f"Cannot write {path}: {exc.strerror or exc}. Choose a path in a folder "
        "you can write to."
    )
