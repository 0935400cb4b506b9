"""Sweeps of the protocol: configuration, output folder, Dask execution, outputs.

An output folder holds ``manifest.json`` (the sweep's configuration),
``targets.json`` (reference targets), ``results.jsonl`` (one line per finished
unit, appended and flushed as each unit finishes) and, once the sweep is
complete, the tidy table, the speedup grids, the failure rates and the HTML
report. A rerun with the same folder and configuration skips finished units; a
different configuration is refused. The manifest lists the (benchmark, task)
pairs, so a suite chosen by name is stored as its benchmarks, and folders of
sweeps made before the chain and inverted suites existed resume as they are. It
also records a fingerprint of the code that computes results (``code_version``):
a folder made by other code is refused rather than resumed, so one table never
mixes two versions of a method; folders made before fingerprints were recorded
resume as they are. While a sweep runs it holds a lock on ``.lock`` in the
folder, and a second sweep on the same folder is refused.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._base import canonical_name, names, tasks
from hptaa_lab.errors import HptaaError, UnknownNameError

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TARGETS = "targets.json"
RESULTS = "results.jsonl"
LOCK = ".lock"
FORMAT = 1

Item = TypeVar("Item")


class SweepError(HptaaError, ValueError):
    """A sweep configuration or output folder that cannot be used."""


@dataclass(frozen=True)
class SweepConfig:
    """What a sweep runs; two sweeps with equal configurations may share a folder.

    Attributes:
        tasks: (benchmark, task) pairs.
        methods: Methods, "tpe" first.
        previous_budgets: Budgets b_old.
        seeds: Number of seeds (0 .. seeds - 1).
        reference_seeds: Reference runs per task for the targets.
        use_mapping: Whether transfer methods get the benchmark's fixed values.
        target_budgets: Budgets that define the targets.
        min_evaluations: Evaluations each current HPO runs at least.
        max_evaluations: Evaluations each current HPO runs at most.
    """

    tasks: tuple[tuple[str, str], ...]
    methods: tuple[str, ...]
    previous_budgets: tuple[int, ...]
    seeds: int
    reference_seeds: int = protocol.REFERENCE_SEEDS
    use_mapping: bool = False
    target_budgets: tuple[int, ...] = protocol.TARGET_BUDGETS
    min_evaluations: int = protocol.MIN_EVALUATIONS
    max_evaluations: int = protocol.MAX_EVALUATIONS

    @classmethod
    def create(
        cls,
        benchmarks: Sequence[str] | None,
        methods: Sequence[str],
        previous_budgets: Sequence[int],
        seeds: int,
        *,
        reference_seeds: int = protocol.REFERENCE_SEEDS,
        use_mapping: bool = False,
        suite: str | Sequence[str] | None = None,
    ) -> SweepConfig:
        """Check the arguments of a sweep and build its configuration.

        Args:
            benchmarks: Names, each optionally with a task ("NAS-A:cifar10");
                None (and no ``suite``) for the paper's eight benchmarks on
                every task.
            methods: Method names; "tpe" is added first if missing.
            previous_budgets: Positive integers.
            seeds: A positive integer.
            reference_seeds: A positive integer.
            use_mapping: See ``protocol.Unit``.
            suite: Suites whose benchmarks run on every task besides
                ``benchmarks``: "paper", "chain", "inverted", "holdout", "all",
                or a list.

        Raises:
            UnknownNameError: For an unknown benchmark, task, method or suite.
            SweepError: For budgets or seeds that are not positive integers.
        """
        pairs = parse_benchmarks(benchmarks, suite)
        checked = protocol.check_methods(methods)
        ordered = [protocol.REFERENCE_METHOD] + [
            m for m in checked if m != protocol.REFERENCE_METHOD
        ]
        budgets = [_positive("previous budget", b) for b in previous_budgets]
        if not budgets:
            raise SweepError(
                "The previous budgets must list at least one positive integer; got "
                "none. Pass e.g. 10,20,40."
            )
        return cls(
            tasks=tuple(pairs),
            methods=tuple(ordered),
            previous_budgets=tuple(sorted(set(budgets))),
            seeds=_at_most(MAX_SEEDS, _positive("number of seeds", seeds), "seeds"),
            reference_seeds=_at_most(
                MAX_SEEDS,
                _positive("number of reference seeds", reference_seeds),
                "reference seeds",
            ),
            use_mapping=bool(use_mapping),
        )

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON values."""
        data = asdict(self)
        data["tasks"] = [list(pair) for pair in self.tasks]
        return data

    def plan(self) -> str:
        """The sweep in words: "2 tasks x 1 previous budget x 3 seeds, methods
        tpe, auto"."""

        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        return (
            f"{count(len(self.tasks), 'task')} x "
            f"{count(len(self.previous_budgets), 'previous budget')} x "
            f"{count(self.seeds, 'seed')}, methods {', '.join(self.methods)}"
        )

    def units(
        self, targets: dict[tuple[str, str], protocol.Targets]
    ) -> list[protocol.Unit]:
        """Every unit of the sweep, seed by seed."""
        return [
            protocol.Unit(
                benchmark=benchmark,
                task=task,
                previous_budget=budget,
                seed=seed,
                methods=self.methods,
                targets=targets[benchmark, task].values,
                target_budgets=self.target_budgets,
                use_mapping=self.use_mapping,
                min_evaluations=self.min_evaluations,
                max_evaluations=self.max_evaluations,
            )
            for seed in range(self.seeds)
            for benchmark, task in self.tasks
            for budget in self.previous_budgets
        ]


