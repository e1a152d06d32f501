"""Generates the NGRS example inputs in this folder, deterministically (fixed seeds).

    .venv/bin/python examples/generate.py          # rewrites examples/ngrs_*.json

- `ngrs_tiny.json`: 5 employees, one week, D/N: solves optimally in well under a second.
- `ngrs_001.json` ... `ngrs_200.json`: one month (March 2026), 1 to 200 employees, 1 to 3 shift codes,
  realistic rule set (rest, consecutive days, days off, daily/weekly hours, monthly OT, patterns,
  qualifications with expiry, gender Mix, whitelists/blacklists, unavailability).
- `ngrs_unmet.json`: too few people: the roster is optimal and the missing people are in unmetDemand.
- `ngrs_infeasible.json`: full cover is hard (`slotHeadcount`) and conflicts with the days-off rule.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

SHIFT_SETS = {
    1: [{"shiftCode": "D", "start": "08:00", "end": "20:00", "nextDay": False}],
    2: [{"shiftCode": "D", "start": "07:00", "end": "19:00", "nextDay": False},
        {"shiftCode": "N", "start": "19:00", "end": "07:00", "nextDay": True}],
    3: [{"shiftCode": "D", "start": "07:00", "end": "15:00", "nextDay": False},
        {"shiftCode": "E", "start": "15:00", "end": "23:00", "nextDay": False},
        {"shiftCode": "N", "start": "23:00", "end": "07:00", "nextDay": True}],
}
PATTERNS = {1: ["D", "D", "D", "D", "O", "O"], 2: ["D", "D", "N", "N", "O", "O"],
            3: ["D", "D", "E", "E", "N", "N", "O"]}


def constraints(variant: int) -> list[dict]:
    rest = ({"id": "apgdMinRestBetweenShifts", "enforcement": "hard", "params": {"minRestMinutes": 660}}
            if variant % 2 == 0 else
            {"id": "apgdMinRestBetweenShifts", "enforcement": "hard", "defaultValue": 8,
             "schemeOverrides": {"P": 1}})
    return [
        {"id": "oneShiftPerDay", "enforcement": "hard"},
        rest,
        {"id": "maxConsecutiveWorkingDays", "enforcement": "hard", "defaultValue": 12,
         "schemeOverrides": {"A": {"productTypes": ["APO"], "value": 8}, "B": 5}},
        {"id": "minimumOffDaysPerWeek", "enforcement": "hard", "defaultValue": 1},
        {"id": "momDailyHoursCap", "enforcement": "hard", "schemeOverrides": {"A": 14, "B": 13, "P": 9}},
        {"id": "momWeeklyHoursCap44h", "enforcement": "soft", "weight": 20, "params": {"maxWeeklyHours": 44}},
        {"id": "momMonthlyOTcap72h", "enforcement": "hard", "params": {"maxMonthlyOtHours": 72}},
        {"id": "workPattern", "enforcement": "soft", "weight": 5},
        {"id": "momLunchBreak", "enforcement": "soft", "defaultValue": 60},
    ]


def employees(n: int, rng: random.Random, start: str = "2026-03") -> list[dict]:
    out = []
    for i in range(n):
        scheme = rng.choices(["A", "B", "P"], [6, 3, 1])[0] if n > 1 else "A"
        emp = {
            "employeeId": f"E{i + 1:04d}",
            "productTypeId": rng.choices(["APO", "AVSO"], [7, 3])[0] if n > 2 else "APO",
            "rankId": rng.choice(["SER", "CPL", "SGT"]),
            "scheme": scheme,
            "gender": rng.choices(["M", "F"], [7, 3])[0] if i > 1 else ["M", "F"][i],
            "teamId": f"T{i % 4 + 1}",
            "rotationOffset": i,
            "qualifications": [],
            "unavailability": [],
        }
        if rng.random() < 0.7:
            q = {"code": "FA"}
            if rng.random() < 0.15:
                q["expiryDate"] = f"{start}-{rng.randint(5, 25):02d}"
            emp["qualifications"].append(q)
        if rng.random() < 0.1 and n > 1:
            d0 = rng.randint(1, 25)
            emp["unavailability"].append({"startDate": f"{start}-{d0:02d}",
                                          "endDate": f"{start}-{min(31, d0 + rng.randint(0, 4)):02d}"})
        out.append(emp)
    return out


def instance(name: str, n: int, codes: int, seed: int, *, days: int = 31, headcount: float = 0.5) -> dict:
    rng = random.Random(seed)
    emps = employees(n, rng)
    shifts = SHIFT_SETS[codes]
    # the gender-Mix requirement needs women among the first-aid-qualified AVSO officers
    avso = [e for e in emps if e["productTypeId"] == "AVSO"]
    for e in avso[:max(2, len(avso) // 4)]:
        e["gender"] = "F"
        e["qualifications"] = [{"code": "FA"}]
    per_day = max(1, round(n * headcount))  # people per day, over all codes and requirements
    n_avso = sum(e["productTypeId"] == "AVSO" for e in emps)
    reqs = []
    apo_per_code = max(1, round(per_day * (n - n_avso) / n / codes))
    reqs.append({
        "requirementId": f"{seed}_1",
        "productTypeIds": ["APO"],
        "rankIds": ["SER", "CPL", "SGT"],
        "headcount": apo_per_code,
        "gender": "Any",
        "schemes": ["Any"],
        "workPattern": PATTERNS[codes],
    })
    if n_avso >= 6:
        avso = max(2, round(per_day * n_avso / n / codes / 1.6))
        reqs.append({
            "requirementId": f"{seed}_2",
            "productTypeId": "AVSO",
            "rankId": "CPL" if n < 10 else None,
            "headcount": {s["shiftCode"]: avso for s in shifts},
            "requiredQualifications": ["FA"],
            "gender": "Mix",
            "schemes": ["A", "B", "P"],
        })
        if reqs[-1]["rankId"] is None:
            del reqs[-1]["rankId"]
    shift_group = {"shiftDetails": shifts, "coverageDays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                   "includePublicHolidays": True, "whitelist": {"employeeIds": [], "teamIds": []},
                   "blacklist": {"employeeIds": [emps[-1]["employeeId"]] if n >= 20 else []}}
    end_day = days
    return {
        "schemaVersion": "0.98",
        "planningReference": name,
        "planningHorizon": {"startDate": "2026-03-01", "endDate": f"2026-03-{end_day:02d}"},
        "publicHolidays": ["2026-03-20"],
        "solverRunTime": {"maxSeconds": 30},
        "constraintList": constraints(seed),
        "demandItems": [{"demandId": f"DI-{seed}", "shifts": [shift_group], "requirements": reqs}],
        "employees": emps,
    }


def tiny() -> dict:
    emps = [{"employeeId": f"T{i + 1}", "productTypeId": "APO", "rankId": "SER", "scheme": "A",
             "gender": "MF"[i % 2], "teamId": "T1", "rotationOffset": i,
             "qualifications": [{"code": "FA"}], "unavailability": []} for i in range(5)]
    emps[4]["unavailability"] = [{"startDate": "2026-03-04", "endDate": "2026-03-05"}]
    return {
        "schemaVersion": "0.98",
        "planningReference": "EXAMPLE-TINY",
        "planningHorizon": {"startDate": "2026-03-02", "endDate": "2026-03-08"},
        "publicHolidays": [],
        "solverRunTime": {"maxSeconds": 10},
        "constraintList": [
            {"id": "oneShiftPerDay", "enforcement": "hard"},
            {"id": "apgdMinRestBetweenShifts", "enforcement": "hard", "params": {"minRestMinutes": 660}},
            {"id": "maxConsecutiveWorkingDays", "enforcement": "hard", "defaultValue": 4},
            {"id": "minimumOffDaysPerWeek", "enforcement": "hard", "defaultValue": 2},
            {"id": "momWeeklyHoursCap44h", "enforcement": "soft", "weight": 20, "params": {"maxWeeklyHours": 44}},
            {"id": "momDailyHoursCap", "enforcement": "hard", "defaultValue": 12},
        ],
        "demandItems": [{
            "demandId": "DI-TINY",
            "shifts": [{"shiftDetails": SHIFT_SETS[2], "coverageDays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
                        "includePublicHolidays": True}],
            "requirements": [{"requirementId": "TINY_1", "productTypeId": "APO", "rankIds": ["SER"],
                              "headcount": {"D": 1, "N": 1}, "requiredQualifications": ["FA"], "gender": "Any",
                              "schemes": ["A"]}],
        }],
        "employees": emps,
    }


def unmet() -> dict:
    doc = instance("EXAMPLE-UNMET", 4, 2, 7, days=14, headcount=1.0)
    doc["planningHorizon"]["endDate"] = "2026-03-14"
    doc["demandItems"][0]["requirements"][0]["headcount"] = 2
    doc["demandItems"][0]["requirements"][0]["productTypeIds"] = ["APO", "AVSO"]
    doc["solverRunTime"]["maxSeconds"] = 10
    return doc


def infeasible() -> dict:
    doc = tiny()
    doc["planningReference"] = "EXAMPLE-INFEASIBLE"
    doc["constraintList"].append({"id": "slotHeadcount", "enforcement": "hard"})
    doc["demandItems"][0]["requirements"][0]["headcount"] = {"D": 2, "N": 2}
    return doc


SERIES = [("ngrs_001", 1, 1, 1), ("ngrs_005", 5, 1, 5), ("ngrs_020", 20, 2, 20), ("ngrs_060", 60, 2, 60),
          ("ngrs_120", 120, 3, 120), ("ngrs_200", 200, 3, 200)]


def all_examples() -> dict[str, dict]:
    out = {"ngrs_tiny": tiny()}
    for name, n, codes, seed in SERIES:
        out[name] = instance(name.upper().replace("_", "-"), n, codes, seed)
    out["ngrs_unmet"] = unmet()
    out["ngrs_infeasible"] = infeasible()
    return out


def main() -> None:
    for name, doc in all_examples().items():
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"{path.name}: {len(doc['employees'])} employees, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
