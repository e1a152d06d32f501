"""Work/off patterns from `service/solver/pattern_dp.py`, checked rule by rule against the Curtois
staff lines by code that shares nothing with the DP (run lengths from the pattern itself)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from service.solver.construct import GroupSolver
from service.solver.formats import load_document
from service.solver.pattern_dp import work_pattern
from tests.solver.curtois.evaluator import _runs as runs
from tests.solver.curtois.evaluator import benchmarks_dir, instance_path, read_instance

pytestmark = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


def check(pattern: list[bool], staff, days_off: set[int], lengths: set[int]) -> list[str]:
    H = len(pattern)
    bad = []
    for start, n in runs(pattern, True):
        if n > staff.max_cons:
            bad.append(f"work run {start}+{n} > {staff.max_cons}")
        if start > 0 and start + n < H and n < staff.min_cons:
            bad.append(f"work run {start}+{n} < {staff.min_cons}")
    for start, n in runs(pattern, False):
        if start > 0 and start + n < H and n < staff.min_off:
            bad.append(f"off run {start}+{n} < {staff.min_off}")
    weekends = sum(1 for k in range(H // 7) if pattern[7 * k + 5] or pattern[7 * k + 6])
    if weekends > staff.max_weekends:
        bad.append(f"{weekends} weekends > {staff.max_weekends}")
    worked = sum(pattern)
    if worked * min(lengths) > staff.max_minutes or worked * max(lengths) < staff.min_minutes:
        bad.append(f"{worked} days cannot meet the minutes")
    bad += [f"works fixed day off {d}" for d in sorted(days_off) if pattern[d]]
    return bad


@pytest.mark.parametrize("n", [1, 4, 14, 22])
def test_patterns_meet_every_rule_they_cover(n):
    text = instance_path(n).read_text()
    inst = read_instance(text)
    p = load_document(text)
    gs = GroupSolver(p)
    rng = random.Random(n)
    for e, emp in enumerate(p.employees):
        staff = inst.staff[emp.id]
        workable = [False] * p.num_days
        lengths = set()
        for ci in gs.covers_of[e]:
            workable[p.covers[ci].day] = True
            lengths.add(p.shift_types[p.covers[ci].shift].duration_minutes)
        value = [rng.uniform(-1, 100) for _ in range(p.num_days)]
        pattern = work_pattern(p, e, workable, (min(lengths), max(lengths)), value, rng)
        assert pattern is not None and len(pattern) == p.num_days
        assert check(pattern, staff, inst.days_off.get(emp.id, set()), lengths) == [], (n, emp.id)


def test_no_pattern_when_the_minutes_cannot_be_reached():
    p = load_document(instance_path(4).read_text())
    rules = tuple(dataclasses.replace(r, params={**r.params, 0: (28 * 480 + 1, None)})
                  if r.rule == "totalMinutes" else r for r in p.rules)
    p = dataclasses.replace(p, rules=rules)
    assert work_pattern(p, 0, [True] * p.num_days, (480, 480), [0.0] * p.num_days, random.Random(0)) is None


def test_value_steers_the_worked_days():
    """With free choice (no limits but the worked-days range), the valued days are the ones worked."""
    p = load_document(instance_path(1).read_text())
    p = dataclasses.replace(p, rules=tuple(
        dataclasses.replace(r, params={0: (5 * 480, 5 * 480)}) for r in p.rules if r.rule == "totalMinutes"))
    value = [500.0 if d in (1, 3, 6, 9, 12) else -500.0 for d in range(p.num_days)]
    pattern = work_pattern(p, 0, [True] * p.num_days, (480, 480), value, random.Random(1))
    assert [d for d, w in enumerate(pattern) if w] == [1, 3, 6, 9, 12]


def test_without_a_maximum_run_the_states_stay_few():
    """No max-consecutive rule: work runs saturate at the minimum, so a year-long horizon still fits."""
    p = load_document(instance_path(22).read_text())
    p = dataclasses.replace(p, rules=tuple(r for r in p.rules if r.rule != "maxConsecutiveWorkingDays"))
    pattern = work_pattern(p, 0, [True] * p.num_days, (480, 480), [1.0] * p.num_days, random.Random(0))
    assert pattern is not None
    longest = max(n for _, n in runs(pattern, True))
    assert longest > 5  # the removed maximum no longer applies
