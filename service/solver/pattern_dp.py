"""A feasible work/off pattern for one employee by dynamic programming over the horizon.

The sub-model of a single employee is small, yet CP-SAT's time to its first solution is heavy-tailed
when the total minutes must land in a narrow window over a long horizon (Curtois Instance22: 232-234
worked days out of 364, runs of 2-5, days off in pairs, at most 26 weekends; several employees had no
schedule after ten 2-second attempts). The work/off pattern alone is a shortest-path problem: states are
(run kind and length) x weekends used x days worked, so the best pattern over the horizon is a few
numpy max-plus steps per day. The pattern of greatest value (the caller's value of working each day)
meets every run, weekend, day-off and worked-days rule; CP-SAT then only chooses the shift types,
with the pattern as a constraint.

Why by hand: no maintained library does resource-constrained pattern DP over our rule set; the rules
read are the employee's hard `maxConsecutiveWorkingDays`, `minConsecutiveWorkingDays`,
`minConsecutiveDaysOff` (runs touching either end exempt), `runPattern`, `maxWeekends`, `totalMinutes`
(as a worked-days range from the shortest and longest shift the employee can work) and the sum of
`maxShiftsPerType`. Per-type counts and shift successions are left to CP-SAT.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np

from service.solver import rules as rule_registry
from service.solver.model import Problem
from service.solver.rules.sequences import weekend_groups


MAX_CELLS = 60_000_000  # bytes of the choice table (Instance22: 364 x 14 x 27 x 235 = 32 M)


class PatternTooLarge(ValueError):
    """The state space is too large for the DP (the caller falls back to CP-SAT alone)."""


def _limits(problem: Problem, e: int) -> dict:
    out = {"max_work": None, "min_work": 1, "min_off": 1, "max_weekends": None, "minutes": (None, None),
           "max_shifts": None}
    for r in problem.rules:
        if not r.hard or e not in r.params or r.params[e] is None:
            continue
        rid, v = rule_registry.canonical(r.rule), r.params[e]
        if rid == "maxConsecutiveWorkingDays":
            out["max_work"] = int(v)
        elif rid == "minConsecutiveWorkingDays":
            out["min_work"] = max(1, int(v))
        elif rid == "minConsecutiveDaysOff":
            out["min_off"] = max(1, int(v))
        elif rid == "runPattern":
            mx, mn, mo = v
            if mx is not None:
                out["max_work"] = int(mx)
            out["min_work"] = max(1, int(mn or 1))
            out["min_off"] = max(1, int(mo or 1))
        elif rid == "maxWeekends":
            out["max_weekends"] = int(v)
        elif rid == "totalMinutes":
            out["minutes"] = v
        elif rid == "maxShiftsPerType":
            out["max_shifts"] = sum(int(x) for x in dict(v).values() if x is not None)
    return out


def work_pattern(problem: Problem, e: int, workable: list[bool], shift_minutes: tuple[int, int],
                 value: list[float], rng: random.Random) -> list[bool] | None:
    """The worked(True)/off pattern of employee `e` of greatest total `value` over its worked days
    that meets the rules above (ties broken at random), or None when none exists (then the employee
    has no feasible schedule: the DP relaxes only per-type counts and exact minutes). `workable[d]`: the
    employee can work some shift on day d; `shift_minutes`: (shortest, longest) shift they can work."""
    H = problem.num_days
    lim = _limits(problem, e)
    mW, mO = lim["min_work"], lim["min_off"]
    # without a maximum, work runs only need counting up to the minimum (the last state loops)
    unlimited = lim["max_work"] is None or lim["max_work"] >= H
    K = max(1, mW) if unlimited else lim["max_work"]
    lo_min, hi_min = lim["minutes"]
    short, long_ = shift_minutes
    c_lo = 0 if lo_min is None or long_ <= 0 else math.ceil(int(lo_min) / long_)
    c_hi = H if hi_min is None or short <= 0 else int(hi_min) // short
    if lim["max_shifts"] is not None:
        c_hi = min(c_hi, lim["max_shifts"])
    c_hi = min(c_hi, sum(workable))
    if c_lo > c_hi:
        return None
    groups = weekend_groups(problem)
    W = lim["max_weekends"]
    if W is not None and W >= len(groups):
        W = None
    nW = 1 if W is None else W + 1
    nC = c_hi + 1
    # first day of a weekend -> True; second day -> False; other days absent
    weekend_pos: dict[int, bool] = {}
    for g in groups:
        weekend_pos[g[0]] = True
        for d in g[1:]:
            weekend_pos[d] = False

    # states: 0 START, OE (off run from day 0), O1..OmO, WE1..WEK (work run from day 0), W1..WK
    OE = 1
    O = {k: 1 + k for k in range(1, mO + 1)}
    WE = {k: 1 + mO + k for k in range(1, K + 1)}
    Wk = {k: 1 + mO + K + k for k in range(1, K + 1)}
    S = 2 + mO + 2 * K
    is_work = np.zeros(S, dtype=bool)
    for k in range(1, K + 1):
        is_work[WE[k]] = is_work[Wk[k]] = True

    # transitions: from -> [(to, works)]
    trans: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    trans[0] = [(WE[1], True), (OE, False)]
    trans[OE] = [(OE, False), (Wk[1], True)]
    for k in range(1, mO + 1):
        trans[O[k]].append((O[min(k + 1, mO)], False))
        if k >= mO:
            trans[O[k]].append((Wk[1], True))
    for k in range(1, K + 1):
        if k < K:
            trans[WE[k]].append((WE[k + 1], True))
            trans[Wk[k]].append((Wk[k + 1], True))
        elif unlimited:
            trans[WE[k]].append((WE[k], True))
            trans[Wk[k]].append((Wk[k], True))
        trans[WE[k]].append((O[1], False))
        if k >= mW:
            trans[Wk[k]].append((O[1], False))

    if H * S * nW * nC > MAX_CELLS:
        raise PatternTooLarge(f"{H} days x {S} run states x {nW} weekend counts x {nC} day counts")
    # one list of transitions (from, to, works); the DP keeps, per state, the best total value of the
    # worked days so far and which transition reached it
    edges = [(f, t, w) for f, outs in trans.items() for t, w in outs]
    value = np.asarray(value, dtype=np.float64) + np.asarray([rng.random() * 1e-3 for _ in range(H)])
    NEG = -np.inf
    best = np.full((S, nW, nC), NEG)
    best[0, 0, 0] = 0.0
    choice = np.zeros((H, S, nW, nC), dtype=np.int8 if len(edges) < 127 else np.int16)
    for d in range(H):
        nxt = np.full_like(best, NEG)
        for k, (f, t, works) in enumerate(edges):
            src = best[f]
            if works:
                if not workable[d]:
                    continue
                cand = np.full_like(src, NEG)
                cand[:, 1:] = src[:, :-1] + value[d]  # one more worked day (beyond c_hi falls off)
                if W is not None and d in weekend_pos and (weekend_pos[d] or not is_work[f]):
                    up = np.full_like(cand, NEG)
                    up[1:, :] = cand[:-1, :]  # one more weekend worked
                    cand = up
            else:
                cand = src
            better = cand > nxt[t]
            if better.any():
                nxt[t][better] = cand[better]
                choice[d, t][better] = k
        best = nxt
    final = best[:, :, c_lo:]
    if not np.isfinite(final).any():
        return None
    s, w, c = np.unravel_index(int(np.argmax(final)), final.shape)
    c += c_lo
    pattern = [False] * H
    for d in range(H - 1, -1, -1):
        f, t, works = edges[choice[d, s, w, c]]
        pattern[d] = works
        if works:
            c -= 1
            if W is not None and d in weekend_pos and (weekend_pos[d] or not is_work[f]):
                w -= 1
        s = f
    return pattern
