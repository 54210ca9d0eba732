"""PL family on small networks: instance classes and the ``gd_net`` dynamics adapter.

Instance classes (constructive generators + independent membership checks):

* ``os_network``: the Oymak-Soltanolkotabi key lemma for nonlinear least squares
  ``L(theta) = 1/2 ||f(theta) - y||^2`` with ``f_i(W) = sum_j v_j phi(w_j^T x_i)`` (one hidden layer,
  output layer v fixed, phi = tanh or softplus, theta = vec(W) in R^{kd}, kd >= n).  The constants
  are certified, not estimated by sampling:

  - ``alpha``: ``sigma_min(J(theta_0)) >= 2 alpha`` from the singular values of the Jacobian at
    theta_0, less a rounding allowance;
  - ``beta``: ``||J(theta)|| <= ||v||_2 sup|phi'| ||X||`` for *every* theta (``||J^T u||_F^2 =
    sum_j v_j^2 ||X^T diag(phi'(X w_j)) u||^2``), with ``sup|phi'| = 1`` for tanh and softplus;
  - ``Ljac``: ``||J(theta) - J(theta')|| <= ||v||_inf sup|phi''| max_i ||x_i|| ||X|| ||theta - theta'||``
    for every theta, theta' (``|phi'(w_j^T x_i) - phi'(w_j'^T x_i)| <= sup|phi''| ||x_i|| ||w_j - w_j'||``),
    with ``sup|tanh''| = 4 / (3 sqrt 3)`` (at tanh = 1/sqrt 3) and ``sup softplus'' = 1/4``.

  Since beta and Ljac hold everywhere they hold on the ball of radius ``(4/alpha) ||r_0||``.  The
  generator sets ``y = f(theta_0) - r_0`` with ``||r_0|| = s alpha^2 / (4 Ljac)``, ``s in (0, 0.999]``,
  so the small-initial-residual condition holds by construction; the spec also checks it per
  instance on the run's ``||r_0||``.
* ``rsi_leaky_glm``: the single-neuron GLM of Arora et al. Section 6.2.1 on a finite sample,
  ``f(w) = v^2/2 sum_i (sigma(w^T x_i) - sigma(w*^T x_i))^2`` with leaky ReLU ``sigma(z) = max(z, a z)``
  and v the output weight, a power of two with ``v^2 n`` in [1/2, 2] (the book's 1/(2n) with the data
  rescaled by ``sqrt(n) v``: sigma is positively homogeneous; a power of two keeps ``y = v sigma(X w*)``
  exact, so w* is exactly the minimizer).
  ``<grad f(w), w - w*> = v^2 sum_i s_i sigma'(u_i) (x_i^T (w - w*))^2`` with ``s_i`` the secant slope
  of sigma (in [a, 1]) and ``sigma' in {a, 1}``, so RSI holds with ``mu = a^2 v^2 lambda_min(X^T X)``,
  and ``||grad f(w)|| <= v^2 lambda_max(X^T X) ||w - w*||`` gives the ``L`` that the RSI proof uses
  (f is not smooth at the kinks; the proof never needs more than this bound).

Problems are :class:`NetProblem` batches run by :func:`kernels.pl_networks.gd_net`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
from kernels.pl_networks import activation, gd_net, net_forward, net_jacobian

from ..api import (
    Dynamics,
    Family,
    InstanceBatch,
    InstanceClass,
    Knobs,
    Run,
    RunRequest,
    observables,
)
from .pl import on_grid
from .pl_networks_exact import glm_member_exact, os_network_member_extended

#: This module's instance classes and dynamics (registered through the entry points
#: ``thmcheck.classes`` / ``thmcheck.dynamics``; importing the module registers nothing).
CLASSES: list[InstanceClass] = []
DYNAMICS: list[Dynamics] = []



__all__ = ["NetProblem", "NetObsRun", "SUP_DPHI", "SUP_D2PHI"]

EPS = float(np.finfo(np.float64).eps)
#: sup |phi'| and sup |phi''| per activation code (0 tanh, 1 softplus, 2 leaky ReLU).
SUP_DPHI = {0: 1.0, 1: 1.0, 2: 1.0}
SUP_D2PHI = {0: 4.0 / (3.0 * np.sqrt(3.0)), 1: 0.25}


@dataclass(frozen=True)
class NetProblem:
    """A batch of one-hidden-layer least-squares problems (see :mod:`kernels.pl_networks`)."""

    X: np.ndarray  # (B, n, d)
    v: np.ndarray  # (B, k)
    y: np.ndarray  # (B, n)
    act: int
    a: np.ndarray  # (B,) leaky-ReLU slope (unused otherwise)
    anchor: np.ndarray  # (B, k d): theta_0 (key lemma) or w* (GLM)

    @property
    def batch(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.anchor.shape[1]

    def astype(self, dtype: Any) -> "NetProblem":
        c = lambda x: np.asarray(x, dtype=dtype)  # noqa: E731
        return NetProblem(c(self.X), c(self.v), c(self.y), self.act, c(self.a), c(self.anchor))


def _encode(p: NetProblem, i: int) -> dict[str, Any]:
    return {"X": p.X[i].tolist(), "v": p.v[i].tolist(), "y": p.y[i].tolist(), "act": int(p.act),
            "a": float(p.a[i]), "anchor": p.anchor[i].tolist()}


def _decode(data: dict[str, Any]) -> NetProblem:
    f = lambda x: np.asarray(x, dtype=np.float64)[None]  # noqa: E731
    return NetProblem(f(data["X"]), f(data["v"]), f(data["y"]), int(data["act"]),
                      np.asarray([data["a"]], dtype=np.float64), f(data["anchor"]))


# --------------------------------------------------------------------- the key lemma on networks


def _op_norm(X: np.ndarray) -> np.ndarray:
    return np.linalg.svd(X, compute_uv=False)[:, 0]


def _os_network(act: int) -> Callable[[np.random.Generator, int, Knobs], InstanceBatch]:
    def generate(rng: np.random.Generator, nb: int, k: Knobs) -> InstanceBatch:
        n = int(k.dim)
        d = int(rng.integers(2, 5))
        kh = -(-n // d) + int(rng.integers(0, 3))  # k d >= n: over-parameterized
        scale = 10.0 ** (0.5 * k.log_scale)
        X = rng.standard_normal((nb, n, d)) / np.sqrt(d) * scale
        v = rng.choice([-1.0, 1.0], (nb, kh)) * rng.uniform(0.5, 1.5, (nb, kh)) / np.sqrt(kh)
        W0 = rng.standard_normal((nb, kh, d)) * rng.uniform(0.3, 1.5, (nb, 1, 1))
        # sigma_min(J(theta_0)) > 0 almost surely; redraw the rare near-exceptions.  The last pass only
        # recomputes, so the constants always belong to the stored arrays (a redraw on the last pass
        # used to leave the previous draw's beta, Ljac and alpha on the new rows).
        for attempt in range(19):
            xn = _op_norm(X)
            beta = np.linalg.norm(v, axis=1) * SUP_DPHI[act] * xn * (1 + 64 * EPS)
            rowmax = np.sqrt((X * X).sum(axis=2)).max(axis=1)
            Ljac = np.abs(v).max(axis=1) * SUP_D2PHI[act] * rowmax * xn * (1 + 64 * EPS)
            sv = np.linalg.svd(net_jacobian(X, v, W0, act), compute_uv=False)
            # sigma_min^2 less twice the rounding allowance of the membership check's Gram eigenvalues
            margin = sv[:, -1] ** 2 - 128 * n * kh * d * EPS * sv[:, 0] ** 2
            alpha = 0.5 * np.sqrt(np.maximum(margin, 0.0)) * (1 - 1e-12)
            f0 = net_forward(X, v, W0, act)
            # room for the residual far above the rounding of r = f(theta_0) - y
            room = alpha**2 / (4 * Ljac)
            fuzz = 1e4 * EPS * (np.abs(v).sum(axis=1) * np.sqrt(n) * 2.0 + np.abs(f0).sum(axis=1))
            bad = (alpha <= 1e-4 * sv[:, 0]) | (room <= 10 * fuzz)
            if not bad.any() or attempt == 18:
                break
            if attempt >= 16 and (~bad).any():  # give up on those rows: copy a good instance in their place
                good = int(np.flatnonzero(~bad)[0])
                X[bad], v[bad], W0[bad] = X[good], v[good], W0[good]
                continue
            nbad = int(bad.sum())
            X[bad] = rng.standard_normal((nbad, n, d)) / np.sqrt(d) * scale
            W0[bad] = rng.standard_normal((nbad, kh, d)) * rng.uniform(0.3, 1.5, (nbad, 1, 1))
        s = np.minimum(0.999, 10.0 ** min(k.log_w0, 0.0) * rng.uniform(0.5, 1.0, nb))
        if k.pattern % 4 == 1:
            s = np.full(nb, 0.999)  # the small-residual condition at its bound
        rnorm = np.minimum(s * room, room - fuzz)  # stays below the bound after the kernel's rounding
        u = rng.standard_normal((nb, n))
        r0 = rnorm[:, None] * u / np.linalg.norm(u, axis=1, keepdims=True)
        y = f0 - r0
        theta0 = W0.reshape(nb, kh * d)
        prob = NetProblem(X, v, y, act, np.zeros(nb), theta0.copy())
        name = "tanh_net" if act == 0 else "softplus_net"
        return InstanceBatch(name, prob, theta0.copy(),
                             {"alpha": alpha, "beta": beta, "Ljac": Ljac, "d": np.full(nb, float(kh * d)),
                              "n": np.full(nb, float(n))})

    return generate


@lru_cache(maxsize=4)
def _grid_sup(act: int) -> tuple[float, float]:
    """sup |phi'| and sup |phi''| on a fine grid (a check of the analytic constants)."""
    z = np.linspace(-20.0, 20.0, 400_001)
    _, d1, d2 = activation(z, act)
    return float(np.abs(d1).max()), float(np.abs(d2).max())


