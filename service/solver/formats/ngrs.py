"""NGRS JSON input: pydantic v2 models (the single source of the JSON Schema) and the translation into
the core `Problem`.

Accepted: the schemaVersion 0.70 core fields and the same fields from later versions (0.95, 0.98);
unknown fields are kept (`extra="allow"`) and ignored. Two constraint value forms are read:
`params` (0.70: e.g. `{"minRestMinutes": 660}`, `{"maxDailyHoursA": 14}`) and `defaultValue` +
`schemeOverrides` (0.98: an override is a number, an object `{value, productTypes, ranks}` or a list
of such objects; the first matching one wins).

Modelling choices (documented here once, also in the rule modules):
- Eligibility is hard and decided while covers are built: product type and rank (any listed),
  every required qualification held and valid on the date (groups: ALL / ANY), requirement gender
  M/F, scheme, whitelist (employee ids or team ids) and blacklist (optionally date-bounded), and
  unavailability (a fixed day off).
- Each (date, shift code, requirement) is one cover of `headcount` people; unmet cover costs
  `COVER_UNDER_WEIGHT` per missing person, extras are forbidden. `slotHeadcount` configured hard makes
  full cover a hard rule (used to show conflicting rules).
- Shifts are placed by clock time: `start`/`end` "HH:MM[:SS]", `nextDay` (or end <= start) meaning the
  shift ends the day after it starts. Hours are gross (start to end).
- Overlapping shifts of one employee are always forbidden (rule `noShiftOverlap`, structural).
- workPattern: the employee's own pattern, else the pattern of the first requirement they are
  eligible for. Day i of the horizon follows `pattern[(rotationOffset + i) % len(pattern)]`
  (anchored at planningHorizon.startDate). "O" = off. Soft rule `workPattern` unless configured hard.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from service.solver.errors import InputError, Issue
from service.solver.model import Cover, Employee, Problem, RuleSpec, ShiftType

SUPPORTED_VERSIONS = ("0.70", "0.95", "0.98")
COVER_UNDER_WEIGHT = 1_000_000
DEFAULT_SOFT_WEIGHT = 100
DEFAULT_PATTERN_WEIGHT = 10
MAX_WEIGHT = 100_000
MAX_HORIZON_DAYS = 366
LONG_PERIOD_DAYS = 62
MAX_HEADCOUNT = 10_000
OFF_CODES = frozenset({"O", "OFF", "-", "X"})
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# ----------------------------------------------------------------------------------- field types


def _to_date(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", v):
        raise PydanticCustomError("invalid_date", "expected a date 'YYYY-MM-DD'")
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        raise PydanticCustomError("invalid_date", "not a calendar date: {value}", {"value": v[:10]}) from None


_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _check_time(v: Any) -> Any:
    if not isinstance(v, str):
        return v  # the str validator reports INVALID_TYPE
    m = _TIME_RE.fullmatch(v.strip())
    if not m or int(m.group(2)) > 59 or (m.group(3) and int(m.group(3)) > 59) or int(m.group(1)) > 24 or (
            int(m.group(1)) == 24 and (int(m.group(2)) or (m.group(3) and int(m.group(3))))):
        raise PydanticCustomError("invalid_time", "expected a time 'HH:MM' or 'HH:MM:SS' (00:00 to 24:00)")
    return v.strip()


def _to_id(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return v


def _to_version(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:.2f}"
    return v


def _norm_gender(v: Any) -> Any:
    if isinstance(v, str):
        k = v.strip().lower()
        return {"m": "M", "male": "M", "f": "F", "female": "F", "mix": "Mix", "mixed": "Mix", "any": "Any",
                "": "Any"}.get(k, v)
    return v


def _norm_scheme(v: Any) -> Any:
    if isinstance(v, str):
        s = v.strip()
        if s.lower().startswith("scheme "):
            s = s[7:].strip()
        return s
    return v


def _norm_weekday(v: Any) -> Any:
    if isinstance(v, str) and len(v) >= 3:
        return v[:3].capitalize()
    return v


def _norm_enforcement(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


DateStr = Annotated[date, BeforeValidator(_to_date)]
TimeStr = Annotated[str, BeforeValidator(_check_time), Field(json_schema_extra={
    "pattern": r"^(([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|24:00(:00)?)$"})]
IdStr = Annotated[str, BeforeValidator(_to_id), Field(min_length=1, max_length=200)]
Weekday = Annotated[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], BeforeValidator(_norm_weekday)]


def _kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return "§int"
    if isinstance(v, str):
        return "§str"
    if isinstance(v, dict):
        return "§obj"
    return None


class _Base(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# ------------------------------------------------------------------------------------- models


class PlanningHorizon(_Base):
    startDate: DateStr
    endDate: DateStr = Field(description="Inclusive.")


class SolverRunTime(_Base):
    maxSeconds: float | None = Field(None, gt=0, le=86400, allow_inf_nan=False)


class ShiftDetail(_Base):
    shiftCode: IdStr
    start: TimeStr
    end: TimeStr
    nextDay: bool = Field(False, description="The shift ends the day after it starts.")


class Whitelist(_Base):
    employeeIds: list[IdStr] = []
    teamIds: list[IdStr] = []


class Blacklist(_Base):
    employeeIds: list[IdStr] = []
    blacklistStartDate: DateStr | None = None
    blacklistEndDate: DateStr | None = None


class ShiftGroup(_Base):
    shiftDetails: list[ShiftDetail] = Field(min_length=1)
    coverageDays: list[Weekday] | None = Field(None, description="Mon..Sun; absent = every day.")
    includePublicHolidays: bool = True
    whitelist: Whitelist | None = None
    blacklist: Blacklist | None = None


class QualificationGroup(_Base):
    groupId: IdStr | None = None
    matchType: Annotated[Literal["ALL", "ANY"], BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)] = "ALL"
    qualifications: list[IdStr] = Field(min_length=1)


QualificationRequirement = Annotated[
    Union[Annotated[IdStr, Tag("§str")], Annotated[QualificationGroup, Tag("§obj")]],
    Discriminator(_kind, custom_error_type="invalid_type",
                  custom_error_message="expected a qualification code or a group object"),
]
Headcount = Annotated[
    Union[Annotated[int, Field(ge=0, le=MAX_HEADCOUNT), Tag("§int")],
          Annotated[dict[str, Annotated[int, Field(ge=0, le=MAX_HEADCOUNT)]], Tag("§obj")]],
    Discriminator(_kind, custom_error_type="invalid_type",
                  custom_error_message="expected an integer or an object {shiftCode: integer}"),
]


class DailyHeadcount(_Base):
    date: DateStr
    shiftCode: IdStr
    headcount: int = Field(ge=0, le=MAX_HEADCOUNT)


class Requirement(_Base):
    requirementId: IdStr
    productTypeId: IdStr | None = None
    productTypeIds: list[IdStr] | None = None
    rankId: IdStr | None = None
    rankIds: list[IdStr] | None = None
    headcount: Headcount = Field(description="People per shift code per covered day, or {shiftCode: people}.")
    requiredQualifications: list[QualificationRequirement] = []
    gender: Annotated[Literal["Any", "M", "F", "Mix"], BeforeValidator(_norm_gender)] = "Any"
    schemes: list[Annotated[str, BeforeValidator(_norm_scheme)]] = []
    workPattern: list[IdStr] | None = None
    dailyHeadcount: list[DailyHeadcount] | None = Field(
        None, description="Per-date headcount for one shift code; overrides `headcount` on that date "
                    "(on days the shift group covers).")

    @model_validator(mode="before")
    @classmethod
    def _legacy_scheme(cls, data: Any) -> Any:
        if isinstance(data, dict) and "schemes" not in data and isinstance(data.get("Scheme"), str):
            data = {**data, "schemes": [data["Scheme"]]}
        return data

    def product_types(self) -> set[str]:
        return set(self.productTypeIds or []) | ({self.productTypeId} if self.productTypeId else set())

    def ranks(self) -> set[str]:
        return set(self.rankIds or []) | ({self.rankId} if self.rankId else set())


class DemandItem(_Base):
    demandId: IdStr
    shifts: list[ShiftGroup] = Field(min_length=1)
    requirements: list[Requirement] = Field(min_length=1)


class Qualification(_Base):
    code: IdStr
    validFrom: DateStr | None = None
    expiryDate: DateStr | None = None


class Unavailability(_Base):
    startDate: DateStr
    endDate: DateStr


def _quals(v: Any) -> Any:
    if isinstance(v, list):
        return [{"code": q} if isinstance(q, (str, int)) and not isinstance(q, bool) else q for q in v]
    return v


class EmployeeIn(_Base):
    employeeId: IdStr
    productTypeId: IdStr | None = None
    rankId: IdStr | None = None
    scheme: Annotated[str | None, BeforeValidator(_norm_scheme)] = None
    gender: Annotated[Literal["M", "F"] | None, BeforeValidator(_norm_gender)] = None
    teamId: IdStr | None = None
    ouId: IdStr | None = None
    qualifications: Annotated[list[Qualification], BeforeValidator(_quals)] = []
    unavailability: list[Unavailability] = []
    rotationOffset: int = Field(0, ge=0, le=100_000)
    workPattern: list[IdStr] | None = None


class ApplicableTo(_Base):
    productTypes: list[IdStr] | None = None
    ranks: list[IdStr] | None = None
    schemes: list[Annotated[str, BeforeValidator(_norm_scheme)]] | None = None


def _params(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


class ConstraintEntry(_Base):
    id: IdStr
    enforcement: Annotated[Literal["hard", "soft", "medium"], BeforeValidator(_norm_enforcement)] = "hard"
    weight: int | None = Field(None, ge=0, le=MAX_WEIGHT, description="Penalty per unit of violation (soft).")
    params: Annotated[dict[str, Any] | None, BeforeValidator(_params)] = None
    defaultValue: Any = None
    schemeOverrides: dict[str, Any] | None = None
    applicableTo: ApplicableTo | None = None
    uom: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _constraint_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "id" not in data and "constraintId" in data:
            data = {**data, "id": data["constraintId"]}
        return data


class NgrsInput(_Base):
    """NGRS roster request (schemaVersion 0.70 core; later versions' extra fields are accepted)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, title="NgrsInput")

    schemaVersion: Annotated[str | None, BeforeValidator(_to_version)] = None
    planningReference: IdStr
    planningHorizon: PlanningHorizon
    publicHolidays: list[DateStr] = []
    solverRunTime: SolverRunTime | None = None
    constraintList: list[ConstraintEntry] = []
    demandItems: list[DemandItem] = Field(min_length=1)
    employees: list[EmployeeIn] = Field(min_length=1)


# ------------------------------------------------------------------------------ error mapping

CODES = {"MISSING_FIELD", "INVALID_TYPE", "EMPTY_ARRAY", "INVALID_DATE", "INVALID_RANGE", "INVALID_VALUE",
         "INVALID_TIME", "OUT_OF_RANGE"}


def format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("§"):
            continue  # union tag
        elif isinstance(part, str) and ("[" in part or "(" in part):
            continue  # validator wrapper names
        else:
            out += f".{part}" if out else str(part)
    return out


def _code_for(err: dict) -> str:
    t = err.get("type", "")
    if t.upper() in CODES:
        return t.upper()
    if t == "missing":
        return "MISSING_FIELD"
    if t == "too_short" and isinstance(err.get("input"), (list, dict)) and not err.get("input"):
        return "EMPTY_ARRAY"
    if t.startswith(("greater_than", "less_than")) or t in ("too_long", "too_short", "finite_number"):
        return "OUT_OF_RANGE"
    if t in ("literal_error", "enum", "string_too_short", "string_too_long", "value_error", "assertion_error"):
        return "INVALID_VALUE"
    if t.startswith("date") or t.startswith("datetime"):
        return "INVALID_DATE"
    if t.endswith(("_type", "_parsing")) or t in ("model_attributes_type", "int_from_float", "union_tag_invalid",
                                                   "union_tag_not_found", "is_instance_of"):
        return "INVALID_TYPE"
    return "INVALID_VALUE"


def issues_from_validation_error(exc: ValidationError) -> list[Issue]:
    issues = []
    seen = set()
    for err in exc.errors(include_url=False):
        path = format_loc(tuple(err.get("loc", ())))
        code = _code_for(err)
        if (path, code) in seen:
            continue
        seen.add((path, code))
        issues.append(Issue(path, code, str(err.get("msg", "invalid value"))))
    return issues


# ------------------------------------------------------------------------------- translation


@dataclass
class Analysis:
    """Result of checking (and, when valid, translating) one NGRS document."""

    model: NgrsInput | None = None
    problem: Problem | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def _minutes(hhmm: str) -> int:
    parts = hhmm.split(":")
    return int(parts[0]) * 60 + int(parts[1]) + (1 if len(parts) > 2 and int(parts[2]) >= 30 else 0)


def shift_window(detail: ShiftDetail) -> tuple[int, int]:
    """(start minute, duration minutes). A shift with nextDay, or ending at or before its start, ends
    the next day."""
    start = _minutes(detail.start)
    end = _minutes(detail.end)
    if detail.nextDay or end <= start:
        end += 1440
    return start, end - start


def _held(emp: EmployeeIn, code: str, day: date) -> bool:
    for q in emp.qualifications:
        if q.code == code and (q.validFrom is None or q.validFrom <= day) and (
                q.expiryDate is None or day <= q.expiryDate):
            return True
    return False


def _quals_ok(emp: EmployeeIn, req: Requirement, day: date) -> bool:
    for q in req.requiredQualifications:
        if isinstance(q, str):
            if not _held(emp, q, day):
                return False
        elif q.matchType == "ANY":
            if not any(_held(emp, c, day) for c in q.qualifications):
                return False
        elif not all(_held(emp, c, day) for c in q.qualifications):
            return False
    return True


_ANY_SCHEME = {"", "any", "global", "all"}


def _static_eligible(emp: EmployeeIn, req: Requirement, group: ShiftGroup) -> bool:
    pts, ranks = req.product_types(), req.ranks()
    if pts and emp.productTypeId not in pts:
        return False
    if ranks and emp.rankId not in ranks:
        return False
    if req.gender in ("M", "F") and emp.gender != req.gender:
        return False
    schemes = {s for s in req.schemes if s.lower() not in _ANY_SCHEME}
    if schemes and emp.scheme not in schemes:
        return False
    wl = group.whitelist
    if wl and (wl.employeeIds or wl.teamIds):
        if emp.employeeId not in wl.employeeIds and (emp.teamId is None or emp.teamId not in wl.teamIds):
            return False
    return True


def _blacklisted(emp: EmployeeIn, group: ShiftGroup, day: date) -> bool:
    bl = group.blacklist
    if not bl or emp.employeeId not in bl.employeeIds:
        return False
    if bl.blacklistStartDate and day < bl.blacklistStartDate:
        return False
    if bl.blacklistEndDate and day > bl.blacklistEndDate:
        return False
    return True


# Fields of later versions that change the roster but are not read: a warning, never silent.
_IGNORED_TOP = {
    "monthlyHourLimits": "use constraintList momMonthlyOTcap72h / momWeeklyHoursCap44h",
    "ouOffsets": "rotation offsets are read from employees[].rotationOffset",
    "solverConfig": "the objective is cover first, then the weighted soft rules",
}
_IGNORED_REQ: dict[str, str] = {}

# Constraint ids: how each is read. kind -> handler below.
RULE_IDS = {
    "apgdMinRestBetweenShifts": "rest", "minRestMinutes": "rest", "minRestBetweenShifts": "rest",
    "maxConsecutiveWorkingDays": "maxcons",
    "minimumOffDaysPerWeek": "minoff",
    "momWeeklyHoursCap44h": "weekly", "weeklyHoursCap": "weekly",
    "momDailyHoursCap": "daily", "dailyHoursCap": "daily",
    "momMonthlyOTcap72h": "monthlyot", "monthlyOtCap72h": "monthlyot", "monthlyOTcap": "monthlyot",
    "workPattern": "pattern", "rotationPatternCompliance": "pattern",
    "slotHeadcount": "fullcover",
    "oneShiftPerDay": "structural", "noShiftOverlap": "structural",
    "licenseValidity": "eligibility", "skillAndRoleMatch": "eligibility", "rankAndProductTypeMatch": "eligibility",
    "genderBalance": "eligibility", "whitelistBlacklist": "eligibility",
}

# Parameter keys read from `params` (0.70 form) per kind: (keys, unit multiplier to minutes or 1).
_PARAM_KEYS = {
    "rest": (("minRestMinutes", 1), ("minRestHours", 60), ("minRest", 60), ("value", 60)),
    "maxcons": (("maxConsecutiveWorkingDays", 1), ("maxConsecutiveDays", 1), ("maxDays", 1), ("value", 1)),
    "minoff": (("minimumOffDaysPerWeek", 1), ("minOffDays", 1), ("minOffDaysPerWeek", 1), ("value", 1)),
    "weekly": (("maxWeeklyHours", 60), ("weeklyHours", 60), ("maxHours", 60), ("value", 60)),
    "daily": (("maxDailyHours", 60), ("maxHours", 60), ("value", 60)),
    "monthlyot": (("maxMonthlyOtHours", 60), ("maxMonthlyOTHours", 60), ("maxOvertimeHours", 60),
                  ("maxOtHours", 60), ("value", 60)),
}
# Unit of `defaultValue` / `schemeOverrides` values per kind (multiplier to the parameter's unit).
_VALUE_UNIT = {"rest": 60, "maxcons": 1, "minoff": 1, "weekly": 60, "daily": 60, "monthlyot": 60}
# Built-in defaults when an entry gives no value (in the parameter's unit); None = not applied.
_DEFAULTS = {"rest": 8 * 60, "maxcons": 12, "minoff": 1, "weekly": 44 * 60, "daily": None, "monthlyot": 72 * 60}
_LIMITS = {"rest": (0, 7 * 1440), "maxcons": (1, 400), "minoff": (0, 7), "weekly": (0, 168 * 60),
           "daily": (0, 48 * 60), "monthlyot": (0, 744 * 60)}
_CANONICAL = {"rest": "apgdMinRestBetweenShifts", "maxcons": "maxConsecutiveWorkingDays",
              "minoff": "minimumOffDaysPerWeek", "weekly": "momWeeklyHoursCap44h", "daily": "momDailyHoursCap",
              "monthlyot": "momMonthlyOTcap72h"}


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return float(v)


def _override_value(ov: Any, emp: EmployeeIn) -> tuple[bool, Any]:
    """(matched, value) for one scheme override (number, {value, productTypes, ranks} or a list)."""
    if isinstance(ov, list):
        for item in ov:
            ok, val = _override_value(item, emp)
            if ok:
                return ok, val
        return False, None
    if isinstance(ov, dict):
        pts = ov.get("productTypes") or ov.get("productTypeIds")
        ranks = ov.get("ranks") or ov.get("rankIds")
        if pts and emp.productTypeId not in pts:
            return False, None
        if ranks and emp.rankId not in ranks:
            return False, None
        return True, ov.get("value")
    return True, ov


class _ValueError(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path


def _employee_value(kind: str, entry: ConstraintEntry, emp: EmployeeIn, base: str) -> float | None:
    """The entry's parameter for one employee, in the kind's unit (minutes for times), or None."""
    unit = _VALUE_UNIT[kind]
    if entry.uom and entry.uom.strip().lower() in ("min", "mins", "minute", "minutes") and unit == 60:
        unit = 1
    if entry.id == "minRestMinutes" and kind == "rest":
        unit = 1
    value: Any = None
    path = base
    if entry.schemeOverrides and emp.scheme is not None and emp.scheme in entry.schemeOverrides:
        ok, v = _override_value(entry.schemeOverrides[emp.scheme], emp)
        if ok:
            value, path = v, f"{base}.schemeOverrides.{emp.scheme}"
            n = _number(value)
            if n is None:
                raise _ValueError(path, "expected a number (or {value, productTypes, ranks})")
            return n * unit
    if entry.params:
        for key, mult in _PARAM_KEYS[kind]:
            for k in ((f"{key}{emp.scheme}",) if emp.scheme else ()) + (key,):
                if k in entry.params:
                    n = _number(entry.params[k])
                    if n is None:
                        raise _ValueError(f"{base}.params.{k}", "expected a number")
                    return n * mult
    if entry.defaultValue is not None:
        n = _number(entry.defaultValue)
        if n is None:
            raise _ValueError(f"{base}.defaultValue", "expected a number")
        return n * unit
    if entry.schemeOverrides or entry.params:
        return None  # values given, but none for this employee's scheme
    return _DEFAULTS[kind]


def _applies(entry: ConstraintEntry, emp: EmployeeIn) -> bool:
    at = entry.applicableTo
    if at is None:
        return True
    if at.productTypes and emp.productTypeId not in at.productTypes:
        return False
    if at.ranks and emp.rankId not in at.ranks:
        return False
    if at.schemes and {s.lower() for s in at.schemes} - _ANY_SCHEME and emp.scheme not in at.schemes:
        return False
    return True


def analyse(doc: Any) -> Analysis:
    """Validate an NGRS document and, when it has no errors, translate it to a `Problem`."""
    out = Analysis()
    if not isinstance(doc, dict):
        out.errors.append(Issue("", "INVALID_TYPE", "the document must be a JSON object"))
        return out
    try:
        model = NgrsInput.model_validate(doc)
    except ValidationError as exc:
        out.errors.extend(issues_from_validation_error(exc))
        return out
    out.model = model
    _semantic_checks(model, out)
    if out.errors:
        return out
    out.problem = _translate(model, out)
    return out


def _semantic_checks(m: NgrsInput, out: Analysis) -> None:
    err, warn = out.errors.append, out.warnings.append
    if m.schemaVersion is None:
        warn(Issue("schemaVersion", "MISSING_FIELD", f"no schemaVersion; read as {SUPPORTED_VERSIONS[0]} core"))
    elif m.schemaVersion not in SUPPORTED_VERSIONS:
        warn(Issue("schemaVersion", "UNKNOWN_VERSION",
                   f"schemaVersion {m.schemaVersion!r} is not one of {', '.join(SUPPORTED_VERSIONS)}; "
                   "core fields are read as 0.70"))
    h = m.planningHorizon
    days = (h.endDate - h.startDate).days + 1
    if days < 1:
        err(Issue("planningHorizon.endDate", "INVALID_RANGE", "endDate is before startDate"))
    elif days > MAX_HORIZON_DAYS:
        err(Issue("planningHorizon.endDate", "OUT_OF_RANGE", f"horizon of {days} days exceeds {MAX_HORIZON_DAYS}"))
    elif days > LONG_PERIOD_DAYS:
        warn(Issue("planningHorizon", "LONG_PERIOD", f"horizon of {days} days (> {LONG_PERIOD_DAYS})"))

    for key, why in _IGNORED_TOP.items():
        if (m.model_extra or {}).get(key) not in (None, [], {}, False):
            warn(Issue(key, "UNSUPPORTED_FIELD", f"{key} is not supported by this solver and is ignored ({why})"))
    for di, item in enumerate(m.demandItems):
        for ri, req in enumerate(item.requirements):
            for key, why in _IGNORED_REQ.items():
                if (req.model_extra or {}).get(key) not in (None, [], {}, False):
                    warn(Issue(f"demandItems[{di}].requirements[{ri}].{key}", "UNSUPPORTED_FIELD",
                               f"{key} is not supported by this solver and is ignored ({why})"))
            item_codes = {sd.shiftCode for g in item.shifts for sd in g.shiftDetails}
            for k, dh in enumerate(req.dailyHeadcount or []):
                path = f"demandItems[{di}].requirements[{ri}].dailyHeadcount[{k}]"
                if dh.shiftCode not in item_codes:
                    out.errors.append(Issue(f"{path}.shiftCode", "INVALID_VALUE",
                                            f"{dh.shiftCode!r} is not a shift code of demand {item.demandId!r}"))
                if not (m.planningHorizon.startDate <= dh.date <= m.planningHorizon.endDate):
                    warn(Issue(f"{path}.date", "OUT_OF_RANGE", "date outside the planning horizon; ignored"))
                extra = dh.model_extra or {}
                if extra.get("startTimeOverride") or extra.get("endTimeOverride"):
                    warn(Issue(path, "UNSUPPORTED_FIELD", "time overrides are not supported; the shift's "
                                                          "own times are used"))
        for gi, group in enumerate(item.shifts):
            if (group.model_extra or {}).get("includeEveOfPublicHolidays") is False:
                warn(Issue(f"demandItems[{di}].shifts[{gi}].includeEveOfPublicHolidays", "UNSUPPORTED_FIELD",
                           "eves of public holidays are covered like other days"))

    seen_emp: dict[str, int] = {}
    for i, e in enumerate(m.employees):
        if e.employeeId in seen_emp:
            err(Issue(f"employees[{i}].employeeId", "INVALID_VALUE",
                      f"duplicate employeeId {e.employeeId!r} (also employees[{seen_emp[e.employeeId]}])"))
        seen_emp.setdefault(e.employeeId, i)
        for j, u in enumerate(e.unavailability):
            if u.endDate < u.startDate:
                err(Issue(f"employees[{i}].unavailability[{j}].endDate", "INVALID_RANGE", "endDate is before startDate"))

    shift_defs: dict[str, tuple[int, int, str]] = {}
    for di, item in enumerate(m.demandItems):
        for gi, group in enumerate(item.shifts):
            codes = set()
            for si, sd in enumerate(group.shiftDetails):
                path = f"demandItems[{di}].shifts[{gi}].shiftDetails[{si}]"
                if sd.shiftCode.upper() in OFF_CODES:
                    err(Issue(f"{path}.shiftCode", "INVALID_VALUE", f"{sd.shiftCode!r} is reserved for a day off"))
                if sd.shiftCode in codes:
                    err(Issue(f"{path}.shiftCode", "INVALID_VALUE", f"shift code {sd.shiftCode!r} listed twice"))
                codes.add(sd.shiftCode)
                start, dur = shift_window(sd)
                if _minutes(sd.end) == start and not sd.nextDay:
                    pass  # 24 h shift; allowed
                prev = shift_defs.get(sd.shiftCode)
                if prev and prev[:2] != (start, dur):
                    err(Issue(f"{path}", "INCONSISTENT_CONFIG",
                              f"shift code {sd.shiftCode!r} has other times at {prev[2]}; one code = one time window"))
                shift_defs.setdefault(sd.shiftCode, (start, dur, path))
            for ri, req in enumerate(item.requirements):
                if isinstance(req.headcount, dict):
                    for code in req.headcount:
                        if code not in {sd.shiftCode for g in item.shifts for sd in g.shiftDetails}:
                            err(Issue(f"demandItems[{di}].requirements[{ri}].headcount.{code}", "INVALID_VALUE",
                                      f"{code!r} is not a shift code of demand {item.demandId!r}"))
                hc = req.headcount if isinstance(req.headcount, int) else max(req.headcount.values(), default=0)
                if hc > 100:
                    warn(Issue(f"demandItems[{di}].requirements[{ri}].headcount", "HIGH_HEADCOUNT",
                               f"headcount {hc} per shift"))
    known_codes = set(shift_defs)
    for di, item in enumerate(m.demandItems):
        for ri, req in enumerate(item.requirements):
            _check_pattern(req.workPattern, known_codes, f"demandItems[{di}].requirements[{ri}].workPattern", out)
    for i, e in enumerate(m.employees):
        _check_pattern(e.workPattern, known_codes, f"employees[{i}].workPattern", out)

    for ci, c in enumerate(m.constraintList):
        kind = RULE_IDS.get(c.id)
        base = f"constraintList[{ci}]"
        if kind is None:
            warn(Issue(f"{base}.id", "UNKNOWN_CONSTRAINT",
                       f"constraint {c.id!r} is not supported by this solver and is not applied"))
            continue
        if c.enforcement == "medium":
            warn(Issue(f"{base}.enforcement", "UNUSUAL_VALUE", "enforcement 'medium' is treated as soft"))
        if kind in ("structural", "eligibility") and c.enforcement != "hard":
            warn(Issue(f"{base}.enforcement", "INCONSISTENT_CONFIG",
                       f"{c.id} is structural and always enforced as hard"))
        if kind == "fullcover" and c.enforcement != "hard":
            warn(Issue(f"{base}.enforcement", "INCONSISTENT_CONFIG",
                       "soft slotHeadcount is the default cover penalty (1,000,000 per missing person)"))
        if kind in _VALUE_UNIT:
            for emp in m.employees:
                try:
                    v = _employee_value(kind, c, emp, base)
                except _ValueError as exc:
                    err(Issue(exc.path, "INVALID_VALUE", str(exc)))
                    break
                lo, hi = _LIMITS[kind]
                if v is not None and not (lo <= v <= hi):
                    err(Issue(base, "OUT_OF_RANGE", f"value for employee {emp.employeeId} outside [{lo}, {hi}]"))
                    break


def _check_pattern(pattern: list[str] | None, codes: set[str], path: str, out: Analysis) -> None:
    if pattern is None:
        return
    if not pattern:
        out.errors.append(Issue(path, "EMPTY_ARRAY", "workPattern is empty"))
        return
    for k, code in enumerate(pattern):
        if code.upper() not in OFF_CODES and code not in codes:
            out.errors.append(Issue(f"{path}[{k}]", "INVALID_VALUE", f"{code!r} is neither a shift code nor 'O'"))
    if len(pattern) < 2:
        out.warnings.append(Issue(path, "SHORT_PATTERN", "workPattern of one day"))
    elif len(pattern) > 28:
        out.warnings.append(Issue(path, "LONG_PATTERN", f"workPattern of {len(pattern)} days"))


def _translate(m: NgrsInput, out: Analysis) -> Problem:
    start = m.planningHorizon.startDate
    num_days = (m.planningHorizon.endDate - start).days + 1
    dates = [start + timedelta(days=d) for d in range(num_days)]
    ph = {d for d, day in enumerate(dates) if day in set(m.publicHolidays)}
    emps = m.employees

    shift_types: dict[str, ShiftType] = {}
    for item in m.demandItems:
        for group in item.shifts:
            for sd in group.shiftDetails:
                s0, dur = shift_window(sd)
                shift_types.setdefault(sd.shiftCode, ShiftType(sd.shiftCode, dur, s0))

    days_off: set[tuple[int, int]] = set()
    for e, emp in enumerate(emps):
        for u in emp.unavailability:
            for d, day in enumerate(dates):
                if u.startDate <= day <= u.endDate:
                    days_off.add((e, d))

    covers: list[Cover] = []
    pattern_of: dict[int, tuple[str, ...]] = {
        e: tuple(emp.workPattern) for e, emp in enumerate(emps) if emp.workPattern}
    cover_ids: set[str] = set()
    for di, item in enumerate(m.demandItems):
        for ri, req in enumerate(item.requirements):
            daily = {(dh.date, dh.shiftCode): dh.headcount for dh in (req.dailyHeadcount or [])}
            static_any = False
            for gi, group in enumerate(item.shifts):
                static = [e for e, emp in enumerate(emps) if _static_eligible(emp, req, group)]
                static_any = static_any or bool(static)
                if req.workPattern:
                    for e in static:
                        pattern_of.setdefault(e, tuple(req.workPattern))
                weekdays = set(group.coverageDays) if group.coverageDays is not None else set(WEEKDAYS)
                for d, day in enumerate(dates):
                    if WEEKDAYS[day.weekday()] not in weekdays:
                        continue
                    if d in ph and not group.includePublicHolidays:
                        continue
                    elig = tuple(e for e in static if _quals_ok(emps[e], req, day)
                                 and not _blacklisted(emps[e], group, day))
                    for sd in group.shiftDetails:
                        need = req.headcount if isinstance(req.headcount, int) else req.headcount.get(sd.shiftCode, 0)
                        need = daily.get((day, sd.shiftCode), need)
                        if need <= 0:
                            continue
                        cid = f"{item.demandId}/{req.requirementId}/{sd.shiftCode}/{day.isoformat()}"
                        if cid in cover_ids:
                            cid += f"#{gi}"
                        cover_ids.add(cid)
                        mix = None
                        if req.gender == "Mix":
                            mix = {g: tuple(e for e in elig if emps[e].gender == g) for g in ("M", "F")}
                        covers.append(Cover(cid, d, sd.shiftCode, need, elig, COVER_UNDER_WEIGHT, None,
                                            {"demandId": item.demandId, "requirementId": req.requirementId},
                                            mix))
            if req.gender == "Mix" and static_any:
                mix_covers = [c for c in covers if c.labels["demandId"] == item.demandId
                              and c.labels["requirementId"] == req.requirementId and c.mix_groups
                              and c.required >= 2]
                if mix_covers and all(not c.mix_groups["M"] or not c.mix_groups["F"] for c in mix_covers):
                    out.warnings.append(Issue(f"demandItems[{di}].requirements[{ri}].gender", "INSUFFICIENT_EMPLOYEES",
                                              "gender Mix needs at least one M and one F eligible employee; "
                                              "its demand will be unmet"))
            if not static_any:
                out.warnings.append(Issue(f"demandItems[{di}].requirements[{ri}]", "NO_MATCHING_EMPLOYEES",
                                          f"no employee matches requirement {req.requirementId!r}; "
                                          "its demand will be unmet"))

    rules: list[RuleSpec] = [RuleSpec("noShiftOverlap", True, 0, {e: 0 for e in range(len(emps))}, "structural")]
    pattern_entry: tuple[ConstraintEntry, int] | None = None
    for ci, c in enumerate(m.constraintList):
        kind = RULE_IDS.get(c.id)
        if kind is None or kind in ("structural", "eligibility"):
            continue
        hard = c.enforcement == "hard"
        source = f"constraintList[{ci}]"
        if kind == "pattern":
            pattern_entry = (c, ci)
            continue
        if kind == "fullcover":
            if hard:
                rules.append(RuleSpec("slotHeadcount", True, 0, {}, source))
            continue
        weight = c.weight if c.weight is not None else DEFAULT_SOFT_WEIGHT
        params: dict[int, Any] = {}
        for e, emp in enumerate(emps):
            if not _applies(c, emp):
                continue
            v = _employee_value(kind, c, emp, source)
            if v is None:
                continue
            params[e] = int(round(v))
        if kind == "monthlyot":
            threshold = 44 * 60
            if c.params and _number(c.params.get("weeklyThresholdHours")) is not None:
                threshold = int(round(_number(c.params["weeklyThresholdHours"]) * 60))
            params = {e: (v, threshold) for e, v in params.items()}
        if params:
            rules.append(RuleSpec(c.id, hard, weight, params, source))

    if pattern_of:
        offsets = {e: emps[e].rotationOffset for e in pattern_of}
        params = {e: (pattern_of[e], offsets[e]) for e in pattern_of}
        if pattern_entry is not None:
            c, ci = pattern_entry
            hard = c.enforcement == "hard"
            weight = c.weight if c.weight is not None else DEFAULT_PATTERN_WEIGHT
            rules.append(RuleSpec(c.id, hard, weight, params, f"constraintList[{ci}]"))
        else:
            rules.append(RuleSpec("workPattern", False, DEFAULT_PATTERN_WEIGHT, params, "default"))

    # Not a rule: a greedy roster honouring the hard rules, given to CP-SAT as a hint (rules/greedy.py).
    rules.append(RuleSpec("greedyHint", False, 0, {}, "solver"))
    employees = tuple(
        Employee(emp.employeeId, {
            "productTypeId": emp.productTypeId, "rankId": emp.rankId, "scheme": emp.scheme,
            "gender": emp.gender, "teamId": emp.teamId, "rotationOffset": emp.rotationOffset,
            "workPattern": "".join(pattern_of[e]) if e in pattern_of and all(len(c) == 1 for c in pattern_of[e])
            else (",".join(pattern_of[e]) if e in pattern_of else None),
        }) for e, emp in enumerate(emps))
    time_limit = m.solverRunTime.maxSeconds if m.solverRunTime else None
    return Problem(
        name=m.planningReference,
        source_format="ngrs",
        start_date=start,
        num_days=num_days,
        shift_types=shift_types,
        employees=employees,
        covers=tuple(covers),
        rules=tuple(rules),
        days_off=frozenset(days_off),
        public_holidays=frozenset(ph),
        time_limit_seconds=time_limit,
        metadata={"schemaVersion": m.schemaVersion, "warnings": [w.to_dict() for w in out.warnings],
                  "publicHolidays": [d.isoformat() for d in sorted(set(m.publicHolidays))]},
    )


def problem_from_ngrs(doc: dict) -> Problem:
    """Translate an NGRS document; raises `InputError` with every validation error when invalid."""
    a = analyse(doc)
    if a.errors or a.problem is None:
        raise InputError(a.errors or [Issue("", "INVALID_INPUT", "the document could not be read")])
    return a.problem
