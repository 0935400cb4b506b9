"""Measure Study.optimize(workers=N) against in-process runs, and where its time goes.

Every timed run happens in a fresh Python process that has done what a user's
script does before ``optimize``: imported hptaa_lab and created the study. So
both runs pay what a script pays: the in-process run imports scikit-learn in its
first trial; the parallel run starts the worker template (which imports
distributed and scikit-learn), the cluster, and closes it, all inside the timed
``study.optimize(objective, n_trials=40, workers=2)`` call.

Printed at the end:

- the objective: an RBF SVC on scikit-learn's bundled digits data, 6-fold
  cross-validation repeated three times, about half a second on one core. The
  random sampler makes every run evaluate the same configurations, so the work
  is equal.
- speed-up: ``--repeats`` pairs of in-process and parallel runs, interleaved,
  each with its ratio and the machine's load during each run. A pair counts as
  quiet when other processes used under 0.15 of a core on average during its
  runs, and a two-core check just before it (the same pure-Python loop on one
  process, then on two at once) found each of two processes at most 10% slower
  than one alone (on a virtual machine, the host may give the two cores less
  than two cores' worth). The verdict uses quiet pairs only, if there are any.
- where the parallel run's time goes: when the worker template had imported
  what, when the cluster was ready, each worker's first trial, the trials, the
  close, and the driver's CPU time.
- for comparison: the same call without the worker template
  (``run_parallel(..., worker_template=False)``; ``--no-spawn`` skips it), the
  same configurations on a plain process pool (no Dask, no study, pool start
  included), and on a cluster started beforehand with ``local_cluster`` (a
  first and a second study on it).
- dispatch overhead: a trivial objective in-process and on a running cluster;
  the difference per trial is what sending a trial to a worker and its result
  back costs.

Other busy processes (on Linux, any other busy terminal session) leave the
workers less than one core each, and the ratios then say nothing about
hptaa_lab; the load figures say whether that happened.

Run: ``.venv/bin/python scripts/bench_parallel.py`` (about two and a half
minutes on 2 cores; ``--repeats 3`` for three pairs, about six). Works offline:
the digits data ship with scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, NamedTuple

SPACE = {"C": (1.0, 1000.0, "log"), "gamma": (10**-2.5, 0.1, "log")}
# A pair of runs is quiet when other processes used less than this many cores.
QUIET_CORES = 0.15
# ... and two processes each ran the same work at most this much slower than one.
QUIET_CORE_CHECK = 1.10
TARGET = 0.62
MARK = "BENCH-RESULT "


def train_svc(config: dict[str, Any]) -> float:
    """Cross-validated error of an RBF SVC on the digits data (about 0.5 s)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)
    folds = RepeatedStratifiedKFold(n_splits=6, n_repeats=3, random_state=0)
    model = SVC(C=config["C"], gamma=config["gamma"])
    return 1.0 - float(cross_val_score(model, X / 16.0, y, cv=folds).mean())


def trivial(config: dict[str, Any]) -> float:
    """No work at all: what is left of a trial is dispatch."""
    return config["C"]


# -- the timed runs, each in a fresh process ---------------------------------------


