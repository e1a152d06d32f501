"""The core roster problem every input format is translated into, and the solver reads.

One model for NGRS JSON and Curtois text alike: days of a horizon, shift types, employees, covers
(demand for people on one shift of one day, with the employees eligible for it), contract rules
(each a named rule with per-employee parameters, hard or soft) and shift requests. Formats own the
translation; the builder owns the CP-SAT encoding; nothing here knows about either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping


@dataclass(frozen=True)
class ShiftType:
    """A kind of shift. `start_minute` is minutes after midnight of the day it starts on.

    `start_minute` is None when the source has no clock times (Curtois); rules needing times (rest,
    daily hours) are then expressed by the format as explicit forbidden successions instead.
    """

    code: str
    duration_minutes: int
    start_minute: int | None = None
    # Minutes of unpaid break inside the shift (reported, not used by the benchmark objective).
    break_minutes: int = 0

    @property
    def end_minute(self) -> int | None:
        """End relative to midnight of the start day (> 1440 when the shift ends the next day)."""
        return None if self.start_minute is None else self.start_minute + self.duration_minutes


@dataclass(frozen=True)
class Employee:
    id: str
    # Free-form attributes carried to the output (scheme, productTypeId, rankId, gender, teamId, ...).
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cover:
    """Demand for `required` people on shift `shift` of day `day`, drawn from `eligible`.

    `under_weight` is paid per missing person (cover is soft so a roster always exists, and unmet
    demand is always reported); `over_weight` per extra person, or None when extras are forbidden.
    `labels` identify the demand in the output (demandId, requirementId, ...).
    """

    id: str
    day: int
    shift: str
    required: int
    eligible: tuple[int, ...]  # employee indices
    under_weight: int
    over_weight: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    # Gender mix: when set and `required` >= 2, at least one of each listed group must be among the
    # assigned people (e.g. {"M": (0, 3), "F": (1, 2)} maps group -> eligible employee indices).
    mix_groups: Mapping[str, tuple[int, ...]] | None = None


@dataclass(frozen=True)
class RuleSpec:
    """One contract rule as configured: its id, hard or soft, weight, and a parameter per employee.

    `params[e]` is the rule's parameter for employee index e; employees missing from `params` are not
    subject to the rule. `source` is where it came from (e.g. "constraintList[3]") for explanations.
    """

    rule: str
    hard: bool
    weight: int
    params: Mapping[int, Any]
    source: str = ""


@dataclass(frozen=True)
class ShiftRequest:
    """A wish: employee `employee` wants (on=True) or does not want (on=False) shift `shift` on `day`.

    `shift` None means "any shift" (a day-off request when on=False).
    """

    employee: int
    day: int
    shift: str | None
    on: bool
    weight: int


@dataclass(frozen=True)
class Problem:
    name: str
    source_format: str  # "ngrs" | "curtois"
    start_date: date
    num_days: int
    shift_types: Mapping[str, ShiftType]
    employees: tuple[Employee, ...]
    covers: tuple[Cover, ...]
    rules: tuple[RuleSpec, ...] = ()
    requests: tuple[ShiftRequest, ...] = ()
    # Pairs (a, b): shift b may not be worked the day after shift a (hard, for every employee).
    forbidden_successions: frozenset[tuple[str, str]] = frozenset()
    # (employee index, day) pairs that must be off (unavailability, fixed days off).
    days_off: frozenset[tuple[int, int]] = frozenset()
    public_holidays: frozenset[int] = frozenset()  # day indices
    time_limit_seconds: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def days(self) -> range:
        return range(self.num_days)

    def date_of(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    def shift_start(self, day: int, shift: str) -> datetime | None:
        st = self.shift_types[shift]
        if st.start_minute is None:
            return None
        return datetime.combine(self.date_of(day), time()) + timedelta(minutes=st.start_minute)

    def shift_end(self, day: int, shift: str) -> datetime | None:
        start = self.shift_start(day, shift)
        return None if start is None else start + timedelta(minutes=self.shift_types[shift].duration_minutes)

    def employee_index(self) -> dict[str, int]:
        return {e.id: i for i, e in enumerate(self.employees)}
