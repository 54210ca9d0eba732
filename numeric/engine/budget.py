"""Named search budgets.

``quick`` is what CI and ``pytest theorems/`` use: the whole catalogue must stay within about five
minutes on two cores.  ``default`` (``thmcheck verify``) about three times that; ``thorough`` is for
benchmarks and deep searches.  A theorem's share is the sizes below; the README states the measured
times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Budget", "BUDGETS", "budget"]


@dataclass(frozen=True)
class Budget:
    """Sizes of one search.

    bulk_rounds x bulk_batch instances are drawn at random (extremal patterns included), then
    Hypothesis runs ``examples`` targeted examples of ``example_batch`` instances each, and up to
    ``confirm`` candidate violations are replayed in higher precision.
    """

    name: str
    bulk_rounds: int
    bulk_batch: int
    examples: int
    example_batch: int
    confirm: int

    def as_dict(self) -> dict[str, int | str]:
        return asdict(self)


BUDGETS: dict[str, Budget] = {
    "quick": Budget("quick", bulk_rounds=12, bulk_batch=256, examples=40, example_batch=32, confirm=4),
    "default": Budget("default", bulk_rounds=48, bulk_batch=1024, examples=200, example_batch=64, confirm=8),
    "thorough": Budget("thorough", bulk_rounds=192, bulk_batch=4096, examples=1000, example_batch=128, confirm=16),
}


def budget(name: str) -> Budget:
    """The budget called ``name``; an unknown name is a clear error listing the valid ones."""
    try:
        return BUDGETS[name]
    except KeyError:
        raise ValueError(f"unknown budget {name!r}; choose one of {', '.join(BUDGETS)}") from None
