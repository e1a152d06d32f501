"""Search pieces: the rolling-window first roster for long non-separable horizons is feasible for the
whole horizon (checked by the independent evaluator), and the engine's result is the evaluator's."""

from __future__ import annotations

import dataclasses

import pytest

from service.solver import search
from service.solver.builder import build
from service.solver.construct import separable
from service.solver.engine import Solution, solve_problem
from service.solver.formats import load_document
from service.solver.model import RuleSpec
from service.solver.output import render_output
from tests.solver.curtois.evaluator import benchmarks_dir, evaluate_output, instance_path

pytestmark = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


@pytest.mark.slow
def test_window_decomposition_gives_a_feasible_roster(monkeypatch):
    monkeypatch.setattr(search, "WINDOW_DAYS", 14)
    monkeypatch.setattr(search, "OVERLAP_DAYS", 7)
    text = instance_path(4).read_text()
    p = load_document(text)
    assigned = search.window_problems_roster(p, time_budget=10, workers=2, register=lambda *a: None)
    assert assigned is not None
    sol = Solution(problem=p, status="FEASIBLE", objective=None, best_bound=None, wall_seconds=0,
                   assignments=sorted(assigned))
    ev = evaluate_output(text, render_output(sol))
    # a window that runs out of time keeps the horizon-wide limits only as penalties (the roster is
    # then a hint); rotation, run and day-off rules always hold
    relaxed = ("minutes outside", "weekends >", "> max")
    assert all(any(r in v for r in relaxed) for v in ev.violations), ev.violations[:5]


@pytest.mark.slow
def test_long_horizon_uses_the_windows_and_stays_feasible(monkeypatch):
    monkeypatch.setattr(search, "DECOMPOSE_FROM_DAYS", 28)
    monkeypatch.setattr(search, "WINDOW_DAYS", 14)
    monkeypatch.setattr(search, "OVERLAP_DAYS", 7)
    text = instance_path(4).read_text()
    p = load_document(text)
    # a rule that couples employees (a soft slot headcount adds nothing to the objective) makes the
    # problem non-separable, so the windows build the first roster instead of the construction
    p = dataclasses.replace(p, rules=p.rules + (RuleSpec("slotHeadcount", False, 1, {}),))
    assert not separable(p)
    sol = solve_problem(p, time_limit=12, workers=2)
    assert sol.has_roster
    ev = evaluate_output(text, render_output(sol))
    assert ev.feasible and ev.objective == sol.objective


def test_one_thread_solve_that_returns_early_resumes_for_the_rest_of_its_limit(monkeypatch):
    # CP-SAT's one-thread interleaved portfolio can return before its limit (at 4.8 s of 8 with both
    # cores busy); capping each CP-SAT call at 1 s reproduces that on any machine
    real_tune = search.tune

    def early_tune(params, workers, time_limit, **kw):
        real_tune(params, workers, None if time_limit is None else min(time_limit, 1.0), **kw)

    monkeypatch.setattr(search, "tune", early_tune)
    p = load_document(instance_path(5).read_text())
    s = search.Search(build(p), time_limit=3.5, workers=1)
    res = s.run()
    assert res.status == "FEASIBLE"
    assert res.stats["full_resumed"] >= 2
    assert s.elapsed() >= 3.5 - search.RESUME_MIN_SECONDS
