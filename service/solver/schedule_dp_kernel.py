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
def forward(V, pred_state, pred_opt, reached, n_reached, dims, off_next, work_next, is_off, off_cost, inc_off,
            inc_work, opt_start, opt_cls, opt_units, opt_stride, opt_dim, opt_allowed, opt_cost):  # pragma: no cover
    """Fill V[d + 1] from V[d] for every day d. V is days + 1 x states, flat over (run state r, class l
    of the last shift, weekends w, minute units m, tracked counts c as one mixed-radix index) of sizes
    `dims`; all INF when called, and INF after where no path reaches. reached[d][:n_reached[d]] lists
    the states V[d] reaches: the loop visits only those (Curtois Instance8 with two counts tracked:
    239,400 states a day, at most 32,155 reached), and `clear` resets only those. pred_state[d + 1][s] is
    the state before s, pred_opt[d + 1][s] the option worked into it (its index among day d's, -1 for
    a day off).

    Off: r -> off_next[r], class 0, nothing else moves. Work option k of day d (flat index
    opt_start[d] + j): r -> work_next[r], class opt_cls[k], weekends up by inc_off[d] from an off
    state or inc_work[d] from a work state, minutes up by opt_units[k], and the count of stride
    opt_stride[k] (0: none tracked) up by one below its size opt_dim[k]; only from classes l with
    opt_allowed[k, l]. -1 in off_next / work_next: no such edge."""
    H = V.shape[0] - 1
    L, nW, nM, C = dims[1], dims[2], dims[3], dims[4]
    sM = C
    sW = nM * sM
    sL = nW * sW
    sR = L * sL
    V[0, 0] = 0.0
    reached[0, 0] = 0
    n_reached[0] = 1
    for d in range(H):
        src = V[d]
        dst = V[d + 1]
        ps = pred_state[d + 1]
        po = pred_opt[d + 1]
        out = reached[d + 1]
        n = 0
        oc = off_cost[d]
        for i in range(n_reached[d]):
            here = reached[d, i]
            v = src[here]
            r = here // sR
            l = (here // sL) % L
            w = (here // sW) % nW
            m = (here // sM) % nM
            c = here % C
            rest = here - r * sR - l * sL  # (w, m, c) part of the index
            ro = off_next[r]
            # the relaxation below is written out twice (off, work): as a numba function of the arrays
            # it made pricing three times slower (Curtois Instance8: 7.6 s against 2.7 s in all)
            if ro >= 0:
                t = ro * sR + rest
                nv = v + oc
                if nv < dst[t]:
                    if dst[t] == INF:
                        out[n] = t
                        n += 1
                    dst[t] = nv
                    ps[t] = here
                    po[t] = -1
            rw = work_next[r]
            w2 = w + (inc_off[d] if is_off[r] else inc_work[d])
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
                t = rw * sR + opt_cls[k] * sL + w2 * sW + m2 * sM + c2
                nv = v + opt_cost[k]
                if nv < dst[t]:
                    if dst[t] == INF:
                        out[n] = t
                        n += 1
                    dst[t] = nv
                    ps[t] = here
                    po[t] = k - opt_start[d]
        n_reached[d + 1] = n


@njit(cache=True, nogil=True)
def clear(V, reached, n_reached):  # pragma: no cover
    """Back to all INF after `forward`: only the states it reached."""
    for d in range(V.shape[0]):
        for i in range(n_reached[d]):
            V[d, reached[d, i]] = INF
        n_reached[d] = 0
