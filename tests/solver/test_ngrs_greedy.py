"""The greedy first roster (rules/greedy.py) is a complete, feasible CP-SAT hint that already fills
the demand, and it never changes the model (hint only)."""

from __future__ import annotations

import dataclasses

from ngrs_testlib import load_example
from ortools.sat.python import cp_model

from service.solver.builder import build
from service.solver.formats.ngrs import problem_from_ngrs


def _hint(ctx) -> dict[int, int]:
    proto = ctx.model.proto
    return dict(zip(proto.solution_hint.vars, proto.solution_hint.values))


def test_hint_is_complete_feasible_and_fills_the_demand():
    problem = problem_from_ngrs(load_example("ngrs_060"))
    ctx = build(problem)
    hint = _hint(ctx)
    assert len(hint) == len(ctx.model.proto.variables)
    chosen = [key for key, var in ctx.x.items() if hint[var.index]]
    assert len(chosen) >= 0.95 * sum(c.required for c in problem.covers)
    # the hinted roster satisfies every hard constraint of the model
    for var in ctx.x.values():
        ctx.model.add(var == hint[var.index])
    ctx.model.clear_hints()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10
    solver.parameters.num_workers = 1
    assert solver.solve(ctx.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def test_hint_does_not_change_the_model():
    problem = problem_from_ngrs(load_example("ngrs_tiny"))
    plain = dataclasses.replace(problem, rules=tuple(r for r in problem.rules if r.rule != "greedyHint"))
    a, b = build(problem), build(plain)
    assert len(a.model.proto.constraints) == len(b.model.proto.constraints)
    assert len(a.terms) == len(b.terms)
    assert not build(problem, explain=True).model.proto.solution_hint.vars
