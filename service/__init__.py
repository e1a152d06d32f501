"""NGRS solver service: roster solving with OR-Tools CP-SAT behind a FastAPI API and a Redis Streams job queue."""

__version__ = "1.0.0"
