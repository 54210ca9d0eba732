"""Counterexamples a reader checks by hand: shrinking, exact certificates, the falsifying-example
block in the terminal and under pytest, replays that reproduce the digits shown, and pytest ids
that are accepted back."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from reports.falsifying import DIGITS, falsifying_text, number, replay_command
from reports.records import CounterexampleRecord, build_record, load_run
from theorems import cli

# The descent lemma as a user might misremember it: a full step eta where the lemma has eta / 2.
FALSE_DESCENT = textwrap.dedent('''
    from theorems.spec import Assumption, Citation, Claim, Domain, Role, Structural, Sym, Theorem

    L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
    ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
    F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_t", doc="f(w_t)")
    F1_ = Sym("f1", Domain.REAL, Role.OBSERVABLE, "f_next", doc="f(w_{t+1})")
    G_ = Sym("G", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_t", doc="||grad f(w_t)||^2")
    L, eta, f0, f1, G = (s.s for s in (L_, ETA_, F0_, F1_, G_))

    descent = Theorem(
        id="mine.descent",
        title="Descent lemma (as I remember it)",
        citation=Citation("my notes", "Lemma 2", "page 2"),
        symbols=(L_, ETA_, F0_, F1_, G_),
        structure=(Structural("smooth", "smooth", "f is L-smooth"),),
        dynamics="gd",
        assumptions=(Assumption("step_size", eta <= 1 / L, "eta <= 1/L"),),
        claims=(Claim("descent", f0 - f1 >= eta * G, "f(w_{t+1}) <= f(w_t) - eta ||grad f(w_t)||^2"),),
        horizon=12,
    )

    THEOREMS = [descent]
''')
CLAIM = "mine.descent::descent"


def _simple(x: float) -> bool:
    """A number a reader takes in at a glance: a small-denominator rational or a short decimal."""
    fr = Fraction(x).limit_denominator(12)
    return float(fr) == x or float(f"{x:.2e}") == x


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The false descent variant verified once from its spec file: (spec file, out folder, terminal text)."""
    root = tmp_path_factory.mktemp("false_descent")
    spec = root / "my_specs.py"
    spec.write_text(FALSE_DESCENT, encoding="utf-8")
    out = root / "out"
    buf = io.StringIO()
    mp = pytest.MonkeyPatch()
    mp.setattr(cli, "Console", lambda **kw: Console(file=buf, force_terminal=False, width=120))
    try:
        code = cli.main(["verify", str(spec), "--budget", "quick", "--backend", "numpy", "--out", str(out), "--quiet"])
    finally:
        mp.undo()
    assert code == 1  # the claim is false and the spec expects it to pass
    return spec, out, buf.getvalue()


def test_false_descent_is_shrunk_to_a_one_dimensional_exact_counterexample(verified: tuple[Path, Path, str]) -> None:
    _, out, _ = verified
    rec = next(c for c in load_run(out / "results.json").claims if c.id == CLAIM)
    assert rec.verdict == "fail"
    cx = rec.counterexample
    inst = cx.instance
    assert len(inst.data["w0"]) == 1 and inst.params["d"] == 1.0
    assert inst.data["T"] == inst.step + 1  # the horizon ends at the violating step
    for key in ("L", "eta"):
        assert _simple(inst.params[key]), (key, inst.params[key])
    assert all(_simple(x) for x in np.ravel(inst.data["A"])) and all(_simple(x) for x in inst.data["w0"])
    # The instance as found is kept next to the shrunk one, with the moves that led there.
    assert cx.found is not None and cx.shrink and cx.found != inst
    # The exact certificate: the claim's two sides recomputed in rational arithmetic.
    assert cx.evidence == "exact"
    observed, bound = Fraction(cx.exact["observed"]), Fraction(cx.exact["bound"])
    assert Fraction(cx.exact["violation"]) == bound - observed > 0
    # Independently: one GD step on 1/2 a w^2 + b w from w0, exactly.
    a, b, w, eta = (Fraction(v) for v in (inst.data["A"][0][0], inst.data["b"][0], inst.data["w0"][0], inst.params["eta"]))
    for _ in range(inst.step):
        w -= eta * (a * w + b)
    g = a * w + b
    w1 = w - eta * g
    f = lambda x: a * x * x / 2 + b * x  # noqa: E731
    assert observed == f(w) - f(w1) and bound == eta * g * g
    assert float(observed) == inst.observed and float(bound) == inst.bound


def test_terminal_shows_the_falsifying_block(verified: tuple[Path, Path, str]) -> None:
    spec, out, text = verified
    assert "FAIL (expected pass)" in text
    assert "f₀ − f₁ ≥ Gη" in text  # the relation in Unicode, not LaTeX
    assert re.search(r"instance +quadratic \(gd\), d = 1, T = \d+, at step t = \d+", text), text
    assert "violated exactly by" in text and "\\geq" not in text
    cfile = (out / "counterexamples" / "mine.descent__descent.json").resolve()
    assert f"thmcheck replay {cfile} --spec {spec}" in text
    doc = json.loads(cfile.read_text())
    assert doc["replay_command"] == f"thmcheck replay {cfile} --spec {spec}"


