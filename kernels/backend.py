"""The one backend policy of :mod:`kernels`, and the registry of kernel implementations.

Every kernel entry point asks :func:`select` which backend runs an operation and calls the
implementation :func:`get_kernel` returns; nothing else in ``kernels/`` chooses a backend.

* A backend named explicitly (``"numpy"``, ``"numba"``, ``"cupy"``) runs only if it is registered for
  the operation, can run here and computes in the requested dtype; otherwise
  :class:`BackendUnavailable` says so in one line.  There is never a fallback to another backend.
* ``"auto"`` takes, for that operation, the first of ``("numba", "numpy")`` that is registered, can
  run here and computes in the dtype.  CuPy runs only when asked for by name.

Implementations are :class:`KernelImpl` records: an operation name (``"ridge.gd"``,
``"escape.pgd"``, ...), a backend, the dtypes it computes in and a lazy ``"module:attr"`` target.
They reach the registry through the entry-point group ``thmcheck.kernels`` -- the built-in families
exactly like third-party plugins (``pyproject.toml`` lists one entry point per family package, whose
``KERNELS`` tuple holds its records).  The group is read once, lazily, on the first
:func:`select` / :func:`get_kernel` / :func:`kernels_for`.

This module imports NumPy only; numba and CuPy are imported when a probe or a kernel needs them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "BACKENDS",
    "ENTRY_POINT_GROUP",
    "BackendUnavailable",
    "KernelImpl",
    "available_backends",
    "backend_unavailable_reason",
    "check_backend_name",
    "check_request",
    "dtype_name",
    "get_kernel",
    "kernels_for",
    "load_kernel_plugins",
    "register_kernel",
    "resolve_backend",
    "select",
]

#: The backends (``"auto"`` is a request, not a backend).
BACKENDS: tuple[str, ...] = ("numpy", "numba", "cupy")
#: Preference order of ``"auto"``; CuPy is deliberately absent (only used when named).
AUTO_ORDER: tuple[str, ...] = ("numba", "numpy")
#: Entry-point group through which kernel implementations are registered.
ENTRY_POINT_GROUP = "thmcheck.kernels"


class BackendUnavailable(RuntimeError):
    """A backend that was asked for by name cannot run here; the message names it and says why."""


class DtypeUnsupported(BackendUnavailable, ValueError):
    """The named backend is registered for the operation but does not compute in the requested dtype.

    Also a ``ValueError``: a dtype a backend cannot run has always been an argument error here."""


@dataclass(frozen=True)
class KernelImpl:
    """One implementation of an operation on one backend.

    Attributes:
        op: operation name, ``"<family>.<operation>"`` (e.g. ``"ridge.gd"``).
        backend: one of :data:`BACKENDS`.
        dtypes: names of the dtypes it computes in (``"float32"``, ``"float64"``, ``"longdouble"``).
        target: ``"package.module:attribute"`` of the callable, imported on first use.
    """

    op: str
    backend: str
    dtypes: tuple[str, ...]
    target: str

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"kernel {self.op!r}: backend must be one of {BACKENDS}, got {self.backend!r}")
        if ":" not in self.target:
            raise ValueError(f"kernel {self.op!r}: target must be 'module:attribute', got {self.target!r}")
        if isinstance(self.dtypes, str) or not self.dtypes:
            raise ValueError(f"kernel {self.op!r}: dtypes must be a non-empty tuple of dtype names")


# op -> backend -> implementation
_REGISTRY: dict[str, dict[str, KernelImpl]] = {}
_loaded = False
_problems: list[str] = []


# --------------------------------------------------------------------------------------------------
# Backend names and probes
# --------------------------------------------------------------------------------------------------


def check_backend_name(name: Any) -> str:
    """``name`` if it is a backend or ``"auto"``, else ``ValueError`` listing the valid names."""
    if not isinstance(name, str) or name not in BACKENDS + ("auto",):
        valid = ", ".join(repr(n) for n in BACKENDS + ("auto",))
        raise ValueError(f"unknown backend {name!r}; valid backends are {valid}")
    return name


def _cupy_probe() -> str | None:
    """None if CuPy can run here, else the reason it cannot."""
    if importlib.util.find_spec("cupy") is None:
        return "cupy is not installed; pip install 'thmcheck[gpu]'"
    try:
        import cupy  # noqa: PLC0415 - lazy by design

        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot run"
        return f"cupy: no CUDA device ({type(exc).__name__}: {exc})"
    if count < 1:
        return "cupy: no CUDA device"
    return None


def _numba_probe() -> str | None:
    """None if numba imports, else the reason it does not."""
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed; pip install numba"
    try:
        importlib.import_module("numba")
    except Exception as exc:  # noqa: BLE001
        return f"numba: import failed ({type(exc).__name__}: {exc})"
    return None


@cache
def backend_unavailable_reason(name: str) -> str | None:
    """None if backend ``name`` can run here, else why not (cached; may import numba or CuPy)."""
    check_backend_name(name)
    if name == "numba":
        return _numba_probe()
    if name == "cupy":
        return _cupy_probe()
    if name == "auto":
        raise ValueError("'auto' is a request, not a backend")
    return None


def available_backends() -> tuple[str, ...]:
    """The backends that can run here, in :data:`BACKENDS` order.  Never raises.

    numpy is always available; numba counts when the package is found (not imported: that is slow),
    CuPy when it imports and sees a CUDA device.
    """
    out = []
    for name in BACKENDS:
        try:
            ok = importlib.util.find_spec("numba") is not None if name == "numba" \
                else backend_unavailable_reason(name) is None
        except Exception:  # noqa: BLE001 - documented never to raise
            ok = False
        if ok:
            out.append(name)
    return tuple(out)


def dtype_name(dtype: Any) -> str:
    """Registry name of a dtype: its NumPy name, except ``"longdouble"`` for an extended long double."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype {dtype!r} is not a NumPy dtype") from exc
    if dt == np.dtype(np.longdouble) and dt != np.dtype(np.float64):
        return "longdouble"
    return dt.name


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------


