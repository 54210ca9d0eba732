"""The extension points a plugin relies on: registration, load-time validation of a spec against its
class and dynamics, the runner contract, expression settings, and the backend the records name."""

from __future__ import annotations

import importlib.metadata
from dataclasses import replace

import numpy as np
import pytest
import sympy

import numeric
import numeric.registry as R
from kernels import RidgeQuadratic
from numeric import Dynamics, ParameterDomain, Run, RunRequest, Setting, observables
from numeric.engine.experiment import BackendMismatch, DomainError
from theorems.catalogue import descent as D
from theorems.pipeline import compile_theorem, run_theorem
from theorems.registry import load_registry
from theorems.spec import Assumption, SpecError
from theorems.validate import validate


def _gd_like(name: str, **kw) -> Dynamics:
    """A dynamics with the gd runner and observables, under another name and contract."""
    gd = numeric.DYNAMICS["gd"]
    fields = dict(name=name, run=gd.run, observables=gd.observables, accepts=gd.accepts,
                  parameters=gd.parameters, domain=gd.domain)
    fields.update(kw)
    return Dynamics(**fields)


def _register(dyn: Dynamics) -> Dynamics:
    return numeric.register_dynamics(dyn, source="tests/test_extension_api.py")


# -------------------------------------------------------------------------------------- registration


def test_builtins_are_registered_through_entry_points_not_imports() -> None:
    eps = {ep.value for ep in importlib.metadata.entry_points(group=R.CLASS_GROUP)}
    assert "numeric.families.ridge" in eps and "numeric.families.pwq" in eps
    assert R.provider("instance class", "smooth").startswith("thmcheck ")
    assert "entry point thmcheck.dynamics:ridge" in R.provider("dynamics", "gd")
    assert not numeric.plugin_problems()


def test_a_taken_name_is_refused_and_the_first_stays() -> None:
    impostor = replace(numeric.CLASSES["smooth"], text="an impostor")
    numeric.register_class(impostor, source="an impostor plugin")
    assert numeric.CLASSES["smooth"].text != "an impostor"
    assert any("'smooth' from an impostor plugin refused" in p for p in numeric.plugin_problems())
    R._problems[:] = [p for p in R._problems if "impostor" not in p]  # noqa: SLF001 - keep the session clean


def test_a_broken_plugin_is_one_line_and_the_rest_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    class EP:
        name, group, value, dist = "broken", R.CLASS_GROUP, "no_such_module_xyz", None

        def load(self):
            raise ImportError("No module named 'no_such_module_xyz'")

    monkeypatch.setattr(R, "_sorted_entry_points", lambda group: [EP()] if group == R.CLASS_GROUP else [])
    monkeypatch.setattr(R, "_loaded", False)
    monkeypatch.setattr(R, "_problems", [])
    problems = R.load_plugins()
    assert len(problems) == 1 and "no_such_module_xyz" in problems[0] and "ImportError" in problems[0]
    assert "smooth" in R._classes  # noqa: SLF001 - what loaded before stays


def test_objects_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(TypeError, match="numeric.api.InstanceClass"):
        numeric.register_class(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="undeclared scale"):
        Dynamics(name="bad", run=lambda req: Run(None, "numpy"),
                 observables=observables(trajectory={"x": lambda r: r}, scale_of={"x": "x_abs"}))


# ---------------------------------------------------------------------------- load-time validation


def test_a_class_the_dynamics_cannot_drive_is_a_spec_error() -> None:
    thm = replace(D.lemma_2_1_4, id="mine.wrong_class",
                  structure=(replace(D.lemma_2_1_4.structure[0], instance_class="psd_pairs"),))
    with pytest.raises(SpecError) as exc:
        validate(thm)
    assert exc.value.field == "structure"
    assert "MatrixPairs" in exc.value.message and "'gd'" in exc.value.message


