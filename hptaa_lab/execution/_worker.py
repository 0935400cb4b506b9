"""What runs inside a Dask worker: the objective wrapper and the BLAS thread plugin.

Imported only once dask and distributed are known to be installed.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

from distributed import WorkerPlugin

__all__ = ["BLAS_ENV", "Evaluation", "OneBlasThread"]

# Worker environment of a local cluster: one thread for every BLAS/OpenMP pool, so
# that N worker processes use N cores.
BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Evaluation:
    """The objective as sent to a worker.

    Calling it evaluates one configuration and returns ``(True, value)``, or
    ``(False, traceback text)`` when the objective raised, so that the driver
    stores the same error text as an in-process run, whether or not the
    exception itself could be pickled.

    Args:
        objective: Takes a configuration dict, returns the objective value.
    """

    def __init__(self, objective: Callable[[dict[str, Any]], Any]) -> None:
        self.objective = objective

    def __call__(self, config: Mapping[str, Any]) -> tuple[bool, Any]:
        try:
            return True, self.objective(dict(config))
        except Exception:
            return False, traceback.format_exc()


class OneBlasThread(WorkerPlugin):
    """Limit the BLAS and OpenMP pools already loaded in a worker to one thread.

    The worker environment (:data:`BLAS_ENV`) covers libraries loaded after the
    worker started; this covers the ones its process loaded before, e.g. numpy
    imported by the main module of the driver script, which a spawned process
    imports again.
    """

    def setup(self, worker: Any) -> None:
        """Set every loaded thread pool to one thread (no-op without threadpoolctl)."""
        try:
            from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
        except ImportError:
            return
        # Not used as a context manager: the limits stay for the worker's life.
        self.limits = threadpool_limits(limits=1)
