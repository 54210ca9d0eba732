"""Records and renderers.  Depends on records alone: a saved results.json renders without numba,
CuPy or SymPy."""

from .records import (
    SCHEMA_VERSION,
    ClaimRecord,
    CounterexampleRecord,
    DerivationRecord,
    InstanceRecord,
    RecordError,
    RunRecord,
    StepRecord,
    canonical_json,
    dump_run,
    load_run,
)

__all__ = [
    "SCHEMA_VERSION", "ClaimRecord", "CounterexampleRecord", "DerivationRecord", "InstanceRecord",
    "RecordError", "RunRecord", "StepRecord", "canonical_json", "dump_run", "load_run",
]
