"""Reusable widgets; each posts its own nested messages."""
