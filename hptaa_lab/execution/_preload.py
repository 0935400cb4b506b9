"""Imports a run's modules into the worker template, guarded, one name at a time.

The worker template is the multiprocessing forkserver that local clusters fork
their worker processes from (see ``_template``). The forkserver imports its
preload list in order and stops at the first error that is not an ImportError,
which would leave no template at all. So the list names this module, then each
module to import as a name below it, ``hptaa_lab.execution._preload.<module>``:
importing such a name imports ``<module>`` and records the outcome, and never
raises. Workers forked afterwards have every module that imported.

Only the standard library is used here; the template imports hptaa_lab as this
module's parent package, nothing else of it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import time
from types import ModuleType

__all__ = ["PREFIX", "failed", "imported", "timeline"]

PREFIX = __name__ + "."
# Seconds each module took to import into this process.
imported: dict[str, float] = {}
# Modules that could not be imported, with the error as "Type: message".
failed: dict[str, str] = {}
# When (time.time()) this module was imported, and when the last import ended.
timeline = {"loaded": time.time(), "done": time.time()}

# A package, so that names below PREFIX are looked up (by _Guard).
__path__: list[str] = []


class _Guard(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the names below :data:`PREFIX` and imports the module each names."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PREFIX):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__[len(PREFIX) :]
        _drop_working_directory()
        start = time.perf_counter()
        try:
            importlib.import_module(name)
        except (Exception, SystemExit) as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
        else:
            imported[name] = time.perf_counter() - start
        timeline["done"] = time.time()


def _drop_working_directory() -> None:
    """Remove ``""`` (the working directory) from ``sys.path``.

    A ``python -c`` process such as the forkserver looks in the working
    directory first, the driver script does not; without this a file there
    could stand in for an installed package. Workers get the driver's
    ``sys.path`` back when they start.
    """
    while "" in sys.path:
        sys.path.remove("")


if not any(isinstance(finder, _Guard) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Guard())
