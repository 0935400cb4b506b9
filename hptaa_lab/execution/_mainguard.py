"""Refuse, before any worker starts, a script whose work is not guarded.

Worker processes started with spawn or forkserver import the main script again
(as ``__mp_main__``). A script that creates a study or calls ``optimize`` at its
top level, outside ``if __name__ == "__main__":``, would do so again in every
worker: the workers fail to start (a study that exists already) and the run ends
in Dask's "Nanny failed to start" traceback. The script's source says so before
anything starts.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from hptaa_lab.execution._errors import UnguardedMainError

__all__ = ["check_main_guard", "unguarded_calls"]

CALLS = frozenset({"create_study", "load_study", "optimize"})
"""Calls that must not run again in a worker: they create or run studies."""


def unguarded_calls(source: str, parallel: bool = False) -> list[tuple[str, int]]:
    """Calls of :data:`CALLS` that run when ``source`` is imported: at its top
    level, outside ``if __name__ == "__main__":`` and outside definitions.
    With ``parallel``, only calls of ``optimize`` that pass ``workers`` or
    ``scheduler`` (other than None). Returns (name, line) pairs; a source that
    does not parse has none."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: list[tuple[str, int]] = []
    for stmt in _imported(tree.body):
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                name = _called(node.func)
                if name in CALLS and (not parallel or _is_parallel(node)):
                    found.append((name, node.lineno))
    return sorted(found, key=lambda item: item[1])


def check_main_guard(parallel: bool = False) -> None:
    """Raise UnguardedMainError if the main script (a file, not a notebook or a
    prompt) runs :data:`CALLS` when imported again by a worker process.

    With ``parallel`` (what ``create_study`` checks, before it stores anything),
    only if the script also asks for workers at its top level: an
    ``optimize(..., workers=...)`` or ``scheduler=...`` call outside the guard.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py"):
        return
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    calls = unguarded_calls(source, parallel=parallel)
    if not calls:
        return
    name, line = calls[0]
    raise UnguardedMainError(
        f"{path} calls {name}() at line {line} outside `if __name__ == "
        f'"__main__":`. Each worker process imports the script again and would '
        f"run it again (and fail to start). Move the script's work under "
        f'`if __name__ == "__main__":` (docs/parallel.md shows one), or run '
        f"without workers." + (" Nothing was created or run." if parallel else "")
    )


def _imported(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``body`` that run on import, with the branches of
    ``if``/``try``/``with``/loops opened (their code runs too), definitions and
    the main guard left out."""
    run: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(stmt, ast.If):
            if _is_main_guard(stmt.test):
                run.extend(_imported(stmt.orelse))
                continue
            run.append(ast.Expr(stmt.test))
            run.extend(_imported(stmt.body) + _imported(stmt.orelse))
            continue
        if isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody):
                run.extend(_imported(block))
            for handler in stmt.handlers:
                run.extend(_imported(handler.body))
            continue
        if isinstance(stmt, ast.With | ast.For | ast.While):
            head = stmt.items if isinstance(stmt, ast.With) else []
            run.extend(ast.Expr(item.context_expr) for item in head)
            if isinstance(stmt, ast.For):
                run.append(ast.Expr(stmt.iter))
            if isinstance(stmt, ast.While):
                run.append(ast.Expr(stmt.test))
            run.extend(_imported(stmt.body) + _imported(getattr(stmt, "orelse", [])))
            continue
        run.append(stmt)
    return run


def _is_parallel(call: ast.Call) -> bool:
    """Whether a call passes ``workers`` or ``scheduler`` other than None."""
    return any(
        keyword.arg in ("workers", "scheduler")
        and not (
            isinstance(keyword.value, ast.Constant) and keyword.value.value is None
        )
        for keyword in call.keywords
    )


def _is_main_guard(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
    ):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def _called(func: ast.expr) -> str | None:
    """The name a call calls: ``f`` of ``f(...)`` and of ``x.f(...)``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None
