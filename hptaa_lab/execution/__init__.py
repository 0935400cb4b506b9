"""Where evaluations run: in-process by default, or on a Dask cluster.

``Study.optimize(..., workers=N)`` and ``scheduler=...`` come here; dask and
distributed are imported only when used (``pip install hptaa_lab[bench]``).
"""

from __future__ import annotations

from hptaa_lab.execution._dask import local_cluster, run_parallel
from hptaa_lab.execution._errors import (
    DaskNotInstalledError,
    InvalidSchedulerError,
    ObjectiveNotPicklableError,
    SchedulerUnreachableError,
    UnguardedMainError,
    WorkersFailedToStartError,
)

__all__ = [
    "DaskNotInstalledError",
    "InvalidSchedulerError",
    "ObjectiveNotPicklableError",
    "SchedulerUnreachableError",
    "UnguardedMainError",
    "WorkersFailedToStartError",
    "local_cluster",
    "run_parallel",
]
