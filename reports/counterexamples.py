"""Counterexample files: one self-contained JSON file per confirmed counterexample.

``thmcheck verify --out DIR`` writes ``DIR/counterexamples/<theorem>__<claim>.json`` next to
``results.json``; ``thmcheck replay FILE`` reruns one.  A file carries everything needed to replay
and to judge the result without the run it came from: the claim's id, statement and relation, the
instance record (family, dynamics, arrays, parameters, step), the violation found and the one
confirmed in higher precision, the replay snippet, and the seed / budget / backend of the search.

Like the rest of ``reports`` this depends on records alone (no NumPy, SymPy or numba).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from .falsifying import replay_command
from .records import (SCHEMA_VERSION, VERDICTS, ClaimRecord, CounterexampleRecord, RecordError, RunRecord, build_record,
                      json_safe, read_json_object)

__all__ = ["FORMAT", "counterexample_document", "counterexample_path", "write_counterexamples",
           "is_counterexample_file", "load_counterexample"]

FORMAT = "thmcheck-counterexample"
_CLAIM_KEYS = ("theorem", "claim", "kind", "statement", "latex", "verdict", "expected", "printed",
               "corrected_by", "seed", "budget", "backend")
_CX_KEYS = frozenset(f.name for f in fields(CounterexampleRecord))


def counterexample_document(rec: ClaimRecord, path: str | Path | None = None) -> dict[str, Any]:
    """The self-contained JSON object for the counterexample of ``rec``; ``path`` is where it is
    written (its absolute form goes into the replay command)."""
    if rec.counterexample is None:
        raise ValueError(f"{rec.id} has no counterexample")
    cx = asdict(rec.counterexample)
    doc: dict[str, Any] = {"format": FORMAT, "schema_version": SCHEMA_VERSION, "id": rec.id}
    doc.update({k: getattr(rec, k) for k in _CLAIM_KEYS})
    doc["instance"] = cx.pop("instance")
    doc.update(cx)  # violation, tolerance, confirmed_precision, confirmed_violation, replay
    doc["replay_command"] = replay_command(rec, None if path is None else str(Path(path).resolve()))
    return json_safe(doc)


def counterexample_path(folder: str | Path, rec: ClaimRecord) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{rec.theorem}__{rec.claim}")
    return Path(folder) / f"{name}.json"


def write_counterexamples(run: RunRecord, folder: str | Path) -> list[Path]:
    """Write one file per claim of ``run`` with a counterexample into ``folder``; files of this
    format left there by an earlier run are removed, so the folder always matches the run."""
    folder = Path(folder)
    wanted = {counterexample_path(folder, rec): rec for rec in run.claims if rec.counterexample is not None}
    if folder.is_dir():
        for old in folder.glob("*.json"):
            if old not in wanted and is_counterexample_file(old):
                old.unlink()
    if not wanted:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    for path, rec in wanted.items():
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(counterexample_document(rec, path), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    return list(wanted)


def is_counterexample_file(path: str | Path) -> bool:
    """Whether ``path`` holds a JSON object of this format (False for anything unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def load_counterexample(path: str | Path) -> ClaimRecord:
    """Read a counterexample file into a :class:`ClaimRecord` carrying just that counterexample;
    a malformed file raises :class:`RecordError` naming the file and the field."""
    path = Path(path)
    data = read_json_object(path, "counterexample file")
    if data.get("format") != FORMAT:
        raise RecordError(f"{path}: not a thmcheck counterexample file (no \"format\": \"{FORMAT}\")")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise RecordError(f"{path}: schema_version {data.get('schema_version')!r} is not supported "
                          f"(this thmcheck reads {SCHEMA_VERSION})")
    for key in ("theorem", "claim"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise RecordError(f"{path}: {key}: expected a non-empty string")
    cx = build_record(CounterexampleRecord, {k: v for k, v in data.items() if k in _CX_KEYS}, str(path))
    inst = cx.instance
    for key, kind in (("data", dict), ("params", dict), ("family", str), ("dynamics", str)):
        if not isinstance(getattr(inst, key), kind):
            raise RecordError(f"{path}: instance.{key}: expected {'an object' if kind is dict else 'a string'}")
    if inst.step is not None and (isinstance(inst.step, bool) or not isinstance(inst.step, int)):
        raise RecordError(f"{path}: instance.step: expected an integer or null, got {inst.step!r}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RecordError(f"{path}: seed: expected an integer, got {seed!r}")
    return ClaimRecord(
        theorem=data["theorem"], claim=data["claim"], kind=str(data.get("kind", "")),
        statement=str(data.get("statement", "")), latex=str(data.get("latex", "")), verdict="fail",
        expected=data["expected"] if data.get("expected") in VERDICTS else "pass",
        printed=bool(data.get("printed", False)), corrected_by=data.get("corrected_by"),
        counterexample=cx, worst_instance=inst, worst_ratio=inst.ratio, seed=seed,
        budget=str(data.get("budget", "")), backend=str(data.get("backend", "")),
    )
