"""The one place GraphQL turns domain errors into ``extensions.code``.

Domain errors keep their message and gain a GraphQL-style code plus our stable
``reason`` code; anything else is masked, so no stack trace or SQL ever leaks.
"""

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult

from backend.errors import (
    Forbidden,
    LocalSyncError,
    NotFound,
    StateConflict,
    TooLarge,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("localsync.graphql")


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


def shape_error(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:
        # Parse and validation errors: the client's document is at fault.
        extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return _copy(error, error.message, extensions)
    if isinstance(original, LocalSyncError):
        extensions = {"code": graphql_code(original), "reason": original.code}
        return _copy(error, original.message, extensions)
    if isinstance(original, GraphQLError):
        return shape_error(original) if original is not error else error
    log.exception("unexpected error in GraphQL resolver", exc_info=original)
    return _copy(error, "Unexpected error.", {"code": "INTERNAL_SERVER_ERROR"})


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

    def on_operation(self) -> Iterator[None]:
        self._streamed = False
        yield
        if not self._streamed:
            _shape_result(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        _shape_result(result)
        yield None


def _shape_result(result: object) -> None:
    errors = getattr(result, "errors", None)
    if result is not None and errors:
        result.errors = [shape_error(e) for e in errors]  # type: ignore[attr-defined]
