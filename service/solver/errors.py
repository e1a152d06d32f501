"""Errors the solver raises on bad input: each carries issues with a field path and a code."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


class InputError(ValueError):
    """The document cannot be solved as given; `issues` says where and why."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        first = self.issues[0] if self.issues else Issue("", "INVALID_INPUT", "invalid input")
        more = f" (+{len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(f"{first.field or '<document>'}: {first.code}: {first.message}{more}")
