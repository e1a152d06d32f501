"""Work patterns (rotations) followed from each employee's rotation offset.

| rule id | parameter | meaning | unit of soft violation |
|---|---|---|---|
| `workPattern` (alias `rotationPatternCompliance`) | (pattern tuple, offset) | on horizon day i the pattern says `pattern[(offset + i) % len]`: "O" (or OFF, -, X) = must be off; a shift code = only that shift may be worked. Being off on a pattern work day is not a violation (cover decides who works). | each day worked against the pattern |
"""

from __future__ import annotations

from service.solver.builder import BuildContext, Term
from service.solver.model import RuleSpec
from service.solver.rules import rule

OFF = frozenset({"O", "OFF", "-", "X"})


def pattern_code(pattern, offset: int, day: int) -> str:
    return pattern[(int(offset) + day) % len(pattern)]


@rule("workPattern", "rotationPatternCompliance")
def work_pattern(ctx: BuildContext, spec: RuleSpec) -> list[Term]:
    p = ctx.problem
    terms: list[Term] = []
    for e, param in spec.params.items():
        if not param:
            continue
        pattern, offset = param
        if not pattern:
            continue
        for d in p.days:
            code = pattern_code(pattern, offset, d)
            off = code.upper() in OFF
            for s in ctx.shifts_of(e, d):
                if not off and s == code:
                    continue
                lit = ctx.works(e, d, s)
                if spec.hard:
                    ctx.require(ctx.model.add(lit == 0))
                else:
                    terms.append(Term(spec.rule, lit, spec.weight, e, d,
                                      f"worked {s}, pattern says {code}"))
    return terms