class _Events(logging.Handler):
    """Times (seconds after ``start``) of hptaa_lab's execution log records."""

    def __init__(self, start: float) -> None:
        super().__init__(logging.DEBUG)
        self.start = start
        self.epoch = time.time() - (time.perf_counter() - start)
        self.records: list[tuple[float, logging.LogRecord]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((time.perf_counter() - self.start, record))

    def first(self, text: str) -> float | None:
        return next((t for t, r in self.records if text in r.msg), None)

    def template(self) -> dict[str, Any]:
        """What the worker template imported, and when (seconds after the call
        started) it had imported distributed and hptaa_lab, and the last module."""
        for _, record in self.records:
            if "has imported" in record.msg and isinstance(record.args, tuple):
                _, count, seconds, names = record.args
                timeline = getattr(record, "template_timeline", {})
                return {
                    "modules": count,
                    "import_s": seconds,
                    "names": names,
                    **{k: v - self.epoch for k, v in timeline.items()},
                }
        return {}


def _study(store: str, name: str) -> Any:
    import hptaa_lab

    return hptaa_lab.create_study(name, SPACE, sampler="random", seed=0, store=store)


def _optimize(
    study: Any,
    objective: Callable[..., Any],
    run: Callable[..., Any] | None = None,
    **options: Any,
) -> Any:
    """Time ``study.optimize`` (or ``run(study, ...)``); record when each trial
    was told."""
    told: list[float] = []
    start = time.perf_counter()
    events = _Events(start)
    logger = logging.getLogger("hptaa_lab.execution")
    logger.addHandler(events)
    logger.setLevel(logging.DEBUG)
    callbacks = [lambda s, t: told.append(time.perf_counter() - start)]
    try:
        if run is None:
            study.optimize(objective, callbacks=callbacks, **options)
        else:
            run(study, objective, callbacks=callbacks, **options)
    finally:
        logger.removeHandler(events)
    wall = time.perf_counter() - start
    trials = [
        {
            "config": t.config,
            "s": (t.finished_at - t.started_at).total_seconds(),
            "state": t.state.name,
        }
        for t in study.trials
    ]
    return wall, told, trials, events


def child_serial(args: dict[str, Any]) -> dict[str, Any]:
    """One in-process run of the real objective."""
    study = _study(args["store"], args["name"])
    wall, _, trials, _ = _optimize(study, train_svc, n_trials=args["trials"])
    return {"wall": wall, "trials": trials}


def child_parallel(args: dict[str, Any]) -> dict[str, Any]:
    """One ``optimize(workers=N)`` run: the cluster started and closed inside;
    without the worker template, the same through ``run_parallel``."""
    from hptaa_lab.execution import run_parallel

    study = _study(args["store"], args["name"])
    driver_cpu = time.process_time()
    if args["template"]:
        wall, told, trials, events = _optimize(
            study, train_svc, n_trials=args["trials"], workers=args["workers"]
        )
    else:
        wall, told, trials, events = _optimize(
            study,
            train_svc,
            n_trials=args["trials"],
            workers=args["workers"],
            worker_template=False,
            run=run_parallel,
        )
    driver_cpu = time.process_time() - driver_cpu
    return {
        "wall": wall,
        "driver_cpu": driver_cpu,
        "trials": trials,
        "told": told,
        "cluster_ready": events.first("started a local Dask cluster"),
        "closed": events.first("closed the local Dask cluster"),
        "template": events.template(),
    }


def child_pool(args: dict[str, Any]) -> dict[str, Any]:
    """The same configurations on a plain process pool (no Dask, no study), pool
    start included: what this machine allows any parallel executor."""
    import multiprocessing

    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args["workers"]) as pool:
        pool.map(train_svc, args["configs"], chunksize=1)
    return {"wall": time.perf_counter() - start}


def child_running(args: dict[str, Any]) -> dict[str, Any]:
    """Two studies on a cluster started beforehand with local_cluster."""
    from hptaa_lab.execution import local_cluster

    start = time.perf_counter()
    with local_cluster(args["workers"], preload=[train_svc]) as client:
        started = time.perf_counter() - start
        walls = []
        for k in range(2):
            study = _study(args["store"], f"{args['name']}-{k}")
            wall, _, _, _ = _optimize(
                study, train_svc, n_trials=args["trials"], scheduler=client
            )
            walls.append(wall)
    return {"start": started, "first": walls[0], "second": walls[1]}


def child_overhead(args: dict[str, Any]) -> dict[str, Any]:
    """Per-trial wall time of a trivial objective in-process and on a running
    cluster, with one trial in flight and with ``workers`` in flight."""
    from hptaa_lab.execution import local_cluster

    n = args["trials"]
    study = _study(args["store"], "trivial-in-process")
    serial, _, _, _ = _optimize(study, trivial, n_trials=n)
    figures = {"serial_ms": 1000 * serial / n}
    for k in sorted({1, args["workers"]}):
        with local_cluster(k) as client:
            study = _study(args["store"], f"trivial-cluster-{k}")
            wall, _, _, _ = _optimize(
                study, trivial, n_trials=n, workers=k, scheduler=client
            )
        figures[f"cluster_{k}_ms"] = 1000 * wall / n
    return figures


