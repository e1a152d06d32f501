"""Independent checker: re-verifies every hard rule of an NGRS input on a solver OUTPUT JSON.

It reads only the input JSON and the output JSON (no solver model, no translation code) and returns a
list of human-readable problems; an empty list means the roster honours every hard rule, the cover
report (unmetDemand, coverage) is truthful and the score breakdown adds up to the objective.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
OFF = {"O", "OFF", "-", "X"}


def _d(s: str) -> date:
    return date.fromisoformat(s[:10])


def _mins(hhmm: str) -> int:
    h, m, *rest = hhmm.split(":")
    return int(h) * 60 + int(m) + (1 if rest and int(rest[0]) >= 30 else 0)


def _scheme(s):
    if isinstance(s, str) and s.lower().startswith("scheme "):
        return s[7:].strip()
    return s


def _gender(g):
    if not isinstance(g, str):
        return None
    return {"m": "M", "male": "M", "f": "F", "female": "F"}.get(g.strip().lower())


def _num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


# Which keys each rule reads, unit of params values in minutes or plain, unit of defaultValue form.
RULES = {
    "apgdMinRestBetweenShifts": ("rest", [("minRestMinutes", 1), ("minRestHours", 60), ("minRest", 60), ("value", 60)], 60, 480),
    "minRestMinutes": ("rest", [("minRestMinutes", 1), ("minRestHours", 60), ("minRest", 60), ("value", 60)], 1, 480),
    "minRestBetweenShifts": ("rest", [("minRestMinutes", 1), ("minRestHours", 60), ("minRest", 60), ("value", 60)], 60, 480),
    "maxConsecutiveWorkingDays": ("maxcons", [("maxConsecutiveWorkingDays", 1), ("maxConsecutiveDays", 1),
                                              ("maxDays", 1), ("value", 1)], 1, 12),
    "minimumOffDaysPerWeek": ("minoff", [("minimumOffDaysPerWeek", 1), ("minOffDays", 1), ("minOffDaysPerWeek", 1),
                                         ("value", 1)], 1, 1),
    "momWeeklyHoursCap44h": ("weekly", [("maxWeeklyHours", 60), ("weeklyHours", 60), ("maxHours", 60), ("value", 60)], 60, 2640),
    "momDailyHoursCap": ("daily", [("maxDailyHours", 60), ("maxHours", 60), ("value", 60)], 60, None),
    "momMonthlyOTcap72h": ("monthlyot", [("maxMonthlyOtHours", 60), ("maxMonthlyOTHours", 60), ("maxOvertimeHours", 60),
                                         ("maxOtHours", 60), ("value", 60)], 60, 4320),
    "monthlyOtCap72h": ("monthlyot", [("maxMonthlyOtHours", 60), ("maxMonthlyOTHours", 60), ("maxOvertimeHours", 60),
                                      ("maxOtHours", 60), ("value", 60)], 60, 4320),
}


def constraint_value(c: dict, emp: dict):
    """The hard rule's parameter for one employee (minutes for times), or None when not applied."""
    kind, keys, unit, default = RULES[c["id"]]
    if (c.get("uom") or "").lower() in ("min", "mins", "minute", "minutes") and unit == 60:
        unit = 1
    at = c.get("applicableTo") or {}
    if at.get("productTypes") and emp.get("productTypeId") not in at["productTypes"]:
        return None
    if at.get("ranks") and emp.get("rankId") not in at["ranks"]:
        return None
    scheme = _scheme(emp.get("scheme"))
    overrides = c.get("schemeOverrides") or {}
    if scheme in overrides:
        ovs = overrides[scheme]
        for ov in (ovs if isinstance(ovs, list) else [ovs]):
            if isinstance(ov, dict):
                pts = ov.get("productTypes") or ov.get("productTypeIds")
                rks = ov.get("ranks") or ov.get("rankIds")
                if (pts and emp.get("productTypeId") not in pts) or (rks and emp.get("rankId") not in rks):
                    continue
                return ov["value"] * unit
            return ov * unit
    params = c.get("params") or {}
    for key, mult in keys:
        for k in ([f"{key}{scheme}"] if scheme else []) + [key]:
            if k in params:
                return params[k] * mult
    if c.get("defaultValue") is not None:
        return c["defaultValue"] * unit
    if overrides or params:
        return None
    return default


