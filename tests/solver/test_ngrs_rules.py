"""One tiny instance per NGRS rule: the rule binds, and the test fails if the rule is dropped.

Every solve is re-verified by the independent checker (`checker.py`) through `ngrs_testlib.solve`.
"""

from __future__ import annotations

import pytest
from ngrs_testlib import D12, N12, doc, emp, filled, solve, violations, without

E15 = {"shiftCode": "E", "start": "15:00", "end": "23:00", "nextDay": False}
D06 = {"shiftCode": "D", "start": "06:00", "end": "18:00", "nextDay": False}


def _night_then(day_shift: dict, employees: list[dict], constraints: list[dict]) -> dict:
    """Monday: one night shift wanted; Tuesday: one `day_shift` wanted."""
    return doc(employees=employees, days=2, constraints=constraints,
               groups=[{"shiftDetails": [N12], "coverageDays": ["Mon"]},
                       {"shiftDetails": [day_shift], "coverageDays": ["Tue"]}])


REST_MIN = {"id": "apgdMinRestBetweenShifts", "enforcement": "hard", "params": {"minRestMinutes": 660}}


def test_min_rest_hard_minutes_form():
    d = _night_then(D12, [emp("E1")], [REST_MIN])
    assert filled(solve(d)) == 1  # N ends Tue 07:00, D starts 07:00: 0 min rest < 660
    assert filled(solve(without(d, "apgdMinRestBetweenShifts"))) == 2


def test_min_rest_hours_form_with_scheme_override():
    rule = {"id": "apgdMinRestBetweenShifts", "enforcement": "hard", "defaultValue": 11, "schemeOverrides": {"P": 1}}
    # N ends Tue 07:00, E starts Tue 15:00: 8 h of rest
    assert filled(solve(_night_then(E15, [emp("E1", scheme="A")], [rule]))) == 1
    assert filled(solve(_night_then(E15, [emp("E1", scheme="P")], [rule]))) == 2


def test_min_rest_legacy_id_and_soft():
    rule = {"id": "minRestMinutes", "enforcement": "soft", "weight": 7, "params": {"minRestMinutes": 660}}
    out = solve(_night_then(D12, [emp("E1")], [rule]))
    assert filled(out) == 2  # cover outweighs the soft rest penalty
    [v] = violations(out, "minRestMinutes")
    assert (v["employeeId"], v["date"], v["cost"]) == ("E1", "2026-03-03", 7)


def test_shifts_never_overlap_even_without_rest_rule():
    d = _night_then(D06, [emp("E1")], [])  # N ends 07:00, D starts 06:00 the same morning
    assert filled(solve(d)) == 1


def test_max_consecutive_working_days():
    rule = {"id": "maxConsecutiveWorkingDays", "enforcement": "hard", "defaultValue": 3,
            "schemeOverrides": {"A": {"productTypes": ["APO"], "value": 2}}}
    d = doc(employees=[emp("E1", scheme="B")], days=6, constraints=[rule])
    assert filled(solve(d)) == 5  # default 3: work 3, off, work 2
    d_apo = doc(employees=[emp("E1", scheme="A")], days=6, constraints=[rule])
    assert filled(solve(d_apo)) == 4  # override 2 for scheme A + APO
    assert filled(solve(without(d, "maxConsecutiveWorkingDays"))) == 6


def test_minimum_off_days_per_week_hard_and_soft():
    rule = {"id": "minimumOffDaysPerWeek", "enforcement": "hard", "defaultValue": 2}
    d = doc(employees=[emp("E1")], days=7, constraints=[rule])
    assert filled(solve(d)) == 5
    assert filled(solve(without(d, "minimumOffDaysPerWeek"))) == 7
    soft = doc(employees=[emp("E1")], days=7,
               constraints=[{"id": "minimumOffDaysPerWeek", "enforcement": "soft", "weight": 3, "defaultValue": 2}])
    out = solve(soft)
    assert filled(out) == 7
    [v] = violations(out, "minimumOffDaysPerWeek")
    assert (v["amount"], v["cost"], v["employeeId"]) == (2, 6, "E1")


