"""Membership of a confirmed counterexample, certified without float64 slack.

The search checks every generated instance with its class's float64 membership test, which must
forgive the eigensolver's rounding (a few ulps on a spectral constant).  A claim whose bound is
hypersensitive to the constants can be violated for real on an instance that sits inside that
forgiveness and outside the class (issue 17, finding 8).  So before a violation counts, the
instance is re-checked by the class's :attr:`~numeric.api.InstanceClass.member_exact` hook, in
exact rational or extended arithmetic; an instance it rejects makes the claim an ``error``
(instance outside its class), never a ``fail``.  A class without the hook keeps its float64 check,
and the record says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..api import MEMBERSHIP_METHODS, InstanceBatch, Membership
from ..registry import CLASSES
from .experiment import ClaimOutcome, Experiment, Found

__all__ = ["FLOAT64_WITH_SLACK", "certify_membership", "check_counterexample"]

#: The record's ``membership`` for a class with no exact hook.
FLOAT64_WITH_SLACK = MEMBERSHIP_METHODS[2]


def certify_membership(instance_class: str, data: dict[str, Any], params: dict[str, float],
                       family: str = "") -> Membership | None:
    """The exact (or extended) membership of one recorded instance (``data`` the class's encoding
    plus ``w0``, ``params`` its constants), or None when the class has no exact hook.  A hook that
    raises is reported as a failed certificate naming the exception: the instance is then not
    certified, which is never a counterexample."""
    cls = CLASSES[instance_class]
    if cls.member_exact is None:
        return None
    try:
        problem = cls.decode(data)
        w0 = np.asarray(data.get("w0", np.zeros(0)), dtype=np.float64)[None]
        attrs = {k: np.asarray([params[k]], dtype=np.float64) for k in cls.attributes if k in params}
        return cls.member_exact(InstanceBatch(family, problem, w0, attrs))
    except Exception as exc:  # noqa: BLE001 - any failure means "not certified", reported with its cause
        return Membership(ok=False, method="exact", reason=f"the exact membership check raised {type(exc).__name__}: {exc}")


def check_counterexample(exp: Experiment, out: ClaimOutcome, found: Found) -> bool:
    """Certify a confirmed counterexample's membership and note how on ``out``; returns False (and
    sets ``out.error``) when the instance is outside its class."""
    # The spec's pinned constants (numeric.constants) are compared exactly: a value outside them
    # makes the instance no member of the class the spec names.
    outside = [f"{n} = {found.params.get(n)!r} outside the spec's [{lo:g}, {hi:g}]" for n, lo, hi in exp.constants
               if not (lo <= found.params.get(n, float("nan")) <= hi)]
    if outside:
        out.error = out.error or f"instance outside its class {exp.instance_class!r}: {outside[0]}"
        return False
    m = certify_membership(exp.instance_class, found.data, found.params, found.family)
    if m is None:
        out.membership = FLOAT64_WITH_SLACK
        return True
    out.membership = m.method
    if m.ok:
        return True
    out.error = out.error or (
        f"instance outside its class {exp.instance_class!r} ({m.method} arithmetic: {m.reason}); the float64 "
        f"membership check had accepted it within its rounding slack, so the confirmed violation on it "
        f"is no counterexample (generator {found.family!r} must store its constants on the safe side)")
    return False
