"""Process state that must not leak into a search's results.

A search is a pure function of (experiment, budget, seed, backend) only if nothing about the process
it runs in changes what it computes.  Two things did, found when the same search ran in a fresh
worker process and in a long-lived one:

* **Hypothesis's local constants.**  Hypothesis mixes into its draws, with a small probability,
  numeric constants it scrapes from the source of every *local* module loaded so far (modules
  outside site-packages and the standard library).  Which modules are loaded, and whether the
  project counts as local (an editable install does, a wheel does not), then changes the examples
  drawn: a theorem checked alone, in a worker, or after the whole catalogue saw different
  instances.  :func:`hypothesis_without_local_constants` empties that pool while a search runs.
* **BLAS threads.**  Multi-threaded OpenBLAS splits reductions differently with the number of
  threads, which moves the last digits of LAPACK results (eigenvalues of drawn matrices).
  :func:`single_threaded_blas` pins BLAS to one thread; a run on several cores gets its parallelism
  from running several searches at once instead.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

__all__ = ["hypothesis_without_local_constants", "single_threaded_blas"]


@contextlib.contextmanager
def hypothesis_without_local_constants() -> Iterator[None]:
    """While the block runs, Hypothesis draws no constants scraped from loaded modules (its built-in
    global constants are kept).  This reaches into ``hypothesis.internal.conjecture.providers``, a
    private module: Hypothesis has no public switch for the pool.  If that module no longer has the
    pool this is a no-op -- the feature it guards against is then gone too."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the private module
        yield
        return
    getter = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    constants = getattr(providers, "Constants", None)
    if getter is None or cache is None or constants is None:  # pragma: no cover - a different Hypothesis
        yield
        return
    empty = constants()

    def none() -> Any:
        return empty

    # The cache holds the filtered local pool per choice type: clear it on the way in and out so
    # neither this search nor later users of Hypothesis see the other's pool.
    cache.cache.clear()
    providers._get_local_constants = none
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.cache.clear()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS libraries loaded by NumPy and SciPy run on one thread inside the block (numba's own
    threads are set separately)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
