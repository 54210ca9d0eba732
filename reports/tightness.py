"""One line per claim from the record's ``tightness`` field: how close the best instance came to the
bound and, where one is known (declared, or computed by the PEPit oracle), to the exact worst case."""

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
    pep = t.get("exact_worst_pep")
    if pep:
        acc = "" if pep.get("accuracy") is None else f", accuracy {float(pep['accuracy']):.1e}"
        fp = t.get("fraction_of_pep")
        pct += (f"; exact worst case {_g(pep.get('value'))} ({pep.get('source', 'PEPit')}, {pep.get('solver', '')}{acc})"
                + ("" if fp is None else f", best found {100 * float(fp):.2f}% of it"))
    if "exact_worst_ratio" not in t:
        return (f"best instance found: observed/bound = {_g(t.get('best_found_ratio'))} (no exact worst case declared"
                + (f"{pct}, in the metric's own normalisation)" if pep else ")"))
    if t.get("bound") is not None:
        unit = f" [{t['unit']}]" if t.get("unit") else ""
        return f"bound {_g(t['bound'])}, exact worst case {_g(t.get('exact_worst'))}, best found {_g(t.get('best_found'))}{pct}{unit}"
    return (f"exact worst ratio {_g(t.get('exact_worst_ratio'))}, best found ratio {_g(t.get('best_found_ratio'))}{pct}")
