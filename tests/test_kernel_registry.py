"""The backend policy and kernel registry of kernels.backend: select(), registration, entry points."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import kernels
from kernels import backend as kb
from kernels.backend import BackendUnavailable, KernelImpl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry (built-ins loaded), so tests can register freely."""
    kb.kernels_for("ridge.gd")  # load the built-in entry points once
    monkeypatch.setattr(kb, "_REGISTRY", {op: dict(impls) for op, impls in kb._REGISTRY.items()})
    monkeypatch.setattr(kb, "_problems", list(kb._problems))
    return kb._REGISTRY


def _numba_runs() -> bool:
    return kb.backend_unavailable_reason("numba") is None


# --------------------------------------------------------------------------------------------------
# select()
# --------------------------------------------------------------------------------------------------


def test_builtin_families_are_registered_through_entry_points():
    ops = {"ridge.gd", "ridge.sgd", "escape.gd", "escape.pgd", "escape.coupled", "cp.noisy_gd", "cp.sample", "cp.planes",
           "pwq.gd", "pl.quartic_huber", "pl_networks.gd_net", "scale_invariant.gd_wd", "layernorm.value_grad",
           "matrices.eigvalsh"}
    for op in ops:
        assert {"numpy", "numba"} <= set(kb.kernels_for(op)), op
    assert set(kb.kernels_for("ridge.gd")) == {"numpy", "numba", "cupy"}
    assert "cupy" not in kb.kernels_for("pwq.gd")


@pytest.mark.skipif(not _numba_runs(), reason="numba cannot run here")
def test_auto_picks_numba_for_float64_and_numpy_for_longdouble():
    assert kb.select("ridge.gd", "auto", np.float64) == "numba"
    assert kb.select("escape.pgd", "auto", "float64") == "numba"
    assert kb.select("ridge.gd", "auto", np.longdouble) == "numpy"
    assert kb.select("pwq.gd", "auto", np.float32) == "numpy"
    assert kb.select("ridge.gd", "numpy", np.longdouble) == "numpy"


def test_auto_never_picks_cupy(registry, monkeypatch):
    monkeypatch.setattr(kb, "backend_unavailable_reason", lambda name: None)  # pretend everything runs
    registry["ridge.gd"].pop("numba")
    assert kb.select("ridge.gd", "auto", np.float64) == "numpy"


def test_explicit_unregistered_backend_is_unavailable_naming_op_backend_dtype():
    with pytest.raises(BackendUnavailable) as err:
        kb.select("pwq.gd", "cupy", np.float64)
    msg = str(err.value)
    assert "\n" not in msg
    assert "pwq.gd" in msg and "'cupy'" in msg and "float64" in msg
    assert "registered: numba (float64), numpy (float32, float64, longdouble)" in msg


def test_explicit_backend_without_the_dtype_is_unavailable_and_a_value_error():
    with pytest.raises(BackendUnavailable, match=r"ridge.gd: backend 'numba' computes in float64 only, not longdouble"
                       r".*use backend='numpy'") as err:
        kb.select("ridge.gd", "numba", np.longdouble)
    assert isinstance(err.value, ValueError)


def test_explicit_backend_that_cannot_run_is_unavailable(monkeypatch):
    monkeypatch.setattr(kb, "backend_unavailable_reason", lambda name: "numba: pretend" if name == "numba" else None)
    with pytest.raises(BackendUnavailable, match="escape.gd: backend 'numba' .* cannot run here: numba: pretend"):
        kb.select("escape.gd", "numba", np.float64)
    assert kb.select("escape.gd", "auto", np.float64) == "numpy"


def test_unknown_backend_name_is_a_value_error_listing_the_valid_ones():
    with pytest.raises(ValueError, match="'numpy', 'numba', 'cupy', 'auto'"):
        kb.select("ridge.gd", "jax", np.float64)
    with pytest.raises(ValueError, match="unknown backend"):
        kb.check_backend_name("Numba")


def test_unknown_op_says_nothing_is_registered():
    with pytest.raises(BackendUnavailable, match="no implementation of 'nope.gd' is registered"):
        kb.select("nope.gd", "numpy", np.float64)


