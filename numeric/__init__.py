"""Numeric stage: instance families, observables, claim evaluation and counterexample search.

Receives compiled callables from ``symbolic`` (never imports SymPy) and runs dynamics through
``kernels``.
"""

from .budget import BUDGETS, Budget, budget
from .evaluate import CompiledClaim, Evaluation, evaluate
from .families import CLASSES, PATTERNS, InstanceBatch, InstanceClass, Knobs, smoothness_certificate
from .dynamics import DYNAMICS, DynamicsSpec, register
from . import schur as _schur  # noqa: F401 - registers the Schur family classes and adapters
from . import scale_invariant as _scale_invariant  # noqa: F401 - family 6: Rayleigh-quotient class, GD+WD adapters
from . import pl as _pl  # noqa: F401 - registers the PL family classes and the gd_pl adapter
from .observables import PER_STEP, SCALE_SUFFIX, TRAJECTORY, Run
from .search import (
    AssumptionCheck,
    ClaimOutcome,
    Experiment,
    Found,
    ParameterSpec,
    replay,
    run_experiment,
)

__all__ = [
    "BUDGETS", "Budget", "budget", "CompiledClaim", "Evaluation", "evaluate", "CLASSES", "PATTERNS",
    "InstanceBatch", "InstanceClass", "Knobs", "smoothness_certificate", "PER_STEP", "TRAJECTORY",
    "AssumptionCheck", "ClaimOutcome", "Experiment", "Found", "ParameterSpec",
    "replay", "run_experiment", "DYNAMICS", "DynamicsSpec", "register", "SCALE_SUFFIX", "Run",
]
