"""Bad-input suite (issue 17): corrupt results files, bad command-line arguments, outputs that
cannot be written.  Each case checks the exit code (2: usage, I/O or spec error), one line naming
the file or argument, no traceback, and that nothing computed is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from reports.records import ClaimRecord, dump_run, load_run
from theorems import cli
from theorems.runner import make_record

from .bad_inputs import assert_one_line


def _valid_run(path: Path) -> Path:
    claim = ClaimRecord(theorem="descent.quadratic_upper_bound", claim="one_step_bound", kind="per_step",
                        statement="s", latex="", verdict="pass", expected="pass", instances=3, worst_ratio=0.5)
    rec = make_record([claim], [], [], seed=0, budget="quick", backend="numpy", total_s=0.0)
    return dump_run(rec, path)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse refusals
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        data = json.loads(_valid_run(path).read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data), encoding="utf-8")
    return write


def _bytes(blob: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(blob)


def _truncated(path: Path) -> None:
    text = _valid_run(path).read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")


def _dir(path: Path) -> None:
    path.mkdir()


def _claim0(**kw: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["claims"][0].update(kw)


# (case, how to make the broken file, words the one line must carry besides the file name)
FILES: list[tuple[str, Callable[[Path], None], str]] = [
    ("non_utf8", _bytes(b'{"claims": "\xff\xfe caf\xe9"}'), "not UTF-8"),
    ("truncated", _truncated, "not valid JSON"),
    ("empty", _bytes(b""), "not valid JSON"),
    ("top_level_list", _bytes(b"[1, 2]"), "JSON object"),
    ("schema_version", _edit(lambda d: d.update(schema_version=99)), "schema_version 99"),
    ("claims_missing", _edit(lambda d: d.pop("claims")), "claims"),
    ("claims_not_list", _edit(lambda d: d.update(claims={"a": 1})), "expected a list"),
    ("claim_missing_theorem", _edit(lambda d: d["claims"][0].pop("theorem")), "claims[0]: missing field(s) theorem"),
    ("bad_verdict", _edit(_claim0(verdict="maybe")), "claims[0].verdict"),
    ("ratio_not_number", _edit(_claim0(worst_ratio="big")), "claims[0].worst_ratio"),
    ("not_run_not_list", _edit(lambda d: d.update(not_run="everything")), "not_run"),
    ("incomplete_not_text", _edit(lambda d: d.update(incomplete=3)), "incomplete"),
    ("is_a_directory", _dir, "cannot read"),
]


@pytest.mark.parametrize("make, words", [f[1:] for f in FILES], ids=[f[0] for f in FILES])
@pytest.mark.parametrize("command", ["report", "replay"])
def test_a_corrupt_results_file_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      make: Callable[[Path], None], words: str, command: str) -> None:
    path = tmp_path / "results.json"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    code, out = _cli([command, str(path), *(["--html", str(tmp_path / "r.html")] if command == "report" else [])],
                     capsys)
    assert code == 2, out
    assert_one_line(out, str(path), words)
    assert (path.read_bytes() if path.is_file() else None) == before  # the file is left as it was
    assert not (tmp_path / "r.html").exists()


def test_a_missing_results_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _cli(["report", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and assert_one_line(out, "nope.json", "cannot read")


# ---------------------------------------------------------------------------------- command line

ARGS = [
    ("seed_negative", ["verify", "descent", "--seed", "-1"], "--seed", "non-negative integer"),
    ("seed_text", ["verify", "descent", "--seed", "ten"], "--seed", "non-negative integer"),
    ("seed_huge", ["verify", "descent", "--seed", str(2**64)], "--seed", "below 2**63"),
    ("necessity_seed", ["necessity", "--seed", "-3"], "--seed", "non-negative integer"),
    ("budget", ["verify", "descent", "--budget", "huge"], "--budget", "invalid choice"),
    ("backend", ["verify", "descent", "--backend", "tpu"], "--backend", "invalid choice"),
    ("unknown_id", ["verify", "descnet"], "'descnet'", "did you mean"),
    ("unknown_claim", ["verify", "descent.lemma_2_1_4::descent_inequalty"], "descent_inequalty", "did you mean"),
    ("resume_with_ids", ["verify", "descent", "--resume", "somewhere"], "--resume", "takes no ids"),
    ("show_unknown", ["show", "pl.claim_6_2_2_plx"], "'pl.claim_6_2_2_plx'", "did you mean"),
]


@pytest.mark.parametrize("argv, name, words", [a[1:] for a in ARGS], ids=[a[0] for a in ARGS])
def test_bad_arguments_are_refused_where_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               argv: list[str], name: str, words: str) -> None:
    code, out = _cli([*argv, "--out", str(tmp_path / "out")] if argv[0] == "verify" else argv, capsys)
    assert code == 2, out
    assert_one_line(out, name, words)
    assert not (tmp_path / "out" / "results.json").exists()


def test_resume_of_a_missing_run_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _cli(["verify", "--resume", str(tmp_path / "gone")], capsys)
    assert code == 2 and assert_one_line(out, str(tmp_path / "gone" / "results.json"), "cannot read")


def test_resume_of_a_run_whose_theorem_is_gone_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    _edit(lambda d: d.update(incomplete="interrupted by SIGINT", not_run=["gone.theorem::c"]))(run / "results.json") \
        if run.mkdir() is None else None
    code, out = _cli(["verify", "--resume", str(run)], capsys)
    assert code == 2 and assert_one_line(out, "results.json", "'gone.theorem'", "cannot resume")


# ------------------------------------------------------------------------------------------ outputs

def _existing_file(tmp: Path) -> str:
    (tmp / "taken").write_text("not a folder", encoding="utf-8")
    return str(tmp / "taken")


def _below_a_file(tmp: Path) -> str:
    (tmp / "plain").write_text("", encoding="utf-8")
    return str(tmp / "plain" / "out")


def _not_creatable(tmp: Path) -> str:
    return "/proc/thmcheck-cannot-create-this"


OUTS = [("out_is_a_file", _existing_file, "exists and is not a folder"),
        ("out_below_a_file", _below_a_file, "is a file, not a folder"),
        ("out_not_creatable", _not_creatable, "cannot be written")]


@pytest.mark.parametrize("where, words", [o[1:] for o in OUTS], ids=[o[0] for o in OUTS])
def test_an_unusable_out_is_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    where: Callable[[Path], str], words: str) -> None:
    import theorems.runner

    def must_not_run(*a: Any, **k: Any) -> Any:
        raise AssertionError("the run started")

    monkeypatch.setattr(theorems.runner, "run", must_not_run)
    out_dir = where(tmp_path)
    code, out = _cli(["verify", "descent.quadratic_upper_bound", "--out", out_dir, "--quiet"], capsys)
    assert code == 2, out
    assert_one_line(out, "--out", out_dir, words)


REPORTS = [("html_into_missing_proc_folder", ["--html", "/proc/thmcheck/r.html"], "--html", "cannot be"),
           ("html_is_a_folder", ["--html", "{tmp}"], "--html", "is a folder"),
           ("markdown_below_a_file", ["--markdown", "{tmp}/results.json/r.md"], "--markdown", "is not a folder")]


@pytest.mark.parametrize("args, flag, words", [r[1:] for r in REPORTS], ids=[r[0] for r in REPORTS])
def test_an_unusable_report_target_is_refused_first(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    args: list[str], flag: str, words: str) -> None:
    results = _valid_run(tmp_path / "results.json")
    before = results.read_bytes()
    code, out = _cli(["report", str(results), *[a.format(tmp=tmp_path) for a in args]], capsys)
    assert code == 2, out
    assert_one_line(out, flag, words)
    assert results.read_bytes() == before


@pytest.fixture(scope="module")
def tiny_run() -> Any:
    """One real, cheap run (one claim, numpy backend), reused by the output cases."""
    from theorems.registry import load_registry
    from theorems.runner import run

    reg = load_registry()
    return run(reg, [reg.theorems["descent.quadratic_upper_bound"]], budget="quick", seed=0, backend="numpy")


def test_a_failed_write_falls_back_and_loses_nothing(tmp_path: Path, tiny_run: Any) -> None:
    from theorems.outputs import write_run_files
    from theorems.runner import write_outputs

    target = tmp_path / "out"

    def flaky(record: Any, out: Path) -> dict[str, Any]:
        if out == target:
            raise OSError(28, "No space left on device", str(out / "report.html"))
        return write_outputs(record, out)

    saved = write_run_files(tiny_run, target, flaky)
    assert saved.fell_back and "No space left on device" in saved.fallback_note and "\n" not in saved.fallback_note
    from reports.records import canonical_json

    back = load_run(saved.paths["results"])
    assert canonical_json(back, drop_volatile=True) == canonical_json(tiny_run, drop_volatile=True)
    assert str(saved.paths["results"].parent) in saved.fallback_note


def test_verify_says_where_results_went_when_the_report_cannot_be_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import reports.html

    real = reports.html.write_html
    target = tmp_path / "out"

    def disk_full(run: Any, path: Any) -> Path:
        if Path(path).parent == target:
            raise OSError(28, "No space left on device", str(path))
        return real(run, path)

    monkeypatch.setattr(reports.html, "write_html", disk_full)
    code, out = _cli(["verify", "descent.quadratic_upper_bound", "--budget", "quick", "--backend", "numpy",
                      "--out", str(target), "--quiet"], capsys)
    assert code == 2, out
    line = assert_one_line(out, "could not write to", str(target), "No space left on device", "instead")
    fallback = Path(line.rsplit(" were written to ", 1)[1].split(" instead")[0])
    assert load_run(fallback / "results.json").claims[0].verdict == "proved"


def test_brackets_in_the_out_path_are_not_markup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "run [/] [bold]x"
    code, out = _cli(["verify", "descent.quadratic_upper_bound", "--budget", "quick", "--backend", "numpy",
                      "--out", str(target), "--quiet"], capsys)
    assert code == 0, out
    assert_one_line(out, "results written to", str(target / "results.json"))
    assert load_run(target / "results.json").claims


PYTEST_ARGS = [("thmcheck_seed_negative", ["--thmcheck-seed=-1"], "--thmcheck-seed", "non-negative integer"),
               ("thmcheck_seed_text", ["--thmcheck-seed=x"], "--thmcheck-seed", "non-negative integer"),
               ("thmcheck_out_is_a_file", ["--thmcheck-out={tmp}/taken"], "--thmcheck-out", "is not a folder")]


@pytest.mark.parametrize("args, name, words", [a[1:] for a in PYTEST_ARGS], ids=[a[0] for a in PYTEST_ARGS])
def test_pytest_options_are_refused_before_any_claim_runs(tmp_path: Path, args: list[str], name: str,
                                                          words: str) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "taken").write_text("", encoding="utf-8")
    (tmp_path / "no_specs_here.py").write_text("x = 1\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                           *[a.format(tmp=tmp_path) for a in args], str(tmp_path / "no_specs_here.py")],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage-error exit code
    assert_one_line(proc.stdout + proc.stderr, name, words)
