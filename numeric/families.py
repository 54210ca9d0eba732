"""Instance families with exactly known (or certified) constants, and their membership checks.

An *instance class* is what a structural hypothesis names ("f is L-smooth"); it is served by one or
more *families*, each a constructive generator.  Generators draw the constant first and build the
instance to have it (spectrum in [-L, L] by construction), never by filtering.  Every generated
instance is then run through the class's membership check, computed independently of the
generator; an instance that fails it is a framework error, never a counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from kernels import Ridge, RidgeQuadratic

__all__ = [
    "Knobs",
    "InstanceBatch",
    "Family",
    "InstanceClass",
    "CLASSES",
    "PATTERNS",
    "smoothness_certificate",
    "register_class",
    "combine_checks",
    "haar_orthogonal",
    "encode_ridge",
    "decode_ridge",
]

# Spectrum patterns a generator understands; Hypothesis picks among them, so the extremal
# instances (A = L I, eigenvalues at +-L) are always reachable.
PATTERNS = (
    "uniform",  # eigenvalues uniform in [-L, L]
    "identity",  # A = L I
    "top",  # one eigenvalue at L, the rest uniform in [-L, L]
    "convex",  # eigenvalues in [0, L], top one at L
    "plus_minus",  # eigenvalues in {-L, L}
    "bottom",  # one eigenvalue at -L, the rest uniform
    "clustered",  # eigenvalues near L
    "small",  # eigenvalues in [-L/10, L/10] and one at L
)


@dataclass(frozen=True)
class Knobs:
    """The few numbers that determine a generated batch; Hypothesis searches over these.

    ``u`` holds one position in [0, 1] per drawn parameter (0: lower end, 1: upper end of its
    admissible range), ``seed`` the rest of the randomness.
    """

    family: int
    dim: int
    pattern: int
    log_scale: float  # log10 of the class constant (L)
    log_w0: float  # log10 of the initial point's scale
    u: tuple[float, ...]
    seed: int


@dataclass(frozen=True)
class InstanceBatch:
    """A generated batch: problem arrays, initial points and per-instance constants."""

    family: str
    problem: RidgeQuadratic
    w0: np.ndarray  # (n, d)
    attrs: dict[str, np.ndarray]  # per-instance constants, each (n,)

    @property
    def size(self) -> int:
        return self.w0.shape[0]


Generator = Callable[[np.random.Generator, int, "Knobs"], InstanceBatch]


@dataclass(frozen=True)
class Family:
    """A constructive generator for one instance class."""

    name: str
    generate: Generator
    finite_sum: bool  # components f_k exist (needed by stochastic dynamics)
    doc: str


@dataclass(frozen=True)
class InstanceClass:
    """What a structural hypothesis names: families that generate members and a membership check
    that returns, per instance, whether it belongs (with the reason when it does not)."""

    name: str
    text: str
    families: tuple[Family, ...]
    attributes: tuple[str, ...]
    member: Callable[[InstanceBatch], tuple[np.ndarray, list[str]]]
    encode: Callable[[Any, int], dict[str, Any]]  # instance i of a problem batch -> plain JSON data
    decode: Callable[[dict[str, Any]], Any]  # plain JSON data -> a problem batch of one


def haar_orthogonal(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, d, d)))
    # Sign-fix so Q is Haar distributed (QR alone is biased).
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]


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


def _diag_estimate(problem: RidgeQuadratic) -> np.ndarray:
    """A common but understated smoothness estimate: the largest diagonal Hessian bound.
    It is never above the true constant; false theorem variants use it."""
    diag = np.abs(np.diagonal(problem.A, axis1=1, axis2=2)).max(axis=1)
    if problem.ridges == 0:
        return diag
    return diag + np.einsum("nk,nki->ni", np.abs(problem.c), problem.R**2).max(axis=1)


def _attrs(problem: RidgeQuadratic, L: np.ndarray) -> dict[str, np.ndarray]:
    return {"L": L, "Ldiag": _diag_estimate(problem), "d": np.full(L.shape, float(problem.dim))}


def _smooth_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    cert = smoothness_certificate(batch.problem)
    L = batch.attrs["L"]
    # Eigenvalues are computed with backward error ~ d * eps * ||A||; allow exactly that much.
    slack = 16 * batch.problem.dim * np.finfo(np.float64).eps * np.maximum(cert, L)
    ok = cert <= L + slack
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


def _diagonal_family(fam: Family) -> Family:
    def generate(rng: np.random.Generator, n: int, k: Knobs) -> InstanceBatch:
        b = fam.generate(rng, n, k)
        return InstanceBatch(b.family, b.problem, b.w0, {**b.attrs, "L": b.attrs["Ldiag"]})

    return Family(fam.name + "_diagonal", generate, fam.finite_sum, fam.doc + "; L is its largest diagonal Hessian bound")


def _diagonal_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    est = _diag_estimate(batch.problem)
    L = batch.attrs["L"]
    ok = np.abs(est - L) <= 4 * np.finfo(np.float64).eps * np.abs(est)
    return ok, ["" if o else f"L = {l!r} is not the diagonal Hessian bound {e!r}" for o, l, e in zip(ok, L, est)]


_SMOOTH_FAMILIES = (
    Family("quadratic", _quadratic, False, "1/2 w^T A w + b^T w, spectrum of A in [-L, L]"),
    Family("logcosh_ridges", _logcosh_ridges, True, "sum of c_k log cosh(r_k^T w + s_k) plus an indefinite quadratic"),
    Family("quadratic_sine", _quadratic_sine, True, "quadratic plus a bounded sine perturbation per coordinate"),
)

CLASSES: dict[str, InstanceClass] = {
    "smooth": InstanceClass(
        "smooth",
        "f is L-smooth: every Hessian eigenvalue lies in [-L, L]",
        _SMOOTH_FAMILIES,
        ("L", "Ldiag", "d"),
        _smooth_member,
        encode_ridge,
        decode_ridge,
    ),
    "smooth_finite_sum": InstanceClass(
        "smooth_finite_sum",
        "f = (1/m) sum_k f_k is L-smooth (components f_k smooth)",
        tuple(f for f in _SMOOTH_FAMILIES if f.finite_sum),
        ("L", "Ldiag", "d"),
        _smooth_member,
        encode_ridge,
        decode_ridge,
    ),
    # A relaxation of "smooth" for necessity checks: L bounds only the diagonal of the Hessian (the
    # estimate max_i |H_ii| people sometimes use), never above the true constant, often below it.
    "diagonal_bound": InstanceClass(
        "diagonal_bound",
        "L bounds the Hessian's diagonal entries (not its spectrum)",
        tuple(_diagonal_family(f) for f in _SMOOTH_FAMILIES),
        ("L", "Ldiag", "d"),
        _diagonal_member,
        encode_ridge,
        decode_ridge,
    ),
}


def combine_checks(n: int, checks: Any) -> tuple[np.ndarray, list[str]]:
    """A membership verdict from ``(passed, reason)`` pairs, each ``passed`` an (n,) bool array:
    an instance belongs when it passes every check; its reason is the first check it fails."""
    ok = np.ones(n, dtype=bool)
    reasons = [""] * n
    for good, why in checks:
        good = np.broadcast_to(np.asarray(good, dtype=bool), (n,))
        for i in np.flatnonzero(~good):
            if not reasons[i]:
                reasons[i] = why
        ok &= good
    return ok, reasons


def register_class(cls: InstanceClass) -> InstanceClass:
    """Make an instance class available to structural hypotheses under ``cls.name``."""
    CLASSES[cls.name] = cls
    return cls
