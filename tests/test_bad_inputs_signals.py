"""Bad-input suite (issue 17): interruptions, resuming, and class constants on the safe side.

``thmcheck verify`` runs in a subprocess and is signalled once its results file holds a finished
theorem (the file is polled; no sleep stands in for timing).  It must stop with one line, exit
128 + the signal's number, leave a results file marked incomplete that lists the claims not run,
and a report that says it is partial; ``verify --resume`` then finishes it with the same records
as an uninterrupted run, timings aside."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reports.records import canonical_json, load_run

from .bad_inputs import assert_one_line

SELECTION = ["descent.quadratic_upper_bound", "descent.lemma_2_1_4", "descent.footnote_3", "--budget", "quick", "--backend", "numpy", "--seed", "3", "--quiet"]


def _thmcheck(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from theorems.cli import main; sys.exit(main())", *args]


def _interrupted(out: Path, sig: signal.Signals) -> tuple[int, str]:
    proc = subprocess.Popen(_thmcheck("verify", *SELECTION, "--out", str(out)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    results = out / "results.json"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if json.loads(results.read_text(encoding="utf-8"))["claims"]:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    proc.send_signal(sig)
    text, _ = proc.communicate(timeout=240)
    return proc.returncode, text


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("signals")
    full = subprocess.run(_thmcheck("verify", *SELECTION, "--out", str(root / "full")), capture_output=True,
                          text=True, timeout=300)
    assert full.returncode == 0, full.stdout + full.stderr
    out: dict[str, Any] = {"root": root, "full": load_run(root / "full" / "results.json")}
    for sig in (signal.SIGINT, signal.SIGTERM):
        code, text = _interrupted(root / sig.name, sig)
        out[sig.name] = (code, text, load_run(root / sig.name / "results.json"))
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_cleanly_with_one_line(runs: dict[str, Any], sig: signal.Signals) -> None:
    code, text, partial = runs[sig.name]
    if partial.complete:
        pytest.fail(f"the run ended before {sig.name} arrived; its output:\n{text}")
    assert code == 128 + sig.value, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert_one_line(text, f"interrupted by {sig.name}", "not run", "thmcheck verify --resume")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_partial_file_is_marked_and_keeps_what_finished(runs: dict[str, Any], sig: signal.Signals) -> None:
    _, _, partial = runs[sig.name]
    full = runs["full"]
    assert partial.incomplete == f"interrupted by {sig.name}"
    ran = [c.id for c in partial.claims]
    assert ran and set(ran).isdisjoint(partial.not_run)
    assert ran + list(partial.not_run) == [c.id for c in full.claims]  # every claim is accounted for
    strip = lambda r: json.loads(canonical_json(r, drop_volatile=True))["claims"]  # noqa: E731
    assert strip(partial) == strip(full)[: len(ran)]  # nothing computed is lost or altered


def test_the_report_of_a_partial_run_says_so(runs: dict[str, Any]) -> None:
    html = (runs["root"] / "SIGINT" / "report.html").read_text(encoding="utf-8")
    assert "Partial run: interrupted by SIGINT" in html
    assert runs["SIGINT"][2].not_run[0] in html


@pytest.mark.parametrize("command", ["report", "replay"])
def test_report_and_replay_say_the_file_is_partial(runs: dict[str, Any], command: str) -> None:
    results = runs["root"] / "SIGTERM" / "results.json"
    extra = ["--html", str(runs["root"] / "again.html")] if command == "report" else []
    proc = subprocess.run(_thmcheck(command, str(results), *extra), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_one_line(proc.stdout, str(results), "partial run (interrupted by SIGTERM)", "not run")


def test_resume_finishes_with_the_uninterrupted_records(runs: dict[str, Any]) -> None:
    folder = runs["root"] / "SIGINT"
    proc = subprocess.run(_thmcheck("verify", "--resume", str(folder), "--quiet"), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_one_line(proc.stdout, "resuming", "claims kept", "to run")
    resumed = load_run(folder / "results.json")
    assert resumed.complete and not resumed.not_run
    assert canonical_json(resumed, drop_volatile=True) == canonical_json(runs["full"], drop_volatile=True)


def test_a_file_saved_mid_run_is_marked_unfinished() -> None:
    """A run killed outright (SIGKILL, out of memory) cannot write anything at its end: the file
    saved after each theorem already says it is incomplete, so it is never read as a whole run."""
    from theorems.registry import load_registry
    from theorems.runner import UNFINISHED, run

    reg = load_registry()
    picked = [reg.theorems["descent.quadratic_upper_bound"], reg.theorems["descent.footnote_3"]]
    saved: list[Any] = []
    run(reg, picked, budget="quick", seed=0, backend="numpy", on_theorem=saved.append,
        prior={picked[0].id: [], picked[1].id: []})
    assert saved[0].incomplete == UNFINISHED and saved[0].not_run == tuple(
        f"{picked[1].id}::{c.name}" for c in picked[1].claims)
    assert saved[-1].complete


def test_the_stop_check_raises_only_after_a_signal() -> None:
    from theorems.interrupt import Interrupted, SignalGuard

    with SignalGuard() as guard:
        guard.check()  # nothing received: no-op
        signal.raise_signal(signal.SIGTERM)
        with pytest.raises(Interrupted, match="SIGTERM"):
            guard.check()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the previous handler is back


# ------------------------------------------------------------------------------ class constants

@pytest.mark.parametrize("seed", range(4))
def test_rsi_constants_lie_on_the_safe_side_of_the_exact_spectrum(seed: int) -> None:
    """L >= lambda_max and mu <= lambda_min of the stored matrix: L I - A and A - mu I are formed
    in longdouble (exactly, for these magnitudes) and rounded once, so the eigensolver's error is
    relative to those small differences, not to L -- the scale at which the old constants were
    wrong (a fraction of an ulp of L)."""
    import numeric
    from numeric.api import Knobs

    numeric.load_plugins()
    cls = numeric.CLASSES["rsi_smooth"]
    rng = np.random.default_rng(seed)
    for fam in cls.families:
        for pattern in range(4):
            knobs = Knobs(family=0, dim=3, pattern=pattern, log_scale=0.0, log_w0=0.0, u=(), seed=seed)
            batch = fam.generate(rng, 16, knobs)
            A = np.asarray(batch.problem.ridge.A, np.float64)
            L, mu = batch.attrs["L"], batch.attrs["mu"]
            shift_L = L.astype(np.longdouble)[:, None, None] * np.eye(3) - A.astype(np.longdouble)
            shift_mu = A.astype(np.longdouble) - mu.astype(np.longdouble)[:, None, None] * np.eye(3)
            assert (np.linalg.eigvalsh(shift_L.astype(np.float64)).min(axis=1) >= 0).all(), fam.name
            assert (np.linalg.eigvalsh(shift_mu.astype(np.float64)).min(axis=1) >= 0).all(), fam.name
            ok, why = cls.member(batch)
            assert ok.all(), why


def test_rsi_membership_refuses_an_L_one_ulp_below_the_certificate() -> None:
    import numeric
    from numeric.api import InstanceBatch, Knobs
    from numeric.families.ridge import smoothness_certificate

    numeric.load_plugins()
    cls = numeric.CLASSES["rsi_smooth"]
    batch = cls.families[0].generate(np.random.default_rng(0), 4, Knobs(family=0, dim=2, pattern=1, log_scale=0.0, log_w0=0.0, u=(), seed=0))
    cert = smoothness_certificate(batch.problem.ridge)
    low = InstanceBatch(batch.family, batch.problem, batch.w0,
                        {**batch.attrs, "L": np.nextafter(cert, -np.inf)})
    ok, why = cls.member(low)
    assert not ok.any() and all("exceeds L" in w for w in why)


# ------------------------------------------------------------------------------------ observables

def test_normalised_gradient_is_measured_not_derived_from_the_scaling_identity() -> None:
    """Finding 7: ||grad L(w/||w||)||^2 must be evaluated at the normalised point.  With a gradient
    routine that breaks the scaling law (it forgets the 1/||w|| factor), the observable disagrees
    with ||w||^2 ||grad L(w)||^2 -- it did not before, when it was computed from that identity --
    while on the honest routine the two agree to rounding (numba and the reference alike)."""
    from kernels.scale_invariant import Rayleigh, gd_wd, rayleigh_value_grad
    from kernels.scale_invariant.reference import _reference

    rng = np.random.default_rng(1)
    B, d, T = 6, 3, 5
    M = rng.standard_normal((B, d, d))
    A = M + np.swapaxes(M, 1, 2)
    w0 = 3.0 * rng.standard_normal((B, d))
    eta, lam = np.full(B, 0.05), np.full(B, 0.1)

    def unscaled(w: Any, t: int) -> Any:
        f, g, fa, ga = rayleigh_value_grad(A, w)
        return f, g * np.sqrt((w * w).sum(axis=-1))[:, None], fa, ga

    out = _reference(A, w0, eta, lam, None, T, vg=unscaled)
    g2, n2, gb2 = out[1], out[2], out[8]
    assert not np.allclose(gb2, n2 * g2, rtol=1e-6)
    for backend in ("numpy", "numba"):
        tr = gd_wd(Rayleigh(A), w0, eta, lam, T, backend=backend)
        assert tr.gbar2 is not None
        np.testing.assert_allclose(tr.gbar2, tr.wnorm2 * tr.gnorm2, rtol=1e-12)
