"""Reading observables off a run, with their rounding-scale companions."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..api import SCALE_SUFFIX

__all__ = ["SCALE_SUFFIX", "observe"]


def observe(run: Any, wanted: tuple[str, ...], kind: str, per_step: Mapping[str, Callable[[Any], np.ndarray]],
            trajectory: Mapping[str, Callable[[Any], np.ndarray]], scale_of: Mapping[str, str]) -> dict[str, np.ndarray]:
    """The requested observables (with their scale companions) from the given vocabulary;
    trajectory observables get a trailing axis for per-step claims so that they broadcast
    against (n, T) arrays."""
    out: dict[str, np.ndarray] = {}
    for name in wanted:
        for key, source in ((name, name), (name + SCALE_SUFFIX, scale_of.get(name))):
            if source is None:
                continue
            if source in per_step:
                if kind != "per_step":
                    raise ValueError(f"observable {name!r} is per-step; a {kind} claim cannot use it")
                out[key] = per_step[source](run)
            elif source in trajectory:
                value = trajectory[source](run)
                out[key] = value[:, None] if kind == "per_step" else value
            else:
                raise ValueError(f"unknown observable {source!r}; known: {', '.join(list(per_step) + list(trajectory))}")
    return out
