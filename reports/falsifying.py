"""The falsifying-example block: one counterexample, readable in ten seconds.

Every renderer (terminal, pytest, HTML, Markdown) shows a refuted claim with the same block, built
here from the record alone::

    mine.descent::descent  FAIL (expected pass)
      claim      f(w_{t+1}) <= f(w_t) - eta ||grad f(w_t)||^2
                 f₀ − f₁ ≥ Gη
      instance   quadratic (gd), d = 1, T = 1, at step t = 0
                 A = [[1]]  b = [0]  w0 = [-1]
                 L = 1, η = 1
      observed   f₀ − f₁ = 0.5
      bound      Gη = 1
      violation  0.5 (50% of the bound), confirmed in float64 and longdouble
      exact      observed 1/2, bound 1: violated exactly by 1/2
      shrunk     from d = 1, T = 12, t = 0, L = 1.87310, η = 0.533873 (6 moves)
      replay     thmcheck replay /abs/path/counterexamples/mine.descent__descent.json --spec /abs/my_specs.py

Numbers are shown to :data:`DIGITS` significant digits; a replay reproduces them to those digits
(the tests check it).  Nothing here imports the rest of the project.
"""

from __future__ import annotations

import ast
import re
import shlex
from typing import Any

from .mathtext import latex_to_unicode, split_relation, symbol_text
from .records import ClaimRecord, InstanceRecord

__all__ = ["DIGITS", "falsifying_lines", "violation_summary", "falsifying_text", "verdict_label", "replay_command", "spec_source",
           "number", "is_expected_refutation"]

#: Significant digits of every number in the block.
DIGITS = 6
#: Arrays with more numbers than this are summarised by their shape (the file has them all).
MAX_SHOWN = 12
#: Keys the engine adds to every recorded instance (shown in the instance's first line, or not at all).
_ENGINE_KEYS = ("w0", "T", "seed", "instance_id", "settings", "theta")


def number(x: Any) -> str:
    """A number to :data:`DIGITS` significant digits (integers without a decimal point)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    return "0" if x == 0 else f"{float(x):.{DIGITS}g}"  # no "-0"


def is_expected_refutation(rec: ClaimRecord) -> bool:
    """A claim that was expected to fail (as printed in its source) and did."""
    return rec.verdict == "fail" and rec.expected == "fail" and rec.as_expected


def verdict_label(rec: ClaimRecord, *, short: bool = False) -> str:
    """The verdict in words, telling a refutation the spec expected from an unexpected result:
    "refuted as expected" for a claim encoded as printed that failed (with "(as printed)" unless
    ``short``), "FAIL (expected pass)" for an unexpected one, and the plain verdict otherwise."""
    if is_expected_refutation(rec):
        return "refuted as expected" + (" (as printed)" if rec.printed and not short else "")
    if rec.as_expected:
        return rec.verdict
    return f"{rec.verdict.upper()} (expected {rec.expected})"


def spec_source(rec: ClaimRecord) -> str | None:
    """The spec file or module a counterexample's replay snippet names (theorems that are not
    installed plugins), else None."""
    cx = rec.counterexample
    if cx is None:
        return None
    m = re.search(r"spec=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", cx.replay)
    if not m:
        return None
    try:
        value = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def replay_command(rec: ClaimRecord, path: str | None) -> str:
    """The shell command that replays ``rec``'s counterexample from ``path`` (its counterexample
    file or the run's results.json); None for ``path`` gives the verify command that finds it again."""
    spec = spec_source(rec)
    extra = f" --spec {shlex.quote(spec)}" if spec else ""
    if path is None:
        target = shlex.quote(spec) + " " if spec else ""
        return (f"thmcheck verify {target}{shlex.quote(rec.id)} --seed {rec.seed} --budget {rec.budget or 'quick'}"
                + (f" --backend {rec.backend}" if rec.backend in ("numpy", "numba", "cupy") else ""))
    claim = "" if "counterexamples" in path else f" {shlex.quote(rec.id)}"
    return f"thmcheck replay {shlex.quote(path)}{claim}{extra}"


