"""Validation of NGRS input documents, for `POST /validate`, 422 answers on submit and the CLI.

`validate_document(doc)` never raises, whatever JSON value it is given: problems come back as
`Issue(field, code, message)` errors and warnings, with field paths such as
`demandItems[0].shifts[0].shiftDetails[0].start` and codes such as MISSING_FIELD, INVALID_TYPE,
INVALID_DATE, INVALID_TIME, INVALID_RANGE, INVALID_VALUE, OUT_OF_RANGE, EMPTY_ARRAY (errors) and
UNKNOWN_CONSTRAINT, NO_MATCHING_EMPLOYEES, UNKNOWN_VERSION, LONG_PERIOD (warnings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.solver.errors import Issue


@dataclass
class ValidationReport:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {
            "valid": self.ok,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
            "summary": dict(self.summary),
        }


def validate_document(doc: Any) -> ValidationReport:
    """Check an NGRS document (any JSON value); never raises."""
    from service.solver.formats.ngrs import analyse

    try:
        a = analyse(doc)
    except RecursionError:
        return ValidationReport([Issue("", "INVALID_VALUE", "document nested too deeply")])
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"; report instead
        return ValidationReport([Issue("", "INVALID_VALUE", f"document could not be read: {type(exc).__name__}")])
    report = ValidationReport(list(a.errors), list(a.warnings))
    if a.problem is not None:
        p = a.problem
        report.summary = {
            "planningReference": p.name,
            "startDate": p.start_date.isoformat(),
            "days": p.num_days,
            "employees": len(p.employees),
            "shiftCodes": sorted(p.shift_types),
            "covers": len(p.covers),
            "requiredAssignments": sum(c.required for c in p.covers),
            "rules": [{"rule": r.rule, "hard": r.hard, "weight": r.weight, "employees": len(r.params),
                       "source": r.source} for r in p.rules if r.rule != "greedyHint"],
        }
    return report
