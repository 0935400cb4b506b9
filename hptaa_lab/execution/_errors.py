"""Errors of parallel and distributed evaluation."""

from __future__ import annotations

from hptaa_lab.errors import HptaaError

__all__ = [
    "DaskNotInstalledError",
    "InvalidSchedulerError",
    "ObjectiveNotPicklableError",
    "SchedulerUnreachableError",
    "UnguardedMainError",
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
    """The script that asks for worker processes would run its work again in
    each of them: its top level is not under ``if __name__ == "__main__":``."""


# Shown in tracebacks as the public module they are imported from.
for _error in (
    DaskNotInstalledError,
    ObjectiveNotPicklableError,
    InvalidSchedulerError,
    SchedulerUnreachableError,
    UnguardedMainError,
):
    _error.__module__ = "hptaa_lab.execution"
