"""Independent evaluator for Curtois & Qu instances: recomputes the benchmark objective from a roster
and the `.txt` file alone, and checks every hard rule of the README.

It shares no code with the solver (own parser, own rule checks), so a bug in the adapter or the
model cannot hide behind itself. A roster is {(employee id, day): shift id}; `roster_from_output`
reads it from the service's output JSON (`assignments[]` with employeeId, day, shiftCode).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def benchmarks_dir() -> Path:
    """`$CURTOIS_DIR`, else `<repo>/../shared/benchmarks/curtois`."""
    env = os.environ.get("CURTOIS_DIR")
    return Path(env) if env else REPO.parent / "shared" / "benchmarks" / "curtois"


def instance_path(n: int) -> Path:
    return benchmarks_dir() / f"Instance{n}.txt"


# Best-known values (README table, source B; source A agrees on 1-14 and 16-22 and gives 3829, 17428 and
# 42463 for 15, 23 and 24, which are open or disputed).
BEST_KNOWN = {
    1: 607, 2: 828, 3: 1001, 4: 1716, 5: 1143, 6: 1950, 7: 1056, 8: 1300, 9: 439, 10: 4631, 11: 3443,
    12: 4040, 13: 1348, 14: 1278, 15: 3828, 16: 3225, 17: 5746, 18: 4459, 19: 3149, 20: 4769, 21: 21133,
    22: 30241, 23: 17285, 24: 40438,
}


@dataclass
class Staff:
    max_shifts: dict[str, int]
    max_minutes: int
    min_minutes: int
    max_cons: int
    min_cons: int
    min_off: int
    max_weekends: int


@dataclass
class Instance:
    horizon: int
    lengths: dict[str, int]
    cannot_follow: dict[str, set[str]]
    staff: dict[str, Staff]
    days_off: dict[str, set[int]]
    on_requests: list[tuple[str, int, str, int]]
    off_requests: list[tuple[str, int, str, int]]
    cover: list[tuple[int, str, int, int, int]]


def read_instance(text: str) -> Instance:
    sections: dict[str, list[list[str]]] = {}
    name = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            name = line
            sections[name] = []
        else:
            sections[name].append([x.strip() for x in line.split(",")])
    lengths, follow = {}, {}
    for row in sections["SECTION_SHIFTS"]:
        lengths[row[0]] = int(row[1])
        follow[row[0]] = {x for x in (row[2].split("|") if len(row) > 2 else []) if x}
    staff = {}
    for row in sections["SECTION_STAFF"]:
        ms = {}
        for item in row[1].split("|"):
            if item:
                k, v = item.split("=")
                ms[k] = int(v)
        staff[row[0]] = Staff(ms, int(row[2]), int(row[3]), int(row[4]), int(row[5]), int(row[6]), int(row[7]))
    days_off: dict[str, set[int]] = {k: set() for k in staff}
    for row in sections.get("SECTION_DAYS_OFF", []):
        days_off[row[0]] |= {int(x) for x in row[1:] if x}

    def reqs(sec):
        return [(r[0], int(r[1]), r[2], int(r[3])) for r in sections.get(sec, [])]

    return Instance(
        horizon=int(sections["SECTION_HORIZON"][0][0]),
        lengths=lengths,
        cannot_follow=follow,
        staff=staff,
        days_off=days_off,
        on_requests=reqs("SECTION_SHIFT_ON_REQUESTS"),
        off_requests=reqs("SECTION_SHIFT_OFF_REQUESTS"),
        cover=[(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in sections["SECTION_COVER"]],
    )


def roster_from_output(output: dict) -> dict[tuple[str, int], str]:
    """{(employeeId, day): shiftCode}; two shifts on one day raise (the first hard rule)."""
    roster: dict[tuple[str, int], str] = {}
    for a in output["assignments"]:
        key = (a["employeeId"], int(a["day"]))
        if key in roster:
            raise AssertionError(f"{key[0]} works two shifts on day {key[1]}")
        roster[key] = a["shiftCode"]
    return roster


@dataclass
class Evaluation:
    objective: int
    violations: list[str] = field(default_factory=list)  # hard-rule violations (empty = feasible)
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations


def _runs(worked: list[bool], value: bool) -> list[tuple[int, int]]:
    """(start, length) of each maximal run of `value`."""
    out, d, n = [], 0, len(worked)
    while d < n:
        if worked[d] == value:
            s = d
            while d < n and worked[d] == value:
                d += 1
            out.append((s, d - s))
        else:
            d += 1
    return out


def evaluate(inst: Instance, roster: dict[tuple[str, int], str]) -> Evaluation:
    H = inst.horizon
    bad: list[str] = []
    for (e, d), s in roster.items():
        if e not in inst.staff:
            bad.append(f"unknown employee {e}")
        if not 0 <= d < H:
            bad.append(f"{e}: day {d} outside the horizon")
        if s not in inst.lengths:
            bad.append(f"{e}: unknown shift {s}")
    for e, st in inst.staff.items():
        shifts = [roster.get((e, d)) for d in range(H)]
        worked = [s is not None for s in shifts]
        for d in range(H - 1):
            if shifts[d] and shifts[d + 1] and shifts[d + 1] in inst.cannot_follow.get(shifts[d], set()):
                bad.append(f"{e}: {shifts[d + 1]} follows {shifts[d]} on day {d + 1}")
        for s in inst.lengths:
            n = sum(1 for x in shifts if x == s)
            if n > st.max_shifts.get(s, 0):
                bad.append(f"{e}: {n} shifts {s} > max {st.max_shifts.get(s, 0)}")
        total = sum(inst.lengths[x] for x in shifts if x)
        if not st.min_minutes <= total <= st.max_minutes:
            bad.append(f"{e}: {total} minutes outside [{st.min_minutes}, {st.max_minutes}]")
        for start, length in _runs(worked, True):
            if length > st.max_cons:
                bad.append(f"{e}: {length} consecutive shifts from day {start} > {st.max_cons}")
            if start > 0 and start + length < H and length < st.min_cons:
                bad.append(f"{e}: {length} consecutive shifts from day {start} < {st.min_cons}")
        for start, length in _runs(worked, False):
            if start > 0 and start + length < H and length < st.min_off:
                bad.append(f"{e}: {length} consecutive days off from day {start} < {st.min_off}")
        weekends = sum(1 for k in range(H // 7 + 1)
                       if any(0 <= d < H and worked[d] for d in (7 * k + 5, 7 * k + 6)))
        if weekends > st.max_weekends:
            bad.append(f"{e}: {weekends} weekends > {st.max_weekends}")
        for d in sorted(inst.days_off.get(e, ())):
            if worked[d]:
                bad.append(f"{e}: works on day off {d}")

    on = sum(w for e, d, s, w in inst.on_requests if roster.get((e, d)) != s)
    off = sum(w for e, d, s, w in inst.off_requests if roster.get((e, d)) == s)
    count: dict[tuple[int, str], int] = {}
    for (e, d), s in roster.items():
        count[(d, s)] = count.get((d, s), 0) + 1
    under = over = 0
    for d, s, req, wu, wo in inst.cover:
        n = count.get((d, s), 0)
        under += wu * max(0, req - n)
        over += wo * max(0, n - req)
    parts = {"onRequests": on, "offRequests": off, "coverUnder": under, "coverOver": over}
    return Evaluation(on + off + under + over, bad, parts)


def evaluate_output(instance_text: str, output: dict) -> Evaluation:
    return evaluate(read_instance(instance_text), roster_from_output(output))
