"""Chain benchmarks: three versions of one tuning problem, two adjustments in a row.

Each chain composes two adjustments of one base, as a developer makes them one
after the other: v1 -> v2 -> v3. The benchmark's previous version is v2, its
current version v3, and v1 is its one ancestor (``Benchmark.ancestors``). The
protocol tunes v1 and v2 with plain TPE, then every method on v3; transfer
methods get the v2 trials with the v1 trials as their ancestor.
"""

from __future__ import annotations

from typing import Any

from ConfigSpace import ConfigurationSpace, Float, Integer

from hptaa_lab.benchmarks._base import Benchmark, Version, register
from hptaa_lab.benchmarks._fcnet import TASKS as FCNET_TASKS
from hptaa_lab.benchmarks._fcnet import FCNetObjective
from hptaa_lab.benchmarks._fcnet import _space as fcnet_space
from hptaa_lab.benchmarks._nasbench import EDGES, OPERATIONS, NASBench201Objective
from hptaa_lab.benchmarks._nasbench import TASKS as NAS_TASKS
from hptaa_lab.benchmarks._nasbench import _space as nas_space
from hptaa_lab.benchmarks._surrogate import trained_objective
from hptaa_lab.benchmarks._svm import TASKS as SVM_TASKS
from hptaa_lab.benchmarks._svm import SVMObjective, _cost, _gamma
from hptaa_lab.benchmarks._svm import _kernel_space as svm_kernel_space
from hptaa_lab.benchmarks._xgb import (
    PREVIOUS_TREE_VALUES,
    XGB_B_CURRENT_TREE_VALUES,
    XGBObjective,
    _base_hyperparameters,
    _booster_space,
)
from hptaa_lab.benchmarks._xgb import TASKS as XGB_TASKS

SUITE = "chain"


@register("NAS-CHAIN", NAS_TASKS, suite=SUITE)
def nas_chain(task: str) -> Benchmark:
    """NAS-CHAIN: node 1 added to a 4-operation cell, then nor_conv_1x1 added.

    NAS-B followed by NAS-A.

    v1: Op1 (2<-0), Op3 (3<-0), Op5 (3<-2), each categorical over none,
    skip_connect, nor_conv_3x3, avg_pool_3x3; Op0 (1<-0), Op2 (2<-1) and Op4
    (3<-1) hard-coded to "none", so node 1 is cut off.

    v2 (previous): Op0..Op5 over the same four operations; the three edges of
    node 1 default to "none", their v1 value.

    v3 (current): Op0..Op5 over all five operations (nor_conv_1x1 added).

    Args:
        task: One of "cifar10", "cifar100", "imagenet" (ImageNet16-120).

    Returns:
        The benchmark.
    """
    four = tuple(op for op in OPERATIONS if op != "nor_conv_1x1")
    node_1 = {"Op0": "none", "Op2": "none", "Op4": "none"}
    v1_space = nas_space("NAS-CHAIN v1", ["Op1", "Op3", "Op5"], four)
    v2_space = nas_space("NAS-CHAIN v2", list(EDGES), four)
    v3_space = nas_space("NAS-CHAIN v3", list(EDGES), OPERATIONS)
    v1 = Version(
        name="v1",
        description=(
            "Node 1 added to the cell: edges Op0 (1<-0), Op2 (2<-1) and Op4 "
            "(3<-1), hard-coded to none in v1, become hyperparameters."
        ),
        space=v1_space,
        objective=NASBench201Objective(
            f"NAS-CHAIN v1 ({task})", task, v1_space, node_1
        ),
        previous_fixed=dict(node_1),
        current_fixed={},
    )
    return Benchmark(
        name="NAS-CHAIN",
        task=task,
        description=(
            "v1 -> v2: node 1 added to a cell of four operations (none, "
            "skip_connect, nor_conv_3x3, avg_pool_3x3): edges Op0, Op2, Op4, "
            "hard-coded to none in v1, become hyperparameters. v2 -> v3: "
            "nor_conv_1x1 added to the operation choices of every edge."
        ),
        previous_space=v2_space,
        current_space=v3_space,
        previous_objective=NASBench201Objective(
            f"NAS-CHAIN v2 ({task})", task, v2_space, {}
        ),
        current_objective=NASBench201Objective(
            f"NAS-CHAIN v3 ({task})", task, v3_space, {}
        ),
        previous_fixed={},
        current_fixed={},
        ancestors=(v1,),
    )


