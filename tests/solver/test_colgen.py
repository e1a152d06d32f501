"""Column generation (`service/solver/colgen.py`): its lower bound is valid and tight where the optimum
is proven, its rosters pass the independent Curtois evaluator, and the engine uses the bound to prove
optimality."""

from __future__ import annotations

import json
import time

import pytest
from ortools.linear_solver import pywraplp

from service.solver import search
from service.solver.colgen import _FROM_SCRATCH, ColumnGeneration, _clause_rules, _Master
from service.solver.engine import Solution, solve_problem
from service.solver.formats import load_document
from service.solver.formats.curtois import parse_curtois
from service.solver.output import render_output
from tests.solver.curtois.evaluator import BEST_KNOWN, REPO, benchmarks_dir, evaluate_output, instance_path

curtois = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


def _converged(p, seconds: float = 60.0) -> ColumnGeneration:
    cg = ColumnGeneration(p)
    res = cg.run(deadline=time.monotonic() + seconds)
    assert res.converged, res
    return cg


def _evaluate(text: str, p, roster: dict):
    sol = Solution(problem=p, status="FEASIBLE", objective=None, best_bound=None, wall_seconds=0,
                   assignments=sorted(roster))
    return evaluate_output(text, render_output(sol))


@curtois
@pytest.mark.slow
@pytest.mark.parametrize("n", [3, 4])
def test_lower_bound_reaches_the_proven_optimum(n):
    p = load_document(instance_path(n).read_text())
    cg = _converged(p)
    assert cg.lower_bound == BEST_KNOWN[n]
    assert cg.lp_value == pytest.approx(BEST_KNOWN[n], abs=1e-6)


@curtois
@pytest.mark.slow
def test_lower_bound_never_exceeds_the_optimum_and_holds_before_convergence():
    p = load_document(instance_path(5).read_text())
    early = ColumnGeneration(p)
    early.run(deadline=time.monotonic() + 0.5)  # stopped long before the LP optimum
    cg = _converged(p)
    assert early.lower_bound is None or early.lower_bound <= cg.lower_bound
    # 1141 = ceil(LP 1140.58); 1143 is the proven optimum
    assert cg.lower_bound == 1141 and cg.lower_bound <= BEST_KNOWN[5]


@curtois
@pytest.mark.slow
def test_dive_and_pool_rosters_pass_the_evaluator():
    text = instance_path(5).read_text()
    p = load_document(text)
    cg = _converged(p)
    dived = cg.dive(deadline=time.monotonic() + 60)
    assert dived is not None
    ev = _evaluate(text, p, dived)
    assert ev.feasible, ev.violations[:5]
    assert cg.lower_bound <= ev.objective
    # the restricted master over the pool (the dive added its schedules) keeps or beats the dive
    best = cg.best_combination(time_limit=8, hint=cg.add_roster(dived))
    assert best is not None
    roster, objective, _ = best
    ev2 = _evaluate(text, p, roster)
    assert ev2.feasible, ev2.violations[:5]
    assert ev2.objective == objective <= ev.objective


@curtois
@pytest.mark.slow
def test_the_dive_master_keeps_the_lp_optimum_and_the_dive_leaves_the_full_master_free():
    text = instance_path(8).read_text()
    p = load_document(text)
    cg = _converged(p)
    full_columns = cg.master.num_columns()
    lp = cg.master.solve()[0]
    small = cg._dive_master()
    assert small.num_columns() < full_columns
    assert small.solve()[0] == pytest.approx(lp, abs=1e-6)
    # the re-solve `_Master.solve` falls back on when warm-started GLOP ends ABNORMAL
    assert small.lp.Solve(_FROM_SCRATCH) == pywraplp.Solver.OPTIMAL
    assert small.objective.Value() == pytest.approx(lp, abs=1e-6)
    assert cg.dive(deadline=time.monotonic() + 10) is not None
    # nothing stays fixed in the full master (a fixed column would raise its LP value; new columns
    # can only lower it, never below the Lagrangian bound), and what the dive priced is in it
    assert cg.lower_bound - 1 < cg.master.solve()[0] <= lp + 1e-6
    assert cg.master.num_columns() > full_columns
    # out of time at once (the last group starts from, and may keep, its heaviest LP schedules): still a
    # feasible roster
    rushed = cg.dive(deadline=time.monotonic() + 0.3)
    assert rushed is not None
    ev = _evaluate(text, p, rushed)
    assert ev.feasible, ev.violations[:5]


