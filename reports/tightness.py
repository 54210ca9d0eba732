"""One line per claim with a known exact worst case (from the record's ``tightness`` field)."""

from __future__ import annotations

from typing import Any

__all__ = ["tightness_line"]


def _g(v: Any) -> str:
    return "?" if v is None else f"{float(v):.6g}"


def tightness_line(t: dict[str, Any]) -> str:
    """"bound X, exact worst case Y, best found Z (F% of the exact worst case)" where the spec gave a
    normalisation, else the same in ratio units."""
    frac = t.get("fraction")
    pct = "" if frac is None else f" ({100 * float(frac):.2f}% of the exact worst case)"
    if t.get("bound") is not None:
        unit = f" [{t['unit']}]" if t.get("unit") else ""
        return f"bound {_g(t['bound'])}, exact worst case {_g(t.get('exact_worst'))}, best found {_g(t.get('best_found'))}{pct}{unit}"
    return (f"exact worst ratio {_g(t.get('exact_worst_ratio'))}, best found ratio {_g(t.get('best_found_ratio'))}{pct}")
