"""The theorem spec model: frozen data a researcher writes once per theorem.

A :class:`Theorem` declares its symbols (with domains and the role each plays in a numeric check),
its assumptions as SymPy relations, the structural hypotheses that name an instance class
("f is L-smooth"), the dynamics it is about, its claims (each one SymPy relation), the derivations
that prove them, and the lemmas it depends on.  Everything else (LaTeX, compiled numeric code,
documentation) is derived from these expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sympy

from symbolic import Algebra, ByLemma, Derivation, Fact, Step, Uses

__all__ = [
    "Verdict",
    "ClaimKind",
    "Domain",
    "Role",
    "Sym",
    "Citation",
    "Assumption",
    "Structural",
    "Tolerance",
    "Claim",
    "ExactWorst",
    "PepSetup",
    "Scaling",
    "Theorem",
    "SpecError",
    "Derivation",
    "Fact",
    "Step",
    "Algebra",
    "Uses",
    "ByLemma",
]


class Verdict(str, Enum):
    """What was shown about a claim (see the README's verdict table)."""

    PROVED = "proved"
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class ClaimKind(str, Enum):
    """How a claim is evaluated numerically."""

    PER_STEP = "per_step"  # holds at every step t of every trajectory
    TRAJECTORY = "trajectory"  # one inequality per trajectory (rates, averages, minima)
    PROBABILITY = "probability"  # the probability of a per-trajectory event, against a bound
    SCALING = "scaling"  # a fitted growth exponent of a statistic across sizes, against a bound


class Domain(str, Enum):
    """Domain of a scalar symbol; it becomes a SymPy assumption on the symbol."""

    REAL = "real"
    POSITIVE = "positive"
    NONNEGATIVE = "nonnegative"
    POSITIVE_INTEGER = "positive_integer"


class Role(str, Enum):
    """Where a symbol's numeric value comes from in a numeric check.

    INSTANCE: a constant of the drawn instance (the smoothness constant ``L`` of the family).
    PARAMETER: drawn constructively inside the bounds the assumptions give (``eta = u / L``).
    OBSERVABLE: read off the trajectory (``f(w_t)``, ``||grad f(w_t)||^2``).
    SCALAR: appears only in derivations (inner products, norms of differences).
    PROBABILITY: the probability of a probability claim's event (estimated by Monte Carlo).
    FIT: the exponent fitted by a scaling claim.
    """

    INSTANCE = "instance"
    PARAMETER = "parameter"
    OBSERVABLE = "observable"
    SCALAR = "scalar"
    PROBABILITY = "probability"
    FIT = "fit"


class SpecError(ValueError):
    """A malformed spec: names the spec id and the field, so the author can fix it."""

    def __init__(self, spec_id: str, field_name: str, message: str) -> None:
        super().__init__(f"{spec_id}: {field_name}: {message}")
        self.spec_id = spec_id
        self.field = field_name
        self.message = message


_ASSUMPTIONS = {
    Domain.REAL: {"real": True},
    Domain.POSITIVE: {"positive": True},
    Domain.NONNEGATIVE: {"nonnegative": True},
    Domain.POSITIVE_INTEGER: {"positive": True, "integer": True},
}


@dataclass(frozen=True)
class Sym:
    """A declared scalar symbol.

    Attributes:
        name: ASCII paper notation (``L``, ``eta``, ``mu``).
        domain: its domain.
        role: where the numeric stage gets its value from.
        source: for INSTANCE, the instance attribute (``"L"``); for OBSERVABLE, the observable name
            (``"f_t"``, ``"gnorm2_t"``; see ``numeric.api.Observable``).
        draw: for PARAMETER, ``"range"`` (anywhere in its admissible range, end points included)
            or ``"lower"`` / ``"upper"`` (the tightest admissible value).
        doc: what the symbol means, in words.
    """

    name: str
    domain: Domain = Domain.REAL
    role: Role = Role.SCALAR
    source: str = ""
    draw: str = "range"
    doc: str = ""

    @property
    def s(self) -> sympy.Symbol:
        """The SymPy symbol (same name and domain, so equal symbols compare equal)."""
        return sympy.Symbol(self.name, **_ASSUMPTIONS[Domain(self.domain)])


@dataclass(frozen=True)
class Citation:
    """Where the statement comes from: the document and the numbered statement in it."""

    source: str  # e.g. "Arora et al., Theory of Deep Learning (draft)"
    where: str  # e.g. "Lemma 2.1.4"
    locator: str = ""  # e.g. "seed 004, paragraph 336"

    def __str__(self) -> str:
        loc = f" [{self.locator}]" if self.locator else ""
        return f"{self.source}, {self.where}{loc}"


@dataclass(frozen=True)
class Assumption:
    """A named relational hypothesis, e.g. ``eta <= 1/L``."""

    name: str
    relation: Any  # sympy.core.relational.Relational
    note: str = ""
    # Weaker relations to try in its place when checking that the assumption is needed
    # (``thmcheck necessity``), e.g. ``(eta <= 1.5 / L, eta <= 2 / L)``; dropping it is also tried.
    relax: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Structural:
    """A structural hypothesis naming an instance class, e.g. "f is L-smooth".

    ``instance_class`` is the name of a registered instance class (``numeric.CLASSES``); every generated instance is checked
    for membership in it before it may count for or against a claim.
    """

    name: str
    instance_class: str
    text: str
    # Larger instance classes to try in its place when checking that the hypothesis is needed
    # (``thmcheck necessity``), e.g. ``("symmetric_pairs",)`` for "PSD -> symmetric".
    relax: tuple[str, ...] = ()
    # Class constants the statement fixes: name -> a value (pinned) or a (low, high) pair (bounded,
    # ends included), e.g. ``{"L": 1, "kappa": 10}`` or ``{"mu": (0.1, 1)}``.  Only constants the
    # class declares (``InstanceClass.constants``) may be named; every instance drawn, polished or
    # shrunk then has them, and the record shows them.
    constants: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tolerance:
    """Rounding allowance of a comparison: a violation must exceed
    ``ulps * eps(dtype) * scale`` to count, where ``scale`` is the sum of the absolute values of the
    terms of ``observed - bound``.  Echoed in every record."""

    ulps: float = 64.0

    def as_dict(self) -> dict[str, float]:
        """The policy as plain data for the record."""
        return {"ulps": float(self.ulps)}


SCALING_MODELS = ("power", "polylog", "linear")


@dataclass(frozen=True)
class Scaling:
    """How a scaling claim measures growth.

    At each size ``d`` in ``sizes`` (instances are generated with that dimension), ``instances``
    instances are each run ``trials`` times; ``statistic`` ("median" or "mean") of the trajectory
    observable ``observable`` over all those runs is the value at ``d``.  ``model`` is the fitted
    law, whose exponent is the claim's FIT symbol: "power" ``log y = a + p log d``, "polylog"
    ``log y = a + p log log d``, "linear" ``y = a + p d``.
    """

    observable: str
    model: str = "power"
    statistic: str = "median"
    sizes: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    instances: int = 4
    trials: int = 64


@dataclass(frozen=True)
class ExactWorst:
    """A known exact worst case of a claim: ``ratio`` is the supremum, over every admissible
    instance, of the claim's tightness ratio (observed/bound for ``<=``, bound/observed for ``>=``;
    1 when the bound is attained).  ``bound`` optionally gives the bound's value in a normalisation
    named by ``unit`` (e.g. 4/15 for ``min_t ||grad f||^2`` at L = 1, f(x0) - f(x5) = 1), so a report
    can say "bound X, exact worst case Y, best found Z"; ``source`` says where the value comes from."""

    ratio: float
    bound: float | None = None
    unit: str = ""
    source: str = ""


@dataclass(frozen=True)
class PepSetup:
    """A claim as a performance-estimation problem, for the optional exact oracle
    (:mod:`theorems.pep_oracle`, with the ``thmcheck[pep]`` extra): ``method`` run for ``steps``
    steps on ``function_class`` ("smooth", "smooth_convex" or "strongly_convex" with ``mu`` in units
    of L), from ``x_{-1} = x_0``, with ``h = step`` (the step times L) and ``beta = momentum``:

    * "gd": ``x_{k+1} = x_k - (h/L) grad f(x_k)``;
    * "heavy_ball": ``x_{k+1} = x_k - (h/L) grad f(x_k) + beta (x_k - x_{k-1})``;
    * "nesterov": ``y_k = x_k + (k-1)/(k+2) (x_k - x_{k-1})``, ``x_{k+1} = y_k - (h/L) grad f(y_k)``
      (the scheme of the ``fo_nesterov`` / example ``nesterov`` dynamics).

    ``metric`` is the worst case asked for, in the normalisation of the claim's
    ``exact_worst.unit``:

    * "min_grad_vs_decrease" (gd): max of min_{0<=t<=N} ||grad f(x_t)||^2 with f(x_0) - f(x_N) <= 1;
    * "one_step_decrease" (gd): the least f(x_0) - f(x_1) with ||grad f(x_0)||^2 = 1;
    * "value_gap": max of f(x_N) - f* with ||x_0 - x*||^2 <= 1;
    * "last_gradient": max of ||grad f(x_N)||^2 with ||x_0 - x*||^2 <= 1;
    * "value_ratio": max of f(x_N) - f* with f(x_0) - f* <= 1;
    * "distance": max of ||x_N - x*||^2 with ||x_0 - x*||^2 <= 1.
    """

    function_class: str
    metric: str
    steps: int
    step: float = 1.0
    method: str = "gd"
    mu: float = 0.0
    momentum: float = 0.0


@dataclass(frozen=True)
class Claim:
    """One checkable statement.

    ``relation`` is written ``observed <= bound`` or ``observed >= bound`` (``Le``/``Ge``); the
    numeric stage reports ``observed / bound`` (or its reciprocal for ``>=``) as the tightness ratio,
    so the side named ``bound`` is the one the theorem guarantees.

    ``printed=True`` marks the statement *as printed in the source* when it is known to be wrong:
    its expected verdict is ``fail`` and ``corrected_by`` names the corrected claim beside it.

    A PROBABILITY claim is written ``P >= bound`` or ``P <= bound`` with ``P`` a symbol of role
    PROBABILITY; ``event`` is the per-trajectory relation whose probability ``P`` is, estimated
    from ``trials`` runs per instance and judged by an exact Clopper-Pearson interval at
    ``confidence``.  A SCALING claim is written ``p <= bound`` or ``p >= bound`` with ``p`` a FIT
    symbol, measured as ``scaling`` says.  ``plot_x`` names a numeric key (a parameter, instance
    constant or trajectory observable) the report plots the claim's samples against.
    """

    name: str
    relation: Any
    statement: str
    kind: ClaimKind = ClaimKind.PER_STEP
    assumptions: tuple[Assumption, ...] = ()  # in addition to the theorem's
    expect: Verdict | None = None  # default: PROVED with a derivation, PASS without, FAIL if printed
    printed: bool = False
    corrected_by: str | None = None
    tolerance: Tolerance = Tolerance()
    note: str = ""
    event: Any = None  # PROBABILITY: the per-trajectory event (a relation, or And of relations)
    trials: int = 200  # PROBABILITY: Monte Carlo runs per instance
    confidence: float = 0.99  # PROBABILITY / SCALING: confidence of the interval that decides
    scaling: Scaling | None = None  # SCALING: what is measured and fitted
    exact_worst: "ExactWorst | None" = None  # the known supremum of the tightness ratio, if any
    plot_x: str = ""
    pep: "PepSetup | None" = None  # the claim as a performance-estimation problem (optional exact oracle)

    @property
    def observed(self) -> Any:
        """The side of the relation that is measured (its left-hand side)."""
        return self.relation.lhs

    @property
    def bound(self) -> Any:
        """The side the theorem guarantees (its right-hand side)."""
        return self.relation.rhs


@dataclass(frozen=True)
class Theorem:
    """A theorem spec.  Construct it in a module under ``theorems/`` (or a plugin package) and list
    it in that module's ``THEOREMS``."""

    id: str
    title: str
    citation: Citation
    symbols: tuple[Sym, ...]
    claims: tuple[Claim, ...]
    dynamics: str = "gd"  # the name of a registered dynamics (numeric.DYNAMICS)
    structure: tuple[Structural, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    # Relations that only bound where the numeric search draws parameters (e.g. eta <= 4/L for a
    # statement true for every eta > 0); not part of the statement, never used in proofs.
    search: tuple[Assumption, ...] = ()
    facts: tuple[Fact, ...] = ()
    derivations: tuple[Derivation, ...] = ()
    depends_on: tuple[str, ...] = ()
    horizon: int = 20  # steps T of each trajectory
    dims: tuple[int, ...] = (1, 2, 3, 5, 8)
    note: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # dynamics options, e.g. {"batch": 1}

    def symbol(self, name: str) -> Sym:
        """The declared symbol ``name`` (KeyError if there is none)."""
        for s in self.symbols:
            if s.name == name:
                return s
        raise KeyError(name)

    def claim(self, name: str) -> Claim:
        """The claim ``name`` (KeyError if there is none)."""
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(name)

    def expected(self, claim: Claim) -> Verdict:
        """The verdict the spec expects for ``claim``."""
        if claim.expect is not None:
            return Verdict(claim.expect)
        if claim.printed:
            return Verdict.FAIL
        if any(d.claim == claim.name and not d.printed for d in self.derivations):
            return Verdict.PROVED
        return Verdict.PASS


ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
