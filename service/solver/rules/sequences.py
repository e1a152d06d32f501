"""Generic sequence and count rules over an employee's horizon, each hard or soft.

Every rule takes one parameter per employee (`spec.params[e]`); employees without a parameter are not
subject to it. Hard rules are posted with `ctx.require` (so explanations can switch them off); soft
rules return `Term`s of `spec.weight` per unit of violation, naming the employee and the first day of
the offending run/window.

| rule id | parameter | meaning | unit of soft violation |
|---|---|---|---|
| `maxConsecutiveWorkingDays` | int K | no run of worked days longer than K | each K+1-day window fully worked |
| `minConsecutiveWorkingDays` | int K | every run of worked days has >= K days; runs touching day 0 or the last day are exempt | missing days of a short run |
| `minConsecutiveDaysOff` | int K | the same for runs of days off | missing days of a short run |
| `maxWeekends` | int K | at most K weekends worked (Saturday or Sunday worked; weekends from real dates) | each weekend over K |
| `maxShiftsPerType` | dict shift -> max | at most max shifts of that type | each shift over the max |
| `totalMinutes` | (min, max) minutes, either None | worked minutes over the horizon within [min, max] | each minute outside |

Encodings: max-consecutive as sliding-window sums, min-run rules as forbidden-pattern clauses (for a
run of length L < K bounded by the opposite state on both sides: one clause per (start, L)), which
propagate as soon as the run's borders are known. Days an employee cannot work are constant false,
so the patterns they make impossible are dropped at build time.
"""

from __future__ import annotations

from collections import defaultdict

from service.solver.builder import BuildContext, Term
from service.solver.model import Problem, RuleSpec
from service.solver.rules import rule


def _int_param(value) -> int | None:
    if value is None:
        return None
    return int(value)


def _day_literals(ctx: BuildContext, e: int) -> list:
    return [ctx.works_day(e, d) for d in ctx.problem.days]


def _is_false(ctx: BuildContext, lit) -> bool:
    return lit is ctx.false


