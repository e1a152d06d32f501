"""Column generation (Dantzig-Wolfe decomposition by employee) for problems whose rules are per employee.

The master LP chooses, for every employee, a convex combination of whole-horizon schedules ("columns");
each cover row counts the people a combination puts on that cover, with shortfall and surplus slacks paid
at the cover's weights. Pricing finds one employee's schedule of least reduced cost under the cover duals:
a CP-SAT solve of a one-employee model built by the same rule functions as the whole model
(`build(..., skip_core=("cover",))`), so every column obeys exactly the rules the roster must, and its
cost is that employee's own penalties (requests, soft rules). What the search gets from it:

- a **lower bound**, the Lagrangian bound of the current duals, valid at every iteration and equal to the
  LP value once no column prices out. It is far stronger than CP-SAT's bound on the whole model, because
  it sees each employee's rules as a whole (Curtois Instance8: 1297 against CP-SAT's 1250, optimum 1300);
- a **roster** whenever the LP optimum is integral (Curtois Instance4: the LP optimum 1716 is the
  proven optimum), and otherwise a **dive**: fix the schedule the LP weights most, re-price the others,
  repeat until everybody has one;
- a **proof** where the pool can be made complete: under the duals of the best pricing round, every
  schedule whose reduced cost lies within (incumbent - 1 - Lagrangian bound) of its employee's minimum
  is enumerated (`near_optimal_columns`); the restricted master as an integer program over that pool
  (`best_combination`, SCIP) then finds the optimum, or shows that the incumbent is one.

Only for `construct.separable` problems: then any set of individually feasible schedules is a feasible
roster, so columns combine freely. Covers without a surplus weight (hard maxima) keep their surplus in
the LP as a heavily priced artificial, which only the master sees; the bound treats them as hard.

Why by hand: no maintained Python library does branch-and-price style decomposition on top of a
CP-SAT model (OR-Tools has the LP solver, GLOP, used here for the master, and CP-SAT for pricing, but
no column generation loop), and the pricing must reuse our own rule functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from service.solver import rules as rule_registry
from service.solver.model import Cover, Problem, RuleSpec
from service.solver.schedule_dp import ScheduleDP

# CP-SAT takes integer coefficients: duals are priced in thousandths (the rounding is bounded and
# subtracted from the lower bound, so the bound stays valid).
SCALE = 1000
# Reduced cost below which a column enters the master.
RC_EPS = 1e-6
# Time limit of a pricing solve while columns keep coming (then exact, up to 2 s).
FAST_PRICING_SECONDS = 0.05
# Price of a surplus person on a cover that forbids surplus, in the master LP only.
ARTIFICIAL_WEIGHT = 1e7
# Most schedules `near_optimal_columns` pools in all (SCIP proved the Instance5 pool of 5,080 optimal in
# 5.5 s), and the least excess reduced cost it halves down to when there are more.
POOL_CAP = 8000
MIN_POOL_EXCESS = 0.25
# Most schedules `restricted_model` hands CP-SAT (Curtois Instance6 within 1.0 of the minima: 109,420,
# presolved in ~8 s; Instance7 within 1.92: 327,907, 18.6 s to enumerate and no roster in 100 s).
RESTRICT_CAP = 150_000
# Schedules an employee's enumeration for it may reach, those over a per-type maximum included (one
# Instance6 employee reaches over 4 for each it lists).
RESTRICT_WALK = 2_000_000
# The penalty terms of the whole model that belong to no employee in a separable problem.
COVER_TERMS = frozenset({"coverShortfall", "coverSurplus"})
# Columns of least reduced cost per employee that a dive starts from (plus those the LP uses).
DIVE_COLUMNS = 25

RegisterFn = Callable[..., None]
Column = frozenset  # original cover indices worked by one employee


@dataclass
class ColumnGenerationResult:
    lower_bound: float | None  # valid for the whole problem's objective
    lp_value: float | None
    converged: bool
    iterations: int
    columns: int
    pricing_solves: int
    seconds: float


def _clause_rules(rules: tuple[RuleSpec, ...]) -> tuple[RuleSpec, ...]:
    """A hard `runPattern` as its three separate rules (the same schedules): one employee's automaton
    made pricing far slower than the clauses (Curtois Instance8: minutes instead of ~50 ms a solve)."""
    out: list[RuleSpec] = []
    for r in rules:
        if r.hard and rule_registry.canonical(r.rule) == "runPattern":
            for pos, rid in enumerate(("maxConsecutiveWorkingDays", "minConsecutiveWorkingDays",
                                       "minConsecutiveDaysOff")):
                params = {e: v[pos] for e, v in r.params.items() if v is not None and v[pos] is not None}
                out.append(RuleSpec(rid, True, r.weight, params, r.source))
        else:
            out.append(r)
    return tuple(out)


@dataclass
class _Round:
    """One pricing round: columns added, the Lagrangian bound of its duals, whether every employee was
    priced (`complete`) and every pricing solved to optimality (`exact`)."""

    lagrangian: float
    pi: list[float] = dataclasses.field(default_factory=list)
    bounds: dict[int, float] = dataclasses.field(default_factory=dict)  # min reduced cost by employee
    added: int = 0
    exact: bool = True
    complete: bool = True


class _Pricer:
    """One employee's pricing model: their rules and own penalties, covers as plain variables."""

    def __init__(self, problem: Problem, e: int, *, use_dp: bool = True):
        from service.solver.builder import build

        p = problem
        self.e = e
        self.cis = [ci for ci, c in enumerate(p.covers) if e in c.eligible and (e, c.day) not in p.days_off]
        covers = tuple(Cover(p.covers[ci].id, p.covers[ci].day, p.covers[ci].shift, 0, (0,), 0, 0)
                       for ci in self.cis)
        rules = tuple(dataclasses.replace(r, params={0: r.params[e]} if e in r.params else {})
                      for r in _clause_rules(p.rules))
        requests = tuple(dataclasses.replace(r, employee=0) for r in p.requests if r.employee == e)
        days_off = frozenset((0, d) for (ee, d) in p.days_off if ee == e)
        sub = dataclasses.replace(p, name=f"{p.name}[pricing {e}]", employees=(p.employees[e],), covers=covers,
                                  rules=rules, requests=requests, days_off=days_off, metadata={})
        ctx = build(sub, skip_core=("cover",))
        self.model = ctx.model
        self.xs = [ctx.x[(0, si)] for si in range(len(self.cis))]
        self.terms = [t for t in ctx.terms if t.weight]
        # a column works at most one cover a day: the most covers it can hold
        self.max_covers = len({p.covers[ci].day for ci in self.cis})
        self.last: Column | None = None
        self.dp = ScheduleDP.build(p, e) if use_dp else None

    def cost(self, col: Column) -> int | None:
        """This employee's own penalties on schedule `col`, or None when it breaks their rules."""
        proto = self.model.proto
        self.model.minimize(sum(t.weight * t.var for t in self.terms))
        self.model.clear_hints()
        saved = [(x.index, list(proto.variables[x.index].domain)) for x in self.xs]
        for ci, x in zip(self.cis, self.xs):
            v = 1 if ci in col else 0
            dom = proto.variables[x.index].domain
            dom[0] = v
            dom[1] = v
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 5.0
        try:
            status = solver.solve(self.model)
        finally:
            for idx, dom in saved:
                d = proto.variables[idx].domain
                d[0] = dom[0]
                d[1] = dom[-1]
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return int(round(solver.objective_value))

    def price(self, pi: list[float], *, exact: bool, time_limit: float, seed: int, register: RegisterFn
              ) -> tuple[list[tuple[Column, int]], float, bool]:
        """Schedules found (covers worked, own cost), best last; a lower bound on min(own cost - pi .
        covers) over this employee's schedules; and whether the last schedule is proven to reach it.
        The DP (when the rules allow it) prices first; CP-SAT when `exact` and the DP proved nothing,
        or when there is no DP."""
        found: list[tuple[Column, int]] = []
        bound = -math.inf
        if self.dp is not None:
            cols, bound, dp_exact = self.dp.price({ci: -pi[ci] for ci in self.cis})
            found = [(col, int(round(cost))) for col, cost in cols]
            if dp_exact:  # (also when no schedule exists: bound inf)
                if found:
                    self.last = found[-1][0]
                return found, bound, True
        more, cp_bound, optimal = self._cp_price(pi, 2.0 if exact else time_limit, seed, register)
        return found + more, max(bound, cp_bound), optimal

    def _scaled_reduced_cost(self, pi: list[float]):
        """Own cost - pi . covers, in thousandths with the duals rounded (CP-SAT takes integers)."""
        coef = [int(round(-pi[ci] * SCALE)) for ci in self.cis]
        return sum(SCALE * t.weight * t.var for t in self.terms) + sum(c * x for c, x in zip(coef, self.xs) if c)

    def _cp_price(self, pi: list[float], time_limit: float, seed: int, register: RegisterFn
                  ) -> tuple[list[tuple[Column, int]], float, bool]:
        m = self.model
        m.minimize(self._scaled_reduced_cost(pi))
        m.clear_hints()
        if self.last is not None:
            for ci, x in zip(self.cis, self.xs):
                m.add_hint(x, 1 if ci in self.last else 0)
        found: list[tuple[Column, int]] = []
        cis, xs, terms = self.cis, self.xs, self.terms

        class Collect(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                col = frozenset(ci for ci, x in zip(cis, xs) if self.boolean_value(x))
                found.append((col, sum(t.weight * int(self.value(t.var)) for t in terms)))

        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.01, time_limit)
        solver.parameters.random_seed = seed
        register(solver)
        try:
            status = solver.solve(m, Collect())
        finally:
            register(solver, False)
        if found:
            self.last = found[-1][0]
        if status == cp_model.INFEASIBLE:
            return found, math.inf, True
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return found, -math.inf, False
        # CP-SAT priced the rounded duals: its bound, less the rounding (at most half a thousandth per
        # cover worked), bounds the true minimum
        bound = solver.best_objective_bound / SCALE - 0.5 * self.max_covers / SCALE
        return found, bound, status == cp_model.OPTIMAL


    def enumerate(self, pi: list[float], floor: float, slack: float, *, time_limit: float, cap: int,
                  register: RegisterFn, walk: int | None = None) -> tuple[dict[Column, int], bool]:
        """Every schedule of reduced cost own cost - pi . covers - `floor` at most `slack` (`floor` a
        lower bound on that minimum, e.g. the pricing bound), with its least own cost; and whether
        the list is complete (not cut by `cap` schedules or the time limit). By the schedule DP
        when this employee has one (exact, and far faster: Curtois Instance5, every schedule within 2
        of each employee's minimum: 13,211 in 1.3 s by the DP, the same sets in 128 s by CP-SAT, one
        employee of 16 still cut off at 30 s), else by CP-SAT."""
        if self.dp is not None:
            cols, complete = self.dp.enumerate({ci: -pi[ci] for ci in self.cis}, floor + slack, cap=cap, walk=walk,
                                               deadline=time.monotonic() + time_limit)
            return {col: int(round(own)) for col, own in cols.items()}, complete
        return self.cp_enumerate(pi, floor, slack, time_limit=time_limit, cap=cap, register=register)

    def cp_enumerate(self, pi: list[float], floor: float, slack: float, *, time_limit: float, cap: int,
                     register: RegisterFn) -> tuple[dict[Column, int], bool]:
        """`enumerate` by CP-SAT (all solutions of the one-employee model under a reduced cost cap)."""
        m = self.model.clone()
        m.clear_objective()
        m.clear_hints()
        expr = self._scaled_reduced_cost(pi)
        # rounding the duals moves the scaled expression by at most half a unit per cover worked: the
        # right side allows for it, so no schedule within `slack` is cut off (a few just outside may come)
        m.add(expr <= int(math.floor((floor + slack) * SCALE + 0.5 * self.max_covers + 1)))
        found: dict[Column, int] = {}
        cis, xs, terms = self.cis, self.xs, self.terms

        class Collect(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                col = frozenset(ci for ci, x in zip(cis, xs) if self.boolean_value(x))
                own = sum(t.weight * int(self.value(t.var)) for t in terms)
                found[col] = min(own, found.get(col, own))
                if len(found) >= cap:
                    self.stop_search()

        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.enumerate_all_solutions = True
        solver.parameters.max_time_in_seconds = max(0.01, time_limit)
        register(solver)
        try:
            status = solver.solve(m, Collect())
        finally:
            register(solver, False)
        return found, status in (cp_model.OPTIMAL, cp_model.INFEASIBLE) and len(found) < cap


class _Interruptible:
    """A pywraplp solver seen as something `register` can stop (it calls `stop_search`)."""

    def __init__(self, solver: pywraplp.Solver):
        self.solver = solver

    def stop_search(self) -> None:
        self.solver.InterruptSolve()


_FROM_SCRATCH = pywraplp.MPSolverParameters()
_FROM_SCRATCH.SetIntegerParam(_FROM_SCRATCH.INCREMENTALITY, _FROM_SCRATCH.INCREMENTALITY_OFF)


class _Master:
    """The restricted master LP (GLOP), grown one column at a time."""

    def __init__(self, problem: Problem):
        p = problem
        self.p = p
        lp = pywraplp.Solver.CreateSolver("GLOP")
        if lp is None:  # pragma: no cover - GLOP ships with every OR-Tools wheel
            raise RuntimeError("OR-Tools GLOP is not available")
        self.lp = lp
        self.objective = lp.Objective()
        self.objective.SetMinimization()
        self.rows = []
        for c in p.covers:
            row = lp.Constraint(c.required, c.required)
            if c.required > 0:
                u = lp.NumVar(0, c.required, "")
                row.SetCoefficient(u, 1)
                self.objective.SetCoefficient(u, c.under_weight)
            o = lp.NumVar(0, max(0, len(c.eligible) - c.required), "")
            row.SetCoefficient(o, -1)
            self.objective.SetCoefficient(o, ARTIFICIAL_WEIGHT if c.over_weight is None else c.over_weight)
            self.rows.append(row)
        self.conv = [lp.Constraint(1, 1) for _ in p.employees]
        self.columns: dict[int, dict[Column, tuple[pywraplp.Variable, int]]] = defaultdict(dict)

    def add(self, e: int, col: Column, cost: int) -> bool:
        """Pool `col` for employee e at `cost`; True if it is new. A known column keeps the lower
        of its costs: a pricing solve cut by its time limit may price a schedule above its least own
        cost, and the pool program's optimum is only exact at the least."""
        known = self.columns[e].get(col)
        if known is not None:
            if cost < known[1]:
                self.objective.SetCoefficient(known[0], cost)
                self.columns[e][col] = (known[0], cost)
            return False
        v = self.lp.NumVar(0, self.lp.infinity(), "")
        self.objective.SetCoefficient(v, cost)
        self.conv[e].SetCoefficient(v, 1)
        for ci in col:
            self.rows[ci].SetCoefficient(v, 1)
        self.columns[e][col] = (v, cost)
        return True

    def solve(self) -> tuple[float, list[float], list[float]] | None:
        status = self.lp.Solve()
        if status == pywraplp.Solver.ABNORMAL:
            # GLOP, warm-started after bound changes, now and then ends ABNORMAL (seen twice in ~30
            # Curtois Instance8 dives, each of which then gave no roster; once in an Instance10 dive):
            # once more from scratch
            status = self.lp.Solve(_FROM_SCRATCH)
        if status != pywraplp.Solver.OPTIMAL:
            return None
        return (self.objective.Value(), [r.dual_value() for r in self.rows], [c.dual_value() for c in self.conv])

    def copy(self) -> _Master:
        """The same columns, costs and bounds in a fresh GLOP model."""
        fresh = _Master(self.p)
        for e, cols in self.columns.items():
            for col, (v, cost) in cols.items():
                fresh.add(e, col, cost)
                fresh.columns[e][col][0].SetBounds(v.lb(), v.ub())
        return fresh

    def weights(self, e: int) -> list[tuple[float, Column]]:
        return [(v.solution_value(), col) for col, (v, _) in self.columns[e].items()]

    def heaviest(self, e: int) -> tuple[float, Column]:
        """Employee e's column of most weight in the last solve, with that weight."""
        return max(self.weights(e), key=lambda t: t[0])

    def fix(self, e: int, chosen: Column | None) -> None:
        """Force employee e onto `chosen` (None: release every column of e)."""
        for col, (v, _) in self.columns[e].items():
            if chosen is None:
                v.SetBounds(0, self.lp.infinity())
            else:
                v.SetBounds(1, 1) if col == chosen else v.SetBounds(0, 0)

    def num_columns(self) -> int:
        return sum(len(c) for c in self.columns.values())


class ColumnGeneration:
    """Column generation over a separable `Problem`; `register(solver)` / `register(solver, False)` lets
    the caller stop a running pricing solve, `should_stop()` ends the loop between solves."""

    def __init__(self, problem: Problem, *, register: RegisterFn | None = None,
                 should_stop: Callable[[], bool] = lambda: False, seed: int = 0, threads: int = 1):
        self.p = problem
        self.threads = max(1, threads)  # pricing threads in a round (`_price_round`)
        self.register = register or (lambda *a, **k: None)
        self.should_stop = should_stop
        self.seed = seed
        self.master = _Master(problem)
        self.pricers: dict[int, _Pricer] = {}
        self.lower_bound: float | None = None
        self.lp_value: float | None = None
        self.infeasible_employee: int | None = None
        self.solves = 0
        self.best_round: _Round | None = None  # the complete pricing round of the best Lagrangian bound
        self.master_rebuilds = 0  # masters solved afresh in a fresh model (`_solve_master`)

    def _pricer(self, e: int) -> _Pricer:
        pr = self.pricers.get(e)
        if pr is None:
            pr = self.pricers[e] = _Pricer(self.p, e)
        return pr

    def _price(self, e: int, pi: list[float], deadline: float, exact: bool, seed: int | None = None
               ) -> tuple[list[tuple[Column, int]], float, bool]:
        if seed is None:
            self.solves += 1
            seed = self.seed + self.solves
        limit = min(FAST_PRICING_SECONDS, max(0.01, deadline - time.monotonic()))
        return self._pricer(e).price(pi, exact=exact, time_limit=limit, seed=seed, register=self.register)

    def _dual_part(self, pi: list[float]) -> float:
        """The Lagrangian bound of duals `pi` less every employee's pricing bound: duals . requirements
        plus the slacks' least terms."""
        return sum(y * c.required for y, c in zip(pi, self.p.covers)) + self._slack_bound(pi)

    def _slack_bound(self, pi: list[float]) -> float:
        """min over shortfall/surplus within their bounds of the Lagrangian slack terms (0 when the duals
        lie within the cover weights, as the LP's do)."""
        total = 0.0
        for c, y in zip(self.p.covers, pi):
            if c.required > 0:
                total += min(0.0, (c.under_weight - y) * c.required)
            if c.over_weight is not None:
                total += min(0.0, (c.over_weight + y) * max(0, len(c.eligible) - c.required))
        return total

    @staticmethod
    def _round_bound(value: float) -> float:
        # every penalty weight and variable is an integer (`Term`), so is every roster's objective
        return float(math.ceil(value - 1e-6))

    def run(self, *, deadline: float, upper: float | None = None) -> ColumnGenerationResult:
        """Iterate until no column prices out (the LP optimum, `converged`), the deadline, a stop, or
        a lower bound that meets `upper` (nothing better than `upper` exists)."""
        t0 = time.monotonic()
        employees = list(range(len(self.p.employees)))
        iterations = 0
        converged = False
        if not any(self.master.columns[e] for e in employees):
            zero = [0.0] * len(self.p.covers)
            for e in employees:
                found, bound, _ = self._price(e, zero, deadline, True)
                if not found:
                    if bound == math.inf:
                        self.infeasible_employee = e  # no schedule of their own: the problem is infeasible
                    return self._result(False, iterations, t0)
                self.master.add(e, *found[-1])
        # Pricing is heuristic (the DP, else a short CP-SAT run) while columns keep coming, exact when
        # they stop: CP-SAT finds a good column long before it proves it best (Curtois Instance8: 45 ms
        # of 50), and the DP is exact unless its best path breaks a maximum it had no room to track.
        fast = True
        while not self.should_stop() and time.monotonic() < deadline:
            solved = self._solve_master()
            if solved is None:
                break
            self.lp_value, pi, mu = solved
            iterations += 1
            rnd = self._price_round(employees, pi, mu, deadline, exact=not fast)
            if rnd.complete and math.isfinite(rnd.lagrangian):
                lb = self._round_bound(rnd.lagrangian)
                self.lower_bound = lb if self.lower_bound is None else max(self.lower_bound, lb)
                if self.best_round is None or rnd.lagrangian > self.best_round.lagrangian:
                    self.best_round = rnd
                if rnd.added == 0 and self.lower_bound >= self._round_bound(self.lp_value):
                    # nothing prices out and the bound rounds to the LP value: the LP optimum lies
                    # within the rounding (Curtois Instance9 spent 29 s of 52 on exact rounds that
                    # could not prove a last employee's pricing). Not sooner: the proof pool
                    # (`near_optimal_columns`) wants the Lagrangian bound as close to the LP as it gets.
                    converged = True
                    break
            if rnd.added == 0:
                if rnd.exact:  # no column prices out, and pricing proved it
                    converged = True
                    break
                fast = False
            else:
                fast = True
            if upper is not None and self.lower_bound is not None and self.lower_bound >= upper - 1e-9:
                break
        return self._result(converged, iterations, t0)

    def _price_round(self, employees: list[int], pi: list[float], mu: list[float], deadline: float,
                     exact: bool) -> _Round:
        """Price every employee in `employees` once under the duals (pi, mu); add the columns of
        negative reduced cost; return how many, and the Lagrangian bound of these duals."""
        rnd = _Round(lagrangian=self._dual_part(pi), pi=pi)
        seeds = {e: self.seed + self.solves + i + 1 for i, e in enumerate(employees)}

        def price(e: int) -> tuple[list[tuple[Column, int]], float, bool] | None:
            if self.should_stop() or time.monotonic() >= deadline:
                return None
            return self._price(e, pi, deadline, exact, seeds[e])

        if self.threads > 1 and len(employees) > 1:
            # the DP's kernels and CP-SAT release the GIL, and each employee's pricer and each thread's
            # scratch arrays are their own: the round's pricings run side by side, and their columns join
            # the master here, in employee order, as a sequential round's would
            for e in employees:
                self._pricer(e)  # never built in a pool thread (`run` builds them all before its first round)
            with ThreadPoolExecutor(min(self.threads, len(employees)), thread_name_prefix="pricing") as pool:
                results = list(pool.map(price, employees))
        else:
            results = [price(e) for e in employees]  # (None from the first stop or deadline on)
        self.solves += sum(res is not None for res in results)
        for e, res in zip(employees, results):
            if res is None:
                rnd.exact = rnd.complete = False
                continue
            found, bound, optimal = res
            rnd.exact = rnd.exact and optimal
            rnd.lagrangian += bound  # min over schedules of (own cost - pi . covers)
            rnd.bounds[e] = bound
            for col, cost in found:
                if cost - sum(pi[ci] for ci in col) - mu[e] < -RC_EPS and self.master.add(e, col, cost):
                    rnd.added += 1
        return rnd

    def _result(self, converged: bool, iterations: int, t0: float) -> ColumnGenerationResult:
        return ColumnGenerationResult(self.lower_bound, self.lp_value, converged, iterations,
                                      self.master.num_columns(), self.solves, time.monotonic() - t0)

    def integral_roster(self) -> dict[tuple[int, int], int] | None:
        """The LP solution as a roster when every employee has one column of weight 1, else None."""
        if self._solve_master() is None:  # (columns may have come in since the last solve)
            return None
        out: dict[tuple[int, int], int] = {}
        for e in range(len(self.p.employees)):
            best = max(self.master.weights(e), default=(0.0, frozenset()))
            if best[0] < 1 - 1e-6:
                return None
            out.update({(e, ci): 1 for ci in best[1]})
        return out

    def dive(self, *, deadline: float, upper: float | None = None, complete_at: int = 6,
             reprice_rounds: int = 5, fix_share: float = 0.1, rng: random.Random | None = None
             ) -> dict[tuple[int, int], int] | None:
        """A roster by diving: fix every employee whose LP schedule is integral, else the `fix_share`
        (in (0, 1)) of the others (at least one) whose schedules weigh most in the LP, re-price the rest
        (up to `reprice_rounds` rounds, until no column prices out, within an equal share of the diving
        time for each step left; Curtois Instance8, dives from one LP: with 5 rounds 13 of 18 ended
        within 1.5 % of the optimum, with 20 rounds 14 of 28), and repeat until `complete_at` employees
        are left; CP-SAT then rosters those together against the fixed ones (`construct.GroupSolver`),
        starting from their heaviest LP schedules, which it keeps if it finds nothing better. When the
        time for diving (all but a fifth of it, at most 5 s) runs out, the rest are fixed at once. With
        `rng`, the heaviest schedule is one of the three heaviest at random, so repeated dives differ.
        Returns None when the LP value reaches `upper` (no better roster down this path) or on a stop.
        The dive fixes columns in a smaller master (`_dive_master`); the columns it priced join the full
        master afterwards, which nothing fixed."""
        from service.solver.construct import GroupSolver

        E = len(self.p.employees)
        fixed: dict[int, Column] = {}
        dive_end = deadline - min(5.0, 0.2 * max(0.0, deadline - time.monotonic()))
        with self._in_dive_master() as small:
            if small is None:
                return None
            while E - len(fixed) > complete_at:
                if self.should_stop():
                    return None
                solved = self._solve_master()
                if solved is None:
                    return None
                if upper is not None and solved[0] >= upper - 1e-6:
                    return None
                cands: list[tuple[float, int, Column]] = []
                step: list[tuple[int, Column]] = []
                for e in range(E):
                    if e in fixed:
                        continue
                    w, col = self.master.heaviest(e)
                    if w > 1 - 1e-6:
                        step.append((e, col))
                    else:
                        cands.append((w, e, col))
                cands.sort(key=lambda t: -t[0])
                if rng is not None and len(cands) > 1:
                    k = rng.choices(range(min(3, len(cands))), weights=[c[0] for c in cands[:3]])[0]
                    cands.insert(0, cands.pop(k))
                out_of_time = time.monotonic() >= dive_end
                if out_of_time:
                    step += [(e, col) for _, e, col in cands]
                elif not step:
                    step = [(e, col) for _, e, col in cands[:max(1, int(len(cands) * fix_share))]]
                for e, col in step[:max(1, E - len(fixed) - complete_at)]:
                    fixed[e] = col
                    self.master.fix(e, col)
                free = E - len(fixed)
                if not out_of_time and free > complete_at:
                    # an equal share of the diving time left for each step still to come, so the dive
                    # reaches its end instead of fixing everybody at once when time runs out
                    steps = max(1, math.ceil(math.log(max(1, complete_at) / free) / math.log(1 - fix_share)))
                    now = time.monotonic()
                    self._reprice([e for e in range(E) if e not in fixed], now + (dive_end - now) / steps,
                                  reprice_rounds)
            free = [e for e in range(E) if e not in fixed]
            start = dict(fixed)
            if free:
                # each starts on their heaviest LP schedule (their own rules hold, and the problem is
                # separable, so that is a roster): the group solve improves on it or, finding nothing
                # better in the time left, keeps it (a first group roster from nothing could take longer)
                if self._solve_master() is None:
                    return None
                start.update((e, self.master.heaviest(e)[1]) for e in free)
            gs = GroupSolver(self.p, register=self.register, seed=self.seed)
            for e, col in start.items():
                gs.roster[e] = set(col)
                for ci in col:
                    gs.filled[ci] += 1
            if free:
                gs.solve_group(free, max(0.5, deadline - time.monotonic()))
            roster = gs.assignment()
            self.add_roster(roster)  # the completed schedules join the pool
            return roster

    def best_responses(self, roster: dict[tuple[int, int], int], *, deadline: float,
                       rng: random.Random | None = None) -> dict[tuple[int, int], int]:
        """Coordinate descent on `roster` ({(employee, cover index): 1}) by exact best responses: each
        employee in turn, in random order, takes the schedule that is best against everybody else's,
        until a round changes nobody or the deadline. Given the others, the objective is a constant plus
        the employee's own penalties minus, for each cover they work, its marginal value: its under
        weight while the others leave it short, minus its over weight once they fill it. That is a
        pricing problem under those values, and a priced schedule replaces the current one only when
        pricing proved it optimal and it is strictly better. Each change lowers the objective by exactly
        that much; the problem being separable, the result is a roster. Curtois Instance13, a dive's
        roster of 2811: 2193 in 3 s (fewer uncovered shifts: 24 to 18)."""
        rng = rng or random.Random(self.seed)
        covers = self.p.covers
        sched = self._schedules(roster)
        filled = [0] * len(covers)
        for cis in sched.values():
            for ci in cis:
                filled[ci] += 1
        known: dict[tuple[int, Column], int | None] = {}
        order = list(sched)
        changed = True
        while changed and not self.should_stop():
            changed = False
            rng.shuffle(order)
            for e in order:
                if time.monotonic() >= deadline or self.should_stop():
                    break
                mine = sched[e]
                for ci in mine:
                    filled[ci] -= 1
                value = [c.under_weight if n < c.required else
                         -(ARTIFICIAL_WEIGHT if c.over_weight is None else c.over_weight)
                         for c, n in zip(covers, filled)]
                found, _, optimal = self._price(e, value, deadline, False)
                if found and optimal:
                    col, cost = found[-1]
                    if (e, mine) not in known:
                        known[(e, mine)] = self._pricer(e).cost(mine)
                    current = known[(e, mine)]
                    gain = (math.inf if current is None else
                            current - sum(value[ci] for ci in mine) - (cost - sum(value[ci] for ci in col)))
                    if gain > 1e-6:
                        sched[e] = mine = col
                        changed = True
                for ci in mine:
                    filled[ci] += 1
        return {(e, ci): 1 for e, cis in sched.items() for ci in cis}

    def _solve_master(self) -> tuple[float, list[float], list[float]] | None:
        """Solve the master; when GLOP fails on it even from scratch, the same LP in a fresh model
        (`_Master.copy`). Branch-and-price has met such failures (Curtois Instance7, about one in 500
        nodes); the dive gave up on them, most likely what left a first dive on Instance12 without a roster
        after 5 s (that run ended at 4116, 1.9 % off; four others at 4046-4055). Column generation itself
        stopped on one: Curtois Instance15 after 5 iterations (12 s), its LP unconverged, so no dive, and
        the run ended at 4076, 6.5 % off (3847 with the LP converged); the fresh model solved it."""
        solved = self.master.solve()
        if solved is None:
            self.master_rebuilds += 1
            self.master = self.master.copy()
            solved = self.master.solve()
        return solved

    @contextlib.contextmanager
    def _in_dive_master(self) -> Iterator[_Master | None]:
        """`_dive_master` as the master for the block (None, and nothing swapped, when the LP does not
        solve); after it, what was priced there joins the full master, which nothing fixed."""
        small = self._dive_master()
        full = self.master  # (after it: a copy, if `_solve_master` rebuilt the master there)
        if small is None:
            yield None
            return
        self.master = small
        try:
            yield small
        finally:
            small, self.master = self.master, full  # (a copy, if `_solve_master` rebuilt it)
            for e, cols in small.columns.items():
                for col, (_, cost) in cols.items():
                    full.add(e, col, cost)

    def _dive_master(self) -> _Master | None:
        """A master over the columns the LP uses and each employee's `DIVE_COLUMNS` of least reduced
        cost: the same LP optimum, and far quicker re-solves once the dive fixes columns (GLOP starts
        those afresh: Curtois Instance12, 8,412 columns, ~1 s each)."""
        solved = self._solve_master()
        if solved is None:
            return None
        _, pi, mu = solved
        small = _Master(self.p)
        for e, cols in self.master.columns.items():
            ranked = sorted(cols.items(), key=lambda kv: kv[1][1] - sum(pi[ci] for ci in kv[0]) - mu[e])
            for rank, (col, (v, cost)) in enumerate(ranked):
                if rank < DIVE_COLUMNS or v.solution_value() > 1e-9:
                    small.add(e, col, cost)
        return small

    def _reprice(self, free: list[int], deadline: float, rounds: int) -> None:
        for _ in range(rounds):
            if not free or self.should_stop() or time.monotonic() >= deadline:
                return
            solved = self._solve_master()
            if solved is None or not self._price_round(free, solved[1], solved[2], deadline, exact=False).added:
                return

    def _schedules(self, roster: dict[tuple[int, int], int]) -> dict[int, Column]:
        """Every employee's schedule in `roster` ({(employee, cover index): 1})."""
        cols: dict[int, set[int]] = {e: set() for e in range(len(self.p.employees))}
        for (e, ci), v in roster.items():
            if v:
                cols[e].add(ci)
        return {e: frozenset(cis) for e, cis in cols.items()}

    def add_roster(self, roster: dict[tuple[int, int], int]) -> dict[int, Column]:
        """Add each employee's schedule in `roster` ({(employee, cover index): 1}, e.g. the incumbent)
        to the pool, priced by their own model, so the restricted master can keep or recombine it.
        Returns the schedule of each employee."""
        out: dict[int, Column] = {}
        for e, col in self._schedules(roster).items():
            cost = self._pricer(e).cost(col)
            if cost is not None:
                self.master.add(e, col, cost)
                out[e] = col
        return out

    def near_optimal_columns(self, *, upper: float, deadline: float, cap: int = POOL_CAP
                             ) -> tuple[int, bool]:
        """Pool the schedules that can be part of a roster of objective below `upper` (an integer):
        for the duals of the best complete pricing round, a roster's objective is the Lagrangian
        bound plus each employee's excess reduced cost plus the slacks' (all of them nonnegative),
        so no employee's excess exceeds slack = upper - 1 - bound. When those are more than `cap`
        in all, the excess allowed is halved until they fit: the pool program then still finds good
        rosters, but proves nothing. Returns (columns added, complete): when complete, the
        restricted master's integer optimum over the pool is the problem's optimum or no roster
        beats `upper`."""
        rnd = self.best_round
        if rnd is None:
            return 0, False
        slack = upper - 1 - rnd.lagrangian
        if slack < 0:
            return 0, True
        excess = slack
        while True:
            pool, fits, timed_out = self._enumerate_within(rnd, excess, cap, deadline)
            if fits or timed_out or excess < MIN_POOL_EXCESS:
                break
            excess /= 2
        added = sum(self.master.add(e, col, cost) for e, cols in pool.items() for col, cost in cols.items())
        return added, fits and not timed_out and excess >= slack

    def restricted_model(self, model: cp_model.CpModel, x: dict[tuple[int, int], cp_model.IntVar],
                         terms: list, *, upper: float, deadline: float, cap: int = RESTRICT_CAP
                         ) -> tuple[int, int] | None:
        """Restrict `model` (a clone of the whole model; `x` its assignment literals by (employee,
        cover index), `terms` its penalty terms) to the rosters that can beat `upper`, for CP-SAT, when
        the schedules that can take part in one (`near_optimal_columns`) are too many for the pool
        program (SCIP over Curtois Instance6's 76,007 schedules within 1.0 had no roster in 60 s)
        but at most `cap`. Each employee picks exactly one of their pooled schedules (a Boolean each,
        its cells channelled to the assignment literals, every other cell off); each employee's
        Lagrangian cut (own penalties - duals . covers >= their pricing bound, valid for every roster)
        lifts CP-SAT's LP bound to column generation's; and the objective is held below `upper`.
        Solved on one core, Instance6's program (109,420 schedules) gave 1950, the best known, and
        proved it optimal in about 20 s, where the whole model and the pool program found nothing
        better than 1951. INFEASIBLE then proves `upper` optimal, OPTIMAL proves the roster.
        Returns (schedules, employees) or None when there is no complete pool within `cap` in time."""
        rnd = self.best_round
        if rnd is None:
            return None
        slack = upper - 1 - rnd.lagrangian
        if slack < 0:
            return None
        own: dict[int, list] = defaultdict(list)
        for t in terms:
            if t.weight and t.employee is not None:
                own[t.employee].append(t)
            elif t.weight and t.rule not in COVER_TERMS:
                return None  # a penalty of nobody's: the cuts below would not see all of it
        pool, fits, _ = self._enumerate_within(rnd, slack, cap, deadline, walk=RESTRICT_WALK,
                                               equal_shares=False)
        if not fits:
            return None
        by_employee: dict[int, dict[int, cp_model.IntVar]] = defaultdict(dict)
        for (e, ci), lit in x.items():
            by_employee[e][ci] = lit
        for e, cols in pool.items():
            chosen = [model.new_bool_var("") for _ in cols]
            model.add_exactly_one(chosen)
            covering: dict[int, list] = defaultdict(list)
            for b, col in zip(chosen, cols):
                for ci in col:
                    covering[ci].append(b)
            for ci, lit in by_employee[e].items():
                if ci in covering:
                    model.add(lit == sum(covering[ci]))
                else:
                    model.add(lit == 0)
            # the duals rounded to thousandths move the scaled sum by at most half a unit a cover worked
            cut = (sum(SCALE * t.weight * t.var for t in own[e])
                   + sum(int(round(-rnd.pi[ci] * SCALE)) * lit for ci, lit in by_employee[e].items()))
            model.add(cut >= math.floor(rnd.bounds[e] * SCALE - 0.5 * self._pricer(e).max_covers) - 1)
        model.add(sum(t.weight * t.var for t in terms if t.weight) <= int(upper) - 1)
        return sum(len(c) for c in pool.values()), len(pool)

    def _enumerate_within(self, rnd: _Round, excess: float, cap: int, deadline: float, walk: int | None = None,
                          equal_shares: bool = True) -> tuple[dict[int, dict[Column, int]], bool, bool]:
        """Every employee's schedules within `excess` of their minimum reduced cost under the duals
        of `rnd`, an equal share of the time left each (or, without `equal_shares`, all of it: one
        of Curtois Instance6's employees has 55,332 of its 109,420); (schedules by employee, all of
        them listed and at most `cap` in all, the deadline or a stop cut it)."""
        pool: dict[int, dict[Column, int]] = {}
        total = 0
        n = len(self.p.employees)
        for e in range(n):
            left = deadline - time.monotonic()
            if self.should_stop() or left <= 0:
                return pool, False, True
            share = left / (n - e) if equal_shares else left
            found, done = self._pricer(e).enumerate(rnd.pi, rnd.bounds[e], excess, time_limit=share,
                                                    cap=cap - total + 1, register=self.register, walk=walk)
            pool[e] = found
            total += len(found)
            if not done or total > cap:
                return pool, False, time.monotonic() >= deadline
        return pool, True, False

    def best_combination(self, *, time_limit: float, hint: dict[int, Column] | None = None
                         ) -> tuple[dict[tuple[int, int], int], float, bool] | None:
        """The best roster made of pooled columns only (the restricted master as an integer program,
        solved by SCIP): every column generated so far, by pricing, dives, `near_optimal_columns` and
        `add_roster`, is a candidate schedule of its employee; `hint` (pooled columns, e.g. from
        `add_roster`) is where the search starts. Returns (roster, objective, proven optimal over the
        pool) or None.

        SCIP rather than CP-SAT: this is a set-partitioning program, where an LP-based branch-and-cut
        is at home (Curtois Instance5, 5,080 pooled columns: SCIP proves 1143 optimal over the pool
        in 5.5 s; CP-SAT had no roster within 1 s and 1149 after 30 s on a smaller pool)."""
        p = self.p
        solver = pywraplp.Solver.CreateSolver("SCIP")
        if solver is None:  # pragma: no cover - SCIP ships with every OR-Tools wheel
            raise RuntimeError("OR-Tools SCIP is not available")
        solver.SetTimeLimit(int(max(0.05, time_limit) * 1000))
        objective = solver.Objective()
        objective.SetMinimization()
        rows = []
        for c in p.covers:
            row = solver.Constraint(c.required, c.required)
            if c.required > 0:
                short = solver.IntVar(0, c.required, "")
                row.SetCoefficient(short, 1)
                objective.SetCoefficient(short, c.under_weight)
            if c.over_weight is not None and len(c.eligible) > c.required:
                surplus = solver.IntVar(0, len(c.eligible) - c.required, "")
                row.SetCoefficient(surplus, -1)
                objective.SetCoefficient(surplus, c.over_weight)
            rows.append(row)
        chosen: list[tuple[int, Column, pywraplp.Variable]] = []
        hint_vars, hint_values = [], []
        for e in range(len(p.employees)):
            if not self.master.columns[e]:
                return None
            one = solver.Constraint(1, 1)
            for col, (_, cost) in self.master.columns[e].items():
                b = solver.BoolVar("")
                chosen.append((e, col, b))
                one.SetCoefficient(b, 1)
                objective.SetCoefficient(b, cost)
                for ci in col:
                    rows[ci].SetCoefficient(b, 1)
                if hint is not None and e in hint:
                    hint_vars.append(b)
                    hint_values.append(1.0 if col == hint[e] else 0.0)
        if hint_vars:
            solver.SetHint(hint_vars, hint_values)
        # MPSolver stops at a relative gap of 1e-4 by default: OPTIMAL must mean proven, since the
        # search takes it as a bound
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(params.RELATIVE_MIP_GAP, 0.0)
        handle = _Interruptible(solver)
        self.register(handle)
        try:
            status = solver.Solve(params)
        finally:
            self.register(handle, False)
        if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
            return None
        roster = {(e, ci): 1 for e, col, b in chosen if b.solution_value() > 0.5 for ci in col}
        return roster, round(objective.Value()), status == pywraplp.Solver.OPTIMAL
