"""Trial store: studies, trials, lineage and mappings on SQLAlchemy Core."""

from __future__ import annotations

from hptaa_lab.store._process import Liveness, TrialOwner, liveness, this_process
from hptaa_lab.store._store import (
    DEFAULT_URL,
    MAX_STUDY_NAME,
    SCHEMA_VERSION,
    RunningCheck,
    TrialStore,
    as_store_url,
    busy_message,
    check_study_name,
    resolved_url,
)

__all__ = [
    "DEFAULT_URL",
    "MAX_STUDY_NAME",
    "SCHEMA_VERSION",
    "Liveness",
    "RunningCheck",
    "TrialOwner",
    "TrialStore",
    "as_store_url",
    "busy_message",
    "check_study_name",
    "liveness",
    "resolved_url",
    "this_process",
]