def test_undeclared_and_malformed_settings_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="has no setting 'schedule_offset'") as exc:
        validate(replace(D.lemma_2_1_4, id="mine.settings", settings={"schedule_offset": 1}))
    assert exc.value.field == "settings.schedule_offset"
    # sgd declares its minibatch size
    validate(replace(D.sgd_step, id="mine.sgd_batch", settings={"batch": 2}))


def test_an_assumption_admitting_a_value_outside_the_dynamics_domain_is_a_spec_error() -> None:
    _register(_gd_like("gd_eta_below_one", domain=(ParameterDomain(name="eta", upper=1.0, upper_strict=True),)))
    L, eta = D.L, D.eta
    thm = replace(D.lemma_2_1_4, id="mine.domain", dynamics="gd_eta_below_one",
                  assumptions=(Assumption("step", eta <= 2 / L),))
    with pytest.raises(SpecError) as exc:
        validate(thm)
    assert exc.value.field == "symbols.eta"
    assert "eta < 1" in exc.value.message and "gd_eta_below_one" in exc.value.message
    assert "'step'" in exc.value.message  # the assumption that admits the value is named


def test_a_value_outside_the_domain_at_run_time_is_refused_naming_it() -> None:
    dyn = _register(_gd_like("gd_eta_above_half", domain=(ParameterDomain(name="eta", lower=0.5),)))
    exp, _ = compile_theorem(D.lemma_2_1_4).experiment_for("descent_inequality")
    exp = replace(exp, dynamics=dyn.name)
    batch = numeric.CLASSES["smooth"].families[0].generate(np.random.default_rng(0), 2,
                                                            numeric.Knobs(0, 2, 1, 0.0, 0.0, (), 0))
    from numeric.engine.experiment import run_dynamics

    with pytest.raises(DomainError, match=r"eta = 0\.25.*0\.5 <= eta.*gd_eta_above_half"):
        run_dynamics(exp, batch.problem, batch.w0, {"L": batch.attrs["L"], "eta": np.full(2, 0.25)},
                     backend="numpy", seed=0, instance_ids=np.arange(2))


# ---------------------------------------------------------------------------------- runner contract


def _one_batch(dynamics: str):
    exp, _ = compile_theorem(D.lemma_2_1_4).experiment_for("descent_inequality")
    exp = replace(exp, dynamics=dynamics)
    b = numeric.CLASSES["smooth"].families[0].generate(np.random.default_rng(0), 2,
                                                        numeric.Knobs(0, 2, 1, 0.0, 0.0, (), 0))
    return exp, b, {"L": b.attrs["L"], "eta": 1.0 / b.attrs["L"]}


def test_a_runner_must_return_a_run() -> None:
    _register(_gd_like("gd_returns_dict", run=lambda req: {"not": "a Run"}))
    exp, b, env = _one_batch("gd_returns_dict")
    from numeric.engine.experiment import run_dynamics

    with pytest.raises(TypeError, match="returned a dict, not a numeric.api.Run"):
        run_dynamics(exp, b.problem, b.w0, env, backend="numpy", seed=0, instance_ids=np.arange(2))


def test_a_runner_that_falls_back_is_caught() -> None:
    gd = numeric.DYNAMICS["gd"]
    _register(_gd_like("gd_falls_back", run=lambda req: Run(gd.run(replace(req, backend="numpy")).data, "numpy")))
    exp, b, env = _one_batch("gd_falls_back")
    from numeric.engine.experiment import run_dynamics

    with pytest.raises(BackendMismatch, match="asked to run on 'numba' but ran on 'numpy'"):
        run_dynamics(exp, b.problem, b.w0, env, backend="numba", seed=0, instance_ids=np.arange(2))


