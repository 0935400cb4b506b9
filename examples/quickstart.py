"""Tune version 1 of a classifier, change the code, and transfer-tune version 2.

Run: .venv/bin/python examples/quickstart.py
"""

from __future__ import annotations

import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import cross_val_score

import hptaa_lab

X, y = load_digits(return_X_y=True)
X = X / 16.0


def train_v1(config: dict) -> float:
    """Version 1: loss and step size are tuned, the penalty is hard-coded to l2."""
    model = SGDClassifier(
        loss=config["loss"],
        alpha=config["alpha"],
        eta0=config["eta0"],
        learning_rate="constant",
        penalty="l2",
        max_iter=30,
        random_state=0,
    )
    return 1.0 - cross_val_score(model, X, y, cv=3).mean()


def train_v2(config: dict) -> float:
    """Version 2: eta0 renamed lr, the penalty exposed, the loss fixed to log_loss."""
    model = SGDClassifier(
        loss="log_loss",
        alpha=config["alpha"],
        eta0=config["lr"],
        learning_rate="constant",
        penalty=config["penalty"],
        max_iter=30,
        random_state=0,
    )
    return 1.0 - cross_val_score(model, X, y, cv=3).mean()


def main() -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)
    store = "sqlite:///.hptaa/quickstart.db"
    names = {s.name for s in hptaa_lab.TrialStore(store).list_studies()}
    suffix = f"-{len(names) // 2 + 1}"

    v1 = hptaa_lab.create_study(
        "sgd-v1" + suffix,
        {
            "loss": ["hinge", "log_loss"],
            "alpha": (1e-6, 1e-1, "log"),
            "eta0": (1e-4, 1.0, "log"),
        },
        store=store,
        seed=0,
    )
    v1.optimize(train_v1, n_trials=25)
    print("version 1 incumbent:", v1.incumbent.value, v1.incumbent.config)

    current = {
        "alpha": (1e-6, 1e-1, "log"),
        "lr": (1e-4, 1.0, "log"),
        "penalty": ["l2", "l1", "elasticnet"],
    }
    print(hptaa_lab.diff(v1.space, current).format_table())
    mapping = {
        "renames": {"eta0": "lr"},  # previous name -> current name
        "previous_fixed": {"penalty": "l2"},
        "current_fixed": {"loss": "log_loss"},
    }
    print(hptaa_lab.diff(v1.space, current, mapping).format_table())

    v2 = hptaa_lab.create_study(
        "sgd-v2" + suffix,
        current,
        previous=v1,
        mapping=mapping,
        store=store,
        seed=0,
    )
    v2.optimize(train_v2, n_trials=20)
    print(v2.trials_dataframe()[["number", "value", "proposed_by"]].head(8))
    print("version 2 incumbent:", v2.incumbent.value, v2.incumbent.config)


if __name__ == "__main__":
    main()
