"""Trial store: studies, trials, lineage and mappings on SQLAlchemy Core."""

from __future__ import annotations

from hptaa_lab.store._process import TrialOwner, this_process
from hptaa_lab.store._store import DEFAULT_URL, SCHEMA_VERSION, RunningCheck, TrialStore

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "RunningCheck",
    "TrialOwner",
    "TrialStore",
    "this_process",
]
