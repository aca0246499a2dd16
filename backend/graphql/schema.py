"""The Strawberry schema: types, operations and the extensions every operation runs through."""

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from backend.errors import LocalSyncError
from backend.graphql.context import OperationLoaders
from backend.graphql.errors import ErrorCodes
from backend.graphql.mutations import Mutation
from backend.graphql.queries import Query
from backend.graphql.subscriptions import Subscription
from backend.settings import Settings


class LocalSyncSchema(strawberry.Schema):
    """Logs only unexpected errors; a client's bad input is not a server event."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [e for e in errors if not _expected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def _expected(error: GraphQLError) -> bool:
    return error.original_error is None or isinstance(error.original_error, LocalSyncError)


def build_schema(settings: Settings) -> strawberry.Schema:
    return LocalSyncSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=30),
            ErrorCodes,
            OperationLoaders,
        ],
    )
