"""HT-AA benchmarks: a previous and a current version of a tuning problem.

Each benchmark pairs the search space and objective of a previous version with
those of a current version, on several tasks. ``names()`` lists them,
``tasks(name)`` their tasks, and ``get(name, task)`` builds one::

    from hptaa_lab import benchmarks

    bench = benchmarks.get("FCN-B", "naval_propulsion")
    config = dict(bench.current_space.get_default_configuration())
    value = bench.current_objective(config)

FCN-A/B and NAS-A/B look values up in recorded tables; SVM-A/B and XGB-A/B
train scikit-learn models, queried through surrogates of recorded real results
by default and trained for real with ``get(name, task, live=True)``. The
paper's evaluation protocol is in ``hptaa_lab.benchmarks.protocol``.

Besides the paper's eight benchmarks (suite "paper", the default of
``names()``), three suites are selected by name: "chain" (three versions, two
adjustments in a row; the oldest is in ``Benchmark.ancestors``) and "inverted"
(adjustments that make the previous best region poor), and "holdout" (kinds of
adjustment added after ``auto`` was designed: new data, a removed choice, narrowed
ranges). ``names("all")`` lists every benchmark and ``suite_of(name)`` gives a
benchmark's suite.
"""

from __future__ import annotations

# The benchmark modules register their factories when imported.
from hptaa_lab.benchmarks import (  # noqa: F401
    _chain,
    _fcnet,
    _holdout,
    _inverted,
    _nasbench,
    _svm,
    _xgb,
)
from hptaa_lab.benchmarks._base import (
    SUITES,
    Benchmark,
    UnknownBenchmarkError,
    Version,
    get,
    names,
    suite_of,
    tasks,
    trained_names,
)

__all__ = [
    "SUITES",
    "Benchmark",
    "UnknownBenchmarkError",
    "Version",
    "get",
    "names",
    "suite_of",
    "tasks",
    "trained_names",
]
