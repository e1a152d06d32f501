"""Builds the CP-SAT model of a `Problem`: decision variables, core rules, configured rules, objective.

Variables: one Boolean `x[e, c]` per employee e eligible for cover c (ineligible pairs never get a
variable: eligibility is hard by construction). Derived literals `works(e, d, s)` and `works_day(e, d)`
are what the rules read. Every soft rule returns `Term`s; the objective is their weighted sum, and the
same terms, evaluated on a solution, are the score breakdown.

In explain mode every hard rule is posted under an enforcement literal of its group, so that solving
with those literals as assumptions yields a sufficient set of conflicting rules (see `explain.py`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from ortools.sat.python import cp_model

from service.solver import rules as rule_registry
from service.solver.model import Problem, RuleSpec

Literal = cp_model.IntVar


@dataclass
class Term:
    """One soft penalty: `weight * var`, attributed to a rule, an employee and a day (when meaningful)."""

    rule: str
    var: cp_model.IntVar
    weight: int
    employee: int | None = None
    day: int | None = None
    detail: str = ""


@dataclass
class BuildContext:
    problem: Problem
    explain: bool = False
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[tuple[int, int], Literal] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    # Hard-rule group name -> enforcement literal (explain mode only).
    groups: dict[str, Literal] = field(default_factory=dict)
    _works: dict[tuple[int, int, str], Literal] = field(default_factory=dict)
    _works_day: dict[tuple[int, int], Literal] = field(default_factory=dict)
    _by_eds: dict[tuple[int, int, str], list[Literal]] = field(default_factory=lambda: defaultdict(list))
    _by_ed: dict[tuple[int, int], list[Literal]] = field(default_factory=lambda: defaultdict(list))
    _false: Literal | None = None
    _current_group: str | None = None

    # ----------------------------------------------------------------------------------- literals
    @property
    def false(self) -> Literal:
        if self._false is None:
            self._false = self.model.new_constant(0)
        return self._false

    def works(self, e: int, d: int, s: str) -> Literal:
        """Literal true iff employee e works shift s on day d (a constant false if e never can)."""
        key = (e, d, s)
        lit = self._works.get(key)
        if lit is None:
            xs = self._by_eds.get(key, [])
            if not xs:
                return self.false
            if len(xs) == 1:
                lit = xs[0]
            else:
                lit = self.model.new_bool_var(f"w_{e}_{d}_{s}")
                self.model.add(sum(xs) == lit)  # at most one x per (e, d) holds structurally
            self._works[key] = lit
        return lit

    def works_day(self, e: int, d: int) -> Literal:
        """Literal true iff employee e works any shift on day d."""
        key = (e, d)
        lit = self._works_day.get(key)
        if lit is None:
            xs = self._by_ed.get(key, [])
            if not xs:
                return self.false
            if len(xs) == 1:
                lit = xs[0]
            else:
                lit = self.model.new_bool_var(f"wd_{e}_{d}")
                self.model.add(sum(xs) == lit)
            self._works_day[key] = lit
        return lit

    def can_work(self, e: int, d: int) -> bool:
        return bool(self._by_ed.get((e, d)))

    def can_work_shift(self, e: int, d: int, s: str) -> bool:
        return bool(self._by_eds.get((e, d, s)))

    def shifts_of(self, e: int, d: int) -> list[str]:
        return [s for s in self.problem.shift_types if self._by_eds.get((e, d, s))]

    # ------------------------------------------------------------------------------- hard / soft
    def group_literal(self, group: str) -> Literal:
        lit = self.groups.get(group)
        if lit is None:
            lit = self.model.new_bool_var(f"enforce[{group}]")
            self.groups[group] = lit
        return lit

    def require(self, constraint: cp_model.Constraint, group: str | None = None) -> cp_model.Constraint:
        """Post a hard constraint; in explain mode make it conditional on its rule group's literal."""
        group = group or self._current_group
        if self.explain and group is not None:
            constraint.only_enforce_if(self.group_literal(group))
        return constraint

    def soft_bool(self, name: str) -> Literal:
        return self.model.new_bool_var(name)

    def penalize(self, spec_or_rule: RuleSpec | str, var: Literal, weight: int, *, employee: int | None = None,
                 day: int | None = None, detail: str = "") -> Term:
        rule_id = spec_or_rule.rule if isinstance(spec_or_rule, RuleSpec) else spec_or_rule
        term = Term(rule_id, var, int(weight), employee, day, detail)
        return term

    def group_of(self, spec: RuleSpec) -> str:
        return f"{spec.rule}@{spec.source}" if spec.source else spec.rule


def build(problem: Problem, *, explain: bool = False, skip_core: tuple[str, ...] = ()) -> BuildContext:
    """Create the variables, apply core and configured rules, and set the objective.

    `skip_core` names core rules left out (column generation prices one employee's schedule without
    the `cover` terms, whose duals it supplies itself)."""
    from service.solver.rules import core

    rule_registry.load_all()
    ctx = BuildContext(problem=problem, explain=explain)
    _create_assignment_vars(ctx)

    for name, fn in core.CORE_RULES:
        if name in skip_core:
            continue
        ctx._current_group = name
        ctx.terms.extend(fn(ctx))
    for spec in problem.rules:
        fn = rule_registry.RULES.get(rule_registry.canonical(spec.rule))
        if fn is None:
            # Formats validate rule ids before building; reaching here is a programming error.
            raise KeyError(f"no implementation for rule {spec.rule!r} ({spec.source})")
        ctx._current_group = ctx.group_of(spec)
        ctx.terms.extend(fn(ctx, spec))
    ctx._current_group = None

    objective = [t.weight * t.var for t in ctx.terms if t.weight]
    if objective:
        ctx.model.minimize(sum(objective))
    return ctx


def _create_assignment_vars(ctx: BuildContext) -> None:
    p = ctx.problem
    for ci, cover in enumerate(p.covers):
        for e in cover.eligible:
            if (e, cover.day) in p.days_off and not ctx.explain:
                continue  # fixed day off: no variable at all (explain mode posts it as a rule instead)
            var = ctx.model.new_bool_var(f"x_{e}_{ci}")
            ctx.x[(e, ci)] = var
            ctx._by_eds[(e, cover.day, cover.shift)].append(var)
            ctx._by_ed[(e, cover.day)].append(var)


def covers_by_day_shift(problem: Problem) -> dict[tuple[int, str], list[int]]:
    out: dict[tuple[int, str], list[int]] = defaultdict(list)
    for ci, c in enumerate(problem.covers):
        out[(c.day, c.shift)].append(ci)
    return out


def iter_employee_days(problem: Problem) -> Iterable[tuple[int, int]]:
    for e in range(len(problem.employees)):
        for d in problem.days:
            yield e, d
