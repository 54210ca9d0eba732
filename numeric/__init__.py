"""Numeric stage: instance families, observables, claim evaluation and counterexample search.

Receives compiled callables from ``symbolic`` (never imports SymPy) and runs dynamics through
``kernels``.
"""

from .budget import BUDGETS, Budget, budget
from .evaluate import CompiledClaim, Evaluation, evaluate
from .families import CLASSES, PATTERNS, InstanceBatch, InstanceClass, Knobs, smoothness_certificate
from .dynamics import DYNAMICS, DynamicsSpec, register
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
