"""Benchmark: ``/healthz`` and a sync read while many big conflict previews compute.

Run from the repository root:

    .venv/bin/python bench/compute_turns.py                    # 60 previews, SQLite
    .venv/bin/python bench/compute_turns.py --previews 60 --lines 20000

Starts a real ``localsync serve`` subprocess, opens one conflict whose sides
differ on every third of ``--lines`` lines, then sends ``--previews`` previews of
it at once. Meanwhile one client asks for ``/healthz`` and another for
``sources/list`` back to back; their latencies while previews are in flight are
reported. The server's queue bound is raised to ``--max-queued`` so that every
preview is served (with the default of 32, those past it answer 503).
Prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import hashlib
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from _server import PREFIX, BenchApi, ServerProcess, log


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _side(label: str, lines: int) -> str:
    return "".join(
        f"line {i} {label} edit\n" if label and i % 3 == 0 else f"line {i} of the base text\n"
        for i in range(lines)
    )


def _item(op: str, content: str, base: str | None) -> dict[str, Any]:
    return {
        "operationId": op,
        "relativePath": "big.md",
        "content": content,
        "contentHash": _sha(content),
        "baseHash": None if base is None else _sha(base),
    }


def _conflict(api: BenchApi, lines: int) -> str:
    source = api.source(api.connector()["id"])
    base, remote, local = _side("", lines), _side("remote", lines), _side("local", lines)
    for op, content, on in (("b", base, None), ("r", remote, base), ("l", local, base)):
        items = [_item(op, content, on)]
        result = api.call("sources/push-batch", {"sourceId": source, "items": items})
    conflict: str = result["results"][0]["conflictId"]
    return conflict


def _summary(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"count": 0}
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _probe(url: str, headers: dict[str, str], body: Any, stop: threading.Event) -> list[float]:
    seen: list[float] = []
    with httpx.Client(timeout=300) as http:
        while not stop.is_set():
            started = time.monotonic()
            response = http.get(url) if body is None else http.post(url, json=body, headers=headers)
            seen.append(time.monotonic() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{url} -> {response.status_code}")
            stop.wait(0.02)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--previews", type=int, default=60)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--max-queued", type=int, default=64)
    args = parser.parse_args()
    env = {"LOCALSYNC_MAX_QUEUED_COMPUTATIONS": str(args.max_queued)}
    with ServerProcess(extra_env=env) as server, BenchApi(server) as api:
        conflict = _conflict(api, args.lines)
        body = {"conflictId": conflict}
        started = time.monotonic()
        api.call("sources/conflicts/preview", body)
        one = time.monotonic() - started
        log(f"one preview alone: {one:.2f} s")
        stop = threading.Event()
        limits = httpx.Limits(max_connections=args.previews + 10)
        with (
            ThreadPoolExecutor(args.previews + 2) as pool,
            httpx.Client(base_url=server.url, limits=limits, timeout=600) as http,
        ):
            health = pool.submit(_probe, f"{server.url}/healthz", {}, None, stop)
            listing = pool.submit(
                _probe, f"{server.url}{PREFIX}sources/list", api.headers, {}, stop
            )
            started = time.monotonic()
            previews = [
                pool.submit(
                    http.post, PREFIX + "sources/conflicts/preview", json=body, headers=api.headers
                )
                for _ in range(args.previews)
            ]
            statuses = [p.result().status_code for p in previews]
            wall = time.monotonic() - started
            stop.set()
            result = {
                "previews": args.previews,
                "lines": args.lines,
                "one_preview_s": round(one, 2),
                "all_previews_s": round(wall, 2),
                "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                "healthz": _summary(health.result()),
                "sources_list": _summary(listing.result()),
                "server_cpu_s": server.cpu_seconds(),
            }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
