"""thmcheck.symbolic: derivation checking, witnesses and compilation with SymPy (and z3).

Imports nothing from the rest of the project.  ``import symbolic`` loads SymPy
and NumPy only; z3 and numba are imported inside the functions that use them.

Public surface:

* data model: :class:`Status`, :class:`Algebra`, :class:`Uses`, :class:`ByLemma`,
  :class:`Step`, :class:`Derivation`, :class:`Fact`, :class:`RelationResult`,
  :class:`StepResult`, :class:`DerivationResult`, :class:`LemmaStatement`,
  :class:`Bounds`, :class:`Satisfiability`;
* deciding: :func:`prove_relation`, :func:`check_derivation`,
  :func:`match_lemma`, :func:`satisfiability`, :func:`satisfiable`,
  :func:`parameter_bounds`;
* compiling / rendering: :func:`compile_numpy`, :func:`compile_numba`,
  :func:`atoms_abs_scale`, :func:`latex`;
* validation: :func:`validate_expression`.
"""

from .bounds import parameter_bounds
from .compile import atoms_abs_scale, compile_numba, compile_numpy, latex
from .derivation import chain_relation, check_derivation, step_relation
from .lemma import LemmaMatch, match_lemma
from .model import (
    RELATIONS,
    Algebra,
    Bounds,
    ByLemma,
    Derivation,
    DerivationResult,
    Fact,
    Justification,
    LemmaStatement,
    RelationResult,
    Satisfiability,
    Status,
    Step,
    StepResult,
    Uses,
)
from .prove import prove_relation, satisfiability, satisfiable
from .validate import validate_expression

__all__ = [
    "RELATIONS",
    "Algebra",
    "Bounds",
    "ByLemma",
    "Derivation",
    "DerivationResult",
    "Fact",
    "Justification",
    "LemmaMatch",
    "LemmaStatement",
    "RelationResult",
    "Satisfiability",
    "Status",
    "Step",
    "StepResult",
    "Uses",
    "atoms_abs_scale",
    "chain_relation",
    "check_derivation",
    "compile_numba",
    "compile_numpy",
    "latex",
    "match_lemma",
    "parameter_bounds",
    "prove_relation",
    "satisfiability",
    "satisfiable",
    "step_relation",
    "validate_expression",
]
