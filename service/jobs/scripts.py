"""The Lua scripts: every state change of a job is one atomic script whose keys are all declared.

Client retries after a lost reply may run a script twice, so each one is idempotent: submit returns the
existing job, start recognises its own claim id, finish and release re-check owner and status.
Ownership (fencing) = the PEL owner of the stream entry is still this consumer AND the job hash still names
this consumer and attempt token; a worker whose lease was reclaimed fails both checks.
"""

from __future__ import annotations

_HELPERS = r"""
local function pel_owner(stream, group, sid)
  local ok, p = pcall(redis.call, 'XPENDING', stream, group, sid, sid, 1)
  if not ok or #p == 0 then return false end
  return p[1][2]
end
local function is_terminal(s)
  return s == 'completed' or s == 'failed' or s == 'cancelled'
end
-- terminal transition: status, error, bookkeeping sets, TTL on every key of the job, webhook outbox event
local function finish(job, input, result, running, queued, outbox, job_id, status, now, ttl, code, msg)
  redis.call('HSET', job, 'status', status, 'completed_at', now, 'error_code', code, 'error_message', msg)
  redis.call('SREM', running, job_id)
  redis.call('ZREM', queued, job_id)
  redis.call('EXPIRE', job, ttl)
  redis.call('EXPIRE', input, ttl)
  redis.call('EXPIRE', result, ttl)
  local hook = redis.call('HGET', job, 'webhook_url')
  if hook and hook ~= '' then
    redis.call('XADD', outbox, '*', 'type', 'job.' .. status, 'job_id', job_id, 'status', status,
      'at', now, 'webhook_url', hook, 'error_code', code, 'error_message', msg)
  end
end
"""

# KEYS: job, input, stream, total, queued | ARGV: job_id, owner, now, document, webhook_url, time_limit, group
SUBMIT = r"""
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGET', KEYS[1], 'status')}
end
pcall(redis.call, 'XGROUP', 'CREATE', KEYS[3], ARGV[7], '0', 'MKSTREAM')
local sid = redis.call('XADD', KEYS[3], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'status', 'queued', 'owner', ARGV[2], 'created_at', ARGV[3],
  'attempts', 0, 'starts', 0, 'cancel', 0, 'stream_id', sid, 'webhook_url', ARGV[5], 'time_limit', ARGV[6])
redis.call('SET', KEYS[2], ARGV[4])
redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
return {1, 'queued'}
"""

# KEYS: job, input, result, stream, dead, outbox, running, queued, cancelled_waiting
# ARGV: job_id, sid, group, consumer, now, max_attempts, ttl, claim_id
START = _HELPERS + r"""
-- delivered now, so no longer part of the group's lag
redis.call('SREM', KEYS[9], ARGV[1])
local function ackdel()
  redis.call('XACK', KEYS[4], ARGV[3], ARGV[2])
  redis.call('XDEL', KEYS[4], ARGV[2])
end
if redis.call('EXISTS', KEYS[1]) == 0 then ackdel() return {'missing'} end
local st = redis.call('HMGET', KEYS[1], 'status', 'cancel', 'claim', 'token', 'stream_id')
if st[3] == ARGV[8] and st[1] == 'running' then return {'started', st[4]} end
if is_terminal(st[1]) then ackdel() return {'terminal', st[1]} end
if pel_owner(KEYS[4], ARGV[3], ARGV[2]) ~= ARGV[4] then return {'lost'} end
if st[5] ~= ARGV[2] then ackdel() return {'stale'} end
if st[2] == '1' then
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[7], KEYS[8], KEYS[6], ARGV[1], 'cancelled', ARGV[5], ARGV[7],
    'CANCELLED', 'cancelled')
  ackdel()
  return {'cancelled'}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[6]) then
  redis.call('XADD', KEYS[5], '*', 'job_id', ARGV[1], 'attempts', attempts - 1, 'at', ARGV[5])
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[7], KEYS[8], KEYS[6], ARGV[1], 'failed', ARGV[5], ARGV[7],
    'MAX_ATTEMPTS', 'the job stopped its worker ' .. (attempts - 1) .. ' times; moved to the dead-letter stream')
  ackdel()
  return {'dead'}
end
redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'consumer', ARGV[4], 'token', attempts, 'claim', ARGV[8],
  'started_at', ARGV[5])
redis.call('SADD', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[8], ARGV[1])
return {'started', tostring(attempts)}
"""

# KEYS: job, stream | ARGV: sid, group, consumer, token
HEARTBEAT = _HELPERS + r"""
local st = redis.call('HMGET', KEYS[1], 'status', 'consumer', 'token', 'cancel')
if st[1] ~= 'running' or st[2] ~= ARGV[3] or st[3] ~= ARGV[4] then return {'lost'} end
if pel_owner(KEYS[2], ARGV[2], ARGV[1]) ~= ARGV[3] then return {'lost'} end
redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[1], 'JUSTID')
return {'ok', st[4]}
"""

# KEYS: job | ARGV: consumer, token, solutions, objective, best_bound, elapsed, now
PROGRESS = r"""
local st = redis.call('HMGET', KEYS[1], 'status', 'consumer', 'token')
if st[1] ~= 'running' or st[2] ~= ARGV[1] or st[3] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'p_solutions', ARGV[3], 'p_objective', ARGV[4], 'p_best_bound', ARGV[5],
  'p_elapsed', ARGV[6], 'p_updated_at', ARGV[7])
return 1
"""

