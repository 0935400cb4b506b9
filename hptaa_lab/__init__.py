"""hptaa_lab: hyperparameter transfer across developer adjustments.

Keep every study, diff the previous and current search spaces, confirm how
hyperparameters map, and tune the current version with the previous trials as a
head start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# The public names are imported on first use (PEP 562), so that `hptaa` starts
# without loading ConfigSpace, SQLAlchemy and numpy before it parses its arguments
# (and Ctrl-C while they load is handled by the command).
_WHERE = {
    **dict.fromkeys(
        (
            "HptaaError",
            "InvalidSearchSpaceError",
            "MappingError",
            "StoreError",
            "StudyExistsError",
            "StudyNotFoundError",
            "UnknownNameError",
        ),
        "hptaa_lab.errors",
    ),
    **dict.fromkeys(("StudyRecord", "TrialRecord", "TrialState"), "hptaa_lab.records"),
    **dict.fromkeys(
        ("Mapping", "SpaceDiff", "ValueTransform", "build_space", "diff"),
        "hptaa_lab.space",
    ),
    "TrialStore": "hptaa_lab.store",
    **dict.fromkeys(("Study", "create_study", "load_study"), "hptaa_lab.study"),
}


_SUBPACKAGES = frozenset(
    ("errors", "records", "samplers", "space", "store", "study", "transfer")
)
"""Modules that were attributes of the package after `import hptaa_lab` when it
loaded them eagerly (the others need an import, as they did then)."""


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    loaded = {
        n
        for n, v in globals().items()
        if getattr(v, "__name__", "").startswith(__name__ + ".")
    }
    return sorted({*__all__, *_SUBPACKAGES, *loaded})


__version__ = "0.2.0"

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
