"""Numeric stage: instance classes, dynamics, claim evaluation and the counterexample search.

Receives compiled callables from ``symbolic`` (never imports SymPy) and runs dynamics through
``kernels``.  The public surface:

* the extension contracts (:mod:`numeric.api`): :class:`InstanceClass`, :class:`Family`,
  :class:`Dynamics`, :class:`Observable`, :class:`RunRequest`, :class:`Run`, ...;
* the registries (:mod:`numeric.registry`): :data:`CLASSES`, :data:`DYNAMICS`,
  :func:`register_class`, :func:`register_dynamics`, :func:`load_plugins`;
* the engine (:mod:`numeric.engine`): budgets, claim evaluation, search, confirmation, replay.

The built-in families live in :mod:`numeric.families` and register through the same entry points
as any plugin.
"""

from .api import (
    PATTERNS,
    SCALE_SUFFIX,
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Observable,
    ParameterDomain,
    Parametrisation,
    Problem,
    Run,
    RunRequest,
    Setting,
    combine_checks,
    haar_orthogonal,
    observables,
)
from .engine.budget import BUDGETS, Budget, budget
from .engine.evaluate import CompiledClaim, Evaluation, evaluate
from .engine.experiment import AssumptionCheck, ClaimOutcome, DerivedValue, Experiment, Found, ParameterSpec
from .engine.run import replay, run_experiment
from .engine.search import Replayed, replay_found
from .registry import (
    CLASSES,
    DYNAMICS,
    get_class,
    get_dynamics,
    load_plugins,
    plugin_problems,
    register_class,
    register_dynamics,
)

__all__ = [
    "PATTERNS", "SCALE_SUFFIX", "Dynamics", "Family", "InstanceBatch", "InstanceClass", "Knobs", "Observable",
    "ParameterDomain", "Parametrisation", "Problem", "Run", "RunRequest", "Setting", "combine_checks",
    "haar_orthogonal", "observables",
    "BUDGETS", "Budget", "budget", "CompiledClaim", "Evaluation", "evaluate",
    "AssumptionCheck", "DerivedValue", "ClaimOutcome", "Experiment", "Found", "ParameterSpec", "Replayed", "replay", "replay_found",
    "run_experiment",
    "CLASSES", "DYNAMICS", "get_class", "get_dynamics", "load_plugins", "plugin_problems", "register_class",
    "register_dynamics",
]
