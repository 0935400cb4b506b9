"""Print the speed figures of the engine (not a test: figures, not assertions).

1. Median time of one TPE ask at 200 finished trials in a 9-dimensional space,
   against Optuna's multivariate TPESampler measured in the same run.
2. Loop plus store overhead per trial with a trivial objective (SQLite file store).

Run: .venv/bin/python scripts/bench_perf.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from hptaa_lab import create_study
from hptaa_lab.samplers import TPESampler
from hptaa_lab.space import build_space

N_TRIALS = 200
N_ASKS = 200
SPEC = {
    **{f"x{i}": (0.0, 1.0) for i in range(5)},
    "lr": (1e-5, 1e-1, "log"),
    "layers": (1, 8),
    "act": ["relu", "tanh", "gelu"],
    "opt": ["adam", "sgd"],
}


def objective(config: dict) -> float:
    """A cheap function of all nine hyperparameters."""
    value = sum((config[f"x{i}"] - 0.3) ** 2 for i in range(5))
    value += (np.log10(config["lr"]) + 3) ** 2 / 10 + abs(config["layers"] - 3) / 8
    return value + (config["act"] != "gelu") * 0.1 + (config["opt"] != "adam") * 0.05


def history(seed: int = 0) -> tuple[list[dict], list[float]]:
    """200 random configurations with their values."""
    sampler = TPESampler(build_space(SPEC), seed=seed, n_init=10**9)
    configs = [sampler.ask().config for _ in range(N_TRIALS)]
    for config in configs:
        sampler.tell(config, objective(config))
    return configs, [objective(c) for c in configs]


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def ours(configs: list[dict], values: list[float]) -> float:
    sampler = TPESampler(build_space(SPEC), seed=1, random_fraction=0.0)
    sampler.tell_many(configs, values)
    times = []
    for _ in range(N_ASKS):
        start = time.perf_counter()
        sampler.ask()
        times.append(time.perf_counter() - start)
    return median_ms(times)


def optuna_tpe(configs: list[dict], values: list[float]) -> float:
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    dists = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(5)}
    dists["lr"] = FloatDistribution(1e-5, 1e-1, log=True)
    dists["layers"] = IntDistribution(1, 8)
    dists["act"] = CategoricalDistribution(["relu", "tanh", "gelu"])
    dists["opt"] = CategoricalDistribution(["adam", "sgd"])
    sampler = optuna.samplers.TPESampler(multivariate=True, seed=1, n_startup_trials=0)
    study = optuna.create_study(sampler=sampler)
    study.add_trials(
        optuna.trial.create_trial(params=c, distributions=dists, value=v)
        for c, v in zip(configs, values, strict=True)
    )
    times = []
    for _ in range(N_ASKS):
        start = time.perf_counter()
        trial = study.ask(dists)
        times.append(time.perf_counter() - start)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return median_ms(times)


def loop_overhead() -> tuple[float, float]:
    """Per-trial wall time of optimize() with a trivial objective and a random
    sampler, and of the sampler's asks alone; the difference is loop + store."""
    space = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
    n = 500
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'perf.db'}"
        study = create_study("perf", space, sampler="random", store=url, seed=0)
        start = time.perf_counter()
        study.optimize(lambda c: c["x"] + c["y"], n_trials=n)
        total = (time.perf_counter() - start) / n
        study.close()
    from hptaa_lab.samplers import RandomSampler

    sampler = RandomSampler(build_space(space), seed=0)
    start = time.perf_counter()
    for _ in range(n):
        proposal = sampler.ask()
        sampler.tell(proposal.config, 0.0)
    asks = (time.perf_counter() - start) / n
    return total * 1000, (total - asks) * 1000


def main() -> None:
    configs, values = history()
    mine = ours(configs, values)
    theirs = optuna_tpe(configs, values)
    print(f"TPE ask at {N_TRIALS} trials, 9-d space (median of {N_ASKS}):")
    print(f"  hptaa_lab TPESampler.ask           {mine:8.3f} ms")
    print(f"  Optuna TPESampler(multivariate)    {theirs:8.3f} ms  (study.ask)")
    print(f"  ratio hptaa_lab / Optuna           {mine / theirs:8.3f}")
    per_trial, overhead = loop_overhead()
    print("Loop plus store per trial (trivial objective, random sampler, SQLite):")
    print(f"  optimize() wall time per trial     {per_trial:8.3f} ms")
    print(f"  of which loop + store overhead     {overhead:8.3f} ms")


if __name__ == "__main__":
    main()