def register_kernel(impl: KernelImpl) -> KernelImpl:
    """Add ``impl`` to the registry.  Registering the same record again is a no-op; another target
    for an (op, backend) pair already taken is a ``ValueError`` naming both."""
    if not isinstance(impl, KernelImpl):
        raise TypeError(f"register_kernel takes a KernelImpl, got {type(impl).__name__}")
    have = _REGISTRY.setdefault(impl.op, {}).get(impl.backend)
    if have is not None and have != impl:
        raise ValueError(f"kernel {impl.op!r} on backend {impl.backend!r} is already registered as "
                         f"{have.target} {have.dtypes}; refusing {impl.target} {impl.dtypes}")
    _REGISTRY[impl.op][impl.backend] = impl
    return impl


def _entry_points() -> Iterable[Any]:
    """The entry points of :data:`ENTRY_POINT_GROUP` (a function so tests can substitute it)."""
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _impls_of(obj: Any) -> list[KernelImpl]:
    """The records an entry point's object stands for: a KernelImpl, an iterable of them, or a
    module with a ``KERNELS`` tuple."""
    if isinstance(obj, KernelImpl):
        return [obj]
    if isinstance(obj, ModuleType):
        if not hasattr(obj, "KERNELS"):
            raise TypeError(f"module {obj.__name__} has no KERNELS tuple")
        obj = obj.KERNELS
    items = list(obj)
    bad = [type(x).__name__ for x in items if not isinstance(x, KernelImpl)]
    if bad:
        raise TypeError(f"expected KernelImpl records, got {', '.join(sorted(set(bad)))}")
    return items


def load_kernel_plugins() -> list[str]:
    """Register every implementation named by the ``thmcheck.kernels`` entry points.

    Each entry point's value is a module or ``module:attr``; the object is a :class:`KernelImpl`, an
    iterable of them, or a module holding a ``KERNELS`` tuple.  Nothing raises: a broken entry point
    becomes a one-line problem string ``"kernel plugin NAME (dist DIST): <error>"`` in the returned
    list (also kept for the messages of :func:`select`).  Safe to call again (re-registration of the
    same records is a no-op).
    """
    global _loaded
    problems: list[str] = []
    try:
        eps = list(_entry_points())
    except Exception as exc:  # noqa: BLE001 - a broken metadata store must not break kernels
        eps = []
        problems.append(f"kernel plugins: cannot read entry points ({type(exc).__name__}: {exc})")
    for ep in eps:
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        try:
            for impl in _impls_of(ep.load()):
                register_kernel(impl)
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            msg = " ".join(f"{type(exc).__name__}: {exc}".split())
            problems.append(f"kernel plugin {ep.name} (dist {dist}): {msg}")
    _loaded = True
    _problems[:] = problems
    return problems