def test_entry_points_record_the_backend_that_ran():
    run = kernels.gd_pwq(kernels.PiecewiseQuadratic(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]),
                                                    np.array([0.0])), [0.5], [0.1], 3, backend="numpy")
    assert run.backend == "numpy"
    with pytest.raises(BackendUnavailable):
        kernels.gd_pwq(kernels.PiecewiseQuadratic(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), np.array([0.0])),
                       [0.5], [0.1], 3, backend="cupy")


# --------------------------------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------------------------------


def test_duplicate_registration_with_another_target_is_refused(registry):
    impl = KernelImpl("ridge.gd", "numpy", ("float64",), "somewhere.else:gd")
    with pytest.raises(ValueError, match="kernels.ridge.reference:gd.*somewhere.else:gd"):
        kb.register_kernel(impl)
    same = kb.kernels_for("ridge.gd")["numpy"]
    assert kb.register_kernel(same) is same  # the very same record again: a no-op


def test_kernel_impl_is_validated():
    with pytest.raises(ValueError, match="backend"):
        KernelImpl("x.y", "jax", ("float64",), "m:f")
    with pytest.raises(ValueError, match="target"):
        KernelImpl("x.y", "numpy", ("float64",), "no_colon")


# --------------------------------------------------------------------------------------------------
# Entry points (plugins)
# --------------------------------------------------------------------------------------------------


def double_kernel(x: np.ndarray) -> np.ndarray:
    """The plugin kernel of the tests."""
    return 2 * x


PLUGIN = KernelImpl("plugin.double", "numpy", ("float64", "float32"), f"{__name__}:double_kernel")


class _EntryPoint:
    def __init__(self, name: str, load, dist: str = "thmcheck-test-plugin"):
        self.name = name
        self._load = load
        self.dist = types.SimpleNamespace(name=dist)

    def load(self):
        return self._load()


def _boom():
    raise ImportError("No module named 'missing_plugin'")


def test_a_plugin_entry_point_is_registered_and_selectable(registry, monkeypatch):
    module = types.ModuleType("fake_plugin")
    module.KERNELS = (KernelImpl("plugin.triple", "numba", ("float64",), f"{__name__}:double_kernel"),)
    eps = [_EntryPoint("single", lambda: PLUGIN), _EntryPoint("module", lambda: module)]
    monkeypatch.setattr(kb, "_entry_points", lambda: eps)
    assert kb.load_kernel_plugins() == []
    assert kb.kernels_for("plugin.double") == {"numpy": PLUGIN}
    assert kb.select("plugin.double", "auto", np.float32) == "numpy"
    assert kb.get_kernel("plugin.double", "numpy")(np.array([1.5]))[0] == 3.0
    assert set(kb.kernels_for("plugin.triple")) == {"numba"}


def test_a_broken_plugin_yields_a_problem_string_not_an_exception(registry, monkeypatch):
    eps = [_EntryPoint("broken", _boom), _EntryPoint("junk", lambda: [1, 2]), _EntryPoint("good", lambda: PLUGIN)]
    monkeypatch.setattr(kb, "_entry_points", lambda: eps)
    problems = kb.load_kernel_plugins()
    assert problems == [
        "kernel plugin broken (dist thmcheck-test-plugin): ImportError: No module named 'missing_plugin'",
        "kernel plugin junk (dist thmcheck-test-plugin): TypeError: expected KernelImpl records, got int",
    ]
    assert kb.select("plugin.double", "numpy", np.float64) == "numpy"  # the good one still registered


def test_importing_kernels_imports_neither_numba_nor_cupy():
    code = (
        "import sys, kernels, kernels.backend as kb\n"
        "import numpy as np\n"
        "kb.kernels_for('ridge.gd')\n"  # loading the entry points imports no backend either
        "assert kb.select('ridge.gd', 'numpy', np.float64) == 'numpy'\n"
        "assert 'numba' not in sys.modules and 'cupy' not in sys.modules, 'backend imported'\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
