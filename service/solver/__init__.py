"""Roster solver: input formats → core `Problem` → CP-SAT model (one function per rule) → explained
solution → output JSON. `engine.solve_document` is the one entry point the CLI and the workers use."""
