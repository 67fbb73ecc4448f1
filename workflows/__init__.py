"""Temporal workflow code: the inquiry workflow and the deterministic pieces it is built from."""
