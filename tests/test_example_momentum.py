"""The momentum example plugin (examples/momentum): it reaches thmcheck through the public API only,
its NumPy and numba kernels agree, and each instance class's membership check accepts what its
generators build and rejects broken instances.

The plugin must be installed (``pip install -e examples/momentum``; CI installs it).  Without it
every test here that needs it FAILS with that instruction -- never a skip.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "momentum"
PROJECT = {"theorems", "symbolic", "numeric", "kernels", "reports"}
# The public modules a plugin may import from thmcheck.
ALLOWED = {"numeric", "numeric.api", "numeric.registry", "numeric.exact_membership", "theorems.spec", "kernels",
           "kernels.backend", "symbolic"}
INSTALL = ("the example plugin thmcheck_momentum is not installed: run `pip install -e examples/momentum` "
           "(CI installs it before the tests)")


@pytest.fixture(scope="module")
def mom() -> SimpleNamespace:
    """The plugin's modules; a missing installation fails the test (it is not a skip)."""
    if importlib.util.find_spec("thmcheck_momentum") is None:
        pytest.fail(INSTALL, pytrace=False)
    return SimpleNamespace(**{name: importlib.import_module(f"thmcheck_momentum.{name}")
                              for name in ("kernels", "classes", "dynamics", "theorems")})


def test_example_package_is_installed() -> None:
    assert importlib.util.find_spec("thmcheck_momentum") is not None, INSTALL


# ------------------------------------------------------------------------------ (a) public API only


def private_imports(source: str, filename: str = "<string>") -> list[str]:
    """Offending uses of thmcheck in ``source``: imports of a project module outside :data:`ALLOWED`
    (numeric.families, numeric.engine, kernels._numba, ...), of a name starting with ``_``, and
    attribute access ``mod._name`` on an imported project module."""
    tree = ast.parse(source, filename=filename)
    out: list[str] = []
    bound: set[str] = set()  # local names bound to project modules

    def check_module(mod: str, line: int) -> None:
        parts = mod.split(".")
        if parts[0] not in PROJECT:
            return
        if any(p.startswith("_") for p in parts):
            out.append(f"{filename}:{line}: imports private module {mod}")
        elif mod.startswith(("numeric.families", "numeric.engine")):
            out.append(f"{filename}:{line}: imports framework internals {mod}")
        elif mod not in ALLOWED:
            out.append(f"{filename}:{line}: imports {mod}, not one of the public modules {sorted(ALLOWED)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_module(alias.name, node.lineno)
                if alias.name.split(".")[0] in PROJECT:
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            check_module(node.module, node.lineno)
            if node.module.split(".")[0] in PROJECT:
                for alias in node.names:
                    if alias.name.startswith("_"):
                        out.append(f"{filename}:{node.lineno}: imports private name {alias.name} from {node.module}")
                    elif f"{node.module}.{alias.name}".startswith(("numeric.families", "numeric.engine")):
                        out.append(f"{filename}:{node.lineno}: imports framework internals {node.module}.{alias.name}")
                    bound.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in bound):
            out.append(f"{filename}:{node.lineno}: uses private attribute {node.value.id}.{node.attr}")
    return out


def test_example_uses_only_the_public_api() -> None:
    files = sorted(EXAMPLE.rglob("*.py"))
    assert len(files) >= 4, f"expected the plugin's modules under {EXAMPLE}"
    offences = [o for f in files for o in private_imports(f.read_text(encoding="utf-8"), str(f.relative_to(ROOT)))]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("source", [
    "from kernels._numba import gd\n",
    "import kernels._reference as ref\n",
    "from numeric.families.ridge import CLASSES\n",
    "from numeric.engine.search import Search\n",
    "from numeric import engine\n",
    "from numeric.registry import _classes\n",
    "import kernels\nkernels._unavailable_reason('numba')\n",
    "from theorems.pipeline import compile_theorem\n",
])
def test_the_import_scan_catches_private_use(source: str) -> None:
    assert private_imports(source), source


def test_the_import_scan_allows_the_public_api() -> None:
    ok = ("import numpy as np\nfrom numeric.api import Dynamics, observables\nfrom numeric import CLASSES\n"
          "from theorems.spec import Theorem\nfrom kernels import BackendUnavailable, resolve_backend\n"
          "import symbolic\nfrom .kernels import heavy_ball\n")
    assert private_imports(ok) == []


# ------------------------------------------------------------------------------------- (b) kernels


def _quad_huber(K, rng: np.random.Generator, B: int = 48, d: int = 3, m: int = 4):
    A = rng.standard_normal((B, d, d))
    A = A @ np.swapaxes(A, 1, 2) / d
    p = K.QuadHuber(A, rng.standard_normal((B, d)), rng.standard_normal(B), rng.standard_normal((B, m, d)),
                    rng.exponential(1.0, (B, m)), 10.0 ** rng.uniform(-1.5, 0.5, (B, m)))
    return p, p.xs + 2 * rng.standard_normal((B, d))