def test_expression_settings_reach_the_runner_per_instance() -> None:
    seen = {}
    gd = numeric.DYNAMICS["gd"]

    def run(req: RunRequest) -> Run:
        seen["level"] = np.asarray(req.params["level"]).copy()
        seen["settings"] = dict(req.settings)
        return gd.run(req)

    _register(_gd_like("gd_with_level", run=run, settings=(
        Setting(name="level", expression=True, required=True, doc="a level"),
        Setting(name="mode", default="plain", choices=("plain", "other")))))
    thm = replace(D.lemma_2_1_4, id="mine.level", dynamics="gd_with_level",
                  settings={"level": 3 * D.L * D.eta})
    exp, _ = compile_theorem(validate(thm)).experiment_for("descent_inequality")
    b = numeric.CLASSES["smooth"].families[0].generate(np.random.default_rng(0), 3,
                                                        numeric.Knobs(0, 2, 1, 0.0, 0.0, (), 0))
    eta = 0.5 / b.attrs["L"]
    from numeric.engine.experiment import run_dynamics

    run_dynamics(exp, b.problem, b.w0, {"L": b.attrs["L"], "eta": eta}, backend="numpy", seed=0,
                 instance_ids=np.arange(3))
    assert np.allclose(seen["level"], 1.5) and seen["settings"] == {"mode": "plain"}
    with pytest.raises(SpecError, match="needs the setting 'level'"):
        validate(replace(thm, settings={}))


# ----------------------------------------------------------------------------- records and replays


def test_records_name_the_backend_that_ran_each_stage() -> None:
    thm = D.theorem_2_5_1
    recs = run_theorem(thm, budget=numeric.budget("quick"), seed=0, backend="numpy", lookup=load_registry().lookup)
    for rec in recs:
        assert rec.backend == "numpy" and rec.backends["search"] == "numpy"


def test_a_problem_type_is_declared_by_every_builtin_class_and_accepted_by_some_dynamics() -> None:
    for name, cls in numeric.CLASSES.items():
        assert cls.problem_types != (object,), f"{name} declares no problem type"
        assert any(d.accepts_class(cls) for d in numeric.DYNAMICS.values()), f"no dynamics drives {name}"
    assert isinstance(numeric.CLASSES["smooth"].decode(
        numeric.CLASSES["smooth"].encode(RidgeQuadratic.quadratic(np.eye(2)[None], np.zeros((1, 2))), 0)),
        RidgeQuadratic)
    assert sympy  # the spec model's expressions are SymPy objects


def test_the_same_file_registering_again_replaces_its_own_definition() -> None:
    """A spec file that registers its class is imported again (pytest, then the CLI): its newer
    object replaces its own older one; another file taking the name is refused."""
    first = _gd_like("gd_reloaded")
    second = _gd_like("gd_reloaded", doc="the file imported again")
    numeric.register_dynamics(first)
    numeric.register_dynamics(second)
    assert numeric.DYNAMICS["gd_reloaded"] is second
    numeric.register_dynamics(_gd_like("gd_reloaded", doc="someone else"), source="another file")
    assert numeric.DYNAMICS["gd_reloaded"] is second
    assert any("'gd_reloaded' from another file refused" in p for p in numeric.plugin_problems())
    R._problems[:] = [p for p in R._problems if "gd_reloaded" not in p]  # noqa: SLF001 - keep the session clean


def test_an_undeclared_problem_type_is_checked_at_run_time() -> None:
    cls = replace(numeric.CLASSES["psd_pairs"], name="pairs_untyped", problem_type=object)
    assert numeric.DYNAMICS["gd"].accepts_class(cls)
    exp, _ = compile_theorem(D.lemma_2_1_4).experiment_for("descent_inequality")
    b = cls.families[0].generate(np.random.default_rng(0), 2, numeric.Knobs(0, 2, 0, 0.0, 0.0, (), 0))
    from numeric.engine.experiment import run_dynamics

    with pytest.raises(TypeError, match="cannot run a MatrixPairs.*declare the instance class's problem_type"):
        run_dynamics(exp, b.problem, np.zeros((2, 2)), {"L": np.ones(2), "eta": np.ones(2)}, backend="numpy",
                     seed=0, instance_ids=np.arange(2))