def _array(value: Any) -> str | None:
    """A compact text form of a nested list of numbers (None for an empty one)."""
    flat: list[Any] = []

    def walk(v: Any) -> list[int]:
        if isinstance(v, list):
            shapes = [walk(x) for x in v]
            return [len(v)] + (shapes[0] if shapes else [])
        flat.append(v)
        return []

    shape = walk(value)
    if not flat:
        return None
    if len(flat) > MAX_SHOWN:
        return "×".join(str(s) for s in shape) + " array (in the file)"

    def fmt(v: Any) -> str:
        return "[" + ", ".join(fmt(x) for x in v) + "]" if isinstance(v, list) else number(v)

    return fmt(value)


def _instance_lines(inst: InstanceRecord) -> list[str]:
    data = inst.data if isinstance(inst.data, dict) else {}
    params = inst.params if isinstance(inst.params, dict) else {}
    head = [f"{inst.family} ({inst.dynamics})"]
    w0 = data.get("w0")
    dim = params.get("d", params.get("n"))
    if dim is None and isinstance(w0, list) and w0:
        dim = len(w0)
    if dim is not None:
        head.append(f"{'n' if 'n' in params and 'd' not in params else 'd'} = {number(dim)}")
    if "T" in data and inst.step is not None:
        head.append(f"T = {data['T']}, at step t = {inst.step}")
    lines = [", ".join(head)]
    arrays = []
    for key, value in data.items():
        if key in _ENGINE_KEYS:
            continue
        if isinstance(value, list):
            text = _array(value)
            if text is not None:
                arrays.append(f"{key} = {text}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            arrays.append(f"{key} = {number(value)}")
    if isinstance(w0, list) and w0:
        arrays.append(f"w0 = {_array(w0)}")
    if arrays:
        lines.append("  ".join(arrays))
    if params:
        lines.append(", ".join(f"{symbol_text(k)} = {number(v)}" for k, v in params.items()))
    return lines


def _is_number(text: str) -> bool:
    try:
        float(text.replace("−", "-"))
    except ValueError:
        return False
    return True


def _short(inst: InstanceRecord, *, dims: bool = True) -> str:
    data = inst.data if isinstance(inst.data, dict) else {}
    params = inst.params if isinstance(inst.params, dict) else {}
    parts = []
    if dims and isinstance(data.get("w0"), list) and data["w0"]:
        parts.append(f"d = {len(data['w0'])}")
    elif dims and "n" in params:
        parts.append(f"n = {number(params['n'])}")
    if dims and "T" in data and inst.step is not None:
        parts.append(f"T = {data['T']}, t = {inst.step}")
    parts += [f"{symbol_text(k)} = {number(v)}" for k, v in params.items() if k in ("L", "mu", "eta", "lam", "rho")]
    return ", ".join(parts)


def falsifying_lines(rec: ClaimRecord, *, path: str | None = None, compact: bool = False) -> list[str]:
    """The block for ``rec``'s counterexample as lines (no trailing newline); ``path`` is where the
    counterexample can be replayed from (see :func:`replay_command`).  ``compact`` gives three
    lines: the heading, observed vs bound, and the replay command."""
    cx = rec.counterexample
    if cx is None:
        return []
    inst = cx.instance
    sides = split_relation(rec.latex) if rec.latex else None
    rel = latex_to_unicode(rec.latex) if rec.latex else ""
    statistical = cx.evidence == "statistical" or rec.kind in ("probability", "scaling")
    violation = cx.confirmed_violation
    bound = inst.bound
    rel_text = ""
    if not statistical and isinstance(bound, (int, float)) and bound == bound and bound != 0:
        rel_text = f" ({abs(violation / bound) * 100:.3g}% of the bound)"
    lines = [f"{rec.id}  {verdict_label(rec)}"]
    obs_name, sign, bound_name = sides if sides else ("observed", "vs", "bound")
    pad = "  {:<10} {}"
    if compact:
        short = _short(inst, dims=False)
        lines.append(pad.format("instance", _instance_lines(inst)[0] + (f"; {short}" if short else "")))
        shown = number(bound) if _is_number(bound_name) else f"{bound_name} = {number(bound)}"
        lines.append(pad.format("violated", f"{obs_name} = {number(inst.observed)} {sign} {shown} "
                                            f"fails by {number(violation)}{rel_text}"
                                + (f"; exactly by {cx.exact['violation']}" if cx.exact else "")))
        lines.append(pad.format("replay", replay_command(rec, path)))
        return lines
    if rec.statement:
        lines.append(pad.format("claim", rec.statement))
        if rel:
            lines.append(pad.format("", rel))
    elif rel:
        lines.append(pad.format("claim", rel))
    inst_lines = _instance_lines(inst)
    lines.append(pad.format("instance", inst_lines[0]))
    lines += [pad.format("", line) for line in inst_lines[1:]]
    if statistical:
        lines.append(pad.format("evidence", f"statistical ({cx.confirmed_precision}); see the record's intervals"))
    else:
        lines.append(pad.format("observed", f"{obs_name} = {number(inst.observed)}"))
        shown = number(bound) if _is_number(bound_name) else f"{bound_name} = {number(bound)}"
        lines.append(pad.format("bound", f"{shown}   (claim: observed {sign} bound)"))
        where = "float64 and " + (cx.confirmed_precision or "extended precision")
        lines.append(pad.format("violation", f"{number(violation)}{rel_text}, confirmed in {where}"))
        if cx.exact:
            lines.append(pad.format("exact", f"observed {cx.exact.get('observed')}, bound {cx.exact.get('bound')}: "
                                             f"violated exactly by {cx.exact.get('violation')}"))
        elif cx.evidence:
            lines.append(pad.format("exact", "no exact certificate (confirmed in extended precision only)"))
    membership = {"exact": "in its class, certified exactly (rational arithmetic, no slack)",
                  "extended": "in its class, certified in extended precision with a covering margin",
                  "float64-with-slack": "in its class by the float64 check and its rounding slack only "
                                        "(the class has no exact check)"}.get(cx.membership, "")
    if membership:
        lines.append(pad.format("membership", membership))
    if cx.found is not None and cx.shrink:
        lines.append(pad.format("shrunk", f"from {_short(cx.found)} ({len(cx.shrink)} moves)"))
    lines.append(pad.format("replay", replay_command(rec, path)))
    return lines


def violation_summary(rec: ClaimRecord) -> str:
    """One line: the violated comparison with its numbers and the instance, e.g. ``f₀ − f₁ = 0.5 ≥
    Gη = 1 fails by 0.5 (exactly 1/2) on quadratic (gd), d = 1, T = 1, at step t = 0; L = 1, η = 1``."""
    cx = rec.counterexample
    if cx is None:
        return ""
    inst = cx.instance
    sides = split_relation(rec.latex) if rec.latex else None
    obs_name, sign, bound_name = sides if sides else ("observed", "vs", "bound")
    shown = number(inst.bound) if _is_number(bound_name) else f"{bound_name} = {number(inst.bound)}"
    exact = f" (exactly {cx.exact['violation']})" if cx.exact else ""
    short = _short(inst, dims=False)
    return (f"{obs_name} = {number(inst.observed)} {sign} {shown} fails by {number(cx.confirmed_violation)}{exact} "
            f"on {_instance_lines(inst)[0]}" + (f"; {short}" if short else ""))


def falsifying_text(rec: ClaimRecord, *, path: str | None = None, compact: bool = False) -> str:
    """:func:`falsifying_lines` joined into one string."""
    return "\n".join(falsifying_lines(rec, path=path, compact=compact))