@curtois
def test_best_responses_lower_the_objective_until_no_single_employee_can():
    text = instance_path(8).read_text()
    p = load_document(text)
    cg = ColumnGeneration(p)
    # a poor roster: a dive out of time at once, before column generation has run
    assert cg.run(deadline=time.monotonic() + 0.5) is not None
    rushed = cg.dive(deadline=time.monotonic() + 0.3)
    assert rushed is not None
    before = _evaluate(text, p, rushed)
    polished = cg.best_responses(rushed, deadline=time.monotonic() + 30)
    after = _evaluate(text, p, polished)
    assert after.feasible, after.violations[:5]
    assert after.objective < before.objective
    # a local optimum: another pass changes nobody
    assert cg.best_responses(polished, deadline=time.monotonic() + 30) == polished


@curtois
@pytest.mark.slow
def test_engine_proves_instance4_optimal_long_before_the_time_limit():
    p = load_document(instance_path(4).read_text())
    t = time.monotonic()
    sol = solve_problem(p, time_limit=60, workers=2)
    assert sol.status == "OPTIMAL" and sol.objective == 1716 and sol.best_bound == 1716
    # CP-SAT alone never proved it within 60 s (bound 1527); the column generation bound takes ~4 s
    assert time.monotonic() - t < 45
    # the search's counters reach the caller (`bench/curtois.py --stats`): the LP converged at 1716
    assert sol.search_stats["colgen_converged"] == 1 and sol.search_stats["colgen_lp"] == 1716.0


@curtois
@pytest.mark.slow
def test_engine_dives_again_from_the_converged_lp_until_its_limit_or_a_dive_without_roster(monkeypatch):
    # Instance6: its LP bound (1949) is below the best known 1950, so no dive proves anything, and a dive
    # takes well under a second: the repeats stop at the limit or at the first dive that the incumbent
    # cuts, not at the end of their time share (nor when the incumbent comes within DIVE_MIN_GAP of the
    # bound, as the LNS's soon does here). The first dive is never cut, so it always gives a roster.
    monkeypatch.setattr(search, "DIVE_MIN_GAP", 0.0)
    text = instance_path(6).read_text()
    p = load_document(text)
    sol = solve_problem(p, time_limit=30, workers=2)
    stats = sol.search_stats
    assert stats["colgen_converged"] == 1
    assert 1 <= stats["dive_rosters"] <= stats["dives"] <= search.DIVES
    assert stats["dives"] == search.DIVES or stats["dives"] == stats["dive_rosters"] + 1
    assert stats["dive_seconds"] < search.DIVE_SHARE * 30
    assert evaluate_output(text, render_output(sol)).feasible


@curtois
def test_run_pattern_is_priced_as_its_three_rules():
    p = parse_curtois(instance_path(1).read_text(), combined_pattern=True)
    rules = _clause_rules(p.rules)
    assert not any(r.rule == "runPattern" for r in rules)
    ids = {r.rule for r in rules}
    assert {"maxConsecutiveWorkingDays", "minConsecutiveWorkingDays", "minConsecutiveDaysOff"} <= ids
    plain = _converged(load_document(instance_path(1).read_text()))
    combined = _converged(p)
    assert combined.lower_bound == plain.lower_bound


@pytest.mark.slow
def test_bound_on_a_separable_ngrs_input_is_below_its_proven_optimum():
    from service.solver.construct import separable

    p = load_document(json.loads((REPO / "examples" / "ngrs_unmet.json").read_text()))
    assert separable(p)
    sol = solve_problem(p, time_limit=30, workers=1)  # one worker: CP-SAT alone, no column generation
    assert sol.status == "OPTIMAL"
    cg = _converged(p)
    assert cg.lower_bound <= sol.objective
    # unmet demand dominates this input: the bound sees all of it
    assert cg.lower_bound >= 32_000_000


@curtois
@pytest.mark.slow
def test_an_employee_without_any_schedule_leaves_the_proof_of_infeasibility_to_cp_sat():
    # A (day 0 off) must work 10 of 14 days (4800 minutes) in runs of at most 5 and at most one weekend:
    # impossible (nine at most)
    text = instance_path(1).read_text().replace("A,D=14,4320,3360,5,2,2,1", "A,D=14,4800,4800,5,2,2,1")
    p = load_document(text)
    cg = ColumnGeneration(p)
    res = cg.run(deadline=time.monotonic() + 10)
    assert cg.infeasible_employee == 0 and cg.lower_bound is None and not res.converged
    sol = solve_problem(p, time_limit=20, workers=2, explain_infeasible=False)
    assert sol.status == "INFEASIBLE" and not sol.has_roster


