"""Frozen data model of the symbolic stage.

A *derivation* is a chain ``e0 REL1 e1 REL2 e2 ...`` whose steps each carry a
justification (:class:`Algebra`, :class:`Uses`, :class:`ByLemma`).  Checking a
step yields a :class:`StepResult`; checking a whole chain yields a
:class:`DerivationResult`.  Every result carries a :class:`Status` that says
exactly what was shown: ``proved`` (a proof method succeeded), ``refuted`` (an
exactly verified witness exists) or ``undecided`` (neither).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Union

import sympy

__all__ = [
    "Status",
    "Algebra",
    "Uses",
    "ByLemma",
    "Justification",
    "Step",
    "Derivation",
    "Fact",
    "RelationResult",
    "StepResult",
    "DerivationResult",
    "LemmaStatement",
    "Bounds",
    "Satisfiability",
    "RELATIONS",
]

#: The relation symbols a derivation step may use.
RELATIONS: tuple[str, ...] = ("==", "<=", "<", ">=", ">")


class Status(str, Enum):
    """Outcome of a symbolic check; never collapse one into another.

    * ``PROVED``: a proof method (simplification, sign analysis, z3 ``unsat``,
      lemma instance) established the relation for *all* admissible values.
    * ``REFUTED``: an exact rational point satisfying every hypothesis and
      violating the relation was found *and re-checked exactly in SymPy*.
    * ``UNDECIDED``: neither of the above.
    """

    PROVED = "proved"
    REFUTED = "refuted"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Algebra:
    """The step follows from the derivation's assumptions alone."""

    note: str = ""


@dataclass(frozen=True)
class Uses:
    """The step follows from the assumptions plus the named facts.

    Equality facts whose one side is a bare symbol are substituted; every fact
    is also used as a hypothesis.
    """

    facts: tuple[str, ...]
    note: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.facts, str):  # Uses("smooth") is a common slip
            object.__setattr__(self, "facts", (self.facts,))
        else:
            object.__setattr__(self, "facts", tuple(self.facts))


@dataclass(frozen=True)
class ByLemma:
    """The step is an instance of claim ``claim`` of theorem ``lemma``.

    ``bind`` optionally fixes lemma symbols (by *name*) to expressions of the
    current theorem, e.g. ``bind={"L": beta}``.  Lemma symbols that occur in the
    lemma's assumptions but not in its relation (such as the smoothness
    constant ``L`` of the descent lemma) cannot be recovered by matching the
    relation; they are taken from ``bind`` or, failing that, identified with
    the current theorem's symbol of the same name.  A mapping given for
    ``bind`` is stored as a sorted tuple of ``(name, expr)`` pairs so that the
    dataclass stays hashable.
    """

    lemma: str
    claim: str
    note: str = ""
    bind: tuple[tuple[str, sympy.Expr], ...] = field(default=())

    def __post_init__(self) -> None:
        bind = self.bind
        if isinstance(bind, Mapping):
            items = bind.items()
        else:
            items = tuple(bind)
        pairs = []
        for key, value in items:
            name = key.name if isinstance(key, sympy.Symbol) else str(key)
            pairs.append((name, sympy.sympify(value)))
        object.__setattr__(self, "bind", tuple(sorted(pairs, key=lambda kv: kv[0])))

    @property
    def bindings(self) -> dict[str, sympy.Expr]:
        """``bind`` as a dict from lemma symbol name to expression."""
        return dict(self.bind)


Justification = Union[Algebra, Uses, ByLemma]


