"""The ridge-quadratic family: L-smooth functions ``1/2 w^T A w + b^T w + sum_k c_k psi(r_k^T w + s_k)``
and gradient descent / minibatch SGD on them.

Instance classes ``smooth``, ``smooth_finite_sum`` and ``diagonal_bound``; dynamics ``gd`` and
``sgd``.  Generators draw the constant first and build the instance to have it (spectrum in
[-L, L] by construction), never by filtering; the membership check certifies the constant from
the arrays alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import kernels
import numpy as np
from kernels import Ridge, RidgeQuadratic

from ..api import (
    PATTERNS,
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    ParameterDomain,
    Run,
    RunRequest,
    Setting,
    haar_orthogonal,
    observables,
)
from .exact_members import diagonal_member_exact, smooth_member_exact
from .ridge_shrink import exact_gd, shrink_ridge

__all__ = [
    "CLASSES",
    "DYNAMICS",
    "RidgeRun",
    "make_run",
    "PER_STEP",
    "TRAJECTORY",
    "SCALE_OF",
    "smoothness_certificate",
    "safe_constants",
    "diagonal_bound",
    "encode_ridge",
    "decode_ridge",
]


def _spectrum(rng: np.random.Generator, n: int, d: int, L: np.ndarray, pattern: str) -> np.ndarray:
    Lc = L[:, None]
    lam = rng.uniform(-1.0, 1.0, (n, d)) * Lc
    if pattern == "identity":
        lam = np.broadcast_to(Lc, (n, d)).copy()
    elif pattern == "top":
        lam[:, 0] = L
    elif pattern == "convex":
        lam = np.abs(lam)
        lam[:, 0] = L
    elif pattern == "plus_minus":
        lam = np.where(rng.random((n, d)) < 0.5, -1.0, 1.0) * Lc
    elif pattern == "bottom":
        lam[:, 0] = -L
    elif pattern == "clustered":
        lam = Lc * (1.0 - 0.05 * rng.random((n, d)))
    elif pattern == "small":
        lam = lam / 10.0
        lam[:, 0] = L
    return lam


def _symmetric(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    n, d = lam.shape
    q = haar_orthogonal(rng, n, d)
    a = np.einsum("nij,nj,nkj->nik", q, lam, q)
    return 0.5 * (a + np.swapaxes(a, 1, 2))


def _common(rng: np.random.Generator, n: int, k: Knobs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    L = np.full(n, 10.0 ** k.log_scale)
    w0 = rng.standard_normal((n, k.dim)) * 10.0 ** k.log_w0
    b_scale = 10.0 ** rng.uniform(-1.0, 1.0, n)[:, None] * (rng.random((n, 1)) < 0.8)
    b = rng.standard_normal((n, k.dim)) * b_scale
    return L, w0, b


def _quadratic(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    L, w0, b = _common(rng, n, k)
    A = _symmetric(rng, _spectrum(rng, n, k.dim, L, PATTERNS[k.pattern % len(PATTERNS)]))
    problem = RidgeQuadratic.quadratic(A, b)
    return InstanceBatch("quadratic", problem, w0, _attrs(problem, L))


def _logcosh_ridges(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    L, w0, b = _common(rng, n, k)
    d = k.dim
    m = 1 + int(rng.integers(0, 2 * d))
    R = rng.standard_normal((n, m, d)) / np.sqrt(d)
    c = rng.exponential(1.0, (n, m))
    s = rng.standard_normal((n, m))
    # Part of the smoothness budget may go to an indefinite quadratic (pattern decides how much).
    share = (0.0, 0.5, 0.25, 0.9)[k.pattern % 4]
    A = _symmetric(rng, _spectrum(rng, n, d, L * share, PATTERNS[k.pattern % len(PATTERNS)]))
    ridge_norm = np.linalg.eigvalsh(np.einsum("nki,nk,nkj->nij", R, c, R))[:, -1]
    c = c * ((L * (1.0 - share)) / ridge_norm)[:, None]
    if share == 0.0:
        b = np.zeros_like(b)  # pure log-cosh sum: b is absorbed by the offsets
    problem = RidgeQuadratic(A, b, R, s, c, Ridge.LOGCOSH)
    return InstanceBatch("logcosh_ridges", problem, w0, _attrs(problem, L))


def _quadratic_sine(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
    L, w0, b = _common(rng, n, k)
    d = k.dim
    frac = rng.uniform(0.05, 0.95, n)
    amp = L * frac  # the sine part contributes at most amp to every Hessian eigenvalue
    A = _symmetric(rng, _spectrum(rng, n, d, L - amp, PATTERNS[k.pattern % len(PATTERNS)]))
    R = np.broadcast_to(np.eye(d), (n, d, d)).copy()
    s = rng.uniform(0.0, 2.0 * np.pi, (n, d))
    c = np.broadcast_to(amp[:, None], (n, d)).copy()
    problem = RidgeQuadratic(A, b, R, s, c, Ridge.SIN)
    return InstanceBatch("quadratic_sine", problem, w0, _attrs(problem, L))


def smoothness_certificate(problem: RidgeQuadratic) -> np.ndarray:
    """Certified upper bound on sup_w ||Hess f(w)||_2: ``||A|| + ||R^T diag(|c|) R||``, valid since
    |psi''| <= 1 for every ridge profile.  Computed from the arrays alone, independently of how a
    generator built them."""
    A = np.asarray(problem.A, dtype=np.float64)
    a_norm = np.abs(np.linalg.eigvalsh(A)).max(axis=1)
    if problem.ridges == 0:
        return a_norm
    M = np.einsum("nki,nk,nkj->nij", problem.R, np.abs(problem.c), problem.R)
    return a_norm + np.linalg.eigvalsh(M)[:, -1]


def safe_constants(problem: RidgeQuadratic, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class constants on the safe side of the stored arrays' exact spectrum: ``L`` above the
    certified smoothness and ``mu`` below lambda_min(A), each by the eigensolver's error bound
    (``c d eps ||A||``, absolute, not relative: at kappa = 1e3 a relative margin on mu would be a
    thousand times too small).  Constants stored an ulp on the wrong side make true claims whose
    bounds are hypersensitive to them (rates at kappa -> 1 over many steps) fail on instances that
    are outside the class by exactly that ulp."""
    d = problem.dim
    eps = float(np.finfo(np.float64).eps)
    lam = np.linalg.eigvalsh(np.asarray(problem.A, np.float64))
    err = 64 * d * eps * np.abs(lam).max(axis=1)
    Lc = smoothness_certificate(problem)
    return np.maximum(L, Lc + 64 * d * eps * Lc + err), lam[:, 0] - err