def _ensure_loaded() -> None:
    if not _loaded:
        load_kernel_plugins()


def kernels_for(op: str) -> dict[str, KernelImpl]:
    """The registered implementations of ``op``, by backend (empty when none)."""
    _ensure_loaded()
    return dict(_REGISTRY.get(op, {}))


def _registered_text(op: str) -> str:
    impls = _REGISTRY.get(op, {})
    if not impls:
        text = f"no implementation of {op!r} is registered"
        if not _REGISTRY:
            text += f" (the {ENTRY_POINT_GROUP!r} entry points are missing: pip install -e . to register them)"
        if _problems:
            text += "; plugin problems: " + " | ".join(_problems)
        return text
    return "registered: " + ", ".join(f"{b} ({', '.join(i.dtypes)})" for b, i in sorted(impls.items()))


def select(op: str, requested: str, dtype: Any) -> str:
    """The backend that runs ``op`` in ``dtype`` for a request of ``requested`` (the only place a
    backend is chosen; see the module docstring for the policy).

    Raises:
        ValueError: ``requested`` is not a backend or ``"auto"``, or ``dtype`` is not a dtype.
        BackendUnavailable: nothing can run the request (the one-line message names the op, the
            backend, the dtype and what is registered).  :class:`DtypeUnsupported` (also a
            ``ValueError``) when the named backend exists for ``op`` but not for ``dtype``.
    """
    check_backend_name(requested)
    dt = dtype_name(dtype)
    _ensure_loaded()
    impls = _REGISTRY.get(op, {})
    if requested == "auto":
        for name in AUTO_ORDER:
            impl = impls.get(name)
            if impl is not None and dt in impl.dtypes and backend_unavailable_reason(name) is None:
                return name
        raise BackendUnavailable(f"kernel {op}: no backend can run 'auto' in {dt} here; {_registered_text(op)}")
    impl = impls.get(requested)
    if impl is None:
        raise BackendUnavailable(f"kernel {op}: backend {requested!r} ({dt}) has no implementation; "
                                 f"{_registered_text(op)}")
    if dt not in impl.dtypes:
        others = [b for b, i in sorted(impls.items()) if dt in i.dtypes]
        hint = f"; use backend={others[0]!r} for {dt}" if others else ""
        raise DtypeUnsupported(f"kernel {op}: backend {requested!r} computes in {', '.join(impl.dtypes)} only, "
                               f"not {dt}; {_registered_text(op)}{hint}")
    reason = backend_unavailable_reason(requested)
    if reason is not None:
        raise BackendUnavailable(f"kernel {op}: backend {requested!r} ({dt}) cannot run here: {reason}")
    return requested


@cache
def _load_target(target: str) -> Callable[..., Any]:
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def get_kernel(op: str, backend: str) -> Callable[..., Any]:
    """The callable implementing ``op`` on ``backend`` (its module imported on first use)."""
    _ensure_loaded()
    impl = _REGISTRY.get(op, {}).get(backend)
    if impl is None:
        raise BackendUnavailable(f"kernel {op}: backend {backend!r} has no implementation; {_registered_text(op)}")
    return _load_target(impl.target)


def check_request(name: Any) -> str:
    """Validate a run's backend request once, at the boundary (CLI, pytest option, API): a known
    name, and a named backend that can run on this machine; returns it unchanged.  ``"auto"`` stays
    ``"auto"``: every operation then resolves it with :func:`select`, the one place a backend is
    chosen, so a run can use numba for one kernel and NumPy for an operation numba does not
    implement -- and every record names what actually ran."""
    check_backend_name(name)
    if name != "auto":
        reason = backend_unavailable_reason(name)
        if reason is not None:
            raise BackendUnavailable(reason)
    return str(name)


def resolve_backend(name: str) -> str:
    """Compatibility: the backend a request for ``name`` runs the ridge-quadratic kernels
    (``ridge.gd``) on, in float64.

    ``"auto"`` -> numba when it can run, else numpy; a backend named explicitly that cannot run raises
    :class:`BackendUnavailable`; an unknown name raises ``ValueError`` listing the valid ones.  New code
    calls :func:`select` with its own operation and dtype.
    """
    check_backend_name(name)
    if name != "auto":
        # The name alone decides here (callers such as the CLI probe a backend before any op runs).
        reason = backend_unavailable_reason(name)
        if reason is not None:
            raise BackendUnavailable(reason)
        return name
    return select("ridge.gd", name, np.float64)
