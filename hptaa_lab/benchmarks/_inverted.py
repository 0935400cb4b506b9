"""Inverted benchmarks: adjustments that make the previous best region poor.

The search space stays the same, but the current code reads some
hyperparameters differently (two operations swapped, choices read in reverse
order, a range mirrored), so configurations that were good in the previous
version are poor in the current one. They measure the harm of transferring
from a misleading previous study (negative transfer); the mapping of these
benchmarks is empty, as a developer who does not notice the inversion would
leave it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ConfigSpace import ConfigurationSpace

from hptaa_lab.benchmarks._base import (
    Benchmark,
    Objective,
    check_configuration,
    register,
)
from hptaa_lab.benchmarks._fcnet import ALL_BUT_SCHEDULE, ORDINAL_VALUES, FCNetObjective
from hptaa_lab.benchmarks._fcnet import TASKS as FCNET_TASKS
from hptaa_lab.benchmarks._fcnet import _space as fcnet_space
from hptaa_lab.benchmarks._nasbench import EDGES, OPERATIONS, NASBench201Objective
from hptaa_lab.benchmarks._nasbench import TASKS as NAS_TASKS
from hptaa_lab.benchmarks._nasbench import _space as nas_space
from hptaa_lab.benchmarks._surrogate import trained_objective
from hptaa_lab.benchmarks._xgb import (
    PREVIOUS_TREE_VALUES,
    XGBObjective,
    _base_hyperparameters,
)
from hptaa_lab.benchmarks._xgb import TASKS as XGB_TASKS

__all__ = ["InvertedObjective", "Mirrored", "Reversed", "Swapped"]

SUITE = "inverted"


@dataclass(frozen=True)
class Reversed:
    """Reads a choice in reverse order: choice i of n becomes choice n - 1 - i.

    Attributes:
        values: The choices, in the order the search space lists them.
    """

    values: tuple[Any, ...]

    def __call__(self, value: Any) -> Any:
        """The choice the current code uses for ``value``."""
        return self.values[len(self.values) - 1 - self.values.index(value)]


@dataclass(frozen=True)
class Swapped:
    """Exchanges two choices; every other choice stays.

    Attributes:
        first: One choice.
        second: The other.
    """

    first: Any
    second: Any

    def __call__(self, value: Any) -> Any:
        """The choice the current code uses for ``value``."""
        if value == self.first:
            return self.second
        if value == self.second:
            return self.first
        return value


@dataclass(frozen=True)
class Mirrored:
    """Mirrors a value within its range: ``lower + upper - value``, or on a log
    scale ``lower * upper / value``.

    Attributes:
        lower: Lower end of the range.
        upper: Upper end of the range.
        log: Mirror on a log scale.
    """

    lower: float
    upper: float
    log: bool = False

    def __call__(self, value: float) -> float:
        """The value the current code uses for ``value``."""
        if self.log:
            return self.lower * self.upper / value
        return self.lower + self.upper - value


class InvertedObjective:
    """The objective of a version whose code reads some hyperparameters differently.

    The configuration is checked against ``space``; each value with a transform
    passes through it, and the result is what ``inner`` (the objective of the
    code as it was) evaluates.

    Args:
        label: Names the objective in error messages, e.g.
            "NAS-INV current (cifar10)".
        space: Search space whose values the objective accepts.
        inner: Objective over the same space, before the inversion.
        transforms: Hyperparameter name -> how the current code reads its value.

    Raises:
        ValueError: If a transform names a hyperparameter that is not in
            ``space``.
    """

    def __init__(
        self,
        label: str,
        space: ConfigurationSpace,
        inner: Objective,
        transforms: Mapping[str, Callable[[Any], Any]],
    ) -> None:
        unknown = sorted(set(transforms) - set(space))
        if unknown:
            raise ValueError(
                f"The transforms of {label} name {unknown}, which are not in its "
                f"search space ({', '.join(space)})."
            )
        self.label = label
        self.space = space
        self.inner = inner
        self.transforms = dict(transforms)

    def __call__(self, config: dict[str, Any]) -> float:
        """Objective value of one configuration.

        Args:
            config: Values of the active hyperparameters of ``space``.

        Returns:
            The objective value (minimised).

        Raises:
            ValueError: Naming the hyperparameter whose value is illegal,
                missing or unknown.
        """
        values = check_configuration(config, self.space, self.label)
        read = {
            name: self.transforms[name](value) if name in self.transforms else value
            for name, value in values.items()
        }
        return self.inner(read)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"


@register("NAS-INV", NAS_TASKS, suite=SUITE)
def nas_inv(task: str) -> Benchmark:
    """NAS-INV: two operations of the cell swapped.

    Both versions: Op0..Op5 (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), each
    categorical over none, skip_connect, nor_conv_1x1, nor_conv_3x3,
    avg_pool_3x3.

    Current version: the code's table from operation names to modules has two
    entries swapped, so the choice nor_conv_3x3 builds a 3x3 average pooling
    and avg_pool_3x3 a 3x3 convolution. The best previous cells, rich in 3x3
    convolutions, become cells of poolings. Nothing is added, removed or
    hard-coded.

    Args:
        task: One of "cifar10", "cifar100", "imagenet" (ImageNet16-120).

    Returns:
        The benchmark.
    """
    previous_space = nas_space("NAS-INV previous", list(EDGES), OPERATIONS)
    current_space = nas_space("NAS-INV current", list(EDGES), OPERATIONS)
    swap = Swapped("nor_conv_3x3", "avg_pool_3x3")
    return Benchmark(
        name="NAS-INV",
        task=task,
        description=(
            "Search space unchanged (Op0..Op5 over five operations). The current "
            "code's table from operation names to modules has two entries "
            "swapped: nor_conv_3x3 builds a 3x3 average pooling and avg_pool_3x3 "
            "a 3x3 convolution."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=NASBench201Objective(
            f"NAS-INV previous ({task})", task, previous_space, {}
        ),
        current_objective=InvertedObjective(
            f"NAS-INV current ({task})",
            current_space,
            NASBench201Objective(f"NAS-INV current ({task})", task, current_space, {}),
            {edge: swap for edge in EDGES},
        ),
        previous_fixed={},
        current_fixed={},
    )


@register("FCN-INV", FCNET_TASKS, suite=SUITE)
def fcn_inv(task: str) -> Benchmark:
    """FCN-INV: the learning rate and dropout rates read in reverse order.

    Both versions: search space activation_fn_1, activation_fn_2 (relu, tanh),
    batch_size (8, 16, 32, 64), dropout_1, dropout_2 (0.0, 0.3, 0.6), init_lr
    (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1), n_units_1, n_units_2 (16 .. 512);
    hard-coded lr_schedule = "cosine".

    Current version: the code takes the learning rate and the two dropout
    rates by index from lists sorted largest first, while the search space
    still lists the choices smallest first: init_lr = 5e-4 trains with 1e-1,
    1e-3 with 5e-2 and so on; dropout 0.0 trains with 0.6 and 0.6 with 0.0.
    Nothing is added, removed or hard-coded differently.

    Args:
        task: One of the FCNet tasks, e.g. "naval_propulsion".

    Returns:
        The benchmark.
    """
    hyperparameters = list(ALL_BUT_SCHEDULE)
    fixed = {"lr_schedule": "cosine"}
    previous_space = fcnet_space("FCN-INV previous", hyperparameters)
    current_space = fcnet_space("FCN-INV current", hyperparameters)
    reversed_choices = {
        name: Reversed(ORDINAL_VALUES[name])
        for name in ("dropout_1", "dropout_2", "init_lr")
    }
    return Benchmark(
        name="FCN-INV",
        task=task,
        description=(
            "Search space unchanged; lr_schedule hard-coded to cosine. The "
            "current code takes init_lr, dropout_1 and dropout_2 by index from "
            "lists sorted largest first while the search space lists them "
            "smallest first: init_lr 5e-4 trains with 1e-1, dropout 0.0 with 0.6, "
            "and so on."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=FCNetObjective(
            f"FCN-INV previous ({task})", task, previous_space, fixed
        ),
        current_objective=InvertedObjective(
            f"FCN-INV current ({task})",
            current_space,
            FCNetObjective(f"FCN-INV current ({task})", task, current_space, fixed),
            reversed_choices,
        ),
        previous_fixed={},
        current_fixed={},
    )


@register("XGB-INV", XGB_TASKS, trained=True, suite=SUITE)
def xgb_inv(task: str, live: bool = False) -> Benchmark:
    """XGB-INV: subsample and eta read as regularisation strengths.

    Both versions: search space nrounds (integer 1..5000), eta (float
    2^-10..1, log), subsample (float 0..1), lambda and alpha (floats
    2^-10..2^10, log); booster gbtree and the tree values of XGB-A's previous
    version (1, 1, 6, 1) hard-coded.

    Current version: the code turned the two step-size hyperparameters into
    "larger means more regularisation": it keeps the share 1 - subsample of
    the training rows and trains with the learning rate 2^-10 / eta (eta
    mirrored on its log range). Nothing is added, removed or hard-coded
    differently.

    Data, objective and surrogate are those of XGB-A and XGB-B.

    Args:
        task: One of the XGB tasks, e.g. "breast_cancer".
        live: Train models for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = ConfigurationSpace(name="XGB-INV previous")
    previous_space.add(_base_hyperparameters())
    current_space = ConfigurationSpace(name="XGB-INV current")
    current_space.add(_base_hyperparameters())
    fixed = {"booster": "gbtree", **PREVIOUS_TREE_VALUES}
    # The ranges of subsample and eta in ``_base_hyperparameters``.
    transforms = {
        "subsample": Mirrored(0.0, 1.0),
        "eta": Mirrored(2.0**-10, 1.0, log=True),
    }
    return Benchmark(
        name="XGB-INV",
        task=task,
        description=(
            "Search space unchanged (gbtree; tree values 1, 1, 6, 1). The current "
            "code reads subsample and eta as regularisation strengths: it keeps "
            "1 - subsample of the rows and trains with the learning rate "
            "2^-10 / eta (eta mirrored on its log range)."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=_xgb_objective(
            "previous", task, previous_space, fixed, live
        ),
        current_objective=InvertedObjective(
            f"XGB-INV current ({task})",
            current_space,
            _xgb_objective("current", task, current_space, fixed, live),
            transforms,
        ),
        previous_fixed={},
        current_fixed={},
        source="live" if live else "surrogate",
    )


def _xgb_objective(
    version: str,
    task: str,
    space: ConfigurationSpace,
    fixed: Mapping[str, Any],
    live: bool,
) -> Any:
    return trained_objective(
        XGBObjective, "xgb", f"XGB-INV {version}", task, space, fixed, live
    )
