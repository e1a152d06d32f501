"""Hours caps over gross shift hours (start to end of each shift, breaks included).

| rule id | parameter | meaning | unit of soft violation |
|---|---|---|---|
| `momDailyHoursCap` | int minutes | no shift longer than the cap (one shift per day, so daily hours = shift hours) | each started hour over the cap, per shift |
| `momWeeklyHoursCap44h` | int minutes | hours per ISO week <= cap; a shift counts in the week of its start day; weeks are cut at the horizon (no history) | each started hour over, per employee-week |
| `momMonthlyOTcap72h` | (cap minutes, weekly threshold minutes) | per calendar month: sum over its ISO-week segments of max(0, segment hours - threshold) <= cap | each started hour over, per employee-month |

Monthly OT choice: weeks are cut at the horizon and at calendar-month boundaries, so a week that
straddles two months contributes its two parts to their own months, each against the full weekly
threshold (44 h). With a one-month horizon this is "weeks inside the month".
"""

from __future__ import annotations

from collections import defaultdict

from service.solver.builder import BuildContext, Term
from service.solver.model import Problem, RuleSpec
from service.solver.rules import rule


def iso_weeks(problem: Problem) -> list[list[int]]:
    """Day indices grouped by ISO week, cut at the horizon."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for d in problem.days:
        y, w, _ = problem.date_of(d).isocalendar()
        groups[(y, w)].append(d)
    return [groups[k] for k in sorted(groups)]


def month_week_segments(problem: Problem) -> dict[tuple[int, int], list[list[int]]]:
    """(year, month) -> day-index lists, one per ISO week inside that month and the horizon."""
    out: dict[tuple[int, int], dict[tuple[int, int], list[int]]] = defaultdict(lambda: defaultdict(list))
    for d in problem.days:
        day = problem.date_of(d)
        y, w, _ = day.isocalendar()
        out[(day.year, day.month)][(y, w)].append(d)
    return {k: [v[w] for w in sorted(v)] for k, v in sorted(out.items())}


def _minutes_expr(ctx: BuildContext, e: int, days: list[int]):
    p = ctx.problem
    terms, most = [], 0
    for d in days:
        day_max = 0
        for s in ctx.shifts_of(e, d):
            dur = p.shift_types[s].duration_minutes
            terms.append(dur * ctx.works(e, d, s))
            day_max = max(day_max, dur)
        most += day_max
    return (sum(terms) if terms else 0), most


def _ceil_hours(minutes: int) -> int:
    return -(-minutes // 60)


def _hours_over(m, excess_expr, max_excess: int, name: str):
    """Int var = started hours of max(0, excess minutes), exactly (so reports are true mid-search)."""
    excess = m.new_int_var(0, max_excess, f"{name}_min")
    m.add_max_equality(excess, [excess_expr, 0])
    over = m.new_int_var(0, _ceil_hours(max_excess), name)
    m.add(60 * over >= excess)
    m.add(60 * over <= excess + 59)
    return over


@rule("momDailyHoursCap", "dailyHoursCap")
def daily_hours_cap(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    p = ctx.problem
    terms: list[Term] = []
    for e, cap in spec.params.items():
        if cap is None:
            continue
        long_shifts = {s: st.duration_minutes - int(cap) for s, st in p.shift_types.items()
                       if st.duration_minutes > int(cap)}
        if not long_shifts:
            continue
        for d in p.days:
            for s in ctx.shifts_of(e, d):
                if s not in long_shifts:
                    continue
                lit = ctx.works(e, d, s)
                if spec.hard:
                    ctx.require(ctx.model.add(lit == 0))
                else:
                    terms.append(Term(spec.rule, lit, spec.weight * _ceil_hours(long_shifts[s]), e, d,
                                      f"{s} is {p.shift_types[s].duration_minutes} min > cap {cap} min"))
    return terms


@rule("momWeeklyHoursCap44h", "weeklyHoursCap")
def weekly_hours_cap(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    m = ctx.model
    terms: list[Term] = []
    weeks = iso_weeks(ctx.problem)
    for e, cap in spec.params.items():
        if cap is None:
            continue
        cap = int(cap)
        for days in weeks:
            expr, most = _minutes_expr(ctx, e, days)
            if most <= cap:
                continue
            if spec.hard:
                ctx.require(m.add(expr <= cap))
            else:
                over = _hours_over(m, expr - cap, most - cap, f"wk_over_{e}_{days[0]}")
                y, w, _ = ctx.problem.date_of(days[0]).isocalendar()
                terms.append(Term(spec.rule, over, spec.weight, e, days[0],
                                  f"hours over {cap / 60:g} h in ISO week {y}-W{w:02d}"))
    return terms


@rule("momMonthlyOTcap72h", "monthlyOtCap72h", "monthlyOTcap")
def monthly_ot_cap(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    m = ctx.model
    terms: list[Term] = []
    months = month_week_segments(ctx.problem)
    for e, param in spec.params.items():
        if param is None:
            continue
        cap, threshold = (int(param[0]), int(param[1])) if isinstance(param, (tuple, list)) else (int(param), 44 * 60)
        for (year, month), segments in months.items():
            ots, most_total = [], 0
            for days in segments:
                expr, most = _minutes_expr(ctx, e, days)
                if most <= threshold:
                    continue
                ot = m.new_int_var(0, most - threshold, f"ot_{e}_{days[0]}")
                m.add_max_equality(ot, [expr - threshold, 0])
                ots.append(ot)
                most_total += most - threshold
            if most_total <= cap:
                continue
            first = segments[0][0]
            if spec.hard:
                ctx.require(m.add(sum(ots) <= cap))
            else:
                over = _hours_over(m, sum(ots) - cap, most_total - cap, f"ot_over_{e}_{year}_{month}")
                terms.append(Term(spec.rule, over, spec.weight, e, first,
                                  f"overtime hours over {cap / 60:g} h in {year}-{month:02d}"))
    return terms
