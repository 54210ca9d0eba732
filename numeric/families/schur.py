"""Instance classes and adapters for the Schur product family (matrix claims, no time steps).

Instance classes (each with a constructive generator and an independent membership check):

* ``psd_pairs`` -- pairs (A, B) of symmetric positive semidefinite n x n matrices;
* ``psd_a_symmetric_b`` -- A PSD, B only symmetric (the Schur hypothesis on B dropped);
* ``symmetric_a_psd_b`` -- A only symmetric, B PSD (the hypothesis on A dropped);
* ``networks`` -- one-hidden-layer networks f(x) = v^T phi(W x) with data X (any real X, W, v);
* ``unit_data`` -- data sets x_1..x_n on the unit sphere (rows normalised inside the kernels);
* ``unit_data_phi`` -- unit-norm data plus an activation (softplus or erf) for the Hermite lemma.

PSD matrices are built *exactly*: ``A = G G^T`` with G on a dyadic grid (entries k / 2^7, |k| <= 127,
column scales 2^-s with s <= 16), so every product and partial sum of ``G G^T`` is a float64 number
and the stored matrix is PSD with exactly the intended rank -- a violation found on it can never be
an artefact of a rounded, slightly indefinite input, and the extended-precision replay sees the same
matrix.  Rank (1..n) and conditioning (column scales up to 2^-16, i.e. condition numbers up to
about 2^32) are controlled per instance; ``B = 1 1^T`` (the extremal case) is a pattern.

Membership (independent of the generators): exact symmetry, and for a PSD hypothesis
``lambda_min(M) >= -16 n eps ||M||_2`` (float64 eigenvalues carry a backward error of order
``n eps ||M||``; the tolerance allows exactly that).

Every claim here is TRAJECTORY-kind: one inequality per instance.  Observables carry rounding-scale
companions (``scale_of``): an eigenvalue of M gets ``n ||M||_2`` (or a Frobenius bound of it), so
the claim tolerance ``ulps * eps * scale`` is derived from the matrix norm and dimension.  In
``np.longdouble`` (the confirmation replay) eigenvalues come from mpmath at 40 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from kernels import matrices as mk
from kernels.backend import select

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    keyed,
    observables,
)
from .exact_members import comparisons_only, pairs_member_exact, unit_data_member_exact
from .schur_shrink import exact_spectra, shrink_pairs

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []



__all__ = ["MatrixPairs", "Networks", "UnitData", "psd_member_tolerance", "network_observables",
           "ntk_observables", "eigvalsh", "hadamard_eigvalsh", "eig_mpmath", "MP_DPS"]

_EPS = float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------------------------------------
# Problem containers (batches; ``astype`` is what the replay uses)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixPairs:
    A: np.ndarray  # (N, n, n)
    B: np.ndarray  # (N, n, n)

    def astype(self, dtype: Any) -> "MatrixPairs":
        return MatrixPairs(self.A.astype(dtype), self.B.astype(dtype))


@dataclass(frozen=True)
class Networks:
    X: np.ndarray  # (N, n, d)
    W: np.ndarray  # (N, k, d)
    v: np.ndarray  # (N, k)
    act: np.ndarray  # (N,) codes into kernels.matrices.ACTIVATIONS

    def astype(self, dtype: Any) -> "Networks":
        return Networks(self.X.astype(dtype), self.W.astype(dtype), self.v.astype(dtype), self.act)


@dataclass(frozen=True)
class UnitData:
    X: np.ndarray  # (N, n, d); rows are normalised by the kernels

    def astype(self, dtype: Any) -> "UnitData":
        return UnitData(self.X.astype(dtype))


# ------------------------------------------------------------------------------------------------
# Generators
# ------------------------------------------------------------------------------------------------


def _exact_psd(rng: np.random.Generator, N: int, n: int, *, max_shift: int, rank_low: bool) -> np.ndarray:
    """Exact PSD matrices ``G G^T``: G has dyadic entries k/2^7 (|k| <= 127) and columns scaled by
    2^-s, s in [0, max_shift] (max_shift <= 16 keeps every sum exact in float64)."""
    # Exactness: products need 14 bits, a sum of n of them ceil(log2 n) more, and column scales
    # spread the exponents by 2 * shift bits; all of it must fit in float64's 53.
    max_shift = min(max_shift, (53 - 14 - int(np.ceil(np.log2(max(n, 2))))) // 2)
    # int8 draws: the same uniform integers at a sixth of int64's cost (at n = 256 the draw was the
    # generator's largest step).
    G = rng.integers(-127, 128, (N, n, n), dtype=np.int8).astype(np.float64)
    s = rng.integers(0, max_shift + 1, (N, 1, n))
    # 1/128, 2^-s and the rank mask folded into one exact factor: one in-place pass over the batch
    # (half a gigabyte at n = 256) instead of a temporary per factor.
    scale = np.exp2(-s.astype(np.float64) - 7.0)
    if rank_low:
        r = rng.integers(1, n + 1, N)
        scale *= np.arange(n)[None, None, :] < r[:, None, None]
    G *= scale
    # Every product and partial sum is exact (see above), so G G^T comes out symmetric entry for
    # entry whatever order BLAS sums in: no symmetrising pass (the membership check tests symmetry).
    return G @ np.swapaxes(G, 1, 2)


def _exact_symmetric(rng: np.random.Generator, N: int, n: int) -> np.ndarray:
    """Symmetric (generally indefinite) matrices on the dyadic grid."""
    M = rng.integers(-127, 128, (N, n, n), dtype=np.int8).astype(np.float64) / 128.0
    return np.triu(M) + np.swapaxes(np.triu(M, 1), 1, 2)


def _pow2(k: Knobs) -> float:
    """The knob's scale rounded to a power of two (scaling by it is exact)."""
    return float(np.exp2(np.round(k.log_scale * 3.0)))


