"""Explains an infeasible problem: which configured hard rules conflict.

The model is rebuilt with every hard rule group behind an enforcement literal; solving with those
literals as assumptions lets CP-SAT return a sufficient subset of them that is already infeasible.
The subset is then shrunk greedily (drop one group, re-check) while time allows, so the answer names
few rules rather than all of them.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from service.solver.builder import build
from service.solver.model import Problem


def _infeasible_with(problem: Problem, groups: list[str], time_limit: float, workers: int) -> tuple[bool, list[str]]:
    ctx = build(problem, explain=True)
    for name, lit in ctx.groups.items():
        if name not in groups:
            ctx.model.add(lit == 0)
    lits = [ctx.groups[g] for g in groups if g in ctx.groups]
    ctx.model.clear_objective()
    ctx.model.add_assumptions(lits)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    # Cores from assumptions are only reported by a single-worker search.
    solver.parameters.num_workers = 1
    status = solver.solve(ctx.model)
    if status != cp_model.INFEASIBLE:
        return False, []
    index = {ctx.groups[g].index: g for g in groups if g in ctx.groups}
    core = [index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in index]
    return True, core


def explain_infeasibility(problem: Problem, *, time_limit: float = 10.0, workers: int = 1) -> list[dict]:
    deadline = time.monotonic() + time_limit
    probe = build(problem, explain=True)
    all_groups = sorted(probe.groups)
    infeasible, core = _infeasible_with(problem, all_groups, max(1.0, time_limit / 2), workers)
    if not infeasible:
        return [{"rule": "unknown", "message": "the conflict could not be isolated within the time limit"}]
    core = core or all_groups
    # Greedy deletion: a group whose removal keeps the rest infeasible is not needed in the explanation.
    for group in list(core):
        if len(core) <= 1 or time.monotonic() > deadline:
            break
        rest = [g for g in core if g != group]
        still, smaller = _infeasible_with(problem, rest, max(0.5, (deadline - time.monotonic()) / 2), workers)
        if still:
            core = smaller or rest
    return [_describe(problem, g) for g in core]


def _describe(problem: Problem, group: str) -> dict:
    rule, _, source = group.partition("@")
    out = {"rule": rule}
    if source:
        out["source"] = source
    return out
