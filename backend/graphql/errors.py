"""The one place GraphQL turns errors into ``extensions.code``.

- Domain errors keep their message and gain a GraphQL-style code plus our
  stable ``reason`` code.
- A busy or unreachable database (SQLite "database is locked", a refused
  connection, no pooled connection in time) is ``UNAVAILABLE`` with a retry hint,
  like REST's 503.
- Errors about the document or its variables, and those our own extensions raise
  with a code (``QUERY_TOO_COSTLY``, ``RESPONSE_TOO_LARGE``), keep their message.
- Anything else is masked, so no stack trace or SQL ever leaks.
"""

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import StreamExecutionResult

from backend.errors import (
    Forbidden,
    InvalidInput,
    LocalSyncError,
    NotFound,
    StateConflict,
    TooLarge,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("localsync.graphql")

BUSY = "the database is busy or unreachable; retry"
VALIDATION = "GRAPHQL_VALIDATION_FAILED"


def graphql_code(exc: LocalSyncError) -> str:
    if isinstance(exc, Unauthenticated):
        return "UNAUTHENTICATED"
    if isinstance(exc, Forbidden):
        return "FORBIDDEN"
    if isinstance(exc, NotFound):
        return "NOT_FOUND"
    if isinstance(exc, StateConflict):
        return "CONFLICT"
    if isinstance(exc, TooLarge):
        return "PAYLOAD_TOO_LARGE"
    if isinstance(exc, TooManyRequests):
        return "TOO_MANY_REQUESTS"
    if isinstance(exc, Unavailable):
        return "UNAVAILABLE"
    return "BAD_USER_INPUT"


def domain_error(exc: BaseException) -> LocalSyncError | None:
    """The domain error ``exc`` stands for when the client can act on it, else ``None``."""
    if isinstance(exc, LocalSyncError):
        return exc
    if isinstance(exc, OperationalError | PoolTimeout):
        return Unavailable(BUSY)
    if isinstance(exc, CannotGetOperationTypeError):
        return InvalidInput(exc.as_http_error_reason(), "UNKNOWN_OPERATION")
    return None


def cause(error: GraphQLError) -> tuple[BaseException | None, dict[str, object]]:
    """What went wrong under the GraphQL wrappers, and every code those carry.

    graphql-core wraps a resolver's exception (and a variable's coercion error)
    in a located error; the outer message is the one to show, the innermost
    exception says what kind of error it is.
    """
    extensions: dict[str, object] = {}
    current: GraphQLError = error
    while True:
        extensions = {**(current.extensions or {}), **extensions}
        inner = current.original_error
        if not isinstance(inner, GraphQLError) or inner is current:
            return inner, extensions
        current = inner


def unexpected(error: GraphQLError) -> bool:
    """An error the server did not foresee: logged with its trace, masked for the client."""
    original, _ = cause(error)
    return original is not None and domain_error(original) is None


def shape_error(error: GraphQLError, retry_after: int | None = None) -> GraphQLError:
    original, extensions = cause(error)
    if original is None:
        # The document, its variables, or one of our extensions: the client's request.
        code = extensions.get("code", VALIDATION)
        return _copy(error, error.message, {**extensions, "code": code})
    domain = domain_error(original)
    if domain is None:
        log.exception("unexpected error in GraphQL resolver", exc_info=original)
        return _copy(error, "Unexpected error.", {"code": "INTERNAL_SERVER_ERROR"})
    shaped: dict[str, object] = {"code": graphql_code(domain), "reason": domain.code}
    if isinstance(domain, Unavailable):
        if original is not domain:
            log.warning("database unavailable: %s", original)
        if retry_after is not None:
            shaped["retryAfter"] = retry_after
    return _copy(error, domain.message, shaped)


def _copy(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Give every error a code and mask unexpected ones.

    Over HTTP the one result is shaped when the operation ends; over WebSocket
    each streamed result is shaped before it is sent (and not again at the end).
    """

    def __init__(self, *, retry_after: int | None = None) -> None:
        self.retry_after = retry_after

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            self._shape(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        self._shape(result)
        yield None

    def _shape(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            shaped = [shape_error(e, self.retry_after) for e in errors]
            result.errors = shaped  # type: ignore[attr-defined]
