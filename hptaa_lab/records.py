"""Records that cross module boundaries: trials and studies as stored."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "STUDIES_HEADER",
    "TRIAL_COLUMNS",
    "StudyRecord",
    "TrialRecord",
    "TrialState",
    "cut_off",
    "error_summary",
    "incumbent_text",
    "studies_rows",
    "trials_frame",
    "twin_links",
]

#: Columns of a trials table before the ``params_<name>`` columns, in this order.
TRIAL_COLUMNS = (
    "number",
    "state",
    "value",
    "proposed_by",
    "started_at",
    "finished_at",
    "duration_s",
    "error",
)


class TrialState(enum.StrEnum):
    """Life cycle of a trial."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"


@dataclass(frozen=True)
class TrialRecord:
    """One evaluation of one configuration, as kept in the trial store.

    Attributes:
        number: Position of the trial in its study, from 0.
        config: Configuration as a plain dict of JSON values (active
            hyperparameters only).
        state: RUNNING, COMPLETE or FAIL.
        value: Objective value as returned by the objective (None unless
            COMPLETE).
        error: Error text of a failed trial (traceback or reason).
        started_at: When the evaluation started (UTC).
        finished_at: When it finished (UTC), None while running.
        proposed_by: How the configuration was proposed, e.g. "random", "tpe",
            "best-first", "t2pe".
    """

    number: int
    config: dict[str, Any]
    state: TrialState
    value: float | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    proposed_by: str = ""


@dataclass(frozen=True)
class StudyRecord:
    """A study's metadata as kept in the trial store.

    Attributes:
        name: Unique study name.
        space_json: The search space as ConfigSpace JSON text.
        direction: "minimize" or "maximize".
        previous: Name of the previous study (the one it transfers from), if any.
        mapping_json: The confirmed Mapping as JSON text, if any.
        sampler: Sampler name, e.g. "tpe".
        transfer: Transfer method name, or None without transfer.
        transfer_options: Options of the transfer method (JSON values, e.g.
            ``{"ties": None}``); empty for the method's defaults.
        seed: Seed of the sampler, if given.
        created_at: When the study was created (UTC).
        attrs: Free-form JSON attributes (e.g. the benchmark it came from).
    """

    name: str
    space_json: str
    direction: str = "minimize"
    previous: str | None = None
    mapping_json: str | None = None
    sampler: str = "tpe"
    transfer: str | None = None
    seed: int | None = None
    created_at: datetime | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    transfer_options: dict[str, Any] = field(default_factory=dict)


