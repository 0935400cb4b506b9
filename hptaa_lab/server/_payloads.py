"""JSON payloads of the REST endpoints, built from a (read-only) trial store."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from hptaa_lab.errors import HptaaError
from hptaa_lab.records import (
    StudyRecord,
    TrialRecord,
    TrialState,
    error_summary,
    twin_links,
)
from hptaa_lab.store import TrialStore
from hptaa_lab.store import check_study_name as store_check_study_name

__all__ = [
    "MAX_LIMIT",
    "check_study_name",
    "incumbent_trajectory",
    "parse_page",
    "parse_states",
    "studies_payload",
    "study_payload",
    "trials_payload",
]

logger = logging.getLogger(__name__)

#: Most trials one page of the trials endpoint returns.
MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1
"""The largest offset the database takes (a 64-bit signed integer)."""
_DEFAULT_LIMIT = 100
_MAX_NAME = 200


def check_study_name(name: str) -> str:
    """Return ``name`` if it is a study name the API serves: any name a study
    can have (1 to 200 characters, no control characters; the sidebar sends
    it percent-encoded, so "/", quotes, spaces and "--" arrive as they are),
    but "." and "..", which a browser resolves as path steps.

    Raises:
        ValueError: The name is empty, too long, "." or "..", or holds a
            control character.
    """
    shown = name if len(name) <= 60 else name[:57] + "..."
    if not name or len(name) > _MAX_NAME:
        raise ValueError(
            f"A study name must have 1 to {_MAX_NAME} characters; got {len(name)}: "
            f"{shown!r}."
        )
    if name in (".", ".."):
        raise ValueError(
            f"Invalid study name {shown!r}: a browser reads it as a step of the "
            "path, so the API serves no study of that name."
        )
    try:
        return store_check_study_name(name)
    except HptaaError as exc:
        raise ValueError(f"Invalid study name {shown!r}: {exc}") from None


def parse_states(values: Sequence[str]) -> list[TrialState] | None:
    """Parse ``state`` query values ("COMPLETE", "fail,running", ...); None: all.

    Raises:
        ValueError: An unknown state.
    """
    words = [w.strip() for value in values for w in value.split(",") if w.strip()]
    if not words:
        return None
    states: list[TrialState] = []
    for word in words:
        try:
            states.append(TrialState(word.upper()))
        except ValueError:
            valid = ", ".join(s.value for s in TrialState)
            raise ValueError(
                f"Unknown trial state {word!r} in the state parameter. Valid states: "
                f"{valid} (comma-separated)."
            ) from None
    return list(dict.fromkeys(states))


def parse_page(offset: str | None, limit: str | None) -> tuple[int, int]:
    """Parse the ``offset`` and ``limit`` query values of the trials endpoint.

    Raises:
        ValueError: Not an integer, a negative offset, or a limit outside
            1..MAX_LIMIT.
    """
    first = _integer(offset, "offset", 0)
    size = _integer(limit, "limit", _DEFAULT_LIMIT)
    if not 0 <= first <= MAX_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET}; got {first}.")
    if not 1 <= size <= MAX_LIMIT:
        raise ValueError(
            f"limit must be between 1 and {MAX_LIMIT}; got {size}. Page through "
            "the trials with offset."
        )
    return first, size


def _integer(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    # Digits only (int() also takes "1_000", " 1", "+5" and other scripts' digits).
    if re.fullmatch(r"-?[0-9]{1,100}", text) is None:
        raise ValueError(f"{name} must be an integer; got {text[:120]!r}.")
    return int(text)


def incumbent_trajectory(
    trials: Iterable[TrialRecord], direction: str
) -> list[float | None]:
    """Best objective value after each trial, by number (None before the first
    complete trial)."""
    maximize = direction == "maximize"
    best: float | None = None
    out: list[float | None] = []
    for trial in trials:
        value = trial.value if trial.state is TrialState.COMPLETE else None
        if value is not None and _improves(value, best, maximize):
            best = float(value)
        out.append(best)
    return out


def _improves(value: float, best: float | None, maximize: bool) -> bool:
    if best is None:
        return True
    return value > best if maximize else value < best


def studies_payload(store: TrialStore | None, shown: str) -> dict[str, Any]:
    """The studies endpoint's payload: every study with its counts and links.

    Args:
        store: The trial store, or None when its file does not exist yet.
        shown: The store's location, for the reply and its message.
    """
    if store is None:
        return {
            "store": {"location": shown, "exists": False},
            "message": f"No store at {shown} yet. Run a study and it appears here.",
            "studies": [],
        }

    records = {record.name: record for record in store.list_studies()}
    studies = []
    for row in store.summaries():
        record = records.get(row["name"])
        ended = store.abandoned(row["name"]) if row["n_running"] else set()
        running = row["n_running"] - len(ended)
        studies.append(
            {
                "name": row["name"],
                "previous": row["previous"],
                "transfer": row["transfer"],
                "sampler": row["sampler"],
                "direction": row["direction"],
                "n_trials": row["n_trials"],
                "n_complete": row["n_complete"],
                "n_fail": row["n_fail"],
                "n_running": running,
                "n_abandoned": len(ended),
                "incumbent_value": _finite(row["best_value"]),
                "state": _study_state(row["n_trials"], running),
                "created_at": _iso(row["created_at"]),
                **_twin_links(record, records.get),
            }
        )
    message = None if studies else f"The store at {shown} holds no study yet."
    return {
        "store": {"location": shown, "exists": True},
        "message": message,
        "studies": studies,
    }


def study_payload(store: TrialStore, name: str) -> dict[str, Any]:
    """The study endpoint's payload: the study, its space, mapping, lineage,
    incumbent trajectory, search-space diff to its previous study and the
    comparison with its no-transfer twin.

    Raises:
        StudyNotFoundError: No such study.
    """
    record = store.get_study(name)
    trials = store.get_trials(name)
    counts = store.count_trials(name)
    trajectory = incumbent_trajectory(trials, record.direction)
    best = store.best_trial(name)
    ended = store.abandoned(name) if counts[TrialState.RUNNING] else set()
    running = counts[TrialState.RUNNING] - len(ended)
    return {
        "study": {
            "name": record.name,
            "previous": record.previous,
            "transfer": record.transfer,
            "transfer_options": record.transfer_options,
            "sampler": record.sampler,
            "direction": record.direction,
            "seed": record.seed,
            "created_at": _iso(record.created_at),
            "attrs": record.attrs,
            "n_trials": len(trials),
            "n_complete": counts[TrialState.COMPLETE],
            "n_fail": counts[TrialState.FAIL],
            "n_running": running,
            "n_abandoned": len(ended),
            "counts": {state.value: counts[state] for state in TrialState},
            "incumbent_value": None if best is None else _finite(best.value),
            "incumbent_number": None if best is None else best.number,
            "state": _study_state(len(trials), running),
            "last_error": _last_error(trials),
            **_twin_links(record, store.find_study),
        },
        "space": _json_or_text(record.space_json),
        "mapping": None
        if record.mapping_json is None
        else _json_or_text(record.mapping_json),
        "lineage": store.lineage(name),
        "trajectory": [
            {
                "number": trial.number,
                "state": trial.state.value,
                "value": _finite(trial.value),
                "incumbent": _finite(best_so_far),
            }
            for trial, best_so_far in _thinned(trials, trajectory)
        ],
        "diff": _diff_payload(store, record),
        "twin": _twin_payload(store, record, trajectory),
    }


MAX_TRAJECTORY = 2000
"""Most trajectory points a study's reply holds (the sidebar polls it every 2 s
while the study runs; 100,000 trials made a 10 MB reply)."""


def _thinned(
    trials: Sequence[TrialRecord], trajectory: Sequence[float | None]
) -> list[tuple[TrialRecord, float | None]]:
    """The trials and incumbents to send: all of them up to MAX_TRAJECTORY;
    beyond, every trial that improved the incumbent (the chart's steps), the
    last one, and the rest evenly spaced by number."""
    pairs = list(zip(trials, trajectory, strict=True))
    if len(pairs) <= MAX_TRAJECTORY:
        return pairs
    steps = [
        i
        for i, (_, best) in enumerate(pairs)
        if best is not None and (i == 0 or pairs[i - 1][1] != best)
    ]
    steps = steps[:: math.ceil(len(steps) / (MAX_TRAJECTORY // 2))]
    # One place is the last trial's.
    spaced = range(0, len(pairs), math.ceil(len(pairs) / (MAX_TRAJECTORY // 2 - 1)))
    keep = sorted({*steps, *spaced, len(pairs) - 1})
    return [pairs[i] for i in keep]


def trials_payload(
    store: TrialStore,
    name: str,
    states: list[TrialState] | None,
    offset: int,
    limit: int,
) -> dict[str, Any]:
    """The trials endpoint's payload: one page of a study's trials by number.

    Raises:
        StudyNotFoundError: No such study.
    """
    counts = store.count_trials(name)
    wanted = list(TrialState) if states is None else states
    page = store.get_trials(name, states=states, offset=offset, limit=limit)
    ended = store.abandoned(name) if counts[TrialState.RUNNING] else set()
    return {
        "study": name,
        "states": [state.value for state in wanted],
        "offset": offset,
        "limit": limit,
        "total": sum(counts[state] for state in wanted),
        "trials": [
            {
                "number": trial.number,
                "state": trial.state.value,
                "value": _finite(trial.value),
                "config": trial.config,
                "error": trial.error,
                "proposed_by": trial.proposed_by,
                "started_at": _iso(trial.started_at),
                "finished_at": _iso(trial.finished_at),
                "process_ended": trial.number in ended,
            }
            for trial in page
        ],
    }


# -- parts ---------------------------------------------------------------------


def _diff_payload(store: TrialStore, record: StudyRecord) -> dict[str, Any] | None:
    """Search-space diff from the previous study's space to this one's."""
    if record.previous is None:
        return None
    reply: dict[str, Any] = {"previous": record.previous, "error": None}
    if not store.has_study(record.previous):
        reply["error"] = f"The previous study {record.previous!r} is not in the store."
        return reply

    from hptaa_lab.space import Mapping, diff, space_from_json

    previous = store.get_study(record.previous)
    try:
        mapping = Mapping.from_json(record.mapping_json)
        space_diff = diff(
            space_from_json(previous.space_json),
            space_from_json(record.space_json),
            mapping,
            check=False,
        )
    except (HptaaError, ValueError, KeyError, TypeError) as exc:
        logger.warning(
            "Cannot diff study %r against %r: %s", record.name, previous.name, exc
        )
        reply["error"] = (
            f"Cannot compute the search-space diff of {record.name!r} against "
            f"{previous.name!r}: {exc}"
        )
        return reply

    reply["identical"] = space_diff.is_identical
    reply["changes"] = [
        {
            "name": change.name,
            "previous_name": change.previous_name,
            "kinds": [str(kind) for kind in change.kinds],
            "label": change.label,
            "previous": change.previous,
            "current": change.current,
        }
        for change in space_diff.changes
    ]
    reply["suggestions"] = [
        {
            "previous": s.previous,
            "current": s.current,
            "score": round(float(s.score), 3),
            "reason": s.reason,
        }
        for s in space_diff.suggestions
    ]
    reply["rules_removed"] = list(space_diff.rules_removed)
    reply["rules_added"] = list(space_diff.rules_added)
    return reply


def _twin_payload(
    store: TrialStore, record: StudyRecord, trajectory: list[float | None]
) -> dict[str, Any] | None:
    """Speedup of the transfer study against its no-transfer twin, if it has one.

    Like the demo: the target is the twin's final incumbent; the speedup is how
    many times fewer evaluations the transfer study needed to reach it.
    """
    links = _twin_links(record, store.find_study)
    if links["scratch_twin"] is not None:
        transfer, scratch = record.name, links["scratch_twin"]
    elif links["twin_of"] is not None:
        transfer, scratch = links["twin_of"], record.name
    else:
        return None
    reply: dict[str, Any] = {
        "transfer_study": transfer,
        "no_transfer_study": scratch,
        "target": None,
        "evaluations_transfer": None,
        "evaluations_no_transfer": None,
        "speedup": None,
        "message": None,
    }
    other = scratch if transfer == record.name else transfer

    from hptaa_lab.report import evaluations_to_reach, speedup

    other_record = store.get_study(other)
    other_curve = incumbent_trajectory(store.get_trials(other), other_record.direction)
    curves = {record.name: trajectory, other: other_curve}
    scratch_curve = [v for v in curves[scratch] if v is not None]
    if not scratch_curve:
        reply["message"] = (
            f"The no-transfer study {scratch!r} has no complete trial yet."
        )
        return reply

    target = scratch_curve[-1]
    evals = {
        name: evaluations_to_reach(_nan_for_none(curve), target, record.direction)
        for name, curve in curves.items()
    }
    reply["target"] = _finite(target)
    reply["evaluations_transfer"] = evals[transfer]
    reply["evaluations_no_transfer"] = evals[scratch]
    reply["speedup"] = _finite(speedup(evals[scratch], evals[transfer]))
    if reply["speedup"] is None:
        counts = store.count_trials(transfer)
        still = counts[TrialState.RUNNING] > len(store.abandoned(transfer))
        reply["message"] = (
            f"{transfer!r} has not reached the final incumbent of {scratch!r} yet."
            if still
            else f"{transfer!r} did not reach the final incumbent of {scratch!r} "
            f"in its {counts[TrialState.COMPLETE]} complete trials."
        )
    return reply


def _last_error(trials: Sequence[TrialRecord]) -> dict[str, Any] | None:
    """The last failed trial's number and error in one line (a study whose
    trials all fail showed no reason), or None."""
    failed = [t for t in trials if t.state is TrialState.FAIL]
    if not failed:
        return None
    return {"number": failed[-1].number, "error": error_summary(failed[-1].error, 200)}


def _twin_links(
    record: StudyRecord | None, lookup: Callable[[str], StudyRecord | None]
) -> dict[str, str | None]:
    """The twin links that still hold (see ``records.twin_links``); none
    without a record."""
    if record is None:
        return {"scratch_twin": None, "twin_of": None}
    return twin_links(record, lookup)


def _study_state(n_trials: int, n_running: int) -> str:
    if n_running:
        return "running"
    return "finished" if n_trials else "empty"


def _nan_for_none(curve: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in curve]


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: those become None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _json_or_text(text: str) -> Any:
    """Parsed JSON text (the store only keeps JSON), or the text if it is not."""
    try:
        return json.loads(text)
    except ValueError:
        return text
