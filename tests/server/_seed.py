"""A small trial store with a previous study, a current study and its twin.

Shared by the handler tests and the browser test (tests/browser/_lab_server.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hptaa_lab.records import StudyRecord, TrialRecord, TrialState
from hptaa_lab.space import Mapping, build_space, space_to_json
from hptaa_lab.store import TrialStore

PREVIOUS = "mlp-v1"
CURRENT = "mlp-v2"
TWIN = "mlp-v2-scratch"

#: Objective values (minimized) of each study's trials, in trial order; None
#: marks a failed trial.
VALUES: dict[str, list[float | None]] = {
    PREVIOUS: [0.41, 0.35, None, 0.38, 0.29, 0.31, 0.27, 0.30],
    CURRENT: [0.26, 0.24, 0.25, 0.21, 0.23, 0.20],
    TWIN: [0.39, 0.33, 0.30, 0.28, 0.24, 0.22],
}

_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def previous_space_json() -> str:
    """The previous study's search space as ConfigSpace JSON."""
    space = build_space(
        {"lr": (1e-4, 1e-2, "log"), "units": (16, 128), "dropout": (0.0, 0.5)}
    )
    return space_to_json(space)


def current_space_json() -> str:
    """The current space: lr widened, units renamed width, dropout gone, batch new."""
    space = build_space(
        {"lr": (1e-5, 1e-1, "log"), "width": (16, 128), "batch": [32, 64, 128]}
    )
    return space_to_json(space)


def seed_store(path: Path) -> Path:
    """Write the three studies into a new SQLite store at ``path``; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mapping = Mapping(renames={"units": "width"})
    records = [
        StudyRecord(
            name=PREVIOUS,
            space_json=previous_space_json(),
            created_at=_START,
        ),
        StudyRecord(
            name=CURRENT,
            space_json=current_space_json(),
            previous=PREVIOUS,
            mapping_json=mapping.to_json(),
            transfer="best-first",
            created_at=_START + timedelta(hours=1),
            attrs={"scratch_twin": TWIN},
        ),
        StudyRecord(
            name=TWIN,
            space_json=current_space_json(),
            created_at=_START + timedelta(hours=2),
            attrs={"twin_of": CURRENT},
        ),
    ]
    store = TrialStore(f"sqlite:///{path}")
    try:
        for record in records:
            assert record.created_at is not None
            store.import_study(record, _trials(VALUES[record.name], record.created_at))
    finally:
        store.close()
    return path


def _trials(values: list[float | None], start: datetime) -> list[TrialRecord]:
    out = []
    for number, value in enumerate(values):
        began = start + timedelta(minutes=number)
        out.append(
            TrialRecord(
                number=number,
                config={"lr": 0.001 * (number + 1)},
                state=TrialState.FAIL if value is None else TrialState.COMPLETE,
                value=value,
                error="diverged" if value is None else None,
                started_at=began,
                finished_at=began + timedelta(seconds=30),
                proposed_by="tpe",
            )
        )
    return out
