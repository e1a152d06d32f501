"""Greedy first roster, given to CP-SAT as a solution hint (`greedyHint`, no constraint, no penalty).

Why: with cover soft and weighted 1,000,000 per missing person, CP-SAT's first solutions leave most
demand unmet (its default search sets assignment variables to 0 first), and a single worker can spend
seconds in the root LP before finding any solution. A constructive roster that already honours the
hard rules gives the search a near-complete incumbent at once.

How: covers are filled day by day (scarcest first within a day); a candidate is an eligible employee
free that day for whom every hard rule still holds with the new shift (rest/overlap, forbidden
successions, max consecutive days, days off per rolling week, daily/weekly hours, monthly overtime,
hard work pattern); among candidates the one with the least soft penalty, then the fewest worked
minutes, is taken. Gender-mix covers take one person of each group first or nobody. Rules the
greedy does not know are ignored: the hint may then be infeasible, which CP-SAT simply discards.
"""

from __future__ import annotations

from collections import defaultdict

from service.solver import rules as registry
from service.solver.builder import BuildContext, Term
from service.solver.model import RuleSpec
from service.solver.rules import rule
from service.solver.rules.pattern import OFF, pattern_code

REST = {"apgdMinRestBetweenShifts", "noShiftOverlap"}


class _State:
    def __init__(self, ctx: BuildContext):
        p = ctx.problem
        self.p = p
        self.n = p.num_days
        self.shift: dict[tuple[int, int], str] = {}
        self.minutes: dict[int, int] = defaultdict(int)
        self.week_of = [p.date_of(d).isocalendar()[:2] for d in p.days]
        self.month_of = [(p.date_of(d).year, p.date_of(d).month) for d in p.days]
        self.week_min: dict[tuple[int, tuple], int] = defaultdict(int)
        self.seg_min: dict[int, dict[tuple, int]] = defaultdict(lambda: defaultdict(int))
        self.rules: list[tuple[str, RuleSpec]] = [(registry.canonical(r.rule), r) for r in p.rules]

    def dur(self, s: str) -> int:
        return self.p.shift_types[s].duration_minutes

    def works(self, e: int, d: int) -> bool:
        return 0 <= d < self.n and (e, d) in self.shift

    def violated(self, kind: str, spec: RuleSpec, e: int, d: int, s: str) -> bool:
        param = spec.params.get(e)
        if param is None:
            return False
        p = self.p
        if kind in REST:
            st = p.shift_types[s]
            if st.start_minute is None:
                return False
            start, end = d * 1440 + st.start_minute, d * 1440 + st.end_minute
            for k in (-2, -1, 1, 2):
                o = self.shift.get((e, d + k))
                if o is None or p.shift_types[o].start_minute is None:
                    continue
                ot = p.shift_types[o]
                o_start, o_end = (d + k) * 1440 + ot.start_minute, (d + k) * 1440 + ot.end_minute
                gap = o_start - end if k > 0 else start - o_end
                if gap < int(param):
                    return True
            return False
        if kind == "maxConsecutiveWorkingDays":
            run = 1
            k = d - 1
            while self.works(e, k):
                run, k = run + 1, k - 1
            k = d + 1
            while self.works(e, k):
                run, k = run + 1, k + 1
            return run > int(param)
        if kind == "minimumOffDaysPerWeek":
            allowed = 7 - int(param)
            lo, hi = max(0, d - 6), min(d, self.n - 7)
            if lo > hi:
                return False
            flags = [1 if (x == d or self.works(e, x)) else 0 for x in range(lo, hi + 7)]
            run = sum(flags[:7])
            if run > allowed:
                return True
            for i in range(1, hi - lo + 1):
                run += flags[i + 6] - flags[i - 1]
                if run > allowed:
                    return True
            return False
        if kind == "momDailyHoursCap":
            return self.dur(s) > int(param)
        if kind == "momWeeklyHoursCap44h":
            return self.week_min[(e, self.week_of[d])] + self.dur(s) > int(param)
        if kind == "momMonthlyOTcap72h":
            cap, thr = (param if isinstance(param, (tuple, list)) else (param, 44 * 60))
            month = self.month_of[d]
            key = (month, self.week_of[d])
            segs = self.seg_min[e]
            total = 0
            for k, mins in segs.items():
                if k[0] == month:
                    total += max(0, mins + (self.dur(s) if k == key else 0) - thr)
            if key not in segs:
                total += max(0, self.dur(s) - thr)
            return total > int(cap)
        if kind == "workPattern":
            pattern, offset = param
            code = pattern_code(pattern, offset, d)
            return code.upper() in OFF or code != s
        return False

    def cost(self, e: int, d: int, s: str) -> float | None:
        """None when a hard rule forbids e working s on d; else the soft penalty it adds."""
        p = self.p
        for a, b in p.forbidden_successions:
            if (b == s and self.shift.get((e, d - 1)) == a) or (a == s and self.shift.get((e, d + 1)) == b):
                return None
        total = 0
        for kind, spec in self.rules:
            if self.violated(kind, spec, e, d, s):
                if spec.hard:
                    return None
                total += spec.weight
        return total

    def assign(self, e: int, d: int, s: str) -> None:
        self.shift[(e, d)] = s
        self.minutes[e] += self.dur(s)
        self.week_min[(e, self.week_of[d])] += self.dur(s)
        self.seg_min[e][(self.month_of[d], self.week_of[d])] += self.dur(s)


