"""Where a run's files go, and what happens when they cannot go there.

Output targets are checked before any work (a run of an hour must not end in "permission
denied"), and a write that fails anyway (the disk filled up, the folder was removed while the run
was going) never loses the results: everything is written to a fresh temporary folder instead and
one line says where.  Paths are user text and are printed verbatim, never as rich markup.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from reports.records import RunRecord

__all__ = ["EXIT_OK", "EXIT_UNEXPECTED", "EXIT_USAGE", "folder_problem", "file_problem", "write_run_files",
           "SavedRun", "seed_argument"]

# Exit codes of the command line: 1 means only "some claim has an unexpected verdict"; every usage,
# input/output or spec error is 2, so a script can tell a refuted theorem from a broken invocation.
EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2


def seed_argument(text: str) -> int:
    """A search seed read from the command line (``--seed``, ``--thmcheck-seed``): an integer in
    [0, 2**63).  Raises ``ValueError`` saying what was wrong (argparse and pytest report it as a
    usage error naming the option)."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise ValueError(f"must be a non-negative integer, got {value}")
    if value >= 2**63:
        raise ValueError(f"must be below 2**63, got {value}")
    return value


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def folder_problem(out: str | Path) -> str | None:
    """Why files cannot be written into folder ``out`` (created if missing), or None.  Probed by
    writing and removing a file, which is the only test that also sees read-only mounts and ACLs."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        return "exists and is not a folder"
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            return f"cannot be created: {parent} is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".thmcheck-write-check-{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        return f"cannot be written ({_strerror(exc)})"
    return None


def file_problem(path: str | Path) -> str | None:
    """Why file ``path`` cannot be written (checked without creating it), or None."""
    path = Path(path)
    if path.is_dir():
        return "is a folder, not a file"
    if path.exists() and not os.access(path, os.W_OK):
        return "exists and is not writable"
    folder = path.parent
    why = folder_problem(folder)
    return None if why is None else f"its folder {folder} {why}"


class SavedRun:
    """The outcome of writing a run's files: their paths by kind (as
    :func:`theorems.runner.write_outputs` returns them) and, when the intended folder failed, the
    one line saying why and where they went instead."""

    def __init__(self, paths: dict[str, Any], fallback_note: str = "") -> None:
        self.paths = paths
        self.fallback_note = fallback_note

    @property
    def fell_back(self) -> bool:
        """True when the files are not where they were asked for."""
        return bool(self.fallback_note)


def write_run_files(record: RunRecord, out: str | Path,
                    write: Callable[[RunRecord, Path], dict[str, Any]]) -> SavedRun:
    """Write ``record`` into ``out`` with ``write``; if that raises ``OSError``, write everything
    into a new temporary folder instead.  Only when that fails too does the error propagate."""
    out = Path(out)
    try:
        return SavedRun(write(record, out))
    except OSError as exc:
        reason = f"{exc.filename or out}: {_strerror(exc)}"
    fallback = Path(tempfile.mkdtemp(prefix="thmcheck-out-"))
    paths = write(record, fallback)
    return SavedRun(paths, f"could not write to {out} ({reason}); the files were written to {fallback} instead")
