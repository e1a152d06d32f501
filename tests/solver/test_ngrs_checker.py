"""The independent checker itself: it must flag a roster that breaks a hard rule."""

from __future__ import annotations

import copy

from checker import check
from ngrs_testlib import load_example, solve


def _base():
    doc = load_example("ngrs_tiny")
    return doc, solve(doc)


def _add(out: dict, eid: str, date: str, code: str, start: str, end: str) -> dict:
    out = copy.deepcopy(out)
    out["assignments"].append({"employeeId": eid, "date": date, "shiftCode": code, "demandId": "DI-TINY",
                               "requirementId": "TINY_1", "startDateTime": start, "endDateTime": end})
    return out


def test_checker_accepts_the_solver_roster():
    doc, out = _base()
    assert check(doc, out) == []


def test_checker_flags_broken_rosters():
    doc, out = _base()
    taken = {(a["employeeId"], a["date"]) for a in out["assignments"]}
    a0 = out["assignments"][0]
    other = next(e["employeeId"] for e in doc["employees"] if (e["employeeId"], a0["date"]) not in taken
                 and not e["unavailability"])
    # a second person on a full slot
    bad = _add(out, other, a0["date"], a0["shiftCode"], a0["startDateTime"], a0["endDateTime"])
    assert any("headcount" in p for p in check(doc, bad))
    # someone on a day they are unavailable
    t5 = out["assignments"][0]
    moved = copy.deepcopy(out)
    for a in moved["assignments"]:
        if a["date"] == "2026-03-04" and a["shiftCode"] == "D":
            a["employeeId"] = "T5"
    assert any("unavailable" in p for p in check(doc, moved))
    # night then day without 11 h of rest
    worker = t5["employeeId"]
    shifts = sorted((a["date"], a["shiftCode"]) for a in out["assignments"] if a["employeeId"] == worker)
    assert shifts
    gaps = copy.deepcopy(out)
    gaps["assignments"] = [a for a in gaps["assignments"] if a["employeeId"] != "T1"]
    gaps = _add(gaps, "T1", "2026-03-02", "N", "2026-03-02T19:00", "2026-03-03T07:00")
    gaps = _add(gaps, "T1", "2026-03-03", "D", "2026-03-03T07:00", "2026-03-03T19:00")
    problems = check(doc, gaps)
    assert any("rest 0 min" in p for p in problems)
    # unmet demand that is not reported
    hidden = copy.deepcopy(out)
    hidden["assignments"] = hidden["assignments"][1:]
    assert any("missing but unmetDemand" in p for p in check(doc, hidden))