def test_minimum_off_days_is_a_rolling_window():
    rule = {"id": "minimumOffDaysPerWeek", "enforcement": "hard", "defaultValue": 1}
    # 10 days: one day off in the middle (day 3..6) serves all four 7-day windows
    assert filled(solve(doc(employees=[emp("E1")], days=10, constraints=[rule]))) == 9


def test_weekly_hours_cap_iso_weeks():
    rule = {"id": "momWeeklyHoursCap44h", "enforcement": "hard", "params": {"maxWeeklyHours": 44}}
    d = doc(employees=[emp("E1")], days=7, constraints=[rule])  # Mon..Sun, 12 h shifts
    assert filled(solve(d)) == 3
    assert filled(solve(without(d, "momWeeklyHoursCap44h"))) == 7
    split = doc(employees=[emp("E1")], start="2026-03-05", days=7, constraints=[rule])  # Thu..Wed: 2 ISO weeks
    assert filled(solve(split)) == 6


def test_weekly_hours_cap_soft_counts_hours():
    rule = {"id": "momWeeklyHoursCap44h", "enforcement": "soft", "weight": 5, "params": {"maxWeeklyHours": 44}}
    out = solve(doc(employees=[emp("E1")], days=7, constraints=[rule]))
    assert filled(out) == 7
    [v] = violations(out, "momWeeklyHoursCap44h")
    assert (v["amount"], v["cost"], v["date"]) == (40, 200, "2026-03-02")  # 84 h - 44 h


def test_daily_hours_cap_per_scheme():
    rule = {"id": "momDailyHoursCap", "enforcement": "hard", "schemeOverrides": {"A": 14, "B": 13, "P": 9}}
    d = doc(employees=[emp("E1", scheme="P")], days=2, constraints=[rule])
    assert filled(solve(d)) == 0  # 12 h shifts exceed P's 9 h
    assert filled(solve(doc(employees=[emp("E1", scheme="A")], days=2, constraints=[rule]))) == 2
    assert filled(solve(without(d, "momDailyHoursCap"))) == 2
    soft = doc(employees=[emp("E1", scheme="P")], days=1,
               constraints=[{**rule, "enforcement": "soft", "weight": 10}])
    out = solve(soft)
    assert [v["cost"] for v in violations(out, "momDailyHoursCap")] == [30]  # 3 started hours over


def test_monthly_overtime_cap():
    rule = {"id": "momMonthlyOTcap72h", "enforcement": "hard", "params": {"maxMonthlyOtHours": 8}}
    d = doc(employees=[emp("E1")], days=14, constraints=[rule])  # two ISO weeks of 12 h shifts
    # 4 shifts a week = 48 h = 4 h OT; 8 h of OT allows 4 + 4 shifts
    assert filled(solve(d)) == 8
    assert filled(solve(without(d, "momMonthlyOTcap72h"))) == 14


def test_monthly_overtime_cap_soft():
    rule = {"id": "momMonthlyOTcap72h", "enforcement": "soft", "weight": 2, "params": {"maxMonthlyOtHours": 8}}
    out = solve(doc(employees=[emp("E1")], days=14, constraints=[rule]))
    assert filled(out) == 14
    [v] = violations(out, "momMonthlyOTcap72h")
    assert v["amount"] == 2 * 40 - 8 and v["cost"] == 2 * (2 * 40 - 8)


def test_work_pattern_soft_by_default_and_hard_when_configured():
    d = doc(employees=[emp("E1", workPattern=["D", "O"], rotationOffset=0)], days=4)
    out = solve(d)
    assert filled(out) == 4
    assert sorted(v["date"] for v in violations(out, "workPattern")) == ["2026-03-03", "2026-03-05"]
    hard = {**d, "constraintList": [{"id": "workPattern", "enforcement": "hard"}]}
    out = solve(hard)
    assert filled(out) == 2
    assert sorted(a["date"] for a in out["assignments"]) == ["2026-03-02", "2026-03-04"]


