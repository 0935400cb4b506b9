"""Trial store: studies, trials, lineage and mappings on SQLAlchemy Core."""

from __future__ import annotations

from hptaa_lab.store._process import TrialOwner, this_process
from hptaa_lab.store._store import (
    DEFAULT_URL,
    MAX_STUDY_NAME,
    SCHEMA_VERSION,
    RunningCheck,
    TrialStore,
    check_study_name,
)

__all__ = [
    "DEFAULT_URL",
    "MAX_STUDY_NAME",
    "SCHEMA_VERSION",
    "RunningCheck",
    "TrialOwner",
    "TrialStore",
    "check_study_name",
    "this_process",
]
