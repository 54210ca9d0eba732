"""Stop checks inside a long experiment.

A run stops on SIGINT or SIGTERM at safe points: the signal handler only sets a flag, and the
runner asks for it (``theorems.interrupt.SignalGuard.check``), raising there.  Between theorems and
between a theorem's experiments is not enough: one experiment (a whole search, or a statistical
measurement over many sizes) can run for minutes.  So the runner also installs its check here, for
the duration of a theorem, and the engine calls :func:`check_stop` before every batch it generates
and runs: a batch is the chunk after which stopping loses nothing already recorded (the
experiment's partial outcomes are dropped and the theorem is listed as not run, to be redone by
``verify --resume``).

The check lives in a :class:`contextvars.ContextVar`, so it applies to the thread (or task) that
installed it only: Dask worker threads, which have their own stopping, never see it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

__all__ = ["stop_checks", "check_stop"]

_STOP: ContextVar[Callable[[], None] | None] = ContextVar("thmcheck_stop", default=None)


@contextmanager
def stop_checks(check: Callable[[], None] | None) -> Iterator[None]:
    """Within the block, :func:`check_stop` calls ``check`` (which raises to stop; None: no checks)."""
    token = _STOP.set(check)
    try:
        yield
    finally:
        _STOP.reset(token)


def check_stop() -> None:
    """Call the installed stop check, if any (it raises when a stop was requested)."""
    check = _STOP.get()
    if check is not None:
        check()