def test_work_pattern_from_requirement_with_rotation_offset():
    d = doc(employees=[emp("E1", rotationOffset=1)], days=4, requirement={"workPattern": ["D", "D", "O"]},
            constraints=[{"id": "workPattern", "enforcement": "hard"}])
    out = solve(d)
    # offset 1: days 0..3 follow D, O, D, D
    assert sorted(a["date"] for a in out["assignments"]) == ["2026-03-02", "2026-03-04", "2026-03-05"]
    soft = solve(without(d, "workPattern"))  # the requirement's pattern still applies, soft by default
    assert filled(soft) == 4
    assert [v["date"] for v in violations(soft, "workPattern")] == ["2026-03-03"]
    no_pattern = doc(employees=[emp("E1", rotationOffset=1)], days=4)
    assert filled(solve(no_pattern)) == 4


def test_gender_mix():
    req = {"gender": "Mix"}
    d = doc(employees=[emp("M1"), emp("M2"), emp("F1", gender="F")], days=1, headcount=2, requirement=req)
    out = solve(d)
    assert sorted(a["employeeId"] for a in out["assignments"])[0] == "F1" and filled(out) == 2
    only_men = doc(employees=[emp("M1"), emp("M2")], days=1, headcount=2, requirement=req)
    assert filled(solve(only_men)) == 0
    assert filled(solve(doc(employees=[emp("M1"), emp("M2")], days=1, headcount=2))) == 2


def test_gender_filter():
    d = doc(employees=[emp("M1"), emp("F1", gender="Female")], days=1, headcount=2, requirement={"gender": "F"})
    out = solve(d)
    assert [a["employeeId"] for a in out["assignments"]] == ["F1"]


def test_eligibility_filters():
    employees = [
        emp("OK1", qualifications=[{"code": "FA"}]),
        emp("OK2", productTypeId="AVSO", rankId="CPL", scheme="Scheme B", teamId="T9",
            qualifications=[{"code": "FA", "expiryDate": "2026-03-02"}]),
        emp("BADPT", productTypeId="CPO", qualifications=[{"code": "FA"}]),
        emp("BADRANK", rankId="SGT", qualifications=[{"code": "FA"}]),
        emp("NOQUAL"),
        emp("EXPIRED", qualifications=[{"code": "FA", "expiryDate": "2026-03-01"}]),
        emp("NOTYET", qualifications=[{"code": "FA", "validFrom": "2026-03-03"}]),
        emp("BADSCHEME", scheme="P", qualifications=[{"code": "FA"}]),
        emp("NOTLISTED", teamId="T2", qualifications=[{"code": "FA"}]),
        emp("BLACK", qualifications=[{"code": "FA"}]),
        emp("AWAY", qualifications=[{"code": "FA"}], unavailability=[{"startDate": "2026-03-02", "endDate": "2026-03-02"}]),
    ]
    req = {"productTypeId": None, "productTypeIds": ["APO", "AVSO"], "rankIds": ["SER", "CPL"],
           "requiredQualifications": ["FA"], "schemes": ["A", "B"]}
    group = {"shiftDetails": [D12], "whitelist": {"teamIds": ["T1"], "employeeIds": ["OK2"]},
             "blacklist": {"employeeIds": ["BLACK"]}}
    d = doc(employees=employees, days=1, headcount=20, requirement=req, groups=[group])
    out = solve(d)
    assert sorted(a["employeeId"] for a in out["assignments"]) == ["OK1", "OK2"]
    assert out["unmetDemand"][0]["missing"] == 18
    roster = {r["employeeId"]: r["dailyStatus"][0]["status"] for r in out["employeeRoster"]}
    assert roster["AWAY"] == "UNAVAILABLE"


def test_qualification_group_any():
    req = {"requiredQualifications": [{"groupId": "G", "matchType": "ANY", "qualifications": ["FA", "CPR"]}]}
    d = doc(employees=[emp("A", qualifications=["CPR"]), emp("B", qualifications=["XX"])], days=1, headcount=2,
            requirement=req)
    assert [a["employeeId"] for a in solve(d)["assignments"]] == ["A"]