def _diag_estimate(problem: RidgeQuadratic) -> np.ndarray:
    """A common but understated smoothness estimate: the largest diagonal Hessian bound.
    It is never above the true constant; false theorem variants use it."""
    diag = np.abs(np.diagonal(problem.A, axis1=1, axis2=2)).max(axis=1)
    if problem.ridges == 0:
        return diag
    return diag + np.einsum("nk,nki->ni", np.abs(problem.c), problem.R**2).max(axis=1)


def _attrs(problem: RidgeQuadratic, L: np.ndarray) -> dict[str, np.ndarray]:
    """The class constants of a generated batch, L on the safe side of the stored arrays.

    The generators build every Hessian bound at most L in exact arithmetic (the spectrum drawn in
    [-L, L], the ridge weights scaled to their share), but rounding the rotation Q diag Q^T and the
    scaling can push the stored arrays' certificate a few ulps past it; an instance an ulp outside
    the class makes hypersensitive true claims fail.  So L is raised by an a-priori bound on those
    rounding errors, ``8 (d + m)^2 eps`` relative (forming a d x d product of d terms, a Q orthogonal
    to O(d eps), m ridge terms), which costs no eigensolve.  The membership check then allows no
    slack, and every confirmed counterexample is re-checked exactly
    (:func:`numeric.families.exact_members.smooth_member_exact`)."""
    eps = float(np.finfo(np.float64).eps)
    L_safe = L * (1 + 8 * (problem.dim + problem.ridges) ** 2 * eps)
    return {"L": L_safe, "Ldiag": _diag_estimate(problem), "d": np.full(L.shape, float(problem.dim))}


def _smooth_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    cert = smoothness_certificate(batch.problem)
    L = batch.attrs["L"]
    # No forgiveness: the generators store L above the certificate by the eigensolver's error
    # bound (safe_constants), and every confirmed counterexample is re-checked exactly
    # (exact_members.smooth_member_exact), so an instance whose L is below it is outside the class.
    ok = cert <= L
    reasons = [
        "" if o else f"certified smoothness {c!r} exceeds the instance's L = {l!r}"
        for o, c, l in zip(ok, cert, L)
    ]
    return ok, reasons


