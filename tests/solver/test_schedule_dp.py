"""The pricing DP (`service/solver/schedule_dp.py`): its schedules keep every hard rule (checked by the
independent Curtois evaluator), its own costs are the requests' penalties, its value bounds CP-SAT's
optimum from below and equals it whenever the DP says it is exact."""

from __future__ import annotations

import json
import random

import numpy as np
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


def _no_room_to_track(monkeypatch) -> None:
    """Neither forward pass holds a tracked count: maxima stay relaxed."""
    monkeypatch.setattr(schedule_dp, "MAX_TRACKED_VALUES", 0)
    monkeypatch.setattr(schedule_dp, "MAX_SPARSE_ENTRIES", 100)
    monkeypatch.setattr(schedule_dp, "_SPARSE", schedule_dp._SparseScratch())


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

    _no_room_to_track(monkeypatch)
    relaxed = ScheduleDP.build(p, e)
    _, loose, exact = relaxed.price(cover_cost)
    assert not exact and loose < best - 1 and relaxed.tracked == [] and relaxed.untrackable == {0}

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


@curtois
@pytest.mark.parametrize("n, e", [(8, 0), (14, 6)])
def test_the_sparse_pass_prices_as_the_dense_one(monkeypatch, n, e):
    # tracked counts beyond `MAX_TRACKED_VALUES` go to the sparse pass; on these small horizons both
    # passes run, and must agree on the bound, on exactness and on every schedule's value
    p = load_document(instance_path(n).read_text())
    rng = random.Random(n)
    pi = _night_heavy_duals(p)
    dense, sparse = ScheduleDP.build(p, e), ScheduleDP.build(p, e)
    for trial in range(4):
        cover_cost = {o.ci: -pi[o.ci] * rng.choice([0.5, 1.0, 2.0]) for day in dense.opts for o in day}
        a = dense.price(cover_cost)
        monkeypatch.setattr(schedule_dp, "MAX_TRACKED_VALUES", 0)
        b = sparse.price(cover_cost)
        monkeypatch.undo()
        assert a[1] == pytest.approx(b[1]) and a[2] == b[2]
        assert [own + sum(cover_cost[ci] for ci in col) for col, own in a[0]] == pytest.approx(
            [own + sum(cover_cost[ci] for ci in col) for col, own in b[0]])
    assert dense.tracked and dense.tracked == sparse.tracked  # so the sparse one ran with a count tracked


@curtois
def test_instance19s_night_maximum_is_tracked_by_the_sparse_pass():
    # the case the sparse pass is for: A's N count (at most 12) over 84 days is 94 M states densely,
    # beyond `MAX_TRACKED_VALUES`; before it, every pricing whose best path broke the maximum went to
    # CP-SAT and column generation did not converge in its 240 s
    text = instance_path(19).read_text()
    p, inst = load_document(text), read_instance(text)
    e = 0
    pi = _night_heavy_duals(p)
    pricer = _Pricer(p, e)
    found, bound, exact = pricer.dp.price({ci: -pi[ci] for ci in pricer.cis})
    assert exact and pricer.dp.tracked == [0] and not pricer.dp._dense([0])
    col, own = found[-1]
    assert own - sum(pi[ci] for ci in col) == pytest.approx(bound)
    shifts = {p.covers[ci].day: p.covers[ci].shift for ci in col}
    assert sum(s == "N" for s in shifts.values()) == 12  # the duals pay for every N it may work
    ev = evaluate(inst, {(p.employees[e].id, d): s for d, s in shifts.items()})
    assert not [v for v in ev.violations if v.startswith(f"{p.employees[e].id}:")]
    cols, cp_bound, _ = _Pricer(p, e, use_dp=False)._cp_price(pi, 30.0, 1, lambda *a: None)
    assert cp_bound <= bound + 1e-6  # CP-SAT's bound cannot pass the optimum the DP claims
    assert bound <= cols[-1][1] - sum(pi[ci] for ci in cols[-1][0]) + 1e-6  # nor its best schedule go below


