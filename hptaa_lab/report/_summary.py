"""Numbers that compare a transfer study with its no-transfer twin."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["evaluations_to_reach", "incumbent_at", "speedup"]


def evaluations_to_reach(
    trajectory: Sequence[float], target: float, direction: str = "minimize"
) -> int | None:
    """The first evaluation (1-based) whose incumbent reaches ``target``, or None."""
    for i, value in enumerate(trajectory, start=1):
        if math.isnan(value):
            continue
        if (value <= target) if direction == "minimize" else (value >= target):
            return i
    return None


def incumbent_at(trajectory: Sequence[float], n: int) -> float:
    """The incumbent after ``n`` evaluations (NaN if there were fewer or none)."""
    if n < 1 or len(trajectory) < n:
        return math.nan
    return float(trajectory[n - 1])


def speedup(evals_reference: int | None, evals_method: int | None) -> float:
    """How many times fewer evaluations the method needed (NaN if either failed)."""
    if not evals_reference or not evals_method:
        return math.nan
    return evals_reference / evals_method
