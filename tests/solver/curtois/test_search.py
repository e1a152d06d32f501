"""Search pieces: the rolling-window first roster for long non-separable horizons is feasible for the
whole horizon (checked by the independent evaluator), and the engine's result is the evaluator's."""

from __future__ import annotations

import dataclasses

import pytest

from service.solver import search
from service.solver.builder import build
from service.solver.construct import separable
from service.solver.engine import Solution, _decode_result, solve_problem
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


def test_the_lagrangian_parts_add_up_to_the_objective_and_the_reduced_neighbourhood_frees_where_they_lie():
    import random
    import time

    from ortools.sat.python import cp_model

    from service.solver.colgen import ColumnGeneration

    p = load_document(instance_path(5).read_text())
    cg = ColumnGeneration(p)
    assert cg.run(deadline=time.monotonic() + 60).converged
    ctx = build(p)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.stop_after_first_solution = True  # a poor roster, so that some parts are large
    assert solver.solve(ctx.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    values = list(solver.response_proto.solution)
    s = search.Search(ctx, time_limit=10)
    rnd = cg.best_round
    s._duals = (rnd.pi, dict(rnd.bounds))
    parts = s._lagrangian_parts(values)
    # objective = duals . requirements + every pricing bound + every excess + every cover's slack term
    base = sum(y * c.required for y, c in zip(rnd.pi, p.covers)) + sum(rnd.bounds.values())
    assert base + sum(v for v, _, _ in parts) == pytest.approx(solver.objective_value, abs=1e-6)
    assert all(v >= -1e-6 for v, e, _ in parts if e is not None)  # each pricing bound is a lower bound
    assert sum(v for v, _, _ in parts) > 100  # the first roster is far from the LP optimum
    # duals under which one employee alone loses (excess 5, every other part 0): every neighbourhood
    # frees that employee over the whole horizon, with others who share covers with them
    filled = [0] * len(p.covers)
    for (e, ci), var in ctx.x.items():
        filled[ci] += values[var.index]
    pi = [c.under_weight if n < c.required else -(c.over_weight or 0) if n > c.required else 0.0
          for c, n in zip(p.covers, filled)]
    s._duals = (pi, {e: 0.0 for e in s.employees})
    excess = {e: v for v, e, _ in s._lagrangian_parts(values) if e is not None}
    loser = 7
    s._duals = (pi, {e: v - (5 if e == loser else 0) for e, v in excess.items()})
    parts = [(v, e, ci) for v, e, ci in s._lagrangian_parts(values) if abs(v) > 1e-6]
    assert parts == [(pytest.approx(5), loser, None)]
    rng = random.Random(1)
    for _ in range(20):
        free = s._reduced(0.05, values, rng)
        whole = {e for e in s.employees if set(s.by_emp[e]) <= free}
        assert loser in whole and len(whole) >= 2
    # two employees who lose as much: the one drawn brings the other along far more often than a
    # random companion would (1 in 15 of the others)
    other = 11
    s._duals = (pi, {e: v - (50 if e in (loser, other) else 0) for e, v in excess.items()})
    together = 0
    for _ in range(40):
        free = s._reduced(0.05, values, rng)
        whole = {e for e in s.employees if set(s.by_emp[e]) <= free}
        assert loser in whole or other in whole
        together += {loser, other} <= whole
    assert together >= 25


@pytest.mark.parametrize("n", [5, 19])
def test_the_weekly_neighbourhood_frees_the_same_days_of_every_week(n):
    import random

    p = load_document(instance_path(n).read_text())
    s = search.Search(build(p), time_limit=10)
    rng = random.Random(3)
    for size in (0.05, 0.15, 0.3):
        for _ in range(10):
            free = s._weekly(size, rng)
            assert free
            day_set = {s.x_items[k][2] for k in free}
            days = sorted(day_set)
            weekdays = {d % 7 for d in days}
            assert len(weekdays) < 7 and days[-1] - days[0] < search.LONG_WINDOW_DAYS
            # every week of the span between them holds the same days of the week
            span = range(days[0] - days[0] % 7, days[-1] + 1)
            assert day_set == {d for d in span if d % 7 in weekdays and days[0] <= d <= days[-1]}
            emps = {s.x_items[k][1] for k in free}
            # the chosen employees are free on all of those days
            assert free == {k for e in emps for k in s.by_emp[e] if s.x_items[k][2] in day_set}


def test_the_slack_neighbourhood_frees_a_shortfall_day_and_the_employees_with_minutes_to_spare():
    import random
    from collections import Counter, defaultdict
    from pathlib import Path

    from ortools.sat.python import cp_model

    p = load_document(instance_path(5).read_text())
    ctx = build(p)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.stop_after_first_solution = True  # a poor roster, with cover shortfalls
    assert solver.solve(ctx.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    values = list(solver.response_proto.solution)
    s = search.Search(ctx, time_limit=10)
    assert "slack" not in s.kinds and len(s.minute_caps) == len(p.employees)  # asked for only (`kinds`)
    short_days = {t.day for t in ctx.terms if t.rule == "coverShortfall" and values[t.var.index]}
    assert short_days
    used = defaultdict(int)
    for k, (vi, e, _) in enumerate(s.x_items):
        used[e] += values[vi] * p.shift_types[p.covers[s.x_cover[k]].shift].duration_minutes
    # caps under which one employee alone has minutes to spare (a long shift's worth)
    keen = 9
    s.minute_caps = {e: used[e] + (720 if e == keen else 0) for e in s.employees}
    rng = random.Random(2)
    counts = Counter()
    for _ in range(30):
        free = s._slack(0.2, values, rng)
        whole_days = {d for d in range(p.num_days) if set(s.by_day[d]) <= free}
        assert whole_days & short_days  # everybody on the shortfall's day
        whole = {e for e in s.employees if set(s.by_emp[e]) <= free}
        assert 2 <= len(whole) < len(s.employees)
        counts.update(whole)
    assert counts[keen] == 30  # first after the one who could take the shift (of 16, three are freed)
    assert max(n for e, n in counts.items() if e != keen) < 30
    # an LNS step of that kind from a roster: the search draws it when asked for, and improves
    s = search.Search(ctx, time_limit=3, workers=1, kinds=["slack"], sub_time=0.5)
    roster = {key: 1 for key, var in ctx.x.items() if values[var.index]}
    result = s.improve(roster, threads=1)
    assert s.stats["lns_slack"] >= 2 and s.stats["improve_slack"] >= 1 and result.objective < solver.objective_value
    # NGRS inputs have no horizon-wide minutes maximum to read
    ngrs = Path(__file__).resolve().parents[3] / "examples" / "ngrs_020.json"
    assert search.Search(build(load_document(ngrs.read_text())), time_limit=1).minute_caps == {}


@pytest.mark.parametrize("n,time_limit,phase", [(5, 600, True), (5, 60, False), (1, 600, False)])
def test_the_slack_phase_comes_only_where_the_covers_ask_for_more_minutes_than_the_staff_may_work(
        n, time_limit, phase):
    # Instance5's covers ask for exactly its staff's most minutes, Instance1's for 98.6 % of them; 60 s
    # leaves less than `SLACK_PHASE_MIN_LEFT`
    s = search.Search(build(load_document(instance_path(n).read_text())), time_limit=time_limit)
    s._start_slack_phase()
    assert (s._slack_until is not None) is phase
    if phase:
        left = s._slack_until - s.t0
        assert search.SLACK_PHASE_SHARE * time_limit - 5 <= left <= search.SLACK_PHASE_SHARE * time_limit + 1


def test_during_the_slack_phase_worker_0_draws_only_slack_and_the_other_keeps_the_mix():
    from ortools.sat.python import cp_model

    ctx = build(load_document(instance_path(5).read_text()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.stop_after_first_solution = True
    assert solver.solve(ctx.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    roster = {key: 1 for key, var in ctx.x.items() if solver.value(var)}

    def steps(threads: int, phase: float) -> tuple[int, int]:
        s = search.Search(ctx, time_limit=3, workers=threads, sub_time=0.3)
        s._slack_until = s.t0 + phase
        s.improve(roster, threads=threads)
        assert "slack" not in s.kinds
        return s.stats["lns_slack"], sum(s.stats[f"lns_{k}"] for k in s.kinds + ["reduced"])

    slack, mix = steps(1, 60.0)  # worker 0 alone, the phase all along
    assert slack >= 2 and mix == 0
    slack, mix = steps(2, 60.0)  # worker 1 keeps the mix
    assert slack >= 2 and mix >= 2
    slack, mix = steps(1, 1.0)  # the mix again once the phase is over
    assert slack >= 1 and mix >= 2


def _first_and_best_rosters(n: int):
    """(context, a first roster, a much better roster) of Curtois instance `n`, each (values, objective)."""
    ctx = build(load_document(instance_path(n).read_text()))
    first = search.Search(ctx, time_limit=10, workers=1)
    first._full_solve(10, first_only=True)
    best = search.Search(ctx, time_limit=10, workers=2)
    best._full_solve(5)
    assert first.objective > best.objective
    return ctx, (first.values, first.objective), (best.values, best.objective)


def _lns_from(ctx, start, incumbent, seconds: float = 4.0, workers: int = 1) -> search.Search:
    """A search holding `incumbent`, its LNS workers (each on a thread) following the track `start`."""
    import threading

    s = search.Search(ctx, time_limit=seconds, workers=2)
    s.sub_time = 0.5
    s._accept(*incumbent, "full")
    s._follow(start)
    threads = [threading.Thread(target=s._lns_worker, args=(w, ctx.model.clone(), {k: 0.15 for k in s.kinds}))
               for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return s


@pytest.mark.slow
def test_lns_workers_improve_the_track_without_touching_a_better_incumbent():
    ctx, first, best = _first_and_best_rosters(3)
    s = _lns_from(ctx, first, best, workers=2)
    assert s.stats["own_track"] == 1 and s.stats["own_track_improved"] >= 1
    # both workers took their steps from the track, not from the incumbent
    assert s.stats["track_steps_w0"] >= 1 and s.stats["track_steps_w1"] >= 1
    if s.stats["own_track_joined"]:
        assert s.objective < best[1]  # it joins only by beating the incumbent
    else:
        assert s.objective == best[1] and s.values == best[0]
        assert s._track is None or s._track[1] < first[1]


@pytest.mark.slow
def test_a_track_that_beats_the_incumbent_joins_the_shared_search():
    ctx, first, _ = _first_and_best_rosters(3)
    s = _lns_from(ctx, first, first)
    assert s.stats["own_track_joined"] == 1 and s._track is None
    assert s.objective < first[1]


def test_a_track_that_stalls_is_dropped(monkeypatch):
    ctx = build(load_document(instance_path(1).read_text()))
    s = search.Search(ctx, time_limit=10, workers=2)
    monkeypatch.setattr(search, "TRACK_STALL", 3)
    roster = [0] * len(ctx.model.proto.variables)
    s._follow((roster, 100.0))
    for _ in range(2):
        s._track_step(roster, None, None, False, "days")  # a step that found nothing
    assert s._track is not None and s.stats["own_track_dropped"] == 0
    s._track_step(roster, [1] * len(roster), 100.0, False, "days")  # no better: the third stalled step
    assert s._track is None and s.stats["own_track_dropped"] == 1


def _column_generation_cut_short(monkeypatch, n: int, seconds: float) -> tuple[search.Search, float]:
    """A search on Curtois instance `n` holding CP-SAT's first roster, after column generation cut off
    `seconds` in (long before its LP converges); and that first roster's objective."""
    import time

    from service.solver.colgen import ColumnGeneration

    ctx = build(load_document(instance_path(n).read_text()))
    s = search.Search(ctx, time_limit=40, workers=2)
    s._full_solve(10, first_only=True)
    first = s.objective
    real = ColumnGeneration.run
    monkeypatch.setattr(ColumnGeneration, "run", lambda self, *, deadline, upper=None: real(
        self, deadline=min(deadline, time.monotonic() + seconds), upper=upper))
    s._column_generation()
    assert s.stats["colgen_converged"] == 0
    return s, first


@pytest.mark.slow
def test_an_unconverged_lp_far_below_the_incumbent_still_dives_for_a_roster(monkeypatch):
    s, first = _column_generation_cut_short(monkeypatch, 12, 3.0)
    assert s.stats["colgen_lp"] <= (1 - search.UNCONVERGED_DIVE_GAP) * first
    assert s.stats["dive_unconverged"] == 1 and s.stats["dives"] >= 1
    assert s.stats["improve_colgen"] == 1 and s.objective < first


@pytest.mark.slow
def test_an_unconverged_lp_near_the_incumbent_does_not_dive(monkeypatch):
    monkeypatch.setattr(search, "UNCONVERGED_DIVE_GAP", 0.99)
    s, first = _column_generation_cut_short(monkeypatch, 12, 3.0)
    assert s.stats["dive_unconverged"] == 0 and s.stats["dives"] == 0
    assert s.objective == first


@pytest.mark.slow
def test_improve_runs_the_lns_alone_from_a_given_roster():
    ctx, first, _ = _first_and_best_rosters(3)
    roster = {key: 1 for key, var in ctx.x.items() if first[0][var.index]}
    s = search.Search(ctx, time_limit=4, workers=2, sub_time=0.5)
    result = s.improve(roster, threads=2, size=0.1)
    assert result.objective < first[1] and result.status == "FEASIBLE"
    assert s.stats["improve_start"] == 1 and sum(s.stats[f"lns_{k}"] for k in s.kinds) >= 2
    assert s.stats["lns_reduced"] == 0  # no converged LP, so no kind drawn from it
    assert len(s.sizes_seen) == 2
    text = instance_path(3).read_text()
    ev = evaluate_output(text, render_output(_decode_result(ctx, result, 4.0)))
    assert ev.feasible and ev.objective == result.objective


def test_improve_refuses_a_roster_that_breaks_a_hard_rule():
    ctx = build(load_document(instance_path(3).read_text()))
    # one employee on two shifts of one day, and nobody else: that breaks one shift a day and the minimum of work
    e, cis = next((e, cis) for e in range(len(ctx.problem.employees)) for d in range(ctx.problem.num_days)
                  if len(cis := [ci for (e2, ci) in ctx.x if e2 == e and ctx.problem.covers[ci].day == d]) >= 2)
    s = search.Search(ctx, time_limit=5, workers=1)
    assert s.improve({(e, ci): 1 for ci in cis}, threads=1) is None
    assert s.objective is None


def _lns_steps(s: search.Search) -> int:
    return sum(s.stats[f"lns_{k}"] for k in [*s.kinds, "reduced"])


@pytest.mark.slow
def test_the_lns_waits_for_a_long_column_generation_and_its_dives_then_resumes(monkeypatch):
    # Instance12's column generation, cut at 3 s, counts as long once the hold starts at 0 s: the LNS
    # worker takes no step from then until the dives end, and takes steps again after
    import threading
    import time

    monkeypatch.setattr(search, "LNS_HOLD_AFTER", 0.0)
    ctx = build(load_document(instance_path(12).read_text()))
    s = search.Search(ctx, time_limit=40, workers=2, sub_time=0.3)
    s._full_solve(10, first_only=True)
    first = s.objective
    s.sub_time = 0.3
    worker = threading.Thread(target=s._lns_worker, args=(0, ctx.model.clone(), {k: 0.15 for k in s.kinds}))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while _lns_steps(s) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _lns_steps(s) >= 2  # the worker runs before the hold
        seen: dict[str, int] = {}
        real_dives = s._dives

        def dives(cg, *, share):
            time.sleep(0.5)  # a step that was under way when the hold began has ended by now
            seen["start"], seen["share"] = _lns_steps(s), share
            real_dives(cg, share=share)
            seen["end"] = _lns_steps(s)

        monkeypatch.setattr(s, "_dives", dives)
        from service.solver.colgen import ColumnGeneration

        real_run = ColumnGeneration.run
        monkeypatch.setattr(ColumnGeneration, "run", lambda self, *, deadline, upper=None: real_run(
            self, deadline=min(deadline, time.monotonic() + 3.0), upper=upper))
        s._column_generation()
        assert s.stats["lns_held_for_dives"] == 1 and s.stats["dives"] >= 1
        assert seen["share"] == search.HELD_DIVE_SHARE
        assert seen["end"] == seen["start"]  # no step while held
        assert s._hold_from is None
        after = _lns_steps(s)
        deadline = time.monotonic() + 10
        while _lns_steps(s) == after and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _lns_steps(s) > after  # resumed
    finally:
        s.stopped = True
        worker.join()
    assert s.objective < first


@pytest.mark.slow
def test_a_short_column_generation_leaves_the_lns_running_through_its_dives(monkeypatch):
    # the hold starts after LNS_HOLD_AFTER s of column generation, which Instance6's (~2 s) never reaches;
    # its LP is fractional (bound 1949 below the best known 1950), so it dives, at the usual share
    ctx = build(load_document(instance_path(6).read_text()))
    s = search.Search(ctx, time_limit=30, workers=2)
    s._full_solve(10, first_only=True)
    seen: list[tuple[float, bool]] = []
    real_dives = s._dives
    monkeypatch.setattr(s, "_dives", lambda cg, *, share: (seen.append((share, s._lns_held())),
                                                           real_dives(cg, share=share)))
    s._column_generation()
    assert s.stats["colgen_converged"] == 1 and s.stats["colgen_seconds"] < search.LNS_HOLD_AFTER
    assert seen == [(search.DIVE_SHARE, False)] and s.stats["lns_held_for_dives"] == 0
    assert s._hold_from is None
