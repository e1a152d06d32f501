"""Rest between shifts, from the end of one shift to the start of the next, by clock time.

| rule id | parameter | meaning | unit of soft violation |
|---|---|---|---|
| `apgdMinRestBetweenShifts` (aliases `minRestMinutes`, `minRestBetweenShifts`) | int minutes | at least that rest between two shifts of one employee | each pair of shifts too close |
| `noShiftOverlap` | int minutes (0) | two shifts of one employee never overlap (structural, always hard for NGRS) | each overlapping pair |

Encoding: for each parameter value the pairs (shift a, shift b, k days later) whose gap
`k*1440 + start(b) - end(a)` is below the minimum are computed once from the shift types' clock
times; each pair then gives one clause per employee and day (not a scan over all pairs of days).
Shift types without clock times (Curtois) are skipped: that format expresses rest as forbidden
successions.
"""

from __future__ import annotations

from service.solver.builder import BuildContext, Term
from service.solver.model import Problem, RuleSpec
from service.solver.rules import rule


def short_rest_pairs(problem: Problem, min_rest: int) -> dict[str, list[tuple[str, int, int]]]:
    """shift a -> [(shift b, k days later, gap minutes)] for every gap below `min_rest` (k >= 1)."""
    timed = {s: st for s, st in problem.shift_types.items() if st.start_minute is not None}
    out: dict[str, list[tuple[str, int, int]]] = {}
    for a, sa in timed.items():
        for b, sb in timed.items():
            k = 1
            while True:
                gap = k * 1440 + sb.start_minute - sa.end_minute
                if gap >= min_rest:
                    break
                out.setdefault(a, []).append((b, k, gap))
                k += 1
    return out


@rule("apgdMinRestBetweenShifts", "minRestMinutes", "minRestBetweenShifts", "noShiftOverlap")
def min_rest_between_shifts(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    p = ctx.problem
    m = ctx.model
    terms: list[Term] = []
    cache: dict[int, dict[str, list[tuple[str, int, int]]]] = {}
    for e, param in spec.params.items():
        if param is None:
            continue
        min_rest = int(param)
        pairs = cache.get(min_rest)
        if pairs is None:
            pairs = cache[min_rest] = short_rest_pairs(p, min_rest)
        if not pairs:
            continue
        for d in p.days:
            for a in ctx.shifts_of(e, d):
                for b, k, gap in pairs.get(a, ()):
                    d2 = d + k
                    if d2 >= p.num_days or not ctx.can_work_shift(e, d2, b):
                        continue
                    la, lb = ctx.works(e, d, a), ctx.works(e, d2, b)
                    if spec.hard:
                        ctx.require(m.add_bool_or([la.Not(), lb.Not()]))
                    else:
                        v = m.new_bool_var(f"rest_{e}_{d}_{a}_{b}_{k}")
                        m.add_bool_or([la.Not(), lb.Not(), v])  # v == la and lb (exact, for the report)
                        m.add_implication(v, la)
                        m.add_implication(v, lb)
                        what = "overlap" if gap < 0 else f"rest {gap} min"
                        terms.append(Term(spec.rule, v, spec.weight, e, d2,
                                          f"{a} on {p.date_of(d)} then {b}: {what} < {min_rest} min"))
    return terms
