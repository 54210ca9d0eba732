"""The public contracts of the numeric stage: what a plugin implements to add an instance class or
a dynamics.

A theorem names an *instance class* ("f is L-smooth") and a *dynamics* ("gradient descent"); the
search engine knows neither by name.  It draws batches from the class's generators, checks every
instance with the class's own membership test, runs the dynamics through its registered runner, and
reads the claim's observables off the run.  Everything here is plain data and callables, so a
third-party package implements the same contracts as the built-ins and registers them the same way
(entry points; see :mod:`numeric.registry`).

Contracts in one place:

* :class:`Problem` -- a batch of instances as arrays (``astype`` for extended-precision replays;
  ``take`` for probability claims that replicate instances);
* :class:`InstanceClass` -- generators (:class:`Family`), an independent membership check,
  encode/decode of one instance for records and replays, the problem type it produces, and
  optionally a continuous :class:`Parametrisation` so the worst-case polisher can run on it;
* :class:`Dynamics` -- a runner (:class:`RunRequest` in, :class:`Run` out, naming the backend that
  actually ran), the :class:`Observable` values it provides (per step or per trajectory, each with
  the name of its rounding-scale companion), the problem types it accepts, the parameters it reads
  with the :class:`ParameterDomain` on which it is defined, and its declared :class:`Setting`
  options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "SCALE_SUFFIX",
    "PATTERNS",
    "Problem",
    "Knobs",
    "InstanceBatch",
    "Generator",
    "Family",
    "Parametrisation",
    "Shrinker",
    "ExactRunner",
    "Membership",
    "ExactMembershipCheck",
    "MEMBERSHIP_METHODS",
    "InstanceClass",
    "RunRequest",
    "Run",
    "Observable",
    "ParameterDomain",
    "Setting",
    "Dynamics",
    "observables",
    "keyed",
    "combine_checks",
    "haar_orthogonal",
]

#: Key suffix under which a value's rounding scale travels next to it (``f_t`` -> ``f_t__abs``).
SCALE_SUFFIX = "__abs"

#: Discrete shapes a generator may be asked for (``Knobs.pattern`` indexes this tuple).  A class is
#: free to read the index as it likes; the names document the built-in spectral generators, which
#: put eigenvalues at the ends of their range so extremal instances are always reachable.
PATTERNS = (
    "uniform",  # eigenvalues uniform in [-L, L]
    "identity",  # A = L I
    "top",  # one eigenvalue at L, the rest uniform in [-L, L]
    "convex",  # eigenvalues in [0, L], top one at L
    "plus_minus",  # eigenvalues in {-L, L}
    "bottom",  # one eigenvalue at -L, the rest uniform
    "clustered",  # eigenvalues near L
    "small",  # eigenvalues in [-L/10, L/10] and one at L
)


@runtime_checkable
class Problem(Protocol):
    """A batch of problem instances stored as arrays (never Python callables).

    ``astype(dtype)`` returns the same batch in another float dtype; the engine replays every
    violation in ``numpy.longdouble`` through it.  Problems used by probability or scaling claims
    also implement ``take(rows)`` (a sub-batch, rows may repeat).
    """

    def astype(self, dtype: Any) -> Any:
        """The same instances with every float array converted to ``dtype``."""
        ...


@dataclass(frozen=True)
class Knobs:
    """The few numbers that determine a generated batch; Hypothesis searches over these.

    ``family`` picks the generator, ``dim`` the dimension, ``pattern`` a discrete shape (see
    :data:`PATTERNS`), ``log_scale`` the log10 of the class constant, ``log_w0`` the log10 of the
    initial point's scale; ``u`` holds one position in [0, 1] per drawn parameter (0: lower end,
    1: upper end of its admissible range) and ``seed`` the rest of the randomness.

    ``constants`` holds the class constants the spec pins or bounds, as sorted
    ``(name, low, high)`` triples (``low == high`` for a pinned value); a generator of a class that
    declares :attr:`InstanceClass.constants` must draw each named constant inside its interval
    (:func:`numeric.constants.draw_constant` does it) instead of from ``log_scale``.
    """

    family: int
    dim: int
    pattern: int
    log_scale: float
    log_w0: float
    u: tuple[float, ...]
    seed: int
    constants: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class InstanceBatch:
    """A generated batch: the problem arrays, initial points (n, d) and per-instance constants
    (each an (n,) array, keyed by the names a spec's INSTANCE symbols use as ``source``)."""

    family: str
    problem: Any
    w0: np.ndarray
    attrs: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        """Number of instances in the batch."""
        return int(self.w0.shape[0])


#: ``(rng, n, knobs) -> InstanceBatch``: a constructive generator (draw the constant, then build an
#: instance that has it; never filter).
Generator = Callable[[np.random.Generator, int, Knobs], InstanceBatch]


@dataclass(frozen=True, kw_only=True)
class Family:
    """One constructive generator of an instance class."""

    name: str
    generate: Generator
    finite_sum: bool = False  # components f_k exist (stochastic dynamics need them)
    doc: str = ""


class Parametrisation(Protocol):
    """A continuous parametrisation of (part of) an instance class: ``theta`` in a box maps to a
    batch of members.  With one, the worst-case polisher (batched CMA-ES) runs on the class."""

    def size(self, horizon: int) -> int:
        """Length P of theta for trajectories of ``horizon`` steps."""
        ...

    def bounds(self, P: int) -> tuple[np.ndarray, np.ndarray]:
        """The box [lo, hi] of theta."""
        ...

    def sample(self, rng: np.random.Generator, n: int, P: int) -> np.ndarray:
        """``n`` starting points (n, P)."""
        ...

    def build(self, theta: np.ndarray) -> InstanceBatch:
        """The members for the rows of ``theta`` (n, P); ``data['theta']`` records each row."""
        ...

    def resize(self, theta: np.ndarray, P: int) -> np.ndarray:
        """Theta vectors of another length mapped to length ``P``."""
        ...


#: ``(data, attrs) -> candidates (move, data, attrs)``: simpler versions of one recorded instance.
Shrinker = Callable[[dict[str, Any], dict[str, float]], Iterable[tuple[str, dict[str, Any], dict[str, float]]]]

#: ``(data, values) -> observables or None``: a dynamics re-run in exact rational arithmetic.
ExactRunner = Callable[[dict[str, Any], Mapping[str, Fraction]], "dict[str, Any] | None"]

#: ``batch -> (ok, reasons)``: per instance, whether it belongs and, when not, why.
MembershipCheck = Callable[[InstanceBatch], tuple[np.ndarray, list[str]]]

#: How a confirmed counterexample's membership was certified, strongest first: in exact rational
#: arithmetic, in extended precision with a margin that covers its rounding, or only by the class's
#: float64 check with its slack (a class without :attr:`InstanceClass.member_exact`).
MEMBERSHIP_METHODS = ("exact", "extended", "float64-with-slack")


@dataclass(frozen=True)
class Membership:
    """One instance's membership decided without float64 slack.

    ``ok`` whether the instance is certified inside the class; ``method`` "exact" (rational
    arithmetic on the stored floats, which are dyadic rationals) or "extended" (a higher precision
    with a margin that provably covers its own rounding); ``reason`` why not, when not."""

    ok: bool
    method: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.method not in MEMBERSHIP_METHODS[:2]:
            raise ValueError(f"membership method must be 'exact' or 'extended', got {self.method!r}")


#: ``batch of one -> Membership``: the class's definition re-checked for one instance (the decoded
#: record of a confirmed counterexample, float64 arrays and constants) without any slack.
ExactMembershipCheck = Callable[[InstanceBatch], Membership]


@dataclass(frozen=True, kw_only=True)
class InstanceClass:
    """What a structural hypothesis names.

    Attributes:
        name: the key a spec's ``Structural(instance_class=...)`` uses.
        text: the hypothesis in words, in the literature's terms ("f is L-smooth ...").
        families: the constructive generators.
        attributes: the per-instance constants the generators provide (``batch.attrs`` keys).
        member: the membership check, computed from the problem arrays independently of how a
            generator built them; an instance that fails it is a framework error, never a
            counterexample.
        encode: instance ``i`` of a problem batch -> plain JSON data (floats must round-trip).
        decode: that data -> a problem batch of one.
        problem_type: the type (or tuple of types) of ``batch.problem``; a dynamics must accept
            each of them.
        parametrisation: optional continuous parametrisation (enables polishing).
        constants: the class constants a spec may pin or bound
            (``Structural(constants={"L": 1, "kappa": 10})``), each with the domain a value must
            lie in; every name is an ``attributes`` key.  A class that declares them promises that
            its generators honour ``Knobs.constants`` and that its parametrisation, if any, has
            ``with_constants(pins)`` returning a parametrisation whose members carry the pinned
            values (see :mod:`numeric.constants`).  The engine checks every instance's constants
            against the pins as part of membership.
        constants_check: optional joint check of a spec's pins, ``{name: (low, high)} -> None or
            the reason they cannot all hold`` (e.g. ``mu`` above ``L``).
        shrink: optional simplifications of one recorded instance, used to shrink a
            confirmed counterexample; ``shrink(data, attrs)`` yields ``(move, data, attrs)`` candidates, each
            strictly simpler than its input (fewer dimensions or terms, the constant scaled to 1,
            entries zeroed or rounded).  ``data`` is the recorded instance (the class's
            ``encode`` output plus the engine's ``w0``), ``attrs`` its constants; a move that
            changes the dimension changes ``w0`` with it.  The engine keeps a candidate only when
            it passes the membership check, round-trips through encode/decode and still violates
            the claim at both precisions, so a move may be bold.
        member_exact: optional re-check of one instance's membership in exact or extended
            arithmetic (:class:`Membership`), with no slack.  The engine calls it on every
            confirmed counterexample: an instance it rejects is outside its class, and the claim's
            verdict is ``error``, never ``fail``.  Without it the record says the membership rests
            on the float64 check and its slack (``membership: float64-with-slack``).
    """

    name: str
    text: str
    families: tuple[Family, ...]
    attributes: tuple[str, ...]
    member: MembershipCheck
    encode: Callable[[Any, int], dict[str, Any]]
    decode: Callable[[dict[str, Any]], Any]
    problem_type: type | tuple[type, ...] = object
    parametrisation: Parametrisation | None = None
    shrink: Shrinker | None = None
    member_exact: ExactMembershipCheck | None = None
    constants: tuple[ParameterDomain, ...] = ()
    constants_check: Callable[[Mapping[str, tuple[float, float]]], str | None] | None = None

    @property
    def problem_types(self) -> tuple[type, ...]:
        """``problem_type`` as a tuple."""
        return self.problem_type if isinstance(self.problem_type, tuple) else (self.problem_type,)


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """Everything a runner is given for one batch.

    ``params`` holds the instance constants and the drawn parameters, each an (n,) array in
    ``dtype``-compatible floats; ``backend`` is the user's request ("auto", "numpy", "numba",
    "cupy"), to be passed to the kernels, whose backend policy picks (or refuses) an
    implementation; ``seed`` and ``instance_ids`` key the counter-based noise.
    """

    problem: Any
    w0: np.ndarray
    params: Mapping[str, np.ndarray]
    horizon: int
    settings: Mapping[str, Any]
    backend: str
    seed: int
    instance_ids: np.ndarray
    dtype: Any = np.float64


@dataclass(frozen=True)
class Run:
    """What a runner returns: its raw output (whatever its observables' readers understand) and
    the backend that actually computed it ("numpy", "numba" or "cupy")."""

    data: Any
    backend: str


@dataclass(frozen=True, kw_only=True)
class Observable:
    """A named quantity read off a run.

    ``kind`` is "per_step" (an (n, T') array over steps) or "trajectory" (an (n,) array).
    ``scale`` names the observable holding its rounding scale: for a value that is a sum of terms,
    the sum of the terms' absolute values, which bounds how far rounding can move it however much
    the terms cancel.  Claim tolerances use it in place of |value|.
    """

    name: str
    kind: str
    read: Callable[[Any], np.ndarray]
    scale: str | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("per_step", "trajectory"):
            raise ValueError(f"observable {self.name!r}: kind must be 'per_step' or 'trajectory', got {self.kind!r}")


@dataclass(frozen=True, kw_only=True)
class ParameterDomain:
    """Where a dynamics is defined in one of its parameters: ``lower < value < upper`` (``<=`` where
    the end is not strict; ``None`` for no end).  Specs are validated against it at load time."""

    name: str
    lower: float | None = None
    upper: float | None = None
    lower_strict: bool = False
    upper_strict: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the domain."""
        if self.lower is not None and (value < self.lower or (self.lower_strict and value == self.lower)):
            return False
        return not (self.upper is not None and (value > self.upper or (self.upper_strict and value == self.upper)))

    def text(self) -> str:
        """The domain as an inequality, e.g. ``0 < eta``."""
        parts = []
        if self.lower is not None:
            parts.append(f"{self.lower:g} {'<' if self.lower_strict else '<='} ")
        parts.append(self.name)
        if self.upper is not None:
            parts.append(f" {'<' if self.upper_strict else '<='} {self.upper:g}")
        return "".join(parts)


@dataclass(frozen=True, kw_only=True)
class Setting:
    """A declared option of a dynamics (``Theorem(settings={...})``), with its default and, for a
    closed set, the allowed values.  Undeclared settings are refused at load time.

    A spec may give a setting as a SymPy expression of its symbols (a threshold the dynamics stops
    at, say): the value is then compiled from the spec, evaluated per instance, and reaches the
    runner as ``RunRequest.params[name]`` (an (n,) array), not in ``RunRequest.settings``.
    ``expression=True`` declares such a setting; ``required=True`` makes the spec give it."""

    name: str
    default: Any = None
    doc: str = ""
    choices: tuple[Any, ...] = ()
    expression: bool = False
    required: bool = False


#: ``RunRequest -> Run``.
Runner = Callable[[RunRequest], Run]


@dataclass(frozen=True, kw_only=True)
class Dynamics:
    """A dynamics a theorem may be about.

    Attributes:
        name: the key a spec's ``Theorem(dynamics=...)`` uses.
        run: the runner.
        observables: what a claim may read off a run.
        accepts: the problem types the runner can drive (checked against the instance class's
            ``problem_type`` at load time).
        parameters: the drawn parameters the runner reads from ``RunRequest.params``.
        domain: where it is defined in those parameters.
        settings: its options, with defaults.
        exact: optional re-run of one recorded instance in exact rational arithmetic:
            ``exact(data, values)`` with ``values`` the instance constants and drawn parameters as
            :class:`fractions.Fraction`, returning per-step observables as lists over steps and
            trajectory observables as single values (Fractions), or None where the instance's
            dynamics is not rational (a transcendental term).  With one, a counterexample is
            certified exactly.
        closed_form: True for an evaluation with no kernel to choose (a closed form, an exact
            enumeration, one gradient evaluation): it is computed with NumPy whatever backend the
            run asked for, and its records say "numpy".  Otherwise a runner that reports another
            backend than an explicitly requested one is an error (no silent fallback).
        doc: the update rule in words.
    """

    name: str
    run: Runner
    observables: tuple[Observable, ...]
    accepts: tuple[type, ...] = (object,)
    parameters: tuple[str, ...] = ()
    domain: tuple[ParameterDomain, ...] = ()
    settings: tuple[Setting, ...] = ()
    closed_form: bool = False
    doc: str = ""
    exact: ExactRunner | None = None
    _index: dict[str, Observable] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Observable] = {}
        for ob in self.observables:
            if ob.name in index:
                raise ValueError(f"dynamics {self.name!r}: observable {ob.name!r} declared twice")
            index[ob.name] = ob
        for ob in self.observables:
            if ob.scale is not None and ob.scale not in index:
                raise ValueError(f"dynamics {self.name!r}: observable {ob.name!r} names an undeclared scale {ob.scale!r}")
        object.__setattr__(self, "_index", index)

    @property
    def per_step(self) -> dict[str, Callable[[Any], np.ndarray]]:
        """Per-step observables: name -> reader."""
        return {o.name: o.read for o in self.observables if o.kind == "per_step"}

    @property
    def trajectory(self) -> dict[str, Callable[[Any], np.ndarray]]:
        """Trajectory observables: name -> reader."""
        return {o.name: o.read for o in self.observables if o.kind == "trajectory"}

    @property
    def scale_of(self) -> dict[str, str]:
        """Observable -> the observable holding its rounding scale."""
        return {o.name: o.scale for o in self.observables if o.scale is not None}

    def observable(self, name: str) -> Observable | None:
        """The declared observable ``name`` (None when there is none)."""
        return self._index.get(name)

    def accepts_class(self, cls: InstanceClass) -> bool:
        """Whether every problem type ``cls`` produces is one this dynamics can drive (a class that
        declares no problem type is checked batch by batch at run time instead)."""
        if cls.problem_types == (object,):
            return True
        return all(any(issubclass(t, a) for a in self.accepts) for t in cls.problem_types)

    def accepts_problem(self, problem: Any) -> bool:
        """Whether this dynamics can drive ``problem``."""
        return isinstance(problem, self.accepts)

    def setting_defaults(self) -> dict[str, Any]:
        """Every declared plain (non-expression) setting at its default."""
        return {s.name: s.default for s in self.settings if not s.expression}


def observables(per_step: Mapping[str, Callable[[Any], np.ndarray]] | None = None,
                trajectory: Mapping[str, Callable[[Any], np.ndarray]] | None = None,
                scale_of: Mapping[str, str] | None = None,
                docs: Mapping[str, str] | None = None) -> tuple[Observable, ...]:
    """Declare observables from reader tables: ``per_step`` and ``trajectory`` map names to readers
    of the run's data, ``scale_of`` maps a name to the name of its rounding-scale companion."""
    scale_of = dict(scale_of or {})
    docs = dict(docs or {})
    out = []
    for kind, table in (("per_step", per_step or {}), ("trajectory", trajectory or {})):
        for name, read in table.items():
            out.append(Observable(name=name, kind=kind, read=read, scale=scale_of.get(name), doc=docs.get(name, "")))
    return tuple(out)


def keyed(*names: str) -> dict[str, Callable[[Any], np.ndarray]]:
    """Readers for a runner whose data is a mapping: ``keyed("f", "g")`` reads ``data["f"]`` and
    ``data["g"]`` (use with :func:`observables`)."""
    def reader(key: str) -> Callable[[Any], np.ndarray]:
        return lambda data: data[key]

    return {k: reader(k) for k in names}


def combine_checks(n: int, checks: Iterable[tuple[Any, str]]) -> tuple[np.ndarray, list[str]]:
    """A membership verdict from ``(passed, reason)`` pairs, each ``passed`` an (n,) bool array:
    an instance belongs when it passes every check; its reason is the first check it fails."""
    ok = np.ones(n, dtype=bool)
    reasons = [""] * n
    for good, why in checks:
        good = np.broadcast_to(np.asarray(good, dtype=bool), (n,))
        for i in np.flatnonzero(~good):
            if not reasons[i]:
                reasons[i] = why
        ok &= good
    return ok, reasons


def haar_orthogonal(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` Haar-distributed orthogonal d x d matrices."""
    q, r = np.linalg.qr(rng.standard_normal((n, d, d)))
    # Sign-fix so Q is Haar distributed (QR alone is biased).
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
