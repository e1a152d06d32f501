"""Stacks that only compose constructs: DataStack (stateful) and ServiceStack (stateless)."""
