"""Employee-group construction and improvement for problems whose hard rules are per employee.

When every hard rule concerns one employee at a time (all of Curtois; an NGRS input only when its rules
are all in PER_EMPLOYEE_RULES and no cover has a gender mix), any combination of individually feasible schedules is a feasible roster: covers
couple employees only through soft terms (or through hard cover maxima, which a residual demand
respects). So a roster can be built one small CP-SAT model at a time, each employee solved against the
demand the others leave, and then improved by re-solving small groups of employees against everybody
else (block coordinate descent, the "employees" neighbourhood of LNS on a model of a few employees).

Why by hand: this is the classical construction for rostering, but no maintained library offers it on
top of our own `Problem`, and it needs the builder's own rule functions so the sub-models are exactly
the rules of the whole model. A sub-model has one to a few employees, so it solves in well under a
second even on year-long horizons, where the whole model has up to a million variables (Instance24:
1.04 M assignment variables, 72 s just to build).

The sub-objective equals the whole objective minus a constant: a cover the others leave short by r is
posted with requirement r (each person of the group fills one missing place or, beyond r, pays the
surplus weight), and one the others already over-fill with requirement 0 (each person pays surplus).
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import defaultdict
from typing import Callable

from ortools.sat.python import cp_model

from service.solver import rules as rule_registry
from service.solver.model import Cover, Problem
from service.solver.pattern_dp import PatternTooLarge, work_pattern

# Rules whose constraints and penalties read one employee's days only (canonical ids): the sequence
# rules (rules/sequences.py), rest between shifts, days off per week, the hours caps and work patterns
# (rules/rest.py, offdays.py, hours.py, pattern.py), and the greedy hint, which adds no constraint.
PER_EMPLOYEE_RULES = frozenset({
    "maxConsecutiveWorkingDays", "minConsecutiveWorkingDays", "minConsecutiveDaysOff", "maxWeekends",
    "maxShiftsPerType", "totalMinutes", "runPattern",
    "apgdMinRestBetweenShifts", "minimumOffDaysPerWeek", "momDailyHoursCap", "momWeeklyHoursCap44h",
    "momMonthlyOTcap72h", "workPattern", "greedyHint",
})

RegisterFn = Callable[..., None]
Roster = dict[int, set[int]]  # employee -> cover indices worked


def separable(problem: Problem) -> bool:
    """True when any set of individually feasible employee schedules is a feasible roster."""
    if any(c.mix_groups and c.required >= 2 for c in problem.covers):
        return False
    return all(rule_registry.canonical(r.rule) in PER_EMPLOYEE_RULES for r in problem.rules)


def _set_domain(proto, index: int, lo: int, hi: int) -> None:
    dom = proto.variables[index].domain
    dom[0] = lo
    dom[1] = hi


class GroupSolver:
    """Solves one group of employees against the rest of a roster (`roster`, updated in place)."""

    def __init__(self, problem: Problem, *, register: RegisterFn | None = None, seed: int = 0):
        self.p = problem
        self.register = register or (lambda *a, **k: None)
        self.rng = random.Random(seed)
        self.covers_of: dict[int, list[int]] = defaultdict(list)
        for ci, c in enumerate(problem.covers):
            for e in c.eligible:
                if (e, c.day) not in problem.days_off:
                    self.covers_of[e].append(ci)
        self.filled = [0] * len(problem.covers)
        self.roster: Roster = {e: set() for e in range(len(problem.employees))}
        self.solves = 0
        self.last_status: int | None = None
        self.version = 0  # bumped whenever the roster changes

    def _subproblem(self, emps: list[int], lo: int, hi: int) -> tuple[Problem, list[int], dict[tuple[int, int], int]]:
        """The problem of `emps` over the whole horizon, free on days [lo, hi) and fixed (to the
        current roster) elsewhere. Returns it, the original cover of each sub-cover, and the fixed
        assignments as {(sub employee, sub cover): value} for hinting/fixing."""
        p = self.p
        index = {e: i for i, e in enumerate(emps)}
        cis = sorted({ci for e in emps for ci in self.covers_of[e]})
        covers: list[Cover] = []
        back: list[int] = []
        for ci in cis:
            c = p.covers[ci]
            mine = sum(1 for e in emps if ci in self.roster[e])
            others = self.filled[ci] - mine
            eligible = tuple(index[e] for e in c.eligible if e in index and (e, c.day) not in p.days_off)
            covers.append(Cover(c.id, c.day, c.shift, max(0, c.required - others), eligible,
                                c.under_weight, c.over_weight))
            back.append(ci)
        rules = tuple(dataclasses.replace(r, params={index[e]: r.params[e] for e in emps if e in r.params})
                      for r in p.rules)
        requests = tuple(dataclasses.replace(r, employee=index[r.employee]) for r in p.requests
                         if r.employee in index)
        days_off = frozenset((index[e], d) for (e, d) in p.days_off if e in index)
        sub = dataclasses.replace(p, name=f"{p.name}[group]", employees=tuple(p.employees[e] for e in emps),
                                  covers=tuple(covers), rules=rules, requests=requests, days_off=days_off,
                                  metadata={})
        fixed = {}
        for si, ci in enumerate(back):
            if not lo <= p.covers[ci].day < hi:
                for e in emps:
                    fixed[(index[e], si)] = 1 if ci in self.roster[e] else 0
        return sub, back, fixed

    def solve_group(self, emps: list[int], time_limit: float, *, lo: int = 0, hi: int | None = None,
                    improve_only: bool = True, pattern: list[bool] | None = None) -> float | None:
        """Re-solve `emps` (on days [lo, hi)) against everybody else; adopt the result when it is
        better than their current schedules (or they have none yet). `pattern`: one employee's worked
        days, fixed. Returns the gain (>= 0), or None when no schedule was found."""
        from service.solver.builder import build

        hi = self.p.num_days if hi is None else hi
        sub, back, fixed = self._subproblem(emps, lo, hi)
        ctx = build(sub)
        proto = ctx.model.proto
        for key, v in fixed.items():
            var = ctx.x.get(key)
            if var is not None:
                _set_domain(proto, var.index, v, v)
        if pattern is not None:  # one employee, worked days given: only the shift types are chosen
            for d, works in enumerate(pattern):
                ctx.model.add(ctx.works_day(0, d) == int(works))
        current = {(i, si): 1 if back[si] in self.roster[e] else 0 for i, e in enumerate(emps)
                   for si in range(len(back))}
        has_current = any(self.roster[e] for e in emps)
        before = None
        if has_current and improve_only:
            before = self._evaluate(ctx, current)
            if before is None:
                return None
        if has_current:
            # (an all-off hint for a new employee misleads the search: it violates the minimum minutes)
            for key, var in ctx.x.items():
                ctx.model.add_hint(var, current.get(key, 0))
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.05, time_limit)
        solver.parameters.random_seed = self.rng.randrange(1 << 30)
        # the LP of the total-minutes and run rules finds single-employee schedules where plain
        # search does not (Curtois Instance20, employee 0: optimal in 0.35 s vs none in 20 s)
        solver.parameters.linearization_level = 2
        self.register(solver)  # the caller's hook can stop it
        try:
            status = solver.solve(ctx.model)
        finally:
            self.register(solver, False)
        self.solves += 1
        self.last_status = status
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        after = solver.objective_value
        if before is not None and after >= before - 1e-9:
            return 0.0  # keep the roster unchanged on ties: no pointless pushes into the whole model
        self.version += 1
        for i, e in enumerate(emps):
            for ci in self.roster[e]:
                self.filled[ci] -= 1
            self.roster[e] = set()
        for (i, si), var in ctx.x.items():
            if solver.boolean_value(var):
                e, ci = emps[i], back[si]
                self.roster[e].add(ci)
                self.filled[ci] += 1
        return 0.0 if before is None else before - after

    def _evaluate(self, ctx, values: dict[tuple[int, int], int]) -> float | None:
        """Objective of the group's current schedules in the sub-model (all assignments fixed)."""
        proto = ctx.model.proto
        saved = [(var.index, list(proto.variables[var.index].domain)) for var in ctx.x.values()]
        for key, var in ctx.x.items():
            v = values.get(key, 0)
            _set_domain(proto, var.index, v, v)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 10.0
        status = solver.solve(ctx.model)
        for idx, dom in saved:
            _set_domain(proto, idx, dom[0], dom[-1])
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return solver.objective_value

    def construct(self, *, deadline: float, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Employee-by-employee construction, specialists (fewest eligible covers) first, each against
        the demand the others leave: the best work/off pattern by `pattern_dp` (the days the others
        leave short), shift types by CP-SAT; CP-SAT alone when the DP cannot apply. False when some
        employee has no feasible schedule of their own (the whole problem is then infeasible), or on
        time out or stop."""
        n = len(self.p.employees)
        order = sorted(range(n), key=lambda e: (len(self.covers_of[e]), e))
        for k, e in enumerate(order):
            # Time to a first schedule is heavy-tailed in the seed (Instance22, one employee whose
            # total minutes must land in a 960-minute window over 364 days: 0.4 s to 13 s), so short
            # attempts with fresh seeds and growing limits beat one long attempt.
            limit = min(1.0, max(0.3, 0.25 * (deadline - time.monotonic()) / (n - k)))
            try:
                pattern = self._pattern(e)
            except PatternTooLarge:
                pattern = None
            else:
                if pattern is None:
                    return False  # no work/off pattern meets this employee's rules: infeasible
            if pattern is not None and self.solve_group([e], limit, improve_only=False, pattern=pattern) is not None:
                continue  # (group descent later moves the worked days too)
            while self.solve_group([e], limit, improve_only=False) is None:
                if self.last_status == cp_model.INFEASIBLE:
                    return False  # no schedule at all for this employee: the problem is infeasible
                if should_stop() or time.monotonic() + limit >= deadline:
                    return False
                limit *= 1.5
        return True

    def _pattern(self, e: int) -> list[bool] | None:
        """A work/off pattern for `e` by `pattern_dp`, preferring days the others leave short."""
        p = self.p
        workable = [False] * p.num_days
        value = [-math.inf] * p.num_days
        lengths = []
        for ci in self.covers_of[e]:
            c = p.covers[ci]
            workable[c.day] = True
            lengths.append(p.shift_types[c.shift].duration_minutes)
            gain = c.under_weight if self.filled[ci] < c.required else -(c.over_weight or 0)
            value[c.day] = max(value[c.day], gain)
        if not lengths:
            return [False] * p.num_days
        value = [0.0 if v == -math.inf else float(v) for v in value]
        return work_pattern(p, e, workable, (min(lengths), max(lengths)), value, self.rng)

    def assignment(self) -> dict[tuple[int, int], int]:
        return {(e, ci): 1 for e, cis in self.roster.items() for ci in cis}

    def neighbours(self, e: int, k: int) -> list[int]:
        """`e` and k-1 employees who share the most covers with it (they can swap shifts)."""
        mine = set(self.covers_of[e])
        others = [o for o in self.roster if o != e]
        self.rng.shuffle(others)
        others.sort(key=lambda o: -len(mine.intersection(self.covers_of[o])))
        pool = others[:max(k - 1, 3 * (k - 1))]
        return [e] + self.rng.sample(pool, min(k - 1, len(pool)))


def improve_roster(gs: GroupSolver, *, deadline: float, log: bool = False,
                   should_stop: Callable[[], bool] = lambda: False) -> None:
    """Block coordinate descent: random groups of 1-3 employees re-solved against the rest."""
    n = len(gs.roster)
    gained = 0.0
    rounds = 0
    H = gs.p.num_days
    while time.monotonic() < deadline - 0.2 and not should_stop():
        k = gs.rng.choice((1, 2, 2, 3)) if n > 1 else 1
        emps = gs.neighbours(gs.rng.randrange(n), k)
        lo, hi = 0, H
        if H > 56 and k > 1:
            # on long horizons a group is freed on a window of the horizon only, so it solves fast
            w = 56
            lo = gs.rng.randrange(0, H - w + 1)
            hi = lo + w
        g = gs.solve_group(emps, max(0.05, min(2.0, deadline - time.monotonic())), lo=lo, hi=hi)
        rounds += 1
        gained += g or 0.0
    if log:
        print(f"improve: {rounds} group solves, gained {gained:.0f}")