@rule("greedyHint")
def greedy_hint(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    if ctx.explain or not ctx.x:
        return []
    p = ctx.problem
    st = _State(ctx)
    chosen: set[tuple[int, int]] = set()
    order = sorted(range(len(p.covers)), key=lambda ci: (p.covers[ci].day, len(p.covers[ci].eligible)))
    for ci in order:
        c = p.covers[ci]
        d, s = c.day, c.shift
        # least-worked first; stop once enough free-of-penalty candidates (of each mix group) are found
        pool = sorted((st.minutes[e], e) for e in c.eligible if (e, ci) in ctx.x and (e, d) not in st.shift)
        groups = [set(m) for m in c.mix_groups.values()] if c.mix_groups and c.required >= 2 else []
        cands = []
        free = 0
        for minutes, e in pool:
            cost = st.cost(e, d, s)
            if cost is None:
                continue
            cands.append((cost, minutes, e))
            if cost == 0:
                free += 1
                if free >= c.required and all(any(x[0] == 0 and x[2] in g for x in cands) for g in groups):
                    break
        cands.sort()
        picked: list[int] = []
        if c.mix_groups and c.required >= 2:
            for members in c.mix_groups.values():
                mset = set(members)
                first = next((e for _, _, e in cands if e in mset and e not in picked), None)
                if first is None:
                    picked = []
                    break
                picked.append(first)
            if not picked:
                continue
        for _, _, e in cands:
            if len(picked) >= c.required:
                break
            if e not in picked:
                picked.append(e)
        for e in picked[:c.required]:
            st.assign(e, d, s)
            chosen.add((e, ci))
    _complete_hint(ctx, chosen)
    return []


def _complete_hint(ctx: BuildContext, chosen: set[tuple[int, int]]) -> None:
    """Hint every model variable: fix x to the greedy roster in a copy of the model, let CP-SAT derive
    the auxiliary variables (cheapest values under the terms so far), and hint that whole solution.
    Falls back to hinting x alone when the copy is not solved quickly."""
    from ortools.sat.python import cp_model

    model = ctx.model.clone()
    for key, var in ctx.x.items():
        model.add(model.get_bool_var_from_proto_index(var.index) == (1 if key in chosen else 0))
    terms = [t for t in ctx.terms if t.weight]
    if terms:
        def same(var):  # the copy's variable for `var` (a literal may be negated)
            if var.index >= 0:
                return model.get_int_var_from_proto_index(var.index)
            return 1 - model.get_int_var_from_proto_index(-var.index - 1)

        model.minimize(sum(t.weight * same(t.var) for t in terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 3.0
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = solver.response_proto.solution
        proto = ctx.model.proto
        proto.solution_hint.vars.extend(range(len(values)))
        proto.solution_hint.values.extend(values)
        return
    for key, var in ctx.x.items():
        ctx.model.add_hint(var, 1 if key in chosen else 0)
