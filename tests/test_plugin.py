"""The pytest plugin, driven through pytester: collection, node ids, -k, failure output, spec errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

SPEC = textwrap.dedent(
    """
    import sympy
    from theorems.catalogue import descent as D
    from theorems.spec import Assumption, Citation, Claim, Theorem

    eta, L, f0, f1, G = D.eta, D.L, D.f0, D.f1, D.G

    good = Theorem(
        id="user.descent", title="descent lemma, restated by a user", citation=Citation("me", "Lemma 1"),
        symbols=D.STEP_SYMBOLS, structure=(D.SMOOTH,), dynamics="gd",
        assumptions=(Assumption("step_size", eta <= 1 / L),),
        claims=(Claim("half_step", f0 - f1 >= eta / 2 * G, "the descent lemma"),),
        horizon=8,
    )
    bad = Theorem(
        id="user.too_strong", title="a false strengthening", citation=Citation("me", "Lemma 2"),
        symbols=D.STEP_SYMBOLS, structure=(D.SMOOTH,), dynamics="gd",
        assumptions=(Assumption("step_size", eta <= 1 / L),),
        claims=(Claim("full_step", f0 - f1 >= eta * G, "decrease by eta ||g||^2"),),
        horizon=8,
    )
    broken = Theorem(
        id="user.broken", title="refers to an undeclared symbol", citation=Citation("me", "Lemma 3"),
        symbols=D.STEP_SYMBOLS, structure=(D.SMOOTH,), dynamics="gd",
        assumptions=(Assumption("step_size", eta <= 1 / L),),
        claims=(Claim("c", f0 - f1 >= sympy.Symbol("zeta") * G, "typo"),),
    )
    THEOREMS = [good, bad, broken]
    """
)

OPTS = ("--thmcheck-backend=numpy", "--thmcheck-budget=quick", "-p", "no:cacheprovider")


@pytest.fixture
def spec_dir(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(user_specs=SPEC)
    return pytester


def test_collects_one_item_per_claim_with_readable_ids(spec_dir: pytest.Pytester) -> None:
    result = spec_dir.runpytest_subprocess("--collect-only", "-q", *OPTS)
    out = result.stdout.str()
    assert "user_specs.py::user.descent::half_step" in out
    assert "user_specs.py::user.too_strong::full_step" in out
    assert "user_specs.py::user.broken" in out


def test_verdicts_failure_report_and_spec_error(spec_dir: pytest.Pytester) -> None:
    result = spec_dir.runpytest_subprocess(*OPTS)
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    # The false claim reports its counterexample and a replay snippet, not a traceback.
    assert "user.too_strong::full_step: FAIL (expected pass)" in out
    assert "falsifying example:" in out and "observed" in out and "bound" in out
    assert "replay     thmcheck verify " in out and "user.too_strong::full_step --seed 0" in out
    assert "Traceback" not in out
    # The malformed spec is one clear error naming the id and field.
    assert "malformed theorem spec: user.broken: claims.c.relation: unknown symbol(s) zeta" in out


def test_keyword_selection(spec_dir: pytest.Pytester) -> None:
    result = spec_dir.runpytest_subprocess("-k", "half_step", *OPTS)
    result.assert_outcomes(passed=1)


def test_junit_xml_carries_verdict_properties(spec_dir: pytest.Pytester) -> None:
    xml = spec_dir.path / "out.xml"
    spec_dir.runpytest_subprocess("-k", "descent", f"--junitxml={xml}", *OPTS)
    text = xml.read_text()
    assert 'name="verdict" value="pass"' in text and 'name="worst_ratio"' in text and 'name="seed" value="0"' in text


def test_unavailable_backend_skips_with_reason(spec_dir: pytest.Pytester) -> None:
    import kernels

    if "cupy" in kernels.available_backends():
        pytest.skip("a GPU is present: the cupy backend is available here")
    result = spec_dir.runpytest_subprocess("--thmcheck-backend=cupy", "-k", "half_step", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    assert "thmcheck backend unavailable: " in result.stdout.str()


def test_plugin_import_is_light() -> None:
    code = ("import sys, theorems.pytest_plugin; "
            "print(sorted(m for m in ('sympy', 'numba', 'cupy', 'z3', 'hypothesis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
