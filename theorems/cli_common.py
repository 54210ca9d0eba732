"""What the ``thmcheck`` subcommands share: the registry with spec files and modules added, the
selection of theorems from command-line ids, and verbatim printing.

Kept apart from :mod:`theorems.cli` so that the subcommand modules (:mod:`theorems.cli_verify`)
import it without importing the command-line entry point (no import cycle).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console

__all__ = ["registry", "say", "select"]


def registry(extra_modules: Sequence[str] = (), extra_files: Sequence[str] = ()):
    from .registry import load_registry

    return load_registry(extra_modules=extra_modules, extra_files=extra_files)


def _spec_module(name: str) -> str | None:
    """``name`` if it imports as a module with a ``THEOREMS`` attribute; None if there is no such
    module (or it has no ``THEOREMS``).  A module that exists but fails to import raises."""
    import importlib

    if not name or not all(part.isidentifier() for part in name.split(".")):
        return None
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None  # no such module (or package): an unknown id, reported as such
        raise
    return name if hasattr(mod, "THEOREMS") else None


def select(ids: Sequence[str], console: Console):
    """The registry and the selection for command-line ``ids``, which may name spec files
    (``path.py``) and spec modules (``pkg.module``) as well as ids, family prefixes and
    ``theorem::claim``.  The theorems of the files and modules are added to the installed ones;
    only they (or, when ids are given too, those ids) are selected.  Returns ``(registry,
    theorems, only)``, or an exit code after printing why (a source that does not load, an id that
    is refused or matches nothing)."""
    from rich.text import Text

    from .registry import load_error

    def refuse(line: str) -> int:
        console.print(Text(line, style="red"), soft_wrap=True)
        return 2

    files = [a for a in ids if a.endswith(".py") and Path(a).is_file()]
    rest = [a for a in ids if a not in files]
    reg = registry(extra_files=files) if files else registry()
    modules: list[str] = []
    for raw in rest:
        name = raw.partition("::")[0]
        if any(t == name or t.startswith(name + ".") for t in reg.order):
            continue
        try:
            if _spec_module(name):
                modules.append(name)
        except Exception as exc:
            import importlib.util

            try:
                origin = getattr(importlib.util.find_spec(name), "origin", None)
            except Exception:  # its package does not import either
                origin = None
            return refuse(f"problem: {name}: import: {load_error(exc, origin)}")
    if modules:
        reg = registry(extra_modules=modules, extra_files=files)
    sources = [*files, *modules]
    bad = [p for p in reg.problems if p.source in sources]
    if bad:
        for p in bad:
            console.print(Text(f"problem: {p}", style="red"), soft_wrap=True)
        return 2
    wanted = [a for a in rest if a not in modules]
    if sources and not wanted:
        for src in sources:
            file = str(Path(sys.modules[src].__file__ or "").resolve()) if src in modules else str(Path(src).resolve())
            declared = [t for t in reg.order if reg.files.get(t) == file]
            if not declared:
                for p in reg.problems:
                    console.print(Text(f"problem: {p}", style="red"), soft_wrap=True)
                return refuse(f"{src}: no valid theorem to check")
            wanted += declared
    try:
        theorems, only = reg.select(wanted)
    except KeyError as exc:
        return refuse(exc.args[0])
    return reg, theorems, only


def say(console: Console, text: str, style: str | None = None) -> None:
    """Print ``text`` verbatim: paths and spec text may hold ``[`` that is not rich markup."""
    console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)
