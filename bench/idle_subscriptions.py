"""Benchmark what idle live feeds cost: thousands of open subscriptions that receive nothing.

    .venv/bin/python bench/idle_subscriptions.py \\
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--workers 2]
        [--subscriptions 5000] [--connections 50] [--tokens 10]

With a PostgreSQL URL a fresh database is created beside it (and dropped);
without one the server runs on SQLite (one process). Prints one JSON object:

- ``baseline``: with no subscription open, the server's CPU over a quiet
  interval (% of one core), and ``/healthz`` and push latency (median, p95).
- ``idle``: the same with ``--subscriptions`` open over ``--connections``
  WebSockets (100 each, spread over ``--tokens`` tokens so no cap is reached),
  each having read its source once and now waiting; and the ratios to the
  baseline (goals: CPU under 5% of a core, latency within 1.2x).
- ``baseline_after``: the baseline again once the subscriptions are closed, to
  show how much the shared machine drifted meanwhile.
- ``cross_worker`` (``--workers`` >= 2): a subscriber on one worker, pushes
  through another; from each push's start (and from its response) to the event
  reaching the subscriber, p50/p99 (goal: p99 under 100 ms).

The machine may be shared: compare ratios within one run, not absolute figures.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

import httpx
from _server import BenchApi, ServerProcess, database_kind, fresh_postgres_database, log
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
SUB = "subscription($s: String!) { sourceEvents(sourceId: $s) { cursor } }"
WORKER = "x-localsync-worker"
LIMIT = 120.0
"""Longest any single wait may take; the benchmark stops rather than hang."""


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p[94] * 1000, 2),
        "p99_ms": round(p[98] * 1000, 2),
    }


async def _latencies(server: ServerProcess, api: BenchApi, source: str, n: int) -> dict[str, Any]:
    """Sequential /healthz and one-item pushes, each on a keep-alive connection."""
    async with httpx.AsyncClient(base_url=server.url, headers=api.headers, timeout=60) as http:
        health: list[float] = []
        for _ in range(n * 4):
            started = time.perf_counter()
            assert (await http.get("/healthz")).status_code == 200
            health.append(time.perf_counter() - started)
        pushes: list[float] = []
        for _ in range(n):
            op = uuid.uuid4().hex
            item = {"operationId": op, "relativePath": f"p/{op}.md", "content": op}
            body = {"sourceId": source, "items": [item]}
            started = time.perf_counter()
            response = await http.post("/api/local-sync/sources/push-batch", json=body)
            assert response.status_code == 200, response.text
            pushes.append(time.perf_counter() - started)
    return {"healthz": _ms(health), "push": _ms(pushes)}


async def _cpu_share(server: ServerProcess, seconds: float) -> float:
    """The server's CPU over ``seconds`` of quiet, in % of one core."""
    before, started = server.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = server.cpu_seconds(), time.monotonic() - started
    assert before is not None and after is not None
    return round(100 * (after - before) / elapsed, 2)


async def _open_feeds(
    url: str, init: str, sources: list[str], first: int, n: int, started: asyncio.Queue[int]
) -> ClientConnection:
    """One socket with ``n`` subscriptions; each reports once it has read its source."""
    # The server pings (uvicorn); a client ping unanswered while 5,000 feeds start is noise.
    ws = await connect(url, subprotocols=[PROTOCOL], max_queue=None, ping_interval=None)
    await ws.send(init)
    assert json.loads(await asyncio.wait_for(ws.recv(), LIMIT))["type"] == "connection_ack"
    for i in range(n):
        variables = {"s": sources[(first + i) % len(sources)]}
        message = {
            "id": str(i),
            "type": "subscribe",
            "payload": {"query": SUB, "variables": variables},
        }
        await ws.send(json.dumps(message))
    for _ in range(n):
        message = json.loads(await asyncio.wait_for(ws.recv(), LIMIT))
        assert message["type"] == "next" and "errors" not in message["payload"], message
        started.put_nowait(1)
    return ws


def _init(token: str, workspace: str) -> str:
    payload = {"Authorization": f"Bearer {token}", "x-workspace-id": workspace}
    return json.dumps({"type": "connection_init", "payload": payload})