def encode_ridge(problem: RidgeQuadratic, i: int) -> dict[str, Any]:
    """Instance ``i`` of a ridge-quadratic batch as plain JSON data (floats round-trip exactly)."""
    return {
        "psi": problem.psi.name,
        "A": problem.A[i].tolist(),
        "b": problem.b[i].tolist(),
        "R": problem.R[i].tolist(),
        "s": problem.s[i].tolist(),
        "c": problem.c[i].tolist(),
    }


def decode_ridge(data: dict[str, Any]) -> RidgeQuadratic:
    """The single-instance problem stored by :func:`encode_ridge`."""
    d = len(data["b"])
    return RidgeQuadratic(
        A=np.asarray(data["A"], dtype=np.float64).reshape(1, d, d),
        b=np.asarray(data["b"], dtype=np.float64).reshape(1, d),
        R=np.asarray(data["R"], dtype=np.float64).reshape(1, -1, d),
        s=np.asarray(data["s"], dtype=np.float64).reshape(1, -1),
        c=np.asarray(data["c"], dtype=np.float64).reshape(1, -1),
        psi=Ridge[data["psi"]],
    )


def diagonal_bound(problem: RidgeQuadratic) -> np.ndarray:
    """The diagonal Hessian bound ``max_i (|A_ii| + sum_k |c_k| R_ki^2)`` on the safe side of its
    exact value: the float sum of ``m + 1`` nonnegative terms, each product rounded twice, is within
    ``(m + 2) eps`` relative of the exact sum, so raising it by ``(m + 4) eps`` (one more for the
    product's own rounding) puts it above (checked exactly by
    :func:`numeric.families.exact_members.diagonal_member_exact`)."""
    eps = float(np.finfo(np.float64).eps)
    return _diag_estimate(problem) * (1 + (problem.ridges + 4) * eps)


def _diagonal_family(fam: Family) -> Family:
    def generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
        b = fam.generate(rng, n, k)
        return InstanceBatch(b.family, b.problem, b.w0, {**b.attrs, "L": diagonal_bound(b.problem)})

    return Family(name=fam.name + "_diagonal", generate=generate, finite_sum=fam.finite_sum,
                  doc=fam.doc + "; L is its largest diagonal Hessian bound")


def _diagonal_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    est = diagonal_bound(batch.problem)
    L = batch.attrs["L"]
    ok = np.abs(est - L) <= 4 * np.finfo(np.float64).eps * np.abs(est)
    return ok, ["" if o else f"L = {l!r} is not the diagonal Hessian bound {e!r}" for o, l, e in zip(ok, L, est)]




_SMOOTH_FAMILIES = (
    Family(name="quadratic", generate=_quadratic, finite_sum=False,
           doc="1/2 w^T A w + b^T w, spectrum of A in [-L, L]"),
    Family(name="logcosh_ridges", generate=_logcosh_ridges, finite_sum=True,
           doc="sum of c_k log cosh(r_k^T w + s_k) plus an indefinite quadratic"),
    Family(name="quadratic_sine", generate=_quadratic_sine, finite_sum=True,
           doc="quadratic plus a bounded sine perturbation per coordinate"),
)

_RIDGE = dict(attributes=("L", "Ldiag", "d"), encode=encode_ridge, decode=decode_ridge, problem_type=RidgeQuadratic,
              shrink=shrink_ridge)

CLASSES = (
    InstanceClass(name="smooth", text="f is L-smooth: every Hessian eigenvalue lies in [-L, L]",
                  families=_SMOOTH_FAMILIES, member=_smooth_member, member_exact=smooth_member_exact, **_RIDGE),
    InstanceClass(name="smooth_finite_sum", text="f = (1/m) sum_k f_k is L-smooth (components f_k smooth)",
                  families=tuple(f for f in _SMOOTH_FAMILIES if f.finite_sum), member=_smooth_member,
                  member_exact=smooth_member_exact, **_RIDGE),
    # A relaxation of "smooth" for necessity checks: L bounds only the diagonal of the Hessian (the
    # estimate max_i |H_ii| people sometimes use), never above the true constant, often below it.
    InstanceClass(name="diagonal_bound", text="L bounds the Hessian's diagonal entries (not its spectrum)",
                  families=tuple(_diagonal_family(f) for f in _SMOOTH_FAMILIES), member=_diagonal_member,
                  member_exact=diagonal_member_exact, **_RIDGE),
)


# ------------------------------------------------------------------------------------------------
# Observables of GD / SGD runs
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RidgeRun:
    """A trajectory batch plus the rounding scales of its f values."""

    traj: kernels.Trajectory
    fabs: np.ndarray  # (n, T+1)
    efabs: np.ndarray | None  # (n, T), for the SGD expectation