def _psd_a(rng: np.random.Generator, N: int, n: int, pattern: int) -> np.ndarray:
    return _exact_psd(rng, N, n, max_shift=(16 if pattern in (3, 7) else 3), rank_low=pattern in (2, 5, 7))


def _psd_b(rng: np.random.Generator, N: int, n: int, pattern: int) -> np.ndarray:
    if pattern in (1, 6):  # B = c 1 1^T, the extremal case (c = 1 or a power of two)
        c = 1.0 if pattern == 1 else np.exp2(rng.integers(-3, 4, (N, 1, 1)).astype(np.float64))
        return np.ones((N, n, n)) * c
    if pattern == 4:  # rank one B = d d^T: A o B = D A D
        dvec = rng.integers(-127, 128, (N, n)).astype(np.float64) / 128.0
        return dvec[:, :, None] * dvec[:, None, :]
    if pattern == 5:  # diagonal PSD B (some zero entries)
        dvec = rng.integers(0, 128, (N, n)).astype(np.float64) / 128.0
        return np.einsum("ni,ij->nij", dvec, np.eye(n))
    return _exact_psd(rng, N, n, max_shift=(16 if pattern == 3 else 3), rank_low=pattern in (2, 7))


def _indefinite(rng: np.random.Generator, N: int, n: int, pattern: int) -> np.ndarray:
    """Symmetric matrices for the dropped-hypothesis classes; a few structured patterns include the
    catalogue's counterexamples (1 on the diagonal and 2 off it; diagonal with mixed signs)."""
    if pattern % 4 == 1:
        return np.ones((N, n, n)) * 2.0 - np.eye(n)
    if pattern % 4 == 2:
        dvec = rng.integers(-4, 5, (N, n)).astype(np.float64)
        return np.einsum("ni,ij->nij", dvec, np.eye(n))
    return _exact_symmetric(rng, N, n)


def _pairs_batch(name: str, A: np.ndarray, B: np.ndarray, k: Knobs) -> InstanceBatch:
    """The batch of pairs, A scaled in place by the knob's power of two (exact; no copy of A)."""
    A *= _pow2(k)
    N, n = A.shape[0], A.shape[1]
    return InstanceBatch(name, MatrixPairs(A, B), np.zeros((N, 0)), {"n": np.full(N, float(n))})


def _gen_psd_pairs(rng: np.random.Generator, N: int, k: Knobs) -> InstanceBatch:
    p = k.pattern % 8
    return _pairs_batch("psd_pairs", _psd_a(rng, N, k.dim, p), _psd_b(rng, N, k.dim, p), k)


def _gen_psd_a_sym_b(rng: np.random.Generator, N: int, k: Knobs) -> InstanceBatch:
    p = k.pattern % 8
    A = np.ones((N, k.dim, k.dim)) if p % 4 == 1 else _psd_a(rng, N, k.dim, p)
    return _pairs_batch("psd_a_symmetric_b", A, _indefinite(rng, N, k.dim, p), k)


