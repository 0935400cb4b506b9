"""Hold-out benchmarks: kinds of adjustment that the paper's eight do not make.

``auto`` was designed and tuned on the paper, chain and inverted suites. These
four benchmarks were added after that design was frozen, to check it on
adjustments it never saw, one per base:

- FCN-HO: the same model and search space on new data (another FCNet task);
- NAS-HO: an operation removed from every edge's choices;
- SVM-HO: a kernel removed from the choices (its conditional hyperparameter
  goes with it) and the range of C narrowed;
- XGB-HO: two ranges narrowed and a hyperparameter removed (fixed to a value
  it could take before).

Removed choices and narrowed ranges make projection drop the previous trials
that used them, often the best ones.
"""

from __future__ import annotations

from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Integer

from hptaa_lab.benchmarks._base import Benchmark, register
from hptaa_lab.benchmarks._fcnet import ALL_BUT_SCHEDULE, FCNetObjective
from hptaa_lab.benchmarks._fcnet import TASKS as FCNET_TASKS
from hptaa_lab.benchmarks._fcnet import _space as fcnet_space
from hptaa_lab.benchmarks._nasbench import EDGES, OPERATIONS, NASBench201Objective
from hptaa_lab.benchmarks._nasbench import TASKS as NAS_TASKS
from hptaa_lab.benchmarks._nasbench import _space as nas_space
from hptaa_lab.benchmarks._surrogate import trained_objective
from hptaa_lab.benchmarks._svm import TASKS as SVM_TASKS
from hptaa_lab.benchmarks._svm import SVMObjective, _cost, _degree, _gamma
from hptaa_lab.benchmarks._xgb import TASKS as XGB_TASKS
from hptaa_lab.benchmarks._xgb import (
    XGBObjective,
    _base_hyperparameters,
    _tree_hyperparameters,
)

__all__: list[str] = []

SUITE = "holdout"

XGB_HO_SUBSAMPLE = 0.8
"""The value XGB-HO's current version fixes subsample to."""


def fcn_ho_previous_task(task: str) -> str:
    """The FCNet task whose data FCN-HO's previous version was tuned on: the
    next one in ``TASKS``, round the end."""
    return FCNET_TASKS[(FCNET_TASKS.index(task) + 1) % len(FCNET_TASKS)]


