"""Domain errors with stable codes, mapped once by each adapter.

LocalSyncError
├── InvalidInput        422  malformed values (path, hash, content, decisions)
│   └── MissingWorkspace 400 no ``x-workspace-id``
├── Unauthenticated     401  missing, malformed, expired or forged token
├── Forbidden           403  token does not grant the workspace
├── NotFound            404  absent, or belongs to another workspace
├── StateConflict       409  state forbids the call (paused, mode, resolved, stale revision)
├── TooLarge            413  over a size limit
├── TooManyRequests     429  over a count limit (live subscriptions)
└── Unavailable         503  the database is busy or unreachable
"""


class LocalSyncError(Exception):
    """Base of every error a client can cause; ``code`` is stable, ``message`` human."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(LocalSyncError):
    status = 422
    code = "INVALID_INPUT"


class MissingWorkspace(LocalSyncError):
    status = 400
    code = "WORKSPACE_REQUIRED"


class Unauthenticated(LocalSyncError):
    status = 401
    code = "UNAUTHENTICATED"


class Forbidden(LocalSyncError):
    status = 403
    code = "FORBIDDEN"


class NotFound(LocalSyncError):
    status = 404
    code = "NOT_FOUND"


class StateConflict(LocalSyncError):
    status = 409
    code = "STATE_CONFLICT"


class TooLarge(LocalSyncError):
    status = 413
    code = "TOO_LARGE"


class TooManyRequests(LocalSyncError):
    status = 429
    code = "TOO_MANY_REQUESTS"


class Unavailable(LocalSyncError):
    status = 503
    code = "UNAVAILABLE"
