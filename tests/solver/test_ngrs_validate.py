"""Validation: field paths and codes, warnings, the JSON Schema, and "never raises" on garbage."""

from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ngrs_testlib import load_example

from service.solver.builder import build
from service.solver.errors import InputError
from service.solver.formats.ngrs import NgrsInput, problem_from_ngrs
from service.solver.validate import validate_document


def _codes(report) -> set[tuple[str, str]]:
    return {(i.field, i.code) for i in report.errors}


@pytest.fixture()
def tiny() -> dict:
    return load_example("ngrs_tiny")


def test_examples_are_valid():
    for name in ("ngrs_tiny", "ngrs_020", "ngrs_200", "ngrs_unmet", "ngrs_infeasible"):
        report = validate_document(load_example(name))
        assert report.ok, report.to_dict()["errors"]
        d = report.to_dict()
        assert d["valid"] is True and d["summary"]["employees"] == len(load_example(name)["employees"])


def test_report_shape(tiny):
    d = validate_document(tiny).to_dict()
    assert set(d) == {"valid", "errors", "warnings", "summary"}
    json.dumps(d)


@pytest.mark.parametrize("mutate, field, code", [
    (lambda d: d.pop("planningHorizon"), "planningHorizon", "MISSING_FIELD"),
    (lambda d: d["planningHorizon"].update(startDate="2026-02-30"), "planningHorizon.startDate", "INVALID_DATE"),
    (lambda d: d["planningHorizon"].update(startDate=20260301), "planningHorizon.startDate", "INVALID_DATE"),
    (lambda d: d["planningHorizon"].update(endDate="2026-03-01"), "planningHorizon.endDate", "INVALID_RANGE"),
    (lambda d: d["planningHorizon"].update(endDate="2028-03-01"), "planningHorizon.endDate", "OUT_OF_RANGE"),
    (lambda d: d["demandItems"][0]["shifts"][0]["shiftDetails"][0].update(start="25:00"),
     "demandItems[0].shifts[0].shiftDetails[0].start", "INVALID_TIME"),
    (lambda d: d["demandItems"][0]["shifts"][0]["shiftDetails"][0].update(end=7),
     "demandItems[0].shifts[0].shiftDetails[0].end", "INVALID_TYPE"),
    (lambda d: d["demandItems"][0]["shifts"][0].update(shiftDetails=[]),
     "demandItems[0].shifts[0].shiftDetails", "EMPTY_ARRAY"),
    (lambda d: d["demandItems"][0]["shifts"][0].update(coverageDays=["Mon", "Funday"]),
     "demandItems[0].shifts[0].coverageDays[1]", "INVALID_VALUE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(headcount=-1),
     "demandItems[0].requirements[0].headcount", "OUT_OF_RANGE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(headcount="two"),
     "demandItems[0].requirements[0].headcount", "INVALID_TYPE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(headcount={"Z": 1}),
     "demandItems[0].requirements[0].headcount.Z", "INVALID_VALUE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(headcount={"D": "x"}),
     "demandItems[0].requirements[0].headcount.D", "INVALID_TYPE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(gender="Robot"),
     "demandItems[0].requirements[0].gender", "INVALID_VALUE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(workPattern=["D", "Q"]),
     "demandItems[0].requirements[0].workPattern[1]", "INVALID_VALUE"),
    (lambda d: d["demandItems"][0]["requirements"][0].update(requiredQualifications=[3.5]),
     "demandItems[0].requirements[0].requiredQualifications[0]", "INVALID_TYPE"),
    (lambda d: d.update(employees=[]), "employees", "EMPTY_ARRAY"),
    (lambda d: d.update(demandItems="x"), "demandItems", "INVALID_TYPE"),
    (lambda d: d["employees"][3].pop("employeeId"), "employees[3].employeeId", "MISSING_FIELD"),
    (lambda d: d["employees"][3].update(employeeId=d["employees"][0]["employeeId"]), "employees[3].employeeId",
     "INVALID_VALUE"),
    (lambda d: d["employees"][1]["qualifications"][0].update(expiryDate="soon"),
     "employees[1].qualifications[0].expiryDate", "INVALID_DATE"),
    (lambda d: d["employees"][4]["unavailability"][0].update(endDate="2026-03-01"),
     "employees[4].unavailability[0].endDate", "INVALID_RANGE"),
    (lambda d: d["employees"][0].update(rotationOffset=-2), "employees[0].rotationOffset", "OUT_OF_RANGE"),
    (lambda d: d["constraintList"][1].update(enforcement="sometimes"), "constraintList[1].enforcement", "INVALID_VALUE"),
    (lambda d: d["constraintList"][1].update(params={"minRestMinutes": "long"}),
     "constraintList[1].params.minRestMinutes", "INVALID_VALUE"),
    (lambda d: d["constraintList"][3].update(defaultValue=9), "constraintList[3]", "OUT_OF_RANGE"),
    (lambda d: d["constraintList"][0].update(weight=10 ** 9), "constraintList[0].weight", "OUT_OF_RANGE"),
    (lambda d: d.update(solverRunTime={"maxSeconds": 0}), "solverRunTime.maxSeconds", "OUT_OF_RANGE"),
])
def test_error_paths_and_codes(tiny, mutate, field, code):
    mutate(tiny)
    report = validate_document(tiny)
    assert not report.ok
    assert (field, code) in _codes(report), report.to_dict()["errors"]
    with pytest.raises(InputError) as exc:
        problem_from_ngrs(tiny)
    assert (field, code) in {(i.field, i.code) for i in exc.value.issues}


