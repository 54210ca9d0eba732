"""Validation helpers for specs: undeclared names in expressions."""

from __future__ import annotations

from collections.abc import Iterable

import sympy

__all__ = ["validate_expression"]


def _walk(obj) -> Iterable[sympy.Basic]:
    if isinstance(obj, sympy.Basic):
        yield obj
    elif isinstance(obj, (str, bytes)):
        raise TypeError(f"expected a SymPy object, got the string {obj!r}")
    elif isinstance(obj, Iterable):
        for o in obj:
            yield from _walk(o)
    elif isinstance(obj, (int, float)):
        return
    else:
        raise TypeError(f"expected a SymPy object, got {obj!r} ({type(obj).__name__})")


def validate_expression(expr, declared: Iterable[str]) -> list[str]:
    """Sorted names of free symbols of ``expr`` that are not in ``declared``.

    ``expr`` may be a SymPy expression, relation or boolean, or an iterable of
    them.  A plain string is rejected with ``TypeError`` (specs must be SymPy
    objects, not text to be parsed).
    """
    declared = set(declared)
    names: set[str] = set()
    for b in _walk(expr):
        for s in b.free_symbols:
            name = getattr(s, "name", str(s))
            if name not in declared:
                names.add(name)
    return sorted(names)
