"""Refuse to create or run a study while a worker process starts.

Worker processes started with spawn or forkserver run the driver script's top
level again (as ``__mp_main__``) before they do anything else. A script that
creates a study or calls ``optimize`` there, outside ``if __name__ ==
"__main__":``, would create the study again (a StudyExistsError, or a second
study) or start a cluster of its own in every worker. Both calls check whether
they run during that start and refuse, naming the fix; the worker then fails to
start, and the driver's ``optimize`` says why (:func:`worker_start_error`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
from collections.abc import Iterator

from hptaa_lab.execution._errors import UnguardedMainError

__all__ = [
    "GUARD_HINT",
    "check_not_starting_worker",
    "ipython_script_hidden",
    "starting_worker",
]

GUARD_HINT = (
    "Each worker process runs the driver script's top level again when it starts; "
    'move the script\'s work under `if __name__ == "__main__":` (docs/parallel.md '
    "shows one), or run without workers."
)


def starting_worker() -> bool:
    """Whether this process is a spawned or forkserver-started process that is
    still running its parent's main script (multiprocessing's bootstrap)."""
    if "multiprocessing" not in sys.modules:
        return False
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def check_not_starting_worker(call: str) -> None:
    """Raise UnguardedMainError if ``call`` runs while a worker process starts."""
    if starting_worker():
        raise UnguardedMainError(
            f"{call}() ran while a worker process started: the script calls it "
            f'outside `if __name__ == "__main__":`. {GUARD_HINT}'
        )


@contextlib.contextmanager
def ipython_script_hidden() -> Iterator[None]:
    """Hide an IPython script (``ipython tune.ipy``) from the worker processes
    started meanwhile.

    multiprocessing runs the main module's ``__file__`` again in each worker
    (and in a forkserver); a ``.ipy`` file is IPython's syntax, not Python's,
    so every worker would fail to start on it. While the block runs,
    ``__main__.__file__`` is removed (workers then run no main script, as for a
    notebook), and restored afterwards.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not isinstance(path, str) or not path.endswith(".ipy"):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        if not hasattr(main, "__file__"):
            main.__file__ = path