async def _cross_worker(server: ServerProcess, api: BenchApi, pushes: int) -> dict[str, Any]:
    """A subscriber on one worker, a pusher pinned to another."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    source = api.source(api.connector("cross")["id"], name="cross")
    token = api.headers["Authorization"].split(" ", 1)[1]
    ws: ClientConnection | None = None
    for _ in range(200):
        ws = await connect(url, subprotocols=[PROTOCOL])
        if ws.response is not None and ws.response.headers.get(WORKER):
            break
    assert ws is not None and ws.response is not None
    subscriber_pid = ws.response.headers[WORKER]
    http: httpx.AsyncClient | None = None
    for _ in range(200):
        http = httpx.AsyncClient(base_url=server.url, headers=api.headers, timeout=60)
        if (await http.get("/healthz")).headers[WORKER] != subscriber_pid:
            break
        await http.aclose()
    assert http is not None
    await ws.send(_init(token, api.workspace))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    body = {"query": SUB, "variables": {"s": source}}
    await ws.send(json.dumps({"id": "x", "type": "subscribe", "payload": body}))
    from_start: list[float] = []
    from_response: list[float] = []
    for n in range(1, pushes + 1):
        item = {"operationId": f"x{n}", "relativePath": f"x/{n}.md", "content": str(n)}
        started = time.perf_counter()
        response = await http.post(
            "/api/local-sync/sources/push-batch", json={"sourceId": source, "items": [item]}
        )
        answered = time.perf_counter()
        assert response.headers[WORKER] != subscriber_pid
        message = json.loads(await asyncio.wait_for(ws.recv(), LIMIT))
        arrived = time.perf_counter()
        assert message["payload"]["data"]["sourceEvents"]["cursor"] == n, message
        from_start.append(arrived - started)
        from_response.append(max(0.0, arrived - answered))
    await http.aclose()
    await ws.close()
    return {
        "pushes": pushes,
        "from_push_start": _ms(from_start),
        "from_push_response": _ms(from_response),
    }


async def run(server: ServerProcess, args: argparse.Namespace) -> dict[str, Any]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    with BenchApi(server) as api:
        connector = api.connector()["id"]
        quiet_sources = [api.source(connector, name=f"idle-{i}") for i in range(args.sources)]
        for source in quiet_sources:  # one event each: a new feed reads it, then waits
            item = {"operationId": f"seed-{source}", "relativePath": "a.md", "content": "a"}
            api.call("sources/push-batch", {"sourceId": source, "items": [item]})
        pushed = api.source(connector, name="pushed")
        tokens = [server.token([api.workspace], user=f"bench-{i}") for i in range(args.tokens)]

        result: dict[str, Any] = {"server": {"database": database_kind(server.database_url)}}
        result["server"]["workers"] = server.workers
        log("baseline: no subscription open")
        baseline: dict[str, Any] = {
            "cpu_percent_of_core": await _cpu_share(server, args.quiet_seconds)
        }
        baseline.update(await _latencies(server, api, pushed, args.samples))
        result["baseline"] = baseline

        per_socket = args.subscriptions // args.connections
        log(f"opening {per_socket * args.connections} subscriptions on {args.connections} sockets")
        started: asyncio.Queue[int] = asyncio.Queue()
        opened = time.monotonic()
        sockets = await asyncio.gather(
            *(
                _open_feeds(
                    url,
                    _init(tokens[c % len(tokens)], api.workspace),
                    quiet_sources,
                    c * per_socket,
                    per_socket,
                    started,
                )
                for c in range(args.connections)
            )
        )
        log(f"{started.qsize()} subscriptions reading in {time.monotonic() - opened:.1f}s; quiet")
        idle: dict[str, Any] = {
            "subscriptions": started.qsize(),
            "opened_in_s": round(time.monotonic() - opened, 2),
            "cpu_percent_of_core": await _cpu_share(server, args.quiet_seconds),
        }
        idle.update(await _latencies(server, api, pushed, args.samples))
        for what in ("healthz", "push"):
            idle[f"{what}_median_ratio"] = round(
                idle[what]["median_ms"] / baseline[what]["median_ms"], 2
            )
            idle[f"{what}_p95_ratio"] = round(idle[what]["p95_ms"] / baseline[what]["p95_ms"], 2)
        result["idle"] = idle
        if server.workers > 1:
            log("cross-worker delivery, with the idle subscriptions still open")
            result["cross_worker"] = await _cross_worker(server, api, args.samples * 2)
        for ws in sockets:
            await ws.close()
        log("baseline again, the subscriptions closed (how much the machine drifted)")
        after: dict[str, Any] = {
            "cpu_percent_of_core": await _cpu_share(server, args.quiet_seconds)
        }
        after.update(await _latencies(server, api, pushed, args.samples))
        result["baseline_after"] = after
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=None, help="default: 2 on PostgreSQL")
    parser.add_argument("--subscriptions", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=10)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--quiet-seconds", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    kind = database_kind(args.database_url)
    workers = args.workers or (2 if kind == "postgresql" else 1)
    if kind == "postgresql":
        with (
            fresh_postgres_database(args.database_url) as url,
            ServerProcess(url, workers=workers) as server,
        ):
            result = asyncio.run(run(server, args))
    else:
        with ServerProcess(None, workers=workers) as server:
            result = asyncio.run(run(server, args))
    result["note"] = "shared machine: compare ratios within this run"
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
