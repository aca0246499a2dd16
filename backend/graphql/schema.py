"""The Strawberry schema: types, operations and the extensions every operation runs through."""

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from backend.errors import InvalidInput
from backend.graphql.context import OperationLoaders
from backend.graphql.cost import QueryCost
from backend.graphql.errors import ErrorCodes, shape_error, unexpected
from backend.graphql.history import HistoryMutation
from backend.graphql.mutations import Mutation
from backend.graphql.queries import Query
from backend.graphql.response_size import ResponseSizeCap
from backend.graphql.retention import RetentionMutation, RetentionQuery
from backend.graphql.subscriptions import Subscription
from backend.settings import Settings

ALL_OPERATIONS = frozenset(OperationType)


class LocalSyncSchema(strawberry.Schema):
    """Logs only unexpected errors; a client's bad input is not a server event."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        logged = [e for e in errors if unexpected(e)]
        if logged:
            super().process_errors(logged, execution_context)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One answer per request: a subscription needs a stream, so it is refused here.

        Strawberry admits subscriptions over plain HTTP for its multipart transport,
        which streams; a plain JSON request would run the subscription's resolver
        as if it returned one value and fail inside.
        """
        allowed = set(allowed_operation_types or ALL_OPERATIONS) - {OperationType.SUBSCRIPTION}
        try:
            return await super().execute(
                query,
                variable_values=variable_values,
                context_value=context_value,
                root_value=root_value,
                operation_name=operation_name,
                allowed_operation_types=allowed,
                operation_extensions=operation_extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is not OperationType.SUBSCRIPTION:
                raise
            refused = InvalidInput(
                "subscriptions are served over WebSocket (graphql-transport-ws) only",
                "WEBSOCKET_REQUIRED",
            )
            error = shape_error(GraphQLError(refused.message, original_error=refused))
            return ExecutionResult(data=None, errors=[error])


def build_schema(settings: Settings) -> strawberry.Schema:
    return LocalSyncSchema(
        query=merge_types("Query", (Query, RetentionQuery)),
        mutation=merge_types("Mutation", (Mutation, HistoryMutation, RetentionMutation)),
        subscription=Subscription,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=30),
            lambda: QueryCost(max_cost=settings.graphql_max_cost),
            lambda: ResponseSizeCap(max_bytes=settings.graphql_max_response_bytes),
            lambda: ErrorCodes(retry_after=settings.retry_after_seconds),
            OperationLoaders,
        ],
    )
