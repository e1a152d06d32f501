"""Helpers for the NGRS solver tests: build tiny input documents and solve them."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

from checker import check

from service.solver.engine import solve_document

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WEEK = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

D12 = {"shiftCode": "D", "start": "07:00", "end": "19:00", "nextDay": False}
N12 = {"shiftCode": "N", "start": "19:00", "end": "07:00", "nextDay": True}


def emp(eid: str, **kw) -> dict:
    out = {"employeeId": eid, "productTypeId": "APO", "rankId": "SER", "scheme": "A", "gender": "M",
           "teamId": "T1", "qualifications": [], "unavailability": []}
    out.update(kw)
    return out


def doc(*, employees: list[dict], start: str = "2026-03-02", days: int = 7, shifts: list[dict] | None = None,
        headcount=1, constraints: list[dict] | None = None, requirement: dict | None = None,
        groups: list[dict] | None = None) -> dict:
    """A one-demand NGRS document (2026-03-02 is a Monday)."""
    end = date.fromisoformat(start) + timedelta(days=days - 1)
    req = {"requirementId": "R1", "productTypeId": "APO", "headcount": headcount}
    req.update(requirement or {})
    if groups is None:
        groups = [{"shiftDetails": shifts or [D12]}]
    return {
        "schemaVersion": "0.98",
        "planningReference": "TEST",
        "planningHorizon": {"startDate": start, "endDate": end.isoformat()},
        "constraintList": list(constraints or []),
        "demandItems": [{"demandId": "DEM", "shifts": groups, "requirements": [req]}],
        "employees": employees,
    }


def solve(d: dict, limit: float = 5.0, *, checked: bool = True) -> dict:
    out = solve_document(copy.deepcopy(d), time_limit=limit, workers=1)
    if checked:
        problems = check(d, out)
        assert not problems, problems
    return out


def filled(out: dict) -> int:
    return out["coverage"]["filled"]


def violations(out: dict, rule: str) -> list[dict]:
    return [v for v in out["scoreBreakdown"]["violations"] if v["rule"] == rule]


def without(d: dict, rule_id: str) -> dict:
    d = copy.deepcopy(d)
    d["constraintList"] = [c for c in d["constraintList"] if c["id"] != rule_id]
    return d


def load_example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())
