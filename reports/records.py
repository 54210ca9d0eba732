"""Result records: frozen data with a schema version, written to and read from JSON.

Records are the only thing the renderers (terminal, HTML, JUnit properties) see, so a saved
``results.json`` can be rendered on a machine without numba, CuPy or SymPy.  Nothing here imports
the rest of the project.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = [
    "SCHEMA_VERSION",
    "VERDICTS",
    "RecordError",
    "StepRecord",
    "DerivationRecord",
    "CounterexampleRecord",
    "InstanceRecord",
    "ClaimRecord",
    "RunRecord",
    "dump_run",
    "load_run",
    "canonical_json",
    "json_safe",
    "build_record",
    "read_json_object",
]

SCHEMA_VERSION = 1
VERDICTS = ("proved", "pass", "fail", "inconclusive", "error")
# Fields that legitimately differ between two runs with the same seed and budget.
VOLATILE_FIELDS = frozenset({"timings", "created", "host"})


class RecordError(ValueError):
    """A results file or record is malformed; the message names the file and the offending field."""


@dataclass(frozen=True)
class StepRecord:
    """One checked step of a derivation."""

    index: int
    rel: str
    expr: str
    latex: str
    justification: str
    status: str  # proved / refuted / undecided
    method: str
    detail: str = ""
    witness: dict[str, str] | None = None


@dataclass(frozen=True)
class DerivationRecord:
    """The symbolic check of one derivation of a claim."""

    name: str
    claim: str
    status: str
    expected_status: str
    printed: bool
    endpoint_match: bool
    steps: tuple[StepRecord, ...] = ()
    detail: str = ""
    note: str = ""

    @property
    def as_expected(self) -> bool:
        return self.status == self.expected_status


@dataclass(frozen=True)
class InstanceRecord:
    """A concrete instance, complete enough to replay: family, arrays, parameters, step index."""

    family: str
    dynamics: str
    data: dict[str, Any]  # problem arrays, initial point, horizon, seed, instance id (plain JSON)
    params: dict[str, float]  # every symbol's numeric value at the reported point
    step: int | None  # time index for per-step claims
    observed: float
    bound: float
    ratio: float | None
    slack: float  # bound - observed in the claim's orientation, divided by the rounding scale


@dataclass(frozen=True)
class CounterexampleRecord:
    """A violation that survived replay in higher precision."""

    instance: InstanceRecord
    violation: float  # amount by which the claim is violated (in the claim's units)
    tolerance: float  # rounding allowance at the working precision
    confirmed_precision: str  # e.g. "longdouble"
    confirmed_violation: float
    replay: str  # a Python snippet that reproduces it
    # The instance as the search found it, when ``instance`` is its shrunk form, and the shrinking
    # moves applied in order (see numeric.engine.shrink); absent in records written before shrinking.
    found: InstanceRecord | None = None
    shrink: tuple[str, ...] = ()
    # How the violation is established: "exact" (recomputed in rational arithmetic; ``exact`` holds
    # {"observed", "bound", "violation"} as fractions), "extended precision" (float64 and longdouble
    # replays only) or "statistical" (probability and scaling claims).  "" in older records.
    evidence: str = ""
    exact: dict[str, str] = field(default_factory=dict)
    # How the instance's membership in its class was certified: "exact" (rational arithmetic),
    # "extended" (higher precision with a margin covering its rounding) or "float64-with-slack"
    # (the class has no exact check); "" in older records and for scaling claims.
    membership: str = ""


@dataclass(frozen=True)
class ClaimRecord:
    """Everything known about one claim after a run."""

    theorem: str
    claim: str
    kind: str
    statement: str
    latex: str
    verdict: str
    expected: str
    printed: bool = False
    corrected_by: str | None = None
    instances: int = 0
    worst_ratio: float | None = None
    worst_instance: InstanceRecord | None = None
    counterexample: CounterexampleRecord | None = None
    backend: str = ""  # the backend that actually ran the search (not the one asked for)
    seed: int = 0
    budget: str = ""
    tolerance: dict[str, float] = field(default_factory=dict)
    derivations: tuple[DerivationRecord, ...] = ()
    inherited: tuple[dict[str, str], ...] = ()  # lemmas whose verdict this claim rests on, when not as expected
    reason: str = ""  # one line: why this verdict
    notes: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    # Optional plot data (float64 re-run of one instance): {"worst": {...}, "counterexample": {...}},
    # each with "observed" and "bound" lists (per step for per-step claims, one value for trajectory
    # claims), "step" (the reported step) and optionally "traces" (per-step context observables).
    series: dict[str, Any] = field(default_factory=dict)
    # Distribution of the per-instance worst ratio: {"log10_edges", "counts", "below", "above", "undefined"}.
    ratio_hist: dict[str, Any] = field(default_factory=dict)
    # Per-instance rows for scatter plots: {"columns": [...], "rows": [[...], ...], "x": plot_x or ""}.
    samples: dict[str, Any] = field(default_factory=dict)
    # Probability claims: trials, successes, exact intervals, confidence, per-instance summaries.
    probability: dict[str, Any] = field(default_factory=dict)
    # Scaling claims: sizes, measured values, fitted exponent with its interval, other models' fits.
    scaling: dict[str, Any] = field(default_factory=dict)
    # Claims with a known exact worst case: {"exact_worst_ratio", "best_found_ratio", "fraction",
    # and, where the spec gives a normalisation, "bound", "exact_worst", "best_found", "unit"; "source"}.
    tightness: dict[str, Any] = field(default_factory=dict)
    # Stage -> the backend (and dtype) that actually ran it: {"search": "numba", "confirm": "numpy/longdouble"}.
    backends: dict[str, str] = field(default_factory=dict)

    @property
    def as_expected(self) -> bool:
        return self.verdict == self.expected and all(d.as_expected for d in self.derivations)

    @property
    def id(self) -> str:
        return f"{self.theorem}::{self.claim}"


@dataclass(frozen=True)
class RunRecord:
    """A whole run: the claims in run order plus what produced them."""

    claims: tuple[ClaimRecord, ...]
    seed: int
    budget: str
    backend: str
    theorems: tuple[dict[str, Any], ...] = ()  # id, title, citation, statement, depends_on, assumptions
    problems: tuple[dict[str, str], ...] = ()  # spec / plugin errors: {"source", "field", "message"}
    versions: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    timings: dict[str, float] = field(default_factory=dict)
    # Why the run stopped before its end ("" for a complete run): an interrupt, a lost scheduler.
    # A partial run lists the claims it did not run, as "theorem::claim", so a resumed run and a
    # reader of the report know exactly what is missing.
    incomplete: str = ""
    not_run: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every selected claim ran (``incomplete`` is empty)."""
        return not self.incomplete

    @property
    def unexpected(self) -> tuple[ClaimRecord, ...]:
        return tuple(c for c in self.claims if not c.as_expected)


