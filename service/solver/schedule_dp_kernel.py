"""The compiled forward pass of the pricing DP (`schedule_dp.py`).

The DP's state space is small (Curtois Instance12: 3,192 states a day, about 6 % of them reachable) and
its days are many small steps, so as numpy array operations it cost call overhead, not arithmetic:
~4 ms a pricing, three quarters of column generation's time on Instance12. Here the same recurrence
is one loop nest that pushes every reachable state along its off edge and each of the day's shifts,
compiled by numba. It records each state's predecessor, so the cheapest path is read back in one
step a day. `nogil`: column generation then prices while the LNS thread's Python runs.

Why by hand: the recurrence is our rule set's (run automaton, weekends, minutes, tracked counts);
numba only compiles it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

INF = np.inf


@njit(cache=True, nogil=True)
def forward(V, pred_state, pred_opt, off_next, work_next, is_off, off_cost, inc_off, inc_work,
            opt_start, opt_cls, opt_units, opt_stride, opt_dim, opt_allowed, opt_cost):  # pragma: no cover
    """Fill V[d + 1] from V[d] for every day d (V: days + 1 x R x L x nW x nM x C, V[0] set by the
    caller, the rest INF). pred_state[d + 1][s] is the flat index (within a day) of the state before
    s, pred_opt[d + 1][s] the option worked into it (its index among day d's, -1 for a day off).

    A state is (run state r, class l of the last shift, weekends w, minute units m, tracked counts c
    as one mixed-radix index). Off: r -> off_next[r], class 0, nothing else moves. Work option k of
    day d (flat index opt_start[d] + j): r -> work_next[r], class opt_cls[k], weekends up by inc_off[d]
    from an off state or inc_work[d] from a work state, minutes up by opt_units[k], and the count of
    stride opt_stride[k] (0: none tracked) up by one below its size opt_dim[k]; only from classes l
    with opt_allowed[k, l]. -1 in off_next / work_next: no such edge."""
    H = V.shape[0] - 1
    R, L, nW, nM, C = V.shape[1], V.shape[2], V.shape[3], V.shape[4], V.shape[5]
    for d in range(H):
        src = V[d]
        dst = V[d + 1]
        ps = pred_state[d + 1]
        po = pred_opt[d + 1]
        oc = off_cost[d]
        for r in range(R):
            ro = off_next[r]
            rw = work_next[r]
            inc = inc_off[d] if is_off[r] else inc_work[d]
            for l in range(L):
                for w in range(nW):
                    w2 = w + inc
                    for m in range(nM):
                        for c in range(C):
                            v = src[r, l, w, m, c]
                            if v == INF:
                                continue
                            here = (((r * L + l) * nW + w) * nM + m) * C + c
                            if ro >= 0:
                                nv = v + oc
                                if nv < dst[ro, 0, w, m, c]:
                                    dst[ro, 0, w, m, c] = nv
                                    ps[ro, 0, w, m, c] = here
                                    po[ro, 0, w, m, c] = -1
                            if rw < 0 or w2 >= nW:
                                continue
                            for k in range(opt_start[d], opt_start[d + 1]):
                                if not opt_allowed[k, l]:
                                    continue
                                m2 = m + opt_units[k]
                                if m2 >= nM:
                                    continue
                                c2 = c
                                st = opt_stride[k]
                                if st > 0:
                                    if (c // st) % opt_dim[k] + 1 >= opt_dim[k]:
                                        continue
                                    c2 = c + st
                                nv = v + opt_cost[k]
                                l2 = opt_cls[k]
                                if nv < dst[rw, l2, w2, m2, c2]:
                                    dst[rw, l2, w2, m2, c2] = nv
                                    ps[rw, l2, w2, m2, c2] = here
                                    po[rw, l2, w2, m2, c2] = k - opt_start[d]
