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
from . import scale_invariant_nets as _scale_invariant_nets  # noqa: F401 - family 6: LayerNorm networks (Lemma 13.2.2)
from . import pl as _pl  # noqa: F401 - registers the PL family classes and the gd_pl adapter
from . import cp as _cp  # noqa: F401 - CP family: function classes, cube networks, noisy population GD
from . import pl_networks as _pl_networks  # noqa: F401 - PL family on networks: os_network, rsi_leaky_glm, gd_net
from . import pwq as _pwq  # noqa: F401 - worst-case class: 1-D piecewise-quadratic C^{1,1}, gd_pwq adapter
from . import escape as _escape  # noqa: F401 - family 5: strict-saddle classes, GD/coupled/PGD adapters
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
