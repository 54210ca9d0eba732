"""Tightness against a known exact worst case: "bound X, exact worst case Y, best found Z".

A claim may declare ``exact_worst=ExactWorst(ratio, bound=..., unit=...)``: the supremum of its
tightness ratio over every admissible instance (observed/bound for ``<=``, bound/observed for
``>=``), and optionally the bound's value in a stated normalisation.  :func:`tightness_record` turns
that and the search's worst ratio into the record's ``tightness`` field.
"""

from __future__ import annotations

from typing import Any

from .spec import Claim

__all__ = ["tightness_record"]


def tightness_record(claim: Claim, worst_ratio: float | None, pep: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``tightness`` field of ``claim``'s record.  Without a declared exact worst case it says
    only how close the best instance came to the bound (``best_found_ratio``; {} when no ratio was
    defined).  ``pep``: the exact worst case computed by the PEPit oracle
    (:meth:`theorems.pep_oracle.PepResult.record`), recorded as ``exact_worst_pep`` and, with a
    normalised bound, as the fraction of it that the best instance reached.

    ``fraction`` = best found ratio / exact worst ratio (1 means the search reached the exact worst
    case).  With a normalised ``bound`` X: exact worst case Y = X * ratio for ``<=`` claims and
    X / ratio for ``>=`` claims (there the bound is a guaranteed least value), likewise Z."""
    ew = getattr(claim, "exact_worst", None)
    if ew is None:
        # No declared exact value: how close the best instance came, and PEPit's exact worst case
        # of the claim's quantity (in its own normalisation) where the oracle computed one.
        base = {} if worst_ratio is None else {"best_found_ratio": float(worst_ratio)}
        return base | ({"exact_worst_pep": dict(pep)} if pep is not None else {})
    out: dict[str, Any] = {"exact_worst_ratio": float(ew.ratio),
                           "best_found_ratio": None if worst_ratio is None else float(worst_ratio),
                           "fraction": None if worst_ratio is None else float(worst_ratio) / float(ew.ratio),
                           "source": ew.source}
    if ew.bound is not None:
        le = not claim.relation.rel_op.startswith(">")
        conv = (lambda r: ew.bound * r) if le else (lambda r: ew.bound / r)
        out.update({"bound": float(ew.bound), "exact_worst": float(conv(ew.ratio)), "unit": ew.unit,
                    "best_found": None if not worst_ratio else float(conv(worst_ratio))})
    if pep is not None:
        out["exact_worst_pep"] = dict(pep)
        if ew.bound is not None and out.get("best_found") is not None and pep.get("value"):
            le = not claim.relation.rel_op.startswith(">")
            found, exact = float(out["best_found"]), float(pep["value"])
            out["fraction_of_pep"] = found / exact if le else exact / found
    return out
