"""The HTML and Markdown reports: rendered from records alone, self-contained, escaped, fast."""

from __future__ import annotations

import dataclasses
import math
import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.html import render_html, write_html
from reports.markdown import render_markdown
from reports.records import ClaimRecord, RunRecord, dump_run, load_run
from reports.terminal import stat_lines
from theorems import cli, cli_common
from theorems.catalogue import descent as D
from theorems.registry import build_registry
from theorems.runner import run

from .quality.variants_descent import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def small_registry():
    """Three catalogue theorems (one lemma edge), a false variant (a confirmed counterexample) and
    a copy of a theorem whose title and statement carry HTML."""
    bad = next(v for v in VARIANTS if v.id == "quality.descent_factor_one")
    hostile = dataclasses.replace(
        D.quadratic_upper_bound, id="quality.hostile_title", title=HOSTILE,
        claims=tuple(dataclasses.replace(c, statement=c.statement + " " + HOSTILE) for c in D.quadratic_upper_bound.claims),
    )
    specs = [D.quadratic_upper_bound, D.lemma_2_1_4, D.theorem_2_5_1, bad, hostile]
    return build_registry([("test", "", specs)])


def small_run():
    reg = small_registry()
    return run(reg, reg.ordered(), budget="quick", seed=0, backend="numpy")


def synthetic_run() -> RunRecord:
    """Records of the shapes the probability / scaling machinery writes (reports/records.py), made
    up so that every plot kind appears: a probability claim plotted against its plot variable with
    one refuting instance, a scaling claim with two alternative models, and a trajectory claim with
    samples against ``x`` and a ratio histogram.  Names carry HTML to check the escaping."""
    rnd = random.Random(1)
    edges = [-6 + 0.2 * i for i in range(36)]
    counts = [int(50 * math.exp(-((e + 1.5) ** 2))) for e in edges[:-1]]
    x = "w0norm2<i>"
    rows = []
    for _ in range(60):
        w = 10 ** rnd.uniform(-1, 2)
        b = 3 * w ** 2
        o = b * rnd.uniform(0.01, 0.9)
        rows.append([o, b, o / b, w, 0.1])
    per = []
    for i in range(12):
        k = 360 + 3 * i if i else 330
        lo, hi = k / 400 - 0.05, min(1.0, k / 400 + 0.04)
        per.append({"successes": k, "trials": 400, "estimate": k / 400, "lower": lo, "upper": hi, "bound": 0.9,
                    "level": 1 - 0.01 / 12, "decision": "refute" if hi < 0.9 else "open",
                    "params": {"cp": 10 ** (-2 + i / 6)}})
    sizes = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    values = [3 * math.log(d) ** 1.4 * (1 + 0.05 * rnd.random()) for d in sizes]
    base = dict(instances=12, backend="numpy", seed=0, budget="quick")
    prob = ClaimRecord(
        theorem="synthetic.pgd", claim="escapes_whp", kind="probability", verdict="inconclusive",
        statement="escapes with probability >= 0.9", latex=r"P \geq 0.9", expected="inconclusive",
        probability={"sense": "ge", "confidence": 0.99, "trials": 400, "worst": per[0], "per_instance": per,
                     "confirmation": None},
        samples={"columns": ["estimate", "lower", "upper", "bound", "cp"],
                 "rows": [[p["estimate"], p["lower"], p["upper"], p["bound"], p["params"]["cp"]] for p in per],
                 "x": "cp"}, **base)
    scaling = ClaimRecord(
        theorem="synthetic.pgd", claim="escape_time_polylog", kind="scaling", verdict="pass",
        statement="median escape time grows at most like log(d)^2", latex=r"p \leq 2", expected="pass",
        scaling={"model": "polylog", "observable": "hit_time<b>", "statistic": "median", "sizes": sizes,
                 "values": values, "exponent": 1.41, "lower": 1.3, "upper": 1.52, "confidence": 0.95, "r2": 0.998,
                 "bound": 2, "sense": "le", "confirmation": None,
                 "alternatives": {"power": {"exponent": 0.3, "lower": 0.25, "upper": 0.35, "r2": 0.96},
                                  "linear": {"exponent": 0.01, "lower": 0.0, "upper": 0.02, "r2": 0.7}}},
        **base)
    hitting = ClaimRecord(
        theorem="synthetic.hit", claim="hitting_time", kind="trajectory", verdict="pass", worst_ratio=0.9,
        statement="hitting time <= 3 ||w0||^2", latex=r"T \leq 3 \|w_0\|^2", expected="pass",
        ratio_hist={"log10_edges": edges, "counts": counts, "below": 3, "above": 0, "undefined": 1},
        samples={"columns": ["observed", "bound", "ratio", x, "eta"], "rows": rows, "x": x}, **base)
    theorems = ({"id": "synthetic.pgd", "title": "PGD escapes saddles", "citation": "made up", "depends_on": []},
                {"id": "synthetic.hit", "title": "a hitting time", "citation": "made up",
                 "depends_on": ["synthetic.pgd"]})
    return RunRecord(claims=(prob, scaling, hitting), seed=0, budget="quick", backend="numpy", theorems=theorems)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    rec = small_run()
    path = dump_run(rec, tmp_path_factory.mktemp("run") / "results.json")
    return load_run(path)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def test_the_small_run_has_what_the_report_must_show(small) -> None:
    verdicts = {c.id: c.verdict for c in small.claims}
    assert verdicts["quality.descent_factor_one::false_claim"] == "fail"
    assert any(c.counterexample is not None for c in small.claims)
    for c in small.claims:
        assert c.series.get("worst"), c.id  # every claim carries its plot data
        assert "error" not in c.series["worst"], c.series["worst"]
        if c.kind == "per_step":
            s = c.series["worst"]
            assert len(s["observed"]) == len(s["bound"]) == len(s["steps"]) > 1
    fail = next(c for c in small.claims if c.verdict == "fail")
    assert "counterexample" in fail.series


