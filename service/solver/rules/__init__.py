"""Registry of roster rules: one named function per rule, like a constraint provider.

A rule function takes the build context and its `RuleSpec` and returns the penalty `Term`s it adds.
When the spec is hard it posts constraints through `ctx.require(...)` (so infeasibility explanations
can switch the rule off) and usually returns no terms; when soft it returns weighted violation terms,
each naming the employee and day it concerns, so the score breakdown can name every violation.

Core rules that every problem has (cover, one shift per day, fixed days off, forbidden successions,
requests, gender mix) live in `core.py` and are applied by the builder; configurable contract rules
are looked up here by `RuleSpec.rule`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from service.solver.builder import BuildContext, Term
    from service.solver.model import RuleSpec

RuleFn = Callable[["BuildContext", "RuleSpec"], "list[Term]"]

RULES: dict[str, RuleFn] = {}
# Alternative ids found in real inputs -> canonical rule id.
ALIASES: dict[str, str] = {}


def rule(rule_id: str, *aliases: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id!r} registered twice")
        RULES[rule_id] = fn
        for alias in aliases:
            ALIASES[alias] = rule_id
        return fn

    return register


def canonical(rule_id: str) -> str:
    return ALIASES.get(rule_id, rule_id)


def load_all() -> dict[str, RuleFn]:
    """Import every rule module so its functions register; a failing import fails loudly."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return RULES
