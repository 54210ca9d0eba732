"""Stopping a run cleanly on SIGINT or SIGTERM.

Python's default SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread happens to
be, which is the wrong place for a run: inside Hypothesis it can be raised in a garbage-collection
callback, where it is printed and swallowed and the run simply carries on, and anywhere else it
unwinds through half-built records.  While a run is going, :class:`SignalGuard` replaces the
handlers with one that only sets a flag; the runner asks :meth:`SignalGuard.check` at safe points
(before each theorem, between a theorem's experiments), which raises :class:`Interrupted` there.
A second signal while the first is pending raises ``KeyboardInterrupt`` at once, so a run stuck in
one long kernel call can still be stopped by a user who insists.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

__all__ = ["Interrupted", "SignalGuard", "exit_code"]


class Interrupted(BaseException):
    """Raised at a safe point after SIGINT or SIGTERM.  A ``BaseException``, like
    ``KeyboardInterrupt``, so the runner's per-theorem ``except Exception`` (which turns a crash
    into ``error`` records) does not mistake it for a broken theorem."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}"


def exit_code(signal_name: str) -> int:
    """The shell's convention for a process stopped by a signal: 128 + its number."""
    return 128 + int(getattr(signal, signal_name, signal.SIGINT))


class SignalGuard:
    """Context manager: while active, SIGINT and SIGTERM set :attr:`received` instead of
    interrupting.  Outside the main thread (where handlers cannot be installed) it does nothing
    and :meth:`check` never raises."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self) -> None:
        self.received = ""
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received:
            raise KeyboardInterrupt(f"second signal ({name}) while stopping")
        self.received = name

    def check(self) -> None:
        """Raise :class:`Interrupted` if a signal arrived since the guard was entered."""
        if self.received:
            raise Interrupted(self.received)

    def __enter__(self) -> "SignalGuard":
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                num = getattr(signal, name)
                self._previous[num] = signal.signal(num, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for num, handler in self._previous.items():
            signal.signal(num, handler)
        self._previous.clear()