def test_every_claim_has_its_verdict_plot_and_replay(small) -> None:
    page = render_html(small)
    for c in small.claims:
        m = re.search(rf'<article class="claim[^"]*" id="[^"]+" data-claim="{re.escape(c.id)}" data-verdict="{c.verdict}">(.*?)</article>',
                      page, re.S)
        assert m, c.id
        body = m.group(1)
        # A refutation the spec expects has its own badge: it is not an alarm.
        badge = "v-refuted" if c.verdict == "fail" and c.as_expected else f"v-{c.verdict}"
        assert f'class="verdict {badge}"' in body
        assert '<svg class="plot"' in body
        if c.counterexample is not None:
            assert 'class="copy"' in body and "print(" in body  # the replay snippet with its copy button
    assert '<svg class="depgraph"' in page and 'data-theorem="descent.lemma_2_1_4"' in page
    assert '<svg class="math"' in page  # LaTeX rendered offline


def test_spec_text_is_escaped(small) -> None:
    page = render_html(small)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    parser = _Collect()
    parser.feed(page)
    scripts = [t for t, _ in parser.tags if t == "script"]
    assert len(scripts) == 1 and "alert" not in parser.scripts[0]


def test_the_page_is_self_contained(small) -> None:
    page = render_html(small)
    parser = _Collect()
    parser.feed(page)
    for tag, attrs in parser.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None and not (tag == "a" and value.startswith("#")):
                pytest.fail(f"<{tag} {key}={value!r}> would load or leave the page")
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
    assert "@import" not in page and "url(http" not in page and "//cdn" not in page
    assert "default-src 'none'" in page  # the CSP keeps anything we missed off the network


def test_rendering_is_a_pure_function_of_the_records(small, tmp_path: Path) -> None:
    assert render_html(small) == render_html(load_run(_dump(small, tmp_path)))


def _dump(rec, tmp_path: Path) -> Path:
    return dump_run(rec, tmp_path / "again.json")


def test_markdown_summary(small) -> None:
    md = render_markdown(small)
    assert md.startswith("## thmcheck results")
    # An expected refutation reads as such (it is not an unexpected failure).
    assert "| `quality.descent_factor_one::false_claim` | refuted as expected |" in md
    assert "```python" in md  # the counterexample's replay snippet
    assert "```text\nquality.descent_factor_one::false_claim  refuted as expected" in md  # its falsifying block
    hostile = next(line for line in md.splitlines() if "hostile_title" in line)
    assert hostile.count("|") - hostile.count("\\|") == 7  # pipes in spec text cannot break the table