def test_messages_are_not_only_pydantic(tiny):
    tiny["planningHorizon"]["startDate"] = "yesterday"
    [issue] = validate_document(tiny).errors
    assert issue.message and issue.code == "INVALID_DATE" and issue.field == "planningHorizon.startDate"


def test_warnings(tiny):
    tiny["schemaVersion"] = "9.9"
    tiny["constraintList"].append({"id": "bringCoffee", "enforcement": "soft"})
    tiny["demandItems"][0]["requirements"][0]["productTypeId"] = "NOBODY"
    tiny["constraintList"].append({"id": "oneShiftPerDay", "enforcement": "soft"})
    report = validate_document(tiny)
    assert report.ok
    got = {(w.field, w.code) for w in report.warnings}
    assert ("schemaVersion", "UNKNOWN_VERSION") in got
    assert (f"constraintList[{len(tiny['constraintList']) - 2}].id", "UNKNOWN_CONSTRAINT") in got
    assert ("demandItems[0].requirements[0]", "NO_MATCHING_EMPLOYEES") in got
    assert (f"constraintList[{len(tiny['constraintList']) - 1}].enforcement", "INCONSISTENT_CONFIG") in got


def test_both_constraint_value_forms_and_aliases(tiny):
    tiny["constraintList"] = [
        {"constraintId": "apgdMinRestBetweenShifts", "enforcement": "HARD", "defaultValue": 8,
         "schemeOverrides": {"P": 1}},
        {"id": "momWeeklyHoursCap44h", "params": {"maxWeeklyHours": 44}},
        {"id": "maxConsecutiveWorkingDays", "defaultValue": 12, "schemeOverrides": {"A": {"productTypes": ["APO"], "value": 8}}},
        {"id": "minimumOffDaysPerWeek", "defaultValue": 1},
        {"id": "momDailyHoursCap", "schemeOverrides": {"A": 14, "B": 13, "P": 9}},
        {"id": "momMonthlyOTcap72h", "params": '{"maxMonthlyOtHours": 72}'},
        {"id": "minRestMinutes", "enforcement": "soft", "params": {"minRestMinutes": 660}},
    ]
    p = problem_from_ngrs(tiny)
    rules = {r.rule: r for r in p.rules}
    assert rules["apgdMinRestBetweenShifts"].params[0] == 480
    assert rules["minRestMinutes"].params[0] == 660 and not rules["minRestMinutes"].hard
    assert rules["maxConsecutiveWorkingDays"].params[0] == 8  # scheme A + APO
    assert rules["momWeeklyHoursCap44h"].params[0] == 44 * 60
    assert rules["momDailyHoursCap"].params[0] == 14 * 60
    assert rules["momMonthlyOTcap72h"].params[0] == (72 * 60, 44 * 60)
    assert rules["minimumOffDaysPerWeek"].params[0] == 1


def test_json_schema_is_served_from_the_model():
    schema = NgrsInput.model_json_schema()
    assert {"planningReference", "planningHorizon", "demandItems", "employees"} <= set(schema["required"])
    json.dumps(schema)