MAX_SEEDS = 10_000
"""Most seeds (and reference seeds) a sweep takes: each is a previous HPO and a
current HPO per task and method, and the sweep lists its units up front."""


def _at_most(limit: int, value: int, what: str) -> int:
    if value > limit:
        raise SweepError(
            f"A sweep takes at most {limit:,} {what}; got {value:,}. The paper's "
            "protocol uses 100; pass fewer."
        )
    return value


def _positive(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SweepError(
            f"The {what} must be a positive integer; got {value!r}. Pass a whole "
            "number of at least 1."
        )
    return value


def parse_benchmarks(
    entries: Sequence[str] | None, suite: str | Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """(benchmark, task) pairs from names such as "FCN-A" or "NAS-A:cifar10".

    Args:
        entries: Benchmark names, each optionally with one task.
        suite: Suites whose benchmarks are added on every task, first: a name
            ("paper", "chain", "inverted", "holdout", "all") or a list of them. Without
            entries and suites, the paper's benchmarks.

    Raises:
        UnknownNameError: For an unknown benchmark, task or suite, listing the
            valid ones.
    """
    suites = [suite] if isinstance(suite, str) else list(suite or [])
    if not entries and not suites:
        suites = ["paper"]
    pairs: list[tuple[str, str]] = []
    for chosen in suites:
        for name in names(chosen):
            pairs.extend((name, t) for t in tasks(name) if (name, t) not in pairs)
    for entry in entries or []:
        name, _, task = entry.strip().partition(":")
        canonical = canonical_name(name)
        valid = tasks(canonical)
        if task:
            by_task = {t.lower(): t for t in valid}
            if task.lower() not in by_task:
                raise UnknownNameError("task", task, valid)
            chosen_tasks = [by_task[task.lower()]]
        else:
            chosen_tasks = valid
        pairs.extend(
            (canonical, t) for t in chosen_tasks if (canonical, t) not in pairs
        )
    return pairs


def run_sweep(
    config: SweepConfig,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run a sweep (resuming from ``out``), write its outputs, return its rows.

    Args:
        config: What to run.
        out: Output folder, or None to keep nothing on disk.
        workers: Dask worker processes, or None to run here one unit at a time.
        progress: Called with (finished units, all units).

    Returns:
        Every row of the sweep, with trajectories.

    Raises:
        SweepError: If ``out`` holds a sweep of another configuration, or another
            sweep is writing to it right now.
    """
    folder = Path(out) if out is not None else None
    if workers is not None:
        _positive("number of workers", workers)
    with contextlib.ExitStack() as stack:
        done: dict[str, list[dict[str, Any]]] = {}
        if folder is not None:
            try:
                prepare_folder(folder, config)
                stack.enter_context(_only_writer(folder))
                done = load_results(folder / RESULTS, config)
            except OSError as exc:
                raise SweepError(
                    f"Cannot write to the --out folder {folder}: "
                    f"{exc.strerror or exc}. Give a folder you can write to."
                ) from exc
        return _run_units(config, folder, workers, progress, done)


@contextlib.contextmanager
def _only_writer(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder while a sweep writes to it, so that a
    second sweep on the same folder stops at once instead of running every unit
    again next to the first."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with (folder / LOCK).open("a") as stream:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise SweepError(
                f"Another sweep is writing to {folder} right now. Wait for it to "
                "finish (rerunning the same command afterwards only writes the "
                "outputs), or give another --out."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(stream.fileno(), fcntl.LOCK_UN)


def _run_units(
    config: SweepConfig,
    folder: Path | None,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
    done: dict[str, list[dict[str, Any]]],
) -> pd.DataFrame:
    with _executor(workers) as execute:
        targets = _targets(config, folder, execute)
        planned = config.units(targets)
        keys = {u.key for u in planned}
        stray = [key for key in done if key not in keys]
        if stray:
            # E.g. a line added by hand, or by another tool: not this sweep's.
            logger.warning(
                "%s holds %d result(s) of units this sweep does not plan (e.g. %s); "
                "they are left out of the outputs",
                RESULTS,
                len(stray),
                stray[0],
            )
            done = {key: rows for key, rows in done.items() if key in keys}
        units = [u for u in planned if u.key not in done]
        total = len(done) + len(units)
        finished = len(done)
        if progress is not None:
            progress(finished, total)
        sink = (folder / RESULTS).open("a", encoding="utf-8") if folder else None
        try:
            for unit, rows in execute(protocol.run_unit, units):
                done[unit.key] = rows
                if sink is not None:
                    sink.write(json.dumps({"unit": unit.key, "rows": rows}) + "\n")
                    sink.flush()
                finished += 1
                if progress is not None:
                    progress(finished, total)
        finally:
            if sink is not None:
                sink.close()
    frame = results_frame(done, config)
    if folder is not None:
        from hptaa_lab.benchmarks._outputs import write_outputs

        write_outputs(frame, targets, config, folder)
    return frame


_CODE_PACKAGES = ("benchmarks", "samplers", "space", "transfer")
"""Subpackages of hptaa_lab whose code decides a sweep's results."""


@functools.cache
def code_version() -> str:
    """A fingerprint (12 hex digits of SHA-256) of the source files that decide a
    sweep's results: hptaa_lab's benchmarks, samplers, space and transfer
    subpackages."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def prepare_folder(folder: Path, config: SweepConfig) -> None:
    """Create the folder and its manifest, or check that the manifest matches.

    Raises:
        SweepError: If the folder holds results of another configuration, or
            results without a manifest.
    """
    if folder.exists() and not folder.is_dir():
        raise SweepError(
            f"--out {folder} is a file, not a folder. Give a folder (it is created "
            "if missing)."
        )
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST
    wanted = json.loads(json.dumps({"format": FORMAT, **config.to_json()}))
    if manifest.is_file():
        try:
            there = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            there = exc
        if not isinstance(there, dict):
            raise SweepError(
                f"The folder {folder} holds a {MANIFEST} that cannot be read as a "
                f"sweep configuration ({there!r:.80}), so its results cannot be "
                "resumed safely: choose another --out folder."
            )
        code = there.pop("code", None)
        if code is None:
            logger.warning(
                "%s records no code version (made before versions were recorded, "
                "or edited): resuming its results as they are.",
                manifest,
            )
        if _comparable(there) != _comparable(wanted):
            differences = [
                _difference(key, there.get(key), wanted.get(key))
                for key in sorted(set(there) | set(wanted))
                if _comparable(there).get(key) != _comparable(wanted).get(key)
            ]
            raise SweepError(
                f"The folder {folder} holds results of a different sweep "
                f"configuration ({'; '.join(differences)}). Results are not mixed: "
                "choose another --out folder, or rerun with the configuration "
                "of that folder to resume it."
            )
        if code is not None and code != code_version():
            raise SweepError(
                f"The folder {folder} holds results of other hptaa_lab code (code "
                f"version {code}; this one is {code_version()}). Resuming would mix "
                "results of two versions of the methods: choose another --out "
                "folder."
            )
        return
    if (folder / RESULTS).exists():
        raise SweepError(
            f"The folder {folder} holds {RESULTS} but no {MANIFEST}, so its "
            "configuration is unknown. Results are not mixed: choose another "
            "--out folder."
        )
    wanted["code"] = code_version()
    _write_whole(manifest, json.dumps(wanted, indent=2) + "\n")


def _comparable(manifest: dict[str, Any]) -> dict[str, Any]:
    """A manifest with its (benchmark, task) pairs as a set: the order in which
    suites or benchmarks were named does not make another sweep."""
    out = dict(manifest)
    if isinstance(out.get("tasks"), list):
        out["tasks"] = sorted(map(tuple, out["tasks"]))
    return out


def _difference(key: str, there: Any, now: Any) -> str:
    if key == "tasks" and isinstance(there, list) and isinstance(now, list):
        old, new = set(map(tuple, there)), set(map(tuple, now))
        parts = []
        if new - old:
            parts.append(f"{len(new - old)} not there, e.g. {sorted(new - old)[0]}")
        if old - new:
            parts.append(f"{len(old - new)} not asked now, e.g. {sorted(old - new)[0]}")
        return "tasks: " + ", ".join(parts)
    return f"{key}: {there!r} there, {now!r} now"


def load_results(path: Path, config: SweepConfig) -> dict[str, list[dict[str, Any]]]:
    """Finished units of a results file, by unit key.

    Lines end at a newline byte only. A last line without one is kept when it is
    a whole record (an editor dropped the newline, which is added back) and
    removed when it is not (cut short by an interruption). A damaged complete
    line (not a unit's record) is skipped with a warning and its unit runs again;
    the lines after it still count.
    """
    if not path.is_file():
        return {}
    data = path.read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    records: list[tuple[str, list[dict[str, Any]]]] = []
    damaged: list[int] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            record = _unit_record(line)
            if record is None:
                damaged.append(number)
            else:
                records.append(record)
    if damaged:
        shown = ", ".join(map(str, damaged[:5])) + (", ..." if len(damaged) > 5 else "")
        logger.warning(
            "Skipped %d damaged line(s) of %s (line %s): their units run again.",
            len(damaged),
            path,
            shown,
        )
    if tail.strip():
        record = _unit_record(tail)
        if record is not None:
            records.append(record)
            with path.open("ab") as stream:
                stream.write(b"\n")
        elif b"\r" in tail.rstrip(b"\r"):
            # Not one record cut short but lines ended by carriage returns (an
            # editor's doing): warn and keep the file as it is.
            logger.warning(
                "The end of %s has lines ended by carriage returns only; they are "
                "skipped (their units run again) and left in the file.",
                path,
            )
        else:
            logger.warning(
                "Removed an unfinished line at the end of %s (an interrupted write).",
                path,
            )
            with path.open("r+b") as stream:
                stream.truncate(len(data) - len(tail))
    wanted = set(config.methods)
    return {
        unit: rows
        for unit, rows in records
        if {row["method"] for row in rows} == wanted
    }


_ROW_FIELDS = ("benchmark", "method")
"""Fields every row of a unit's record has, as text."""


def _unit_record(line: bytes) -> tuple[str, list[dict[str, Any]]] | None:
    """The (unit key, rows) of one results line, or None if it is not a unit's
    record."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError and bad UTF-8 included
        return None
    if not isinstance(record, dict):
        return None
    unit, rows = record.get("unit"), record.get("rows")
    if not isinstance(unit, str) or not isinstance(rows, list) or not rows:
        return None
    for row in rows:
        if not isinstance(row, dict) or not all(
            isinstance(row.get(field), str) for field in _ROW_FIELDS
        ):
            return None
        if not all(_fits(name, value) for name, value in row.items()):
            return None
    return unit, rows


_NUMBER_FIELDS = ("evals_to_target_", "best_", "target_", "n_evaluations", "seed")
"""Row fields (or prefixes) that hold a number, or null."""


def _fits(name: str, value: Any) -> bool:
    """Whether a row's field holds what the sweep writes there: a number (or
    null) in the number fields, a list of numbers in the trajectory (a line
    that holds text there made the tables fail)."""
    if name == "trajectory":
        return isinstance(value, list) and all(_is_number(v) for v in value)
    if name.startswith(_NUMBER_FIELDS) or name == "previous_budget":
        return value is None or _is_number(value)
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def results_frame(
    done: dict[str, list[dict[str, Any]]], config: SweepConfig
) -> pd.DataFrame:
    """The rows of every finished unit of the configuration, in sweep order."""
    rows = [row for unit_rows in done.values() for row in unit_rows]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = {m: i for i, m in enumerate(config.methods)}
    task_order = {pair: i for i, pair in enumerate(config.tasks)}
    frame["_task"] = [
        task_order.get((b, t), -1)
        for b, t in zip(frame["benchmark"], frame["task"], strict=True)
    ]
    frame["_method"] = frame["method"].map(order)
    frame = frame.sort_values(["_task", "previous_budget", "seed", "_method"])
    return frame.drop(columns=["_task", "_method"]).reset_index(drop=True)


def _targets(
    config: SweepConfig,
    folder: Path | None,
    execute: Callable[..., Iterable[tuple[Any, Any]]],
) -> dict[tuple[str, str], protocol.Targets]:
    """Targets of every task: from ``targets.json`` where cached, else run."""
    path = folder / TARGETS if folder is not None else None
    cached = _read_targets(path) if path is not None and path.is_file() else {}
    missing = [
        pair
        for pair in config.tasks
        if pair not in cached
        or cached[pair].budgets != config.target_budgets
        or cached[pair].reference_seeds != config.reference_seeds
    ]
    jobs = [(b, t, config.reference_seeds, config.target_budgets) for b, t in missing]
    for _, targets in execute(_targets_job, jobs):
        cached[targets.benchmark, targets.task] = targets
    if path is not None and missing:
        data = {
            f"{b}|{t}": {
                "budgets": list(v.budgets),
                "values": list(v.values),
                "reference_seeds": v.reference_seeds,
            }
            for (b, t), v in sorted(cached.items())
        }
        _write_whole(path, json.dumps(data, indent=2) + "\n")
    return cached


def _read_targets(path: Path) -> dict[tuple[str, str], protocol.Targets]:
    """The targets cached in ``path``; none (they are computed again, with a
    warning) if the file is damaged, e.g. edited by hand."""
    cached: dict[tuple[str, str], protocol.Targets] = {}
    try:
        for key, entry in json.loads(path.read_text(encoding="utf-8")).items():
            benchmark, task = key.split("|")
            budgets, values = entry["budgets"], entry["values"]
            if not (
                all(isinstance(b, int) and not isinstance(b, bool) for b in budgets)
                and all(_is_number(v) for v in values)
                and len(budgets) == len(values)
                and isinstance(entry["reference_seeds"], int)
            ):
                raise ValueError(f"entry {key!r} holds values of the wrong kind")
            cached[benchmark, task] = protocol.Targets(
                benchmark, task, tuple(budgets), tuple(values), entry["reference_seeds"]
            )
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        logger.warning(
            "%s cannot be read (%s: %s); the targets are computed again.",
            path,
            type(exc).__name__,
            exc,
        )
        return {}
    return cached


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: beside it, then renamed
    over it (an interrupted write left a file that stopped every resume)."""
    part = path.with_name(f".{path.name}.part-{os.getpid()}")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def _targets_job(job: tuple[str, str, int, tuple[int, ...]]) -> protocol.Targets:
    benchmark, task, reference_seeds, budgets = job
    return protocol.compute_targets(
        benchmark, task, reference_seeds=reference_seeds, budgets=budgets
    )


class _executor:
    """Context manager giving ``execute(fn, items)``, which yields (item, result)
    pairs as results finish: here, or on a local Dask cluster (the one
    ``study.optimize(workers=...)`` uses: workers on 127.0.0.1 with one BLAS
    thread each, forked from the worker template, ignoring Ctrl-C, which the
    driver handles; busy workers are killed when the sweep is interrupted)."""

    def __init__(self, workers: int | None) -> None:
        self.workers = workers
        self.client: Any = None
        self.stack = contextlib.ExitStack()

    def __enter__(self) -> Callable[..., Iterable[tuple[Any, Any]]]:
        if self.workers is None:
            return _in_process
        return self._on_dask

    def _start(self) -> None:
        """Start the cluster (on first use, so a finished sweep starts none)."""
        from hptaa_lab.execution import DaskNotInstalledError, local_cluster

        # Dask logs every start and stop at INFO; keep them out of the output.
        dask_logger = logging.getLogger("distributed")
        self.stack.callback(dask_logger.setLevel, dask_logger.level)
        dask_logger.setLevel(logging.ERROR)
        try:
            self.client = self.stack.enter_context(
                local_cluster(self.workers, preload=["hptaa_lab.benchmarks.protocol"])
            )
        except DaskNotInstalledError as exc:
            raise SweepError(
                "Running a sweep on workers needs Dask, which is missing. Install "
                "the bench extra: pip install 'hptaa_lab[bench]'."
            ) from exc
        logger.info("Started a Dask LocalCluster of %d processes.", self.workers)

    def _on_dask(
        self, fn: Callable[[Item], Any], items: Sequence[Item]
    ) -> Iterable[tuple[Item, Any]]:
        from dask.distributed import as_completed

        if not items:
            return
        if self.client is None:
            self._start()
        futures = self.client.map(fn, list(items), pure=False)
        by_key = {future.key: item for future, item in zip(futures, items, strict=True)}
        # The client is not Dask's default one: as_completed needs its loop.
        for future in as_completed(futures, loop=self.client.loop):
            result = future.result()
            yield by_key[future.key], result
            future.release()

    def __exit__(self, *exc: Any) -> None:
        # An exception (Ctrl-C) reaches local_cluster, which then kills busy
        # workers instead of waiting for their units.
        self.stack.__exit__(*exc)


def _in_process(
    fn: Callable[[Item], Any], items: Sequence[Item]
) -> Iterable[tuple[Item, Any]]:
    for item in items:
        yield item, fn(item)