def _gen_sym_a_psd_b(rng: np.random.Generator, N: int, k: Knobs) -> InstanceBatch:
    p = k.pattern % 8
    B = _psd_b(rng, N, k.dim, p)
    if p % 4 == 2:  # diagonal B to pair with a diagonal A of mixed signs
        dvec = rng.integers(0, 5, (N, k.dim)).astype(np.float64)
        B = np.einsum("ni,ij->nij", dvec, np.eye(k.dim))
    return _pairs_batch("symmetric_a_psd_b", _indefinite(rng, N, k.dim, p), B, k)


def psd_member_tolerance(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lambda_min, allowed negative part) per matrix: ``16 n eps ||M||_2``."""
    ev = np.linalg.eigvalsh(np.asarray(M, dtype=np.float64))
    n = M.shape[-1]
    return ev[:, 0], 16.0 * n * _EPS * np.abs(ev).max(axis=1)


def _member_pairs(psd_a: bool, psd_b: bool):
    def member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
        P: MatrixPairs = batch.problem
        N = P.A.shape[0]
        ok = np.ones(N, dtype=bool)
        why = [""] * N
        for name, M, psd in (("A", P.A, psd_a), ("B", P.B, psd_b)):
            fin = np.isfinite(M).all(axis=(1, 2))
            sym = fin & (M == np.swapaxes(M, 1, 2)).all(axis=(1, 2))
            good = sym.copy()
            lmin = np.zeros(N)
            if psd:
                # non-finite matrices zeroed for LAPACK; copying the batch only when there is one
                lmin, allow = psd_member_tolerance(M if fin.all() else np.where(fin[:, None, None], M, 0.0))
                good &= lmin >= -allow
            for i in np.flatnonzero(~good & ok):
                why[i] = (f"{name} is not symmetric" if not sym[i]
                          else f"{name} is not PSD: lambda_min = {lmin[i]!r}")
            ok &= good
        return ok, why

    return member


def _encode_pairs(P: MatrixPairs, i: int) -> dict[str, Any]:
    return {"A": P.A[i].tolist(), "B": P.B[i].tolist()}


def _decode_pairs(d: dict[str, Any]) -> MatrixPairs:
    A = np.asarray(d["A"], dtype=np.float64)
    return MatrixPairs(A[None], np.asarray(d["B"], dtype=np.float64)[None])


def _pair_class(name: str, text: str, gen, psd_a: bool, psd_b: bool) -> InstanceClass:
    return InstanceClass(
        name=name,
        text=text,
        families=(Family(name=name, generate=gen, finite_sum=False, doc=text),),
        attributes=("n",),
        member=_member_pairs(psd_a, psd_b),
        member_exact=pairs_member_exact(psd_a, psd_b),
        encode=_encode_pairs,
        decode=_decode_pairs,
        problem_type=MatrixPairs,
        shrink=shrink_pairs,
    )


CLASSES.append(_pair_class("psd_pairs", "A and B are symmetric positive semidefinite", _gen_psd_pairs, True, True))
CLASSES.append(_pair_class("psd_a_symmetric_b", "A is symmetric PSD, B is symmetric (possibly indefinite)",
                           _gen_psd_a_sym_b, True, False))
CLASSES.append(_pair_class("symmetric_a_psd_b", "A is symmetric (possibly indefinite), B is symmetric PSD",
                           _gen_sym_a_psd_b, False, True))


# Networks ----------------------------------------------------------------------------------------


def _gen_networks(rng: np.random.Generator, N: int, k: Knobs) -> InstanceBatch:
    n = k.dim
    d = int(rng.integers(1, 9))
    width = int(rng.integers(1, 2 * n + 2))
    p = k.pattern % 8
    X = rng.standard_normal((N, n, d)) * 10.0 ** (0.5 * k.log_scale)
    W = rng.standard_normal((N, width, d)) / np.sqrt(d)
    if p == 1:  # |v_l| = 1: the printed identity is exact there
        v = np.where(rng.random((N, width)) < 0.5, -1.0, 1.0)
    else:
        v = rng.standard_normal((N, width)) * 10.0 ** rng.uniform(-1, 1, (N, 1))
    act = rng.integers(0, len(mk.ACTIVATIONS), N) if p not in (2, 3, 4) else np.full(N, p - 2)
    return InstanceBatch("networks", Networks(X, W, v, act), np.zeros((N, 0)), {"n": np.full(N, float(n))})


def _member_networks(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    P: Networks = batch.problem
    ok = (np.isfinite(P.X).all(axis=(1, 2)) & np.isfinite(P.W).all(axis=(1, 2)) & np.isfinite(P.v).all(axis=1)
          & (P.act >= 0) & (P.act < len(mk.ACTIVATIONS)))
    return ok, ["" if o else "non-finite network or unknown activation" for o in ok]


CLASSES.append(InstanceClass(
    name="networks",
    text="one-hidden-layer network f(x) = v^T phi(W x) on data X (phi in softplus, tanh, relu)",
    families=(Family(name="networks", generate=_gen_networks, finite_sum=False, doc="Gaussian X, W, v; v = +-1 as a pattern"),),
    attributes=("n",),
    member=_member_networks,
    member_exact=comparisons_only(_member_networks),  # finiteness and activation codes: no rounding
    encode=lambda P, i: {"X": P.X[i].tolist(), "W": P.W[i].tolist(), "v": P.v[i].tolist(), "act": int(P.act[i])},
    decode=lambda d: Networks(np.asarray(d["X"], float)[None], np.asarray(d["W"], float)[None],
                       np.asarray(d["v"], float)[None], np.asarray([d["act"]], dtype=np.int64)),
    problem_type=Networks,
))


# Unit-norm data ----------------------------------------------------------------------------------


def gen_unit_data(rng: np.random.Generator, N: int, k: Knobs) -> InstanceBatch:
    n = k.dim
    p = k.pattern % 8
    d = int(rng.integers(1, 4)) if p in (1, 5) else int(rng.integers(1, n + 3))
    X = rng.standard_normal((N, n, d))
    if p in (2, 6) and n >= 2:  # nearly parallel / duplicated / antipodal points
        j = rng.integers(0, n, N)
        tiny = 10.0 ** rng.uniform(-12, -1, (N, 1))
        sign = np.where(rng.random((N, 1)) < 0.5, -1.0, 1.0)
        X[:, 1] = sign * (X[np.arange(N), j] + tiny * rng.standard_normal((N, d)) * (p == 2))
    if p == 3 and n <= d:  # orthonormal data
        X = np.linalg.qr(rng.standard_normal((N, d, d)))[0][:, :n, :]
    return InstanceBatch("unit_data", UnitData(X), np.zeros((N, 0)), {"n": np.full(N, float(n))})


def unit_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    X = batch.problem.X
    ok = np.isfinite(X).all(axis=(1, 2)) & (np.linalg.norm(X, axis=2) > 0).all(axis=1)
    return ok, ["" if o else "a data point is zero or non-finite (cannot be normalised)" for o in ok]


CLASSES.append(InstanceClass(
    name="unit_data",
    text="data points x_1..x_n with ||x_i|| = 1 (given data are normalised row-wise)",
    families=(Family(name="unit_data", generate=gen_unit_data, finite_sum=False, doc="Gaussian, low-dimensional, nearly parallel, orthonormal"),),
    attributes=("n",),
    member=unit_member,
    member_exact=unit_data_member_exact,
    encode=lambda P, i: {"X": P.X[i].tolist()},
    decode=lambda d: UnitData(np.asarray(d["X"], float)[None]),
    problem_type=UnitData,
))


# ------------------------------------------------------------------------------------------------
# Adapters
# ------------------------------------------------------------------------------------------------



#: Decimal digits mpmath uses for extended-precision eigenvalues.
MP_DPS = 40


def eig_mpmath(M: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of each symmetric matrix in ``M`` at MP_DPS digits, as longdouble.
    Exact input: each longdouble entry goes to mpmath through its exact decimal expansion."""
    import mpmath  # noqa: PLC0415 - only the extended-precision replay needs it

    out = np.empty(M.shape[:2], dtype=np.longdouble)
    with mpmath.workdps(MP_DPS):
        for b in range(M.shape[0]):
            mat = mpmath.matrix([[mpmath.mpf(np.format_float_scientific(x, unique=True)) for x in row] for row in M[b]])
            ev = mpmath.eigsy(mat, eigvals_only=True)
            vals = sorted(ev[i] for i in range(M.shape[1]))
            out[b] = [np.longdouble(mpmath.nstr(x, 30)) for x in vals]
    return out