def test_records_without_series_or_theorem_summaries_still_render(small) -> None:
    bare = dataclasses.replace(small, theorems=(), claims=tuple(
        dataclasses.replace(c, series={}, ratio_hist={}, samples={}) for c in small.claims))
    page = render_html(bare)
    assert page.count("No plot: this record carries no trajectory series") == len(small.claims)


def test_cli_report_and_verify_write_the_page(small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    results = dump_run(small, tmp_path / "saved" / "results.json")
    assert cli.main(["report", str(results), "--html", str(tmp_path / "a.html"), "--markdown", str(tmp_path / "a.md")]) == 0
    assert (tmp_path / "a.html").read_text().startswith("<!DOCTYPE html>")
    assert "## thmcheck results" in (tmp_path / "a.md").read_text()
    assert cli.main(["report", str(results)]) == 0
    assert (results.parent / "report.html").exists()
    assert cli.main(["report", str(tmp_path / "missing.json")]) == 2
    registry = small_registry()
    monkeypatch.setattr(cli_common, "registry", lambda: registry)
    out = tmp_path / "verify"
    assert cli.main(["verify", "quality.descent_factor_one", "--budget", "quick", "--out", str(out), "--quiet",
                     "--markdown"]) == 0
    page = (out / "report.html").read_text()
    assert 'data-claim="quality.descent_factor_one::false_claim" data-verdict="fail"' in page
    assert (out / "report.md").exists()


def test_reports_render_without_the_numeric_stack(small, tmp_path: Path) -> None:
    """`thmcheck report` works where numba, SymPy, z3, Hypothesis and CuPy are absent."""
    results = dump_run(small, tmp_path / "results.json")
    code = (
        "import sys\n"
        "for name in ('numba', 'sympy', 'z3', 'hypothesis', 'cupy', 'numeric', 'symbolic', 'kernels', 'theorems'):\n"
        "    sys.modules[name] = None  # importing any of these now fails\n"
        "from reports.records import load_run\nfrom reports.html import write_html\nfrom reports.markdown import render_markdown\n"
        f"run = load_run({str(results)!r})\nwrite_html(run, {str(tmp_path / 'r.html')!r})\nrender_markdown(run)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert (tmp_path / "r.html").stat().st_size > 10_000


def test_rendering_a_catalogue_sized_run(small, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten copies of the small run (a catalogue's worth of claims) render with cold math caches,
    one article per claim.  Render time is measured in benchmarks/bench_report.py, not here."""
    from reports.svg import math_svg

    claims = []
    theorems = []
    for k in range(10):
        for t in small.theorems:
            theorems.append({**t, "id": f"{t['id']}_{k}", "depends_on": [f"{d}_{k}" for d in t["depends_on"]]})
        claims += [dataclasses.replace(c, theorem=f"{c.theorem}_{k}") for c in small.claims]
    big = dataclasses.replace(small, claims=tuple(claims), theorems=tuple(theorems))
    monkeypatch.setenv("THMCHECK_CACHE_DIR", "")  # no disk cache either: a cold render
    math_svg.cache_clear()
    page = render_html(big)
    assert page.count("<article") == len(claims) >= 60


def test_inherited_verdicts_are_visible(small) -> None:
    """A claim resting on a lemma that did not hold is flagged in its facts and in the graph."""
    dep = {"theorem": "descent.lemma_2_1_4", "claim": "descent_inequality", "verdict": "fail"}
    claims = tuple(dataclasses.replace(c, inherited=(dep,)) if c.theorem == "descent.theorem_2_5_1" else c
                   for c in small.claims)
    page = render_html(dataclasses.replace(small, claims=claims))
    node = re.search(r'<g class="gnode" data-theorem="descent.theorem_2_5_1">.*?</g>', page, re.S).group(0)
    assert "stroke-dasharray" in node and "rests on a lemma that did not hold" in node
    other = re.search(r'<g class="gnode" data-theorem="descent.lemma_2_1_4">.*?</g>', page, re.S).group(0)
    assert "stroke-dasharray" not in other
    assert "rests on descent.lemma_2_1_4::descent_inequality (fail)" in page  # the summary table


def _article(page: str, claim_id: str) -> str:
    m = re.search(rf'<article class="claim[^"]*" id="[^"]+" data-claim="{re.escape(claim_id)}"[^>]*>(.*?)</article>',
                  page, re.S)
    assert m, claim_id
    return m.group(1)


def test_probability_scaling_and_sample_plots(tmp_path: Path) -> None:
    rec = load_run(dump_run(synthetic_run(), tmp_path / "results.json"))  # through the file format
    page = render_html(rec)
    prob = _article(page, "synthetic.pgd::escapes_whp")
    assert '<svg class="plot probability"' in prob and "vs cp (12 instances)" in prob
    assert prob.count('stroke-width="1.4"') == 12  # one interval bar per instance
    assert "400 trials, 330 successes, estimate 0.825, interval [0.775, 0.865] at confidence 0.999167" in prob
    scal = _article(page, "synthetic.pgd::escape_time_polylog")
    assert '<svg class="plot scaling"' in scal and "fit (polylog) p = 1.41" in scal and "power p = 0.3" in scal
    assert "exponent 1.41, interval [1.3, 1.52] at confidence 0.95; model polylog" in scal
    hit = _article(page, "synthetic.hit::hitting_time")
    assert '<svg class="plot samples"' in hit and '<svg class="plot hist"' in hit and "ratio = 1" in hit
    assert "outside the axis: 3 below, 1 undefined" in hit
    # Names from specs and records are escaped inside the SVG too.
    assert "w0norm2<i>" not in page and "hit_time<b>" not in page
    assert "w0norm2&lt;i&gt;" in page and "hit_time&lt;b&gt;" in page
    md = render_markdown(rec)
    assert "- `synthetic.pgd::escapes_whp` (inconclusive): 400 trials, 330 successes" in md
    assert "- `synthetic.pgd::escape_time_polylog` (pass): exponent 1.41, interval [1.3, 1.52]" in md
    lines = stat_lines(rec)
    assert len(lines) == 2 and "confidence" in lines[0] and "model polylog" in lines[1]


def test_the_fitted_curve_passes_through_the_data() -> None:
    """Without a recorded intercept the curve uses the least-squares one for the recorded exponent."""
    from reports.html_plots import _fit_curve

    sizes = [2.0, 4.0, 8.0, 16.0, 32.0]
    values = [5 * d ** 0.5 for d in sizes]
    assert _fit_curve("power", 0.5, sizes, values, sizes) == pytest.approx(values)
    values = [2 * math.log(d) ** 1.5 for d in sizes]
    assert _fit_curve("polylog", 1.5, sizes, values, sizes) == pytest.approx(values)
    values = [1 + 0.25 * d for d in sizes]
    assert _fit_curve("linear", 0.25, sizes, values, sizes, intercept=1.0) == pytest.approx(values)


def test_real_probability_and_scaling_records_render() -> None:
    """Records made by the pipeline on the toy coin dynamics of tests/test_probability.py."""
    import sympy

    from theorems.pipeline import run_theorem
    from theorems.registry import build_registry
    from theorems.validate import validate

    from . import test_probability as T

    import numeric

    thm = validate(T._coin_theorem((T.TRUE_GE, T.FALSE_GE, T._scaling(
        "grows_at_most_quadratically", sympy.Le(T.expo.s, sympy.Rational(21, 10)), "power"))))
    reg = build_registry([("tests", "", [thm])])
    recs = run_theorem(thm, budget=numeric.budget("quick"), seed=0, backend="numpy", lookup=reg.lookup)
    page = render_html(RunRecord(claims=tuple(recs), seed=0, budget="quick", backend="numpy"))
    for r in recs:
        body = _article(page, r.id)
        if r.kind == "probability":
            assert '<svg class="plot probability"' in body and "400 trials" in body, r.id
        else:
            assert '<svg class="plot scaling"' in body and "fit (power) p = " in body, r.id


def test_rendered_formulas_are_cached_on_disk(small, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second render (a fresh process: the in-memory cache cleared) reads the formulas from the
    disk cache instead of parsing them again, and gives the same page."""
    from reports import svg

    monkeypatch.setenv("THMCHECK_CACHE_DIR", str(tmp_path / "cache"))
    svg.math_svg.cache_clear()
    first = render_html(small)
    files = list((tmp_path / "cache").glob("math-svg-*.json"))
    assert len(files) == 1 and files[0].stat().st_size > 1000
    svg.math_svg.cache_clear()
    svg._disk["entries"] = None  # as in a new process
    monkeypatch.setattr(svg, "_render_math", lambda *a: pytest.fail("a cached formula was parsed again"))
    assert render_html(small) == first