@curtois
@pytest.mark.slow
def test_enumerated_schedules_are_within_the_slack_at_their_own_cost():
    p = load_document(instance_path(5).read_text())
    cg = _converged(p)
    rnd = cg.best_round
    # the LP value, less what rounding the duals for CP-SAT pricing costs the bound
    assert rnd is not None and cg.lp_value - 0.5 <= rnd.lagrangian <= cg.lp_value + 1e-6
    for e in (0, 4, 13):
        pricer = cg._pricer(e)
        found, complete = pricer.enumerate(rnd.pi, rnd.bounds[e], 2.0, time_limit=30, cap=5000,
                                           register=lambda *a, **k: None)
        assert complete and found
        best, _, _ = pricer.price(rnd.pi, exact=True, time_limit=2, seed=0, register=lambda *a, **k: None)
        assert best[-1][0] in found  # the least reduced cost schedule is among them
        for col, cost in found.items():
            assert pricer.cost(col) == cost
            excess = cost - sum(rnd.pi[ci] for ci in col) - rnd.bounds[e]
            assert -1e-6 <= excess <= 2.0 + 1e-6
        # the DP lists exactly what CP-SAT's enumeration does (less the few that CP-SAT's rounded
        # duals let in just beyond the slack)
        assert pricer.dp is not None
        by_cp, cp_complete = pricer.cp_enumerate(rnd.pi, rnd.bounds[e], 2.0, time_limit=30, cap=5000,
                                                 register=lambda *a, **k: None)
        within = {col: cost for col, cost in by_cp.items()
                  if cost - sum(rnd.pi[ci] for ci in col) - rnd.bounds[e] <= 2.0 + 1e-6}
        assert cp_complete and within == found


@curtois
@pytest.mark.slow
def test_complete_enumeration_and_the_pool_program_prove_the_optimum():
    text = instance_path(3).read_text()
    p = load_document(text)
    cg = _converged(p)
    # every schedule that could take part in a roster of objective below optimum + 1
    # (one employee has over 3,000 schedules of zero reduced cost: covers whose dual is zero)
    added, complete = cg.near_optimal_columns(upper=BEST_KNOWN[3] + 1, deadline=time.monotonic() + 60,
                                              cap=100_000)
    assert complete
    roster, objective, optimal = cg.best_combination(time_limit=60)
    assert optimal and objective == BEST_KNOWN[3]
    ev = _evaluate(text, p, roster)
    assert ev.feasible and ev.objective == objective


@curtois
def test_a_schedule_pooled_twice_keeps_its_lower_cost():
    # a pricing solve cut by its time limit can price a schedule above its least own cost; the pool
    # program's optimum is only exact at the least
    p = load_document(instance_path(1).read_text())
    cg = ColumnGeneration(p)
    col = next(iter(cg.master.columns[0]), None) or frozenset()
    cg.master.add(0, col, 50)
    cost = cg.master.columns[0][col][1]
    assert cg.master.add(0, col, cost + 7) is False and cg.master.columns[0][col][1] == cost
    assert cg.master.add(0, col, cost - 3) is False and cg.master.columns[0][col][1] == cost - 3
    assert cg.master.objective.GetCoefficient(cg.master.columns[0][col][0]) == cost - 3


@curtois
@pytest.mark.slow
def test_a_pool_over_its_cap_halves_the_excess_and_proves_nothing():
    p = load_document(instance_path(5).read_text())
    cg = _converged(p)
    before = cg.master.num_columns()
    # within 4.7 of the Lagrangian bound there are over 100,000 schedules (within 2: 13,211)
    added, complete = cg.near_optimal_columns(upper=1146, deadline=time.monotonic() + 60, cap=2000)
    assert not complete
    assert 0 < added <= 2000 and cg.master.num_columns() == before + added


def _restricted(n: int, upper: int, cap: int = 150_000):
    """The whole model of Curtois instance `n` restricted by `restricted_model` to rosters below
    `upper`, solved; (what restricted_model returned, CP-SAT status, roster, objective, problem, text)."""
    from ortools.sat.python import cp_model

    from service.solver.builder import build

    text = instance_path(n).read_text()
    p = load_document(text)
    cg = _converged(p)
    ctx = build(p)
    model = ctx.model.clone()
    built = cg.restricted_model(model, ctx.x, ctx.terms, upper=upper, deadline=time.monotonic() + 60, cap=cap)
    if built is None:
        return None, None, None, None, p, text
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 120
    status = solver.solve(model)
    roster = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        roster = {key: 1 for key, lit in ctx.x.items() if solver.boolean_value(lit)}
    return built, status, roster, solver.objective_value, p, text


