"""Benchmark the live feed's admission, expiry and caps against a real ``localsync serve``.

    .venv/bin/python bench/live_feeds.py [--sockets 500]

Prints one JSON object:

- ``forged``: ``--sockets`` sockets send ``connection_init`` with a forged token at
  once; how many were acknowledged (goal 0), how many closed 4401, and the slowest
  close after the init was sent.
- ``silent``: as many sockets send nothing; how many the server closed 4408 and
  the slowest close (``LOCALSYNC_WS_INIT_TIMEOUT_SECONDS``, set to 2 here).
- ``one_socket``: one socket asks for ``--sockets`` subscriptions in one burst;
  how many run (goal: ``max_subscriptions_per_connection``, 100) and how many
  were refused, by reason (TOO_MANY_SUBSCRIPTIONS, or TOO_MANY_OPERATIONS for
  those that arrived while the connection's operations in flight were full).
- ``expiry``: a subscription whose token expires; seconds from the token's
  ``exp`` to the 4401 close (goal: well under a second).

Loopback only, every loop bounded in count and time.
"""

import argparse
import asyncio
import json
import time
from typing import Any

import jwt
from _server import BENCH_SECRET, BenchApi, ServerProcess, log
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
SUB = "subscription($s: String!) { sourceEvents(sourceId: $s) { cursor } }"
LIMIT = 60.0
"""Longest any single wait may take; the benchmark stops rather than hang."""


def _init(token: str, workspace: str) -> str:
    payload = {"Authorization": f"Bearer {token}", "x-workspace-id": workspace}
    return json.dumps({"type": "connection_init", "payload": payload})


async def _close_code(ws: ClientConnection) -> tuple[int | None, bool]:
    """Read until closed: the close code, and whether an ack came first."""
    acked = False
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), LIMIT))
            acked = acked or message.get("type") == "connection_ack"
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), acked


async def _one_refusal(url: str, init: str | None) -> tuple[int | None, bool, float]:
    async with connect(url, subprotocols=[PROTOCOL]) as ws:
        started = time.monotonic()
        if init is not None:
            await ws.send(init)
        code, acked = await _close_code(ws)
        return code, acked, time.monotonic() - started


async def refusals(url: str, sockets: int, init: str | None) -> dict[str, Any]:
    results = await asyncio.gather(*(_one_refusal(url, init) for _ in range(sockets)))
    codes: dict[str, int] = {}
    for code, _, _ in results:
        codes[str(code)] = codes.get(str(code), 0) + 1
    return {
        "sockets": sockets,
        "acknowledged": sum(1 for _, acked, _ in results if acked),
        "close_codes": codes,
        "slowest_close_s": round(max(t for _, _, t in results), 3),
    }


async def one_socket(url: str, token: str, workspace: str, source: str, n: int) -> dict[str, Any]:
    async with connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(_init(token, workspace))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for i in range(n):
            body = {"query": SUB, "variables": {"s": source}}
            await ws.send(json.dumps({"id": str(i), "type": "subscribe", "payload": body}))
        running: set[str] = set()
        refused: dict[str, int] = {}
        while len(running) + sum(refused.values()) < n:
            message = json.loads(await asyncio.wait_for(ws.recv(), LIMIT))
            payload = message.get("payload")
            if message["type"] == "next" and "errors" not in payload:
                running.add(message["id"])
            elif message["type"] in {"error", "next"}:
                errors = payload if isinstance(payload, list) else payload["errors"]
                reason = str(errors[0].get("extensions", {}).get("reason"))
                refused[reason] = refused.get(reason, 0) + 1
    return {"asked": n, "running": len(running), "refused": refused}


async def expiry(url: str, workspace: str, source: str, seconds: int) -> dict[str, Any]:
    exp = int(time.time()) + seconds
    claims = {"sub": "bench", "workspaces": [workspace], "iat": int(time.time()), "exp": exp}
    token = jwt.encode(claims, BENCH_SECRET, algorithm="HS256")
    async with connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(_init(token, workspace))
        body = {"query": SUB, "variables": {"s": source}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": body}))
        code, _ = await _close_code(ws)
    return {"close_code": code, "close_after_exp_s": round(time.time() - exp, 3)}


async def run(server: ServerProcess, sockets: int) -> dict[str, Any]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    with BenchApi(server) as api:
        workspace, token = api.workspace, api.headers["Authorization"].split(" ", 1)[1]
        source = api.source(api.connector()["id"])
        item = {"operationId": "op-1", "relativePath": "a.md", "content": "a\n"}
        api.call("sources/push-batch", {"sourceId": source, "items": [item]})
    forged = jwt.encode({"sub": "x", "workspaces": [workspace], "exp": 2**31}, "z" * 40)
    log(f"{sockets} sockets with a forged token")
    result: dict[str, Any] = {"forged": await refusals(url, sockets, _init(forged, workspace))}
    log(f"{sockets} sockets that never send connection_init")
    result["silent"] = await refusals(url, sockets, None)
    log(f"{sockets} subscriptions on one socket")
    result["one_socket"] = await one_socket(url, token, workspace, source, sockets)
    log("a subscription whose token expires")
    result["expiry"] = await expiry(url, workspace, source, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=500)
    args = parser.parse_args()
    env = {"LOCALSYNC_WS_INIT_TIMEOUT_SECONDS": "2"}
    with ServerProcess(extra_env=env) as server:
        result = asyncio.run(run(server, args.sockets))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