def check(inp: dict, out: dict) -> list[str]:
    problems: list[str] = []
    bad = problems.append
    start = _d(inp["planningHorizon"]["startDate"])
    end = _d(inp["planningHorizon"]["endDate"])
    dates = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    ph = {_d(x) for x in inp.get("publicHolidays", [])}
    emps = {e["employeeId"]: e for e in inp["employees"]}
    status = out["solverRun"]["status"]
    if status not in ("OPTIMAL", "FEASIBLE"):
        if out["assignments"]:
            bad(f"status {status} but {len(out['assignments'])} assignments")
        return problems

    # slots: (demandId, requirementId, date, code) -> (headcount, requirement, group)
    slots: dict[tuple, tuple[int, dict, dict]] = {}
    shift_time: dict[str, tuple[int, int]] = {}
    for item in inp["demandItems"]:
        for group in item["shifts"]:
            days = group.get("coverageDays") or WEEKDAYS
            days = [x[:3].capitalize() for x in days]
            for sd in group["shiftDetails"]:
                s, e = _mins(sd["start"]), _mins(sd["end"])
                if sd.get("nextDay") or e <= s:
                    e += 1440
                shift_time[sd["shiftCode"]] = (s, e - s)
            for req in item["requirements"]:
                for day in dates:
                    if WEEKDAYS[day.weekday()] not in days:
                        continue
                    if day in ph and not group.get("includePublicHolidays", True):
                        continue
                    for sd in group["shiftDetails"]:
                        hc = req["headcount"]
                        need = hc if isinstance(hc, int) else hc.get(sd["shiftCode"], 0)
                        for dh in req.get("dailyHeadcount") or []:
                            if _d(dh["date"]) == day and dh["shiftCode"] == sd["shiftCode"]:
                                need = dh["headcount"]
                        if need > 0:
                            slots[(item["demandId"], req["requirementId"], day, sd["shiftCode"])] = (need, req, group)

    def eligible(emp: dict, req: dict, group: dict, day: date) -> str | None:
        pts = set(req.get("productTypeIds") or []) | ({req["productTypeId"]} if req.get("productTypeId") else set())
        if pts and emp.get("productTypeId") not in pts:
            return "product type"
        rks = set(req.get("rankIds") or []) | ({req["rankId"]} if req.get("rankId") else set())
        if rks and emp.get("rankId") not in rks:
            return "rank"
        g = (req.get("gender") or "Any")
        if g in ("M", "F") and _gender(emp.get("gender")) != g:
            return "gender"
        schemes = {_scheme(s) for s in req.get("schemes", []) if str(s).lower() not in ("any", "global", "all", "")}
        if schemes and _scheme(emp.get("scheme")) not in schemes:
            return "scheme"
        wl = group.get("whitelist") or {}
        if wl.get("employeeIds") or wl.get("teamIds"):
            if emp["employeeId"] not in wl.get("employeeIds", []) and emp.get("teamId") not in wl.get("teamIds", []):
                return "whitelist"
        bl = group.get("blacklist") or {}
        if emp["employeeId"] in bl.get("employeeIds", []):
            lo, hi = bl.get("blacklistStartDate"), bl.get("blacklistEndDate")
            if (not lo or _d(lo) <= day) and (not hi or day <= _d(hi)):
                return "blacklist"
        quals = [q if isinstance(q, dict) else {"code": q} for q in emp.get("qualifications", [])]

        def held(code):
            return any(q["code"] == code and (not q.get("validFrom") or _d(q["validFrom"]) <= day)
                       and (not q.get("expiryDate") or day <= _d(q["expiryDate"])) for q in quals)
        for rq in req.get("requiredQualifications", []):
            if isinstance(rq, str):
                if not held(rq):
                    return f"qualification {rq}"
            else:
                fn = any if str(rq.get("matchType", "ALL")).upper() == "ANY" else all
                if not fn(held(c) for c in rq["qualifications"]):
                    return f"qualification group {rq.get('groupId')}"
        for u in emp.get("unavailability", []):
            if _d(u["startDate"]) <= day <= _d(u["endDate"]):
                return "unavailable"
        return None

    count: Counter = Counter()
    people: dict[tuple, list[str]] = defaultdict(list)
    work: dict[str, list[tuple[datetime, datetime, date, str]]] = defaultdict(list)
    for a in out["assignments"]:
        eid, day, code = a["employeeId"], _d(a["date"]), a["shiftCode"]
        key = (a.get("demandId"), a.get("requirementId"), day, code)
        if eid not in emps:
            bad(f"unknown employee {eid}")
            continue
        if key not in slots:
            bad(f"assignment to a slot with no demand: {key}")
            continue
        need, req, group = slots[key]
        why = eligible(emps[eid], req, group, day)
        if why:
            bad(f"{eid} on {day} {code} ({key[1]}) is not eligible: {why}")
        count[key] += 1
        people[key].append(eid)
        s, dur = shift_time[code]
        t0 = datetime.combine(day, datetime.min.time()) + timedelta(minutes=s)
        t1 = t0 + timedelta(minutes=dur)
        if a.get("startDateTime") != t0.isoformat(timespec="minutes") or a.get("endDateTime") != t1.isoformat(timespec="minutes"):
            bad(f"{eid} {day} {code}: times {a.get('startDateTime')}..{a.get('endDateTime')} != {t0}..{t1}")
        work[eid].append((t0, t1, day, code))

    # cover: never above headcount; unmetDemand exactly the shortfalls; Mix
    unmet = {(u.get("demandId"), u.get("requirementId"), _d(u["date"]), u["shiftCode"]): u["missing"]
             for u in out["unmetDemand"]}
    required = filled = 0
    for key, (need, req, group) in slots.items():
        n = count.get(key, 0)
        required += need
        filled += min(n, need)
        if n > need:
            bad(f"slot {key} has {n} people for headcount {need}")
        if n < need and unmet.get(key) != need - n:
            bad(f"slot {key}: {need - n} missing but unmetDemand says {unmet.get(key)}")
        if n >= need and key in unmet:
            bad(f"slot {key} is full but listed in unmetDemand")
        if req.get("gender") == "Mix" and n >= 2:
            gs = {_gender(emps[e].get("gender")) for e in people[key]}
            if not {"M", "F"} <= gs:
                bad(f"slot {key} is Mix but has genders {gs}")
    cov = out["coverage"]
    if (cov["required"], cov["filled"]) != (required, filled):
        bad(f"coverage {cov} but counted required={required} filled={filled}")

    # per employee: one shift per day, no overlap, and every hard rule of constraintList
    hard = [c for c in inp.get("constraintList", []) if (c.get("enforcement") or "hard").lower() == "hard"]
    for eid, shifts in work.items():
        emp = emps[eid]
        shifts.sort()
        by_day = Counter(s[2] for s in shifts)
        for day, n in by_day.items():
            if n > 1:
                bad(f"{eid} works {n} shifts on {day}")
        for (a0, a1, ad, ac), (b0, b1, bd, bc) in zip(shifts, shifts[1:]):
            if b0 < a1:
                bad(f"{eid}: {ac} on {ad} overlaps {bc} on {bd}")
        worked = {s[2] for s in shifts}
        minutes_on = defaultdict(int)
        for t0, t1, day, _ in shifts:
            minutes_on[day] += int((t1 - t0).total_seconds() // 60)
        for c in hard:
            cid = c.get("id") or c.get("constraintId")
            if cid == "slotHeadcount":
                continue
            if cid not in RULES:
                continue
            v = constraint_value(c, emp)
            if v is None:
                continue
            kind = RULES[cid][0]
            if kind == "rest":
                for (a0, a1, ad, ac), (b0, b1, bd, bc) in zip(shifts, shifts[1:]):
                    gap = (b0 - a1).total_seconds() / 60
                    if gap < v:
                        bad(f"{eid}: rest {gap:g} min between {ac}@{ad} and {bc}@{bd} < {v:g} ({cid})")
            elif kind == "maxcons":
                run = 0
                for day in dates:
                    run = run + 1 if day in worked else 0
                    if run > v:
                        bad(f"{eid}: {run} consecutive working days up to {day} > {v:g}")
                        break
            elif kind == "minoff":
                for i in range(len(dates) - 6):
                    n = sum(1 for day in dates[i:i + 7] if day in worked)
                    if n > 7 - v:
                        bad(f"{eid}: {n} days worked in the 7 days from {dates[i]} (min off {v:g})")
            elif kind == "daily":
                for t0, t1, day, code in shifts:
                    if (t1 - t0).total_seconds() / 60 > v:
                        bad(f"{eid}: {code} on {day} longer than daily cap {v:g} min")
            elif kind == "weekly":
                weeks = defaultdict(int)
                for day, mins in minutes_on.items():
                    weeks[day.isocalendar()[:2]] += mins
                for w, mins in weeks.items():
                    if mins > v:
                        bad(f"{eid}: {mins} min in ISO week {w} > cap {v:g}")
            elif kind == "monthlyot":
                segs = defaultdict(int)
                for day, mins in minutes_on.items():
                    segs[(day.year, day.month, day.isocalendar()[:2])] += mins
                ot = defaultdict(int)
                for (y, mo, _), mins in segs.items():
                    ot[(y, mo)] += max(0, mins - 44 * 60)
                for k, mins in ot.items():
                    if mins > v:
                        bad(f"{eid}: {mins} min overtime in {k} > cap {v:g}")
        # hard work pattern
        pc = next((c for c in hard if c.get("id") in ("workPattern", "rotationPatternCompliance")), None)
        if pc:
            pattern = emp.get("workPattern")
            if not pattern:
                for item in inp["demandItems"]:
                    for req in item["requirements"]:
                        if req.get("workPattern") and any(
                                eligible(emp, req, g, d) is None for g in item["shifts"] for d in dates):
                            pattern = req["workPattern"]
                            break
                    if pattern:
                        break
            if pattern:
                for t0, t1, day, code in shifts:
                    want = pattern[(emp.get("rotationOffset", 0) + (day - start).days) % len(pattern)]
                    if want.upper() in OFF or want != code:
                        bad(f"{eid}: works {code} on {day}, hard pattern says {want}")

    if any(c.get("id") == "slotHeadcount" for c in hard) and out["unmetDemand"]:
        bad("slotHeadcount is hard but there is unmet demand")

    # score breakdown adds up to the objective
    sb = out["scoreBreakdown"]
    total = sum(v["cost"] for v in sb["violations"])
    if out["solverRun"]["objective"] is not None and abs(total - out["solverRun"]["objective"]) > 1e-6:
        bad(f"scoreBreakdown costs sum to {total}, objective is {out['solverRun']['objective']}")
    shortfall = sum(v["amount"] for v in sb["violations"] if v["rule"] == "coverShortfall")
    if shortfall != required - filled:
        bad(f"coverShortfall in the breakdown is {shortfall}, unmet is {required - filled}")
    # roster: one entry per employee and day, matching the assignments
    roster = {r["employeeId"]: r for r in out["employeeRoster"]}
    if set(roster) != set(emps):
        bad("employeeRoster does not list every employee")
    for eid, r in roster.items():
        if len(r["dailyStatus"]) != len(dates):
            bad(f"{eid}: {len(r['dailyStatus'])} daily statuses for {len(dates)} days")
        got = {(_d(x["date"]), x["shiftCode"]) for x in r["dailyStatus"] if x["status"] == "ASSIGNED"}
        want = {(s[2], s[3]) for s in work.get(eid, [])}
        if got != want:
            bad(f"{eid}: roster days {sorted(got)} != assignments {sorted(want)}")
    return problems
