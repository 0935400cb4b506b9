"""The worker template: a process that imports what workers need once, then forks them.

A local cluster's worker processes are forked from a multiprocessing forkserver
(the template) instead of being started as fresh interpreters. The template is
started when a parallel run begins, before the driver imports distributed and
starts the scheduler, and imports distributed, the modules the objective
imports, and the modules the driver script imports (a worker runs that script's
top level again). Each worker then starts with them already imported, and a
first trial costs what any other trial costs. The template lives until the
driver exits, so later local clusters start in a fraction of a second.

Only modules of installed packages are imported into the template (standard
library, site-packages, ``PYTHONPATH``): a fresh interpreter finds them where
the driver found them. The driver's own modules (its script, its folder, an
editable install) are imported by each worker, as before. Each module is
imported by :mod:`hptaa_lab.execution._preload`, which records a module that
fails instead of breaking the template; the driver logs it.
"""

from __future__ import annotations

import dis
import functools
import importlib.util
import logging
import multiprocessing
import os
import site
import sys
import sysconfig
import threading
import types
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["PRELOAD", "keep_preload", "preload_list", "report", "start"]

logger = logging.getLogger(__name__)

# The module that imports the others into the template, guarded.
PRELOAD = "hptaa_lab.execution._preload"
# Imported into the template before anything else: it ignores Ctrl-C from then on.
NOINTR = "hptaa_lab._nointr"
# Imported into the template first and unguarded, as distributed does itself.
BASE = ("distributed",)
# Worker modules outside distributed's top-level import.
WORKER = ("threadpoolctl", "distributed.http.worker.prometheus")
MAIN = ("__main__", "__mp_main__")

_lock = threading.Lock()
# Modules the last start wanted in the template.
_wanted: list[str] = []
# (template pid, module) pairs already logged.
_logged: set[tuple[int, str]] = set()


