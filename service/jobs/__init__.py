"""The job queue: Redis Streams with one consumer group, job hashes and atomic Lua scripts.

`keys` names every Redis key, `scripts` holds the Lua, `redis_client` builds clients, `store` is the async
API side (`JobStore`) and `queue` the synchronous worker side (`WorkerQueue`).
"""
