"""Plans expand into cells in a fixed order, and unknown ids are refused before anything is sent."""

from __future__ import annotations

import pytest
from engine_kit import make_proto

from app.engine.plan import PlanError, RunPlan, expand

PROTO = make_proto(profiles=3, models=[("m0", "fake", "a"), ("m1", "fake", "b")], cases=3)


def test_cells_come_case_then_sample_then_profile_then_model() -> None:
    cells = [c.cell for c in expand(PROTO, RunPlan(repeat=2))]
    expected = [(f"c{c}", s, f"p{p}", f"m{m}")
                for c in range(3) for s in range(2) for p in range(3) for m in range(2)]
    assert [(c.case, c.sample, c.profile, c.model) for c in cells] == expected


def test_selection_keeps_file_order_whatever_order_it_was_given_in() -> None:
    cells = [c.cell for c in expand(PROTO, RunPlan(profiles=["p2", "p0"], models=["m1"], cases=["c2", "c0"]))]
    assert [(c.case, c.profile) for c in cells] == [("c0", "p0"), ("c0", "p2"), ("c2", "p0"), ("c2", "p2")]


def test_variants_of_one_case_and_sample_share_a_group() -> None:
    planned = expand(PROTO, RunPlan(cases=["c1"]))
    assert {p.group for p in planned} == {("c1", 0)}


@pytest.mark.parametrize(("plan", "message"), [
    (RunPlan(profiles=["nope"]), "unknown profile 'nope' (known: p0, p1, p2)"),
    (RunPlan(models=["m0", "gpt"]), "unknown model 'gpt' (known: m0, m1)"),
    (RunPlan(cases=["x", "y"]), "unknown case 'x', 'y' (known: c0, c1, c2)"),
    (RunPlan(repeat=0), "repeat must be at least 1"),
])
def test_bad_plans_say_what_is_known(plan: RunPlan, message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        expand(PROTO, plan)


def test_a_prototype_without_models_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="has no models"):
        expand(make_proto(), RunPlan())


def test_baseline_cells_are_marked_and_send_no_system_prompt() -> None:
    planned = expand(PROTO, RunPlan(baseline=True, cases=["c0"], profiles=["p0"], models=["m0"]))
    assert planned[0].cell.baseline
    assert [m.role for m in planned[0].messages] == ["user"]