def _spin(start_at: float) -> float:
    """Wait until ``start_at`` (time.time()), then time a fixed pure-Python loop
    of about half a second."""
    time.sleep(max(0.0, start_at - time.time()))
    start = time.perf_counter()
    total = 0
    for i in range(12_000_000):
        total += i * i
    return time.perf_counter() - start


def child_cores(args: dict[str, Any]) -> dict[str, Any]:
    """How much longer the same work takes on each of ``workers`` processes at
    once than on one: about 1.0 when the machine gives each a core of its own."""
    import multiprocessing

    alone = min(_spin(0.0) for _ in range(2))
    rounds = []
    with multiprocessing.get_context("spawn").Pool(args["workers"]) as pool:
        pool.map(_spin, [0.0] * args["workers"])  # the processes are up and warm
        for _ in range(2):
            start_at = time.time() + 0.2
            rounds.append(max(pool.map(_spin, [start_at] * args["workers"])))
    return {"slowdown": statistics.median(rounds) / alone}


CHILDREN = {
    "cores": child_cores,
    "serial": child_serial,
    "parallel": child_parallel,
    "pool": child_pool,
    "running": child_running,
    "overhead": child_overhead,
}


def _our_cpu_seconds() -> float:
    """CPU seconds of this process and its descendants, waited-for ones included
    (workers are waited for by the template, the template's own process is
    alive)."""
    import psutil

    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            t = process.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


# -- the machine's load ----------------------------------------------------------------


def _machine() -> dict[str, float]:
    """Counters to difference: busy and steal CPU seconds of the machine, seconds
    in which some task waited for a CPU (Linux PSI), and the time."""
    ticks = os.sysconf("SC_CLK_TCK")
    figures = {"time": time.monotonic(), "busy": 0.0, "steal": 0.0, "stall": 0.0}
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal
        figures["busy"] = (sum(fields[:3]) + fields[5] + fields[6]) / ticks
        figures["steal"] = fields[7] / ticks
        with open("/proc/pressure/cpu") as pressure:
            total = pressure.readline().split()[-1].split("=")[1]
        figures["stall"] = int(total) / 1e6
    except (OSError, ValueError, IndexError):
        pass
    return figures