def _os_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Recomputes every constant from the arrays: 4 alpha^2 <= lambda_min(J J^T) at theta_0 (an
    eigenvalue computation, not the generator's SVD), beta >= ||v|| sup|phi'| ||X||, Ljac >=
    ||v||_inf sup|phi''| max ||x_i|| ||X|| (constants checked against a grid), and the initial
    residual ||f(theta_0) - y|| <= alpha^2 / (4 Ljac)."""
    p: NetProblem = batch.problem
    reasons = [""] * batch.size
    if p.act not in (0, 1):
        return np.zeros(batch.size, bool), ["activation is neither tanh nor softplus"] * batch.size
    g1, g2 = _grid_sup(p.act)
    if g1 > SUP_DPHI[p.act] * (1 + 1e-12) or g2 > SUP_D2PHI[p.act] * (1 + 1e-12):
        return np.zeros(batch.size, bool), ["activation derivative bound violated on a grid"] * batch.size
    B, n, d = p.X.shape
    kh = p.v.shape[1]
    W0 = np.asarray(batch.w0, np.float64).reshape(B, kh, d)
    Z = np.einsum("bnd,bkd->bnk", p.X, W0)
    dphi = activation(Z, p.act)[1]
    J = (dphi * p.v[:, None, :])[:, :, :, None] * p.X[:, :, None, :]  # (B, n, k, d)
    J = J.reshape(B, n, kh * d)
    lam = np.linalg.eigvalsh(np.einsum("bip,bjp->bij", J, J))
    top = lam[:, -1]
    xtx = np.linalg.eigvalsh(np.einsum("bni,bnj->bij", p.X, p.X))[:, -1]
    xn = np.sqrt(xtx)
    rowmax = np.sqrt((p.X**2).sum(axis=2)).max(axis=1)
    f0 = (p.v[:, None, :] * activation(Z, p.act)[0]).sum(axis=2)
    r0 = np.linalg.norm(f0 - p.y, axis=1)
    for i in range(batch.size):
        al, be, Lj = (float(batch.attrs[k][i]) for k in ("alpha", "beta", "Ljac"))
        tol = 64 * n * kh * d * EPS * top[i]
        if n > kh * d:
            reasons[i] = f"not over-parameterized: n = {n} > k d = {kh * d}"
        elif not np.array_equal(p.anchor[i], batch.w0[i]):
            reasons[i] = "the anchor must be theta_0"
        elif 4 * al**2 > lam[i, 0] - tol:
            reasons[i] = f"2 alpha = {2 * al!r} > sigma_min(J(theta_0)) = {np.sqrt(max(lam[i, 0], 0.0))!r}"
        elif be < np.linalg.norm(p.v[i]) * SUP_DPHI[p.act] * xn[i] * (1 - 1e-12):
            reasons[i] = f"beta = {be!r} below the certified ||J|| bound"
        elif Lj < np.abs(p.v[i]).max() * SUP_D2PHI[p.act] * rowmax[i] * xn[i] * (1 - 1e-12):
            reasons[i] = f"Ljac = {Lj!r} below the certified Jacobian Lipschitz bound"
        elif r0[i] > al**2 / (4 * Lj):
            reasons[i] = f"initial residual {r0[i]!r} > alpha^2 / (4 Ljac) = {al**2 / (4 * Lj)!r}"
    return np.array([not r for r in reasons]), reasons


OS_NET_CLASS = (InstanceClass(
    name="os_network",
    text="L(theta) = 1/2 ||f(theta) - y||^2, f_i = sum_j v_j phi(w_j^T x_i) (tanh or softplus, v fixed, kd >= n): "
    "sigma_min(J(theta_0)) >= 2 alpha, ||J|| <= beta and ||J(theta) - J(theta')|| <= Ljac ||theta - theta'|| "
    "everywhere (analytic bounds), ||f(theta_0) - y|| <= alpha^2 / (4 Ljac)",
    families=(Family(name="tanh_net", generate=_os_network(0), finite_sum=False, doc="one hidden tanh layer, output layer fixed"),
     Family(name="softplus_net", generate=_os_network(1), finite_sum=False, doc="one hidden softplus layer, output layer fixed")),
    attributes=("alpha", "beta", "Ljac", "d", "n"),
    member=_os_member,
    member_exact=os_network_member_extended,
    encode=_encode,
    decode=_decode,
    problem_type=NetProblem,
))
CLASSES.append(OS_NET_CLASS)


# ------------------------------------------------------------------- leaky-ReLU single-neuron GLM


def _leaky_glm(rng: np.random.Generator, nb: int, k: Knobs) -> InstanceBatch:
    """X, w* and a on integer grids and v a power of two, so that ``y = v sigma(X w*)`` is computed
    without rounding and w* is exactly a minimizer (the exact membership check needs it): with
    ``D = ceil(log2 d)``, X w* is a sum of d products of bX- and bw-bit integers (at most
    ``2^(bX + bw + D)``) and ``a`` has 10 bits, so ``a x_i^T w*`` fits the 53 bits of a float64."""
    d = int(k.dim)
    n = d + int(rng.integers(0, 2 * d + 2))
    D = int(d - 1).bit_length()
    bX = bw = (53 - 10 - D) // 2
    a = np.clip(np.round(rng.uniform(0.05, 0.95, nb) * 1024), 1, 1023) / 1024
    if k.pattern % 4 == 1:
        a = np.full(nb, 52 / 1024)  # the weakest RSI constant (about 0.05)
    elif k.pattern % 4 == 2:
        a = np.full(nb, 973 / 1024)  # about 0.95
    X = rng.standard_normal((nb, n, d)) * 10.0 ** (0.5 * k.log_scale)
    if k.pattern % 4 == 3:  # ill-conditioned design: columns on scales 1 .. 1e-1.5
        X = X * 10.0 ** (-1.5 * rng.random((nb, 1, d)))
    X = on_grid(X, bX)
    for _ in range(8):  # X^T X is nonsingular almost surely (n >= d); redraw the rare exception
        lam = np.linalg.svd(X, compute_uv=False) ** 2  # eigenvalues of X^T X, descending
        # less twice the rounding allowance of the membership check's eigenvalues
        low = lam[:, -1] - 128 * n * d * EPS * lam[:, 0]
        bad = low <= 1e-9 * lam[:, 0]
        if not bad.any():
            break
        X[bad] = on_grid(rng.standard_normal((int(bad.sum()), n, d)), bX)
    # f = v^2/2 sum_i (sigma(w^T x_i) - sigma(w*^T x_i))^2 with v^2 within a factor 2 of 1/n
    vv = np.ldexp(1.0, -int(np.round(0.5 * np.log2(n))))
    v = np.full((nb, 1), vv)
    wstar = on_grid(rng.standard_normal((nb, d)), bw)
    y = net_forward(X, v, wstar[:, None, :], 2, a[:, None, None])  # exact (docstring)
    mu = a**2 * vv * vv * low * (1 - 1e-12)
    L = vv * vv * lam[:, 0] * (1 + 128 * n * d * EPS)
    w0 = wstar + rng.standard_normal((nb, d)) * 10.0 ** k.log_w0
    prob = NetProblem(X, v, y, 2, a, wstar.copy())
    return InstanceBatch("leaky_glm", prob, w0, {"L": L, "mu": mu, "d": np.full(nb, float(d)), "n": np.full(nb, float(n))})


def _glm_member(batch: InstanceBatch) -> tuple[np.ndarray, list[str]]:
    """Checks from the arrays: leaky ReLU with a in (0, 1), one neuron with output weight v != 0, y =
    v sigma(X w*) (so w* minimizes f with f(w*) = 0), mu <= a^2 v^2 lambda_min(X^T X) > 0
    and L >= v^2 lambda_max(X^T X) (eigenvalues of the Gram matrix, not the generator's SVD)."""
    p: NetProblem = batch.problem
    B, n, d = p.X.shape
    if p.act != 2 or p.v.shape[1] != 1:
        return np.zeros(B, bool), ["not a single leaky-ReLU neuron"] * B
    v2 = p.v[:, 0] ** 2
    lam = np.linalg.eigvalsh(np.einsum("bni,bnj->bij", p.X, p.X)) * v2[:, None]
    u = np.einsum("bnd,bd->bn", p.X, p.anchor)
    target = np.where(u >= 0, u, p.a[:, None] * u) * p.v
    reasons = [""] * B
    for i in range(B):
        L, mu = float(batch.attrs["L"][i]), float(batch.attrs["mu"][i])
        tol = 64 * n * d * EPS * lam[i, -1]
        if not 0 < p.a[i] < 1:
            reasons[i] = f"leaky slope a = {p.a[i]!r} not in (0, 1)"
        elif p.v[i, 0] == 0:
            reasons[i] = "output weight v = 0"
        elif not np.allclose(p.y[i], target[i], rtol=16 * EPS, atol=16 * EPS * np.abs(target[i]).max()):
            reasons[i] = "y is not v sigma(X w*): w* is not the minimizer"
        elif mu > p.a[i] ** 2 * (lam[i, 0] - tol) or lam[i, 0] <= tol:
            reasons[i] = f"mu = {mu!r} > a^2 lambda_min = {p.a[i] ** 2 * lam[i, 0]!r}"
        elif L < lam[i, -1] - tol:
            reasons[i] = f"L = {L!r} < v^2 lambda_max(X^T X) = {lam[i, -1]!r}"
    return np.array([not r for r in reasons]), reasons


GLM_CLASS = (InstanceClass(
    name="rsi_leaky_glm",
    text="f(w) = v^2/2 sum_i (sigma(w^T x_i) - sigma(w*^T x_i))^2 (v the output weight, a power of two with "
    "v^2 within a factor 2 of 1/n), sigma = leaky ReLU with slope a: RSI "
    "<grad f(w), w - w*> >= mu ||w - w*||^2 with mu = a^2 v^2 lambda_min(X^T X), and "
    "||grad f(w)|| <= L ||w - w*|| with L = v^2 lambda_max(X^T X)",
    families=(Family(name="leaky_glm", generate=_leaky_glm, finite_sum=False, doc="single leaky-ReLU neuron, realizable targets"),),
    attributes=("L", "mu", "d", "n"),
    member=_glm_member,
    member_exact=glm_member_exact,
    encode=_encode,
    decode=_decode,
    problem_type=NetProblem,
))
CLASSES.append(GLM_CLASS)


# ----------------------------------------------------------------------------- gd_net dynamics


@dataclass(frozen=True)
class NetObsRun:
    res2: np.ndarray
    res2abs: np.ndarray
    gnorm2: np.ndarray
    dist2: np.ndarray
    dist2abs: np.ndarray
    steplen: np.ndarray


def _run_gd_net(req: RunRequest) -> Run:
    problem, w0 = req.problem, req.w0
    p = problem.astype(req.dtype)
    r = gd_net(p.X, p.v, p.y, p.act, np.asarray(w0, dtype=req.dtype), np.asarray(req.params["eta"], dtype=req.dtype),
               req.horizon, a=p.a if p.act == 2 else 0.0, anchor=p.anchor, backend=req.backend, dtype=req.dtype)
    return Run(NetObsRun(r.res2, r.res2abs, r.gnorm2, r.dist2, r.dist2abs, r.steplen), backend=r.backend)


def _steps(r: NetObsRun) -> np.ndarray:
    n, T1 = r.res2.shape
    return np.broadcast_to(np.arange(T1 - 1, dtype=r.res2.dtype), (n, T1 - 1))


_NET_PER_STEP = {
    "step_t": _steps,
    "res2_t": lambda r: r.res2[:, :-1],
    "res2_next": lambda r: r.res2[:, 1:],
    "res2abs_t": lambda r: r.res2abs[:, :-1],
    "res2abs_next": lambda r: r.res2abs[:, 1:],
    "gnorm2_t": lambda r: r.gnorm2[:, :-1],
    "dist2_t": lambda r: r.dist2[:, :-1],
    "dist2_next": lambda r: r.dist2[:, 1:],
    "dist2abs_t": lambda r: r.dist2abs[:, :-1],
    "dist2abs_next": lambda r: r.dist2abs[:, 1:],
    "disp_next": lambda r: np.sqrt(r.dist2[:, 1:]),
    "dispabs_next": lambda r: np.sqrt(r.dist2abs[:, 1:]),
}
_NET_TRAJECTORY = {
    "res2_first": lambda r: r.res2[:, 0],
    "res2abs_first": lambda r: r.res2abs[:, 0],
    "res2_last": lambda r: r.res2[:, -1],
    "res2abs_last": lambda r: r.res2abs[:, -1],
    "dist2_first": lambda r: r.dist2[:, 0],
    "dist2abs_first": lambda r: r.dist2abs[:, 0],
    "path_length": lambda r: r.steplen.sum(axis=1),
    "displacement": lambda r: np.sqrt(r.dist2[:, -1]),
    "horizon": lambda r: np.full(r.res2.shape[0], r.res2.shape[1] - 1, dtype=r.res2.dtype),
}
_NET_SCALE_OF = {
    "res2_t": "res2abs_t", "res2_next": "res2abs_next", "res2_first": "res2abs_first", "res2_last": "res2abs_last",
    "dist2_t": "dist2abs_t", "dist2_next": "dist2abs_next", "dist2_first": "dist2abs_first",
    "disp_next": "dispabs_next",
}


DYNAMICS.append(Dynamics(
    name="gd_net",
    run=_run_gd_net,
    observables=observables(_NET_PER_STEP, _NET_TRAJECTORY, _NET_SCALE_OF),
    accepts=(NetProblem,),
    parameters=("eta",),
    doc="gradient descent on 1/2 ||f(W) - y||^2 for a one-hidden-layer network with a fixed output layer "
    "(kernels.pl_networks): squared residuals, squared distance to an anchor (theta_0 or w*), step lengths",
))
