"""One employee's cheapest whole-horizon schedule by dynamic programming: the fast pricer of column
generation (`colgen.py`).

CP-SAT takes ~50 ms to find (not just prove) the best schedule of one employee over 28 days under
cover duals (Curtois Instance8), and column generation needs thousands of such solves. The schedule
is a shortest path: states are (run kind and length, last shift's class) x weekends used x worked
minutes, so one day is one pass over a few thousand states (compiled: `schedule_dp_kernel.py`). What
the DP holds exactly: one shift a day, fixed days off, forbidden successions (by the class of shifts
each shift forbids next), max/min consecutive working days and min consecutive days off with runs
touching either end exempt (the same automaton as `pattern_dp.py`), max weekends, total minutes (in
units of the gcd of the shift lengths). Per-type maxima are held by decremental state-space
relaxation: at first relaxed, so the DP's optimum is a valid lower bound, exact whenever its path
keeps every maximum; when the best path breaks a maximum, that shift type's count joins the state
(one more axis, 0..max) and the DP runs again, until the best path keeps every maximum or the
reached states would pass what the sparse pass holds (`MAX_SPARSE_ENTRIES`; then the caller prices
with CP-SAT). A type once tracked stays tracked, since the duals of the next round are much the same;
but each pricing first runs the pass without counts, and is done when its best path keeps every
maximum. Passes with counts enter only the states that can still end within a slack of that relaxed
optimum, by a backward pass's cost to go (`backward`), the slack widened until some state ends within
it: an exact pruning (every path within the slack keeps all its states). Curtois Instance13, column
generation on two threads: 172 s to converge with every tracked count in every pass (pricing 212
thread-seconds), 80 s this way (44).
The forward pass holds every state densely while days x states stay within `MAX_TRACKED_VALUES`, and
only the reached ones beyond it (`forward_sparse`): tracking multiplies the states, but few are
reached (Curtois Instance19 with its N count: 1.1 M states a day, 6.6 k reached on average once
states that can no longer reach the minimum minutes are dropped, `_minutes_needed`). (Lagrange
multipliers on the maxima gave columns up to 66 above the optimum on Curtois Instance8.)

Only hard rules of those kinds (`SUPPORTED`) and shift requests are read; for anything else
`ScheduleDP.build` returns None and CP-SAT prices alone. Why by hand: no maintained library does
resource-constrained shortest paths over our rule set.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from typing import Callable

import numpy as np

from service.solver import rules as rule_registry
from service.solver.model import Problem
from service.solver.rules.sequences import weekend_groups
from service.solver.schedule_dp_kernel import backward, clear, forward, forward_sparse

SUPPORTED = frozenset({"maxConsecutiveWorkingDays", "minConsecutiveWorkingDays", "minConsecutiveDaysOff",
                       "runPattern", "maxWeekends", "maxShiftsPerType", "totalMinutes"})
ENUMERATION_WALK = 4  # schedules `enumerate` may walk (maxima broken ones too) per schedule it may list
MAX_CELLS = 2_000_000  # states a day (run x class x weekends x minutes); beyond it CP-SAT prices
# values the dense forward pass may hold over the horizon (days x states, 14 bytes each with its
# predecessor) once per-type counts join the state; beyond it the sparse pass runs
MAX_TRACKED_VALUES = 12_000_000
# reached states the sparse pass may hold over the horizon (36 bytes each with their fields); beyond it
# a broken maximum is left to CP-SAT. Curtois Instance19 with one count tracked: 0.56 M
MAX_SPARSE_ENTRIES = 4_000_000
MAX_SPARSE_SLOTS = 1 << 22  # of its hash table: a day may reach half as many states
INF = math.inf
_NO_TOGO = np.zeros((1, 1))  # `forward`'s togo when it does not prune
# once counts are tracked, a pass enters only the states that can still end within PRUNE_START of the
# relaxed optimum; PRUNE_GROWTH times more whenever none does, and no limit past PRUNE_UNTIL
PRUNE_START = 0.5
PRUNE_GROWTH = 4.0
PRUNE_UNTIL = 1e4


@dataclass
class _Option:
    ci: int  # cover index in the problem
    shift: str
    cls: int  # class of the shift: which shifts it forbids the next day
    units: int  # length in minute units
    kind: int  # index among the employee's capped shift types, -1 when uncapped
    own: float  # own penalty of working it (requests), on top of `ScheduleDP.constant`


class _Scratch(threading.local):
    """The forward pass's arrays, one set per thread, shared by all its DPs and grown to the largest
    asked for (at most `MAX_TRACKED_VALUES` values). Column generation prices one employee after
    another on one thread: arrays of its own for each of Curtois Instance13's 120 employees, with
    their per-type counts tracked, could hold gigabytes, and allocating them anew for each pricing
    cost a fifth of its time. Each use clears only what the last one reached (`clear`)."""

    def __init__(self) -> None:
        self.flat: tuple[np.ndarray, ...] | None = None  # V, pred_state, pred_opt, reached
        self.n_reached = np.zeros(0, dtype=np.int64)
        self.last: tuple[np.ndarray, np.ndarray] | None = None  # V and reached as the last use saw them

    def arrays(self, rows: int, states: int) -> tuple[np.ndarray, ...]:
        """V (rows x states, all INF), pred_state, pred_opt, reached (the same shape), n_reached."""
        if self.last is not None:
            clear(self.last[0], self.last[1], self.n_reached)
        size = rows * states
        if self.flat is None or self.flat[0].size < size:
            self.flat = (np.full(size, INF), np.empty(size, dtype=np.int32), np.empty(size, dtype=np.int16),
                         np.empty(size, dtype=np.int32))
        if self.n_reached.size < rows:
            self.n_reached = np.zeros(rows, dtype=np.int64)
        V, pred_state, pred_opt, reached = (a[:size].reshape(rows, states) for a in self.flat)
        self.last = (V, reached)
        return V, pred_state, pred_opt, reached, self.n_reached[:rows]


_SCRATCH = _Scratch()


class _SparseScratch(threading.local):
    """The sparse forward pass's arrays, one set per thread like `_Scratch`, grown (doubled) whenever
    a pass runs out of entries or hash slots, up to `MAX_SPARSE_ENTRIES` and `MAX_SPARSE_SLOTS`."""

    def __init__(self) -> None:
        self.entries = self.slots = 0
        self.axes = 1
        self.grow_entries(1 << 18)
        self.grow_slots(1 << 16)

    def grow_entries(self, size: int, axes: int | None = None) -> bool:
        size, axes = min(size, MAX_SPARSE_ENTRIES), max(1, axes or self.axes)
        if size <= self.entries and axes <= self.axes:
            return False
        self.entries, self.axes = max(size, self.entries), max(axes, self.axes)
        n = self.entries
        self.ids, self.val = np.empty(n, dtype=np.int64), np.empty(n, dtype=float)
        self.pred, self.opt = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int16)
        # run state, class, weekends, minutes, counts of each entry's state
        self.fields = (np.empty(n, dtype=np.int16), np.empty(n, dtype=np.int16), np.empty(n, dtype=np.int16),
                       np.empty(n, dtype=np.int32), np.empty((n, self.axes), dtype=np.int16))
        return True

    def grow_slots(self, size: int) -> bool:
        size = min(size, MAX_SPARSE_SLOTS)
        if size <= self.slots:
            return False
        self.slots = size
        self.table = np.full(size, -1, dtype=np.int64)
        self.where = np.empty(size, dtype=np.int32)
        self.used = np.empty(size // 2, dtype=np.int64)
        return True


_SPARSE = _SparseScratch()


class ScheduleDP:
    """The DP of one employee `e` of `problem`; `price(cover_cost)` gives the cheapest schedule."""

    @classmethod
    def build(cls, problem: Problem, e: int) -> ScheduleDP | None:
        for r in problem.rules:
            rid = rule_registry.canonical(r.rule)
            if e in r.params and r.params[e] is not None and (rid not in SUPPORTED or not r.hard):
                return None
        dp = cls(problem, e)
        return dp if dp.cells <= MAX_CELLS else None

    def __init__(self, problem: Problem, e: int):
        p = problem
        self.H = H = p.num_days
        lim = {"max_work": None, "min_work": 1, "min_off": 1, "max_weekends": None, "minutes": (None, None),
               "max_shifts": {}}
        for r in p.rules:
            if e not in r.params or r.params[e] is None:
                continue
            rid, v = rule_registry.canonical(r.rule), r.params[e]
            if rid == "maxConsecutiveWorkingDays":
                lim["max_work"] = int(v)
            elif rid == "minConsecutiveWorkingDays":
                lim["min_work"] = max(lim["min_work"], int(v))
            elif rid == "minConsecutiveDaysOff":
                lim["min_off"] = max(lim["min_off"], int(v))
            elif rid == "runPattern":
                mx, mn, mo = v
                if mx is not None:
                    lim["max_work"] = int(mx)
                lim["min_work"] = max(lim["min_work"], int(mn or 1))
                lim["min_off"] = max(lim["min_off"], int(mo or 1))
            elif rid == "maxWeekends":
                lim["max_weekends"] = int(v)
            elif rid == "totalMinutes":
                lim["minutes"] = v
            elif rid == "maxShiftsPerType":
                lim["max_shifts"] = {s: int(x) for s, x in dict(v).items() if x is not None}

        # options: the covers employee e may work, per day
        opts: dict[int, list[_Option]] = defaultdict(list)
        cover_days: dict[str, int] = defaultdict(int)
        for ci, c in enumerate(p.covers):
            if e in c.eligible and (e, c.day) not in p.days_off:
                opts[c.day].append(_Option(ci, c.shift, 0, 0, -1, 0.0))
                cover_days[c.shift] += 1
        lengths = sorted({p.shift_types[o.shift].duration_minutes for os_ in opts.values() for o in os_})
        g = reduce(math.gcd, lengths) if lengths else 1
        g = max(1, g)
        # shift classes by the set of shifts each forbids next (class 0: forbids nothing, and "off")
        follow: dict[str, frozenset] = defaultdict(frozenset)
        for a, b in p.forbidden_successions:
            follow[a] = follow[a] | {b}
        classes: list[frozenset] = [frozenset()]
        for s in sorted(p.shift_types):
            if follow[s] and follow[s] not in classes:
                classes.append(follow[s])
        self.L = len(classes)
        self.allowed = {s: np.array([s not in c for c in classes]) for s in p.shift_types}
        capped = sorted(s for s, mx in lim["max_shifts"].items() if mx < cover_days.get(s, 0))
        self.caps = [lim["max_shifts"][s] for s in capped]
        self.tracked: list[int] = []  # kinds whose count is part of the state, in axis order
        self.untrackable: set[int] = set()  # kinds whose count took the sparse pass past its room
        self._last_rise = 0.0  # the last tracked optimum less the relaxed one (`_tracked_ends`)
        kind_of = {s: i for i, s in enumerate(capped)}
        for os_ in opts.values():
            for o in os_:
                o.cls = classes.index(follow[o.shift]) if follow[o.shift] else 0
                o.units = p.shift_types[o.shift].duration_minutes // g
                o.kind = kind_of.get(o.shift, -1)
        # requests: an on-request is paid unless that shift is worked (a constant, less its weight when
        # worked); an off-request when it is
        self.constant = 0.0
        off_cost = [0.0] * H
        for rq in p.requests:
            if rq.employee != e:
                continue
            hit = [o for o in opts.get(rq.day, []) if rq.shift is None or o.shift == rq.shift]
            if rq.on:
                self.constant += rq.weight
                for o in hit:
                    o.own -= rq.weight
            else:
                for o in hit:
                    o.own += rq.weight
        self.opts = [opts.get(d, []) for d in range(H)]
        self.off_cost = off_cost

        lo, hi = lim["minutes"] if lim["minutes"] is not None else (None, None)
        most = sum(max((o.units for o in self.opts[d]), default=0) for d in range(H))
        self.hi_u = most if hi is None else min(most, int(hi) // g)
        self.lo_u = 0 if lo is None else -(-int(lo) // g)
        self.nM = self.hi_u + 1
        groups = weekend_groups(p)
        W = lim["max_weekends"]
        self.nW = 1 if W is None or W >= len(groups) else W + 1
        self.weekend_first: dict[int, bool] = {}
        if self.nW > 1:
            for grp in groups:
                for k, d in enumerate(grp):
                    self.weekend_first[d] = k == 0

        # run states, as in pattern_dp: 0 START, 1 OE (off run from day 0), O1..OmO, WE1..WEK (work run
        # from day 0, exempt from the minimum), W1..WK; without a maximum, work runs count to the minimum
        mW, mO = lim["min_work"], lim["min_off"]
        unlimited = lim["max_work"] is None or lim["max_work"] >= H
        K = max(1, mW) if unlimited else max(1, lim["max_work"])
        O = {j: 1 + j for j in range(1, mO + 1)}
        WE = {k: 1 + mO + k for k in range(1, K + 1)}
        Wk = {k: 1 + mO + K + k for k in range(1, K + 1)}
        self.R = 2 + mO + 2 * K
        self.is_off = np.zeros(self.R, dtype=bool)
        self.is_off[[0, 1] + list(O.values())] = True
        off_next: dict[int, int] = {0: 1, 1: 1}
        work_next: dict[int, int] = {0: WE[1], 1: Wk[1]}
        for j in range(1, mO + 1):
            off_next[O[j]] = O[min(j + 1, mO)]
        work_next[O[mO]] = Wk[1]
        for k in range(1, K + 1):
            off_next[WE[k]] = O[1]
            if k >= mW:
                off_next[Wk[k]] = O[1]
            if k < K:
                work_next[WE[k]] = WE[k + 1]
                work_next[Wk[k]] = Wk[k + 1]
            elif unlimited:
                work_next[WE[k]] = WE[k]
                work_next[Wk[k]] = Wk[k]
        self.off_edges = sorted(off_next.items())
        self.work_edges = sorted(work_next.items())
        # the same as flat arrays for the compiled forward pass (`schedule_dp_kernel.forward`)
        self._off_next = np.full(self.R, -1, dtype=np.int64)
        self._work_next = np.full(self.R, -1, dtype=np.int64)
        self._off_next[list(off_next)] = list(off_next.values())
        self._work_next[list(work_next)] = list(work_next.values())
        self._off_cost = np.asarray(self.off_cost, dtype=float)
        # a weekend day adds a weekend when it is the weekend's first day in the horizon, or the day
        # before (same weekend) was off
        self._inc_off = np.array([int(d in self.weekend_first) for d in range(H)], dtype=np.int64)
        self._inc_work = np.array([int(self.weekend_first.get(d, False)) for d in range(H)], dtype=np.int64)
        self._opt_flat = [o for d in range(H) for o in self.opts[d]]
        self._opt_start = np.cumsum([0] + [len(self.opts[d]) for d in range(H)]).astype(np.int64)
        self._opt_cls = np.array([o.cls for o in self._opt_flat], dtype=np.int64)
        self._opt_units = np.array([o.units for o in self._opt_flat], dtype=np.int64)
        self._opt_allowed = np.array([self.allowed[o.shift] for o in self._opt_flat], dtype=bool).reshape(-1, self.L)
        self.cells = self.R * self.L * self.nW * self.nM  # a day's states before any count is tracked
        self._need = self._minutes_needed()

    def _minutes_needed(self) -> np.ndarray:
        """need[d, r, l]: the fewest minute units a path may have worked before day d, ending in run
        state r and class l, and still reach the minimum (`lo_u`): the minimum less the most units the
        days from d can add (the run and succession rules only, so never too many). Both forward
        passes drop states below it: on Curtois Instance19 (at least 208 of at most 216 units over 84
        days) most states that the run rules allow can no longer reach the minimum."""
        H, R, L = self.H, self.R, self.L
        most = np.zeros((H + 1, R, L))
        for d in range(H - 1, -1, -1):
            here = np.full((R, L), -np.inf)
            for r in range(R):
                ro = self._off_next[r]
                if ro >= 0:
                    here[r, :] = most[d + 1, ro, 0]
                rw = self._work_next[r]
                if rw < 0:
                    continue
                for k in range(self._opt_start[d], self._opt_start[d + 1]):
                    gain = self._opt_units[k] + most[d + 1, rw, self._opt_cls[k]]
                    allowed = self._opt_allowed[k]
                    here[r, allowed] = np.maximum(here[r, allowed], gain)
            most[d] = here
        need = np.where(np.isfinite(most), self.lo_u - most, self.nM)
        return np.maximum(need, 0).astype(np.int64).ravel()

    # ------------------------------------------------------------------------------------ tracking
    def _shape(self, tracked: list[int] | None = None) -> tuple[int, ...]:
        tracked = self.tracked if tracked is None else tracked
        return (self.R, self.L, self.nW, self.nM, *(self.caps[k] + 1 for k in tracked))

    def _track(self, kinds: list[int]) -> bool:
        """Add these kinds' counts to the state, unless one of them once took the sparse pass past its
        room."""
        if any(k in self.untrackable for k in kinds):
            return False
        self.tracked = self.tracked + [k for k in kinds if k not in self.tracked]
        return True

    def _dense(self, tracked: list[int]) -> bool:
        """Whether the dense forward pass holds the states with these counts tracked."""
        return not tracked or math.prod(self._shape(tracked)) * (self.H + 1) <= MAX_TRACKED_VALUES

    def _axis(self, o: _Option, tracked: list[int] | None = None) -> int | None:
        """The count axis (among the trailing ones) that working option `o` moves, if tracked."""
        tracked = self.tracked if tracked is None else tracked
        return tracked.index(o.kind) if o.kind >= 0 and o.kind in tracked else None

    def _steps(self, tracked: list[int]) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]:
        """The kernels' view of the state space with these counts tracked: its five dimensions (the
        counts as one mixed-radix axis), and each option's count axis (-1: none), stride and size."""
        shape = self._shape(tracked)
        counts = shape[4:]
        dims = (*shape[:4], math.prod(counts))
        strides = [math.prod(counts[i + 1:]) for i in range(len(counts))]
        axes = np.full(len(self._opt_flat), -1, dtype=np.int64)
        stride = np.zeros(len(self._opt_flat), dtype=np.int64)
        dim = np.ones(len(self._opt_flat), dtype=np.int64)
        for j, o in enumerate(self._opt_flat):
            axis = self._axis(o, tracked)
            if axis is not None:
                axes[j], stride[j], dim[j] = axis, strides[axis], counts[axis]
        return dims, axes, stride, dim

    def _kernel_args(self, cost: list[list[float]], tracked: list[int], *, sparse: bool = False,
                     prune: tuple[np.ndarray, float] | None = None) -> tuple:
        dims, axes, stride, dim = self._steps(tracked)
        return (np.array(dims, dtype=np.int64), self._off_next, self._work_next, self.is_off, self._off_cost,
                self._inc_off, self._inc_work, self._opt_start, self._opt_cls, self._opt_units,
                *((axes,) if sparse else ()), stride, dim, self._opt_allowed, self._need, self._flat_cost(cost),
                *(prune or (_NO_TOGO, INF)))

    def _flat_cost(self, cost: list[list[float]]) -> np.ndarray:
        return np.fromiter((c for day in cost for c in day), dtype=float, count=len(self._opt_flat))

    def _togo(self, cost: list[list[float]]) -> np.ndarray:
        """togo[d][state without counts]: the least cost of the days from d on, the per-type maxima
        relaxed (`backward`), for the states the last pass, which must be the one without counts,
        reached; INF for the others, which no pass reaches."""
        togo = np.empty((self.H + 1, self.cells))
        backward(togo, self._values, np.array(self._shape([]), dtype=np.int64), self.lo_u, self._off_next,
                 self._work_next, self.is_off, self._off_cost, self._inc_off, self._inc_work, self._opt_start,
                 self._opt_cls, self._opt_units, self._opt_allowed, self._flat_cost(cost))
        return togo

    def _forward(self, cost: list[list[float]], tracked: list[int] | None = None,
                 prune: tuple[np.ndarray, float] | None = None) -> list[np.ndarray]:
        """V[d] (shape R x L x nW x nM x tracked counts): least cost of days < d ending in each state.
        Each state's predecessor is kept for `_path`. The arrays are the thread's scratch (`_Scratch`):
        what this returns holds until the next forward pass on this thread, of any DP."""
        tracked = self.tracked if tracked is None else tracked
        shape = self._shape(tracked)
        V, pred_state, pred_opt, reached, n_reached = _SCRATCH.arrays(self.H + 1, math.prod(shape))
        self._preds = (pred_state, pred_opt, shape)
        self._values = V  # (the thread's scratch, as the predecessors)
        forward(V, pred_state, pred_opt, reached, n_reached, *self._kernel_args(cost, tracked, prune=prune))
        return list(V.reshape(self.H + 1, *shape))

    def _forward_sparse(self, cost: list[list[float]], prune: tuple[np.ndarray, float] | None = None
                        ) -> tuple[np.ndarray, np.ndarray] | None:
        """The reached states after the last day and their least costs, by `forward_sparse` with the
        tracked counts; None when they take more room than `MAX_SPARSE_ENTRIES` or a day more than
        half of `MAX_SPARSE_SLOTS`. What it keeps for `_sparse_path` holds until the next sparse pass
        on this thread."""
        args = self._kernel_args(cost, self.tracked, sparse=True, prune=prune)
        sp = _SPARSE
        sp.grow_entries(sp.entries, len(self.tracked))
        start = np.zeros(self.H + 2, dtype=np.int64)
        while True:
            status = forward_sparse(sp.ids, sp.val, sp.pred, sp.opt, *sp.fields, start, sp.table, sp.where, sp.used,
                                    *args)
            if status == 0:
                break
            if not (sp.grow_entries(2 * sp.entries) if status == 1 else sp.grow_slots(2 * sp.slots)):
                return None
        self._sparse = (start, sp.pred, sp.opt)
        last = slice(start[self.H], start[self.H + 1])
        return sp.ids[last], sp.val[last]

    def _sparse_path(self, entry: int) -> list[int | None]:
        """The option index worked on each day (None: off) of the least-cost path to the last day's
        `entry`-th reached state of the last `_forward_sparse`."""
        start, pred, opt = self._sparse
        plan: list[int | None] = [None] * self.H
        for d in range(self.H, 0, -1):
            k = int(opt[start[d] + entry])
            plan[d - 1] = None if k < 0 else k
            entry = int(pred[start[d] + entry])
        return plan

    def _predecessors(self, V: np.ndarray, cost: list[float], d: int, r: int, l: int, w: int, m: int,
                      *counts: int, tracked: list[int]):
        """Every way into state (r, l, w, m, counts) after day d, with these counts tracked: (option
        index worked on day d or None for off, the state before it, the value there V[that state] +
        day d's cost, day d's cost)."""
        if l == 0 and self.is_off[r]:
            c = self.off_cost[d]
            for src, dst in self.off_edges:
                if dst == r:
                    for sl in range(self.L):
                        state = (src, sl, w, m, *counts)
                        yield None, state, V[state] + c, c
        first = self.weekend_first.get(d)
        for k, (o, c) in enumerate(zip(self.opts[d], cost)):
            if o.cls != l or o.units > m:
                continue
            before = counts
            axis = self._axis(o, tracked)
            if axis is not None:
                if counts[axis] == 0:
                    continue
                before = counts[:axis] + (counts[axis] - 1,) + counts[axis + 1:]
            for src, dst in self.work_edges:
                if dst != r:
                    continue
                inc = 1 if first is not None and (first or self.is_off[src]) else 0
                if inc > w:
                    continue
                for sl in np.flatnonzero(self.allowed[o.shift]):
                    state = (src, int(sl), w - inc, m - o.units, *before)
                    yield k, state, V[state] + c, c

    def _path(self, state: tuple) -> list[int | None]:
        """The option index worked on each day (None: off) of a least-cost path to `state`, from the
        predecessors the last `_forward` kept."""
        pred_state, pred_opt, shape = self._preds
        s = int(np.ravel_multi_index(state, shape))
        plan: list[int | None] = [None] * self.H
        for d in range(self.H, 0, -1):
            k = int(pred_opt[d, s])
            plan[d - 1] = None if k < 0 else k
            s = int(pred_state[d, s])
        return plan

    def _broken(self, plan: list[int | None], caps: np.ndarray) -> list[int]:
        """The capped kinds whose maximum `plan` breaks."""
        return [int(j) for j in np.flatnonzero(self._schedule(plan)[2] > caps)] if len(caps) else []

    def _tracked_ends(self, cost: list[list[float]], paths: int, caps: np.ndarray, togo: np.ndarray
                      ) -> tuple[list[float], Callable[[int], list[int | None]], list[int]]:
        """`_best_ends` with the tracked counts in the state, more of them tracked while the best path
        breaks a maximum. Each pass enters only the states that can still end within a slack of the
        relaxed optimum (by `togo`, the cost to go without counts): at first a little more than the last
        pricing's optimum rose above its relaxed one, widened whenever nothing ends within it. The
        values, paths, and the maxima the best path still breaks (those that could not be tracked)."""
        relaxed = float(togo[0, 0])
        slack = max(PRUNE_START, PRUNE_GROWTH * self._last_rise)
        before = list(self.tracked)
        while True:
            tau = relaxed + slack if slack <= PRUNE_UNTIL else INF
            ends = self._best_ends(cost, paths, (togo, tau))
            if ends is None:
                # the counts just added (or, failing those, the last) reach more states than the sparse
                # pass holds: relaxed for good
                if before == self.tracked:
                    before = self.tracked[:-1]
                self.untrackable.update(k for k in self.tracked if k not in before)
                self.tracked = before
                continue
            values, path = ends
            if not values:
                if tau == INF:
                    return [], path, []  # no schedule keeps the tracked maxima
                slack *= PRUNE_GROWTH
                continue
            broken = self._broken(path(len(values) - 1), caps)
            before = list(self.tracked)
            if not broken or not self._track(broken):
                self._last_rise = values[-1] - relaxed
                return values, path, broken

    def price(self, cover_cost: dict[int, float], paths: int = 5) -> tuple[list[tuple[frozenset, float]], float, bool]:
        """The cheapest schedules by (own cost + sum of `cover_cost` over the covers worked), as
        (covers worked, own cost), best last: the cheapest path into each of the `paths` best end
        states, those that keep every per-type maximum. Also a lower bound on that least value over
        the schedules that keep all the rules (the DP's optimum, untracked maxima relaxed), and whether
        the returned best schedule is that optimum (it is, unless the best path breaks a maximum that
        could not be tracked)."""
        cost = [[o.own + cover_cost.get(o.ci, 0.0) for o in self.opts[d]] for d in range(self.H)]
        caps = np.asarray(self.caps, dtype=float)
        # the maxima relaxed first: a pass over the few states without counts, and the answer whenever
        # its best path keeps them all
        values, path = self._best_ends(cost, paths, tracked=[])
        if not values:
            return [], INF, True  # no schedule at all keeps the run, weekend and minutes rules
        broken = self._broken(path(len(values) - 1), caps)
        if broken:
            if not self.tracked:
                self._track(broken)
            # (with counts already tracked, only those the next pass's best path breaks join them: the
            # relaxed path often breaks maxima that tracking one count settles)
            if self.tracked:
                values, path, broken = self._tracked_ends(cost, paths, caps, self._togo(cost))
                if not values:
                    return [], INF, True  # no schedule keeps the tracked maxima
        bound = self.constant + values[-1]
        found: list[tuple[frozenset, float]] = []
        for i in range(len(values)):
            col, own, counts = self._schedule(path(i))
            if not len(caps) or bool((counts <= caps).all()):
                found.append((col, own))
        return found, bound, not broken

    def _best_ends(self, cost: list[list[float]], paths: int, prune: tuple[np.ndarray, float] | None = None,
                   tracked: list[int] | None = None) -> tuple[list[float], Callable[[int], list[int | None]]] | None:
        """The least costs of the `paths` best end states of at least the minimum minutes, best last,
        and the least-cost path into the i-th of them as a function of i; None when the sparse pass
        runs out of room."""
        tracked = self.tracked if tracked is None else tracked
        if self._dense(tracked):
            final = self._forward(cost, tracked, prune)[-1][:, :, :, self.lo_u:]
            flat = final.ravel()
            k = min(paths, int(np.isfinite(flat).sum()))
            ends = np.argpartition(flat, k - 1)[:k] if 0 < k < flat.size else np.flatnonzero(np.isfinite(flat))
            ends = sorted(ends, key=lambda i: -flat[i])
            return ([float(flat[i]) for i in ends],
                    lambda i: self._path(self._end_state(final.shape, ends[i])))
        last = self._forward_sparse(cost, prune)
        if last is None:
            return None
        ids, val = last
        m = (ids // math.prod(self._shape()[4:])) % self.nM
        ok = np.flatnonzero(m >= self.lo_u)
        k = min(paths, ok.size)
        ends = ok[np.argpartition(val[ok], k - 1)[:k]] if 0 < k < ok.size else ok
        ends = sorted(ends, key=lambda i: -val[i])
        return [float(val[i]) for i in ends], lambda i: self._sparse_path(int(ends[i]))

    def _end_state(self, shape: tuple[int, ...], idx) -> tuple[int, ...]:
        """The state of flat index `idx` among the end states of at least the minimum minutes."""
        r, l, w, m, *counts = (int(v) for v in np.unravel_index(int(idx), shape))
        return (r, l, w, m + self.lo_u, *counts)

    def enumerate(self, cover_cost: dict[int, float], threshold: float, *, cap: int, deadline: float,
                  walk: int | None = None) -> tuple[dict[frozenset, float], bool]:
        """Every schedule of value (own cost + sum of `cover_cost` over the covers worked) at most
        `threshold` that keeps the per-type maxima, as {covers worked: own cost}; and whether that
        list is complete (not cut by `cap` schedules, `walk` schedules reached, by default
        `ENUMERATION_WALK` * `cap`, or the deadline). A depth-first walk back from
        the end states that prunes by the forward values, which are exact least costs from day 0, so
        every branch it enters ends in a schedule within the threshold: the work is proportional to
        the schedules listed (paths that break a maximum included), not to the state space."""
        cost = [[o.own + cover_cost.get(o.ci, 0.0) for o in self.opts[d]] for d in range(self.H)]
        # the walk reads the forward values of any state, so it needs the dense pass; tracked maxima
        # prune it exactly, when affordable
        every = self.tracked + [k for k in range(len(self.caps)) if k not in self.tracked]
        if self._dense(every):
            self.tracked = every
        tracked = self.tracked
        while not self._dense(tracked):
            tracked = tracked[:-1]
        Vs = self._forward(cost, tracked)
        limit = threshold - self.constant + 1e-6 * max(1.0, abs(threshold))
        caps = np.asarray(self.caps, dtype=float)
        found: dict[frozenset, float] = {}
        plan: list[int | None] = [None] * self.H
        walked = [0]  # schedules reached, including those over a maximum
        walk_cap = ENUMERATION_WALK * cap if walk is None else walk
        cut = [False]

        def back(d: int, state: tuple[int, ...], suffix: float) -> None:
            if cut[0]:
                return
            if d < 0:
                walked[0] += 1
                col, own, counts = self._schedule(plan)
                if not len(caps) or bool((counts <= caps).all()):
                    found[col] = own
                if len(found) >= cap or walked[0] >= walk_cap or (
                        walked[0] % 256 == 0 and time.monotonic() >= deadline):
                    cut[0] = True
                return
            room = limit - suffix
            for k, prev, value, c in self._predecessors(Vs[d], cost[d], d, *state, tracked=tracked):
                if value <= room:
                    plan[d] = k
                    back(d - 1, prev, suffix + c)
            plan[d] = None

        final = Vs[-1]
        for idx in np.argwhere(np.isfinite(final)):
            state = tuple(int(v) for v in idx)
            if state[3] >= self.lo_u and final[state] <= limit:
                back(self.H - 1, state, 0.0)
        return found, not cut[0]

    def _schedule(self, plan: list[int | None]) -> tuple[frozenset, float, np.ndarray]:
        counts = np.zeros(len(self.caps))
        own = self.constant
        col = []
        for d, k in enumerate(plan):
            if k is None:
                own += self.off_cost[d]
                continue
            o = self.opts[d][k]
            col.append(o.ci)
            own += o.own
            if o.kind >= 0:
                counts[o.kind] += 1
        return frozenset(col), own, counts

