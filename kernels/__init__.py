"""Batched optimisation dynamics on problem arrays, with interchangeable backends.

The front door: it re-exports the public names of the kernel families, one package each, with its
implementations side by side (``reference.py`` NumPy, ``numba.py``, ``cupy.py``):

* :mod:`kernels.ridge` -- :func:`gd` / :func:`sgd` on ridge quadratics (:class:`RidgeQuadratic`);
* :mod:`kernels.escape` -- plain, perturbed and coupled GD at strict saddles;
* :mod:`kernels.cp` -- DAG networks on the Boolean cube, noisy population GD, cross-predictability;
* :mod:`kernels.scale_invariant`, :mod:`kernels.layernorm` -- scale-invariant losses and networks;
* :mod:`kernels.pl`, :mod:`kernels.pl_networks` -- the PL family (quartic-Huber, one-hidden-layer nets);
* :mod:`kernels.pwq` -- 1-D piecewise-quadratic functions (:func:`gd_pwq`);
* :mod:`kernels.matrices` -- batched eigenvalues and Jacobian Gram matrices (Schur family).

:mod:`kernels.backend` holds the one backend policy and the kernel registry: every entry point asks
:func:`kernels.backend.select` for its backend (``"auto"`` -> numba when it can run and computes in
the dtype, else numpy; CuPy only when named; a backend named explicitly that cannot run raises
:class:`BackendUnavailable`, never a fallback) and every result records the backend that ran.
:mod:`kernels.rng` is the counter-based generator all backends share.

Importing this package is cheap: it imports NumPy only.  numba and CuPy are imported when their
backend is first selected.
"""

from __future__ import annotations

from . import backend, rng
from .backend import BACKENDS, BackendUnavailable, available_backends, resolve_backend
from .ridge import ProblemError, Ridge, RidgeQuadratic, Trajectory, component_step_term_scale, gd, sgd, term_scale
from . import matrices  # Schur family: Hadamard products, batched eigenvalues
from . import scale_invariant  # family 6: GD + weight decay and the exponential-LR protocol on Rayleigh quotients
from . import layernorm  # family 6: LayerNorm + ReLU networks compiled from a DAG of layers (Lemma 13.2.2)
from . import pl, pl_networks  # noqa: F401 - PL family
from .pl import gd_quartic_huber  # noqa: F401 - PL family: GD on the quartic-Huber function
from .pl_networks import gd_net  # noqa: F401 - PL family: GD on one-hidden-layer networks
from . import cp  # noqa: F401 - CP family: DAG networks on {+-1}^n, noisy population GD
from . import escape  # noqa: F401 - family 5: perturbed GD and coupled GD pairs at strict saddles
from . import pwq  # noqa: F401 - worst-case class
from .pwq import PiecewiseQuadratic, gd_pwq  # noqa: F401 - worst-case class: 1-D piecewise-quadratic C^{1,1}

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "PiecewiseQuadratic",
    "ProblemError",
    "Ridge",
    "RidgeQuadratic",
    "Trajectory",
    "available_backends",
    "backend",
    "component_step_term_scale",
    "gd",
    "gd_net",
    "gd_pwq",
    "gd_quartic_huber",
    "resolve_backend",
    "rng",
    "sgd",
    "term_scale",
]
