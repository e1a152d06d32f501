"""The generic sequence rules on tiny single-shift problems, hard and soft, including the edge rule
(minimum runs touching the first or last day are exempt). Wishes are expressed as shift requests."""

from __future__ import annotations

from datetime import date

import pytest

from service.solver.engine import solve_problem
from service.solver.model import Cover, Employee, Problem, RuleSpec, ShiftRequest, ShiftType

MONDAY = date(2024, 1, 1)


def problem(days: int, rules: list[RuleSpec], want: dict[int, int], start=MONDAY) -> Problem:
    """One employee, one shift D; `want[d] = w` > 0 asks to work day d (weight w), < 0 asks for it off."""
    reqs = tuple(ShiftRequest(0, d, "D", w > 0, abs(w)) for d, w in want.items())
    covers = tuple(Cover(f"c{d}", d, "D", 0, (0,), 100, 0) for d in range(days))
    return Problem("t", "test", start, days, {"D": ShiftType("D", 480)}, (Employee("A"),), covers,
                   tuple(rules), reqs)


def worked(sol) -> list[int]:
    return sorted(sol.problem.covers[ci].day for _, ci in sol.assignments)


def solve(p):
    sol = solve_problem(p, time_limit=5, workers=1)
    assert sol.status == "OPTIMAL"
    return sol


def test_min_consecutive_working_days_hard_with_edge_exemption():
    # wants only day 1 worked; a lone run on day 1 is too short, but a run 0-1 touches day 0: allowed.
    want = {d: -1 for d in range(7)} | {1: 10}
    sol = solve(problem(7, [RuleSpec("minConsecutiveWorkingDays", True, 1, {0: 3})], want))
    assert worked(sol) == [0, 1] and sol.objective == 1


def test_min_consecutive_working_days_soft_pays_per_missing_day():
    want = {d: -10 for d in range(7)} | {1: 30}
    sol = solve(problem(7, [RuleSpec("minConsecutiveWorkingDays", False, 2, {0: 3})], want))
    assert worked(sol) == [1] and sol.objective == 4  # (3 - 1) missing days * weight 2
    assert [(v.rule, v.employee, v.day, v.cost) for v in sol.violations] == [("minConsecutiveWorkingDays", 0, 1, 4)]


def test_min_consecutive_days_off_hard_and_edge():
    want = {d: 1 for d in range(7)} | {3: -5, 6: -5}
    sol = solve(problem(7, [RuleSpec("minConsecutiveDaysOff", True, 1, {0: 2})], want))
    # a lone day off on day 3 is forbidden (5 to work it, or 1 for a second day off); day 6 is at the edge
    assert 3 not in worked(sol) and 6 not in worked(sol) and len(worked(sol)) == 4
    assert sol.objective == 1


def test_max_consecutive_working_days_hard_and_soft():
    want = {d: 1 for d in range(5)}
    sol = solve(problem(5, [RuleSpec("maxConsecutiveWorkingDays", True, 1, {0: 2})], want))
    assert len(worked(sol)) == 4 and sol.objective == 1
    sol = solve(problem(5, [RuleSpec("maxConsecutiveWorkingDays", False, 3, {0: 2})], {d: 2 for d in range(5)}))
    assert sol.objective == 2  # cheaper to skip one day (2) than to pay per overlong window (3 each)


def test_max_weekends_from_real_dates():
    want = {5: 1, 6: 1, 12: 1, 13: 1}
    sol = solve(problem(14, [RuleSpec("maxWeekends", True, 1, {0: 1})], want))
    assert sol.objective == 2 and len({d // 7 for d in worked(sol)}) == 1
    # starting on a Sunday, days 0 and 6-7 (Sat-Sun) are two weekends
    sol = solve(problem(8, [RuleSpec("maxWeekends", False, 7, {0: 1})], {0: 10, 6: 10, 7: 10}, start=date(2023, 12, 31)))
    assert sol.objective == 7


def test_max_shifts_per_type_and_total_minutes():
    want = {d: 1 for d in range(7)}
    sol = solve(problem(7, [RuleSpec("maxShiftsPerType", True, 1, {0: {"D": 3}})], want))
    assert len(worked(sol)) == 3
    sol = solve(problem(7, [RuleSpec("totalMinutes", True, 1, {0: (0, 4 * 480)})], want))
    assert len(worked(sol)) == 4
    sol = solve(problem(7, [RuleSpec("totalMinutes", True, 1, {0: (5 * 480, None)})], {d: -1 for d in range(7)}))
    assert len(worked(sol)) == 5
    sol = solve(problem(7, [RuleSpec("totalMinutes", False, 1, {0: (0, 480)})], {0: 1000, 1: 1000}))
    assert sol.objective == 480 and len(worked(sol)) == 2


@pytest.mark.parametrize("rule_id", ["maxConsecutiveWorkingDays", "minConsecutiveWorkingDays",
                                     "minConsecutiveDaysOff", "maxWeekends", "maxShiftsPerType", "totalMinutes"])
def test_rules_are_registered(rule_id):
    from service.solver import rules

    assert rule_id in rules.load_all()


def _runs_ok(bits, mx, mn, mo):
    h, d = len(bits), 0
    while d < h:
        s, v = d, bits[d]
        while d < h and bits[d] == v:
            d += 1
        inner = s > 0 and d < h
        if (v and d - s > mx) or (inner and v and d - s < mn) or (inner and not v and d - s < mo):
            return False
    return True


@pytest.mark.parametrize("mx,mn,mo", [(5, 2, 2), (3, 2, 3), (2, 1, 1), (4, 3, 1), (1, 1, 2)])
def test_run_pattern_automaton_accepts_exactly_the_valid_rosters(mx, mn, mo):
    import itertools

    from service.solver.rules.sequences import pattern_automaton

    for h in range(1, 10):
        start, finals, triples = pattern_automaton(mx, mn, mo, h)
        step = {(a, label): b for a, label, b in triples}
        for bits in itertools.product((0, 1), repeat=h):
            state = start
            for b in bits:
                state = step.get((state, b))
                if state is None:
                    break
            assert (state is not None and state in finals) == _runs_ok(bits, mx, mn, mo), bits


def test_curtois_combined_pattern_gives_the_same_optimum_on_instance1():
    from service.solver.formats.curtois import parse_curtois
    from tests.solver.curtois.evaluator import instance_path

    path = instance_path(1)
    if not path.exists():
        pytest.skip("Curtois benchmark folder not found")
    p = parse_curtois(path.read_text(), combined_pattern=True)
    assert any(r.rule == "runPattern" for r in p.rules)
    sol = solve_problem(p, time_limit=10, workers=2)
    assert sol.status == "OPTIMAL" and sol.objective == 607
