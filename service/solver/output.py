"""Renders a `Solution` as the output JSON shared by every input format.

`solverRun.status` is the CP-SAT status and nothing else; coverage (`unmetDemand`, `coverage`) is
reported beside it. `scoreBreakdown` lists every penalty with rule, employee, date and cost.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone

from ortools import __version__ as ortools_version

from service import __version__ as service_version
from service.solver.engine import Solution

OUTPUT_SCHEMA_VERSION = "1.0"


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat(timespec="minutes")


def render_output(solution: Solution) -> dict:
    p = solution.problem
    emp_ids = [e.id for e in p.employees]
    assigned_count: Counter[int] = Counter()
    by_emp_day: dict[tuple[int, int], list[int]] = defaultdict(list)

    assignments = []
    for e, ci in solution.assignments:
        c = p.covers[ci]
        assigned_count[ci] += 1
        by_emp_day[(e, c.day)].append(ci)
        st = p.shift_types[c.shift]
        assignments.append({
            "employeeId": emp_ids[e],
            "date": p.date_of(c.day).isoformat(),
            "day": c.day,
            "shiftCode": c.shift,
            **{k: v for k, v in c.labels.items()},
            "startDateTime": _iso(p.shift_start(c.day, c.shift)),
            "endDateTime": _iso(p.shift_end(c.day, c.shift)),
            "grossMinutes": st.duration_minutes,
            "hours": {"gross": round(st.duration_minutes / 60, 2)},
        })

    unmet = []
    total_required = total_filled = 0
    for ci, c in enumerate(p.covers):
        n = assigned_count.get(ci, 0)
        total_required += c.required
        total_filled += min(n, c.required)
        if solution.has_roster and n < c.required:
            unmet.append({
                "date": p.date_of(c.day).isoformat(),
                "day": c.day,
                "shiftCode": c.shift,
                **{k: v for k, v in c.labels.items()},
                "required": c.required,
                "assigned": n,
                "missing": c.required - n,
            })

    roster = []
    for e, emp in enumerate(p.employees):
        days = []
        minutes = worked = 0
        for d in p.days:
            cis = by_emp_day.get((e, d), [])
            if cis:
                c = p.covers[cis[0]]
                minutes += p.shift_types[c.shift].duration_minutes
                worked += 1
                days.append({"date": p.date_of(d).isoformat(), "day": d, "status": "ASSIGNED", "shiftCode": c.shift,
                             **{k: v for k, v in c.labels.items()}})
            else:
                status = "UNAVAILABLE" if (e, d) in p.days_off else "OFF"
                days.append({"date": p.date_of(d).isoformat(), "day": d, "status": status, "shiftCode": None})
        weekly: dict[str, int] = defaultdict(int)
        for d in p.days:
            for ci in by_emp_day.get((e, d), []):
                y, w, _ = p.date_of(d).isocalendar()
                weekly[f"{y}-W{w:02d}"] += p.shift_types[p.covers[ci].shift].duration_minutes
        roster.append({
            "employeeId": emp.id,
            **{k: v for k, v in emp.attributes.items() if isinstance(v, (str, int, float, bool)) or v is None},
            "workDays": worked,
            "offDays": p.num_days - worked,
            "totalMinutes": minutes,
            "totalHours": round(minutes / 60, 2),
            "weeklyHours": {k: round(v / 60, 2) for k, v in sorted(weekly.items())},
            "dailyStatus": days,
        })

    violations = []
    by_rule: dict[str, dict] = {}
    for v in solution.violations:
        entry = {"rule": v.rule, "cost": v.cost, "amount": v.amount,
                 "employeeId": emp_ids[v.employee] if v.employee is not None else None,
                 "date": p.date_of(v.day).isoformat() if v.day is not None else None,
                 "detail": v.detail}
        violations.append(entry)
        agg = by_rule.setdefault(v.rule, {"rule": v.rule, "count": 0, "cost": 0})
        agg["count"] += 1
        agg["cost"] += v.cost

    # The objective of the roster returned is the sum of its penalties. CP-SAT's own objective value
    # can differ for intermediate solutions (it is computed on the presolved model; postsolve may fill
    # removed variables differently), so it is only shown beside it when it does.
    objective = solution.objective
    if solution.has_roster:
        objective = float(sum(v.cost for v in solution.violations))
    out = {
        "schemaVersion": OUTPUT_SCHEMA_VERSION,
        "planningReference": p.name,
        "sourceFormat": p.source_format,
        "solverRun": {
            "runId": f"run-{uuid.uuid4()}",
            "status": solution.status,
            "stoppedEarly": solution.stopped,
            "durationSeconds": round(solution.wall_seconds, 3),
            "timeToFirstSolutionSeconds": _round(solution.first_solution_seconds),
            "timeToBestSolutionSeconds": _round(solution.best_solution_seconds),
            "solutionsFound": solution.solutions_found,
            "objective": _num(objective),
            "bestBound": _num(solution.best_bound),
            "solverVersion": f"ngrs-solver {service_version} / ortools {ortools_version}",
            "finishedAt": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        "coverage": {
            "required": total_required,
            "filled": total_filled if solution.has_roster else 0,
            "missing": (total_required - total_filled) if solution.has_roster else None,
            "complete": solution.has_roster and total_filled == total_required,
        },
        "assignments": assignments,
        "unmetDemand": unmet,
        "employeeRoster": roster,
        "scoreBreakdown": {
            "total": _num(objective),
            "byRule": sorted(by_rule.values(), key=lambda r: (-r["cost"], r["rule"])),
            "violations": violations,
        },
    }
    if solution.has_roster and solution.objective is not None and abs(solution.objective - objective) > 1e-6:
        out["solverRun"]["solverObjective"] = _num(solution.objective)
    meta = p.metadata if isinstance(p.metadata, dict) else {}
    out["warnings"] = list(meta.get("warnings", []))
    if "publicHolidays" in meta:
        out["publicHolidays"] = list(meta["publicHolidays"])
    if solution.conflicts is not None:
        out["infeasibility"] = {"conflictingRules": solution.conflicts}
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _num(x: float | None) -> int | float | None:
    if x is None:
        return None
    return int(round(x)) if abs(x - round(x)) < 1e-9 else x
