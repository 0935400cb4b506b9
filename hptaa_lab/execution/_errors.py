"""Errors of parallel and distributed evaluation."""

from __future__ import annotations

from hptaa_lab.errors import HptaaError

__all__ = [
    "DaskNotInstalledError",
    "InvalidSchedulerError",
    "ObjectiveNotPicklableError",
    "SchedulerUnreachableError",
    "UnguardedMainError",
    "WorkersFailedToStartError",
]


class DaskNotInstalledError(HptaaError, ImportError):
    """dask or distributed is missing, so trials cannot run on worker processes."""


class ObjectiveNotPicklableError(HptaaError, TypeError):
    """The objective cannot be pickled, so it cannot travel to the workers."""


class InvalidSchedulerError(HptaaError, TypeError):
    """A ``scheduler`` that is neither an address nor a ``distributed.Client``."""


class SchedulerUnreachableError(HptaaError, ConnectionError):
    """The Dask scheduler cannot be reached, or the connection to it was lost."""


class UnguardedMainError(HptaaError, RuntimeError):
    """A study was to be created or run while a worker process started: the
    driver script does that at its top level, outside ``if __name__ ==
    "__main__":``, which each worker runs again."""


class WorkersFailedToStartError(HptaaError, RuntimeError):
    """The worker processes of a local cluster failed to start."""


# Shown in tracebacks as the public module they are imported from.
for _error in (
    DaskNotInstalledError,
    ObjectiveNotPicklableError,
    InvalidSchedulerError,
    SchedulerUnreachableError,
    UnguardedMainError,
    WorkersFailedToStartError,
):
    _error.__module__ = "hptaa_lab.execution"
