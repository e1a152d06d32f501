"""Core rules every roster problem has: cover, one shift per day, fixed days off, forbidden
successions, shift requests and gender mix. The builder applies them in `CORE_RULES` order.

Rule ids used in the score breakdown: `coverShortfall`, `coverSurplus`, `shiftOnRequest`,
`shiftOffRequest`; hard groups for explanations: `oneShiftPerDay`, `fixedDaysOff`,
`forbiddenSuccession`, `coverMaximum`, `genderMix`.
"""

from __future__ import annotations

from collections import defaultdict

from service.solver.builder import BuildContext, Term


def cover(ctx: BuildContext) -> list[Term]:
    """Each cover wants `required` people: shortfall is paid per missing person (never infeasible),
    surplus per extra person, or forbidden when the cover has no over-weight."""
    terms: list[Term] = []
    m = ctx.model
    for ci, c in enumerate(ctx.problem.covers):
        assigned = [ctx.x[(e, ci)] for e in c.eligible if (e, ci) in ctx.x]
        n = sum(assigned) if assigned else 0
        max_short = min(c.required, c.required)  # shortfall can never exceed the requirement
        if c.required > 0:
            short = m.new_int_var(0, max_short, f"short_{ci}")
            # exact (not just a lower bound), so intermediate rosters report their true shortfall
            m.add_max_equality(short, [c.required - n, 0])
            terms.append(Term("coverShortfall", short, c.under_weight, None, c.day, c.id))
        if c.over_weight is None:
            if len(assigned) > c.required:
                ctx.require(m.add(n <= c.required), "coverMaximum")
        elif len(assigned) > c.required:
            surplus = m.new_int_var(0, len(assigned) - c.required, f"surplus_{ci}")
            m.add_max_equality(surplus, [n - c.required, 0])
            terms.append(Term("coverSurplus", surplus, c.over_weight, None, c.day, c.id))
    return terms


def one_shift_per_day(ctx: BuildContext) -> list[Term]:
    """At most one shift per employee per calendar day (structural: the roster has one cell a day)."""
    per_day: dict[tuple[int, int], list] = defaultdict(list)
    for (e, ci), var in ctx.x.items():
        per_day[(e, ctx.problem.covers[ci].day)].append(var)
    for lits in per_day.values():
        if len(lits) > 1:
            ctx.require(ctx.model.add_at_most_one(lits), "oneShiftPerDay")
    return []


def fixed_days_off(ctx: BuildContext) -> list[Term]:
    """Unavailability and fixed days off. Outside explain mode those variables are never created."""
    if ctx.explain:
        for e, d in ctx.problem.days_off:
            lit = ctx.works_day(e, d)
            if lit is not ctx.false:
                ctx.require(ctx.model.add(lit == 0), "fixedDaysOff")
    return []


def forbidden_successions(ctx: BuildContext) -> list[Term]:
    """Shift b may not follow shift a on the next day (e.g. night then early)."""
    # Shifts a with the same set F of forbidden followers form a biclique {a...} x F: since an
    # employee works at most one shift a day, "no pair of it" is one at-most-one over the shifts of
    # day d in the group and the shifts of day d+1 in F. Same meaning as one clause per pair, but one
    # constraint per group instead of |pairs| (Curtois Instance24: ~0.5 M instead of ~10 M).
    p = ctx.problem
    if not p.forbidden_successions:
        return []
    follow: dict[str, set[str]] = defaultdict(set)
    for a, b in p.forbidden_successions:
        follow[a].add(b)
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for a, bs in follow.items():
        groups[frozenset(bs)].append(a)
    for e in range(len(p.employees)):
        for d in range(p.num_days - 1):
            for bs, as_ in groups.items():
                first = [ctx.works(e, d, a) for a in as_ if ctx.can_work_shift(e, d, a)]
                if not first:
                    continue
                second = [ctx.works(e, d + 1, b) for b in bs if ctx.can_work_shift(e, d + 1, b)]
                if not second:
                    continue
                if len(first) == 1 and len(second) == 1:
                    ctx.require(ctx.model.add_bool_or([first[0].Not(), second[0].Not()]), "forbiddenSuccession")
                else:
                    ctx.require(ctx.model.add_at_most_one(first + second), "forbiddenSuccession")
    return []


def shift_requests(ctx: BuildContext) -> list[Term]:
    """On-requests pay their weight when not granted; off-requests when the shift is worked."""
    terms: list[Term] = []
    for r in ctx.problem.requests:
        lit = ctx.works_day(r.employee, r.day) if r.shift is None else ctx.works(r.employee, r.day, r.shift)
        if r.on:
            if lit is ctx.false:
                terms.append(Term("shiftOnRequest", ctx.model.new_constant(1), r.weight, r.employee, r.day,
                                  r.shift or "any"))
            else:
                terms.append(Term("shiftOnRequest", lit.Not(), r.weight, r.employee, r.day, r.shift or "any"))
        elif lit is not ctx.false:
            terms.append(Term("shiftOffRequest", lit, r.weight, r.employee, r.day, r.shift or "any"))
    return terms


def gender_mix(ctx: BuildContext) -> list[Term]:
    """A cover marked Mix with two or more people needs at least one person of each group, whenever
    anyone is assigned to it."""
    m = ctx.model
    for ci, c in enumerate(ctx.problem.covers):
        if not c.mix_groups or c.required < 2:
            continue
        assigned = [ctx.x[(e, ci)] for e in c.eligible if (e, ci) in ctx.x]
        if not assigned:
            continue
        anyone = m.new_bool_var(f"mix_any_{ci}")
        m.add_max_equality(anyone, assigned)
        for group, members in c.mix_groups.items():
            lits = [ctx.x[(e, ci)] for e in members if (e, ci) in ctx.x]
            if lits:
                ctx.require(m.add_bool_or(lits).only_enforce_if(anyone), "genderMix")
            else:
                ctx.require(m.add(anyone == 0), "genderMix")
    return []


CORE_RULES = [
    ("cover", cover),
    ("oneShiftPerDay", one_shift_per_day),
    ("fixedDaysOff", fixed_days_off),
    ("forbiddenSuccession", forbidden_successions),
    ("shiftRequests", shift_requests),
    ("genderMix", gender_mix),
]
