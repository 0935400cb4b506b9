"""What runs inside a Dask worker: the objective wrapper, the worker setup and the
worker template report.

All are made by factories, so that cloudpickle sends them by value: a worker
started as a fresh interpreter (without the worker template, or on a cluster
started elsewhere) then runs them without importing hptaa_lab (and its
search-space, store and model dependencies), which saves a second or more when
each worker starts.
Imported only once dask and distributed are known to be installed.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from distributed import WorkerPlugin

__all__ = [
    "BLAS_ENV",
    "Evaluate",
    "evaluation",
    "local_worker_plugin",
    "template_report",
]

# Worker environment of a local cluster: one thread for every BLAS/OpenMP pool, so
# that N worker processes use N cores.
BLAS_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

Evaluate = Callable[[Mapping[str, Any]], tuple[bool, Any]]


def evaluation(objective: Callable[[dict[str, Any]], Any]) -> Evaluate:
    """The objective as sent to a worker.

    The returned function evaluates one configuration and returns
    ``(True, value)``, or ``(False, traceback text)`` when the objective raised,
    so that the driver stores the same error text as an in-process run, whether
    or not the exception itself could be pickled. A SystemExit or
    KeyboardInterrupt fails the trial too, instead of ending the worker process.
    """

    def evaluate(config: Mapping[str, Any]) -> tuple[bool, Any]:
        try:
            return True, objective(dict(config))
        except Exception:
            return False, traceback.format_exc()
        except (SystemExit, KeyboardInterrupt) as exc:
            # Left alone, either ends the worker process and the trial fails as
            # "worker died", hiding the cause. Workers ignore SIGINT, so a
            # KeyboardInterrupt here was raised by the objective's own code.
            what = (
                "called sys.exit() (SystemExit)"
                if isinstance(exc, SystemExit)
                else "raised KeyboardInterrupt"
            )
            return False, traceback.format_exc() + (
                f"The objective {what} on a Dask worker; the trial failed and the "
                "study went on. Raise an exception instead to fail a trial.\n"
            )

    return evaluate


def local_worker_plugin() -> WorkerPlugin:
    """A worker plugin that prepares each worker of a local cluster.

    - It sets the BLAS and OpenMP pools already loaded in the worker to one
      thread. The worker environment (:data:`BLAS_ENV`) covers libraries loaded
      after the worker started; the plugin covers the ones its process loaded
      before, e.g. numpy imported by the main module of the driver script, which
      a spawned process imports again. Without threadpoolctl this step is
      skipped.
    - It keeps out of the log distributed's warning that a task was
      cancelled: a stop cancels the trials in flight on purpose.
    - It makes the worker ignore SIGINT. Ctrl-C in a terminal reaches every
      process of the job; the driver handles it (cancels, then closes the
      cluster), and workers that died of it on their own would only add
      tracebacks.
    """

    class LocalWorkerSetup(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            import signal

            # Only a process's main thread may set handlers; the worker's event
            # loop runs there.
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, signal.SIG_IGN)

            # A stop cancels the trials in flight on purpose; distributed warns
            # of each ("Async instruction ... ended with CancelledError"). (A
            # local function: sent by value, as the plugin is.)
            def drop_cancelled(record: logging.LogRecord) -> bool:
                return "ended with CancelledError" not in record.getMessage()

            logging.getLogger("distributed.worker.state_machine").addFilter(
                drop_cancelled
            )
            try:
                from threadpoolctl import (  # type: ignore[import-untyped]
                    threadpool_limits,
                )
            except ImportError:
                return
            # Not used as a context manager: the limits last as long as the worker.
            self.limits = threadpool_limits(limits=1)

    return LocalWorkerSetup()


def template_report(preload: str) -> Callable[[], dict[str, Any]]:
    """A function to run on a worker: what its worker template imported.

    Args:
        preload: Name of the module that imported the modules into the template
            (``hptaa_lab.execution._preload``).

    Returns:
        A function returning ``{"template": parent pid, "imported": {module:
        seconds} or None when the worker was not forked from the template,
        "failed": {module: error}, "timeline": {"loaded": time, "done": time}}``,
        the times as ``time.time()``: when the template had imported hptaa_lab,
        and when it ended its last import.
    """

    def report() -> dict[str, Any]:
        import os
        import sys

        module = sys.modules.get(preload)
        return {
            "template": os.getppid(),
            "imported": None if module is None else dict(module.imported),
            "failed": {} if module is None else dict(module.failed),
            "timeline": dict(getattr(module, "timeline", {})),
        }

    return report
