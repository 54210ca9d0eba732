"""Acceptance: the HTML report of a small run, loaded in headless Chromium.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (stdlib and
subprocess only): the page must load with no console errors, no uncaught exceptions and no network
request other than the file itself; every claim shows its verdict and a plot.  A full-page
screenshot goes to ``artifacts/report.png`` (git-ignored; CI keeps it as an artefact).

Skips only when no Chromium binary is installed (CI installs the Debian ``chromium`` package).
"""

from __future__ import annotations

import base64
import dataclasses
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from reports.html import write_html
from reports.records import dump_run, load_run

from .test_reports_html import small_run, synthetic_run

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome",
                                                     "google-chrome-stable")) if p), None)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary installed (apt-get install chromium)")


class DevTools:
    """A minimal DevTools-protocol client over the pipe pair Chromium opens on fds 3 and 4."""

    def __init__(self, binary: str, profile: str) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4: the child's ends are moved
        # above 10 here (so the renumbering below cannot clobber one with the other) and put in
        # place by the shell that execs Chromium (bash: dash cannot redirect fds above 9).
        r, w = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                "--disable-extensions", "--mute-audio", "--hide-scrollbars", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{r} 4>&{w} {r}<&- {w}>&-', binary, *args],
            pass_fds=(r, w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r)
        os.close(w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 60.0) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict[str, Any]:
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        deadline = time.monotonic() + timeout
        while True:
            ev = self._read(deadline)
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - it may already be gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


