"""Employee-group construction (`service/solver/construct.py`) on real Curtois instances: the roster
it builds is feasible for the whole model (checked by the independent evaluator), the gains its group
solves report are exactly the whole objective's, and it refuses problems that are not separable."""

from __future__ import annotations

import dataclasses
import time

import pytest
from ortools.sat.python import cp_model

from service.solver import search
from service.solver.builder import build
from service.solver.construct import GroupSolver, separable
from service.solver.engine import Solution
from service.solver.formats import load_document
from service.solver.model import RuleSpec
from service.solver.output import render_output
from tests.solver.curtois.evaluator import benchmarks_dir, evaluate_output, instance_path

pytestmark = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


def whole_objective(problem, assigned: dict) -> float:
    """The whole model's objective with every assignment variable fixed to `assigned`."""
    ctx = build(problem)
    for key, var in ctx.x.items():
        ctx.model.add(var == assigned.get(key, 0))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    status = solver.solve(ctx.model)
    assert status == cp_model.OPTIMAL, solver.status_name(status)
    return solver.objective_value


def test_construction_is_feasible_and_group_gains_are_exact():
    text = instance_path(4).read_text()
    p = load_document(text)
    gs = GroupSolver(p, seed=3)
    assert gs.construct(deadline=time.monotonic() + 60)
    roster = gs.assignment()
    sol = Solution(problem=p, status="FEASIBLE", objective=None, best_bound=None, wall_seconds=0,
                   assignments=sorted(roster))
    ev = evaluate_output(text, render_output(sol))
    assert ev.feasible, ev.violations[:5]
    before = whole_objective(p, roster)
    assert before == ev.objective

    gained = 0.0
    for group in ([0, 1], [2, 3, 4], [5], [6, 7], [8, 9]):
        g = gs.solve_group(group, 5.0)
        assert g is not None and g >= 0
        gained += g
    after = whole_objective(p, gs.assignment())
    assert gained > 0  # a greedy construction leaves room for group moves on Instance4
    assert before - after == pytest.approx(gained)


def test_group_window_keeps_days_outside_it():
    p = load_document(instance_path(4).read_text())
    gs = GroupSolver(p, seed=5)
    assert gs.construct(deadline=time.monotonic() + 60)
    old = {e: set(gs.roster[e]) for e in (0, 1)}
    gs.solve_group([0, 1], 5.0, lo=7, hi=14)
    for e in (0, 1):
        outside_old = {ci for ci in old[e] if not 7 <= p.covers[ci].day < 14}
        outside_new = {ci for ci in gs.roster[e] if not 7 <= p.covers[ci].day < 14}
        assert outside_new == outside_old


def test_construction_fails_when_one_employee_cannot_be_rostered():
    p = load_document(instance_path(1).read_text())
    rules = tuple(
        dataclasses.replace(r, params={**r.params, 0: (10**6, 10**6 + 1)}) if r.rule == "totalMinutes" else r
        for r in p.rules)
    gs = GroupSolver(dataclasses.replace(p, rules=rules))
    assert not gs.construct(deadline=time.monotonic() + 20)


def test_separable_only_when_every_hard_rule_is_per_employee():
    p = load_document(instance_path(1).read_text())
    assert separable(p)
    assert not separable(dataclasses.replace(p, rules=p.rules + (RuleSpec("slotHeadcount", True, 1, {}),)))
    mixed = dataclasses.replace(p.covers[0], required=2, mix_groups={"M": (0, 1), "F": (2, 3)})
    assert not separable(dataclasses.replace(p, covers=(mixed,) + p.covers[1:]))


@pytest.mark.slow
def test_long_horizon_path_constructs_then_searches(monkeypatch):
    monkeypatch.setattr(search, "DECOMPOSE_FROM_DAYS", 28)
    text = instance_path(4).read_text()
    p = load_document(text)
    ctx = build(p)
    result = search.Search(ctx, time_limit=15, workers=2).run()
    assert result.stats.get("improve_construct") == 1  # the first roster came from the construction
    assert result.stats.get("group_solves", 0) > 0
    sol = search_solution(ctx, result)
    ev = evaluate_output(text, render_output(sol))
    assert ev.feasible and ev.objective == result.objective


def search_solution(ctx, result) -> Solution:
    from service.solver.engine import _decode_result

    return _decode_result(ctx, result, 0.0)
