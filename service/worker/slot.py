"""One solver slot (a process): claim one job at a time, start it, run the solver in a child process, and
supervise it: heartbeats (lease renewal + cancel flag), throttled progress, cancel, hard timeout, fencing,
SIGTERM hand-back. The solver is a separate process, so it can never starve the heartbeat."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import time
import uuid

from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError

from service.jobs.keys import GROUP
from service.jobs.queue import Claimed, WorkerQueue
from service.jobs.redis_client import make_sync_redis
from service.settings import Settings
from service.worker.child import solve_child
from service.worker.procutil import die_with_parent

log = logging.getLogger(__name__)
REDIS_DOWN = (ConnectionError, TimeoutError, ReadOnlyError)


def consumer_name(index: int) -> str:
    # host:supervisor-pid:slot-pid:index:nonce — unique per slot lifetime, and names the process to kill
    return f"{socket.gethostname()}:{os.getppid()}:{os.getpid()}:{index}:{uuid.uuid4().hex[:4]}"


def slot_main(settings: Settings, index: int, busy, stop_evt, parent: int, pdeathsig: bool = True) -> None:
    """Entry point of a slot process (spawned by the pool). PR_SET_PDEATHSIG fires when the *thread* that
    spawned us exits, so the pool asks for it only when started from the main thread; the slot also polls
    its parent pid either way."""
    if pdeathsig:
        die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop_evt.set())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s slot" + str(index) + " %(levelname)s %(message)s")
    Slot(settings, index, busy, stop_evt, parent).run()


class Slot:
    def __init__(self, settings: Settings, index: int, busy, stop_evt, parent: int | None = None):
        self.s = settings
        self.parent = parent
        self.index = index
        self.busy = busy
        self.stop = stop_evt
        self.consumer = consumer_name(index)
        self.q = WorkerQueue(make_sync_redis(settings), settings, self.consumer)
        self._last_beat = 0.0
        self._last_reconcile = time.monotonic()

    def run(self) -> None:
        block_ms = int(min(2000, max(100, self.s.sweep_interval_seconds * 1000)))
        log.info("slot %s ready", self.consumer)
        while not self.stop.is_set():
            self._check_parent()
            try:
                self._housekeeping()
                c = self.q.claim(block_ms)
                if c is None or self.stop.is_set():
                    if c is not None:  # claimed just as we were told to stop: make it reclaimable at once
                        self.q.r.xclaim(self.q.k.stream, GROUP, self.consumer, 0, [c.stream_id],
                                        idle=self.q.lease_ms, justid=True)
                    continue
                kind = self.q.start(c)
                if kind != "started":
                    log.info("job %s not started: %s", c.job_id, kind)
                    continue
                self._set_busy(True)
                try:
                    self.run_job(c)
                finally:
                    self._set_busy(False)
            except REDIS_DOWN as e:
                log.warning("redis unavailable (%s); retrying", e)
                self.stop.wait(1.0)
            except Exception:
                log.exception("slot loop error")
                self.stop.wait(1.0)
        try:
            self.q.slot_gone()
        except REDIS_DOWN:
            pass
        log.info("slot %s stopped", self.consumer)

    def _check_parent(self, proc=None) -> None:
        """The supervisor died (SIGKILL, OOM): die too, like the task would; the lease hands the job on."""
        if self.parent is not None and os.getppid() != self.parent:
            log.error("supervisor %s is gone; exiting", self.parent)
            if proc is not None and proc.is_alive():
                proc.kill()
            os._exit(1)

    def _set_busy(self, value: bool) -> None:
        if self.busy is not None:
            self.busy[self.index] = 1 if value else 0

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_beat >= 1.0:
            self._last_beat = now
            self.q.beat_slot()
        if now - self._last_reconcile >= self.s.reconcile_interval_seconds:
            self._last_reconcile = now
            token = uuid.uuid4().hex
            if self.q.lock("reconcile", token, self.s.reconcile_interval_seconds):
                self.q.reconcile(older_than_s=min(30.0, self.s.reconcile_interval_seconds))

    # --- one job ---------------------------------------------------------------------------------
    def run_job(self, c: Claimed) -> None:
        t0 = time.monotonic()
        doc = self.q.document(c)
        if doc is None:
            self._finish(c, "failed", t0, error_code="INPUT_MISSING", error_message="job input has expired")
            return
        # An explicit job limit goes to the solver; without one the solver keeps the document's own limit
        # (NGRS solverRunTime) and the slot stops it gracefully at JOB_MAX_RUNTIME_SECONDS.
        limit = min(c.time_limit or self.s.job_max_runtime_seconds, self.s.job_max_runtime_seconds)
        solver_limit = limit if c.time_limit else None
        hard_deadline = t0 + limit + self.s.job_timeout_grace_seconds
        ctx = mp.get_context("spawn")
        recv, send = ctx.Pipe(duplex=False)
        stop_evt = ctx.Event()
        proc = ctx.Process(
            target=solve_child,
            args=(doc, solver_limit, self.s.solver_threads, send, stop_evt, os.getpid(),
                  self.s.solver_memory_limit_mb),
            name=f"solver-{c.job_id}",
        )
        proc.start()
        send.close()
        log.info("job %s started (attempt %s, solver pid %s, limit %.1fs)", c.job_id, c.token, proc.pid, limit)
        try:
            self._supervise(c, proc, recv, stop_evt, t0, limit, hard_deadline)
        finally:
            recv.close()  # one pipe per job: never leak its fd
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def _supervise(self, c: Claimed, proc, recv, stop_evt, t0: float, limit: float, hard_deadline: float) -> None:
        outcome: tuple | None = None
        progress: dict | None = None
        last_progress_write = 0.0
        next_beat = time.monotonic() + self.s.heartbeat_interval_seconds
        cancel_at: float | None = None
        soft_deadline = t0 + limit
        eof = False
        while outcome is None:
            if not eof and recv.poll(0.05):
                try:
                    msg = recv.recv()
                except EOFError:
                    eof = True
                    continue
                if msg[0] == "progress":
                    progress = msg[1]
                else:
                    outcome = msg
                    break
            elif eof or not proc.is_alive():
                if not eof and recv.poll(0):
                    continue  # drain what the child sent before exiting
                break
            self._check_parent(proc)
            now = time.monotonic()
            if progress is not None and now - last_progress_write >= self.s.progress_interval_seconds:
                try:
                    self.q.progress(c, progress["solutions"], progress["objective"], progress["best_bound"],
                                    progress["elapsed"])
                    last_progress_write, progress = now, None
                except REDIS_DOWN:
                    pass
            if now >= next_beat:
                next_beat = now + self.s.heartbeat_interval_seconds
                try:
                    self.q.beat_slot()  # stay counted as a live worker during long solves
                except REDIS_DOWN:
                    pass
                try:
                    owner, cancel = self.q.heartbeat(c)
                except REDIS_DOWN as e:
                    log.warning("heartbeat failed (%s); solver keeps running", e)
                    owner, cancel = True, False
                if not owner:
                    log.warning("job %s: lease lost to another worker; killing solver, recording nothing",
                                c.job_id)
                    self._kill(proc)
                    return
                if cancel and cancel_at is None:
                    log.info("job %s: cancel requested; stopping solver", c.job_id)
                    stop_evt.set()
                    cancel_at = now
            if cancel_at is not None and now - cancel_at > self.s.cancel_grace_seconds:
                break
            if self.stop.is_set():
                log.info("job %s: shutting down; handing the job back", c.job_id)
                self._kill(proc)
                self.q.release(c, count_attempt=False)
                return
            if now > soft_deadline and not stop_evt.is_set():
                log.info("job %s: reached its %gs limit; asking the solver for its best answer", c.job_id, limit)
                stop_evt.set()
            if now > hard_deadline:
                self._kill(proc)
                self._finish(c, "failed", t0, error_code="TIMEOUT",
                             error_message=f"solver exceeded its time limit of {limit:g}s + "
                                           f"{self.s.job_timeout_grace_seconds:g}s grace")
                return
        if cancel_at is not None and outcome is None and proc.is_alive():
            # the solver ignored the stop (e.g. still building its model, which is not interruptible) for the
            # whole cancel grace: no second grace, kill it now
            log.info("job %s: solver ignored the stop; killed after the %gs cancel grace", c.job_id,
                     self.s.cancel_grace_seconds)
            self._kill(proc)
        else:
            if cancel_at is not None:
                log.info("job %s: solver stopped gracefully after the cancel", c.job_id)
            self._kill(proc, grace=2.0)
        if cancel_at is not None:
            self._finish(c, "cancelled", t0, error_code="CANCELLED", error_message="cancelled while running")
        elif outcome and outcome[0] == "result":
            # the final progress (from the result's solverRun) is written by the same FINISH script
            self._finish(c, "completed", t0, result=outcome[1], progress=outcome[2] if len(outcome) > 2 else None)
        elif outcome and outcome[0] == "error":
            self._finish(c, "failed", t0, error_code=outcome[1], error_message=outcome[2])
        else:
            # The solver died without an answer (out of memory under SOLVER_MEMORY_LIMIT_MB, OOM kill,
            # segfault): count the attempt and let the job be retried at once; the start script dead-letters
            # it after MAX_ATTEMPTS.
            why = f"{outcome[1]}: {outcome[2]}" if outcome else "no result"
            log.error("job %s: solver crashed (exit code %s, %s)", c.job_id, proc.exitcode, why)
            self.q.release(c, count_attempt=True)

    def _finish(self, c: Claimed, status: str, t0: float, **kw) -> None:
        # A finished solve is worth more retries than one command's budget; the script is idempotent, and if
        # the lease lapses meanwhile the fencing check makes it return 'lost' (another worker re-runs it).
        for attempt in range(3):
            try:
                outcome = self.q.finish(c, status, **kw)
                break
            except REDIS_DOWN as e:
                if attempt == 2:
                    raise
                log.warning("recording job %s failed (%s); retrying", c.job_id, e)
                time.sleep(1.0)
        duration = time.monotonic() - t0
        log.info("job %s %s in %.1fs (%s)", c.job_id, status, duration, outcome)
        if outcome == "ok" and self.s.metrics_enabled:
            from service.worker.metrics import put_job_metrics

            put_job_metrics(self.s, duration_seconds=duration, failed=status == "failed")

    @staticmethod
    def _kill(proc, grace: float = 0.0) -> None:
        if grace:
            proc.join(grace)
        if proc.is_alive():
            proc.kill()
        proc.join(5)
