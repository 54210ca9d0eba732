"""Compiling SymPy expressions to numeric callables, and LaTeX rendering.

The single source of a formula is its SymPy expression; everything numeric is
derived from it here.

* :func:`compile_numpy` works elementwise on arrays and keeps the input
  precision: the generated code computes ``_dt = result_type(inputs)`` and
  writes every non-integer constant in that type (``Rational(1, 3)`` becomes
  ``_dt(1)/_dt(3)``, ``pi`` becomes ``_dt('3.14159...')`` with 36 digits), so
  ``numpy.longdouble`` in gives ``numpy.longdouble`` out without a float64
  constant silently limiting the accuracy.
* :func:`compile_numba` is ``numba.njit`` of a ``math``-module lambdify
  (scalar float64 function, usable inside other njit kernels); numba is
  imported lazily.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence

import numpy
import sympy
from sympy.core.relational import Relational
from sympy.printing.numpy import NumPyPrinter

__all__ = ["compile_numpy", "compile_numba", "atoms_abs_scale", "latex"]

_DIGITS = 36


class _DtypePrinter(NumPyPrinter):
    """NumPy printer that writes constants in the dtype ``_dt`` of the inputs."""

    def _print(self, expr, **kwargs):
        if (
            isinstance(expr, sympy.Expr)
            and expr.is_number
            and not expr.is_Integer
            and not expr.is_Rational
            and expr.is_real
        ):
            return f"_dt({str(sympy.N(expr, _DIGITS))!r})"
        return super()._print(expr, **kwargs)

    def _print_Rational(self, expr):
        return f"(_dt({expr.p})/_dt({expr.q}))"

    def _print_Half(self, expr):
        return self._print_Rational(expr)

    def _print_Float(self, expr):
        return f"_dt({str(expr)!r})"


def _result_dtype(*args):
    if not args:
        return numpy.float64
    try:
        dt = numpy.result_type(*args)
    except TypeError:
        dt = numpy.result_type(*[numpy.asarray(a) for a in args])
    if not numpy.issubdtype(dt, numpy.inexact):
        dt = numpy.dtype(numpy.float64)
    return dt.type


def _finish(value, dt, *args):
    if numpy.ndim(value) == 0:
        shapes = [numpy.shape(a) for a in args if numpy.ndim(a) > 0]
        if shapes:
            return numpy.full(numpy.broadcast_shapes(*shapes), value, dtype=dt)
        return dt(value) if not isinstance(value, numpy.generic) else value
    return value


def _check_args(expr: sympy.Basic, args: Sequence[sympy.Symbol]) -> None:
    names = [a.name for a in args]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate argument names in {names}")
    missing = sorted(s.name for s in expr.free_symbols if isinstance(s, sympy.Symbol) and s not in set(args))
    if missing:
        raise ValueError(f"expression {expr} has free symbols not among the arguments: {', '.join(missing)}")


def compile_numpy(expr: sympy.Expr, args: Sequence[sympy.Symbol]) -> Callable:
    """Elementwise NumPy callable ``f(*args)`` for ``expr``, preserving the input dtype.

    Arguments are positional in the order of ``args``; arrays broadcast;
    integer inputs compute in float64; a constant expression is broadcast to
    the shape of the array arguments.  Raises ``ValueError`` if ``expr`` has
    free symbols that are not in ``args``.
    """
    expr = sympy.sympify(expr)
    if isinstance(expr, Relational):
        raise TypeError("compile_numpy takes an expression; compile lhs - rhs of a relation instead")
    args = list(args)
    _check_args(expr, args)
    names = [f"_x{i}" for i in range(len(args))]
    renamed = expr.xreplace({a: sympy.Symbol(n, real=True) for a, n in zip(args, names)})
    printer = _DtypePrinter({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})
    body = printer.doprint(renamed)
    arglist = ", ".join(names)
    # ``_dtype`` forces the working type, which a constant expression (no arguments to take it
    # from) needs when it is compared in extended precision.
    src = (
        f"def _compiled({arglist}{', ' if names else ''}_dtype=None):\n"
        f"    _dt = _dtype or _result_dtype({arglist})\n"
        f"    return _finish(({body}), _dt{', ' if names else ''}{arglist})\n"
    )
    namespace: dict = {"_result_dtype": _result_dtype, "_finish": _finish, "math": math}
    for mod in printer.module_imports:
        top = mod.split(".")[0]
        namespace[top] = importlib.import_module(top)
    namespace.setdefault("numpy", numpy)
    exec(compile(src, f"<symbolic.compile_numpy {expr}>", "exec"), namespace)  # noqa: S102 - generated from a SymPy printer
    fn = namespace["_compiled"]
    fn.__doc__ = f"NumPy form of {expr} with arguments ({', '.join(a.name for a in args)})."
    fn.source = src  # type: ignore[attr-defined]
    fn.expr = expr  # type: ignore[attr-defined]
    return fn


def compile_numba(expr: sympy.Expr, args: Sequence[sympy.Symbol]) -> Callable:
    """``numba.njit`` scalar function of ``expr`` (float64 arithmetic, ``math`` module).

    Numba is imported here, not at package import; compilation happens on the
    first call.  The result can be called from other ``njit`` functions.
    """
    expr = sympy.sympify(expr)
    args = list(args)
    _check_args(expr, args)
    numba = importlib.import_module("numba")
    f = sympy.lambdify(args, expr, modules="math")
    return numba.njit(cache=False)(f)


def atoms_abs_scale(expr, args: Sequence[sympy.Symbol]) -> Callable:
    """Callable giving ``sum_i |t_i|`` over the additive terms ``t_i`` of ``expand(expr)``.

    For a relation the terms of ``lhs - rhs`` are used.  This is the natural
    rounding scale of a comparison: evaluating ``sum t_i`` in floating point
    has an error of order ``eps * sum |t_i|``.
    """
    expr = sympy.sympify(expr)
    if isinstance(expr, Relational):
        expr = expr.lhs - expr.rhs
    terms = sympy.Add.make_args(sympy.expand(expr))

    def spread(u: sympy.Expr) -> sympy.Expr:
        # |u| can be tiny while the terms u is computed from are not: an identity written as
        # Abs(x - y) <= 0 must be judged against |x| + |y|, not against |x - y|.
        return sympy.Add(*[sympy.Abs(v) for v in sympy.Add.make_args(sympy.expand(u))])

    scale = sympy.Add(*[sympy.Abs(t.replace(sympy.Abs, spread)) for t in terms])
    return compile_numpy(scale, args)


def latex(obj) -> str:
    """LaTeX of an expression or relation (SymPy's printer)."""
    if isinstance(obj, str):
        raise TypeError("latex() takes a SymPy object, not a string")
    return sympy.latex(obj)
