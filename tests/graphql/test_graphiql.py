"""GraphiQL is served on GET /graphql so a person can explore the API in a browser."""

import httpx

from tests.conftest import LiveServer


def test_graphiql_is_served_on_get(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_graphiql_can_be_turned_off(start_server: object) -> None:
    server = start_server(graphql_ide=False)  # type: ignore[operator]
    response = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in response.text.lower()