def start(objectives: Iterable[Any] = ()) -> str:
    """Start the worker template unless it runs; return the start method to use.

    Args:
        objectives: Objectives (or module names) whose modules the template
            imports, besides distributed and the driver script's imports.

    Returns:
        ``"forkserver"``, or ``"spawn"`` where the platform has no forkserver or
        the template could not be started (a warning says why).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    from multiprocessing import forkserver

    names = preload_list(objectives)
    with _lock:
        _wanted[:] = names
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            [NOINTR, *BASE, PRELOAD, *(f"{PRELOAD}.{name}" for name in names)]
        )
        try:
            # Starts the template and returns; the template imports on its own.
            # A template that runs already is kept as it is.
            forkserver.ensure_running()
        except (OSError, AttributeError) as exc:
            # AttributeError: a __main__ without __spec__ (an IPython that
            # exits as the run starts); fresh processes then say why they fail.
            logger.warning(
                "could not start the worker template (%s); local Dask workers "
                "start as fresh processes instead",
                exc,
            )
            return "spawn"
    return "forkserver"


def keep_preload(distributed: Any) -> None:
    """Stop distributed from replacing the template's preload list.

    The first time distributed starts a worker with the forkserver method, it
    imports its own list of packages (pandas among them) into the driver and sets
    that as the preload list, unless its flag says that was done.
    """
    utils = distributed.utils
    # NOTE(hptaa): a private flag of distributed.utils.get_mp_context (checked
    # with distributed 2026.8). Should it go, distributed's list would apply only
    # to a template that distributed itself starts again after ours died.
    if getattr(utils, "_forkserver_preload_set", None) is False:
        utils._forkserver_preload_set = True


def preload_list(objectives: Iterable[Any] = ()) -> list[str]:
    """The modules to import into the template, in order, without duplicates.

    Args:
        objectives: Objectives, or module names.

    Returns:
        Names of modules of installed packages that the objectives import
        (inside the function or through what it refers to), the modules they
        are defined in, the driver script's imports and the worker's own; never
        ``__main__``.
    """
    found: dict[str, None] = {}
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None):
        # Each worker runs the driver script's top level again, imports included.
        found.update(dict.fromkeys(_namespace_modules(vars(main))))
    for objective in objectives:
        if isinstance(objective, str):
            found[objective] = None
        else:
            found.update(dict.fromkeys(_callable_modules(objective)))
    found.update(dict.fromkeys(WORKER))
    return [name for name in found if _preloadable(name)]


def report(client: Any, worker_report: Any) -> None:
    """Log what the workers' template imported and which modules it could not.

    Args:
        client: Client of a local cluster whose workers were forked.
        worker_report: The function to run on each worker (see
            ``_worker.template_report``).
    """
    try:
        reports = client.run(worker_report)
    except Exception:
        # Only logging depends on it; a worker lost here shows up in the run.
        logger.debug("could not ask the workers about their template", exc_info=True)
        return
    templates: dict[int, dict[str, Any]] = {}
    for address, info in sorted(reports.items()):
        if info["imported"] is None:
            logger.info(
                "worker %s has no modules preloaded by hptaa_lab: its forkserver "
                "(pid %d) was started elsewhere or could not import %s; it "
                "imports what the objective needs itself",
                address,
                info["template"],
                PRELOAD,
            )
        else:
            templates.setdefault(info["template"], info)
    for info in templates.values():
        _log_template(info)


def _log_template(info: dict[str, Any]) -> None:
    pid = info["template"]
    timeline = info.get("timeline", {})
    logger.debug(
        "worker template (pid %d) has imported %d modules in %.2f s: %s",
        pid,
        len(info["imported"]),
        sum(info["imported"].values()),
        ", ".join(info["imported"]),
        extra={"template_timeline": timeline},
    )
    for name, error in sorted(info["failed"].items()):
        if (pid, name) in _logged:
            continue
        _logged.add((pid, name))
        logger.warning(
            "the worker template could not import %s (%s); skipped it, each worker "
            "imports it when the objective does",
            name,
            error,
        )
    missing = [
        n for n in _wanted if n not in info["imported"] and n not in info["failed"]
    ]
    if missing and (pid, "") not in _logged:
        _logged.add((pid, ""))
        logger.info(
            "the worker template (pid %d) was started before this run and lacks %s; "
            "each worker imports them when the objective does",
            pid,
            ", ".join(missing),
        )


def _callable_modules(objective: Any) -> Iterator[str]:
    """Modules a worker imports to unpickle and run ``objective``: where its
    functions are defined and what their code imports, following functions
    that travel by value (defined in ``__main__``, nested, lambdas)."""
    seen: set[int] = set()
    stack = [objective]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, types.ModuleType):
            yield item.__name__
        elif isinstance(item, functools.partial):
            stack += [item.func, *item.args, *item.keywords.values()]
        elif isinstance(item, types.MethodType):
            stack += [item.__func__, item.__self__]
        elif isinstance(item, types.FunctionType):
            yield item.__module__
            yield from _code_imports(item.__code__, item.__globals__.get("__package__"))
            if item.__module__ in MAIN or "<" in item.__qualname__:
                stack += _referenced(item)
        elif isinstance(item, type | types.BuiltinFunctionType):
            yield item.__module__
        else:
            # An instance: unpickling it imports its class's module.
            yield type(item).__module__
            call = vars(type(item)).get("__call__")
            if isinstance(call, types.FunctionType):
                stack.append(call)


def _referenced(function: types.FunctionType) -> list[Any]:
    """Globals and closure values a function's code refers to."""
    names = _code_names(function.__code__)
    values = [function.__globals__[n] for n in names if n in function.__globals__]
    for cell in function.__closure__ or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    return values


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _code_imports(code: types.CodeType, package: str | None) -> Iterator[str]:
    """Absolute names of the modules that ``import`` statements in ``code`` (and
    in functions, classes and comprehensions inside it) import."""
    instructions = list(dis.get_instructions(code))
    for i, instruction in enumerate(instructions):
        if instruction.opname != "IMPORT_NAME":
            continue
        level = instructions[i - 2].argval if i >= 2 else 0
        name = str(instruction.argval)
        if isinstance(level, int) and level > 0:
            if not package:
                continue
            try:
                name = importlib.util.resolve_name("." * level + name, package)
            except ImportError:
                continue
        yield name
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_imports(const, package)


def _namespace_modules(namespace: dict[str, Any]) -> Iterator[str]:
    """Modules that a module's globals come from."""
    for value in namespace.values():
        if isinstance(value, types.ModuleType):
            yield value.__name__
        elif isinstance(value, type | types.FunctionType):
            yield value.__module__


def _preloadable(name: Any) -> bool:
    """Whether ``name`` is a module of an installed package (not ``__main__``,
    not built in)."""
    if not isinstance(name, str) or not name or name.startswith("."):
        return False
    top = name.partition(".")[0]
    if top in MAIN or top in sys.builtin_module_names or name == PRELOAD:
        return False
    origin = _origin(top)
    if origin is None:
        return False
    path = os.path.realpath(origin)
    return any(path.startswith(root + os.sep) for root in _install_roots())


def _origin(top: str) -> str | None:
    """Where the driver finds the top-level module ``top``, without importing it."""
    module = sys.modules.get(top)
    spec = getattr(module, "__spec__", None) if module is not None else None
    if module is None:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            return None
    if spec is None:
        return None
    if spec.origin and spec.has_location:
        return str(spec.origin)
    locations = list(spec.submodule_search_locations or ())
    return str(locations[0]) if locations else None


@functools.cache
def _install_roots() -> tuple[str, ...]:
    """Folders every fresh interpreter of this Python searches in the same order
    as the driver: the standard library, site-packages and ``PYTHONPATH``."""
    paths = sysconfig.get_paths()
    roots = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    roots += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        roots.append(site.getusersitepackages())
    roots += os.environ.get("PYTHONPATH", "").split(os.pathsep)
    return tuple(sorted({os.path.realpath(r) for r in roots if r}))