def test_replay_reproduces_the_digits_shown(verified: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    from theorems.registry import load_registry
    from theorems.replay import replay_claim

    spec, out, _ = verified
    rec = next(c for c in load_run(out / "results.json").claims if c.id == CLAIM)
    block = falsifying_text(rec)
    res = replay_claim(load_registry(extra_files=[str(spec)]), rec)
    assert res.reproduced
    assert f"= {number(res.observed)}" in block and f"= {number(res.bound)}" in block
    assert number(res.violation) in block
    # The instance as found replays too (shrinking traded one confirmed counterexample for another).
    found = replay_claim(load_registry(extra_files=[str(spec)]), rec.__class__(
        **{**{k: getattr(rec, k) for k in rec.__dataclass_fields__},
           "counterexample": CounterexampleRecord(**{**asdict(rec.counterexample), "instance": rec.counterexample.found,
                                                     "found": None})}))
    assert found.reproduced
    # And the command line printed in the block runs and says so.
    cfile = out / "counterexamples" / "mine.descent__descent.json"
    assert cli.main(["replay", str(cfile), "--spec", str(spec)]) == 0
    assert "reproduced" in capsys.readouterr().out


def test_pytest_reports_the_counterexample_and_ids_run_back(verified: tuple[Path, Path, str], tmp_path: Path) -> None:
    (tmp_path / "my_specs.py").write_text(FALSE_DESCENT, encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-v", "my_specs.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "my_specs.py::mine.descent::descent FAILED" in proc.stdout
    assert "falsifying example:" in proc.stdout and "d = 1" in proc.stdout and "violated exactly by" in proc.stdout
    # --tb=line: one line per failure, carrying the violation.
    line = subprocess.run([*cmd[:-2], "--tb=line", "my_specs.py"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    fails = [ln for ln in line.stdout.splitlines() if ln.startswith(str(tmp_path))]
    assert len(fails) == 1 and "fails by" in fails[0] and "exactly" in fails[0], line.stdout
    assert "falsifying example:" not in line.stdout


def test_replay_command_without_a_file_names_the_search() -> None:
    data = json.loads(json.dumps({"instance": {"family": "quadratic", "dynamics": "gd", "data": {}, "params": {},
                                               "step": 0, "observed": 1.0, "bound": 0.5, "ratio": 2.0, "slack": -1.0},
                                  "violation": 0.5, "tolerance": 1e-16, "confirmed_precision": "longdouble",
                                  "confirmed_violation": 0.5, "replay": "replay_recorded('a.b', 'c', x, spec='/x/s.py')"}))
    cx = build_record(CounterexampleRecord, data, "test")
    # An old record (no shrink, no evidence fields) still loads.
    assert cx.found is None and cx.shrink == () and cx.evidence == "" and cx.exact == {}
    from reports.records import ClaimRecord

    rec = ClaimRecord(theorem="a.b", claim="c", kind="per_step", statement="", latex="x \\leq y", verdict="fail",
                      expected="pass", counterexample=cx, seed=3, budget="quick", backend="numba")
    assert replay_command(rec, None) == "thmcheck verify /x/s.py a.b::c --seed 3 --budget quick --backend numba"
    assert replay_command(rec, "/o/results.json") == "thmcheck replay /o/results.json a.b::c --spec /x/s.py"
    assert f"{0.123456789:.{DIGITS}g}" == number(0.123456789)


def test_pytest_verbose_ids_are_accepted_back(tmp_path: Path) -> None:
    """Ids as ``pytest -v`` and ``--collect-only -q`` print them run when passed back."""
    root = Path(__file__).resolve().parents[1]
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0"]
    collected = subprocess.run([*base, "--collect-only", "-q", "theorems/"], cwd=root, capture_output=True, text=True,
                               timeout=300)
    ids = [ln for ln in collected.stdout.splitlines() if "::" in ln]
    assert len(ids) > 50, collected.stdout[-2000:]
    back = subprocess.run([*base, "--collect-only", "-q", *ids], cwd=root, capture_output=True, text=True, timeout=300)
    assert back.returncode == 0 and [ln for ln in back.stdout.splitlines() if "::" in ln] == ids, back.stdout[-2000:]
    picked = "footnote_3 or without_psd_a"
    verbose = subprocess.run([*base, "-v", "theorems/", "-k", picked], cwd=root, capture_output=True, text=True,
                             timeout=600)
    printed = [ln.split(" ")[0] for ln in verbose.stdout.splitlines() if re.search(r" (PASSED|XFAIL|FAILED)\b", ln)
               and "::" in ln.split(" ")[0]]
    assert len(printed) == 3 and all(p in ids for p in printed), verbose.stdout[-2000:]
    again = subprocess.run([*base, "-rA", *printed], cwd=root, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "1 passed, 2 xfailed" in again.stdout
    # Refutations the spec expects are XFAIL with the violation as the reason.
    assert re.search(r"XFAIL theorems/catalogue/schur.py::schur.without_psd_a::lower_bound - refuted as expected: "
                     r"\S+ = \S+ ≥ .* fails by", again.stdout), again.stdout[-3000:]