def run_child(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh process; add the load during it: cores other
    processes used on average (``other``), CPU pressure and steal."""
    before = _machine()
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    after = _machine()
    lines = [x for x in done.stdout.splitlines() if x.startswith(MARK)]
    if done.returncode != 0 or not lines:
        sys.exit(f"the {kind} run failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARK) :])
    span = after["time"] - before["time"]
    busy = after["busy"] - before["busy"]
    result["load"] = {
        "other": max(0.0, (busy - result["our_cpu"]) / span),
        "pressure": 100 * (after["stall"] - before["stall"]) / span,
        "steal": (after["steal"] - before["steal"]) / span,
    }
    return result


# -- the report ------------------------------------------------------------------


def _load_text(result: dict[str, Any]) -> str:
    load = result["load"]
    return (
        f"other processes {load['other']:.2f} cores, CPU pressure "
        f"{load['pressure']:.0f}%, steal {load['steal']:.2f}"
    )


def _is_quiet(*results: dict[str, Any]) -> bool:
    return all(r["load"]["other"] < QUIET_CORES for r in results)


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


def _breakdown(serial: dict[str, Any], parallel: dict[str, Any], workers: int) -> None:
    """Print where a parallel run's time went, against its in-process pair."""
    times = [t["s"] for t in serial["trials"]]
    # The in-process run's first trial also imported scikit-learn.
    times[0] = statistics.median(times[1:]) if len(times) > 1 else times[0]
    by_config = {
        _key(t["config"]): s for t, s in zip(serial["trials"], times, strict=True)
    }
    ready, told = parallel["cluster_ready"], parallel["told"]
    template = parallel["template"]
    if template:
        print(
            f"    worker template              had imported distributed and "
            f"hptaa_lab at {template['loaded']:.2f} s, the objective's "
            f"{template['modules']} modules at {template['done']:.2f} s "
            f"({template['import_s']:.2f} s for those)"
        )
    else:
        print("    workers not forked from a worker template")
    print(f"    cluster ready at             {ready:6.2f} s")
    first = parallel["trials"][:workers]
    rest = [t["s"] for t in parallel["trials"][workers:]] or [0.0]
    print(
        "    first trial on each worker   "
        + ", ".join(f"{t['s']:.2f} s" for t in first)
        + f" (later trials of this run: median {statistics.median(rest):.2f} s; "
        + "in-process, same configurations: "
        + ", ".join(f"{by_config.get(_key(t['config']), 0.0):.2f} s" for t in first)
        + ")"
    )
    span = told[-1] - ready
    ideal = sum(by_config.get(_key(t["config"]), 0.0) for t in parallel["trials"])
    print(
        f"    trials                       {span:6.2f} s (in-process trial times "
        f"/ {workers}: {ideal / workers:.2f} s; the rest is dispatch, the driver's "
        "CPU and the wait for the last trial)"
    )
    closed = parallel["closed"]
    print(
        f"    close                        {closed - told[-1]:6.2f} s, then "
        f"{parallel['wall'] - closed:.2f} s to return"
    )
    print(
        f"    CPU time of the driver during the call: {parallel['driver_cpu']:.2f} s "
        "(scheduler, client, sampler and store run there)"
    )


class Pair(NamedTuple):
    """The runs of one repeat: in-process, parallel with and without the worker
    template, and the plain process pool."""

    serial: dict[str, Any]
    parallel: dict[str, Any]
    spawned: dict[str, Any] | None
    pool: dict[str, Any]
    cores: dict[str, Any]


def _pair_lines(k: int, pair: Pair, workers: int) -> bool:
    """Print one pair; return whether it was quiet."""
    serial, parallel = pair.serial, pair.parallel
    ratio = parallel["wall"] / serial["wall"]
    runs = [serial, parallel, *([pair.spawned] if pair.spawned else [])]
    slowdown = pair.cores["slowdown"]
    quiet = _is_quiet(*runs) and slowdown <= QUIET_CORE_CHECK
    same = all(
        [t["config"] for t in serial["trials"]] == [t["config"] for t in r["trials"]]
        for r in runs
    )
    print(
        f"  pair {k}: workers=1 {serial['wall']:6.2f} s, workers={workers} "
        f"{parallel['wall']:6.2f} s, ratio {ratio:.3f}  "
        f"[{'quiet' if quiet else 'NOT QUIET'}]"
        + ("" if same else " (configurations differ!)")
    )
    print(
        f"    two-core check: the same loop ran {slowdown:.2f} times as long on "
        f"each of {workers} processes at once as on one (quiet: <= "
        f"{QUIET_CORE_CHECK})"
    )
    print(f"    during workers=1: {_load_text(serial)}")
    print(f"    during workers={workers}: {_load_text(parallel)}")
    _breakdown(serial, parallel, workers)
    if pair.spawned:
        spawned = pair.spawned
        print(
            f"    without the worker template (run_parallel(worker_template=False)): "
            f"{spawned['wall']:.2f} s, ratio {spawned['wall'] / serial['wall']:.3f} "
            f"({_load_text(spawned)})"
        )
        _breakdown(serial, spawned, workers)
    print(
        f"    plain {workers}-process pool, same configurations: "
        f"{pair.pool['wall']:.2f} s, ratio {pair.pool['wall'] / serial['wall']:.3f} "
        f"({_load_text(pair.pool)})"
    )
    return quiet


def _verdict(ratios: list[float], quiet: list[float]) -> None:
    print(f"  median ratio, all {len(ratios)} pair(s): {statistics.median(ratios):.3f}")
    if quiet:
        verdict = "met" if statistics.median(quiet) <= TARGET else "MISSED"
        print(
            f"  median ratio, {len(quiet)} quiet pair(s): "
            f"{statistics.median(quiet):.3f} -> target <= {TARGET}: {verdict}"
        )
    else:
        print(
            f"  no quiet pair (other processes used >= {QUIET_CORES} cores during a "
            f"run, or the two-core check was above {QUIET_CORE_CHECK}): the ratios "
            "above do not measure hptaa_lab; rerun when the machine is idle"
        )


def report(
    args: argparse.Namespace,
    pairs: list[Pair],
    running: dict[str, Any],
    overhead: dict[str, Any],
    load_before: str,
) -> None:
    """Print the figures."""
    n, w = args.trials, args.workers
    in_process = [t["s"] for p in pairs for t in p.serial["trials"][1:]]
    first = [p.serial["trials"][0]["s"] for p in pairs]
    print(f"machine: {os.cpu_count()} CPU cores; before: {load_before}")
    print(
        f"objective: RBF SVC on digits, 6-fold CV x3; in-process median "
        f"{statistics.median(in_process):.3f} s a trial (mean "
        f"{statistics.mean(in_process):.3f} s); the first trial of a fresh process "
        f"{statistics.median(first):.2f} s (imports scikit-learn)"
    )
    print(
        f"speed-up, {n} trials, the whole optimize call, each run in a fresh "
        "process (times are seconds after the call started):"
    )
    ratios, quiet = [], []
    for k, pair in enumerate(pairs):
        ratio = pair.parallel["wall"] / pair.serial["wall"]
        ratios.append(ratio)
        if _pair_lines(k, pair, w):
            quiet.append(ratio)
    _verdict(ratios, quiet)
    reference = statistics.median(p.serial["wall"] for p in pairs)
    print(
        f"cluster started beforehand (local_cluster, preload=[objective]): "
        f"start {running['start']:.2f} s; {n} trials {running['first']:.2f} s "
        f"(ratio {running['first'] / reference:.3f}), a second study "
        f"{running['second']:.2f} s (ratio {running['second'] / reference:.3f}) "
        f"[{_load_text(running)}]"
    )
    m = args.overhead_trials
    print(
        f"dispatch overhead ({m} trivial trials, random sampler) "
        f"[{_load_text(overhead)}]:"
    )
    print(f"  in-process:                {overhead['serial_ms']:7.2f} ms a trial")
    for k in sorted({1, w}):
        ms = overhead[f"cluster_{k}_ms"]
        print(
            f"  {k} in flight on a cluster: {ms:7.2f} ms a trial, overhead "
            f"{ms - overhead['serial_ms']:6.2f} ms"
        )


def _load_average() -> str:
    text = f"load {os.getloadavg()[0]:.2f}"
    try:
        with open("/proc/pressure/cpu") as pressure:
            fields = dict(f.split("=") for f in pressure.readline().split()[1:])
        return f"{text}, CPU pressure {float(fields['avg60']):.0f}% (last minute)"
    except (OSError, KeyError, ValueError):
        return text


def main() -> None:
    """Parse arguments, run the measurements in fresh processes, print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="real-training trials")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--overhead-trials", type=int, default=200, help="trivial trials"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="in-process/parallel pairs"
    )
    parser.add_argument(
        "--no-spawn",
        action="store_true",
        help="skip the parallel runs without the worker template",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("child_args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    if args.child:
        result = CHILDREN[args.child](json.loads(args.child_args))
        result["our_cpu"] = _our_cpu_seconds()
        print(MARK + json.dumps(result), flush=True)
        return

    load_before = _load_average()
    with tempfile.TemporaryDirectory(prefix="hptaa-bench-") as folder:
        store = f"sqlite:///{os.path.join(folder, 'bench.db')}"
        common = {"store": store, "trials": args.trials, "workers": args.workers}
        pairs = []
        for r in range(args.repeats):
            cores = run_child("cores", common)
            serial = run_child("serial", {**common, "name": f"serial-{r}"})
            parallel = run_child(
                "parallel", {**common, "name": f"parallel-{r}", "template": True}
            )
            spawned = None
            if not args.no_spawn:
                spawned = run_child(
                    "parallel", {**common, "name": f"spawn-{r}", "template": False}
                )
            configs = [t["config"] for t in serial["trials"]]
            pool = run_child("pool", {**common, "configs": configs})
            pairs.append(Pair(serial, parallel, spawned, pool, cores))
        running = run_child("running", {**common, "name": "running"})
        overhead = run_child("overhead", {**common, "trials": args.overhead_trials})
    report(args, pairs, running, overhead, load_before)


if __name__ == "__main__":
    main()
