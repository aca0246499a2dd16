"""``GET /metrics``: Prometheus series an operator watches, moving with the work done."""

import asyncio
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LiveServer
from tests.factories import Api, upsert
from tests.graphql.conftest import auth_headers, open_ws
from tests.graphql.test_subscriptions import _next, _subscribe

PUSH_ROUTE = "/api/local-sync/sources/push-batch"
WAIT = 15.0


def scrape(server: LiveServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``/metrics``, keyed by name and labels."""
    response = httpx.get(server.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_pushes_and_requests_move_their_series(live_server: LiveServer, api: Api) -> None:
    source = api.source()
    before = scrape(live_server)
    api.push(source["id"], upsert("a.md", "a\n"), upsert("b.md", "b\n"), upsert("../x", "x"))
    api.push(source["id"], upsert("a.md", "a\n", op="again"))
    mutation = """
    mutation($s: String!) {
      pushBatch(sourceId: $s, items: [{operationId: "g1", path: "c.md", content: "c"}]) {
        applied
      }
    }
    """
    graphql = httpx.post(
        live_server.url + "/graphql",
        json={"query": mutation, "variables": {"s": source["id"]}},
        headers=auth_headers(api),
    )
    assert graphql.json()["data"]["pushBatch"]["applied"] == 1
    httpx.get(live_server.url + "/no/such/page/123")
    after = scrape(live_server)

    pushed = "localsync_push_items_total"
    assert value(after, pushed, status="applied") - value(before, pushed, status="applied") == 3
    assert value(after, pushed, status="rejected") - value(before, pushed, status="rejected") == 1
    assert value(after, pushed, status="unchanged") - value(before, pushed, status="unchanged") == 1

    count = "localsync_request_duration_seconds_count"
    push = {"method": "POST", "route": PUSH_ROUTE, "status": "200"}
    assert value(after, count, **push) - value(before, count, **push) == 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, count, **unmatched) - value(before, count, **unmatched) == 1
    routes = {dict(labels).get("route") for (_, labels) in after}
    assert "/no/such/page/123" not in routes, "raw paths must not become labels"
    assert value(after, "localsync_db_pool_size") > 0
    assert (("localsync_db_pool_connections_in_use", frozenset())) in after


async def test_open_subscriptions_are_counted_while_open(live_server: LiveServer, api: Api) -> None:
    source = api.source()
    api.push(source["id"], upsert("a.md", "a\n"))
    gauge = "localsync_open_subscriptions"
    before = value(await asyncio.to_thread(scrape, live_server), gauge)
    async with open_ws(live_server, auth_headers(api)) as ws:
        feeds = [_subscribe(ws.session, source["id"], after=0) for _ in range(3)]
        await asyncio.gather(*(_next(feed) for feed in feeds))
        during = value(await asyncio.to_thread(scrape, live_server), gauge)
        assert during - before == 3
        for feed in feeds:
            await feed.aclose()
    for _ in range(int(WAIT / 0.05)):  # the server ends them as the socket closes
        if value(await asyncio.to_thread(scrape, live_server), gauge) == before:
            break
        await asyncio.sleep(0.05)
    assert value(await asyncio.to_thread(scrape, live_server), gauge) == before


def test_metrics_can_be_turned_off(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(metrics_enabled=False)
    assert httpx.get(server.url + "/metrics").status_code == 404
    assert httpx.get(server.url + "/healthz").status_code == 200


def test_every_response_names_its_worker(live_server: LiveServer) -> None:
    """Which process answered: with several workers, the one that served this connection."""
    import os

    response = httpx.get(live_server.url + "/healthz")
    assert response.headers["x-localsync-worker"] == str(os.getpid())