@dataclass(frozen=True)
class Step:
    """One link ``REL expr`` of a derivation chain, with its justification."""

    rel: str
    expr: sympy.Expr
    by: Justification = field(default_factory=Algebra)
    # What is wrong with the step, as (field, message) pairs.  A malformed step is not an exception
    # at construction: that would lose every other theorem of the module it is written in.  Spec
    # validation reports these naming the spec and field, and check_derivation refuses the step.
    problems: tuple[tuple[str, str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found = []
        if not isinstance(self.rel, str) or self.rel not in RELATIONS:
            found.append(("rel", f"must be one of {', '.join(RELATIONS)}, got {self.rel!r}"))
        if not isinstance(self.by, (Algebra, Uses, ByLemma)):
            found.append(("by", f"must be Algebra, Uses or ByLemma, got {self.by!r}"))
        try:
            object.__setattr__(self, "expr", sympy.sympify(self.expr))
        except (sympy.SympifyError, TypeError, ValueError, SyntaxError) as exc:
            found.append(("expr", f"not a SymPy expression ({type(exc).__name__}: {exc})"))
        object.__setattr__(self, "problems", tuple(found))


@dataclass(frozen=True)
class Derivation:
    """A chain ``start REL1 e1 REL2 e2 ...`` proving claim ``claim``.

    ``printed=True`` marks the derivation *as printed in the source*, which is
    expected to contain a refuted step (an erratum).
    """

    claim: str
    start: sympy.Expr
    steps: tuple[Step, ...]
    name: str = "proof"
    printed: bool = False
    note: str = ""

    problems: tuple[tuple[str, str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # As for Step: problems are recorded for validation to report, not raised here.
        found = []
        try:
            object.__setattr__(self, "start", sympy.sympify(self.start))
        except (sympy.SympifyError, TypeError, ValueError, SyntaxError) as exc:
            found.append(("start", f"not a SymPy expression ({type(exc).__name__}: {exc})"))
        try:
            object.__setattr__(self, "steps", tuple(self.steps))
        except TypeError:
            found.append(("steps", f"must be a tuple of Step, got {type(self.steps).__name__}"))
            object.__setattr__(self, "steps", ())
        if not self.steps and not found:
            found.append(("steps", f"derivation {self.name!r} of claim {self.claim!r} has no steps"))
        for k, st in enumerate(self.steps):
            if not isinstance(st, Step):
                found.append((f"steps[{k}]", f"must be a Step, got {type(st).__name__}"))
            else:
                found += [(f"steps[{k}].{name}", msg) for name, msg in st.problems]
        object.__setattr__(self, "problems", tuple(found))


@dataclass(frozen=True)
class Fact:
    """A named relation available to steps justified by :class:`Uses`."""

    name: str
    relation: sympy.core.relational.Relational
    note: str = ""


@dataclass(frozen=True)
class RelationResult:
    """Outcome of :func:`symbolic.prove_relation`.

    ``method`` names the procedure that decided (``"simplify"``,
    ``"factor-signs"``, ``"z3"``, ``"sampling"``) or, when undecided, the last
    one tried.  ``witness`` (only when refuted) maps symbol names to exact
    values written as SymPy rationals, e.g. ``{"eta": "3/2"}``.
    """

    status: Status
    method: str
    witness: dict[str, str] | None = None
    detail: str = ""

    @property
    def proved(self) -> bool:
        return self.status is Status.PROVED

    @property
    def refuted(self) -> bool:
        return self.status is Status.REFUTED


@dataclass(frozen=True)
class StepResult:
    """Outcome of checking step ``index`` (0-based) of a derivation.

    Step ``k`` relates ``e_k`` (the start for ``k = 0``) to ``e_{k+1}``.
    """

    index: int
    rel: str
    status: Status
    method: str
    witness: dict[str, str] | None
    detail: str


@dataclass(frozen=True)
class DerivationResult:
    """Outcome of checking a whole derivation.

    ``status`` is PROVED iff every step is PROVED and ``endpoint_match``;
    REFUTED iff some step is REFUTED; UNDECIDED otherwise.
    """

    name: str
    claim: str
    status: Status
    steps: tuple[StepResult, ...]
    endpoint_match: bool
    detail: str


@dataclass(frozen=True)
class LemmaStatement:
    """What a step justified by :class:`ByLemma` needs to know about a lemma claim."""

    lemma: str
    claim: str
    relation: sympy.core.relational.Relational
    assumptions: tuple[sympy.Basic, ...]
    symbols: tuple[sympy.Symbol, ...]


@dataclass(frozen=True)
class Bounds:
    """Bounds on one symbol implied by assumptions (see :func:`parameter_bounds`).

    ``lower``/``upper`` are expressions in the *other* symbols (``None`` when
    unbounded).  When several bounds survive they are combined with ``Max`` /
    ``Min`` and the strict flag is set if any of them is strict.  ``unused``
    lists assumptions that mention the symbol but could not be turned into a
    bound (a sampler must still filter on them).
    """

    lower: sympy.Expr | None
    lower_strict: bool
    upper: sympy.Expr | None
    upper_strict: bool
    unused: tuple[sympy.Basic, ...] = ()


@dataclass(frozen=True)
class Satisfiability:
    """Outcome of :func:`symbolic.satisfiability`.

    ``satisfiable`` is ``True`` with an exactly verified ``witness``, ``False``
    when z3 proved the assumptions inconsistent, ``None`` when undecided.
    """

    satisfiable: bool | None
    witness: dict[sympy.Symbol, sympy.Rational] | None
    method: str
    detail: str = ""