def make_run(problem: kernels.RidgeQuadratic, traj: kernels.Trajectory, eta: np.ndarray) -> RidgeRun:
    """Attach rounding scales to a trajectory computed with ``keep_iterates=True``."""
    if traj.w is None:
        raise ValueError("rounding scales need the iterates (keep_iterates=True)")
    fabs = kernels.term_scale(problem, traj.w)
    efabs = None
    if traj.ef_next is not None:
        efabs = kernels.component_step_term_scale(problem, traj.w[:, :-1], np.asarray(eta).reshape(-1, 1))
    return RidgeRun(traj, fabs, efabs)


def _need(value: np.ndarray | None, name: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"observable {name!r} needs the expectation outputs of stochastic dynamics")
    return value


PER_STEP: dict[str, Callable[[RidgeRun], np.ndarray]] = {
    "f_t": lambda r: r.traj.f[:, :-1],
    "f_next": lambda r: r.traj.f[:, 1:],
    "gnorm2_t": lambda r: r.traj.gnorm2[:, :-1],
    "gnorm2_next": lambda r: r.traj.gnorm2[:, 1:],
    "ef_next": lambda r: _need(r.traj.ef_next, "ef_next"),
    "eg2_t": lambda r: _need(r.traj.eg2, "eg2_t"),
    "fabs_t": lambda r: r.fabs[:, :-1],
    "fabs_next": lambda r: r.fabs[:, 1:],
    "efabs_next": lambda r: _need(r.efabs, "efabs_next"),
}

TRAJECTORY: dict[str, Callable[[RidgeRun], np.ndarray]] = {
    "f_first": lambda r: r.traj.f[:, 0],
    "f_last": lambda r: r.traj.f[:, -1],
    "gnorm2_mean": lambda r: r.traj.gnorm2[:, :-1].mean(axis=1),
    "gnorm2_min": lambda r: r.traj.gnorm2[:, :-1].min(axis=1),
    "horizon": lambda r: np.full(r.traj.f.shape[0], r.traj.f.shape[1] - 1, dtype=r.traj.f.dtype),
    "fabs_first": lambda r: r.fabs[:, 0],
    "fabs_last": lambda r: r.fabs[:, -1],
}

# Observable -> the observable holding its rounding scale.
SCALE_OF: dict[str, str] = {
    "f_t": "fabs_t",
    "f_next": "fabs_next",
    "ef_next": "efabs_next",
    "f_first": "fabs_first",
    "f_last": "fabs_last",
}




def _run_gd(req: RunRequest) -> Run:
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    tr = kernels.gd(req.problem, req.w0, eta, req.horizon, backend=req.backend, dtype=req.dtype, keep_iterates=True)
    return Run(make_run(req.problem.astype(req.dtype), tr, eta), backend=tr.backend)


def _run_sgd(req: RunRequest) -> Run:
    eta = np.asarray(req.params["eta"], dtype=req.dtype)
    tr = kernels.sgd(req.problem, req.w0, eta, req.horizon, batch=int(req.settings["batch"]), seed=req.seed,
                     instance_ids=req.instance_ids, backend=req.backend, dtype=req.dtype, expectations=True,
                     keep_iterates=True)
    return Run(make_run(req.problem.astype(req.dtype), tr, eta), backend=tr.backend)


_GD_PER_STEP = {k: v for k, v in PER_STEP.items() if k not in ("ef_next", "eg2_t", "efabs_next")}
_ETA = ParameterDomain(name="eta", lower=0.0, lower_strict=True)

DYNAMICS = (
    Dynamics(
        name="gd", run=_run_gd,
        observables=observables(_GD_PER_STEP, TRAJECTORY, {k: v for k, v in SCALE_OF.items() if k != "ef_next"}),
        accepts=(RidgeQuadratic,), parameters=("eta",), domain=(_ETA,), exact=exact_gd,
        doc="gradient descent w_{t+1} = w_t - eta grad f(w_t)",
    ),
    Dynamics(
        name="sgd", run=_run_sgd, observables=observables(PER_STEP, TRAJECTORY, SCALE_OF),
        accepts=(RidgeQuadratic,), parameters=("eta",), domain=(_ETA,),
        settings=(Setting(name="batch", default=1, doc="minibatch size (components drawn per step)"),),
        doc="minibatch SGD with counter-based sampling; exact expectations over a single-component step",
    ),
)