def _solver(dtype: Any):
    extended = np.dtype(dtype) == np.dtype(np.longdouble) and np.dtype(np.longdouble) != np.dtype(np.float64)
    return eig_mpmath if extended else None


def eigvalsh(M: np.ndarray, *, backend: str = "numpy", dtype: Any = np.float64) -> np.ndarray:
    """``kernels.matrices.eigvalsh`` with mpmath (40 digits) as the solver in extended precision."""
    return mk.eigvalsh(M, backend=backend, dtype=dtype, solver=_solver(dtype))


def hadamard_eigvalsh(A: np.ndarray, B: np.ndarray, *, backend: str = "numpy", dtype: Any = np.float64) -> np.ndarray:
    """``kernels.matrices.hadamard_eigvalsh`` with mpmath (40 digits) in extended precision."""
    return mk.hadamard_eigvalsh(A, B, backend=backend, dtype=dtype, solver=_solver(dtype))


def _spec_norm(ev: np.ndarray) -> np.ndarray:
    return np.abs(ev).max(axis=1)


def _run_spectra(req: RunRequest) -> Run:
    problem = req.problem
    b = select("matrices.hadamard_eigvalsh", req.backend, req.dtype)
    # asarray, not astype: no copy when the batch is already in the run's dtype
    A, B = np.asarray(problem.A, dtype=req.dtype), np.asarray(problem.B, dtype=req.dtype)
    n = A.shape[1]
    eA = eigvalsh(A, backend=b, dtype=req.dtype)
    eAB = hadamard_eigvalsh(A, B, backend=b, dtype=req.dtype)
    dB = np.diagonal(B, axis1=1, axis2=2)
    return Run({
        "lmin_AB": eAB[:, 0], "lmax_AB": eAB[:, -1], "lmin_A": eA[:, 0], "lmax_A": eA[:, -1],
        "bmin": dB.min(axis=1), "bmax": dB.max(axis=1),
        "escale_AB": n * _spec_norm(eAB), "escale_A": n * _spec_norm(eA),
    }, backend=b)