@register("FCN-CHAIN", FCNET_TASKS, suite=SUITE)
def fcn_chain(task: str) -> Benchmark:
    """FCN-CHAIN: activations exposed, then the batch size fixed and the
    learning-rate schedule exposed.

    v1: search space batch_size (8, 16, 32, 64), dropout_1, dropout_2 (0.0, 0.3,
    0.6), init_lr (5e-4 .. 1e-1), n_units_1, n_units_2 (16 .. 512); hard-coded
    activation_fn_1 = activation_fn_2 = "tanh" and lr_schedule = "const" (the
    previous version of FCN-B).

    v2 (previous): activation_fn_1 and activation_fn_2 (relu, tanh; default
    tanh, their v1 value) added; lr_schedule hard-coded to "cosine" (the
    current version of FCN-B).

    v3 (current): batch_size removed and fixed to 16 (``current_fixed``);
    lr_schedule added (cosine, const; default cosine, its v2 value, listed in
    ``previous_fixed``).

    Args:
        task: One of the FCNet tasks, e.g. "naval_propulsion".

    Returns:
        The benchmark.
    """
    shared = ["dropout_1", "dropout_2", "init_lr", "n_units_1", "n_units_2"]
    activations = {"activation_fn_1": "tanh", "activation_fn_2": "tanh"}
    schedule = {"lr_schedule": "cosine"}
    v1_space = fcnet_space("FCN-CHAIN v1", ["batch_size", *shared])
    v2_space = fcnet_space(
        "FCN-CHAIN v2", [*activations, "batch_size", *shared], defaults=activations
    )
    v3_space = fcnet_space(
        "FCN-CHAIN v3",
        [*activations, *shared, "lr_schedule"],
        defaults={**activations, **schedule},
    )
    v1 = Version(
        name="v1",
        description=(
            "activation_fn_1 and activation_fn_2 added to the search space (both "
            "hard-coded to tanh in v1); the hard-coded learning-rate schedule "
            "changes from const to cosine."
        ),
        space=v1_space,
        objective=FCNetObjective(
            f"FCN-CHAIN v1 ({task})",
            task,
            v1_space,
            {**activations, "lr_schedule": "const"},
        ),
        previous_fixed=dict(activations),
        current_fixed={},
    )
    return Benchmark(
        name="FCN-CHAIN",
        task=task,
        description=(
            "v1 -> v2: activation_fn_1 and activation_fn_2 added (hard-coded to "
            "tanh in v1); the hard-coded schedule changes from const to cosine. "
            "v2 -> v3: batch_size removed and fixed to 16; lr_schedule added "
            "(cosine or const; v2 hard-coded cosine)."
        ),
        previous_space=v2_space,
        current_space=v3_space,
        previous_objective=FCNetObjective(
            f"FCN-CHAIN v2 ({task})", task, v2_space, schedule
        ),
        current_objective=FCNetObjective(
            f"FCN-CHAIN v3 ({task})", task, v3_space, {"batch_size": 16}
        ),
        previous_fixed=dict(schedule),
        current_fixed={"batch_size": 16},
        ancestors=(v1,),
    )


