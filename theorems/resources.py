"""Resource guard: a theorem whose search cannot fit in memory is refused before it starts.

A search runs batches of trajectories and keeps every per-step observable (and its rounding-scale
companion) for every step of every trajectory in the batch, in float64.  ``horizon=3_000_000``
once grew to 24 GB and was killed by the kernel with nothing written; the estimate below is a
lower bound of that footprint, so a refusal is never a false alarm, and the message names the
field to change and the number that decided.
"""

from __future__ import annotations

import os
from typing import Any

import numeric

from .spec import SpecError, Theorem

__all__ = ["MAX_HORIZON", "estimate_bytes", "memory_limit", "check_resources"]

# Kernels index steps with 32-bit integers (the CUDA kernels take ``np.int32(T)``).
MAX_HORIZON = 2**31 - 1
_FLOAT = 8  # bytes of a float64


def memory_limit() -> int:
    """Bytes one search may plan to use: half the physical memory (the rest is the process, the
    compiled kernels and whatever else runs on the machine)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        total = 8 * 2**30
    return int(total) // 2


def estimate_bytes(thm: Theorem, budget: numeric.Budget) -> tuple[int, str]:
    """A lower bound of the memory one batch of ``thm``'s search holds, and how it was counted."""
    batch = max(budget.bulk_batch, budget.example_batch)
    dyn = numeric.DYNAMICS.get(str(thm.dynamics))
    per_step = max(1, len(dyn.per_step) if dyn is not None else 1)
    steps = int(thm.horizon) + 1
    d = max((int(x) for x in thm.dims), default=1)
    # Every per-step observable (rounding scales are observables too) is one (batch, steps) array;
    # the iterate and its update are two (batch, d) arrays.
    series = batch * steps * per_step * _FLOAT
    iterates = batch * d * 2 * _FLOAT
    how = (f"{batch} trajectories x {steps} steps x {per_step} per-step observable(s), float64, "
           f"at budget {budget.name}")
    return series + iterates, how


def _gb(n: int) -> str:
    return f"{n / 2**30:.3g} GB"


def check_resources(thm: Theorem, budget: numeric.Budget, limit: int | None = None) -> None:
    """Raise :class:`SpecError` naming ``horizon`` (or ``dims``) when ``thm``'s search at
    ``budget`` would need more than ``limit`` bytes (default :func:`memory_limit`)."""
    if int(thm.horizon) > MAX_HORIZON:
        raise SpecError(thm.id, "horizon", f"{thm.horizon} steps is more than the kernels can index ({MAX_HORIZON})")
    limit = memory_limit() if limit is None else limit
    need, how = estimate_bytes(thm, budget)
    if need <= limit:
        return
    batch = max(budget.bulk_batch, budget.example_batch)
    dyn = numeric.DYNAMICS.get(str(thm.dynamics))
    per_step = max(1, len(dyn.per_step) if dyn is not None else 1)
    d = max((int(x) for x in thm.dims), default=1)
    series = batch * (int(thm.horizon) + 1) * per_step * _FLOAT
    field = "horizon" if series >= batch * d * 2 * _FLOAT else "dims"
    value: Any = thm.horizon if field == "horizon" else max(thm.dims)
    raise SpecError(thm.id, field, f"{field}={value} needs at least {_gb(need)} of memory ({how}); "
                                   f"at most {_gb(limit)} is available to a search here: lower {field}")


def resource_problems(theorems: list[Theorem], budget_name: str) -> list[str]:
    """One line per theorem of ``theorems`` whose search at the named budget cannot fit in memory."""
    budget = numeric.budget(budget_name)
    lines = []
    for thm in theorems:
        try:
            check_resources(thm, budget)
        except SpecError as exc:
            lines.append(str(exc))
    return lines


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
