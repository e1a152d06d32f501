"""HTTP API: FastAPI app factory (`app.create_app`), auth, error format, body cap, routes and the CLI entry.

The API never solves inline: it validates, enqueues through `service.jobs.store.JobStore` and reads status.
"""
