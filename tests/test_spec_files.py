"""Spec files and spec modules outside the catalogue: ``thmcheck verify path.py`` / ``pkg.module``
and ``pytest --thmcheck-out DIR``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reports.records import load_run
from theorems import cli
from theorems.registry import load_registry

# The shape of descent.quadratic_upper_bound, written out as a user would, under a new id.
UPPER_BOUND = textwrap.dedent('''
    import sympy

    from theorems.spec import (Algebra, Assumption, Citation, Claim, Derivation, Domain, Fact, Role,
                               Step, Structural, Sym, Theorem, Uses)

    L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
    ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
    F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_t", doc="f(w_t)")
    F1_ = Sym("f1", Domain.REAL, Role.OBSERVABLE, "f_next", doc="f(w_{t+1})")
    G_ = Sym("G", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_t", doc="||grad f(w_t)||^2")
    IP_ = Sym("ip", Domain.REAL, Role.SCALAR, doc="<grad f(w_t), w_{t+1} - w_t>")
    D_ = Sym("D", Domain.NONNEGATIVE, Role.SCALAR, doc="||w_{t+1} - w_t||^2")
    L, eta, f0, f1, G, ip, D = (s.s for s in (L_, ETA_, F0_, F1_, G_, IP_, D_))

    upper_bound = Theorem(
        id="mine.upper_bound",
        title="Quadratic upper bound along a gradient step",
        citation=Citation("my notes", "Lemma 1", "page 1"),
        symbols=(L_, ETA_, F0_, F1_, G_, IP_, D_),
        structure=(Structural("smooth", "smooth", "f is L-smooth"),),
        dynamics="gd",
        search=(Assumption("search_range", eta <= 4 / L, "the search draws eta in (0, 4/L]"),),
        facts=(
            Fact("smooth", f1 <= f0 + ip + L / 2 * D, "quadratic upper bound"),
            Fact("gd_ip", sympy.Eq(ip, -eta * G), "GD step"),
            Fact("gd_D", sympy.Eq(D, eta**2 * G), "GD step"),
        ),
        claims=(Claim("one_step_bound", f0 - f1 >= eta * (1 - eta * L / 2) * G,
                      "f(w_{t+1}) <= f(w_t) - eta (1 - eta L / 2) ||grad f(w_t)||^2"),),
        derivations=(
            Derivation("one_step_bound", f0 - f1, (
                Step(">=", -ip - L / 2 * D, Uses(("smooth",), "quadratic upper bound")),
                Step("==", eta * G - L / 2 * eta**2 * G, Uses(("gd_ip", "gd_D"), "substitute the GD step")),
                Step("==", eta * (1 - eta * L / 2) * G, Algebra()),
            )),
        ),
        horizon=12,
    )
''')

# A second theorem resting on a built-in lemma (its derivation cites descent.quadratic_upper_bound).
LEMMA = textwrap.dedent('''
    from dataclasses import replace

    from theorems.catalogue.descent import lemma_2_1_4

    descent = replace(lemma_2_1_4, id="mine.descent")
''')

CLAIM = "mine.upper_bound::one_step_bound"


def _write(path: Path, *parts: str, theorems: str) -> Path:
    path.write_text("\n".join(parts) + f"\nTHEOREMS = [{theorems}]\n", encoding="utf-8")
    return path


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "my_specs.py", UPPER_BOUND, LEMMA, theorems="upper_bound, descent")


def _only_line(out: str) -> str:
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in out
    return lines[0]


def test_verify_a_spec_file_writes_the_run_files_for_its_theorems_only(spec_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli.main(["verify", str(spec_file), "--budget", "quick", "--out", str(out), "--quiet"]) == 0
    run = load_run(out / "results.json")
    assert [c.id for c in run.claims] == ["mine.descent::descent_inequality", CLAIM]  # run order: by id, lemmas first
    assert all(c.verdict == "proved" == c.expected for c in run.claims)
    assert [t["id"] for t in run.theorems] == ["mine.descent", "mine.upper_bound"]
    assert not run.problems
    assert (out / "report.html").is_file()
    # The file's folder is not left on sys.path; built-ins are still in the registry.
    assert str(tmp_path) not in sys.path
    reg = load_registry(extra_files=[spec_file])
    assert reg.files["mine.upper_bound"] == str(spec_file.resolve())
    assert "descent.lemma_2_1_4" in reg.theorems and reg.order.index("descent.quadratic_upper_bound") < reg.order.index("mine.descent")


def test_ids_after_a_spec_file_narrow_the_selection(spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", str(spec_file)]) == 0
    listed = capsys.readouterr().out
    assert "mine.upper_bound" in listed and "mine.descent" in listed and "descent.lemma_2_1_4" not in listed
    assert cli.main(["show", str(spec_file), CLAIM]) == 0
    shown = capsys.readouterr().out
    assert "mine.upper_bound: Quadratic" in shown and "mine.descent" not in shown
    out = tmp_path / "one"
    assert cli.main(["verify", str(spec_file), CLAIM, "--budget", "quick", "--out", str(out), "--quiet"]) == 0
    assert [c.id for c in load_run(out / "results.json").claims] == [CLAIM]


def test_a_spec_module_on_the_path_runs_in_a_subprocess(tmp_path: Path) -> None:
    _write(tmp_path / "mine_specs_mod.py", UPPER_BOUND, theorems="upper_bound")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-m", "theorems.cli", "verify", "mine_specs_mod", "--budget", "quick",
                           "--out", str(out), "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((out / "results.json").read_text())
    assert [(c["theorem"], c["claim"], c["verdict"]) for c in data["claims"]] == [
        ("mine.upper_bound", "one_step_bound", "proved")]


@pytest.mark.parametrize("body, error", [
    ("THEOREMS = [\n    1 +\n", "SyntaxError"),
    ("THEOREMS = []\nraise RuntimeError('boom\\nsecond line')\n", "RuntimeError: boom second line (line 2)"),
])
def test_a_spec_file_that_does_not_import_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 body: str, error: str) -> None:
    bad = tmp_path / "broken_specs.py"
    bad.write_text(body, encoding="utf-8")
    assert cli.main(["verify", str(bad), "--budget", "quick", "--out", str(tmp_path / "out")]) == 2
    line = _only_line(capsys.readouterr().out)
    assert str(bad) in line and error in line
    assert not (tmp_path / "out").exists()
    assert str(tmp_path) not in sys.path


def test_a_spec_file_redeclaring_a_built_in_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clash = _write(tmp_path / "clash.py", UPPER_BOUND.replace('"mine.upper_bound"', '"descent.quadratic_upper_bound"'),
                   theorems="upper_bound")
    assert cli.main(["verify", str(clash), "--budget", "quick", "--out", str(tmp_path / "out")]) == 2
    line = _only_line(capsys.readouterr().out)
    assert str(clash) in line and "'descent.quadratic_upper_bound'" in line and "refused" in line
    reg = load_registry(extra_files=[clash])
    assert reg.files["descent.quadratic_upper_bound"] != str(clash.resolve())  # the built-in is kept
    assert reg.theorems["descent.quadratic_upper_bound"].citation.source != "my notes"


def test_a_mistyped_id_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "descent.lemma_2_1_5"]) == 2
    assert "no theorem matches 'descent.lemma_2_1_5' (did you mean 'descent.lemma_2_1_4'" in capsys.readouterr().out
    assert cli.main(["verify", "descnet", "--out", "unused"]) == 2
    assert "did you mean 'descent'" in capsys.readouterr().out
    assert cli.main(["show", "no_such_package.specs"]) == 2
    assert "no theorem matches 'no_such_package.specs'" in capsys.readouterr().out


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def _passed(stdout: str) -> list[str]:
    # The short summary names items by node id (the verbose lines show dots in ids as "::").
    return sorted(ln.split(" ")[1].split("::", 1)[1] for ln in stdout.splitlines() if ln.startswith("PASSED "))


def test_pytest_thmcheck_out_writes_the_results_of_the_items_that_ran(spec_file: Path, tmp_path: Path) -> None:
    proc = _pytest(tmp_path, "--thmcheck-out", "out", spec_file.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = _passed(proc.stdout)
    assert items == sorted([CLAIM, "mine.descent::descent_inequality"])
    run = load_run(tmp_path / "out" / "results.json")
    assert sorted(c.id for c in run.claims) == items
    assert [c.id for c in run.claims] == ["mine.descent::descent_inequality", CLAIM]  # as thmcheck verify orders them
    assert all(c.verdict == "proved" and c.budget == "quick" for c in run.claims)
    assert (tmp_path / "out" / "report.html").is_file()
    assert "thmcheck results written to" in proc.stdout


def test_pytest_thmcheck_out_under_xdist_is_written_once_by_the_controller(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    spec = _write(tmp_path / "my_specs.py", UPPER_BOUND, LEMMA, theorems="upper_bound, descent")
    proc = _pytest(tmp_path, "-n", "2", "--thmcheck-out", "out", "-k", "not descent_inequality", spec.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = load_run(tmp_path / "out" / "results.json")
    assert [c.id for c in run.claims] == [CLAIM]  # deselected items contribute nothing
    assert [t["id"] for t in run.theorems] == ["mine.upper_bound"]


FALSE_SPEC = UPPER_BOUND + textwrap.dedent('''
    from dataclasses import replace

    too_strong = replace(upper_bound, id="mine.too_strong", derivations=(), claims=upper_bound.claims + (
        Claim("full_step", f0 - f1 >= eta * G, "as printed: f(w_{t+1}) <= f(w_t) - eta ||grad f(w_t)||^2",
              printed=True, corrected_by="one_step_bound"),))
    THEOREMS = [too_strong]
''')


def test_replay_of_a_spec_file_counterexample_names_the_spec(tmp_path: Path) -> None:
    """A counterexample of a theorem that is not an installed plugin replays with --spec FILE; without
    it, the message says how; the record's replay snippet names the file and reproduces the numbers."""
    spec = tmp_path / "false_spec.py"
    spec.write_text(FALSE_SPEC)
    out = tmp_path / "out"
    assert cli.main(["verify", str(spec), "--budget", "quick", "--out", str(out), "--quiet"]) == 0
    assert cli.main(["replay", str(out / "results.json")]) == 2
    assert cli.main(["replay", str(out / "results.json"), "--spec", str(spec)]) == 0
    rec = next(c for c in load_run(out / "results.json").claims if c.claim == "full_step")
    assert rec.verdict == "fail" and str(spec) in rec.counterexample.replay
    ns: dict = {}
    exec(compile(rec.counterexample.replay, "<replay>", "exec"), ns)  # noqa: S102 - our own record
    assert ns["res"].reproduced
    assert ns["res"].violation == pytest.approx(rec.counterexample.confirmed_violation, rel=1e-12)
