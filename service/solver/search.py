"""Search strategy on top of the CP-SAT model of a `BuildContext`.

1. **Full solve** for a share of the time: CP-SAT with tuned parameters finds a first roster and the
   global lower bound; small instances end here, proven optimal.
2. **Large neighbourhood search** for the rest: repeatedly free a neighbourhood of assignment
   variables (a window of days for all or some employees, a group of employees over all or part of
   the horizon, or a window around the costliest days; on request and in the slack phase after the
   dives, a shortfall's day with the employees who have minutes to spare), fix every other `x[e, c]`
   to the incumbent by tightening its domain in a private copy of the model, hint the incumbent, and
   re-solve for a short time.
   Better (or equal, for plateau moves) rosters replace the incumbent. Neighbourhood sizes adapt: grown when
   sub-problems are solved to optimality, shrunk when they time out. With two or more
   workers the LNS runs that many single-worker threads, each on its own model copy, so two cores
   explore two neighbourhoods at once instead of racing on one. Long horizons (from
   DECOMPOSE_FROM_DAYS days), where the whole model is large and slow to solve at all, get their
   first roster elsewhere: employee by employee (`construct.py`, with the work/off pattern DP of
   `pattern_dp.py`) when every hard rule is per employee, improved by re-solving small groups of
   employees before whole-model LNS takes over; otherwise by rolling time windows.

   When every hard rule is per employee (`construct.separable`) and the horizon is below
   DECOMPOSE_FROM_DAYS days, the full-solve thread runs column generation (`colgen.py`) instead: its
   Lagrangian bound, dives from its LP for rosters, a pool of near-optimal schedules and
   branch-and-price (`branch.py`) near the bound, then a second LNS thread. A first dive roster that
   loses to the LNS's own is not dropped: every LNS worker improves it as a track of its own until it
   beats the incumbent, which stays the roster returned (`_follow`).

3. The incumbent is always complete and feasible for the whole model (fixed values come from it), so
   stopping at any moment returns a valid roster. `stop` (a threading.Event) stops the running
   sub-solve within ~0.1 s; progress is reported on every new incumbent with its objective.

It only touches the decision variables `ctx.x`, so it works for every input format (NGRS and Curtois).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from ortools.sat.python import cp_model

from service.solver.builder import BuildContext


@dataclass
class SearchResult:
    status: str  # OPTIMAL / FEASIBLE / INFEASIBLE / MODEL_INVALID / UNKNOWN
    objective: float | None
    best_bound: float | None
    values: list[int] | None  # value of every model variable in the incumbent
    first_solution_seconds: float | None = None
    best_solution_seconds: float | None = None
    solutions: int = 0
    stopped: bool = False
    stats: dict = field(default_factory=dict)


# (solutions found, incumbent objective, best bound, elapsed seconds)
ReportFn = Callable[[int, float, float | None, float], None]


def tune(params, workers: int, time_limit: float | None, *, log: bool = False, interleave: bool = True) -> None:
    params.num_workers = max(1, int(workers))
    if params.num_workers == 1 and interleave:
        # One thread: run CP-SAT's whole portfolio (feasibility jump, its LNS, default LP search)
        # interleaved instead of the lone default search. Curtois Instance5 at 10 deterministic
        # seconds: 1238 interleaved vs 2375 with the default single-worker search.
        params.interleave_search = True
    if time_limit is not None:
        params.max_time_in_seconds = max(0.01, float(time_limit))
    params.log_search_progress = log


class Search:
    def __init__(self, ctx: BuildContext, *, time_limit: float | None, workers: int = 1,
                 report: ReportFn | None = None, stop: threading.Event | None = None, log: bool = False,
                 seed: int = 0, full_share: float = 0.2, lns: bool = True, start: float | None = None,
                 sub_params: dict | None = None, sub_time: float | None = None, kinds: list[str] | None = None,
                 dtime_limit: float | None = None, sub_dtime: float = 1.0, full_in_lns: bool = True,
                 strategy: str = "concurrent"):
        self.ctx = ctx
        self.time_limit = time_limit
        self.workers = max(1, int(workers))
        self.report = report
        self.stop_event = stop
        self.log = log
        self.rng = random.Random(seed)
        self.full_share = full_share
        self.lns = lns
        # "concurrent" (full solve + LNS thread side by side) or "phased" (full solve, then LNS)
        self.strategy = strategy
        # Deterministic mode (experiments): budgets in CP-SAT deterministic time, load-independent.
        self.dtime_limit = dtime_limit
        self.sub_dtime = sub_dtime
        self.dtime_used = 0.0
        self.proven = False  # the incumbent is proven optimal (a full solve, or it meets the bound)
        self.keep_hint = False  # a decomposition roster is hinted on the LNS thread's model
        self.full_in_lns = full_in_lns
        self.kinds = list(kinds) if kinds else ["days", "employees", "costly", "repair", "weekly"]
        # {employee: most minutes} of a hard `totalMinutes` rule, for the "slack" kind (`_slack`)
        self.minute_caps = _minute_caps(ctx.problem)
        # until this time (monotonic), LNS worker 0 draws only "slack" (`_start_slack_phase`)
        self._slack_until: float | None = None
        self.sub_params = {"symmetry_level": 0, "linearization_level": 2} if sub_params is None else sub_params
        self.sub_time_opt = sub_time
        self.t0 = time.monotonic() if start is None else start  # time_limit counts from here
        self.lock = threading.Lock()
        self.active: set[cp_model.CpSolver] = set()
        self.stopped = False
        self.done = threading.Event()
        # incumbent
        self.values: list[int] | None = None
        self.objective: float | None = None
        self.bound: float | None = None
        self.first: float | None = None
        self.best_time: float | None = None
        self.solutions = 0
        self.stats = defaultdict(int)
        self._cg = None  # column generation, once its LP has converged (`_pool_rounds`)
        self._duals = None  # (cover duals, pricing bound by employee) of the converged LP (`_reduced`)
        self._pool_upper = None  # the incumbent objective the last pool round started from
        # (values, objective): a second basin every LNS worker improves instead of the incumbent until
        # it beats it or stalls (`_follow`): the first dive's roster, when it lost to the LNS's
        self._track: tuple[list[int], float] | None = None
        self._track_stall = 0
        # from this time (monotonic) on, LNS workers wait between steps (`_lns_held`): column generation
        # and its dives have the cores
        self._hold_from: float | None = None
        self._index_x()

    # ------------------------------------------------------------------------------------- basics
    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def remaining(self) -> float:
        if self.time_limit is None:
            return math.inf
        return self.time_limit - self.elapsed()

    def should_stop(self) -> bool:
        if self.proven:
            return True
        if self.dtime_limit is not None and self.dtime_used >= self.dtime_limit:
            return True
        return self.stopped or self.remaining() <= 0.05

    def _watch(self) -> None:
        # Keeps stopping whatever sub-solve is running once stop is set, so a sub-solve that starts
        # just after the event cannot outlive it by more than one poll.
        while not self.done.wait(0.05):
            if self.stop_event is not None and self.stop_event.is_set():
                self.stopped = True
                with self.lock:
                    for s in list(self.active):
                        s.stop_search()

    def _index_x(self) -> None:
        p = self.ctx.problem
        self.x_items: list[tuple[int, int, int]] = []  # (var index, employee, day)
        self.x_cover: list[int] = []  # cover index of each item
        for (e, ci), var in self.ctx.x.items():
            self.x_items.append((var.index, e, p.covers[ci].day))
            self.x_cover.append(ci)
        self.by_emp: dict[int, list[int]] = defaultdict(list)
        self.by_day: dict[int, list[int]] = defaultdict(list)
        for k, (_, e, d) in enumerate(self.x_items):
            self.by_emp[e].append(k)
            self.by_day[d].append(k)
        self.employees = sorted(self.by_emp)
        self.eligible_covers: dict[int, set[int]] = defaultdict(set)
        for k, ci in enumerate(self.x_cover):
            self.eligible_covers[self.x_items[k][1]].add(ci)
        self.cover_index = {c.id: ci for ci, c in enumerate(p.covers)}
        self.num_days = p.num_days

    def _accept(self, values: list[int], objective: float, source: str) -> bool:
        """Record `values` as the incumbent when it is better; report progress. Thread-safe."""
        with self.lock:
            if self.objective is not None and objective >= self.objective - 1e-9:
                return False
            now = self.elapsed()
            self.values = values
            self.objective = objective
            self.solutions += 1
            if self.first is None:
                self.first = now
            self.best_time = now
            self.stats[f"improve_{source}"] += 1
            report = self.report
            if self.bound is None and all(t.weight >= 0 for t in self.ctx.terms):
                # before CP-SAT reports one: the trivial bound (non-negative weights of non-negative
                # penalty variables), so progress always carries a number
                self.bound = 0.0
            args = (self.solutions, objective, self.bound, now)
            if self.bound is not None and objective <= self.bound + 1e-9 and not self.proven:
                # the incumbent meets a proven bound (column generation's, typically): optimal, so
                # every running sub-solve can stop
                self.proven = True
                for sv in list(self.active):
                    sv.stop_search()
        if report is not None:
            report(*args)
        return True

    # ------------------------------------------------------------------------------- full solve
    def _full_solve(self, limit: float, *, first_only: bool = False, workers: int | None = None,
                    model: cp_model.CpModel | None = None, dtime: float | None = None) -> int:
        search = self

        class Cb(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                bound = self.best_objective_bound
                with search.lock:
                    search.bound = bound if search.bound is None else max(search.bound, bound)
                obj = self.objective_value
                if search.objective is None or obj < search.objective - 1e-9:
                    search._accept(list(self.response_proto.solution), obj, "full")

        solver = cp_model.CpSolver()
        tune(solver.parameters, workers or self.workers, limit, log=self.log)
        if first_only:
            solver.parameters.stop_after_first_solution = True
        if self.dtime_limit is not None:
            solver.parameters.max_deterministic_time = dtime if dtime is not None else self.dtime_limit * self.full_share
            solver.parameters.max_time_in_seconds = 1e9
        model = model or self.ctx.model
        if self.values is not None:
            self._set_hint(model.proto, self.values)
        elif first_only and self.keep_hint:
            solver.parameters.repair_hint = True
        with self.lock:
            self.active.add(solver)
        if self.stopped:
            solver.stop_search()
        try:
            status = solver.solve(model, Cb())
        finally:
            with self.lock:
                self.active.discard(solver)
            model.clear_hints()
        self.dtime_used += solver.deterministic_time
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) or (status == cp_model.UNKNOWN and not first_only):
            # CP-SAT's bound is valid without a solution too (long horizons: the LNS thread has the
            # rosters, this solve only the bound)
            b = solver.best_objective_bound
            if math.isfinite(b):
                with self.lock:
                    self.bound = b if self.bound is None else max(self.bound, b)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            vals = list(solver.response_proto.solution)
            self._accept(vals, solver.objective_value, "full")
        return status

    @staticmethod
    def _set_hint(proto, values: list[int]) -> None:
        proto.solution_hint.vars.clear()
        proto.solution_hint.values.clear()
        proto.solution_hint.vars.extend(range(len(values)))
        proto.solution_hint.values.extend(values)

    # ---------------------------------------------------------------------------------- LNS
    def _neighbourhood(self, size: float, kind: str, values: list[int], rng: random.Random) -> set[int]:
        """Positions in `x_items` to free. `size` in (0, 1] is the target share of x variables."""
        n_emp = len(self.employees)
        H = self.num_days
        target = max(1, int(size * len(self.x_items)))
        if kind == "days":
            # window of days, all employees when it fits, else a random subset of employees
            per_day = max(1, len(self.x_items) // max(1, H))
            w = max(1, min(H, round(target / per_day)))
            if w >= 3 or n_emp <= 1:
                d0 = rng.randint(0, H - w)
                days = range(d0, d0 + w)
                return {k for d in days for k in self.by_day[d]}
            w = min(H, 3)
            frac = target / (per_day * w)
            emps = set(rng.sample(self.employees, max(1, int(frac * n_emp))))
            d0 = rng.randint(0, H - w)
            return {k for d in range(d0, d0 + w) for k in self.by_day[d] if self.x_items[k][1] in emps}
        if kind == "employees":
            per_emp = max(1, len(self.x_items) // max(1, n_emp))
            k_emp = max(2, min(n_emp, round(target / per_emp)))
            if k_emp * per_emp > target * 1.5 and H > 28:
                # too large: a window of the horizon for these employees
                k_emp = max(2, min(n_emp, 6))
                w = max(7, min(H, round(target / max(1, k_emp * per_emp / H))))
                d0 = rng.randint(0, H - w)
                emps = set(rng.sample(self.employees, k_emp))
                return {k for e in emps for k in self.by_emp[e] if d0 <= self.x_items[k][2] < d0 + w}
            emps = rng.sample(self.employees, k_emp)
            return {k for e in emps for k in self.by_emp[e]}
        if kind == "weekly":
            return self._weekly(size, rng)
        if kind == "repair":
            return self._repair(size, values, rng)
        if kind == "reduced":
            return self._reduced(size, values, rng)
        if kind == "slack":
            return self._slack(size, values, rng)
        # "costly": a window around a day that pays a penalty, for all (or some) employees
        costly = self._costly_days(values)
        if not costly:
            return self._neighbourhood(size, "days", values, rng)
        centre = rng.choice(costly)
        per_day = max(1, len(self.x_items) // max(1, H))
        w = max(2, min(H, round(target / per_day)))
        d0 = max(0, min(H - w, centre - rng.randint(0, w - 1)))
        return {k for d in range(d0, d0 + w) for k in self.by_day[d]}

    def _weekly(self, size: float, rng: random.Random) -> set[int]:
        """The same days of the week in every week (on horizons over `LONG_WINDOW_DAYS`, every week of
        such a window), for everybody while that fits `size`, else for a random share of the employees. Who
        works which of those days can then be traded between weeks, which a window of consecutive days
        cannot do. That is what a rule counted over the horizon needs: on Curtois Instance13 every
        employee works their maximum of weekends, and a roster's cover shortfall is set by how many
        of those weekends are worked on one day only (12 uncovered shifts with 30 such half
        weekends, 11 with 29)."""
        H = self.num_days
        if H < 14:
            return self._neighbourhood(size, "days", [], rng)
        lo, hi = 0, H
        if H > LONG_WINDOW_DAYS:
            lo = rng.randint(0, H - LONG_WINDOW_DAYS)
            hi = lo + LONG_WINDOW_DAYS
        target = max(1, int(size * len(self.x_items)))
        per_day = max(1, len(self.x_items) // H)
        w = max(1, min(7, round(target / (per_day * math.ceil((hi - lo) / 7)))))
        d0 = rng.randrange(7)
        items = [k for d in range(lo, hi) if (d - d0) % 7 < w for k in self.by_day[d]]
        if len(items) <= 1.5 * target:
            return set(items)
        emps = set(rng.sample(self.employees, max(1, round(len(self.employees) * target / len(items)))))
        return {k for k in items if self.x_items[k][1] in emps}

    def _repair(self, size: float, values: list[int], rng: random.Random) -> set[int]:
        """Employees who could remove a paid penalty (the employee it names, or people eligible for
        an under-covered cover that day), over the whole horizon (or a window on long horizons),
        plus everybody on the days next to it."""
        paid = self._paid_terms(values)
        if not paid:
            return self._neighbourhood(size, "employees", values, rng)
        t = rng.choice(paid)
        p = self.ctx.problem
        cands: list[int] = []
        if t.employee is not None:
            cands.append(t.employee)
        ci = self.cover_index.get(t.detail) if t.rule in ("coverShortfall", "coverSurplus") else None
        if ci is not None:
            pool = [e for e in p.covers[ci].eligible if e in self.by_emp]
            rng.shuffle(pool)
            cands.extend(pool)
        others = [e for e in self.employees if e not in cands]
        rng.shuffle(others)
        cands.extend(others)
        H = self.num_days
        free = self._leading_employees(size, cands, t.day, rng)
        if t.day is not None:
            for d in range(max(0, t.day - 1), min(H, t.day + 2)):
                free.update(self.by_day[d])
        return free

    def _reduced(self, size: float, values: list[int], rng: random.Random) -> set[int]:
        """Where the converged LP says the incumbent loses (`_duals`, the duals of its best pricing
        round): the incumbent's objective is the Lagrangian bound plus each employee's excess (own
        penalties - duals . covers worked - their pricing bound, >= 0) plus each cover's slack term
        ((under weight - dual) . shortfall + (over weight + dual) . surplus, >= 0). One of those parts is
        drawn in proportion to its size; the employees freed are the one it names, then others drawn
        in a random order weighted by their own excess (those who lose against the LP too, so the two
        can trade: on Curtois Instance13, from one dive roster and two seeds, 1467 and 1370 after 200 s
        against 1475 and 1374 with companions by shared covers), or the eligible for the cover, then
        those who share the most covers with them; over the whole horizon (a window on long ones), as
        in `_repair`. Unlike `_repair`, it also finds an employee who pays no penalty of their own but
        works covers the LP prices low."""
        p = self.ctx.problem
        parts = [part for part in self._lagrangian_parts(values) if part[0] > 1e-6]
        if not parts:
            return self._neighbourhood(size, "employees", values, rng)
        _, e0, ci0 = rng.choices(parts, weights=[w for w, _, _ in parts])[0]
        seeds = [e0] if e0 is not None else [e for e in p.covers[ci0].eligible if e in self.by_emp]
        rng.shuffle(seeds)
        others = [e for e in self.employees if e not in seeds]
        if e0 is not None:
            # a random order, weighted by excess (Efraimidis-Spirakis keys)
            excess = {e: w for w, e, _ in parts if e is not None}
            others.sort(key=lambda o: -rng.random() ** (1.0 / (excess.get(o, 0.0) + 0.5)))
        else:
            mine = {ci for e in seeds for ci in self.eligible_covers[e]}
            rng.shuffle(others)
            others.sort(key=lambda o: -len(mine & self.eligible_covers[o]))
        return self._leading_employees(size, seeds + others, p.covers[ci0].day if ci0 is not None else None, rng)

    def _slack(self, size: float, values: list[int], rng: random.Random) -> set[int]:
        """Who could cover an under-covered cover, and who has the minutes for it: on Curtois Instance13
        every hard `totalMinutes` maximum binds (demand asks for more minutes than the staff may work), so
        a shortfall stays until minutes move to an employee who is free that day and may work it. That
        takes a chain of trades in shift length (720 against 480 minutes on a day both work) among
        employees with a few minutes to spare, which random employee groups rarely hold together. The
        freed are: a few (up to three) of those eligible who are off that day but work the day before
        or after (on a weekend, the ones who work its other day), then employees drawn in proportion to
        the minutes they have to spare, over the whole horizon (a window on long ones), and everybody
        on the day itself.

        Not in the default mix: drawn when asked for (`kinds`, `bench/lns_probe.py --kinds`) and by LNS
        worker 0 in the slack phase after the dives (`_start_slack_phase`). LNS with it alone took an
        Instance13 roster from 13 shortfalls to 11 in 4 runs of 4; from three stuck 600 s rosters
        (1483, 1483, 1492; 12 shortfalls), 150 s of it gave 1385 (11), 1479 and 1480. In the default
        mix it did not pay: drawn half the time, Instance8 and 12 missed their 60 s targets (1315,
        4150); drawn half the time once the incumbent stalls, 2 of 4 Instance13 runs ended at 12
        shortfalls (docs/benchmarks.md)."""
        p = self.ctx.problem
        short = [t for t in self._paid_terms(values) if t.rule == "coverShortfall" and t.detail in self.cover_index]
        if not short:
            return self._repair(size, values, rng)
        c = p.covers[self.cover_index[rng.choice(short).detail]]
        worked: set[tuple[int, int]] = set()
        used: dict[int, int] = defaultdict(int)
        for k, (vi, e, d) in enumerate(self.x_items):
            if values[vi]:
                worked.add((e, d))
                used[e] += p.shift_types[p.covers[self.x_cover[k]].shift].duration_minutes
        takers = [e for e in c.eligible if e in self.by_emp and (e, c.day) not in worked
                  and ((e, c.day - 1) in worked or (e, c.day + 1) in worked)]
        rng.shuffle(takers)
        takers = takers[:min(3, max(1, round(size * len(self.employees) / 4)))]  # room for the spare minutes
        spare = {e: self.minute_caps.get(e, 0) - used[e] for e in self.employees if e not in takers}
        # a random order weighted by spare minutes (Efraimidis-Spirakis keys), so that steps on the
        # same shortfall try different groups of them
        holders = sorted(spare, key=lambda e: -rng.random() ** (60.0 / (max(0, spare[e]) + 1)))
        free = self._leading_employees(size, takers + holders, c.day, rng)
        free.update(self.by_day[c.day])
        return free

    def _leading_employees(self, size: float, cands: list[int], centre: int | None, rng: random.Random
                           ) -> set[int]:
        """The first of `cands` (at least two), as many as `size` allows, over the whole horizon, or on
        long horizons over a window of `LONG_WINDOW_DAYS` that holds day `centre` (a random day when None)."""
        H = self.num_days
        target = max(1, int(size * len(self.x_items)))
        per_emp = max(1, len(self.x_items) // max(1, len(self.employees)))
        if H > LONG_WINDOW_DAYS:
            w = LONG_WINDOW_DAYS
            centre = rng.randrange(H) if centre is None else centre
            d0 = max(0, min(H - w, centre - rng.randint(0, w - 1)))
            per_emp = max(1, per_emp * w // H)
        else:
            d0, w = 0, H
        k_emp = max(2, min(len(cands), round(target / per_emp)))
        emps = set(cands[:k_emp])
        return {k for e in emps for k in self.by_emp[e] if d0 <= self.x_items[k][2] < d0 + w}

    def _lagrangian_parts(self, values: list[int]) -> list[tuple[float, int | None, int | None]]:
        """The incumbent `values` split by the duals of `_duals`: (each employee's excess, employee,
        None) and (each cover's slack term, None, cover index). Their sum plus the Lagrangian bound
        (duals . requirements + every pricing bound) is the objective."""
        pi, bounds = self._duals
        p = self.ctx.problem
        excess: dict[int, float] = {e: -bounds.get(e, 0.0) for e in self.employees}
        for t in self.ctx.terms:
            if t.weight and t.employee is not None and t.employee in excess:
                excess[t.employee] += t.weight * _term_value(t.var, values)
        filled = [0] * len(p.covers)
        for k, (vi, e, _) in enumerate(self.x_items):
            if values[vi]:
                ci = self.x_cover[k]
                filled[ci] += 1
                excess[e] -= pi[ci]
        parts: list[tuple[float, int | None, int | None]] = [(v, e, None) for e, v in excess.items()]
        for ci, c in enumerate(p.covers):
            n = filled[ci]
            slack = (c.under_weight - pi[ci]) * max(0, c.required - n)
            if c.over_weight is not None:
                slack += (c.over_weight + pi[ci]) * max(0, n - c.required)
            parts.append((slack, None, ci))
        return parts

    def _paid_terms(self, values: list[int]) -> list:
        out = []
        for t in self.ctx.terms:
            if t.weight and _term_value(t.var, values):
                out.extend([t] * max(1, min(10, t.weight // 10)))
        return out

    def _costly_days(self, values: list[int]) -> list[int]:
        days = []
        for t in self.ctx.terms:
            if t.day is None or not t.weight:
                continue
            if _term_value(t.var, values):
                days.extend([t.day] * max(1, t.weight // 10))
        return days

    def _follow(self, start: tuple[list[int], float]) -> None:
        """Make `start` (values, objective), a roster worse than the incumbent, the track every LNS
        worker improves from its next step on. The incumbent stays the best roster found, returned and
        reported; the track joins it once it beats it, and is dropped after `TRACK_STALL` steps in a row
        (all workers' together) leave it no better."""
        with self.lock:
            self._track = start
            self._track_stall = 0
        self.stats["own_track"] = 1

    def _track_step(self, base: list[int], values: list[int] | None, obj: float | None, plateau: bool,
                    kind: str) -> None:
        """Record one LNS step taken from the track's roster `base` (`_follow`)."""
        with self.lock:
            track = self._track
            if track is None:
                return  # joined or dropped meanwhile
            if values is not None and (obj < track[1] - 1e-9 or (plateau and track[0] is base)):
                # a step from an older roster of the track still counts when it beats the newest one
                self._track = (values, obj)
            better = values is not None and obj < track[1] - 1e-9
            self._track_stall = 0 if better else self._track_stall + 1
            self.stats["own_track_improved"] += int(better)
            if self._track_stall >= TRACK_STALL:
                self._track = None
                self.stats["own_track_dropped"] = 1
                return
        if better and self._accept(values, obj, kind):
            with self.lock:
                if self._track is not None and self._track[0] is values:
                    self._track = None
                    self.stats["own_track_joined"] = 1

    def _lns_worker(self, wid: int, model: cp_model.CpModel, sizes: dict[str, float]) -> None:
        """Repeated neighbourhood search from the shared incumbent, or from the track while there is
        one (`_follow`)."""
        proto = model.proto
        kinds = self.kinds
        rng = random.Random(self.rng.random() + wid)
        while not self.should_stop():
            with self.lock:
                on_track = self._track is not None
                base, base_obj = self._track if on_track else (self.values, self.objective)
            if base is None or self._lns_held():
                time.sleep(0.05)  # waiting for the full solve's first roster, or for the cores
                continue
            sub_limit = min(self.remaining(), self.sub_time)
            if sub_limit <= 0.05:
                break
            if wid == 0 and self._slack_until is not None and time.monotonic() < self._slack_until:
                kind = "slack"
            else:
                kind = rng.choice(kinds + ["reduced"] if self._duals is not None else kinds)
            size = sizes.setdefault(kind, 0.15)
            free = self._neighbourhood(size, kind, base, rng)
            fixed_idx = []
            for k, (vi, _, _) in enumerate(self.x_items):
                if k not in free:
                    v = base[vi]
                    dom = proto.variables[vi].domain
                    dom[0] = v
                    dom[1] = v
                    fixed_idx.append(vi)
            self._set_hint(proto, base)
            solver = cp_model.CpSolver()
            tune(solver.parameters, 1, sub_limit, interleave=False)
            if self.dtime_limit is not None:
                solver.parameters.max_deterministic_time = self.sub_dtime
            for k, v in self.sub_params.items():
                setattr(solver.parameters, k, v)
            solver.parameters.random_seed = rng.randint(0, 1 << 30)
            with self.lock:
                self.active.add(solver)
            if self.stopped:
                solver.stop_search()
            try:
                status = solver.solve(model)
            finally:
                with self.lock:
                    self.active.discard(solver)
                for vi in fixed_idx:
                    dom = proto.variables[vi].domain
                    dom[0] = 0
                    dom[1] = 1
            self.stats[f"lns_{kind}"] += 1
            self.stats["sub_wall"] += solver.wall_time
            self.dtime_used += solver.deterministic_time
            self.stats[f"st_{solver.status_name(status)}"] += 1
            found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            obj = solver.objective_value if found else None
            improved = found and obj < base_obj - 1e-9
            # plateau move: same cost, different roster (only if nobody improved meanwhile)
            plateau = found and not improved and obj <= base_obj + 1e-9 and rng.random() < 0.5
            # the roster is copied only when it is kept: a track never gets worse than its `base`, so a
            # step that did not improve on `base` cannot improve on the track either
            values = list(solver.response_proto.solution) if improved or plateau else None
            if on_track:
                self.stats[f"track_steps_w{wid}"] += 1
                self._track_step(base, values, obj, plateau, kind)
            elif improved:
                self._accept(values, obj, kind)
            elif plateau:
                with self.lock:
                    if self.values is base:
                        self.values = values
                        self.stats["plateau"] += 1
            # adapt the neighbourhood size
            if status == cp_model.OPTIMAL:
                sizes[kind] = min(1.0, sizes[kind] * 1.15)
            elif status in (cp_model.FEASIBLE, cp_model.UNKNOWN):
                sizes[kind] = max(0.005, sizes[kind] * 0.85)

    def _lns_held(self) -> bool:
        hold = self._hold_from
        return hold is not None and time.monotonic() >= hold

    @contextlib.contextmanager
    def _watched(self):
        """`_watch` on its own thread for as long as the block runs."""
        watcher = threading.Thread(target=self._watch, name="search-stop-watcher", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            self.done.set()
            watcher.join()

    def _start_lns_workers(self, n: int, size: float) -> tuple[list[threading.Thread], list[dict[str, float]]]:
        """`n` started LNS threads, each on its own copy of the model, and their neighbourhood sizes
        (every kind at `size`)."""
        sizes_all = [{k: size for k in self.kinds} for _ in range(n)]
        models = [self.ctx.model.clone() for _ in range(n)]
        threads = [threading.Thread(target=self._lns_worker, args=(wid, models[wid], sizes), daemon=True)
                   for wid, sizes in enumerate(sizes_all)]
        for t in threads:
            t.start()
        return threads, sizes_all

    def _sub_solve_seconds(self) -> float:
        """Each LNS sub-solve's wall-time limit: `sub_time` when given, else by the model's size."""
        return self.sub_time_opt or (2.0 if len(self.x_items) < 20000 else 5.0)

    def run(self) -> SearchResult:
        with self._watched():
            return self._run()

    def improve(self, roster: dict, *, threads: int = 2, size: float = 0.15) -> SearchResult | None:
        """LNS alone from `roster` ({(employee, cover index): 1}) for the time limit, on `threads`
        threads, every kind's neighbourhood starting at `size`: the search's last phase, after column
        generation and the dive, without them (`bench/lns_probe.py`; the "reduced" kind needs the converged
        LP, so it is not drawn). None when the roster is not feasible in the whole model."""
        with self._watched():
            start = self._complete_roster(self.ctx.model, roster)
            if start is None:
                return None
            self._accept(*start, "start")
            self.sub_time = self._sub_solve_seconds()
            workers, self.sizes_seen = self._start_lns_workers(max(1, threads), size)
            for t in workers:
                t.join()
            return self._result(cp_model.FEASIBLE)

    def _run(self) -> SearchResult:
        limit = self.remaining()
        if not self.lns or not self.ctx.x or not self.ctx.terms or self.workers == 1:
            # one thread: CP-SAT's interleaved portfolio (see `tune`) for the whole time
            status = self._full_solve(limit)
            # The single-thread interleaved portfolio can return well before its time limit: Curtois
            # Instance5 at 8 s stopped at 7.0 s on an idle machine and at 4.8 s with both cores busy.
            # The rest of the time goes to a resumed solve, hinted with the incumbent.
            while (status in (cp_model.FEASIBLE, cp_model.UNKNOWN) and self.dtime_limit is None
                   and not self.should_stop() and self.remaining() >= RESUME_MIN_SECONDS):
                self.stats["full_resumed"] += 1
                status = self._full_solve(self.remaining())
            return self._result(status)
        if self.strategy == "concurrent":
            return self._run_concurrent()
        share = self.full_share if self.workers >= 2 else max(self.full_share, 0.5)
        full_budget = limit if math.isinf(limit) else max(1.0, share * limit)
        if math.isinf(limit):
            full_budget = 30.0
        status = self._full_solve(full_budget)
        if status in (cp_model.OPTIMAL, cp_model.INFEASIBLE, cp_model.MODEL_INVALID) or self.should_stop():
            return self._result(status)
        if self.values is None:
            status = self._full_solve(self.remaining(), first_only=True)
            if self.values is None or self.should_stop():
                return self._result(status)
        # Phase 2: with two or more workers, one keeps a full CP-SAT solve running (hinted with the
        # incumbent: it tightens the bound and can prove optimality), the others run LNS threads.
        n_lns = self.workers - 1 if (self.full_in_lns and self.workers >= 2) else self.workers
        self.sub_time = self._sub_solve_seconds()
        threads, sizes_all = self._start_lns_workers(n_lns, 0.15)
        full_status = None
        if n_lns < self.workers:
            dt = None if self.dtime_limit is None else max(0.0, self.dtime_limit - self.dtime_used) / 2
            full_status = self._full_solve(self.remaining(), workers=1, dtime=dt)
            if full_status == cp_model.OPTIMAL:
                self.proven = True
                with self.lock:
                    for sv in list(self.active):
                        sv.stop_search()
        for t in threads:
            t.join()
        self.sizes_seen = sizes_all
        status = cp_model.FEASIBLE
        if self.proven or (self.bound is not None and self.objective is not None
                           and self.objective <= self.bound + 1e-9):
            status = cp_model.OPTIMAL
        return self._result(status)

    def _run_concurrent(self) -> SearchResult:
        """workers-1 CP-SAT workers on the full model for the whole time (one worker: the interleaved
        portfolio, whose max-LP subsolvers give strong bounds and can prove optimality) and one LNS
        thread that starts from the full solve's first roster; both feed one incumbent."""
        self.sub_time = self._sub_solve_seconds()
        sizes = {k: 0.15 for k in self.kinds}
        self.sizes_seen = sizes
        def lns_thread(model: cp_model.CpModel) -> None:
            if (self.values is None and not self.should_stop() and self.ctx.problem.rules
                    and self.ctx.problem.num_days >= DECOMPOSE_FROM_DAYS):
                self._decomposed_first_solution(model)
            if self.values is None and not self.should_stop():
                # CP-SAT's two-worker portfolio (feasibility jump, LNS) finds a first roster much sooner
                # than the single interleaved worker, whose first subsolvers are LP-heavy.
                self._full_solve(self.remaining(), first_only=True, workers=2, model=model)
            if colgen:
                self._polish_first_roster(model)
            self._lns_worker(0, model, sizes)

        colgen = self._use_column_generation()
        lns = threading.Thread(target=lns_thread, args=(self.ctx.model.clone(),), name="lns", daemon=True)
        lns.start()
        try:
            if colgen:
                status = self._column_generation_then_lns()
            else:
                status = self._full_solve(self.remaining(), workers=self.workers - 1)
        finally:
            if not self.should_stop():
                # the full solve ended early: proven optimal, infeasible or invalid
                self.proven = True
                with self.lock:
                    for sv in list(self.active):
                        sv.stop_search()
            lns.join()
        if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID) and self.values is None:
            return self._result(status)
        if status == cp_model.OPTIMAL or (self.bound is not None and self.objective is not None
                                          and self.objective <= self.bound + 1e-9):
            return self._result(cp_model.OPTIMAL)
        return self._result(cp_model.FEASIBLE if self.values is not None else status)

    def _use_column_generation(self) -> bool:
        from service.solver.construct import separable

        p = self.ctx.problem
        return (COLUMN_GENERATION and p.num_days < DECOMPOSE_FROM_DAYS and bool(p.rules) and separable(p)
                and not math.isinf(self.remaining()))

    def _column_generation(self) -> bool:
        """`_column_generation_and_dives`, the LNS workers held (`_lns_held`) once column generation has
        run `LNS_HOLD_AFTER` seconds, and through the dives when it took that long. A long column generation
        means a large LP, whose dive's roster the LNS then improves instead of its own; on two cores the LNS
        meanwhile only slows both down (Curtois Instance13: column generation 152-195 s beside the LNS, 90-107 s
        alone; the incumbent after the dive 1736-2161 with the LNS beside it, 1777-2055 without, and the LNS
        has it ~120 s sooner). Instances whose column generation is shorter (Curtois 1-12, 14, 16, 17) keep
        the LNS running throughout."""
        self._hold_from = time.monotonic() + LNS_HOLD_AFTER
        try:
            return self._column_generation_and_dives()
        finally:
            self._hold_from = None

    def _column_generation_and_dives(self) -> bool:
        """On the full-solve thread, before the full solve: column generation (`colgen.py`) for its
        lower bound, far stronger than CP-SAT's on these models, and its rosters (the LP optimum when
        it is integral, else a dive), each pushed into the whole model. Stops everything when the
        incumbent meets the bound. False when some employee has no feasible schedule of their own."""
        from service.solver.colgen import ColumnGeneration

        # pricing on as many threads as the solve has workers: it is most of the time until the LNS has
        # the dive's roster (Curtois Instance13: 67 of 100 s of column generation, 104 of a 207 s dive)
        cg = ColumnGeneration(self.ctx.problem, register=self._register, should_stop=self.should_stop,
                              seed=self.rng.randrange(1 << 30), threads=self.workers)
        t = time.monotonic()
        res = cg.run(deadline=t + COLGEN_SHARE * self.remaining(), upper=self.objective)
        if (not res.converged and res.lower_bound is not None and res.lp_value
                and res.lp_value - res.lower_bound <= COLGEN_NEAR * abs(res.lp_value) and not self.should_stop()):
            # nearly there (Curtois Instance9 at 24 s of 60: LP 405.67, bound 405): a little more
            # time buys the dive and the proof pool, which an unconverged LP does not get
            more = cg.run(deadline=time.monotonic() + COLGEN_EXTRA_SHARE * self.remaining(), upper=self.objective)
            self.stats["colgen_extended"] = 1
            res = dataclasses.replace(more, iterations=res.iterations + more.iterations,
                                      seconds=time.monotonic() - t)
        self.stats["colgen_seconds"] = round(res.seconds, 1)
        self.stats["colgen_iterations"] = res.iterations
        self.stats["colgen_columns"] = res.columns
        self.stats["colgen_converged"] = int(res.converged)
        if res.lp_value is not None:
            self.stats["colgen_lp"] = round(res.lp_value, 1)
        if cg.infeasible_employee is not None:
            return False
        if res.lower_bound is not None:
            with self.lock:
                if self.objective is not None and res.lower_bound > self.objective + 1e-6:
                    # cannot happen for a valid bound: keep CP-SAT's and say so in the stats
                    self.stats["colgen_bound_above_incumbent"] += 1
                else:
                    self.bound = res.lower_bound if self.bound is None else max(self.bound, res.lower_bound)
        if self._check_proven():
            return True
        if res.converged and cg.best_round is not None and REDUCED_NEIGHBOURHOOD:
            self._duals = (cg.best_round.pi, dict(cg.best_round.bounds))
        roster = cg.integral_roster()
        if roster is not None and not self.should_stop():
            self._push_roster(self.ctx.model, roster, "colgen")
        elif res.converged or self._lp_far_below_incumbent(res.lp_value):
            held = self._lns_held()
            self.stats["lns_held_for_dives"] = int(held)
            if not held:
                self._hold_from = None
            self._dives(cg, share=HELD_DIVE_SHARE if held else DIVE_SHARE)
            self._start_slack_phase()
        self._hold_from = None
        if self._check_proven() or self.should_stop() or not res.converged:
            return True
        self._cg = cg
        if BRANCH_AND_PRICE and self._near_bound(BRANCH_GAP):
            self._branch_and_price(cg)
            if self._check_proven() or self.should_stop():
                return True
        self._pool_rounds()
        return True

    def _branch_and_price(self, cg) -> None:
        """Branch-and-price (`branch.py`) from the converged LP for `BRANCH_SHARE` of the time left, each
        roster it finds pushed into the whole model, the incumbent (the LNS thread's too) pruning its
        tree. Each level it settles is a bound, and proves the incumbent optimal once they meet. Curtois
        Instance7 (LP 1054.08), six 60 s runs: 1056 and its proof each time, 40-50 nodes in 4.3-9.9 s;
        the LNS, the dives and the pool programs had stalled at 1058-1060. Only near the bound: on larger
        staffs the tree is too slow (Instance8 from 1310: 1305 in 40 s; Instance12 from 4050: no roster
        in 40 s)."""
        from service.solver.branch import BranchAndPrice

        def incumbent() -> float | None:
            with self.lock:
                return self.objective

        def found(roster: dict, value: float) -> None:
            self._push_roster(self.ctx.model, roster, "branch")

        def settled(bound: float) -> None:
            # every node of the tree was pruned by its level or by an incumbent at least as high as the
            # last one, or was integral and offered: nothing lies below the lower of the two
            with self.lock:
                self.bound = max(self.bound if self.bound is not None else -math.inf, bound)
            self._check_proven()  # stops the search, this tree included, once the incumbent meets it

        bp = BranchAndPrice(cg, incumbent=incumbent, found=found, settled=settled)
        res = bp.run(deadline=time.monotonic() + min(BRANCH_MAX_SECONDS, BRANCH_SHARE * self.remaining()))
        self.stats["branch_nodes"] += res.nodes
        self.stats["branch_rosters"] += res.rosters
        self.stats["branch_seconds"] = round(res.seconds, 1)
        self.stats["branch_exhausted"] = int(res.exhausted)
        self.stats["branch_levels"] = res.levels

    def _polish_first_roster(self, model: cp_model.CpModel) -> None:
        """On the LNS thread, before its first neighbourhood (separable problems): best responses
        (`ColumnGeneration.best_responses`) on the first roster, for at most `POLISH_SHARE` of the time
        left. CP-SAT's first roster leaves many shifts uncovered that one employee could take, and the
        whole-model LNS repairs them only a few at a time: Curtois Instance13's first roster of 31,943
        became 6,300 in 6 s (pricing models built included), a value the LNS alone reached after about
        90 s; Instance19's 25,214 became 8,881 in 11 s (the LNS: about 40 s)."""
        from service.solver.colgen import ColumnGeneration

        with self.lock:
            values = self.values
        if values is None or self.should_stop():
            return
        t = time.monotonic()
        # its own pricing models: the column generation thread's are in use
        cg = ColumnGeneration(self.ctx.problem, register=self._register, should_stop=self.should_stop,
                              seed=self.rng.randrange(1 << 30))
        roster = {key: 1 for key, var in self.ctx.x.items() if values[var.index]}
        polished = cg.best_responses(roster, deadline=t + POLISH_SHARE * self.remaining())
        if polished != roster and not self.should_stop():
            self._push_roster(model, polished, "polish")
        self.stats["polish_seconds"] = round(time.monotonic() - t, 1)

    def _pool_rounds(self) -> None:
        """The restricted master as an integer program over every column so far, the incumbent's
        schedules and every schedule that could take part in a better roster (only once the LP
        converged: before that its bound is too weak to leave few such schedules), and only while a
        better roster would lie within `POOL_GAP` of the Lagrangian bound. When that enumeration is
        complete, the program's optimum settles the problem.
        Again whenever the incumbent improved meanwhile (the LNS thread runs all along): a lower
        incumbent leaves fewer such schedules, so the next enumeration is more often complete.
        When a better roster is within `RESTRICT_GAP` of the Lagrangian bound, those schedules are first
        handed to CP-SAT inside the whole model instead (`ColumnGeneration.restricted_model`): there are
        too many for SCIP (Curtois Instance6 within 1.0: 109,420), and CP-SAT finds or refutes a better
        roster."""
        cg = self._cg
        if cg is None:
            return
        for _ in range(POOL_ROUNDS):
            with self.lock:
                values, upper = self.values, self.objective
            if upper is None or upper == self._pool_upper or self.should_stop():
                break
            self._pool_upper = upper
            lagrangian = cg.best_round.lagrangian if cg.best_round is not None else None
            if lagrangian is not None and upper - 1 - lagrangian > POOL_GAP * abs(lagrangian):
                # too many schedules could take part in a better roster for any pool to hold them all
                # (Curtois Instance13 after its dive: 1850 against 1348); the LNS gets the time instead
                self.stats["pool_skipped"] += 1
                break
            if (lagrangian is not None and upper - 1 - lagrangian <= RESTRICT_GAP * abs(lagrangian)
                    and self._restricted_solve(cg, upper)):
                if self._check_proven():
                    break
                continue
            added, complete = cg.near_optimal_columns(
                upper=upper, deadline=time.monotonic() + ENUMERATION_SHARE * self.remaining())
            self.stats["enumerated_columns"] += added
            self.stats["enumeration_complete"] = int(complete)
            hint = None
            if values is not None:
                hint = cg.add_roster({key: values[var.index] for key, var in self.ctx.x.items()})
            best = cg.best_combination(time_limit=POOL_SHARE * self.remaining(), hint=hint)
            if best is not None:
                roster, objective, optimal = best
                if self.objective is None or objective < self.objective - 1e-9:
                    self._push_roster(self.ctx.model, roster, "pool")
                if optimal and complete and not self.should_stop():
                    with self.lock:
                        self.bound = max(self.bound if self.bound is not None else -math.inf,
                                         min(objective, upper))
            if self._check_proven():
                break

    def _restricted_solve(self, cg, upper: float) -> bool:
        """CP-SAT on the whole model restricted to the rosters that can beat `upper`
        (`ColumnGeneration.restricted_model`), for `RESTRICT_SHARE` of the time left; its rosters become
        the incumbent, and, the pool being complete, OPTIMAL proves its roster and INFEASIBLE proves
        `upper`. False when the pool is not complete within its cap (nothing was solved)."""
        t = time.monotonic()
        model = self.ctx.model.clone()
        model.clear_hints()
        built = cg.restricted_model(model, self.ctx.x, self.ctx.terms, upper=upper,
                                    deadline=t + ENUMERATION_SHARE * self.remaining())
        self.stats["restricted_enumeration_seconds"] = round(time.monotonic() - t, 1)
        if built is None or self.should_stop():
            return False
        self.stats["restricted_schedules"] = built[0]
        n = len(self.ctx.model.proto.variables)
        search = self

        class Cb(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                search._accept(list(self.response_proto.solution)[:n], self.objective_value, "restricted")

        solver = cp_model.CpSolver()
        # the lone default search: the interleaved portfolio found no roster in Instance6's program in 60 s
        tune(solver.parameters, 1, max(0.1, RESTRICT_SHARE * self.remaining()), log=self.log, interleave=False)
        self._register(solver)
        try:
            status = solver.solve(model, Cb())
        finally:
            self._register(solver, False)
        self.stats[f"restricted_{solver.status_name(status)}"] += 1
        self.stats["restricted_seconds"] = round(time.monotonic() - t, 1)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self._accept(list(solver.response_proto.solution)[:n], solver.objective_value, "restricted")
        if status in (cp_model.OPTIMAL, cp_model.INFEASIBLE) and not self.should_stop():
            proven = solver.objective_value if status == cp_model.OPTIMAL else upper
            with self.lock:
                self.bound = max(self.bound if self.bound is not None else -math.inf, proven)
        return True

    def _dives(self, cg, *, share: float) -> None:
        """Dives from the converged LP (`ColumnGeneration.dive`) for `share` of the time left, each
        roster pushed into the whole model. The first takes the heaviest schedules; the next ones pick
        among the heaviest at random, each against the incumbent so far (such a dive stops once its LP
        reaches it), up to `DIVES` in all, as long as the time left could hold another dive as long
        as the last and until one ends without a roster. One dive's early fixes decide its roster: on
        Curtois Instance8, ten dives from one LP gave 1303-1319 eight times and 1407 and 1505 once each."""
        t0 = time.monotonic()
        end = t0 + share * self.remaining()
        last = 0.0
        while (not self.should_stop() and self.stats["dives"] < DIVES
               and end - time.monotonic() >= last and not self._near_bound(DIVE_MIN_GAP)):
            t = time.monotonic()
            first = self.stats["dives"] == 0
            # the first dive runs to its roster, whose best responses can take far more off it than the
            # dive's LP adds (Curtois Instance13: a dive's roster became 1727 after them and the run ended
            # at 1371; the dive's LP rises from 1348 to ~3050, and a run whose dive it cut ended at 1698)
            roster = cg.dive(deadline=end, upper=None if first else self.objective,
                             rng=None if first else random.Random(self.rng.randrange(1 << 30)))
            if roster is not None and not self.should_stop():
                # a dive fixes schedules one step at a time and leaves shifts uncovered that a single
                # employee could take: best responses repair those cheaply (a few pricings each)
                polish = max(1.0, POLISH_SHARE * self.remaining())
                roster = cg.best_responses(roster, deadline=time.monotonic() + polish)
            last = time.monotonic() - t
            self.stats["dives"] += 1
            self.stats["dive_rosters"] += int(roster is not None)
            if roster is not None and not self.should_stop():
                done = self._complete_roster(self.ctx.model, roster)
                if done is not None and not self._accept(*done, "colgen") and first:
                    # the LNS's roster is better by now, but the dive's lies in another basin, often a
                    # deeper one (Curtois Instance13: runs that kept it ended at 1371-1383, one that
                    # dropped it at 1697): every LNS worker improves it first, until it beats the
                    # incumbent (two workers from the dive's end, not one from the full solve's slice on)
                    self._follow(done)
                    self.stats["dive_roster_behind"] = 1
            if self._check_proven() or roster is None:
                # a dive whose LP reached the incumbent: the LP's heaviest schedules do not combine into
                # a better roster, and the next dive, a few choices away, is as slow (Curtois
                # Instance19: two such dives, 184 s together, the LNS's second thread waiting)
                break
        self.stats["dive_seconds"] = round(time.monotonic() - t0, 1)
        self.stats["dive_master_rebuilt"] = cg.master_rebuilds

    def _start_slack_phase(self) -> None:
        """After the dives, when the covers ask for more minutes than the staff may work (hard
        `totalMinutes` maxima) and at least `SLACK_PHASE_MIN_LEFT` s are left: LNS worker 0 draws only
        "slack" (`_slack`) for `SLACK_PHASE_SHARE` of the time left; the other worker keeps the mix.
        On Curtois Instance13 the runs that missed settled on 12 cover shortfalls where the hits have 11,
        and the kind removes such shortfalls only over many steps in a row: from a 13-shortfall roster,
        alone, 11 in 60 s in 3 runs of 3 where the mix stayed at 12 and 13; drawn half the time after a
        60 s stall (about 500 s into the run), it came too late (2 of 4 runs at 12). With this phase,
        eight 600 s runs all ended at 11 shortfalls, seven within 5 % of the optimum (docs/benchmarks.md).
        Gated so: Curtois 1-12 at 60 s have too little time left, 14-19 spare minutes (demand 90-96 % of
        the maxima), NGRS inputs no minutes maxima."""
        if not self.minute_caps or self.remaining() < SLACK_PHASE_MIN_LEFT or self.should_stop():
            return
        p = self.ctx.problem
        demand = sum(c.required * p.shift_types[c.shift].duration_minutes for c in p.covers)
        if demand < sum(self.minute_caps.values()):
            return
        seconds = SLACK_PHASE_SHARE * self.remaining()
        self._slack_until = time.monotonic() + seconds
        self.stats["slack_phase_seconds"] = round(seconds, 1)

    def _lp_far_below_incumbent(self, lp_value: float | None) -> bool:
        """An LP that has not converged still guides a dive when it lies at least `UNCONVERGED_DIVE_GAP`
        below the incumbent: its value only falls as columns come, and its columns are the ones it
        has. Curtois Instance13 on a slower machine: 31 of the 35 rounds it needs in 240 s, LP 1361.7
        (optimum 1348), no dive, and the run ended at 1955 from the LNS alone."""
        with self.lock:
            obj = self.objective
        ok = lp_value is not None and obj is not None and lp_value <= (1 - UNCONVERGED_DIVE_GAP) * obj
        self.stats["dive_unconverged"] = int(ok)
        return ok

    def _near_bound(self, gap: float) -> bool:
        """The incumbent is within `gap` (relative) of the lower bound."""
        with self.lock:
            return (self.objective is not None and self.bound is not None
                    and self.objective - self.bound <= gap * abs(self.bound))

    def _column_generation_then_lns(self) -> int:
        """The full-solve thread's schedule when column generation applies: column generation, a short
        full solve (it proves small instances whose LP bound has a gap, Curtois Instance1 in 0.3 s),
        then a second LNS thread for the rest of the time: on these models the LP bound settles
        optimality far better than the full solve, which then mostly just runs its own search."""
        if not self._column_generation():
            # some employee has no schedule of their own: the full solve proves the problem infeasible
            return self._full_solve(self.remaining(), workers=self.workers - 1)
        if self.proven or self.should_stop():
            return cp_model.OPTIMAL if self.proven else cp_model.UNKNOWN
        slice_ = min(self.remaining(), max(FULL_AFTER_COLGEN_SHARE * self.remaining(), FULL_AFTER_COLGEN_MIN))
        status = self._full_solve(slice_, workers=self.workers - 1)
        if status in (cp_model.OPTIMAL, cp_model.INFEASIBLE, cp_model.MODEL_INVALID) or self.should_stop():
            return status
        while self.values is None and not self.should_stop():
            time.sleep(0.05)  # the other LNS thread is still looking for a first roster
        self._pool_rounds()  # once more, should the incumbent have improved meanwhile
        if self._check_proven() or self.should_stop():
            return cp_model.OPTIMAL if self.proven else cp_model.UNKNOWN
        self._lns_worker(1, self.ctx.model.clone(), {k: 0.15 for k in self.kinds})
        return cp_model.FEASIBLE if self.values is not None else cp_model.UNKNOWN

    def _check_proven(self) -> bool:
        """True (and every sub-solve stopped) once the incumbent's objective meets the best bound."""
        with self.lock:
            done = self.objective is not None and self.bound is not None and self.objective <= self.bound + 1e-9
            if done:
                self.proven = True
                for sv in list(self.active):
                    sv.stop_search()
        return done

    def _register(self, solver: cp_model.CpSolver, on: bool = True) -> None:
        with self.lock:
            if on:
                self.active.add(solver)
            else:
                self.active.discard(solver)
        if on and self.stopped:
            solver.stop_search()

    def _decomposed_first_solution(self, model: cp_model.CpModel) -> None:
        """Long horizons, where the whole model is slow to yield a first roster. Separable
        problems (`construct.separable`): employee-by-employee construction, then block coordinate
        descent on small models of 1-3 employees for a share of the time, each better roster pushed
        into the whole model. Others: a first roster from rolling time windows
        (`window_problems_roster`). Whole-model LNS continues from the incumbent in both cases."""
        from service.solver.construct import GroupSolver, improve_roster, separable

        if separable(self.ctx.problem):
            gs = GroupSolver(self.ctx.problem, register=self._register, seed=self.rng.randrange(1 << 30))
            t = time.monotonic()
            end = t + (self.remaining() if not math.isinf(self.remaining()) else 300.0)
            if not gs.construct(deadline=end, should_stop=self.should_stop):
                self.stats["construct_failed"] += 1
                return
            self.stats["construct_seconds"] = round(time.monotonic() - t, 1)
            push_seconds = self._push_roster(model, gs.assignment(), "construct")
            if push_seconds is None:
                return
            # Group descent takes the big early gains cheaply; whole-model LNS (windows of days for
            # everybody) keeps improving where it stalls. Instance20, 300 s, single runs: at ~75 s
            # 9608 with the descent vs 15275 with LNS only; at the end 6375 (descent then LNS),
            # 6334 (LNS only), 6489 (descent only) - the same within run-to-run noise.
            # Beyond GROUP_DESCENT_ONLY_FROM assignment variables whole-model LNS stopped paying off
            # (Instance24, 1.04 M of them: no LNS gain in the last 170 s of a 600 s run, after the
            # descent had found one every few seconds), so the descent keeps going.
            pushed = gs.version
            share = 1.0 if len(self.x_items) >= GROUP_DESCENT_ONLY_FROM else GROUP_DESCENT_SHARE
            # (the last push into the whole model must end before the time limit)
            phase_end = time.monotonic() + share * max(0.0, self.remaining() - 2.0 * push_seconds)
            while not self.should_stop() and time.monotonic() < phase_end:
                until = min(phase_end, time.monotonic() + max(15.0, 4.0 * push_seconds))
                improve_roster(gs, deadline=until, should_stop=self.should_stop)
                if gs.version != pushed:
                    pushed = gs.version
                    push_seconds = self._push_roster(model, gs.assignment(), "groups") or push_seconds
            self.stats["group_solves"] = gs.solves
            return
        budget = max(5.0, 0.6 * self.remaining()) if not math.isinf(self.remaining()) else 300.0
        t = time.monotonic()
        assigned = window_problems_roster(self.ctx.problem, time_budget=budget, workers=1,
                                          register=self._register, log=self.log)
        self.stats["window_seconds"] = round(time.monotonic() - t, 1)
        if assigned is None or self.should_stop():
            self.stats["window_failed"] += 1
            return
        if self._push_roster(model, assigned, "windows") is None:
            # not feasible as a whole: a hint for the first-solution solve that follows
            model.clear_hints()
            model.proto.solution_hint.vars.extend([var.index for var in self.ctx.x.values()])
            model.proto.solution_hint.values.extend([assigned.get(key, 0) for key in self.ctx.x])
            self.keep_hint = True

    def _push_roster(self, model: cp_model.CpModel, assigned: dict, source: str) -> float | None:
        """Complete a roster ({(employee, cover index): 1}) in the whole model and offer it as
        incumbent. Returns the seconds it took, or None when the roster is not feasible in the whole
        model."""
        t = time.monotonic()
        done = self._complete_roster(model, assigned)
        if done is None:
            return None
        self._accept(*done, source)
        return time.monotonic() - t

    def _complete_roster(self, model: cp_model.CpModel, assigned: dict) -> tuple[list[int], float] | None:
        """The whole model's (values, objective) with every assignment variable fixed to `assigned`,
        or None when that roster is not feasible in the whole model."""
        proto = model.proto
        fixed = []
        for key, var in self.ctx.x.items():
            v = assigned.get(key, 0)
            dom = proto.variables[var.index].domain
            dom[0] = v
            dom[1] = v
            fixed.append(var.index)
        solver = cp_model.CpSolver()
        tune(solver.parameters, 1, max(1.0, self.remaining()), interleave=False)
        self._register(solver)
        try:
            status = solver.solve(model)
        finally:
            self._register(solver, False)
            for vi in fixed:
                dom = proto.variables[vi].domain
                dom[0] = 0
                dom[1] = 1
        self.stats[f"push_{solver.status_name(status)}"] += 1
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return list(solver.response_proto.solution), solver.objective_value

    def _result(self, status: int) -> SearchResult:
        name = cp_model.CpSolver().status_name(status) if not isinstance(status, str) else status
        if self.values is not None and name not in ("OPTIMAL", "FEASIBLE"):
            name = "FEASIBLE"
        return SearchResult(
            status=name,
            objective=self.objective,
            best_bound=self.bound,
            values=self.values,
            first_solution_seconds=self.first,
            best_solution_seconds=self.best_time,
            solutions=self.solutions,
            stopped=self.stopped,
            stats=dict(self.stats) | {"sizes": getattr(self, "sizes_seen", None)},
        )


def _minute_caps(problem) -> dict[int, int]:
    """{employee: maximum minutes} of the problem's hard `totalMinutes` rule, or {} without one."""
    for spec in problem.rules:
        if spec.rule == "totalMinutes" and spec.hard:
            return {e: int(v[1]) for e, v in spec.params.items() if v is not None and v[1] is not None}
    return {}


def _term_value(var, values: list[int]) -> int:
    """Value of a term variable (IntVar, negated literal or constant) in a full value vector."""
    if isinstance(var, int):
        return var
    idx = var.index
    if idx < 0:
        return 1 - values[-idx - 1]
    return values[idx]


# ------------------------------------------------------------------------------ decomposition
WINDOW_DAYS = 28
OVERLAP_DAYS = 14
LOOKAHEAD_DAYS = 7  # solved with the window but not kept, so the window's end can be continued
HISTORY_WEIGHT = 10_000_000  # of an overlap cover: the history a window sees (its people are also fixed hard)
DECOMPOSE_FROM_DAYS = 112
LONG_WINDOW_DAYS = 56  # the span of a whole-horizon neighbourhood on longer horizons (`_leading_employees`, `_weekly`)
GROUP_DESCENT_SHARE = 0.5  # of the time left after construction, before whole-model LNS takes over
GROUP_DESCENT_ONLY_FROM = 500_000  # assignment variables (Instance22: 109 k, 23: 333 k, 24: 1.04 M)
COLUMN_GENERATION = True  # for separable problems on horizons below DECOMPOSE_FROM_DAYS (see `colgen.py`)
COLGEN_SHARE = 0.4  # of the time left, at most, for column generation to converge
COLGEN_NEAR = 0.02  # an unconverged LP within this fraction of its bound gets, at most, ...
COLGEN_EXTRA_SHARE = 0.25  # ... this share of the time then left to converge
DIVE_SHARE = 0.5  # of the time left after it, at most, for the dives
UNCONVERGED_DIVE_GAP = 0.1  # an LP that has not converged dives only this far below the incumbent (relative)
DIVES = 5  # at most
POLISH_SHARE = 0.05  # of the time left, at most, for best responses on a dive's roster or the first roster
ENUMERATION_SHARE = 0.3  # of the time left after the dive, at most, for pooling near-optimal schedules
POOL_SHARE = 0.25  # of the time left after that, at most, for the restricted master as an IP
POOL_ROUNDS = 3  # enumeration and IP rounds, each after the incumbent improved
POOL_GAP = 0.02  # ... only while a better roster would lie within this (relative) of the Lagrangian bound
REDUCED_NEIGHBOURHOOD = True  # the LNS also frees where the converged LP says the incumbent loses
BRANCH_AND_PRICE = True  # after the dives, while the incumbent is within BRANCH_GAP (relative) of the bound
BRANCH_GAP = 0.01
BRANCH_SHARE = 0.6  # of the time left, at most, for branch-and-price ...
BRANCH_MAX_SECONDS = 30.0  # ... and no longer: its trees grow with the staff (Curtois Instance12: no roster in 40 s)
TRACK_STALL = 80  # LNS steps in a row (all workers') without gain before the track is dropped (`_follow`)
DIVE_MIN_GAP = 0.005  # no (further) dive once the incumbent is this close to the bound (relative)
RESTRICT_GAP = 0.001  # the pool goes to CP-SAT inside the whole model when the incumbent - 1 is this close
# to the Lagrangian bound (relative; Curtois Instance6: 1950 vs 1949.0, Instance7: 1056 vs 1054.08 is not)
RESTRICT_SHARE = 0.6  # of the time left, at most, for that solve
FULL_AFTER_COLGEN_SHARE = 0.1  # of the time left after column generation (at least FULL_AFTER_COLGEN_MIN s)
FULL_AFTER_COLGEN_MIN = 2.0
LNS_HOLD_AFTER = 30.0  # s of column generation before the LNS workers wait for it and its dives
HELD_DIVE_SHARE = 0.35  # of the time left, at most, for the dives while the LNS waits (both cores theirs)
SLACK_PHASE_MIN_LEFT = 120.0  # s left after the dives for LNS worker 0 to draw only "slack" ...
SLACK_PHASE_SHARE = 0.5  # ... for this share of them (`_start_slack_phase`)
RESUME_MIN_SECONDS = 0.5  # a one-thread solve that returned early resumes when this much time is left


def window_problems_roster(problem, *, time_budget: float, workers: int, register, log: bool = False,
                           trace: list | None = None):
    """First roster for long horizons by rolling time windows: each window of WINDOW_DAYS days is
    solved as its own `Problem`, with the previous OVERLAP_DAYS days fixed as history (so run rules
    see across the border), horizon-wide limits (total minutes, shifts per type, weekends) turned
    into what is left of them (hard) plus a pro-rata share (soft), and its own covers and requests.
    Returns {(employee, cover index): 1} for the assigned pairs, or None when a window fails.
    `register(solver)` / `register(solver, False)` lets the caller stop a running window solve."""
    import dataclasses

    from service.solver.builder import build
    from service.solver.model import Cover

    p = problem
    H = p.num_days
    t_end = time.monotonic() + time_budget
    starts = list(range(0, H, WINDOW_DAYS))
    roster: dict[tuple[int, int], int] = {}  # (employee, day) -> original cover index
    minutes_of = {s: st.duration_minutes for s, st in p.shift_types.items()}
    max_len = max(minutes_of.values())
    covers_by_day: dict[int, list[int]] = defaultdict(list)
    for ci, c in enumerate(p.covers):
        covers_by_day[c.day].append(ci)
    saturday_days = {d for d in range(H) if p.date_of(d).weekday() == 5}

    def weekends_worked(e: int, lo: int, hi: int) -> int:
        n = 0
        for d in range(lo, hi):
            if d in saturday_days or (d == lo and p.date_of(d).weekday() == 6):
                days = [x for x in (d, d + 1) if lo <= x < hi and (x == d or p.date_of(x).weekday() == 6)]
                if any((e, x) in roster for x in days):
                    n += 1
        return n

    for k, a in enumerate(starts):
        b = min(H, a + WINDOW_DAYS)
        o = max(0, a - OVERLAP_DAYS)
        bx = min(H, b + LOOKAHEAD_DAYS)
        W, R = bx - a, H - a
        covers: list[Cover] = []
        back: list[int | None] = []
        days_off = set()
        for d in range(o, a):  # history, fixed
            by_shift: dict[str, list[int]] = defaultdict(list)
            for (e, dd), ci in list(roster.items()):
                if dd == d:
                    by_shift[p.covers[ci].shift].append(e)
            working = {e for es in by_shift.values() for e in es}
            for s, es in by_shift.items():
                covers.append(Cover(f"hist:{d}:{s}", d - o, s, len(es), tuple(sorted(es)), HISTORY_WEIGHT, None))
                back.append(None)
            days_off |= {(e, d - o) for e in range(len(p.employees)) if e not in working}
        for d in range(a, bx):
            for ci in covers_by_day[d]:
                covers.append(dataclasses.replace(p.covers[ci], day=d - o))
                back.append(ci)
        days_off |= {(e, d - o) for (e, d) in p.days_off if a <= d < bx}
        requests = tuple(dataclasses.replace(r, day=r.day - o) for r in p.requests if a <= r.day < bx)

        def used_minutes(e: int, lo: int, hi: int) -> int:
            return sum(minutes_of[p.covers[ci].shift] for (ee, d), ci in roster.items() if ee == e and lo <= d < hi)

        def used_shifts(e: int, s: str, lo: int, hi: int) -> int:
            return sum(1 for (ee, d), ci in roster.items() if ee == e and lo <= d < hi and p.covers[ci].shift == s)

        rules = []
        for spec in p.rules:
            if spec.rule == "totalMinutes":
                hard, soft = {}, {}
                for e, param in spec.params.items():
                    lo, hi = param if param is not None else (None, None)
                    before, hist = used_minutes(e, 0, a), used_minutes(e, o, a)
                    cap_future = (H - bx) * max_len
                    h_lo = None if lo is None else max(0, lo - before - cap_future) + hist
                    h_hi = None if hi is None else max(0, hi - before) + hist
                    hard[e] = (h_lo, h_hi)
                    # pro-rata share, one shift ahead while more windows follow (a buffer for them)
                    ahead = max_len if R > W else 0
                    s_lo = None if lo is None else int(math.ceil(max(0, lo - before) * W / R)) + ahead + hist
                    s_hi = None if hi is None else int(max(0, hi - before) * W / R + max_len) + hist
                    soft[e] = (s_lo, s_hi)
                if spec.hard:
                    rules.append(dataclasses.replace(spec, params=hard))
                rules.append(dataclasses.replace(spec, hard=False, weight=5, params=soft))
            elif spec.rule == "maxShiftsPerType":
                hard, soft = {}, {}
                for e, param in spec.params.items():
                    hard[e], soft[e] = {}, {}
                    for s, mx in dict(param or {}).items():
                        if mx is None:
                            continue
                        before, hist = used_shifts(e, s, 0, a), used_shifts(e, s, o, a)
                        hard[e][s] = max(0, mx - before) + hist
                        soft[e][s] = int(math.ceil(max(0, mx - before) * W / R)) + hist
                if spec.hard:
                    rules.append(dataclasses.replace(spec, params=hard))
                rules.append(dataclasses.replace(spec, hard=False, weight=2000, params=soft))
            elif spec.rule == "maxWeekends":
                hard, soft = {}, {}
                for e, param in spec.params.items():
                    if param is None:
                        continue
                    before, hist = weekends_worked(e, 0, a), weekends_worked(e, o, a)
                    hard[e] = max(0, int(param) - before) + hist
                    soft[e] = int(round(max(0, int(param) - before) * W / R)) + hist
                if spec.hard:
                    rules.append(dataclasses.replace(spec, params=hard))
                rules.append(dataclasses.replace(spec, hard=False, weight=2000, params=soft))
            else:
                rules.append(spec)
        sub = dataclasses.replace(
            p, name=f"{p.name}[{a}:{b}]", start_date=p.date_of(o), num_days=bx - o, covers=tuple(covers),
            rules=tuple(rules), requests=requests, days_off=frozenset(days_off),
            public_holidays=frozenset(d - o for d in p.public_holidays if o <= d < bx))
        for attempt in (0, 1):
            if attempt == 1:
                # the remaining limits cannot all be met in this window: keep them as heavy penalties
                # (the roster is then only a hint for the full model, which repairs it)
                limits = {"totalMinutes", "maxShiftsPerType", "maxWeekends"}
                sub = dataclasses.replace(sub, rules=tuple(
                    dataclasses.replace(r, hard=False, weight=1000) if r.rule in limits and r.hard else r
                    for r in sub.rules))
            sctx = build(sub)
            # the overlap is history: its people must stay on it, or a first, merely feasible,
            # solution that pays a history shortfall lets a run rule miss work the roster keeps
            for (e, sci), var in sctx.x.items():
                if back[sci] is None and e in sub.covers[sci].eligible:
                    sctx.model.add(var == 1)
            solver = cp_model.CpSolver()
            left = t_end - time.monotonic()
            tune(solver.parameters, workers, max(1.0, left / (len(starts) - k)), log=log)
            register(solver)
            try:
                status = solver.solve(sctx.model)
            finally:
                register(solver, False)
            if trace is not None:
                trace.append((a, b, attempt, solver.status_name(status), round(solver.wall_time, 1)))
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) or time.monotonic() >= t_end:
                break
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if log:
                print(f"window {a}-{b}: {solver.status_name(status)}")
            return None
        for (e, sci), var in sctx.x.items():
            ci = back[sci]
            if ci is not None and p.covers[ci].day < b and solver.boolean_value(var):
                roster[(e, p.covers[ci].day)] = ci
    return {(e, ci): 1 for (e, _), ci in roster.items()}
