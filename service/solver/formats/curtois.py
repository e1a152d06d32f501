"""Curtois & Qu (2014) nurse-rostering instances (plain-text `.txt` format) -> core `Problem`.

The translation is exact, so the engine's objective is the benchmark objective:
- one `Cover` per `SECTION_COVER` line (under weight per missing person, over weight per extra one);
  employees whose `MaxShifts[s]` is 0 are not eligible for shift s at all (it works like a skill);
- `SECTION_DAYS_OFF` -> `Problem.days_off` (hard);
- shift on/off requests -> `ShiftRequest`s (soft, their weights);
- "shifts which cannot follow" -> `forbidden_successions` (hard);
- the staff columns -> hard generic rules of `rules/sequences.py`: `maxShiftsPerType`, `totalMinutes`,
  `maxConsecutiveWorkingDays`, `minConsecutiveWorkingDays`, `minConsecutiveDaysOff` (runs touching the
  first or last day exempt, the benchmark's boundary rule) and `maxWeekends` (days 7k+5, 7k+6).
Day 0 is a Monday; the problem starts on Monday 2024-01-01 so real-date weekends coincide.
"""

from __future__ import annotations

from datetime import date

from service.solver.errors import InputError, Issue
from service.solver.model import Cover, Employee, Problem, RuleSpec, ShiftRequest, ShiftType

START_DATE = date(2024, 1, 1)  # a Monday


def _sections(text: str) -> dict[str, list[tuple[int, list[str]]]]:
    """Section name -> data lines (line number, comma-split fields). Comments and blanks dropped."""
    out: dict[str, list[tuple[int, list[str]]]] = {}
    current: str | None = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None if current is None else current
            continue
        if line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            current = line
            out.setdefault(current, [])
            continue
        if current is None:
            raise InputError([Issue(f"line {no}", "UNEXPECTED_LINE", f"data outside any section: {line[:60]!r}")])
        out[current].append((no, [f.strip() for f in line.split(",")]))
    return out


