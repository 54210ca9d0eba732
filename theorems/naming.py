"""Ordering of theorem ids as people read them: ``n1, n2, n5, n10`` rather than ``n1, n10, n2, n5``."""

from __future__ import annotations

import re

__all__ = ["natural_key"]


def natural_key(text: str) -> tuple[str | int, ...]:
    """A sort key comparing the runs of digits in ``text`` as numbers (``gd_min_grad_n2`` before
    ``gd_min_grad_n10``).  Digit runs and other text alternate at fixed positions, so two keys
    never compare a number with a string."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", text)))