def json_safe(value: Any) -> Any:
    """JSON-safe form: tuples become lists, non-finite floats become strings."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _to_dict(run: RunRecord) -> dict[str, Any]:
    out = json_safe(asdict(run))
    for claim, rec in zip(out["claims"], run.claims):
        claim["as_expected"] = rec.as_expected
    return out


def canonical_json(run: RunRecord, *, drop_volatile: bool = False) -> str:
    """The JSON text of a run; with ``drop_volatile`` the fields that may differ between
    identical runs (timings) are removed, which is what determinism checks compare."""
    data = _to_dict(run)
    if drop_volatile:
        data = _strip(data)
    return json.dumps(data, indent=2, sort_keys=True)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_FIELDS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def dump_run(run: RunRecord, path: str | Path) -> Path:
    """Write ``run`` as JSON to ``path`` (atomically: a crash never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(canonical_json(run) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _float(v: Any) -> Any:
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    return v


def build_record(cls: type, data: Any, where: str) -> Any:
    """A record of type ``cls`` from its JSON object (nested records included); a missing or
    malformed field raises :class:`RecordError` naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise RecordError(f"{where}: expected an object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    required = {f.name for f in fields(cls) if _no_default(f)}
    missing = sorted(required - data.keys())
    if missing:
        raise RecordError(f"{where}: missing field(s) {', '.join(missing)}")
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            continue  # derived fields such as as_expected are written but not read back
        kwargs[key] = _convert(cls, key, value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by the checks above
        raise RecordError(f"{where}: {exc}") from None


def _no_default(f: Any) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


_NESTED = {
    ("DerivationRecord", "steps"): (StepRecord, True),
    ("ClaimRecord", "derivations"): (DerivationRecord, True),
    ("ClaimRecord", "worst_instance"): (InstanceRecord, False),
    ("ClaimRecord", "counterexample"): (CounterexampleRecord, False),
    ("CounterexampleRecord", "instance"): (InstanceRecord, False),
    ("CounterexampleRecord", "found"): (InstanceRecord, False),
    ("RunRecord", "claims"): (ClaimRecord, True),
}


def _convert(cls: type, key: str, value: Any, where: str) -> Any:
    nested = _NESTED.get((cls.__name__, key))
    if nested is not None:
        sub, many = nested
        if value is None:
            return None
        if many:
            if not isinstance(value, list):
                raise RecordError(f"{where}: expected a list")
            return tuple(build_record(sub, v, f"{where}[{i}]") for i, v in enumerate(value))
        return build_record(sub, value, where)
    if key in ("worst_ratio", "observed", "bound", "ratio", "slack", "violation", "tolerance",
               "confirmed_violation"):
        value = _float(value)
        if key == "tolerance" and isinstance(value, dict):
            return value
        if value is not None and not isinstance(value, (int, float)):
            raise RecordError(f"{where}: expected a number, got {value!r}")
        return value
    if key == "verdict" or key == "expected":
        if value not in VERDICTS:
            raise RecordError(f"{where}: unknown verdict {value!r} (expected one of {', '.join(VERDICTS)})")
    if key == "not_run" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise RecordError(f"{where}: expected a list of 'theorem::claim' strings")
    if key == "incomplete" and not isinstance(value, str):
        raise RecordError(f"{where}: expected a string")
    if isinstance(value, list) and key in ("theorems", "problems", "inherited", "notes", "not_run", "shrink"):
        return tuple(value)
    return value


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object stored in ``path``; an unreadable file, invalid JSON or another top-level
    value raises :class:`RecordError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not a {what}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                          f"at offset {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{path}: expected a JSON object at the top level")
    return data


def load_run(path: str | Path) -> RunRecord:
    """Read a results file written by :func:`dump_run`; a malformed file raises
    :class:`RecordError` naming the file and the field."""
    path = Path(path)
    data = read_json_object(path, "results file")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RecordError(f"{path}: schema_version {version!r} is not supported (this thmcheck reads {SCHEMA_VERSION})")
    return build_record(RunRecord, data, str(path))
