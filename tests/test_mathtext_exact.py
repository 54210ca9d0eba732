"""Unicode mathematics from the records' LaTeX, and the exact GD kernel against the NumPy reference."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import kernels
from kernels.ridge.exact import gd_quadratic
from reports.mathtext import latex_to_unicode, split_relation, symbol_text


@pytest.mark.parametrize("tex, text", [
    (r"f_{0} - f_{1} \geq G \eta", "f₀ − f₁ ≥ Gη"),
    (r"f_{0} - f_{1} \geq \frac{G \eta}{2}", "f₀ − f₁ ≥ Gη/2"),
    (r"f_{0} - f_{1} \geq G \eta \left(- \frac{L \eta}{2} + 1\right)", "f₀ − f₁ ≥ Gη·(−Lη/2 + 1)"),
    (r"\eta \lambda \leq \frac{1}{2}", "ηλ ≤ 1/2"),
    (r"\left|{Ephi_{2} - \mu_{1}}\right| \leq 0", "|Ephi₂ − μ₁| ≤ 0"),
    (r"gram_{err} \leq 0", "gram_err ≤ 0"),
    (r"lmax_{AB} \leq bmax lmax_{A}", "lmax_AB ≤ bmax·lmax_A"),
    (r"x^{2} \leq \sqrt{L \mu}", "x² ≤ √(Lμ)"),
])
def test_latex_to_unicode(tex: str, text: str) -> None:
    assert latex_to_unicode(tex) == text


def test_split_relation_and_symbols() -> None:
    assert split_relation(r"f_{0} - f_{1} \geq G \eta") == ("f₀ − f₁", "≥", "Gη")
    assert split_relation(r"a + b") is None
    assert [symbol_text(n) for n in ("eta", "eta_lam", "f_t", "f_next", "mu", "L")] == ["η", "ηλ", "fₜ", "f_next", "μ", "L"]


def test_exact_gd_matches_the_reference_to_rounding() -> None:
    rng = np.random.default_rng(3)
    d, T = 3, 6
    A = rng.standard_normal((d, d))
    A = (A + A.T) / 4
    b, w0, eta = rng.standard_normal(d), rng.standard_normal(d), 0.3
    exact = gd_quadratic(A.tolist(), b.tolist(), w0.tolist(), eta, T)
    tr = kernels.gd(kernels.RidgeQuadratic.quadratic(A[None], b[None]), w0[None], np.asarray([eta]), T,
                    backend="numpy", dtype=np.longdouble)
    assert np.allclose(np.asarray(exact.f, dtype=float), np.asarray(tr.f[0], dtype=float), rtol=1e-14, atol=1e-14)
    assert np.allclose(np.asarray(exact.gnorm2, dtype=float), np.asarray(tr.gnorm2[0], dtype=float), rtol=1e-14)
    # One step on 1/2 w^2 from w0 = 1 with eta = 1 lands on 0 exactly.
    one = gd_quadratic([[1.0]], [0.0], [1.0], 1.0, 1)
    assert one.f == (Fraction(1, 2), Fraction(0)) and one.gnorm2 == (Fraction(1), Fraction(0))
    with pytest.raises(ValueError):
        gd_quadratic([[1.0]], [0.0, 1.0], [1.0], 1.0, 1)


def test_identity_claims_are_shown_as_identities() -> None:
    """A claim written "error <= 0" on a nonnegative error, or "|a - b| <= 0", is shown as the
    identity it states; an ordinary inequality is shown as written."""
    import sympy

    from theorems.pipeline import _display_relation
    from theorems.registry import load_registry

    reg = load_registry()
    shown = {(t.id, c.name): sympy.latex(_display_relation(t, c.relation))
             for t in reg.theorems.values() for c in t.claims}
    assert shown[("scale_invariant.exp_lr", "scale_ratio")] == "normerr = 0"
    assert shown[("schur.hermite_lemma", "stein_mu1")] == r"Ephi_{2} = \mu_{1}"
    assert shown[("cp.point_mass", "cp_closed_form")] == "CP = 1"
    assert shown[("descent.lemma_2_1_4", "descent_inequality")] == r"f_{0} - f_{1} \geq \frac{G \eta}{2}"
