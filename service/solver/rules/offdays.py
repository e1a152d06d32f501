"""Days off in rolling windows, and full cover as a hard rule.

| rule id | parameter | meaning | unit of soft violation |
|---|---|---|---|
| `minimumOffDaysPerWeek` | int N | every 7 consecutive days inside the horizon hold at least N days off (unavailable days count as off); horizons under 7 days have no window | each day worked too many, per window |
| `slotHeadcount` | - | every cover gets its full headcount (hard only; soft is the default cover penalty) | - |
"""

from __future__ import annotations

from service.solver.builder import BuildContext, Term
from service.solver.model import RuleSpec
from service.solver.rules import rule


@rule("minimumOffDaysPerWeek", "minOffDaysPerWeek")
def minimum_off_days_per_week(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    p = ctx.problem
    m = ctx.model
    terms: list[Term] = []
    for e, param in spec.params.items():
        if param is None:
            continue
        n = int(param)
        if n <= 0:
            continue
        allowed = 7 - n
        for start in range(0, p.num_days - 6):
            lits = [ctx.works_day(e, d) for d in range(start, start + 7) if ctx.can_work(e, d)]
            if len(lits) <= allowed:
                continue
            if spec.hard:
                ctx.require(m.add(sum(lits) <= allowed))
            else:
                over = m.new_int_var(0, len(lits) - allowed, f"offwk_{e}_{start}")
                m.add_max_equality(over, [sum(lits) - allowed, 0])
                terms.append(Term(spec.rule, over, spec.weight, e, start,
                                  f"fewer than {n} days off in the 7 days from {p.date_of(start)}"))
    return terms


@rule("slotHeadcount")
def slot_headcount(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    if not spec.hard:
        return []
    for ci, c in enumerate(ctx.problem.covers):
        assigned = [ctx.x[(e, ci)] for e in c.eligible if (e, ci) in ctx.x]
        if c.required <= 0:
            continue
        if len(assigned) < c.required:
            ctx.require(ctx.model.add_bool_or([ctx.false]))  # cannot be met: infeasible under this rule
            continue
        ctx.require(ctx.model.add(sum(assigned) >= c.required))
    return []