@curtois
@pytest.mark.slow
def test_the_restricted_model_finds_the_optimum_below_an_upper_bound_and_refutes_anything_below_it():
    from ortools.sat.python import cp_model

    best = BEST_KNOWN[3]  # proven optimal
    built, status, roster, objective, p, text = _restricted(3, best + 1)
    # every schedule within 1 of its employee's minimum, each employee choosing one: the Lagrangian
    # cuts and the channelling must keep the optimal roster
    assert built is not None and built[0] >= len(p.employees) and built[1] == len(p.employees)
    assert status == cp_model.OPTIMAL and round(objective) == best
    ev = _evaluate(text, p, roster)
    assert ev.feasible and ev.objective == best
    # below the optimum nothing is left: the proof the search takes as a bound (Instance5: optimum 1143,
    # LP 1140.6, so schedules up to 1.4 above their minimum stay in; on Instance3 the LP alone proves it)
    built, status, *_ = _restricted(5, BEST_KNOWN[5])
    assert built is not None and status == cp_model.INFEASIBLE


@curtois
def test_the_restricted_model_declines_a_pool_over_its_cap():
    built, status, *_ = _restricted(1, BEST_KNOWN[1] + 50, cap=10)
    assert built is None and status is None


@curtois
def test_a_fixed_master_copied_afresh_solves_to_the_same_lp():
    # the dive and branch-and-price fall back on the copy when GLOP fails on a master after many fixes
    p = load_document(instance_path(1).read_text())
    cg = _converged(p)
    m = cg.master
    for e in range(3):
        m.fix(e, m.heaviest(e)[1])
    before = m.solve()
    fresh = m.copy()
    after = fresh.solve()
    assert before is not None and after is not None and after[0] == pytest.approx(before[0], abs=1e-6)
    assert fresh.num_columns() == m.num_columns()
    for e in range(3):
        bounds = {col: (v.lb(), v.ub()) for col, (v, _) in fresh.columns[e].items()}
        assert bounds == {col: (v.lb(), v.ub()) for col, (v, _) in m.columns[e].items()}
        assert sorted(b for b in bounds.values()).count((1.0, 1.0)) == 1


@curtois
def test_column_generation_goes_on_when_glop_fails_on_its_master(monkeypatch):
    # GLOP now and then ends ABNORMAL on a master, warm-started and from scratch alike: Curtois Instance15
    # with some seeds, at its third to fifth iteration, where column generation stopped (LP 16,307, no dive)
    # until the master was solved in a fresh model (`_solve_master`). Which masters GLOP fails on depends on
    # the columns the timed pricing found (with seed 0 it failed in earlier runs, and in one CI run it did
    # not), so the failure is injected: this run's master fails at its third solve; its copy is solved by GLOP
    cg = ColumnGeneration(load_document(instance_path(8).read_text()), seed=0)
    failing, real, calls = cg.master, _Master.solve, []

    def solve(master: _Master):
        if master is failing:
            calls.append(1)
            if len(calls) == 3:
                return None  # as `_Master.solve` does when GLOP ends ABNORMAL twice
        return real(master)

    monkeypatch.setattr(_Master, "solve", solve)
    res = cg.run(deadline=time.monotonic() + 60)
    assert len(calls) == 3 and cg.master is not failing and cg.master_rebuilds == 1
    assert res.converged and res.iterations > 3 and res.lower_bound == 1297  # Instance8's LP bound


@curtois
@pytest.mark.slow
def test_pricing_on_two_threads_generates_what_one_thread_does():
    # the columns join the master in employee order whichever thread priced them, so the whole run,
    # round by round, is the sequential one
    p = load_document(instance_path(6).read_text())
    runs = []
    for threads in (1, 2):
        cg = ColumnGeneration(p, threads=threads)
        res = cg.run(deadline=time.monotonic() + 60)
        columns = {e: set(cols) for e, cols in cg.master.columns.items()}
        runs.append((res.converged, res.iterations, res.pricing_solves, res.lp_value, cg.lower_bound, columns))
    assert runs[0][0] is True and runs[0][1] > 1
    assert runs[1] == runs[0]