def _pwq(mom, rng: np.random.Generator, B: int = 48, d: int = 2, K: int = 6):
    z = np.concatenate([np.zeros((B, d, 1)), np.cumsum(10.0 ** rng.uniform(-1, 1, (B, d, K)), axis=2)], axis=2)
    m = rng.integers(0, K + 1, (B, d))
    z = z - np.take_along_axis(z, m[..., None], axis=2)
    p = mom.classes.pwq_from_curvatures(z, rng.uniform(0.05, 1.0, (B, d, K + 2)), m, rng.standard_normal(B))
    return p, p.xs + 4 * rng.standard_normal((B, d))


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
@pytest.mark.parametrize("kind", ["quad_huber", "pwq"])
def test_numba_matches_the_reference(mom, method: str, kind: str) -> None:
    K = mom.kernels
    rng = np.random.default_rng(7)
    p, x0 = _quad_huber(K, rng) if kind == "quad_huber" else _pwq(mom, rng)
    B = p.size
    if method == "heavy_ball":
        alpha, beta = rng.uniform(0.05, 0.8, B), rng.uniform(0.0, 0.95, B)
        runs = [K.heavy_ball(p, x0, alpha, beta, 25, backend=b) for b in ("numpy", "numba")]
    else:
        s = rng.uniform(0.05, 0.5, B)
        runs = [K.nesterov(p, x0, s, 25, backend=b) for b in ("numpy", "numba")]
    ref, fast = runs
    assert (ref.backend, fast.backend) == ("numpy", "numba")
    for name in ("fgap", "fgap_abs", "dist2", "dist2_abs"):
        a, b = getattr(ref, name), getattr(fast, name)
        assert a.shape == (B, 26)
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12 * float(np.abs(a).max()), err_msg=name)
    assert np.all(ref.fgap >= -1e-9 * ref.fgap_abs), "f(x_k) - f* must be >= 0 up to rounding"


@pytest.mark.parametrize("kind", ["quad_huber", "pwq"])
def test_longdouble_reference_runs(mom, kind: str) -> None:
    K = mom.kernels
    rng = np.random.default_rng(3)
    p, x0 = _quad_huber(K, rng, B=8) if kind == "quad_huber" else _pwq(mom, rng, B=8)
    hi = K.heavy_ball(p, x0, 0.2, 0.5, 20, backend="numpy", dtype=np.longdouble)
    lo = K.heavy_ball(p, x0, 0.2, 0.5, 20, backend="numpy")
    assert hi.dist2.dtype == np.dtype(np.longdouble) and hi.backend == "numpy" and hi.dtype in ("longdouble", "float64")
    np.testing.assert_allclose(np.asarray(hi.dist2, dtype=np.float64), lo.dist2, rtol=1e-9, atol=1e-12)
    ne = K.nesterov(p, x0, 0.1, 20, backend="numpy", dtype=np.longdouble)
    assert ne.fgap.dtype == np.dtype(np.longdouble)


def test_backend_policy(mom) -> None:
    K = mom.kernels
    p, x0 = _quad_huber(K, np.random.default_rng(1), B=4)
    with pytest.raises(K.BackendUnavailable, match="momentum.run: backend .cupy. .* has no implementation"):
        K.heavy_ball(p, x0, 0.1, 0.5, 3, backend="cupy")
    with pytest.raises(ValueError, match="unknown backend"):
        K.nesterov(p, x0, 0.1, 3, backend="tpu")
    import kernels

    assert K.heavy_ball(p, x0, 0.1, 0.5, 3, backend="auto").backend == kernels.resolve_backend("auto")
    assert K.heavy_ball(p, x0, 0.1, 0.5, 3, backend="auto", dtype=np.longdouble).backend == "numpy"


# ---------------------------------------------------------------------------------- (c) membership


def _knobs(dim: int, pattern: int, seed: int):
    from numeric.api import Knobs

    return Knobs(family=0, dim=dim, pattern=pattern, log_scale=[-0.7, 0.0, 0.6][seed % 3],
                 log_w0=[-1.0, 0.0, 0.8][seed % 3], u=(), seed=seed)


CLASS_NAMES = ("strongly_convex_quadratic", "smooth_convex", "smooth_strongly_convex_pwq")


def _cls(mom, name: str):
    return next(c for c in mom.classes.CLASSES if c.name == name)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_generated_members_are_accepted(mom, name: str) -> None:
    cls = _cls(mom, name)
    for seed, (dim, pattern) in enumerate((d, p) for d in (1, 2, 5) for p in range(8)):
        rng = np.random.default_rng(seed)
        batch = cls.families[0].generate(rng, 24, _knobs(dim, pattern, seed))
        assert isinstance(batch.problem, cls.problem_types)
        assert set(cls.attributes) <= set(batch.attrs)
        ok, why = cls.member(batch)
        assert ok.all(), f"{name} d={dim} pattern={pattern}: {next(w for w in why if w)}"
    p = cls.parametrisation
    P = p.size(20)
    theta = p.sample(np.random.default_rng(0), 32, P)
    lo, hi = p.bounds(P)
    theta = np.vstack([theta, lo[None], hi[None]])
    ok, why = cls.member(p.build(theta))
    assert ok.all(), next(w for w in why if w)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_encode_decode_round_trip(mom, name: str) -> None:
    cls = _cls(mom, name)
    batch = cls.families[0].generate(np.random.default_rng(2), 4, _knobs(2, 3, 2))
    one = cls.decode(cls.encode(batch.problem, 1))
    K = mom.kernels
    a = K.heavy_ball(batch.problem.take([1]), batch.w0[1:2], 0.1, 0.3, 5, backend="numpy")
    b = K.heavy_ball(one, batch.w0[1:2], 0.1, 0.3, 5, backend="numpy")
    np.testing.assert_array_equal(a.dist2, b.dist2)
    np.testing.assert_array_equal(a.fgap, b.fgap)


