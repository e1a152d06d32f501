"""Branch-and-price: a depth-first search over column generation's master (`colgen.py`), each node's LP
re-converged by pricing under that node's branching rules. It finds the rosters just above the LP
bound, where the LNS and the pool programs stall, and, once the tree is settled, proves the incumbent
optimal. Curtois Instance7 (LP 1054.08, optimum 1056): the LNS ends at 1058-1060 in 60 s, SCIP over the
45,033 schedules within 0.92 of their minima at 1059 after 100 s, CP-SAT over them with nothing in
120 s; from an incumbent of 1058 this search finds 1056 and settles the tree in 17 nodes, 1.7 s.

It branches first on whether an employee works a day at all (the most fractional), then on single
assignments. Assignments alone, most fractional or nearest to one first, found no roster below 1058 in
60 s (705 and 842 nodes): a forced assignment moves the LP too little. Each node also rounds its LP
(each employee's heaviest schedule, then best responses) for rosters on the way down.

The rules reach pricing as cover costs: a forbidden cover costs a big amount (`_big`: beyond any
schedule's reduced cost), a forced group earns it, so the schedule DP (or CP-SAT) needs no change; a bound
still half of it above the least reduced cost says the rules leave that employee no schedule. Why by hand: OR-Tools has no branch-and-price, and a generic one
(e.g. SCIP's pricer plugins) cannot reach our schedule DP from Python.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from service.solver.colgen import RC_EPS, Column, ColumnGeneration

FRACTIONAL = 1e-6
ROUNDING = True  # a roster by best responses from each fractional node's heaviest schedules
ROUNDING_SECONDS = 0.5  # at most, for those best responses

_NO_RULES: tuple[frozenset, frozenset] = (frozenset(), frozenset())


@dataclass(frozen=True)
class _Node:
    # (employee, covers) of which the employee works one: one cover, or every cover of theirs on a day
    forced: frozenset[tuple[int, frozenset[int]]] = frozenset()
    forbidden: frozenset[tuple[int, int]] = frozenset()  # (employee, cover index) not worked

    def rules(self, e: int) -> tuple[frozenset[frozenset[int]], frozenset[int]]:
        return (frozenset(g for ee, g in self.forced if ee == e),
                frozenset(ci for ee, ci in self.forbidden if ee == e))


@dataclass
class BranchResult:
    nodes: int = 0
    rosters: int = 0  # rosters offered (integral nodes and roundings better than the incumbent)
    exhausted: bool = False  # every node settled: nothing better than the final incumbent exists
    bound: float | None = None  # no roster lies below it (the last level settled)
    levels: int = 0  # levels settled below the incumbent
    seconds: float = 0.0
    max_depth: int = 0
    stats: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class BranchAndPrice:
    """`incumbent()` is the best objective known (it may fall while the search runs, e.g. from the LNS);
    `found(roster, objective)` receives each roster ({(employee, cover index): 1}) better than it, and
    `settled(bound)` each bound proven as a level settles."""

    def __init__(self, cg: ColumnGeneration, *, incumbent: Callable[[], float | None],
                 found: Callable[[dict[tuple[int, int], int], float], None],
                 settled: Callable[[float], None] = lambda bound: None):
        self.cg = cg
        self.p = cg.p
        self.incumbent = incumbent
        self.found = found
        self.settled = settled
        self.E = len(self.p.employees)
        self.applied: dict[int, tuple[frozenset[frozenset[int]], frozenset[int]]] = {}
        self.days: dict[int, dict[int, frozenset[int]]] = {}  # employee -> day -> the covers they may work
        self.level = math.inf
        self.offered = math.inf
        self.own_max: dict[int, float] = {}  # employee -> the most their own penalties can add up to

    def run(self, *, deadline: float) -> BranchResult:
        """Depth first, by rising levels, until the incumbent is proven, the deadline or a stop: a level
        prunes every node whose bound reaches it, so the tree it settles is small, and settling it
        proves that no roster lies below it (`BranchResult.bound`); the next level is one higher. The
        first level is the LP's rounded value + 1: a roster at the LP's rounded value is looked for
        first. One deep tree pruned by the incumbent alone is slow to come back from a wrong turn
        (Curtois Instance7 from 1058: settled in 57 nodes in one run, unsettled after 192 in the next).
        The search works in a smaller master (`ColumnGeneration._dive_master`); what it priced joins
        the full one after."""
        res = BranchResult()
        t0 = time.monotonic()
        with self.cg._in_dive_master() as small:
            if small is None:
                return res
            self.applied = {}
            self.level = math.ceil(self.cg.lp_value - 1e-6) + 1 if self.cg.lp_value is not None else math.inf
            while True:
                if not self._settle(deadline, res):
                    break
                res.bound = min(self.level, self._incumbent())  # nothing below what pruned the tree
                self.settled(res.bound)
                if self.level >= self._incumbent():
                    res.exhausted = True
                    break
                self.level += 1
                res.levels += 1
        res.seconds = time.monotonic() - t0
        return res

    def _settle(self, deadline: float, res: BranchResult) -> bool:
        """One depth-first tree pruned at `_upper()`; False when the deadline or a stop cut it."""
        stack: list[tuple[_Node, int]] = [(_Node(), 0)]
        while stack:
            if self.cg.should_stop() or time.monotonic() >= deadline:
                return False
            node, depth = stack.pop()
            res.nodes += 1
            res.max_depth = max(res.max_depth, depth)
            children = self._process(node, deadline, res)
            if children is None:  # cut by the deadline or a stop: the tree is not settled
                return False
            stack.extend((c, depth + 1) for c in children)
        return True

    def _incumbent(self) -> float:
        """The caller's incumbent, or the best roster offered when lower (a bound must not depend on
        what the caller made of an offer)."""
        u = self.incumbent()
        return min(self.offered, math.inf if u is None else u)

    def _upper(self) -> float:
        """What prunes: the incumbent, or the level when lower."""
        return min(self._incumbent(), self.level)

    def _offer(self, roster: dict[tuple[int, int], int], value: float, res: BranchResult) -> None:
        if value < self._incumbent() - 1e-9:
            res.rosters += 1
            self.offered = value
            self.found(roster, value)

    # ------------------------------------------------------------------------------- one node
    def _process(self, node: _Node, deadline: float, res: BranchResult) -> list[_Node] | None:
        """Converge the node's LP (pricing under its rules); offer an integral optimum; return the
        children to explore (none when the node is pruned or integral), or None when cut short."""
        cg, m = self.cg, self.cg.master
        self._apply(node)
        zero = [0.0] * len(self.p.covers)
        for e in range(self.E):
            if not any(v.ub() > 0 for v, _ in m.columns[e].values()):
                found, bound, _ = self._price(e, zero, deadline, True)
                if bound == math.inf:
                    res.stats["infeasible"] += 1
                    return []
                if not found:
                    return None
                m.add(e, *found[-1])
        exact = False
        while True:
            if cg.should_stop() or time.monotonic() >= deadline:
                return None
            solved = cg._solve_master()  # (a fresh master when GLOP fails on this one)
            m = cg.master
            if solved is None:
                return None
            lp, pi, mu = solved
            lagrangian = cg._dual_part(pi)
            added = 0
            proven = True
            for e in range(self.E):
                if cg.should_stop() or time.monotonic() >= deadline:
                    return None
                found, bound, optimal = self._price(e, pi, deadline, exact)
                if bound == math.inf:
                    res.stats["infeasible"] += 1
                    return []
                proven = proven and optimal
                lagrangian += bound
                for col, cost in found:
                    if cost - sum(pi[ci] for ci in col) - mu[e] < -RC_EPS and m.add(e, col, cost):
                        added += 1
            if math.ceil(lagrangian - 1e-6) >= self._upper() - 1e-9:
                res.stats["pruned_bound"] += 1
                return []
            if added == 0:
                if proven:
                    break
                if exact:  # pricing could not prove this LP optimal: the node stays open
                    return None
                exact = True
            else:
                exact = False
        if math.ceil(lp - 1e-6) >= self._upper() - 1e-9:
            res.stats["pruned_lp"] += 1
            return []
        children = self._branch(node)
        if not children:
            res.stats["integral"] += 1
            roster = {(e, ci): 1 for e in range(self.E) for ci in m.heaviest(e)[1]}
            value = self.objective(roster)  # the LP's value, unless it pays for a hard maximum broken
            if value is None:
                return None  # no roster, and nothing left to branch on: the node cannot be settled
            self._offer(roster, value, res)
            return []
        if ROUNDING:
            self._round(deadline, res)
        return children

    def _apply(self, node: _Node) -> None:
        """Bound the master's columns by the node's rules (only employees whose rules changed)."""
        m = self.cg.master
        for e in range(self.E):
            rules = node.rules(e)
            if self.applied.get(e, _NO_RULES) == rules:
                continue
            self.applied[e] = rules
            for col, (v, _) in m.columns[e].items():
                v.SetBounds(0, m.lp.infinity() if self._allowed(e, col) else 0)

    def _allowed(self, e: int, col: Column) -> bool:
        forced, forbidden = self.applied.get(e, _NO_RULES)
        return all(g & col for g in forced) and not (forbidden & col)

    def _price(self, e: int, pi: list[float], deadline: float, exact: bool
               ) -> tuple[list[tuple[Column, int]], float, bool]:
        """Employee e's pricing under the node's rules: (schedules, lower bound on their least reduced
        cost, proven), the bound inf when the rules leave e no schedule. A column works at most one
        cover a day, so it earns each forced group's gain at most once; a forbidden cover costs more
        than all those gains together."""
        forced, forbidden = self.applied.get(e, _NO_RULES)
        big = 0.0
        if forced or forbidden:
            big = self._big(e, pi)
            pi = list(pi)
            for g in forced:
                for ci in g:
                    pi[ci] += big
            for ci in forbidden:
                pi[ci] -= big * (len(forced) + 1)
        found, bound, optimal = self.cg._price(e, pi, deadline, exact)
        bound += big * len(forced)
        if (forced or forbidden) and bound >= big / 2:
            return [], math.inf, True
        return [(col, cost) for col, cost in found if self._allowed(e, col)], bound, optimal

    def _big(self, e: int, pi: list[float]) -> float:
        """Four times the largest reduced cost any schedule of e can have under `pi` (own penalties at
        their most, every dual of theirs counted): a rule's cost or gain then outweighs any schedule, and a
        bound above half of it can only come from one that breaks a rule."""
        pr = self.cg._pricer(e)
        own = self.own_max.get(e)
        if own is None:
            proto = pr.model.proto
            # a negative index is a negated literal (0 or 1)
            own = self.own_max[e] = float(sum(
                abs(t.weight) * (1 if t.var.index < 0 else max(abs(v) for v in proto.variables[t.var.index].domain))
                for t in pr.terms))
        return 4.0 * (1.0 + own + sum(abs(pi[ci]) for ci in pr.cis))

    # ------------------------------------------------------------------------------ branching
    def _day_covers(self, e: int) -> dict[int, frozenset[int]]:
        out = self.days.get(e)
        if out is None:
            by_day: dict[int, set[int]] = defaultdict(set)
            for ci in self.cg._pricer(e).cis:
                by_day[self.p.covers[ci].day].add(ci)
            out = self.days[e] = {d: frozenset(c) for d, c in by_day.items()}
        return out

    def _branch(self, node: _Node) -> list[_Node]:
        """Children of a fractional node, the one to explore first last: on the employee-day worked
        (some cover that day, or none) most fractional, else on the assignment most fractional; first
        the side the LP leans to. None when the LP is integral."""
        m = self.cg.master
        cell: dict[tuple[int, int], float] = defaultdict(float)
        for e in range(self.E):
            for w, col in m.weights(e):
                if w > FRACTIONAL:
                    for ci in col:
                        cell[(e, ci)] += w
        day: dict[tuple[int, int], float] = defaultdict(float)
        for (e, ci), w in cell.items():
            day[(e, self.p.covers[ci].day)] += w
        frac_days = [(abs(w - 0.5), key, w) for key, w in day.items() if FRACTIONAL < w < 1 - FRACTIONAL]
        if frac_days:
            _, (e, d), w = min(frac_days)
            group = self._day_covers(e)[d]
            on = _Node(node.forced | {(e, group)}, node.forbidden)
            off = _Node(node.forced, node.forbidden | {(e, ci) for ci in group})
        else:
            frac = [(abs(w - 0.5), key, w) for key, w in cell.items() if FRACTIONAL < w < 1 - FRACTIONAL]
            if not frac:
                return []
            _, (e, ci), w = min(frac)
            on = _Node(node.forced | {(e, frozenset({ci}))}, node.forbidden)
            off = _Node(node.forced, node.forbidden | {(e, ci)})
        return [off, on] if w >= 0.5 else [on, off]

    # ------------------------------------------------------------------------------- rounding
    def _round(self, deadline: float, res: BranchResult) -> None:
        """A roster near the node's LP: each employee's heaviest schedule, then best responses
        (`ColumnGeneration.best_responses`); offered when it beats the incumbent."""
        m = self.cg.master
        roster = {(e, ci): 1 for e in range(self.E) for ci in m.heaviest(e)[1]}
        roster = self.cg.best_responses(roster, deadline=min(deadline, time.monotonic() + ROUNDING_SECONDS))
        value = self.objective(roster)
        res.stats["rounded"] += 1
        if value is not None:
            self._offer(roster, value, res)

    def objective(self, roster: dict[tuple[int, int], int]) -> float | None:
        """The roster's objective: own penalties (each schedule priced by its employee's model) plus
        the covers' shortfall and surplus penalties; None when a schedule breaks its employee's rules."""
        total = 0.0
        filled = [0] * len(self.p.covers)
        for e, col in self.cg._schedules(roster).items():
            cost = self._cost(e, col)
            if cost is None:
                return None
            total += cost
            for ci in col:
                filled[ci] += 1
        for c, n in zip(self.p.covers, filled):
            total += c.under_weight * max(0, c.required - n)
            if n > c.required:
                if c.over_weight is None:
                    return None
                total += c.over_weight * (n - c.required)
        return total

    def _cost(self, e: int, col: Column) -> int | None:
        known = self.cg.master.columns[e].get(col)
        if known is not None:
            return known[1]
        cost = self.cg._pricer(e).cost(col)
        if cost is not None:
            self.cg.master.add(e, col, cost)
            self.applied.pop(e, None)  # the new column's bounds follow the node's rules at the next `_apply`
        return cost
