"""hptaa_lab: hyperparameter transfer across developer adjustments.

Keep every study, diff the previous and current search spaces, confirm how
hyperparameters map, and tune the current version with the previous trials as a
head start.
"""

from __future__ import annotations

from typing import Any

from hptaa_lab.errors import (
    HptaaError,
    InvalidSearchSpaceError,
    MappingError,
    StoreError,
    StudyExistsError,
    StudyNotFoundError,
    UnknownNameError,
)
from hptaa_lab.records import StudyRecord, TrialRecord, TrialState
from hptaa_lab.space import Mapping, SpaceDiff, ValueTransform, build_space, diff
from hptaa_lab.store import TrialStore
from hptaa_lab.study import Study, create_study, load_study

__version__ = "0.1.0"

__all__ = [
    "HptaaError",
    "InvalidSearchSpaceError",
    "Mapping",
    "MappingError",
    "SpaceDiff",
    "StoreError",
    "Study",
    "StudyExistsError",
    "StudyNotFoundError",
    "StudyRecord",
    "TrialRecord",
    "TrialState",
    "TrialStore",
    "UnknownNameError",
    "ValueTransform",
    "__version__",
    "build_space",
    "create_study",
    "diff",
    "load_ipython_extension",
    "load_study",
]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%hptaa`` magics (``%load_ext hptaa_lab``)."""
    from hptaa_lab.jupyter import load_ipython_extension as load

    load(ipython)