def _broken(mom, name: str):
    """(batch, reason fragment) pairs of deliberately broken instances of class ``name``."""
    from numeric.api import InstanceBatch

    cls = _cls(mom, name)
    K = mom.kernels
    b = cls.families[0].generate(np.random.default_rng(5), 3, _knobs(2, 0, 0))
    p = b.problem
    out = []
    if name == "strongly_convex_quadratic":
        out.append((InstanceBatch(b.family, K.QuadHuber(1.5 * p.A, p.xs, p.fs, p.R, p.c, p.delta), b.w0, b.attrs),
                    "above L"))
        out.append((InstanceBatch(b.family, p, b.w0, {**b.attrs, "mu": 2 * b.attrs["L"]}), "mu <= L"))
        out.append((InstanceBatch(b.family, K.QuadHuber(p.A * 0.5 * (b.attrs["mu"] / b.attrs["L"])[:, None, None],
                                                        p.xs, p.fs, p.R, p.c, p.delta), b.w0, b.attrs), "below mu"))
    elif name == "smooth_convex":
        out.append((InstanceBatch(b.family, K.QuadHuber(p.A, p.xs, p.fs, p.R, 1.5 * p.c + 0.5, p.delta), b.w0,
                                  b.attrs), "exceeds L"))
        out.append((InstanceBatch(b.family, K.QuadHuber(p.A, p.xs, p.fs, p.R, -p.c - 0.01, p.delta), b.w0, b.attrs),
                    "negative"))
        A = p.A - 0.5 * b.attrs["L"][:, None, None] * np.eye(2)
        out.append((InstanceBatch(b.family, K.QuadHuber(A, p.xs, p.fs, p.R, p.c, p.delta), b.w0, b.attrs),
                    "positive semidefinite"))
    else:
        g = p.g.copy()
        g[:, :, -1] += 10 * b.attrs["L"][:, None] * (p.z[:, :, -1] - p.z[:, :, -2])  # last piece too steep
        out.append((InstanceBatch(b.family, K.SeparablePWQ(p.z, g, p.cl, p.cr, p.m, p.fs), b.w0, b.attrs),
                    "above L"))
        g2 = p.g + 1e-3 * b.attrs["L"][:, None, None]  # f'(x*) != 0
        out.append((InstanceBatch(b.family, K.SeparablePWQ(p.z, g2, p.cl, p.cr, p.m, p.fs), b.w0, b.attrs),
                    "not zero at the declared minimiser"))
        out.append((InstanceBatch(b.family, K.SeparablePWQ(p.z, p.g, p.cl * 0.5 * b.attrs["mu"][:, None] / p.cl,
                                                           p.cr, p.m, p.fs), b.w0, b.attrs), "below mu"))
        z = p.z.copy()
        z[:, :, 1] = z[:, :, 0]  # a zero-width piece (a jump of f' there)
        out.append((InstanceBatch(b.family, K.SeparablePWQ(z, p.g, p.cl, p.cr, p.m, p.fs), b.w0, b.attrs),
                    "strictly increasing"))
    return cls, out


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_broken_instances_are_rejected(mom, name: str) -> None:
    cls, cases = _broken(mom, name)
    assert cases
    for batch, fragment in cases:
        ok, why = cls.member(batch)
        assert not ok.any(), f"{name}: a broken instance ({fragment}) was accepted"
        assert all(fragment in w for w in why), (fragment, why)


# ------------------------------------------------------------------------------ registration, specs


def test_plugin_registers_through_entry_points(mom) -> None:
    from numeric import CLASSES, DYNAMICS, plugin_problems
    from numeric.registry import provider

    for name in CLASS_NAMES:
        assert CLASSES[name] is _cls(mom, name)
        assert "thmcheck-momentum" in provider("instance class", name)
    assert DYNAMICS["heavy_ball"] is mom.dynamics.HEAVY_BALL
    assert DYNAMICS["nesterov"] is mom.dynamics.NESTEROV
    assert not [p for p in plugin_problems() if "momentum" in p]
    ids = {t.id for t in mom.theorems.THEOREMS}
    assert ids == {"momentum.nesterov_rate", "momentum.heavy_ball_quadratic", "momentum.heavy_ball_global"}
