"""GraphQL test helpers: a real ``gql`` client talking to the live server.

``gq`` is an async session bound to the test's workspace (token from ``api``);
``gql_client`` opens more sessions with any headers (other tenants, bad tokens);
``ws_client`` opens graphql-transport-ws sessions with a ``connection_init`` payload.
"""

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import LiveServer
from tests.factories import Api

# Whatever an error says, it must not look like Python internals.
LEAK = re.compile(r"Traceback|File \"|\.py\b|sqlalchemy|psycopg|sqlite3|Exception\b", re.I)


class GqlError(AssertionError):
    pass


class Gq:
    """One open ``gql`` session; ``run`` returns ``data``, ``error`` the single error."""

    def __init__(self, session: AsyncClientSession) -> None:
        self.session = session

    async def run(self, document: str, **variables: Any) -> dict[str, Any]:
        request = GraphQLRequest(document, variable_values=variables or None)
        try:
            result: dict[str, Any] = await self.session.execute(request)
        except TransportQueryError as exc:
            raise GqlError(f"unexpected GraphQL errors: {exc.errors}") from None
        return result

    async def errors(self, document: str, **variables: Any) -> list[dict[str, Any]]:
        """Run a document that must fail; every error carries a code and leaks nothing."""
        request = GraphQLRequest(document, variable_values=variables or None)
        try:
            result = await self.session.execute(request)
        except TransportQueryError as exc:
            errors = exc.errors or []
        else:
            raise GqlError(f"expected an error, got data {result}")
        assert errors, "TransportQueryError without errors"
        for error in errors:
            check_error_shape(error)
        return errors

    async def error(self, document: str, **variables: Any) -> dict[str, Any]:
        errors = await self.errors(document, **variables)
        assert len(errors) == 1, errors
        return errors[0]

    async def code(self, document: str, **variables: Any) -> str:
        code: str = (await self.error(document, **variables))["extensions"]["code"]
        return code


def check_error_shape(error: dict[str, Any]) -> None:
    message = error.get("message")
    assert isinstance(message, str) and message, error
    assert not LEAK.search(message), f"error message leaks internals: {message!r}"
    code = (error.get("extensions") or {}).get("code")
    assert isinstance(code, str) and code, f"error without extensions.code: {error}"
    assert code != "INTERNAL_SERVER_ERROR", error
    assert "stacktrace" not in str(error.get("extensions")), error


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


GqlFactory = Callable[..., AbstractAsyncContextManager[Gq]]


@asynccontextmanager
async def open_http(server: LiveServer, headers: dict[str, str] | None) -> AsyncIterator[Gq]:
    """An HTTP session to ``server`` sending exactly ``headers``."""
    transport = HTTPXAsyncTransport(url=server.url + "/graphql", headers=headers or {}, timeout=60)
    async with Client(transport=transport) as session:
        yield Gq(session)


@asynccontextmanager
async def open_ws(server: LiveServer, init_payload: dict[str, Any] | None) -> AsyncIterator[Gq]:
    """A graphql-transport-ws session to ``server``; credentials go in ``connection_init``."""
    transport = WebsocketsTransport(
        url=ws_url(server),
        init_payload=init_payload or {},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        yield Gq(session)


@pytest.fixture
def gql_client(live_server: LiveServer) -> GqlFactory:
    """``async with gql_client(headers) as gq``: an HTTP session with exactly these headers."""
    return partial(open_http, live_server)


@pytest.fixture
def ws_client(live_server: LiveServer) -> GqlFactory:
    """``async with ws_client(init_payload) as gq``: a graphql-transport-ws session."""
    return partial(open_ws, live_server)


def auth_headers(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token}", "x-workspace-id": api.workspace}


@pytest.fixture
async def gq(gql_client: GqlFactory, api: Api) -> AsyncIterator[Gq]:
    """A session authenticated for the test's workspace."""
    async with gql_client(auth_headers(api)) as session:
        yield session


@pytest.fixture
async def other_gq(gql_client: GqlFactory, other_api: Api) -> AsyncIterator[Gq]:
    """A session of another tenant on the same server."""
    async with gql_client(auth_headers(other_api)) as session:
        yield session
