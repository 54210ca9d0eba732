"""The HTML and Markdown reports: rendered from records alone, self-contained, escaped, fast."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.html import render_html, write_html
from reports.markdown import render_markdown
from reports.records import dump_run, load_run
from theorems import cli
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
        assert f'class="verdict v-{c.verdict}"' in body
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
    assert "| `quality.descent_factor_one::false_claim` | fail |" in md
    assert "```python" in md  # the counterexample's replay snippet
    hostile = next(line for line in md.splitlines() if "hostile_title" in line)
    assert hostile.count("|") - hostile.count("\\|") == 7  # pipes in spec text cannot break the table


def test_records_without_series_or_theorem_summaries_still_render(small) -> None:
    bare = dataclasses.replace(small, theorems=(), claims=tuple(dataclasses.replace(c, series={}) for c in small.claims))
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
    monkeypatch.setattr(cli, "_registry", lambda: registry)
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


def test_rendering_a_catalogue_sized_run_is_fast(small) -> None:
    """The whole catalogue is a few dozen claims; render ten copies of the small run (cold caches
    for the LaTeX of the copies would be cheating the other way, so the math cache is cleared)."""
    from reports.svg import math_svg

    claims = []
    theorems = []
    for k in range(10):
        for t in small.theorems:
            theorems.append({**t, "id": f"{t['id']}_{k}", "depends_on": [f"{d}_{k}" for d in t["depends_on"]]})
        claims += [dataclasses.replace(c, theorem=f"{c.theorem}_{k}") for c in small.claims]
    big = dataclasses.replace(small, claims=tuple(claims), theorems=tuple(theorems))
    math_svg.cache_clear()
    t0 = time.perf_counter()
    page = render_html(big)
    elapsed = time.perf_counter() - t0
    assert page.count("<article") == len(claims) >= 60
    assert elapsed < 5.0, f"rendering {len(claims)} claims took {elapsed:.2f} s"


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
