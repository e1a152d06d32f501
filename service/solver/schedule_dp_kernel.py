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
            inc_work, opt_start, opt_cls, opt_units, opt_stride, opt_dim, opt_allowed, need,
            opt_cost, togo, tau):  # pragma: no cover
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
    opt_allowed[k, l]. -1 in off_next / work_next: no such edge. A state of day d, run state r and
    class l with fewer minute units than need[(d * R + r) * L + l] cannot reach the minimum and is
    not entered. Nor is a state whose value plus togo[d][its state without the counts] (a lower bound
    on the cost of the days left, `backward`) exceeds `tau`: every path of value at most `tau` keeps
    all its states (tau INF: no such test)."""
    H = V.shape[0] - 1
    R, L, nW, nM, C = dims[0], dims[1], dims[2], dims[3], dims[4]
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
            nd = (d + 1) * R  # need's offset for day d + 1
            # the relaxation below is written out twice (off, work): as a numba function of the arrays
            # it made pricing three times slower (Curtois Instance8: 7.6 s against 2.7 s in all)
            if ro >= 0 and m >= need[(nd + ro) * L]:
                t = ro * sR + rest
                nv = v + oc
                if nv < dst[t] and (tau == INF or nv + togo[d + 1, t // C] <= tau):
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
                if m2 >= nM or m2 < need[(nd + rw) * L + opt_cls[k]]:
                    continue
                c2 = c
                st = opt_stride[k]
                if st > 0:
                    if (c // st) % opt_dim[k] + 1 >= opt_dim[k]:
                        continue
                    c2 = c + st
                t = rw * sR + opt_cls[k] * sL + w2 * sW + m2 * sM + c2
                nv = v + opt_cost[k]
                if nv < dst[t] and (tau == INF or nv + togo[d + 1, t // C] <= tau):
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


@njit(cache=True, nogil=True)
def forward_sparse(ids, val, pred, opt, fr, fl, fw, fm, fc, start, table, where, used, dims, off_next, work_next,
                   is_off, off_cost, inc_off, inc_work, opt_start, opt_cls, opt_units, opt_axis, opt_stride,
                   opt_dim, opt_allowed, need, opt_cost, togo, tau):  # pragma: no cover
    """The recurrence of `forward` over the reached states only, for state spaces too large to hold
    densely (Curtois Instance19 with its N count tracked: 1.1 M states a day, under 1 % of them
    reached). Day d's reached states are entries start[d] .. start[d + 1] - 1 of ids (the state, as
    in `forward`), val (least cost from day 0), pred (the entry before it, counted from its day's
    start) and opt (option index among day d - 1's, -1 for a day off); fr, fl, fw, fm and fc[:, a]
    hold the state's run state, class, weekends, minutes and tracked count a (reading them off the
    state by integer division made the pass a fifth slower). Option k moves count axis
    opt_axis[k] (-1: none), of stride opt_stride[k] and size opt_dim[k]; need as in `forward`. The
    next day's states are found through an open-addressing hash table (table: state or -1; where:
    entry offset; used: slots taken, to clear them), all -1 when called and again on return.

    Returns 0 when done, 1 when the entries are full, 2 when a day reaches half the table's slots;
    the caller grows that array and runs again."""
    H = start.shape[0] - 2
    cap = ids.shape[0]
    T = table.shape[0]
    mask = T - 1
    R, L, nW, nM = dims[0], dims[1], dims[2], dims[3]
    sM = dims[4]
    sW = nM * sM
    sL = nW * sW
    sR = L * sL
    ids[0] = 0
    val[0] = 0.0
    pred[0] = -1
    opt[0] = -1
    fr[0] = 0
    fl[0] = 0
    fw[0] = 0
    fm[0] = 0
    fc[0, :] = 0
    start[0] = 0
    start[1] = 1
    for d in range(H):
        b0 = start[d]
        b1 = start[d + 1]
        n = 0
        status = 0
        oc = off_cost[d]
        for i in range(b0, b1):
            here = ids[i]
            v = val[i]
            r = fr[i]
            l = fl[i]
            w = fw[i]
            m = fm[i]
            ro = off_next[r]
            nd = (d + 1) * R
            # the relaxation is written out twice (off, work), as in `forward`: as a numba function
            # (inline="always", returning the new entry and the status) the pass took 0.11 s against
            # 0.023 s (Curtois Instance19, employee A, its N count tracked)
            t = here + (ro - r) * sR - l * sL
            nv = v + oc
            if ro >= 0 and m >= need[(nd + ro) * L] and (tau == INF or nv + togo[d + 1, t // sM] <= tau):
                h = t * 2654435761
                s = (h ^ (h >> 29)) & mask
                while True:
                    key = table[s]
                    if key == t:
                        j = b1 + where[s]
                        if nv < val[j]:
                            val[j] = nv
                            pred[j] = i - b0
                            opt[j] = -1
                        break
                    if key == -1:
                        if 2 * (n + 1) > T:
                            status = 2
                        elif b1 + n >= cap:
                            status = 1
                        else:
                            j = b1 + n
                            table[s] = t
                            where[s] = n
                            used[n] = s
                            ids[j] = t
                            val[j] = nv
                            pred[j] = i - b0
                            opt[j] = -1
                            fr[j] = ro
                            fl[j] = 0
                            fw[j] = w
                            fm[j] = m
                            fc[j, :] = fc[i, :]
                            n += 1
                        break
                    s = (s + 1) & mask
                if status:
                    break
            rw = work_next[r]
            w2 = w + (inc_off[d] if is_off[r] else inc_work[d])
            if rw < 0 or w2 >= nW:
                continue
            c = here - r * sR - l * sL - w * sW - m * sM
            for k in range(opt_start[d], opt_start[d + 1]):
                if not opt_allowed[k, l]:
                    continue
                m2 = m + opt_units[k]
                if m2 >= nM or m2 < need[(nd + rw) * L + opt_cls[k]]:
                    continue
                a = opt_axis[k]
                c2 = c
                if a >= 0:
                    if fc[i, a] + 1 >= opt_dim[k]:
                        continue
                    c2 = c + opt_stride[k]
                t = rw * sR + opt_cls[k] * sL + w2 * sW + m2 * sM + c2
                nv = v + opt_cost[k]
                if tau != INF and nv + togo[d + 1, t // sM] > tau:
                    continue
                h = t * 2654435761
                s = (h ^ (h >> 29)) & mask
                while True:
                    key = table[s]
                    if key == t:
                        j = b1 + where[s]
                        if nv < val[j]:
                            val[j] = nv
                            pred[j] = i - b0
                            opt[j] = k - opt_start[d]
                        break
                    if key == -1:
                        if 2 * (n + 1) > T:
                            status = 2
                        elif b1 + n >= cap:
                            status = 1
                        else:
                            j = b1 + n
                            table[s] = t
                            where[s] = n
                            used[n] = s
                            ids[j] = t
                            val[j] = nv
                            pred[j] = i - b0
                            opt[j] = k - opt_start[d]
                            fr[j] = rw
                            fl[j] = opt_cls[k]
                            fw[j] = w2
                            fm[j] = m2
                            fc[j, :] = fc[i, :]
                            if a >= 0:
                                fc[j, a] += 1
                            n += 1
                        break
                    s = (s + 1) & mask
                if status:
                    break
            if status:
                break
        for j in range(n):
            table[used[j]] = -1
        if status:
            return status
        start[d + 2] = b1 + n
    return 0


@njit(cache=True, nogil=True)
def backward(togo, V, dims, lo, off_next, work_next, is_off, off_cost, inc_off, inc_work, opt_start, opt_cls,
             opt_units, opt_allowed, opt_cost):  # pragma: no cover
    """togo[d][s]: the least cost of days d .. H - 1 from state s (run state, class, weekends, minute
    units, as `forward`'s states without the counts) to an end of at least `lo` minute units: the
    per-type maxima relaxed, so a lower bound for every tracked state with those four fields. Only for
    the states `forward` without counts reached (V[d][s] finite; it drops those that cannot reach the
    minimum), INF for the others: no pass with counts reaches a state whose fields none reached.
    `forward` and `forward_sparse` prune by it."""
    H = togo.shape[0] - 1
    R, L, nW, nM = dims[0], dims[1], dims[2], dims[3]
    sW = nM
    sL = nW * sW
    sR = L * sL
    for s in range(R * sR):
        togo[H, s] = 0.0 if s % nM >= lo and V[H, s] < INF else INF
    for d in range(H - 1, -1, -1):
        nxt = togo[d + 1]
        cur = togo[d]
        here = V[d]
        oc = off_cost[d]
        for s in range(R * sR):
            if here[s] == INF:
                cur[s] = INF
                continue
            r = s // sR
            l = (s // sL) % L
            w = (s // sW) % nW
            m = s % nM
            best = INF
            ro = off_next[r]
            if ro >= 0:
                best = nxt[ro * sR + w * sW + m] + oc
            rw = work_next[r]
            w2 = w + (inc_off[d] if is_off[r] else inc_work[d])
            if rw >= 0 and w2 < nW:
                for k in range(opt_start[d], opt_start[d + 1]):
                    if not opt_allowed[k, l]:
                        continue
                    m2 = m + opt_units[k]
                    if m2 >= nM:
                        continue
                    v = nxt[rw * sR + opt_cls[k] * sL + w2 * sW + m2] + opt_cost[k]
                    if v < best:
                        best = v
            cur[s] = best