def load_in_chromium(page: Path, screenshot: Path | None, *, check: str = "",
                     clips: dict[str, Path] | None = None) -> dict[str, Any]:
    """Load ``page``; return the console errors, exceptions, requests and a DOM summary (plus the
    value of the script ``check`` under "check").  ``clips`` maps CSS selectors to PNG files: each
    element found is captured on its own."""
    with tempfile.TemporaryDirectory(prefix="thmcheck-chromium-") as profile:
        dt = DevTools(CHROMIUM, profile)
        try:
            target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            sid = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                dt.send(f"{domain}.enable", session=sid)
            dt.send("Emulation.setDeviceMetricsOverride",
                    {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=sid)
            dt.events.clear()
            dt.send("Page.navigate", {"url": page.resolve().as_uri()}, session=sid)
            dt.wait_for("Page.loadEventFired")
            summary = dt.send("Runtime.evaluate", {"returnByValue": True, "expression": _DOM_CHECK}, session=sid)
            checked = dt.send("Runtime.evaluate", {"returnByValue": True, "expression": check}, session=sid) \
                if check else {}
            for selector, target_file in (clips or {}).items():
                box = dt.send("Runtime.evaluate", {"returnByValue": True, "expression": (
                    f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null; "
                    "const r = e.getBoundingClientRect(); return {x: r.left + window.scrollX, "
                    "y: r.top + window.scrollY, width: r.width, height: Math.min(r.height, 4000)}; })()")},
                    session=sid)["result"].get("value")
                if box:
                    data = dt.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                              "clip": {**box, "scale": 1}}, session=sid)["data"]
                    target_file.parent.mkdir(parents=True, exist_ok=True)
                    target_file.write_bytes(base64.b64decode(data))
            shot = None
            if screenshot is not None:
                metrics = dt.send("Page.getLayoutMetrics", session=sid)
                size = metrics.get("cssContentSize") or metrics["contentSize"]
                shot = dt.send("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": 1280, "height": min(size["height"], 16000), "scale": 1},
                }, session=sid)["data"]
        finally:
            dt.close()
    if shot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot))
    errors = [e["params"]["args"] for e in dt.events
              if e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") in ("error", "assert")]
    errors += [e["params"]["exceptionDetails"] for e in dt.events if e.get("method") == "Runtime.exceptionThrown"]
    errors += [e["params"]["entry"] for e in dt.events
               if e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error"]
    requests = [e["params"]["request"]["url"] for e in dt.events if e.get("method") == "Network.requestWillBeSent"]
    return {"errors": errors, "requests": requests, "dom": summary["result"]["value"],
            "check": (checked.get("result") or {}).get("value")}


_DOM_CHECK = """(() => {
  const claims = Array.from(document.querySelectorAll('article.claim')).map(a => ({
    id: a.dataset.claim, verdict: a.dataset.verdict,
    badge: (a.querySelector('h3 .verdict') || {}).textContent || null,
    plots: Array.from(a.querySelectorAll('svg.plot')).filter(s => s.getBoundingClientRect().width > 100).length,
    kinds: Array.from(a.querySelectorAll('svg.plot')).filter(s => s.getBoundingClientRect().height > 100)
             .map(s => s.getAttribute('class')),
    facts: Object.fromEntries(Array.from(a.querySelectorAll('table.facts tr'))
             .map(r => [r.querySelector('th').textContent, r.querySelector('td').textContent])),
    snippet: !!a.querySelector('.cex pre code'), copy: !!a.querySelector('button.copy'),
  }));
  return {claims: claims, title: document.title, scripts: document.scripts.length,
          math: document.querySelectorAll('svg.math').length,
          graph: !!document.querySelector('svg.depgraph .gnode'),
          hostile: Array.from(document.querySelectorAll('h2')).map(h => h.textContent).filter(t => t.includes('<script>'))};
})()"""


def test_report_loads_cleanly_in_chromium(tmp_path: Path) -> None:
    """A real small run (descent family, a false variant with its counterexample, a hostile title)
    plus synthetic probability / scaling records, in one page."""
    real, synth = small_run(), synthetic_run()
    both = dataclasses.replace(real, claims=real.claims + synth.claims, theorems=real.theorems + synth.theorems)
    results = dump_run(both, tmp_path / "results.json")
    rec = load_run(results)
    page = write_html(rec, tmp_path / "report.html")
    got = load_in_chromium(page, ARTIFACTS / "report.png")
    assert got["errors"] == [], got["errors"]
    assert [u for u in got["requests"] if u != page.resolve().as_uri()] == [], got["requests"]
    dom = got["dom"]
    assert dom["scripts"] == 1  # only the copy button's; the hostile title's <script> is text
    assert dom["hostile"], "a spec title containing <script> must show as text"
    assert dom["math"] > 0 and dom["graph"]
    shown = {c["id"]: c for c in dom["claims"]}
    assert set(shown) == {c.id for c in rec.claims}
    for c in rec.claims:
        s = shown[c.id]
        badge = "refuted as expected" if c.verdict == "fail" and c.as_expected else c.verdict
        assert s["verdict"] == c.verdict and s["badge"] == badge, s
        assert s["plots"] >= 1, f"{c.id} shows no plot"
        if c.counterexample is not None:
            assert s["snippet"] and s["copy"], s
        if c.ratio_hist and sum(c.ratio_hist.get("counts", ())):
            assert "plot hist" in s["kinds"], s
        if c.probability:
            assert "plot probability" in s["kinds"], s
            assert "trials" in s["facts"]["probability"] and "interval [" in s["facts"]["probability"], s
        if c.scaling:
            assert "plot scaling" in s["kinds"], s
            assert "exponent" in s["facts"]["scaling"] and "model" in s["facts"]["scaling"], s
        if c.samples.get("x") and c.kind != "probability":
            assert "plot samples" in s["kinds"], s
    assert any(c.counterexample is not None for c in rec.claims)
    assert {c.kind for c in rec.claims} >= {"probability", "scaling", "per_step", "trajectory"}
    png = (ARTIFACTS / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_the_browser_check_catches_errors_and_requests(tmp_path: Path) -> None:
    """The checker itself: a page that logs an error, throws, and fetches from the network is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                   '<img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom");'
                   'undefined_function_call();</script></body></html>')
    got = load_in_chromium(bad, None)
    assert any("127.0.0.1:9" in u for u in got["requests"]), got["requests"]
    assert len(got["errors"]) >= 2, got["errors"]


# What a reader must be able to trust on the page (issue: plots that tell the truth).
_TRUTH_CHECK = """(() => {
  const out = {overflow: [], empty: [], falseRed: [], noBand: [], redMargins: [], rawNames: [], graph: null, legends: []};
  const inside = (inner, outer, slack) => inner.left >= outer.left - slack && inner.right <= outer.right + slack;
  for (const svg of document.querySelectorAll('svg.plot, svg.depgraph')) {
    const box = svg.getBoundingClientRect();
    const host = svg.parentElement.getBoundingClientRect();
    if (!inside(box, host, 1)) out.overflow.push(svg.getAttribute('aria-label'));
    for (const t of svg.querySelectorAll('text.ptitle, text.plegend, text.pnote, text.ptick')) {
      const r = t.getBoundingClientRect();
      if (r.width > 0 && !inside(r, box, 2)) out.legends.push((svg.getAttribute('aria-label') || '') + ': ' + t.textContent);
    }
    const text = svg.textContent;
    if (/no finite values|no histogram data/.test(text)) out.empty.push(svg.getAttribute('aria-label'));
    if (/\\b(eta|lam|mu|sigma|rho)\\b/.test(Array.from(svg.querySelectorAll('text.ptitle, text.ptick, text.plegend'))
          .map(t => t.textContent).join(' '))) out.rawNames.push(svg.getAttribute('aria-label'));
  }
  for (const a of document.querySelectorAll('article.claim')) {
    const refuted = a.dataset.verdict === 'fail' && !!a.querySelector('.cex');
    for (const svg of a.querySelectorAll('svg.plot')) {
      const red = svg.querySelectorAll('.pviol').length
        + Array.from(svg.querySelectorAll('rect')).filter(r => r.getAttribute('fill') === '#cf222e').length;
      if (!refuted && red) out.falseRed.push(a.dataset.claim + ': ' + svg.getAttribute('aria-label'));
      const label = svg.getAttribute('aria-label') || '';
      if (label.startsWith('margin along') && !svg.querySelector('polygon.pband')) out.noBand.push(a.dataset.claim + ': ' + label);
      if (refuted && label === 'margin along the counterexample' && svg.querySelector('.pviol'))
        out.redMargins.push(a.dataset.claim);
    }
    for (const h of a.querySelectorAll('svg.hist')) {
      if (!h.querySelector('rect[fill-opacity]')) out.empty.push(a.dataset.claim + ': empty histogram');
    }
  }
  const g = document.querySelector('svg.depgraph'), wrap = document.querySelector('.graphwrap');
  if (g && wrap) {
    const gb = g.getBoundingClientRect(), wb = wrap.getBoundingClientRect();
    out.graph = {fits: inside(gb, wb, 1), scroll: wrap.scrollWidth <= wrap.clientWidth + 1,
                 boxes: Array.from(g.querySelectorAll('.gnode')).every(n => {
                   const r = n.querySelector('rect').getBoundingClientRect(), t = n.querySelector('text').getBoundingClientRect();
                   return t.left >= r.left - 1 && t.right <= r.right + 1; })};
  }
  out.refutedBadges = Array.from(document.querySelectorAll('.verdict.v-refuted')).length;
  return out;
})()"""

# Next to artifacts/report.png (git-ignored; CI keeps the folder), unless $THMCHECK_SCREENS says where.
SCREENS = Path(os.environ.get("THMCHECK_SCREENS", Path(__file__).resolve().parents[1] / "artifacts" / "screens"))

FALSE_DESCENT_SPEC = """
from theorems.spec import Assumption, Citation, Claim, Domain, Role, Structural, Sym, Theorem

L_ = Sym("L", Domain.POSITIVE, Role.INSTANCE, "L", doc="smoothness constant of f")
ETA_ = Sym("eta", Domain.POSITIVE, Role.PARAMETER, doc="step size")
F0_ = Sym("f0", Domain.REAL, Role.OBSERVABLE, "f_t", doc="f(w_t)")
F1_ = Sym("f1", Domain.REAL, Role.OBSERVABLE, "f_next", doc="f(w_{t+1})")
G_ = Sym("G", Domain.NONNEGATIVE, Role.OBSERVABLE, "gnorm2_t", doc="||grad f(w_t)||^2")
L, eta, f0, f1, G = (s.s for s in (L_, ETA_, F0_, F1_, G_))

THEOREMS = [Theorem(
    id="mine.descent", title="Descent lemma (as I remember it)", citation=Citation("my notes", "Lemma 2", "page 2"),
    symbols=(L_, ETA_, F0_, F1_, G_), structure=(Structural("smooth", "smooth", "f is L-smooth"),), dynamics="gd",
    assumptions=(Assumption("step_size", eta <= 1 / L, "eta <= 1/L"),),
    claims=(Claim("descent", f0 - f1 >= eta * G, "f(w_{t+1}) <= f(w_t) - eta ||grad f(w_t)||^2"),), horizon=12)]
"""


def test_catalogue_report_tells_the_truth(tmp_path: Path) -> None:
    """The report of catalogue theorems (descent, Schur products, an exact worst case) and a user's
    false descent lemma: plots fit their boxes with their titles and legends, no empty panel, the
    rounding band on every margin plot, nothing coloured as a violation on a claim without a
    confirmed counterexample, the counterexample's margin drawn red, symbols typeset, the graph
    inside its box.  Screenshots of the summary, the graph and the user's counterexample go to
    ``$THMCHECK_SCREENS`` (default ``artifacts/screens``)."""
    from theorems.registry import load_registry
    from theorems.runner import run, write_outputs

    spec = tmp_path / "my_specs.py"
    spec.write_text(FALSE_DESCENT_SPEC, encoding="utf-8")
    reg = load_registry(extra_files=[str(spec)])
    theorems, only = reg.select(["descent.quadratic_upper_bound", "descent.lemma_2_1_4", "descent.theorem_2_5_1",
                                 "schur.without_psd_a", "pep.gd_min_grad_n1", "mine.descent"])
    record = run(reg, theorems, budget="quick", seed=0, backend="auto", only=only)
    page = write_outputs(record, tmp_path / "out")["report"]
    got = load_in_chromium(page, SCREENS / "catalogue_full.png", check=_TRUTH_CHECK, clips={
        "#summary": SCREENS / "catalogue_summary.png",
        "#graph": SCREENS / "graph.png",
        'article[data-claim="mine.descent::descent"]': SCREENS / "user_counterexample.png",
    })
    assert got["errors"] == [], got["errors"]
    truth = got["check"]
    assert truth["overflow"] == [] and truth["legends"] == [], truth
    assert truth["empty"] == [] and truth["rawNames"] == [], truth
    assert truth["falseRed"] == [] and truth["noBand"] == [], truth
    assert truth["redMargins"] == ["mine.descent::descent"] or "mine.descent::descent" in truth["redMargins"], truth
    assert truth["graph"] == {"fits": True, "scroll": True, "boxes": True}, truth
    assert truth["refutedBadges"] >= 2, truth  # schur.without_psd_a's two claims
    for name in ("catalogue_summary.png", "graph.png", "user_counterexample.png"):
        assert (SCREENS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
