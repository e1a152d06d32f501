"""Branch-and-price (`service/solver/branch.py`): its branching rules reach pricing exactly, its rosters
pass the independent Curtois evaluator, and a settled tree is a proof (Instance7's optimum, 1056, is
proven in the literature)."""

from __future__ import annotations

import math
import time

import pytest

from service.solver.branch import BranchAndPrice, _Node
from service.solver.colgen import ColumnGeneration
from service.solver.formats import load_document
from tests.solver.curtois.evaluator import BEST_KNOWN, instance_path
from tests.solver.test_colgen import _evaluate, curtois


def _converged(n: int):
    text = instance_path(n).read_text()
    p = load_document(text)
    cg = ColumnGeneration(p)
    assert cg.run(deadline=time.monotonic() + 60).converged
    return cg, p, text


def _search(cg, upper: float, seconds: float = 60.0):
    best = {"value": upper, "roster": None}

    def found(roster, value):
        assert value < best["value"]  # only rosters better than the incumbent are offered
        best.update(value=value, roster=roster)

    bp = BranchAndPrice(cg, incumbent=lambda: best["value"], found=found)
    return bp, bp.run(deadline=time.monotonic() + seconds), best


@curtois
@pytest.mark.slow
def test_from_an_incumbent_of_1058_it_finds_instance7s_optimum_and_proves_it():
    cg, p, text = _converged(7)
    assert math.ceil(cg.lp_value) < BEST_KNOWN[7]  # the LP alone proves nothing here
    bp, res, best = _search(cg, 1058)
    assert res.exhausted and res.rosters >= 1 and res.bound == BEST_KNOWN[7]
    assert best["value"] == BEST_KNOWN[7]
    ev = _evaluate(text, p, best["roster"])
    assert ev.feasible and ev.objective == BEST_KNOWN[7]
    assert bp.objective(best["roster"]) == BEST_KNOWN[7]
    # what it priced joins the full master, which nothing was left bounded in
    assert all(v.ub() > 0 for cols in cg.master.columns.values() for v, _ in cols.values())


@curtois
@pytest.mark.slow
def test_with_the_optimum_as_incumbent_it_settles_the_tree_and_offers_nothing():
    cg, _, _ = _converged(7)
    _, res, best = _search(cg, BEST_KNOWN[7])
    assert res.exhausted and res.rosters == 0 and best["roster"] is None
    # the first level looks for a roster at the LP's rounded value (1055); settling it proves 1056
    assert res.bound == BEST_KNOWN[7] and res.levels == 0


@curtois
@pytest.mark.slow
def test_its_bound_rests_on_its_own_rosters_not_on_what_the_caller_made_of_them():
    cg, p, text = _converged(7)
    offers = []
    bp = BranchAndPrice(cg, incumbent=lambda: 1200, found=lambda r, v: offers.append((v, r)))
    res = bp.run(deadline=time.monotonic() + 60)
    # the caller's incumbent never falls, yet no level passes the roster it was offered
    assert res.exhausted and res.bound == BEST_KNOWN[7] and res.levels >= 1
    value, roster = min(offers, key=lambda o: o[0])
    assert value == BEST_KNOWN[7] and _evaluate(text, p, roster).objective == BEST_KNOWN[7]


@curtois
def test_branching_rules_reach_pricing():
    cg, p, _ = _converged(1)
    bp = BranchAndPrice(cg, incumbent=lambda: None, found=lambda r, v: None)
    e = 0
    days = bp._day_covers(e)
    d, group = next((d, g) for d, g in sorted(days.items()) if len(g) >= 1)
    duals = [0.0] * len(p.covers)
    # forced to work day d: every schedule priced works one of that day's covers
    bp._apply(_Node(forced=frozenset({(e, group)})))
    found, bound, optimal = bp._price(e, duals, time.monotonic() + 10, True)
    assert optimal and found and all(col & group for col, _ in found)
    # off that day: none works it
    bp._apply(_Node(forbidden=frozenset((e, ci) for ci in group)))
    found, bound_off, optimal = bp._price(e, duals, time.monotonic() + 10, True)
    assert optimal and found and not any(col & group for col, _ in found)
    # the unconstrained minimum is the lower of the two sides
    bp._apply(_Node())
    _, free, _ = bp._price(e, duals, time.monotonic() + 10, True)
    assert free == pytest.approx(min(bound, bound_off))
    # both at once: no schedule, which the bound says
    ci = next(iter(group))
    bp._apply(_Node(forced=frozenset({(e, frozenset({ci}))}), forbidden=frozenset({(e, ci)})))
    found, bound, _ = bp._price(e, duals, time.monotonic() + 10, True)
    assert found == [] and bound == math.inf


@curtois
def test_the_objective_it_offers_is_the_evaluators():
    cg, p, text = _converged(1)
    bp = BranchAndPrice(cg, incumbent=lambda: None, found=lambda r, v: None)
    roster = {(e, ci): 1 for e in range(len(p.employees)) for ci in cg.master.heaviest(e)[1]}
    ev = _evaluate(text, p, roster)
    assert ev.feasible and bp.objective(roster) == ev.objective