def parse_curtois(text: str, name: str = "curtois", *, combined_pattern: bool = False) -> Problem:
    """`combined_pattern`: post the three run rules as one `runPattern` automaton per employee (tight)
    instead of `maxConsecutiveWorkingDays` + `minConsecutiveWorkingDays` + `minConsecutiveDaysOff`.
    Off by default: measured at equal deterministic time on Instance5 the clause encoding did better
    (1247 vs 1336), and the automaton's bound was no tighter."""
    issues: list[Issue] = []
    sec = _sections(text)

    def need(section: str) -> list[tuple[int, list[str]]]:
        if section not in sec:
            issues.append(Issue(section, "MISSING_SECTION", f"{section} is missing"))
            return []
        return sec[section]

    def as_int(no: int, value: str, what: str) -> int:
        try:
            return int(value)
        except ValueError:
            issues.append(Issue(f"line {no}", "NOT_AN_INTEGER", f"{what}: {value!r}"))
            return 0

    horizon_lines = need("SECTION_HORIZON")
    if not horizon_lines:
        raise InputError(issues or [Issue("SECTION_HORIZON", "MISSING_VALUE", "no horizon")])
    num_days = as_int(horizon_lines[0][0], horizon_lines[0][1][0], "horizon")
    if num_days <= 0:
        issues.append(Issue("SECTION_HORIZON", "OUT_OF_RANGE", "horizon must be positive"))

    shift_types: dict[str, ShiftType] = {}
    successions: set[tuple[str, str]] = set()
    raw_follow: list[tuple[int, str, str]] = []
    for no, f in need("SECTION_SHIFTS"):
        if len(f) < 2:
            issues.append(Issue(f"line {no}", "BAD_SHIFT", "expected ShiftID, minutes, cannot-follow"))
            continue
        code = f[0]
        shift_types[code] = ShiftType(code, as_int(no, f[1], "shift length"))
        follow = f[2] if len(f) > 2 else ""
        for b in filter(None, (x.strip() for x in follow.split("|"))):
            raw_follow.append((no, code, b))
    for no, a, b in raw_follow:
        if b not in shift_types:
            issues.append(Issue(f"line {no}", "UNKNOWN_SHIFT", f"cannot-follow shift {b!r} is not defined"))
        else:
            successions.add((a, b))

    employees: list[Employee] = []
    emp_index: dict[str, int] = {}
    max_shifts: dict[int, dict[str, int]] = {}
    minutes: dict[int, tuple[int, int]] = {}
    max_cons: dict[int, int] = {}
    min_cons: dict[int, int] = {}
    min_off: dict[int, int] = {}
    max_wkd: dict[int, int] = {}
    for no, f in need("SECTION_STAFF"):
        if len(f) < 8:
            issues.append(Issue(f"line {no}", "BAD_STAFF", "expected 8 fields"))
            continue
        e = len(employees)
        emp_index[f[0]] = e
        employees.append(Employee(f[0]))
        per_type: dict[str, int] = {}
        for item in filter(None, f[1].split("|")):
            s, _, v = item.partition("=")
            if s not in shift_types:
                issues.append(Issue(f"line {no}", "UNKNOWN_SHIFT", f"MaxShifts names unknown shift {s!r}"))
                continue
            per_type[s] = as_int(no, v, "MaxShifts")
        max_shifts[e] = per_type
        minutes[e] = (as_int(no, f[3], "MinTotalMinutes"), as_int(no, f[2], "MaxTotalMinutes"))
        max_cons[e] = as_int(no, f[4], "MaxConsecutiveShifts")
        min_cons[e] = as_int(no, f[5], "MinConsecutiveShifts")
        min_off[e] = as_int(no, f[6], "MinConsecutiveDaysOff")
        max_wkd[e] = as_int(no, f[7], "MaxWeekends")

    def emp(no: int, ident: str) -> int | None:
        if ident not in emp_index:
            issues.append(Issue(f"line {no}", "UNKNOWN_EMPLOYEE", f"employee {ident!r} is not in SECTION_STAFF"))
            return None
        return emp_index[ident]

    def day(no: int, value: str) -> int | None:
        d = as_int(no, value, "day")
        if not 0 <= d < num_days:
            issues.append(Issue(f"line {no}", "OUT_OF_RANGE", f"day {d} outside 0..{num_days - 1}"))
            return None
        return d

    days_off: set[tuple[int, int]] = set()
    for no, f in sec.get("SECTION_DAYS_OFF", []):
        e = emp(no, f[0])
        for v in f[1:]:
            if v == "":
                continue
            d = day(no, v)
            if e is not None and d is not None:
                days_off.add((e, d))

    requests: list[ShiftRequest] = []
    for section, on in (("SECTION_SHIFT_ON_REQUESTS", True), ("SECTION_SHIFT_OFF_REQUESTS", False)):
        for no, f in sec.get(section, []):
            if len(f) < 4:
                issues.append(Issue(f"line {no}", "BAD_REQUEST", "expected EmployeeID, Day, ShiftID, Weight"))
                continue
            e, d = emp(no, f[0]), day(no, f[1])
            if f[2] not in shift_types:
                issues.append(Issue(f"line {no}", "UNKNOWN_SHIFT", f"unknown shift {f[2]!r}"))
                continue
            w = as_int(no, f[3], "weight")
            if e is not None and d is not None:
                requests.append(ShiftRequest(e, d, f[2], on, w))

    covers: list[Cover] = []
    for no, f in need("SECTION_COVER"):
        if len(f) < 5:
            issues.append(Issue(f"line {no}", "BAD_COVER", "expected Day, ShiftID, Requirement, Under, Over"))
            continue
        d = day(no, f[0])
        s = f[1]
        if s not in shift_types:
            issues.append(Issue(f"line {no}", "UNKNOWN_SHIFT", f"unknown shift {s!r}"))
            continue
        if d is None:
            continue
        eligible = tuple(e for e in range(len(employees)) if max_shifts.get(e, {}).get(s, 0) > 0)
        covers.append(Cover(
            id=f"{d}:{s}", day=d, shift=s, required=as_int(no, f[2], "requirement"), eligible=eligible,
            under_weight=as_int(no, f[3], "under weight"), over_weight=as_int(no, f[4], "over weight"),
            labels={"demandId": f"{s}@{d}"},
        ))
    if issues:
        raise InputError(issues)

    def spec(rule_id: str, params: dict) -> RuleSpec:
        return RuleSpec(rule_id, True, 1, params, source="SECTION_STAFF")

    if combined_pattern:
        runs = (spec("runPattern", {e: (max_cons[e], min_cons[e], min_off[e]) for e in max_cons}),)
    else:
        runs = (
            spec("maxConsecutiveWorkingDays", max_cons),
            spec("minConsecutiveWorkingDays", min_cons),
            spec("minConsecutiveDaysOff", min_off),
        )
    rules = (
        spec("maxShiftsPerType", {e: {s: v for s, v in p.items() if v > 0} for e, p in max_shifts.items()}),
        spec("totalMinutes", minutes),
        *runs,
        spec("maxWeekends", max_wkd),
    )
    return Problem(
        name=name,
        source_format="curtois",
        start_date=START_DATE,
        num_days=num_days,
        shift_types=shift_types,
        employees=tuple(employees),
        covers=tuple(covers),
        rules=rules,
        requests=tuple(requests),
        forbidden_successions=frozenset(successions),
        days_off=frozenset(days_off),
        metadata={"benchmark": "curtois"},
    )
