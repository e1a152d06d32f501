"""The pricing DP (`service/solver/schedule_dp.py`): its schedules keep every hard rule (checked by the
independent Curtois evaluator), its own costs are the requests' penalties, its value bounds CP-SAT's
optimum from below and equals it whenever the DP says it is exact."""

from __future__ import annotations

import json
import random

import pytest

from service.solver.colgen import _Pricer
from service.solver.formats import load_document
from service.solver import schedule_dp
from service.solver.schedule_dp import ScheduleDP
from tests.solver.curtois.evaluator import REPO, benchmarks_dir, evaluate, instance_path, read_instance

curtois = pytest.mark.skipif(not benchmarks_dir().is_dir(), reason="Curtois benchmark folder not found")


def _own_cost(inst, emp: str, shifts: dict[int, str]) -> int:
    on = sum(w for e, d, s, w in inst.on_requests if e == emp and shifts.get(d) != s)
    off = sum(w for e, d, s, w in inst.off_requests if e == emp and shifts.get(d) == s)
    return on + off


@curtois
@pytest.mark.parametrize("n", [4, 8, 14])
def test_dp_schedules_keep_the_rules_and_bound_cp_sat_from_below(n):
    text = instance_path(n).read_text()
    p, inst = load_document(text), read_instance(text)
    rng = random.Random(n)
    exact_seen = 0
    for e in rng.sample(range(len(p.employees)), 3):
        emp = p.employees[e].id
        dp = ScheduleDP.build(p, e)
        assert dp is not None
        pricer = _Pricer(p, e, use_dp=False)
        for _ in range(3):
            pi = [rng.choice([0.0, 0.0, 100.0, 60.0, -1.0, 1.0, 3.5]) for _ in p.covers]
            found, bound, exact = dp.price({ci: -pi[ci] for ci in pricer.cis})
            cols, _, optimal = pricer._cp_price(pi, 20.0, 1, lambda *a: None)
            assert optimal
            best = cols[-1][1] - sum(pi[ci] for ci in cols[-1][0])
            assert bound <= best + 1e-6
            for col, own in found:
                shifts = {p.covers[ci].day: p.covers[ci].shift for ci in col}
                assert len(shifts) == len(col)  # one shift a day
                ev = evaluate(inst, {(emp, d): s for d, s in shifts.items()})
                assert not [v for v in ev.violations if v.startswith(f"{emp}:")]
                assert own == _own_cost(inst, emp, shifts)
            if exact:
                exact_seen += 1
                col, own = found[-1]
                assert own - sum(pi[ci] for ci in col) == pytest.approx(best, abs=1e-6)
    assert exact_seen  # the comparison above ran


def _night_heavy_duals(p) -> list[float]:
    """Duals that pay for every N cover far beyond its own cost: the relaxed DP's best schedule then
    works more N shifts than Instance8's maximum of 4 allows."""
    return [100.0 if c.shift == "N" else (1.0 if c.day % 3 else 0.0) for c in p.covers]


@curtois
def test_a_broken_maximum_joins_the_state_and_makes_pricing_exact(monkeypatch):
    text = instance_path(8).read_text()
    p, inst = load_document(text), read_instance(text)
    e = 0  # A: at most 4 N shifts
    pi = _night_heavy_duals(p)
    pricer = _Pricer(p, e, use_dp=False)
    cover_cost = {ci: -pi[ci] for ci in pricer.cis}
    cols, _, optimal = pricer._cp_price(pi, 20.0, 1, lambda *a: None)
    best = cols[-1][1] - sum(pi[ci] for ci in cols[-1][0])
    assert optimal

    monkeypatch.setattr(schedule_dp, "MAX_TRACKED_VALUES", 0)  # no room to track: maxima stay relaxed
    relaxed = ScheduleDP.build(p, e)
    _, loose, exact = relaxed.price(cover_cost)
    assert not exact and loose < best - 1 and relaxed.tracked == []

    monkeypatch.undo()
    dp = ScheduleDP.build(p, e)
    found, bound, exact = dp.price(cover_cost)
    assert exact and dp.tracked == [0]
    assert bound == pytest.approx(best, abs=1e-6)
    col, own = found[-1]
    assert own - sum(pi[ci] for ci in col) == pytest.approx(best, abs=1e-6)
    shifts = {p.covers[ci].day: p.covers[ci].shift for ci in col}
    assert sum(s == "N" for s in shifts.values()) <= 4
    ev = evaluate(inst, {(p.employees[e].id, d): s for d, s in shifts.items()})
    assert not [v for v in ev.violations if v.startswith(f"{p.employees[e].id}:")]


@curtois
def test_enumeration_with_tracked_maxima_lists_what_cp_sat_does():
    p = load_document(instance_path(8).read_text())
    e, slack = 0, 3.0
    pi = _night_heavy_duals(p)
    pricer = _Pricer(p, e)
    cover_cost = {ci: -pi[ci] for ci in pricer.cis}
    _, bound, exact = pricer.dp.price(cover_cost)
    assert exact
    by_dp, complete = pricer.dp.enumerate(cover_cost, bound + slack, cap=5000, deadline=float("inf"))
    assert complete and by_dp and pricer.dp.tracked == [0]
    by_cp, cp_complete = pricer.cp_enumerate(pi, bound, slack, time_limit=30, cap=5000,
                                             register=lambda *a, **k: None)
    within = {col: cost for col, cost in by_cp.items()
              if cost - sum(pi[ci] for ci in col) - bound <= slack + 1e-6}
    assert cp_complete and within == {col: round(own) for col, own in by_dp.items()}


@curtois
def test_no_schedule_means_an_infinite_bound():
    text = instance_path(1).read_text().replace("A,D=14,4320,3360,5,2,2,1", "A,D=14,4800,4800,5,2,2,1")
    p = load_document(text)
    found, bound, exact = ScheduleDP.build(p, 0).price({})
    assert found == [] and bound == float("inf") and exact


def test_rules_the_dp_does_not_hold_leave_pricing_to_cp_sat():
    p = load_document(json.loads((REPO / "examples" / "ngrs_005.json").read_text()))
    assert any(r.rule == "momWeeklyHoursCap44h" for r in p.rules)
    assert ScheduleDP.build(p, 0) is None


@curtois
def test_dps_of_other_shapes_sharing_the_thread_scratch_price_as_alone(monkeypatch):
    # Instance14's employees track different per-type counts, so their state spaces differ in size and
    # shape; a state left over from another DP's pass would price a schedule below its cost
    p = load_document(instance_path(14).read_text())
    rng = random.Random(7)
    dps = [ScheduleDP.build(p, e) for e in (0, 5, 11)]
    costs = [{o.ci: rng.choice([0.0, -100.0, -60.0, 1.0, 3.5]) for day in dps[0].opts for o in day}
             for _ in range(4)]
    for cc in costs:  # the counts these costs make each DP track join its state first
        for dp in dps:
            dp.price(cc)
    shared = [(dp.price(cc)[1], dp._shape()) for cc in costs for dp in dps]
    alone = []
    for cc in costs:
        for dp in dps:
            monkeypatch.setattr(schedule_dp, "_SCRATCH", schedule_dp._Scratch())
            alone.append(dp.price(cc)[1])
    assert len({shape for _, shape in shared}) > 1
    assert [bound for bound, _ in shared] == pytest.approx(alone)