@curtois
@pytest.mark.parametrize("n", [8, 19])
def test_dropping_states_that_cannot_reach_the_minimum_minutes_changes_no_price(n):
    p = load_document(instance_path(n).read_text())
    rng = random.Random(n)
    for e in rng.sample(range(len(p.employees)), 3):
        pruned, full = ScheduleDP.build(p, e), ScheduleDP.build(p, e)
        full._need = full._need * 0  # every state may still reach the minimum
        assert pruned._need.max() > 0
        for _ in range(2):
            cover_cost = {o.ci: rng.choice([0.0, -100.0, -60.0, 1.0, 3.5]) for day in pruned.opts for o in day}
            a = pruned.price(cover_cost)
            reached_pruned = int(schedule_dp._SCRATCH.n_reached.sum())
            b = full.price(cover_cost)
            reached_full = int(schedule_dp._SCRATCH.n_reached.sum())
            assert a[1] == pytest.approx(b[1]) and a[2] == b[2]
            assert [own + sum(cover_cost[ci] for ci in col) for col, own in a[0]] == pytest.approx(
                [own + sum(cover_cost[ci] for ci in col) for col, own in b[0]])
            if not pruned.tracked:  # both passes were dense: the pruned one reached fewer states
                assert reached_pruned < reached_full


@curtois
@pytest.mark.parametrize("n", [8, 13])
def test_pruning_tracked_passes_by_the_cost_to_go_changes_no_price(monkeypatch, n):
    # once counts are tracked, a pass enters only states within a slack of the relaxed optimum by
    # `backward`'s cost to go, widening it when nothing ends there; the same DP with that slack
    # infinite from the start must price alike
    p = load_document(instance_path(n).read_text())
    rng = random.Random(n)
    tracked_seen = narrowed = 0
    for e in rng.sample(range(len(p.employees)), 4):
        pruned, full = ScheduleDP.build(p, e), ScheduleDP.build(p, e)
        capped = {o.shift for day in pruned.opts for o in day if o.kind >= 0}
        for _ in range(3):
            # paying most for the capped types makes the relaxed best path break their maxima
            cover_cost = {o.ci: -rng.choice([100.0, 60.0]) if o.shift in capped else -rng.choice([0.0, 1.0, 30.0])
                          for day in pruned.opts for o in day}
            a = pruned.price(cover_cost)
            monkeypatch.setattr(schedule_dp, "PRUNE_UNTIL", -1.0)
            b = full.price(cover_cost)
            monkeypatch.setattr(schedule_dp, "PRUNE_UNTIL", 1e4)
            assert a[1] == pytest.approx(b[1]) and a[2] == b[2]
            assert a[0] and b[0]
            value = [own + sum(cover_cost[ci] for ci in col) for col, own in (a[0][-1], b[0][-1])]
            assert value[0] == pytest.approx(value[1])
            tracked_seen += bool(pruned.tracked)
            if pruned.tracked:
                cost = [[o.own + cover_cost.get(o.ci, 0.0) for o in day] for day in pruned.opts]
                relaxed = pruned._best_ends(cost, 1, tracked=[])[0][-1]
                narrowed += a[1] - pruned.constant > relaxed + 1e-6  # the tracked optimum lies above it
    assert tracked_seen and narrowed


@curtois
def test_the_cost_to_go_from_the_start_is_the_relaxed_optimum():
    p = load_document(instance_path(13).read_text())
    rng = random.Random(13)
    for e in (0, 57, 88):
        dp = ScheduleDP.build(p, e)
        cost = [[o.own - rng.uniform(0, 100) for o in day] for day in dp.opts]
        values, _ = dp._best_ends(cost, 1, tracked=[])
        reached = dp._values.copy()
        togo = dp._togo(cost)
        assert togo[0, 0] == pytest.approx(values[-1])
        # every reached state's value plus its cost to go bounds the optimum from above, and the best
        # ones meet it; states the forward pass did not reach get no cost to go
        total = reached + togo
        assert np.nanmin(np.where(np.isfinite(total), total, np.nan), axis=1) == pytest.approx(
            np.full(dp.H + 1, values[-1]))
        assert np.isinf(togo[~np.isfinite(reached)]).all()
