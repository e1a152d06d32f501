"""Chaos: real Redis (AOF on), the API and several worker processes, N jobs with real solves, while workers
are SIGKILLed (and replaced), Redis client connections are dropped (CLIENT KILL) and Redis is restarted
(alternately after SIGTERM and after SIGKILL).

    python -m bench.chaos [--jobs 24] [--workers 4] [--kills 2] [--client-kills 2] [--redis-restarts 2] [--cancels 2] [--pauses 1] [--terms 1]
                          [--example ngrs_020] [--time-limit 3] [--seed 1]

Target: 0 lost; 1 solver start per job, except jobs whose worker was killed (those: 2).
How it counts, independently of the queue's own bookkeeping: "accepted" = jobs the API answered 202/200
for (the client retries each submit with its Idempotency-Key through 503s and dropped connections);
"starts" = "job <id> started" lines in the worker logs (each is one solver process); "results_recorded_not_1"
= terminal jobs whose result the workers' complete script did not accept exactly once; "lost" = accepted jobs
not in a terminal state by the deadline (or unknown to the API); "attempts" = the job's attempt counter.
Short leases (10 s, heartbeat 1 s) and sweeps (1 s) so a killed worker's job is reclaimed in seconds; the
lease still outlasts the 7 s Redis outage, so a restart of Redis alone must cause no second start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import redis

from bench._stack import REPO, Stack, wait_until

SHORT = {
    "JOB_LEASE_SECONDS": "10", "HEARTBEAT_INTERVAL_SECONDS": "1", "SWEEP_INTERVAL_SECONDS": "1",
    "REDIS_HEALTH_CHECK_INTERVAL": "1", "CANCEL_GRACE_SECONDS": "2", "JOB_TIMEOUT_GRACE_SECONDS": "10",
    "MAX_ATTEMPTS": "4",
}
TERMINAL = {"completed", "failed", "cancelled"}
STARTED = re.compile(r"job (\S+) started \(attempt")
FENCED = re.compile(r"job (\S+): lease lost to another worker")
RECORDED = re.compile(r"job (\S+) (?:completed|failed|cancelled) in [0-9.]+s \(ok\)")  # the complete script said ok


class Chaos:
    def __init__(self, stack: Stack, *, example: str, time_limit: float, seed: int, outage: float = 7.0):
        self.stack = stack
        self.outage = outage
        self.doc = json.loads((REPO / "examples" / f"{example}.json").read_text())
        self.time_limit = time_limit
        self.rng = random.Random(seed)
        self.http = stack.client()
        self.jobs: dict[str, str] = {}  # idempotency key -> job id
        self.submit_retries = 0
        self.redis_restarts = 0
        self.cancel_count = 0
        self.cancels: dict[str, dict] = {}
        self.submit_codes: Counter = Counter()  # every non-2xx answer or transport error seen while submitting
        self.idempotency_violations = 0
        self.killed_jobs: set[str] = set()
        self.paused_jobs: set[str] = set()
        self.termed_jobs: set[str] = set()
        self.handoff_seconds: list[float] = []
        self.events: list[str] = []
        self.t0 = time.monotonic()

    def log(self, msg: str) -> None:
        self.events.append(f"{time.monotonic() - self.t0:6.1f}s {msg}")

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.stack.redis.url, socket_timeout=5)

    # -- client side ---------------------------------------------------------------------------------
    def submit(self, key: str, timeout: float = 60.0) -> None:
        body = {"input_json": self.doc, "idempotency_key": key, "time_limit_seconds": self.time_limit}
        deadline = time.monotonic() + timeout
        while True:
            try:
                r = self.http.post("/solve/async", json=body)
                if r.status_code in (200, 202):
                    job_id = r.json()["job_id"]
                    if key in self.jobs and self.jobs[key] != job_id:
                        self.idempotency_violations += 1
                    self.jobs[key] = job_id
                    return
                self.submit_codes[str(r.status_code)] += 1
                if r.status_code < 500:
                    raise RuntimeError(f"submit {key}: HTTP {r.status_code} {r.text[:200]}")
            except httpx.TransportError as exc:
                self.submit_codes[type(exc).__name__] += 1
            self.submit_retries += 1
            if time.monotonic() > deadline:
                self.log(f"submit {key} not accepted within {timeout:.0f} s")
                return
            time.sleep(0.2)

    def status(self, job_id: str) -> dict | None:
        try:
            r = self.http.get(f"/solve/async/{job_id}")
        except httpx.TransportError:
            return None
        if r.status_code == 200:
            return r.json()
        return {"status": "unknown"} if r.status_code == 404 else None

    # -- faults --------------------------------------------------------------------------------------
    def _busy_worker(self, timeout: float = 30.0, exclude: set[str] = frozenset()):
        """(worker process, job id) of a live worker running a job, waiting for one if needed; the most recently
        started job, so the fault lands mid-solve rather than as the solver is returning its answer."""
        def find():
            found = []
            try:
                with self.redis() as r:
                    prefix = "{" + self.stack.prefix + "}"
                    for raw in r.smembers(f"{prefix}:running"):
                        job_id = raw.decode()
                        if job_id in exclude:
                            continue
                        consumer, started = r.hmget(f"{prefix}:job:{job_id}", "consumer", "started_at")
                        parts = (consumer or b"").decode().split(":")
                        for proc in self.stack.workers:
                            if len(parts) > 1 and proc.poll() is None and str(proc.pid) == parts[1]:
                                found.append(((started or b"").decode(), proc, job_id))
            except redis.RedisError:
                return None
            if not found:
                return None
            _, proc, job_id = max(found, key=lambda f: f[0])
            return proc, job_id

        return wait_until(find, timeout, "a worker running a job", interval=0.1)

    def kill_worker(self) -> None:
        try:
            proc, job_id = self._busy_worker()
        except RuntimeError:  # nothing running any more: kill an idle worker, still a valid fault
            proc, job_id = self.rng.choice([p for p in self.stack.workers if p.poll() is None]), None
        self.stack.kill_worker(proc)
        if job_id:
            self.killed_jobs.add(job_id)
        self.log(f"SIGKILL worker pid {proc.pid} (process group) while it ran job {job_id or '(none: idle)'}")
        self.stack.start_worker()
        self.log("started a replacement worker")

    def pause_worker(self) -> None:
        """SIGSTOP a busy worker's process group for longer than the lease (a frozen VM, a long GC pause), then
        SIGCONT: another worker must take the job over, and the resumed one must record nothing (fencing)."""
        try:
            proc, job_id = self._busy_worker()
        except RuntimeError:
            self.log("pause: no busy worker")
            return
        pause = float(SHORT["JOB_LEASE_SECONDS"]) + 4.0
        os.killpg(proc.pid, signal.SIGSTOP)
        self.paused_jobs.add(job_id)
        self.log(f"SIGSTOP worker pid {proc.pid} (process group) while it ran job {job_id}, for {pause:g} s")
        time.sleep(pause)
        os.killpg(proc.pid, signal.SIGCONT)
        self.log(f"SIGCONT worker pid {proc.pid}")

    def term_worker(self) -> None:
        """SIGTERM a busy worker (an ECS stop or scale-in): it must hand its job back at once, so another
        worker starts it well before the lease would expire; the hand-off costs no attempt."""
        try:
            proc, job_id = self._busy_worker()
        except RuntimeError:
            self.log("term: no busy worker")
            return
        before = self.count(STARTED).get(job_id, 0)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        self.termed_jobs.add(job_id)
        self.log(f"SIGTERM worker pid {proc.pid} while it ran job {job_id}")
        def moved_or_done():
            if self.count(STARTED).get(job_id, 0) > before:
                return "restarted"
            st = self.status(job_id)
            return st["status"] if st and st["status"] in TERMINAL else None

        try:
            outcome = wait_until(moved_or_done, 30, "the handed-back job to restart", interval=0.1)
            if outcome == "restarted":
                self.handoff_seconds.append(round(time.monotonic() - t0, 1))
                self.log(f"job {job_id} restarted on another worker {self.handoff_seconds[-1]} s after the SIGTERM")
            else:  # the solve ended while the worker was stopping: it recorded it instead of handing it back
                self.log(f"job {job_id} finished ({outcome}) on the stopping worker, no hand-off needed")
        except RuntimeError as exc:
            self.log(str(exc))
        proc.wait(60)
        self.stack.start_worker()
        self.log(f"worker pid {proc.pid} exited with {proc.returncode}; started a replacement")

    def client_kill(self) -> None:
        with self.redis() as r:
            n = r.client_kill_filter(_type="normal", skipme=True)
        self.log(f"CLIENT KILL TYPE normal: dropped {n} client connections")

    def redis_restart(self, submit_during: list[str]) -> None:
        """Stop Redis, submit `submit_during` while it is down (the API must answer 503, the client retries
        with the same Idempotency-Key), and start it again from its AOF after `self.outage` seconds (longer
        than the API's 5 s Redis deadline, so some submits really get 503). Every second restart SIGKILLs
        redis-server instead of SIGTERM: no shutdown fsync, so only what it had written to the AOF before
        replying survives — an acknowledged submit or result must still be there."""
        self.redis_restarts += 1
        if self.redis_restarts % 2 == 0:
            proc = self.stack.redis.proc
            proc.kill()
            proc.wait(10)
            self.stack.redis.proc = None
            self.log("redis-server SIGKILLed (no shutdown, AOF as last written)")
        else:
            self.stack.redis.stop()
            self.log("redis-server stopped (SIGTERM; AOF fsynced)")
        # The submits run in a thread: EmbeddedRedis must be started from the main thread, because its
        # PR_SET_PDEATHSIG fires when the *thread* that spawned it exits.
        submitter = threading.Thread(target=lambda: [self.submit(k) for k in submit_during])
        submitter.start()
        time.sleep(self.outage)
        self.stack.redis.start()
        submitter.join()
        self.log(f"redis-server restarted from its AOF; {len(submit_during)} submits made during the outage")

    def cancel(self) -> None:
        """DELETE a job: alternately one still queued (must never start) and one running (must stop)."""
        self.cancel_count += 1
        want = "queued" if self.cancel_count % 2 else "running"
        candidates = list(self.jobs.values())
        self.rng.shuffle(candidates)
        target = None
        for job_id in candidates:
            st = self.status(job_id)
            if st and st["status"] == want and job_id not in self.cancels:
                target = job_id
                break
        if target is None:
            self.log(f"cancel: no {want} job to cancel")
            return
        starts_before = self.count(STARTED).get(target, 0)
        for _ in range(50):
            try:
                r = self.http.delete(f"/solve/async/{target}")
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if r.status_code != 503:
                break
            time.sleep(0.2)
        body = r.json()
        status = body.get("status") or body.get("error", {}).get("code")
        self.cancels[target] = {"was": want, "answer": r.status_code, "status": status, "starts_before": starts_before}
        self.log(f"DELETE {want} job {target}: HTTP {r.status_code} {status}")

    # -- results -------------------------------------------------------------------------------------
    def count(self, pattern: re.Pattern) -> Counter:
        counts: Counter = Counter()
        for log in self.stack.log_dir.glob("worker-*.log"):
            counts.update(pattern.findall(log.read_text(errors="replace")))
        return counts


def run_chaos(*, jobs: int = 24, workers: int = 4, kills: int = 2, client_kills: int = 2, redis_restarts: int = 2,
              cancels: int = 2, pauses: int = 1, terms: int = 1,
              example: str = "ngrs_020", time_limit: float = 3.0, seed: int = 1, deadline: float = 300.0,
              keep_logs: Path | None = None, outage: float = 7.0) -> dict:
    started_utc = time.strftime("%H:%M", time.gmtime())
    load0 = os.getloadavg()[0]
    with Stack(extra_env=SHORT, prefix="chaos", log_dir=keep_logs) as stack:
        stack.start_redis().start_api()
        for _ in range(workers):
            stack.start_worker()
        chaos = Chaos(stack, example=example, time_limit=time_limit, seed=seed, outage=outage)
        with chaos.http:
            def workers_up():
                r = chaos.http.get("/solve/async/stats")
                return r.status_code == 200 and r.json()["workers"] >= workers

            wait_until(workers_up, 90, f"{workers} workers to register", interval=0.2)
            chaos.log(f"{workers} workers up")

            faults = (["kill"] * kills + ["client-kill"] * client_kills + ["redis-restart"] * redis_restarts
                      + ["cancel"] * cancels + ["pause"] * pauses + ["term"] * terms)
            chaos.rng.shuffle(faults)
            keys = [f"chaos-{seed}-{i}" for i in range(jobs)]
            # half the jobs up front, the rest spread between the faults (so some submits meet an outage)
            first, rest = keys[: (jobs + 1) // 2], keys[(jobs + 1) // 2:]
            for k in first:
                chaos.submit(k)
            chaos.log(f"submitted {len(first)} jobs")
            chunks = [rest[i::max(1, len(faults))] for i in range(max(1, len(faults)))]
            for i, fault in enumerate(faults or [None]):
                chunk = chunks[i] if i < len(chunks) else []
                if fault == "kill":
                    chaos.kill_worker()
                elif fault == "client-kill":
                    chaos.client_kill()
                elif fault == "cancel":
                    chaos.cancel()
                elif fault == "pause":
                    chaos.pause_worker()
                elif fault == "term":
                    chaos.term_worker()
                elif fault == "redis-restart":
                    chaos.redis_restart(chunk)
                    chunk = []
                for k in chunk:
                    chaos.submit(k)
                time.sleep(chaos.rng.uniform(0.5, 2.0))
            chaos.log(f"all {len(chaos.jobs)} accepted jobs submitted; waiting for them to finish")

            final: dict[str, dict] = {}

            def all_terminal():
                for job_id in chaos.jobs.values():
                    if job_id in final:
                        continue
                    st = chaos.status(job_id)
                    if st and (st["status"] in TERMINAL or st["status"] == "unknown"):
                        final[job_id] = st
                return len(final) == len(chaos.jobs)

            try:
                wait_until(all_terminal, deadline, "all accepted jobs to reach a terminal state", interval=0.5)
            except RuntimeError as exc:
                chaos.log(str(exc))
            chaos.log("done")
            starts = chaos.count(STARTED)
            recorded = chaos.count(RECORDED)
            tracebacks = sum(p.read_text(errors="replace").count("Traceback") for p in stack.log_dir.glob("*.log"))
        statuses = Counter(st["status"] for st in final.values())
        ids = list(chaos.jobs.values())
        per_job = {j: starts.get(j, 0) for j in ids}
        # a second start is explained only by a SIGKILL, a SIGSTOP longer than the lease, or a SIGTERM hand-off
        explained = chaos.killed_jobs | chaos.paused_jobs | chaos.termed_jobs
        unexplained = sorted(j for j in ids if per_job[j] > 1 and j not in explained)
        result = {
            "started_utc": started_utc, "load_before": round(load0, 1), "load_after": round(os.getloadavg()[0], 1),
            "jobs_requested": jobs, "workers": workers, "example": example, "time_limit": time_limit,
            "faults": {"sigkill_workers": kills, "client_kills": client_kills, "redis_restarts": redis_restarts,
                       "cancels": cancels, "pauses": pauses, "terms": terms,
                       "outage_seconds": outage},
            "accepted": len(ids), "completed": statuses.get("completed", 0), "failed": statuses.get("failed", 0),
            "cancelled": statuses.get("cancelled", 0),
            "lost": len(ids) - sum(statuses.get(s, 0) for s in TERMINAL),
            "starts_total": sum(per_job.values()),
            "starts_histogram": dict(sorted(Counter(per_job.values()).items())),
            "killed_jobs": sorted(chaos.killed_jobs),
            "killed_jobs_starts": {j: per_job.get(j, 0) for j in sorted(chaos.killed_jobs)},
            "paused_jobs_starts": {j: per_job.get(j, 0) for j in sorted(chaos.paused_jobs)},
            "termed_jobs_starts": {j: per_job.get(j, 0) for j in sorted(chaos.termed_jobs)},
            "termed_jobs_attempts": {j: final.get(j, {}).get("attempts") for j in sorted(chaos.termed_jobs)},
            "handoff_seconds": chaos.handoff_seconds,
            "fenced": sum(chaos.count(FENCED).values()),
            "unexplained_restarts": unexplained,
            "cancels": chaos.cancels,
            "cancel_violations": sorted(
                j for j, c in chaos.cancels.items()
                # a job cancelled while queued must end cancelled and never start afterwards; a running one
                # must end terminal (cancelled, or completed if it finished first)
                if (c["answer"] == 200 and c["status"] == "cancelled"
                    and (final.get(j, {}).get("status") != "cancelled" or per_job.get(j, 0) > c["starts_before"]))
                or final.get(j, {}).get("status") not in TERMINAL),
            # completed/failed: the complete script accepted exactly one result; cancelled: at most one (a job
            # cancelled while queued, or whose dead owner's lease ran out, is closed without a solver result)
            "results_recorded_not_1": sorted(
                j for j in ids
                if (final.get(j, {}).get("status") in ("completed", "failed") and recorded.get(j, 0) != 1)
                or (final.get(j, {}).get("status") == "cancelled" and recorded.get(j, 0) > 1)),
            "never_started_but_completed": sorted(j for j in ids if per_job[j] == 0
                                                  and final.get(j, {}).get("status") == "completed"),
            "attempts_histogram": dict(sorted(Counter(st.get("attempts") for st in final.values()).items(),
                                              key=lambda kv: str(kv[0]))),
            "submit_retries": chaos.submit_retries, "submit_answers": dict(chaos.submit_codes),
            "submit_5xx_not_503": sum(n for c, n in chaos.submit_codes.items() if c.startswith("5") and c != "503"),
            "tracebacks_in_logs": tracebacks, "idempotency_violations": chaos.idempotency_violations,
            "errors": sorted({(st.get("error") or {}).get("code", "") for st in final.values()
                              if st.get("status") == "failed"}),
            "events": chaos.events,
        }
    return result


def print_table(res: dict) -> None:
    f = res["faults"]
    print(f"# chaos {res['started_utc']} UTC: {res['jobs_requested']} jobs ({res['example']}, {res['time_limit']:g} s "
          f"limit), {res['workers']} workers x 1 slot, faults: {f['sigkill_workers']} SIGKILL worker, "
          f"{f['client_kills']} CLIENT KILL, {f['redis_restarts']} Redis restart ({f['outage_seconds']:g} s down), {f.get('cancels', 0)} DELETE, {f.get('pauses', 0)} SIGSTOP > lease, {f.get('terms', 0)} SIGTERM; {os.cpu_count()} CPUs, "
          f"load average {res['load_before']} before / {res['load_after']} after")
    cols = ["accepted", "completed", "failed", "cancelled", "lost", "starts_total", "submit_retries",
            "submit_5xx_not_503", "idempotency_violations", "tracebacks_in_logs"]
    res = {**res, "results_recorded_not_1": len(res["results_recorded_not_1"]),
           "cancel_violations": len(res["cancel_violations"])}
    cols.insert(5, "results_recorded_not_1")
    cols.insert(6, "cancel_violations")
    print("| " + " | ".join(cols) + " | starts per job (starts: jobs) | killed jobs: starts | paused jobs: starts "
          "| SIGTERMed jobs | hand-off s | fenced | unexplained restarts |")
    print("|" + "---|" * (len(cols) + 7))
    hist = ", ".join(f"{k}: {v}" for k, v in res["starts_histogram"].items())
    killed = ", ".join(f"{j[:8]}: {n}" for j, n in res["killed_jobs_starts"].items()) or "-"
    paused = ", ".join(f"{j[:8]}: {n}" for j, n in res.get("paused_jobs_starts", {}).items()) or "-"
    termed = ", ".join(f"{j[:8]}: {n} starts, attempts {res['termed_jobs_attempts'].get(j)}"
                       for j, n in res.get("termed_jobs_starts", {}).items()) or "-"
    handoff = ", ".join(map(str, res.get("handoff_seconds", []))) or "-"
    print("| " + " | ".join(str(res[c]) for c in cols) + f" | {hist} | {killed} | {paused} | {termed} | {handoff} "
          f"| {res.get('fenced', 0)} | {len(res['unexplained_restarts'])} |")
    print(f"\nanswers to submits that were retried: {res['submit_answers'] or 'none'}")
    for e in res["events"]:
        print("   ", e)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=2, help="SIGKILL a busy worker (then start a new one)")
    parser.add_argument("--client-kills", type=int, default=2, help="CLIENT KILL TYPE normal")
    parser.add_argument("--redis-restarts", type=int, default=2)
    parser.add_argument("--cancels", type=int, default=2, help="DELETE a queued job, then a running one, ...")
    parser.add_argument("--pauses", type=int, default=1, help="SIGSTOP a busy worker for lease + 4 s, then SIGCONT")
    parser.add_argument("--terms", type=int, default=1, help="SIGTERM a busy worker (graceful hand-off), replace it")
    parser.add_argument("--example", default="ngrs_020", help="examples/<name>.json, solved by every job")
    parser.add_argument("--time-limit", type=float, default=3.0, help="solver time limit per job")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--outage", type=float, default=7.0, help="seconds Redis stays down per restart")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds to wait for the jobs to finish")
    parser.add_argument("--keep-logs", type=Path, help="directory for the API/worker logs (default: temp, removed)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")


def run(args: argparse.Namespace) -> int:
    res = run_chaos(jobs=args.jobs, workers=args.workers, kills=args.kills, client_kills=args.client_kills,
                    redis_restarts=args.redis_restarts, cancels=args.cancels, pauses=args.pauses, terms=args.terms, example=args.example, time_limit=args.time_limit,
                    seed=args.seed, deadline=args.deadline, keep_logs=args.keep_logs,
                    outage=args.outage)
    print_table(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    ok = (res["lost"] == 0 and not res["unexplained_restarts"] and res["idempotency_violations"] == 0
          and res["submit_5xx_not_503"] == 0 and not res["results_recorded_not_1"] and not res["cancel_violations"])
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
