"""Runs a solve: builds the model, searches with CP-SAT under a time limit, reports progress, can be
stopped from another thread, and turns the result into a `Solution` (and, via formats, output JSON).

`solve_problem` works on the core model; `solve_document` is the entry point the CLI and the workers
use: it detects the format, parses, validates, solves and renders the output JSON.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ortools.sat.python import cp_model

from service.solver.builder import BuildContext, Term, build
from service.solver.model import Problem


@dataclass(frozen=True)
class Progress:
    solutions: int
    objective: float | None
    best_bound: float | None
    elapsed: float


ProgressFn = Callable[[Progress], None]


@dataclass
class Violation:
    rule: str
    cost: int
    amount: int
    employee: int | None
    day: int | None
    detail: str


@dataclass
class Solution:
    problem: Problem
    status: str  # CP-SAT status name: OPTIMAL, FEASIBLE, INFEASIBLE, MODEL_INVALID, UNKNOWN
    objective: float | None
    best_bound: float | None
    wall_seconds: float
    assignments: list[tuple[int, int]] = field(default_factory=list)  # (employee, cover index)
    violations: list[Violation] = field(default_factory=list)
    first_solution_seconds: float | None = None
    best_solution_seconds: float | None = None
    solutions_found: int = 0
    stopped: bool = False  # stopped by request before the time limit
    conflicts: list[dict] | None = None  # infeasibility explanation, when INFEASIBLE
    search_stats: dict = field(default_factory=dict)  # counters of the search's phases (`Search.stats`)

    @property
    def has_roster(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, on_progress: ProgressFn | None, t0: float):
        super().__init__()
        self.on_progress = on_progress
        self.t0 = t0
        self.solutions = 0
        self.first: float | None = None
        self.best: float | None = None

    def on_solution_callback(self) -> None:
        now = time.monotonic() - self.t0
        self.solutions += 1
        if self.first is None:
            self.first = now
        self.best = now
        if self.on_progress is not None:
            self.on_progress(Progress(self.solutions, self.objective_value, self.best_objective_bound, now))


def make_solver(time_limit: float | None, workers: int, *, log: bool = False) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.log_search_progress = log
    return solver


def solve_problem(
    problem: Problem,
    *,
    time_limit: float | None = None,
    workers: int = 1,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
    explain_infeasible: bool = True,
    log: bool = False,
) -> Solution:
    """Solve `problem`; stop early when `stop` is set (the best roster so far is kept).

    The search (see `search.py`) is a full CP-SAT solve, then large neighbourhood search on the same
    model for the rest of the time limit; `on_progress` gets every new incumbent with its objective.
    """
    from service.solver.search import Search

    t0 = time.monotonic()
    limit = time_limit if time_limit is not None else problem.time_limit_seconds
    ctx = build(problem)

    built = time.monotonic() - t0  # the time limit is for the search, as CP-SAT's was

    def report(n: int, objective: float, bound: float | None, elapsed: float) -> None:
        if on_progress is not None:
            on_progress(Progress(n, objective, bound, elapsed + built))

    search = Search(ctx, time_limit=limit, workers=workers, report=report, stop=stop, log=log)
    result = search.run()
    if result.first_solution_seconds is not None:
        result.first_solution_seconds += built
    if result.best_solution_seconds is not None:
        result.best_solution_seconds += built
    solution = _decode_result(ctx, result, time.monotonic() - t0)
    if solution.status == "INFEASIBLE" and explain_infeasible:
        from service.solver.explain import explain_infeasibility

        remaining = None if limit is None else max(5.0, limit)
        solution.conflicts = explain_infeasibility(problem, time_limit=remaining, workers=workers)
    return solution


def _decode_result(ctx: BuildContext, result, wall: float) -> Solution:
    from service.solver.search import _term_value

    sol = Solution(
        problem=ctx.problem,
        status=result.status,
        objective=result.objective if result.values is not None else None,
        best_bound=result.best_bound if result.values is not None else None,
        wall_seconds=wall,
        first_solution_seconds=result.first_solution_seconds,
        best_solution_seconds=result.best_solution_seconds,
        solutions_found=result.solutions,
        stopped=result.stopped,
        search_stats=dict(result.stats),
    )
    if result.values is None:
        return sol
    vals = result.values
    sol.assignments = sorted(k for k, v in ctx.x.items() if vals[v.index])
    out = []
    for t in ctx.terms:
        amount = int(_term_value(t.var, vals))
        if amount and t.weight:
            out.append(Violation(t.rule, amount * t.weight, amount, t.employee, t.day, t.detail))
    sol.violations = out
    return sol


def _decode(ctx: BuildContext, solver: cp_model.CpSolver, status: int, cb: _Callback, wall: float) -> Solution:
    name = solver.status_name(status)
    has = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    sol = Solution(
        problem=ctx.problem,
        status=name,
        objective=solver.objective_value if has else None,
        best_bound=solver.best_objective_bound if has else None,
        wall_seconds=wall,
        first_solution_seconds=cb.first,
        best_solution_seconds=cb.best,
        solutions_found=cb.solutions,
    )
    if not has:
        return sol
    sol.assignments = sorted(k for k, v in ctx.x.items() if solver.boolean_value(v))
    sol.violations = evaluate_terms(ctx.terms, solver)
    return sol


def evaluate_terms(terms: list[Term], solver: cp_model.CpSolver) -> list[Violation]:
    out = []
    for t in terms:
        amount = int(solver.value(t.var))
        if amount and t.weight:
            out.append(Violation(t.rule, amount * t.weight, amount, t.employee, t.day, t.detail))
    return out


def solve_document(
    doc: dict | str,
    *,
    time_limit: float | None = None,
    workers: int = 1,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> dict:
    """Parse an NGRS JSON dict or Curtois text, solve it, and return the output JSON dict.

    Raises `service.solver.errors.InputError` when the document is invalid.
    """
    from service.solver.formats import load_document
    from service.solver.output import render_output

    problem = load_document(doc)
    solution = solve_problem(problem, time_limit=time_limit, workers=workers, on_progress=on_progress, stop=stop)
    return render_output(solution)
