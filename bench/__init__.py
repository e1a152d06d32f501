"""Benchmarks and load/chaos/scaling harnesses (run on demand; `python -m bench` lists them)."""