@register("FCN-HO", FCNET_TASKS, suite=SUITE)
def fcn_ho(task: str) -> Benchmark:
    """FCN-HO: the same MLP moved to new data.

    Both versions: search space activation_fn_1, activation_fn_2 (relu, tanh),
    batch_size (8, 16, 32, 64), dropout_1, dropout_2 (0.0, 0.3, 0.6), init_lr
    (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1), n_units_1, n_units_2 (16 .. 512);
    hard-coded lr_schedule = "cosine".

    Previous version: trained on the data of another FCNet task (the next in
    ``TASKS``: naval_propulsion -> parkinsons_telemonitoring -> protein_structure
    -> slice_localization -> naval_propulsion). Current version: trained on
    ``task``. Code and search space are unchanged.

    Args:
        task: One of the FCNet tasks, e.g. "naval_propulsion".

    Returns:
        The benchmark.
    """
    fixed = {"lr_schedule": "cosine"}
    source = fcn_ho_previous_task(task)
    previous_space = fcnet_space("FCN-HO previous", list(ALL_BUT_SCHEDULE))
    current_space = fcnet_space("FCN-HO current", list(ALL_BUT_SCHEDULE))
    return Benchmark(
        name="FCN-HO",
        task=task,
        description=(
            "Search space and code unchanged (lr_schedule cosine); the previous "
            "version was tuned on the data of the next FCNet task (naval -> "
            "parkinsons -> protein -> slice -> naval), the current one trains on "
            f"the task itself (here: {source} -> {task})."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=FCNetObjective(
            f"FCN-HO previous ({source})", source, previous_space, fixed
        ),
        current_objective=FCNetObjective(
            f"FCN-HO current ({task})", task, current_space, fixed
        ),
        previous_fixed={},
        current_fixed={},
    )


@register("NAS-HO", NAS_TASKS, suite=SUITE)
def nas_ho(task: str) -> Benchmark:
    """NAS-HO: the 3x3 average pooling removed from every edge's choices.

    Previous version: Op0..Op5 (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), each
    categorical over none, skip_connect, nor_conv_1x1, nor_conv_3x3,
    avg_pool_3x3.

    Current version: Op0..Op5 over none, skip_connect, nor_conv_1x1,
    nor_conv_3x3. Previous cells with a pooling on any edge cannot be projected.
    Nothing is added or hard-coded.

    Args:
        task: One of "cifar10", "cifar100", "imagenet" (ImageNet16-120).

    Returns:
        The benchmark.
    """
    current_choices = tuple(op for op in OPERATIONS if op != "avg_pool_3x3")
    previous_space = nas_space("NAS-HO previous", list(EDGES), OPERATIONS)
    current_space = nas_space("NAS-HO current", list(EDGES), current_choices)
    return Benchmark(
        name="NAS-HO",
        task=task,
        description="avg_pool_3x3 removed from the operation choices of every edge.",
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=NASBench201Objective(
            f"NAS-HO previous ({task})", task, previous_space, {}
        ),
        current_objective=NASBench201Objective(
            f"NAS-HO current ({task})", task, current_space, {}
        ),
        previous_fixed={},
        current_fixed={},
    )


@register("SVM-HO", SVM_TASKS, trained=True, suite=SUITE)
def svm_ho(task: str, live: bool = False) -> Benchmark:
    """SVM-HO: the polynomial kernel dropped and the range of C narrowed.

    Previous version (SVM-B's current one): kernel (linear, poly, rbf; default
    rbf), C (float in [2^-10, 2^10], log), gamma (float in [2^-10, 2^10], log;
    active for rbf), degree (integer 2..5; active for poly).

    Current version: kernel (linear, rbf), C in [2^-5, 2^10] (log), gamma as
    before (active for rbf); degree is gone with the polynomial kernel. Previous
    trials with the polynomial kernel or C below 2^-5 cannot be projected.

    Data and surrogate are those of SVM-A and SVM-B.

    Args:
        task: One of the SVM tasks, e.g. "digits".
        live: Train SVC for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = ConfigurationSpace(name="SVM-HO previous")
    kernel = Categorical("kernel", ("linear", "poly", "rbf"), default="rbf")
    gamma, degree = _gamma(), _degree()
    previous_space.add([kernel, _cost(-10, 10), gamma, degree])
    previous_space.add(
        [EqualsCondition(gamma, kernel, "rbf"), EqualsCondition(degree, kernel, "poly")]
    )
    current_space = ConfigurationSpace(name="SVM-HO current")
    kernel = Categorical("kernel", ("linear", "rbf"), default="rbf")
    gamma = _gamma()
    current_space.add([kernel, _cost(-5, 10), gamma])
    current_space.add(EqualsCondition(gamma, kernel, "rbf"))
    return Benchmark(
        name="SVM-HO",
        task=task,
        description=(
            "The poly kernel removed from the kernel choices (degree goes with "
            "it); C narrowed from [2^-10, 2^10] to [2^-5, 2^10] (log)."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=trained_objective(
            SVMObjective, "svm", "SVM-HO previous", task, previous_space, {}, live
        ),
        current_objective=trained_objective(
            SVMObjective, "svm", "SVM-HO current", task, current_space, {}, live
        ),
        previous_fixed={},
        current_fixed={},
        source="live" if live else "surrogate",
    )


@register("XGB-HO", XGB_TASKS, trained=True, suite=SUITE)
def xgb_ho(task: str, live: bool = False) -> Benchmark:
    """XGB-HO: rounds and depth narrowed, subsample removed.

    Previous version (XGB-A's current one): nrounds (integer 1..5000), eta
    (float 2^-10..1, log), subsample (float 0..1), lambda and alpha (floats
    2^-10..2^10, log), colsample_bytree, colsample_bylevel (floats 0..1),
    max_depth (integer 1..15), min_child_weight (float 1..2^7, log); booster
    gbtree hard-coded.

    Current version: nrounds 1..1000 and max_depth 2..10, subsample removed and
    fixed to 0.8 (``current_fixed``); the rest as before. Previous trials with
    more than 1000 rounds or a depth outside 2..10 cannot be projected.

    Data, objective and surrogate are those of XGB-A and XGB-B.

    Args:
        task: One of the XGB tasks, e.g. "breast_cancer".
        live: Train models for real instead of querying the surrogate.

    Returns:
        The benchmark.
    """
    previous_space = ConfigurationSpace(name="XGB-HO previous")
    previous_space.add([*_base_hyperparameters(), *_tree_hyperparameters()])
    narrowed = {
        "nrounds": Integer("nrounds", (1, 1000), default=100),
        "max_depth": Integer("max_depth", (2, 10), default=6),
    }
    current_space = ConfigurationSpace(name="XGB-HO current")
    current_space.add(
        [
            narrowed.get(hp.name, hp)
            for hp in [*_base_hyperparameters(), *_tree_hyperparameters()]
            if hp.name != "subsample"
        ]
    )
    booster = {"booster": "gbtree"}
    return Benchmark(
        name="XGB-HO",
        task=task,
        description=(
            "nrounds narrowed from 1..5000 to 1..1000 and max_depth from 1..15 to "
            f"2..10; subsample removed and fixed to {XGB_HO_SUBSAMPLE}. Booster "
            "gbtree in both versions."
        ),
        previous_space=previous_space,
        current_space=current_space,
        previous_objective=trained_objective(
            XGBObjective, "xgb", "XGB-HO previous", task, previous_space, booster, live
        ),
        current_objective=trained_objective(
            XGBObjective,
            "xgb",
            "XGB-HO current",
            task,
            current_space,
            {**booster, "subsample": XGB_HO_SUBSAMPLE},
            live,
        ),
        previous_fixed={},
        current_fixed={"subsample": XGB_HO_SUBSAMPLE},
        source="live" if live else "surrogate",
    )