def test_headcount_is_a_cap_and_per_shift_code():
    d = doc(employees=[emp(f"E{i}") for i in range(4)], days=1, shifts=[D12, N12], headcount={"D": 1, "N": 2})
    out = solve(d)
    by = sorted(a["shiftCode"] for a in out["assignments"])
    assert by == ["D", "N", "N"]


def test_coverage_days_and_public_holidays():
    group = {"shiftDetails": [D12], "coverageDays": ["Mon", "Tue", "Wed"], "includePublicHolidays": False}
    d = doc(employees=[emp("E1"), emp("E2")], days=7, groups=[group])
    d["publicHolidays"] = ["2026-03-03"]
    out = solve(d)
    assert sorted(a["date"] for a in out["assignments"]) == ["2026-03-02", "2026-03-04"]


def test_unmet_demand_is_reported_not_folded_into_status():
    d = doc(employees=[emp("E1")], days=2, headcount=2)
    out = solve(d)
    assert out["solverRun"]["status"] == "OPTIMAL"
    assert out["coverage"] == {"required": 4, "filled": 2, "missing": 2, "complete": False}
    assert [u["missing"] for u in out["unmetDemand"]] == [1, 1]
    assert [v["cost"] for v in violations(out, "coverShortfall")] == [1_000_000, 1_000_000]


def test_full_cover_hard_is_explained_when_infeasible():
    d = doc(employees=[emp("E1")], days=7, constraints=[
        {"id": "slotHeadcount", "enforcement": "hard"},
        {"id": "minimumOffDaysPerWeek", "enforcement": "hard", "defaultValue": 1},
        {"id": "momDailyHoursCap", "enforcement": "hard", "defaultValue": 14},
    ])
    out = solve(d)
    assert out["solverRun"]["status"] == "INFEASIBLE"
    rules = {c["rule"] for c in out["infeasibility"]["conflictingRules"]}
    assert rules == {"slotHeadcount", "minimumOffDaysPerWeek"}
    assert filled(solve(without(d, "minimumOffDaysPerWeek"))) == 7


@pytest.mark.parametrize("enforcement", ["soft", "hard"])
def test_one_shift_per_day_is_structural(enforcement):
    d = doc(employees=[emp("E1")], days=1, shifts=[{"shiftCode": "A", "start": "06:00", "end": "10:00"},
                                                   {"shiftCode": "B", "start": "14:00", "end": "18:00"}],
            constraints=[{"id": "oneShiftPerDay", "enforcement": enforcement}])
    out = solve(d)
    assert filled(out) == 1
    codes = {w["code"] for w in out["warnings"]}
    assert ("INCONSISTENT_CONFIG" in codes) == (enforcement == "soft")


def test_unknown_constraint_is_a_warning_in_the_output():
    d = doc(employees=[emp("E1")], days=1, constraints=[{"id": "teleportBetweenSites", "enforcement": "hard"}])
    out = solve(d)
    assert [(w["field"], w["code"]) for w in out["warnings"]] == [("constraintList[0].id", "UNKNOWN_CONSTRAINT")]


def test_max_consecutive_working_days_soft():
    rule = {"id": "maxConsecutiveWorkingDays", "enforcement": "soft", "weight": 4, "defaultValue": 3}
    out = solve(doc(employees=[emp("E1")], days=5, constraints=[rule]))
    assert filled(out) == 5
    # two 4-day windows fully worked (from day 0 and day 1)
    assert sorted((v["date"], v["cost"]) for v in violations(out, "maxConsecutiveWorkingDays")) == [
        ("2026-03-02", 4), ("2026-03-03", 4)]


def test_daily_headcount_solved_and_checked():
    req = {"dailyHeadcount": [{"date": "2026-03-02", "shiftCode": "D", "headcount": 2},
                              {"date": "2026-03-03", "shiftCode": "D", "headcount": 0}]}
    out = solve(doc(employees=[emp("E1"), emp("E2"), emp("E3")], days=3, requirement=req))
    assert sorted(a["date"] for a in out["assignments"]) == ["2026-03-02", "2026-03-02", "2026-03-04"]
