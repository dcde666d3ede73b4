"""Fault tests: the engine, the store and the terminal under failures, end to end."""
