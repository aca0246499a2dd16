"""REST compatibility layer for the documented ``/api/local-sync/*`` paths."""