# KEYS: job, input, result, stream, running, queued, outbox
# ARGV: job_id, sid, group, consumer, token, now, status, result, error_code, error_message, ttl,
#       [final progress: solutions, objective, best_bound, elapsed] — written with the result, by the owner only
FINISH = _HELPERS + r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return {'lost'} end
local st = redis.call('HMGET', KEYS[1], 'status', 'consumer', 'token')
if is_terminal(st[1]) then
  if st[1] == ARGV[7] and st[2] == ARGV[4] and st[3] == ARGV[5] then return {'ok'} end
  return {'terminal', st[1]}
end
if st[1] ~= 'running' or st[2] ~= ARGV[4] or st[3] ~= ARGV[5] then return {'lost'} end
if pel_owner(KEYS[4], ARGV[3], ARGV[2]) ~= ARGV[4] then return {'lost'} end
if ARGV[7] == 'completed' then redis.call('SET', KEYS[3], ARGV[8]) end
if ARGV[12] and ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'p_solutions', ARGV[12], 'p_objective', ARGV[13], 'p_best_bound', ARGV[14],
    'p_elapsed', ARGV[15], 'p_updated_at', ARGV[6])
end
finish(KEYS[1], KEYS[2], KEYS[3], KEYS[5], KEYS[6], KEYS[7], ARGV[1], ARGV[7], ARGV[6], ARGV[11], ARGV[9], ARGV[10])
redis.call('XACK', KEYS[4], ARGV[3], ARGV[2])
redis.call('XDEL', KEYS[4], ARGV[2])
return {'ok'}
"""

# KEYS: job, stream, running, queued | ARGV: job_id, sid, group, consumer, token, lease_ms, now, uncount
RELEASE = _HELPERS + r"""
local st = redis.call('HMGET', KEYS[1], 'status', 'consumer', 'token')
if st[1] ~= 'running' or st[2] ~= ARGV[4] or st[3] ~= ARGV[5] then return 0 end
if pel_owner(KEYS[2], ARGV[3], ARGV[2]) ~= ARGV[4] then return 0 end
-- IDLE = lease makes the entry claimable by XAUTOCLAIM at once; JUSTID leaves the delivery count alone
redis.call('XCLAIM', KEYS[2], ARGV[3], ARGV[4], 0, ARGV[2], 'IDLE', ARGV[6], 'JUSTID')
if ARGV[8] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
redis.call('HSET', KEYS[1], 'status', 'queued', 'consumer', '', 'claim', '')
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])
return 1
"""

# KEYS: job, input, result, running, queued, outbox, cancelled_waiting | ARGV: job_id, owner, now, ttl
CANCEL = _HELPERS + r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HMGET', KEYS[1], 'status', 'owner')
if st[2] ~= ARGV[2] then return {'missing'} end
if is_terminal(st[1]) then return {'terminal', st[1]} end
redis.call('HSET', KEYS[1], 'cancel', 1)
if st[1] == 'queued' then
  -- the stream entry stays (XDEL of an undelivered entry would make lag NULL); start acks it later.
  -- Until then it is remembered here, so the backlog (lag - this set) does not count it as waiting.
  redis.call('SADD', KEYS[7], ARGV[1])
  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], 'cancelled', ARGV[3], ARGV[4],
    'CANCELLED', 'cancelled before it started')
  return {'cancelled'}
end
return {'cancelling'}
"""

# KEYS: job, stream, queued | ARGV: job_id, group
RECONCILE = r"""
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[3], ARGV[1]) return 'gone' end
local st = redis.call('HMGET', KEYS[1], 'status', 'stream_id')
if st[1] ~= 'queued' then redis.call('ZREM', KEYS[3], ARGV[1]) return 'skip' end
if st[2] and #redis.call('XRANGE', KEYS[2], st[2], st[2]) > 0 then return 'ok' end
pcall(redis.call, 'XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
local sid = redis.call('XADD', KEYS[2], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[1], 'stream_id', sid)
return 'requeued'
"""

# KEYS: job, stream, running, queued | ARGV: job_id, group, now
# A `running` job whose entry is no longer pending (a failover lost the XREADGROUP or the entry): its owner's
# next heartbeat fails the PEL check and kills the solver, so nobody would ever finish it. Queue it again.
RECONCILE_RUNNING = _HELPERS + r"""
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[1]) return 'gone' end
local st = redis.call('HMGET', KEYS[1], 'status', 'stream_id')
if st[1] ~= 'running' then redis.call('SREM', KEYS[3], ARGV[1]) return 'skip' end
if st[2] and pel_owner(KEYS[2], ARGV[2], st[2]) then return 'ok' end
pcall(redis.call, 'XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
if st[2] then redis.call('XDEL', KEYS[2], st[2]) end
local sid = redis.call('XADD', KEYS[2], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[1], 'stream_id', sid, 'status', 'queued', 'consumer', '', 'claim', '')
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
return 'requeued'
"""

# KEYS: lock | ARGV: token, ttl_ms — take the lock if free, renew it if ours
LOCK = r"""
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lock | ARGV: token
UNLOCK = r"""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