@register("SVM-CHAIN", SVM_TASKS, trained=True, suite=SUITE)
def svm_chain(task: str, live: bool = False) -> Benchmark:
    """SVM-CHAIN: the range of C widened, then the kernel exposed.

    v1: hard-coded kernel "rbf"; search space C (float in [2^-5, 2^5], log)
    and gamma (float in [2^-10, 2^10], log).

    v2 (previous): C in [2^-10, 2^10] (log); nothing added or removed.

    v3 (current): kernel added (linear, poly, rbf; default rbf, its v2 value,
    listed in ``previous_fixed``); gamma active only for rbf, degree (2..5)
    only for poly, whose gamma is "scale" and coef0 0: the current version
    of SVM-B.

    Data and surrogate are those of SVM-A and SVM-B.

    Args:
        task: One of the SVM tasks, e.g. "digits".
        live: Train SVC for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    v1_space = ConfigurationSpace(name="SVM-CHAIN v1")
    v1_space.add([_cost(-5, 5), _gamma()])
    v2_space = ConfigurationSpace(name="SVM-CHAIN v2")
    v2_space.add([_cost(-10, 10), _gamma()])
    v3_space = svm_kernel_space("SVM-CHAIN v3", _cost(-10, 10))
    rbf = {"kernel": "rbf"}
    v1 = Version(
        name="v1",
        description="Range of C widened from [2^-5, 2^5] to [2^-10, 2^10] (log).",
        space=v1_space,
        objective=_svm_objective("v1", task, v1_space, rbf, live),
        previous_fixed={},
        current_fixed={},
    )
    return Benchmark(
        name="SVM-CHAIN",
        task=task,
        description=(
            "v1 -> v2: range of C widened from [2^-5, 2^5] to [2^-10, 2^10] "
            "(log), kernel rbf hard-coded. v2 -> v3: kernel added (linear, poly, "
            "rbf; v2 hard-coded rbf), gamma active for rbf and degree (2..5) for "
            "poly."
        ),
        previous_space=v2_space,
        current_space=v3_space,
        previous_objective=_svm_objective("v2", task, v2_space, rbf, live),
        current_objective=_svm_objective("v3", task, v3_space, {}, live),
        previous_fixed=dict(rbf),
        current_fixed={},
        source="live" if live else "surrogate",
        ancestors=(v1,),
    )


@register("XGB-CHAIN", XGB_TASKS, trained=True, suite=SUITE)
def xgb_chain(task: str, live: bool = False) -> Benchmark:
    """XGB-CHAIN: hidden tree values change, then gbtree only with the tree
    hyperparameters exposed.

    XGB-B followed by an XGB-A-like adjustment.

    v1: search space booster (gblinear, gbtree), nrounds, eta, subsample,
    lambda, alpha (as in XGB-B); hard-coded colsample_bytree 1,
    colsample_bylevel 1, max_depth 6, min_child_weight 1.

    v2 (previous): the same search space; hard-coded tree values 1, 0.5, 10,
    10 (the current version of XGB-B).

    v3 (current): booster removed and fixed to gbtree (``current_fixed``);
    colsample_bytree, colsample_bylevel (0..1), max_depth (1..15) and
    min_child_weight (1..2^7, log) added, defaulting to their v2 values
    (``previous_fixed``).

    Data, objective and surrogate are those of XGB-A and XGB-B.

    Args:
        task: One of the XGB tasks, e.g. "breast_cancer".
        live: Train models for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    v1_space = _booster_space("XGB-CHAIN v1")
    v2_space = _booster_space("XGB-CHAIN v2")
    v3_space = ConfigurationSpace(name="XGB-CHAIN v3")
    v3_space.add([*_base_hyperparameters(), *_tree_hyperparameters()])
    v1 = Version(
        name="v1",
        description=(
            "Search space unchanged; the hard-coded colsample_bylevel 1 -> 0.5, "
            "max_depth 6 -> 10, min_child_weight 1 -> 10."
        ),
        space=v1_space,
        objective=_xgb_objective("v1", task, v1_space, PREVIOUS_TREE_VALUES, live),
        previous_fixed={},
        current_fixed={},
    )
    return Benchmark(
        name="XGB-CHAIN",
        task=task,
        description=(
            "v1 -> v2: hard-coded colsample_bylevel 1 -> 0.5, max_depth 6 -> 10, "
            "min_child_weight 1 -> 10 (booster gblinear or gbtree). v2 -> v3: "
            "booster removed and fixed to gbtree; colsample_bytree, "
            "colsample_bylevel, max_depth (1..15) and min_child_weight (1..2^7, "
            "log) added (v2 hard-coded 1, 0.5, 10, 10)."
        ),
        previous_space=v2_space,
        current_space=v3_space,
        previous_objective=_xgb_objective(
            "v2", task, v2_space, XGB_B_CURRENT_TREE_VALUES, live
        ),
        current_objective=_xgb_objective(
            "v3", task, v3_space, {"booster": "gbtree"}, live
        ),
        previous_fixed=dict(XGB_B_CURRENT_TREE_VALUES),
        current_fixed={"booster": "gbtree"},
        source="live" if live else "surrogate",
        ancestors=(v1,),
    )


def _tree_hyperparameters() -> list[Any]:
    """XGB-A's tree hyperparameters, defaulting to XGB-B's current values."""
    values = XGB_B_CURRENT_TREE_VALUES
    return [
        Float("colsample_bytree", (0.0, 1.0), default=values["colsample_bytree"]),
        Float("colsample_bylevel", (0.0, 1.0), default=values["colsample_bylevel"]),
        Integer("max_depth", (1, 15), default=values["max_depth"]),
        Float(
            "min_child_weight",
            (1.0, 2.0**7),
            log=True,
            default=values["min_child_weight"],
        ),
    ]


def _svm_objective(
    version: str,
    task: str,
    space: ConfigurationSpace,
    fixed: dict[str, Any],
    live: bool,
) -> Any:
    return trained_objective(
        SVMObjective, "svm", f"SVM-CHAIN {version}", task, space, fixed, live
    )


def _xgb_objective(
    version: str,
    task: str,
    space: ConfigurationSpace,
    fixed: dict[str, Any],
    live: bool,
) -> Any:
    return trained_objective(
        XGBObjective, "xgb", f"XGB-CHAIN {version}", task, space, fixed, live
    )