@rule("maxConsecutiveWorkingDays", "maxConsecutiveShifts", "maxConsecutiveDays")
def max_consecutive_working_days(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    m = ctx.model
    terms: list[Term] = []
    n = ctx.problem.num_days
    for e, param in spec.params.items():
        k = _int_param(param)
        if k is None or k >= n:
            continue
        w = _day_literals(ctx, e)
        for start in range(0, n - k):
            window = w[start:start + k + 1]
            if any(_is_false(ctx, lit) for lit in window):
                continue  # a day that can never be worked breaks every run through it
            if spec.hard:
                ctx.require(m.add_bool_or([lit.Not() for lit in window]))
            else:
                v = m.new_bool_var(f"maxcons_{e}_{start}")
                # v >= 1 when every day of the window is worked
                m.add_bool_or([lit.Not() for lit in window] + [v])
                terms.append(Term(spec.rule, v, spec.weight, e, start, f"more than {k} consecutive working days"))
    return terms


def _min_run(ctx: BuildContext, spec: RuleSpec, *, working: bool) -> list[Term]:
    """Runs of `working` days (True) or days off (False) bounded on both sides by the opposite state
    must be at least K long. Runs touching the first or last day of the horizon are exempt."""
    m = ctx.model
    terms: list[Term] = []
    n = ctx.problem.num_days
    what = "working days" if working else "days off"
    for e, param in spec.params.items():
        k = _int_param(param)
        if k is None or k <= 1:
            continue
        w = _day_literals(ctx, e)
        # state(d) is true when day d is in the run's state; `inrun` / `border` literals:
        for length in range(1, k):
            for start in range(1, n - length):  # border days start-1 >= 0 and start+length <= n-1
                end = start + length  # first border day after the run
                if working:
                    # pattern: off(start-1), work(start..end-1), off(end)
                    if any(_is_false(ctx, w[d]) for d in range(start, end)):
                        continue
                    clause = [w[start - 1]] + [w[d].Not() for d in range(start, end)] + [w[end]]
                else:
                    # pattern: work(start-1), off(start..end-1), work(end)
                    if _is_false(ctx, w[start - 1]) or _is_false(ctx, w[end]):
                        continue
                    clause = [w[start - 1].Not()] + [w[d] for d in range(start, end)] + [w[end].Not()]
                clause = [lit for lit in clause if not _is_false(ctx, lit)]
                if spec.hard:
                    ctx.require(m.add_bool_or(clause))
                else:
                    v = m.new_bool_var(f"minrun_{'w' if working else 'o'}_{e}_{start}_{length}")
                    m.add_bool_or(clause + [v])
                    terms.append(Term(spec.rule, v, spec.weight * (k - length), e, start,
                                      f"run of {length} {what}, minimum {k}"))
    return terms


@rule("minConsecutiveWorkingDays", "minConsecutiveShifts", "minConsecutiveDays")
def min_consecutive_working_days(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    return _min_run(ctx, spec, working=True)


@rule("minConsecutiveDaysOff")
def min_consecutive_days_off(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    return _min_run(ctx, spec, working=False)


def weekends(ctx: BuildContext) -> list[list[int]]:
    return weekend_groups(ctx.problem)


def weekend_groups(p: Problem) -> list[list[int]]:
    """Day indices of each weekend (Saturday and the Sunday after it) that meets the horizon, from
    the real dates of the problem (Curtois starts on a Monday: days 7k+5 and 7k+6)."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for d in p.days:
        dt = p.date_of(d)
        wd = dt.weekday()
        if wd in (5, 6):
            iso = dt.isocalendar()
            groups[(iso[0], iso[1])].append(d)
    return [groups[k] for k in sorted(groups)]


@rule("maxWeekends", "maxWorkingWeekends")
def max_weekends(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    m = ctx.model
    terms: list[Term] = []
    wks = weekends(ctx)
    for e, param in spec.params.items():
        k = _int_param(param)
        if k is None:
            continue
        lits = []
        for days in wks:
            ds = [ctx.works_day(e, d) for d in days]
            ds = [lit for lit in ds if not _is_false(ctx, lit)]
            if not ds:
                continue
            if len(ds) == 1:
                lits.append(ds[0])
                continue
            wk = m.new_bool_var(f"weekend_{e}_{days[0]}")
            m.add_max_equality(wk, ds)
            lits.append(wk)
        if len(lits) <= k:
            continue
        if spec.hard:
            ctx.require(m.add(sum(lits) <= k))
        else:
            excess = m.new_int_var(0, len(lits) - k, f"weekend_excess_{e}")
            m.add(excess >= sum(lits) - k)
            terms.append(Term(spec.rule, excess, spec.weight, e, None, f"more than {k} weekends worked"))
    return terms


@rule("maxShiftsPerType", "maxShifts")
def max_shifts_per_type(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    m = ctx.model
    terms: list[Term] = []
    for e, param in spec.params.items():
        for shift, limit in dict(param or {}).items():
            if limit is None:
                continue
            limit = int(limit)
            lits = [ctx.works(e, d, shift) for d in ctx.problem.days if ctx.can_work_shift(e, d, shift)]
            if len(lits) <= limit:
                continue
            if spec.hard:
                if limit == 0:
                    for lit in lits:
                        ctx.require(m.add(lit == 0))
                else:
                    ctx.require(m.add(sum(lits) <= limit))
            else:
                excess = m.new_int_var(0, len(lits) - limit, f"maxshift_{e}_{shift}")
                m.add(excess >= sum(lits) - limit)
                terms.append(Term(spec.rule, excess, spec.weight, e, None, f"more than {limit} {shift} shifts"))
    return terms


@rule("totalMinutes", "totalWorkingMinutes")
def total_minutes(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    m = ctx.model
    p = ctx.problem
    terms: list[Term] = []
    for e, param in spec.params.items():
        lo, hi = param if param is not None else (None, None)
        parts = []
        top = 0
        for d in p.days:
            for s in ctx.shifts_of(e, d):
                dur = p.shift_types[s].duration_minutes
                parts.append(dur * ctx.works(e, d, s))
            top += max((p.shift_types[s].duration_minutes for s in ctx.shifts_of(e, d)), default=0)
        total = sum(parts) if parts else 0
        if spec.hard:
            if hi is not None and top > int(hi):
                ctx.require(m.add(total <= int(hi)))
            if lo is not None and int(lo) > 0:
                ctx.require(m.add(total >= int(lo)))
        else:
            if hi is not None and top > int(hi):
                over = m.new_int_var(0, top - int(hi), f"minutes_over_{e}")
                m.add(over >= total - int(hi))
                terms.append(Term(spec.rule, over, spec.weight, e, None, f"minutes above {int(hi)}"))
            if lo is not None and int(lo) > 0:
                under = m.new_int_var(0, int(lo), f"minutes_under_{e}")
                m.add(under >= int(lo) - total)
                terms.append(Term(spec.rule, under, spec.weight, e, None, f"minutes below {int(lo)}"))
    return terms


def pattern_automaton(max_work: int | None, min_work: int | None, min_off: int | None,
                      num_days: int) -> tuple[int, list[int], list[tuple[int, int, int]]]:
    """One automaton over an employee's worked(1)/off(0) days enforcing max and min consecutive
    working days and min consecutive days off, with runs touching the first or last day exempt from
    the minimums. Returns (start state, final states, transitions (from, label, to)).

    States: 0 start; first run from day 0 (exempt from minimums): work WE1..WEmax, off OE; later runs:
    work W1..Wmax, off O1..Omin (saturating). Every state is final (runs touching the last day are
    exempt). CP-SAT expands it into a layered flow, whose LP is much tighter than clauses."""
    mw = min(num_days, max_work) if max_work is not None and max_work > 0 else num_days
    lo_w = max(1, min_work or 1)
    lo_o = max(1, min_off or 1)
    start = 0
    we = {i: i for i in range(1, mw + 1)}
    oe = mw + 1
    w = {i: oe + i for i in range(1, mw + 1)}
    o = {j: oe + mw + j for j in range(1, lo_o + 1)}
    t: list[tuple[int, int, int]] = [(start, 1, we[1]), (start, 0, oe), (oe, 0, oe), (oe, 1, w[1])]
    for i in range(1, mw + 1):
        if i < mw:
            t.append((we[i], 1, we[i + 1]))
            t.append((w[i], 1, w[i + 1]))
        t.append((we[i], 0, o[1]))
        if i >= lo_w:
            t.append((w[i], 0, o[1]))
    for j in range(1, lo_o + 1):
        t.append((o[j], 0, o[min(j + 1, lo_o)]))
        if j >= lo_o:
            t.append((o[j], 1, w[1]))
    finals = [start, oe] + list(we.values()) + list(w.values()) + list(o.values())
    return start, finals, t


@rule("runPattern")
def work_pattern(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    """Combined sequence rule, param (maxConsecutiveWorkingDays, minConsecutiveWorkingDays,
    minConsecutiveDaysOff) per employee, any of them None. Hard: one automaton per employee (tight
    encoding). Soft: the three separate rules with the same weight."""
    if not spec.hard:
        terms: list[Term] = []
        for pos, fn in enumerate((max_consecutive_working_days, min_consecutive_working_days,
                                  min_consecutive_days_off)):
            params = {e: p[pos] for e, p in spec.params.items() if p is not None and p[pos] is not None}
            if params:
                terms.extend(fn(ctx, RuleSpec(spec.rule, False, spec.weight, params, spec.source)))
        return terms
    n = ctx.problem.num_days
    for e, param in spec.params.items():
        if param is None:
            continue
        mx, mn, mo = (None if v is None else int(v) for v in param)
        if (mx is None or mx >= n) and (mn is None or mn <= 1) and (mo is None or mo <= 1):
            continue
        start, finals, triples = pattern_automaton(mx, mn, mo, n)
        ctx.require(ctx.model.add_automaton(_day_literals(ctx, e), start, finals, triples))
    return []