def trials_frame(trials: Sequence[TrialRecord], names: Sequence[str]) -> pd.DataFrame:
    """One row per trial: the :data:`TRIAL_COLUMNS`, then ``params_<name>`` for each
    of ``names`` (empty where a trial does not set it); times as UTC datetimes."""
    import pandas as pd

    rows = []
    for t in trials:
        duration = None
        if t.started_at is not None and t.finished_at is not None:
            duration = (t.finished_at - t.started_at).total_seconds()
        row: dict[str, Any] = {
            "number": t.number,
            "state": str(t.state),
            "value": t.value,
            "proposed_by": t.proposed_by,
            "started_at": t.started_at,
            "finished_at": t.finished_at,
            "duration_s": duration,
            "error": t.error,
        }
        row.update({f"params_{n}": t.config.get(n) for n in names})
        rows.append(row)
    frame = pd.DataFrame(
        rows, columns=[*TRIAL_COLUMNS, *(f"params_{n}" for n in names)]
    )
    for column in ("started_at", "finished_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def error_summary(error: str | None, width: int = 120) -> str:
    """A trial error in one line: the exception line of its traceback (e.g.
    ``ValueError: bad x``), with " ..." when the message goes on over more
    lines; an error that is no traceback, its first line. At most ``width``
    characters; "" for no error."""
    if not error or not error.strip():
        return ""
    lines = error.strip().splitlines()
    if lines[0].lstrip().startswith("+ Exception Group Traceback ("):
        # An exception group's traceback: its own frames and line are drawn
        # with "| " in front, up to its first sub-exception's "+-+---".
        group = itertools.takewhile(
            lambda line: not line.lstrip().startswith("+-"), lines[1:]
        )
        lines = [line.strip().removeprefix("| ") for line in group] or lines
        lines = ["Traceback (most recent call last):", *lines]
    frames = [
        i
        for i, line in enumerate(lines)
        if line.startswith("  File ") or line.startswith("Traceback (")
    ]
    start = frames[-1] + 1 if frames else 0
    # Below the last frame come its indented source lines, then the exception.
    while start < len(lines) - 1 and lines[start].startswith(" "):
        start += 1
    line = lines[start].strip()
    rest = [later.strip() for later in lines[start + 1 :] if later.strip()]
    if line.endswith(":") and rest:
        # A message that starts on the next line: "ValueError:\nbad x".
        line = f"{line} {rest.pop(0)}"
    if rest:
        line += " ..."
    return line if len(line) <= width else line[: width - 3] + "..."


def incumbent_text(value: float | None, direction: str) -> str:
    """An incumbent value for a table of studies: 6 significant digits, "(max)"
    after a maximised one (minimised and maximised studies share the column),
    "-" for none."""
    if value is None:
        return "-"
    return f"{value:.6g}" + (" (max)" if direction == "maximize" else "")


STUDIES_HEADER = (
    "study (lineage)",
    "transfer",
    "sampler",
    "complete/trials",
    "failed",
    "incumbent",
    "created (UTC)",
)
"""Columns of the table of studies (``hptaa studies``, ``%hptaa studies``)."""


def studies_rows(summaries: Sequence[Mapping[str, Any]]) -> list[tuple[str, ...]]:
    """Rows of the table of studies under :data:`STUDIES_HEADER`, one per row of
    ``TrialStore.lineage_tree()``."""
    return [
        (
            s["tree"],
            s["transfer"] or _no_transfer(s),
            s["sampler"],
            f"{s['n_complete']}/{s['n_trials']}" + _running_text(s),
            str(s["n_fail"]),
            incumbent_text(s["best_value"], s["direction"]),
            f"{s['created_at']:%Y-%m-%d %H:%M}" if s["created_at"] else "-",
        )
        for s in summaries
    ]


def _running_text(summary: Mapping[str, Any]) -> str:
    """ " (2 running)", " (1 running, 1 left by an ended process)" or ""."""
    abandoned = summary.get("n_abandoned", 0)
    running = summary["n_running"] - abandoned
    parts = [f"{running} running"] if running else []
    if abandoned:
        process = "an ended process" if abandoned == 1 else "ended processes"
        parts.append(f"{abandoned} left by {process}")
    return f" ({', '.join(parts)})" if parts else ""


def _no_transfer(summary: Mapping[str, Any]) -> str:
    """The transfer column of a study without transfer: whose twin it is, or
    where an imported study's trials came from."""
    if summary.get("twin_of"):
        return f"none, twin of {summary['twin_of']}"
    if summary.get("imported_from"):
        return f"none, imported ({summary['imported_from']})"
    return "-"


_CUT_OFF = (
    "interrupted by the user",
    "optimize ended:",
    "cancelled: ",
    "the process running this trial",
    "the trial was unfinished when the study was resumed",
)
"""How the errors of trials whose evaluation was cut off start: a Ctrl-C, a
stop, a driver that ended or crashed (see ``cut_off``)."""


def cut_off(trial: TrialRecord) -> bool:
    """Whether a failed trial's evaluation was cut off (Ctrl-C, a stop, a process
    that ended) rather than failed by its configuration: a resumed study learns
    nothing from it, and proposes its configuration again when it is due."""
    return trial.state == TrialState.FAIL and (trial.error or "").startswith(_CUT_OFF)


def twin_links(
    record: StudyRecord, lookup: Callable[[str], StudyRecord | None]
) -> dict[str, str | None]:
    """The twin links of a study (``scratch_twin``: its no-transfer twin;
    ``twin_of``: the transfer study it was run beside, both set by a
    ``--compare`` run) that still hold: the named study exists (``lookup``
    gives its record, None if there is none) and names this one back. A twin
    whose transfer study was deleted, and perhaps created again without it,
    is no one's twin."""
    links: dict[str, str | None] = {}
    for key, back in (("scratch_twin", "twin_of"), ("twin_of", "scratch_twin")):
        value = record.attrs.get(key)
        partner = lookup(value) if isinstance(value, str) and value else None
        held = partner is not None and partner.attrs.get(back) == record.name
        links[key] = value if held else None
    return links