GARBAGE = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GARBAGE)
def test_never_raises_on_any_json_value(value):
    report = validate_document(value)
    assert not report.ok
    json.dumps(report.to_dict())


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def test_never_raises_on_mutated_documents():
    base = load_example("ngrs_tiny")
    paths = [p for p in _paths(base) if p]
    rng = random.Random(1)
    junk = [None, True, -1, 0, 10 ** 12, 1.5, float("nan"), "", "x", "25:99", "2026-13-01", [], {}, [None], {"a": 1}]
    for _ in range(400):
        doc = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            node = doc
            try:
                for k in path[:-1]:
                    node = node[k]
                if rng.random() < 0.2 and isinstance(node, dict):
                    node.pop(path[-1], None)
                else:
                    node[path[-1]] = rng.choice(junk)
            except (KeyError, IndexError, TypeError):
                continue
        report = validate_document(doc)
        for issue in report.errors + report.warnings:
            assert issue.code and isinstance(issue.field, str)
        if report.ok:
            build(problem_from_ngrs(doc))  # a valid report means translation and model building succeed


def test_unsupported_fields_are_warnings(tiny):
    tiny["monthlyHourLimits"] = [{"id": "x"}]
    tiny["demandItems"][0]["requirements"][0]["dailyHeadcount"] = [
        {"date": "2026-03-02", "shiftCode": "D", "headcount": 3, "startTimeOverride": "08:00"}]
    report = validate_document(tiny)
    assert report.ok
    got = {(w.field, w.code) for w in report.warnings}
    assert ("monthlyHourLimits", "UNSUPPORTED_FIELD") in got
    assert ("demandItems[0].requirements[0].dailyHeadcount[0]", "UNSUPPORTED_FIELD") in got


def test_daily_headcount_overrides_per_date(tiny):
    tiny["demandItems"][0]["requirements"][0]["dailyHeadcount"] = [
        {"date": "2026-03-02", "shiftCode": "D", "headcount": 3},
        {"date": "2026-03-03", "shiftCode": "N", "headcount": 0},
        {"date": "2026-04-03", "shiftCode": "N", "headcount": 1}]
    report = validate_document(tiny)
    assert report.ok and ("demandItems[0].requirements[0].dailyHeadcount[2].date", "OUT_OF_RANGE") in {
        (w.field, w.code) for w in report.warnings}
    p = problem_from_ngrs(tiny)
    need = {(c.day, c.shift): c.required for c in p.covers}
    assert need[(0, "D")] == 3 and (1, "N") not in need and need[(1, "D")] == 1 and need[(0, "N")] == 1
    tiny["demandItems"][0]["requirements"][0]["dailyHeadcount"] = [{"date": "2026-03-02", "shiftCode": "Q",
                                                                     "headcount": 1}]
    assert ("demandItems[0].requirements[0].dailyHeadcount[0].shiftCode", "INVALID_VALUE") in _codes(
        validate_document(tiny))


def test_v070_forms(tiny):
    tiny["schemaVersion"] = 0.7
    tiny["employees"][0].update(scheme="Scheme P", gender="Female")
    req = tiny["demandItems"][0]["requirements"][0]
    req.pop("schemes")
    req["Scheme"] = "Scheme A"
    tiny["constraintList"] = [
        {"constraintId": "momDailyHoursCap", "enforcement": "hard",
         "params": {"maxDailyHoursA": 14, "maxDailyHoursB": 13, "maxDailyHoursP": 9}},
        {"id": "momWeeklyHoursCap44h", "enforcement": "soft", "params": '{"maxWeeklyHours": 44}'},
    ]
    report = validate_document(tiny)
    assert report.ok and not [w for w in report.warnings if w.code == "UNKNOWN_VERSION"]
    p = problem_from_ngrs(tiny)
    daily = next(r for r in p.rules if r.rule == "momDailyHoursCap")
    assert daily.params[0] == 9 * 60 and daily.params[1] == 14 * 60
    assert p.employees[0].attributes["scheme"] == "P" and p.employees[0].attributes["gender"] == "F"
    assert all(0 not in c.eligible for c in p.covers)  # scheme P is not in the requirement's "Scheme A"