DYNAMICS.append(Dynamics(
    name="spectra",
    run=_run_spectra,
    observables=observables({}, keyed("lmin_AB", "lmax_AB", "lmin_A", "lmax_A", "bmin", "bmax", "escale_AB", "escale_A"), {"lmin_AB": "escale_AB", "lmax_AB": "escale_AB", "lmin_A": "escale_A", "lmax_A": "escale_A"}),
    accepts=(MatrixPairs,),
    parameters=(),
    exact=exact_spectra,
    doc="extreme eigenvalues of A, A o B and the diagonal of B for a drawn pair (no time steps); "
    "an eigenvalue's rounding scale is n ||M||_2",
))


def network_observables(X: np.ndarray, W: np.ndarray, v: np.ndarray, act: np.ndarray, *, backend: str = "numpy",
                        dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """Both sides of the Jacobian Gram identity and of its Schur lower bound, with rounding scales.

    ``gram_err`` = max_ij |J J^T - H|, ``H = (phi'(X W^T) diag(v o v) phi'(W X^T)) o (X X^T)``;
    ``gram_err_printed`` the same with the printed ``H0 = (phi'(X W^T) phi'(W X^T)) o (X X^T)``.
    Every entry of ``J J^T`` and ``H`` is a sum of at most ``k d`` products whose absolute values sum
    to ``S_ij = (|G| |G|^T)_ij (|X| |X|^T)_ij`` (G = phi' v), so both are accurate to
    ``(k d + k + d) eps max S``: that is the scale companion ``gram_scale``.  An eigenvalue of
    ``J J^T`` gets ``(n + k d) ||S||_F``, one of ``P = phi' diag(v^2) phi'^T`` gets ``(n + k) ||P_abs||_F``.
    """
    b = select("matrices.jacobian_gram", backend, dtype)
    X, W, v = (np.asarray(a, dtype=dtype) for a in (X, W, v))
    N, n, d = X.shape
    k = W.shape[1]
    JJ = mk.jacobian_gram(X, W, v, act, backend=b, dtype=dtype)
    Dp = mk.activation_derivative(np.einsum("bid,bld->bil", X, W), act)  # (N, n, k)
    P = np.einsum("bil,bl,bjl->bij", Dp, v * v, Dp)
    P0 = np.einsum("bil,bjl->bij", Dp, Dp)
    K = np.einsum("bid,bjd->bij", X, X)
    G = np.abs(Dp * v[:, None, :])
    Pabs = np.einsum("bil,bjl->bij", G, G)
    S = Pabs * np.einsum("bid,bjd->bij", np.abs(X), np.abs(X))
    S0 = np.einsum("bil,bjl->bij", np.abs(Dp), np.abs(Dp)) * np.einsum("bid,bjd->bij", np.abs(X), np.abs(X))
    eJ = eigvalsh(JJ, backend=b, dtype=dtype)
    eP = eigvalsh(P, backend=b, dtype=dtype)
    c = float(k * d + k + d)
    return {
        "gram_err": np.abs(JJ - P * K).max(axis=(1, 2)),
        "gram_scale": c * S.max(axis=(1, 2)),
        "gram_err_printed": np.abs(JJ - P0 * K).max(axis=(1, 2)),
        "gram_scale_printed": c * (S + S0).max(axis=(1, 2)),
        "lmin_JJ": eJ[:, 0], "lmin_P": eP[:, 0],
        "xnorm2_min": np.einsum("bid,bid->bi", X, X).min(axis=1),
        "escale_JJ": (n + k * d) * np.sqrt((S * S).sum(axis=(1, 2))),
        "escale_P": (n + k) * np.sqrt((Pabs * Pabs).sum(axis=(1, 2))),
    }


def _run_gram(req: RunRequest) -> Run:
    problem = req.problem
    b = select("matrices.jacobian_gram", req.backend, req.dtype)
    return Run(network_observables(problem.X, problem.W, problem.v, problem.act, backend=b, dtype=req.dtype), backend=b)


DYNAMICS.append(Dynamics(
    name="jacobian_gram",
    run=_run_gram,
    observables=observables({}, keyed("gram_err", "gram_scale", "gram_err_printed", "gram_scale_printed", "lmin_JJ", "lmin_P", "xnorm2_min",
         "escale_JJ", "escale_P"), {"gram_err": "gram_scale", "gram_err_printed": "gram_scale_printed", "lmin_JJ": "escale_JJ",
     "lmin_P": "escale_P"}),
    accepts=(Networks,),
    parameters=(),
    doc="explicit Jacobian Gram matrix J J^T of f(x) = v^T phi(W x) against its Hadamard forms (no time steps)",
))


def ntk_observables(X: np.ndarray, *, backend: str = "numpy", dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """lambda_min(H* - K/4) for the ReLU NTK on the normalised rows of X, with the corrected kernel
    ``H*_ij = K_ij (pi - theta_ij) / (2 pi)`` and the printed one ``(pi - theta_ij) / (2 pi)``.

    ``theta_ij = arccos(K_ij)`` is computed as ``2 atan2(||x_i - x_j||, ||x_i + x_j||)``, accurate to
    a few ulps for every angle (arccos of a rounded inner product loses half the digits near +-1).
    Rounding-scale companion of each eigenvalue: ``n (||H||_F + ||K||_F / 4)``.
    """
    b = select("matrices.eigvalsh", backend, dtype)
    X = np.asarray(X, dtype=dtype)
    n = X.shape[1]
    Xn = X / np.sqrt(np.einsum("bid,bid->bi", X, X))[:, :, None]
    K = np.einsum("bid,bjd->bij", Xn, Xn)
    dif = np.sqrt(((Xn[:, :, None, :] - Xn[:, None, :, :]) ** 2).sum(axis=3))
    sm = np.sqrt(((Xn[:, :, None, :] + Xn[:, None, :, :]) ** 2).sum(axis=3))
    pi = np.asarray(np.pi, dtype=dtype) if np.dtype(dtype) == np.float64 else np.arccos(np.asarray(-1, dtype=dtype))
    theta = 2 * np.arctan2(dif, sm)
    H0 = (pi - theta) / (2 * pi)
    H = K * H0
    fro = lambda M: np.sqrt((M * M).sum(axis=(1, 2)))  # noqa: E731
    e = eigvalsh(H - K / 4, backend=b, dtype=dtype)
    e0 = eigvalsh(H0 - K / 4, backend=b, dtype=dtype)
    return {
        "ntk_gap": e[:, 0], "ntk_gap_printed": e0[:, 0],
        "ntk_scale": n * (fro(H) + fro(K) / 4), "ntk_scale_printed": n * (fro(H0) + fro(K) / 4),
    }


def _run_ntk(req: RunRequest) -> Run:
    problem = req.problem
    b = select("matrices.eigvalsh", req.backend, req.dtype)
    return Run(ntk_observables(problem.X, backend=b, dtype=req.dtype), backend=b)


DYNAMICS.append(Dynamics(
    name="ntk_spectra",
    run=_run_ntk,
    observables=observables({}, keyed("ntk_gap", "ntk_gap_printed", "ntk_scale", "ntk_scale_printed"), {"ntk_gap": "ntk_scale", "ntk_gap_printed": "ntk_scale_printed"}),
    accepts=(UnitData,),
    parameters=(),
    doc="smallest eigenvalue of H* - K/4 for the ReLU NTK on unit-norm data (no time steps)",
))


