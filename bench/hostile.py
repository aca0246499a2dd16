"""Benchmark hostile and heavy requests against a real ``localsync serve`` subprocess.

Run from the repository root:

    .venv/bin/python bench/hostile.py                          # SQLite (default)
    .venv/bin/python bench/hostile.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With ``--database-url`` a fresh database is created next to the given one for the
run and dropped afterwards. Prints one JSON object on stdout; progress goes to stderr.

Each phase sends one request (or a few at once) while a second client, in a
process of its own, asks for ``/healthz`` every 20 ms for the whole run. Measured
per phase: the answer (HTTP status and error code), the server process's peak
resident memory (its VmHWM, reset before the phase through
``/proc/<pid>/clear_refs``; a 10 ms VmRSS poll where that is not allowed), the
server's CPU seconds, and every ``/healthz`` in flight during the phase. An idle
phase first shows what ``/healthz`` costs on this machine at this moment (other
work on the machine shows up in every phase alike).

Phases (after ``idle_baseline``):

1. ``unauthenticated_64mib``: 64 MiB of ``[[],[],...]`` to push-batch without a
   token, streamed from a raw socket until the server answers;
2. ``unauthenticated_64mib_x4``: four of those at once;
3. ``empty_items_64mib``: an authenticated push-batch of 64 MiB of ``{}`` items;
4. ``graphql_variables_64mib``: 64 MiB of ``[[],[],...]`` in GraphQL variables;
5. ``graphql_100k_push_items``: a pushBatch mutation with 100,000 items in variables;
6. ``graphql_60mib_literal``: a 60 MiB string literal in the GraphQL document;
7. ``aliased_version_content``: 30 aliases of ``versions { content }`` over a
   file with about 20 MiB of history (refused by the GraphQL cost budget, if any);
8. ``legitimate_60mib_push``: 12 files of 5 MiB in one push-batch, which must succeed.

Goals (from the issue): every hostile request refused with a 4xx, peak RSS under
512 MiB, ``/healthz`` never slower than 200 ms. ``goals`` reports each as measured.
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import platform
import select
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from _server import PREFIX, BenchApi, ServerProcess, database_kind, fresh_postgres_database, log

KIB = 1024
MIB = 1024 * 1024
HEALTHZ_EVERY = 0.02
GOAL_RSS_MIB = 512
GOAL_HEALTHZ_MS = 200


# ---- measuring ---------------------------------------------------------------------


def _probe_healthz(url: str, stop: Any, out: Connection) -> None:
    """In its own process (immune to the bench's GIL): one /healthz every 20 ms until
    ``stop``; sends back (monotonic start, seconds taken, answered 200) for each."""
    samples: list[tuple[float, float, bool]] = []
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                ok = client.get(url + "/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            samples.append((started, time.monotonic() - started, ok))
            time.sleep(HEALTHZ_EVERY)
    out.send(samples)
    out.close()


class Prober:
    """The second client: probes /healthz for the whole run, from a process of its own."""

    def __init__(self, url: str) -> None:
        self._stop = multiprocessing.Event()
        self._receiver, sender = multiprocessing.Pipe(duplex=False)
        self._process = multiprocessing.Process(
            target=_probe_healthz, args=(url, self._stop, sender)
        )

    def __enter__(self) -> "Prober":
        self._process.start()
        time.sleep(1.0)  # connected and warm before the first phase
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.is_alive() and not self._stop.is_set():
            self._stop.set()
            self._process.join()

    def samples(self) -> list[tuple[float, float, bool]]:
        self._stop.set()
        samples: list[tuple[float, float, bool]] = self._receiver.recv()
        self._process.join()
        return samples


class Memory:
    """Peak resident memory of one process, per phase."""

    def __init__(self, pid: int) -> None:
        self.proc = Path(f"/proc/{pid}")
        self._peak = 0
        self._polling = False
        self._thread: threading.Thread | None = None
        self.method = "VmHWM"

    def _field(self, name: str) -> int:
        for line in (self.proc / "status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * KIB
        raise RuntimeError(f"{name} not in {self.proc}/status")

    def start(self) -> None:
        try:
            (self.proc / "clear_refs").write_text("5")  # reset VmHWM to the current RSS
        except OSError:
            self.method = "VmRSS poll (10 ms)"
        self._peak = self._field("VmRSS")
        self._polling = True
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while self._polling:
            with contextlib.suppress(OSError, RuntimeError):
                self._peak = max(self._peak, self._field("VmRSS"))
            time.sleep(0.01)

    def stop(self) -> int:
        self._polling = False
        if self._thread is not None:
            self._thread.join()
        peak = self._peak
        if self.method == "VmHWM":
            peak = max(peak, self._field("VmHWM"))
        return peak

    def current(self) -> int:
        return self._field("VmRSS")


@dataclass
class Phase:
    name: str
    expect: str
    answers: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    rss_before_mib: float = 0.0
    peak_rss_mib: float = 0.0
    memory_method: str = "VmHWM"
    server_cpu_seconds: float | None = None
    healthz_ms: list[float] = field(default_factory=list)
    healthz_failures: int = 0

    @property
    def healthz_max_ms(self) -> float:
        return max(self.healthz_ms, default=0.0)

    def take_probes(self, samples: list[tuple[float, float, bool]]) -> None:
        """The probes that were in flight at any time during the phase."""
        for started, took, ok in samples:
            if started < self.ended and started + took > self.started:
                self.healthz_ms.append(took * 1000)
                self.healthz_failures += not ok

    def goals(self) -> dict[str, bool]:
        goals = {
            "peak_rss_under_512_mib": self.peak_rss_mib < GOAL_RSS_MIB,
            "healthz_under_200_ms": self.healthz_max_ms < GOAL_HEALTHZ_MS
            and self.healthz_failures == 0,
        }
        if self.expect == "4xx":  # or, over GraphQL, an error with a code
            goals["refused"] = all(
                a["status"] < 500 and (a["status"] >= 400 or a.get("code")) for a in self.answers
            )
        elif self.expect == "200":
            goals["succeeded"] = all(a["status"] == 200 and not a.get("code") for a in self.answers)
        return goals

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.healthz_ms)
        return {
            "answers": self.answers,
            "expected": self.expect,
            "seconds": round(self.ended - self.started, 3),
            "server_cpu_seconds": self.server_cpu_seconds,
            "rss_before_mib": round(self.rss_before_mib, 1),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "memory_method": self.memory_method,
            "healthz_probes": len(ordered),
            "healthz_max_ms": round(self.healthz_max_ms, 1),
            "healthz_median_ms": round(ordered[len(ordered) // 2], 1) if ordered else None,
            "healthz_failures": self.healthz_failures,
            "goals": self.goals(),
        }


def measure(
    server: ServerProcess, name: str, action: Callable[[], list[dict[str, Any]]], expect: str
) -> Phase:
    """Run ``action`` while tracking the server's memory and CPU; /healthz probes are
    assigned to the phase afterwards (:meth:`Phase.take_probes`)."""
    assert server.proc is not None
    memory = Memory(server.proc.pid)
    phase = Phase(name, expect, rss_before_mib=memory.current() / MIB)
    cpu_before = server.cpu_seconds()
    memory.start()
    phase.started = time.monotonic()
    try:
        phase.answers = action()
    finally:
        time.sleep(0.1)  # a probe queued behind the request still counts
        phase.ended = time.monotonic()
        phase.peak_rss_mib = memory.stop() / MIB
        phase.memory_method = memory.method
        cpu_after = server.cpu_seconds()
        if cpu_before is not None and cpu_after is not None:
            phase.server_cpu_seconds = round(cpu_after - cpu_before, 3)
    log(f"{name}: {phase.answers}, peak RSS {phase.peak_rss_mib:.0f} MiB")
    return phase


# ---- requests ------------------------------------------------------------------------


def _answer(status: int, body: bytes, sent: int) -> dict[str, Any]:
    """Status, the error code if any (REST or GraphQL), and how much of the body went out."""
    code = None
    with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError, IndexError):
        data = json.loads(body)
        if "error" in data:
            code = data["error"]["code"]
        elif data.get("errors"):
            extensions = data["errors"][0].get("extensions") or {}
            code = extensions.get("reason") or extensions.get("code")
    return {"status": status, "code": code, "body_mib_sent": round(sent / MIB, 2)}


def stream_post(
    server: ServerProcess, path: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """POST ``body`` from a raw socket, stopping as soon as the server answers.

    An HTTP client that only reads after writing the whole body would report a
    broken pipe here: the server answers early and closes without reading the rest.
    """
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()] + ["", ""]
    sent = 0
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=300) as sock:
        sock.sendall("\r\n".join(head).encode())
        view = memoryview(body)
        while True:
            readable, writable, _ = select.select([sock], [sock] if sent < len(body) else [], [])
            if readable:
                break
            if writable:
                with contextlib.suppress(BlockingIOError):
                    sent += sock.send(view[sent : sent + 256 * KIB])
        with contextlib.suppress(ConnectionError):
            while chunk := sock.recv(65536):
                received += chunk
                if _complete(received):
                    break
    head_bytes, _, payload = received.partition(b"\r\n\r\n")
    status = int(head_bytes.split(b" ", 2)[1]) if head_bytes else 0
    return _answer(status, payload, sent)


def _complete(received: bytes) -> bool:
    head, sep, payload = received.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(payload) >= int(value)
    return False


def empties(size: int, prefix: bytes, item: bytes, suffix: bytes) -> bytes:
    """``prefix item,item,... suffix`` of at most ``size`` bytes."""
    count = (size - len(prefix) - len(suffix)) // (len(item) + 1)
    return prefix + b",".join([item] * count) + suffix


def aliased_versions_query(aliases: int) -> str:
    versions = "versions(first: 500) { edges { node { content } } }"
    fields = " ".join(f'a{i}: file(path: "history.md") {{ {versions} }}' for i in range(aliases))
    return f"query($s: ID!) {{ source(id: $s) {{ {fields} }} }}"


def build_history(api: BenchApi, source_id: str, total: int, version_size: int) -> int:
    """One file whose versions add up to ``total`` bytes of content; returns their count."""
    base: str | None = None
    versions = 0
    while versions * version_size < total:
        text = f"# version {versions}\n" + "a line of history\n" * (version_size // 18 + 1)
        item = {
            "operationId": f"op-{uuid.uuid4()}",
            "relativePath": "history.md",
            "content": text[:version_size],
            "baseHash": base,
        }
        result = api.call("sources/push-batch", {"sourceId": source_id, "items": [item]})
        base = result["results"][0]["hash"]
        versions += 1
    return versions


PUSH_MUTATION = (
    "mutation($s: String!, $i: [PushItemInput!]!) { pushBatch(sourceId: $s, items: $i)"
    " { results { status } } }"
)


def push_items(count: int) -> list[dict[str, str]]:
    return [{"operationId": f"op-{i}", "path": f"{i}.md", "content": "x"} for i in range(count)]


def legit_files(count: int, size: int) -> list[dict[str, Any]]:
    items = []
    for i in range(count):
        line = f"file {i}: a line of ordinary markdown, with words and punctuation.\n"
        content = (line * (size // len(line) + 1))[:size]
        items.append(
            {"operationId": f"op-{uuid.uuid4()}", "relativePath": f"big/{i}.md", "content": content}
        )
    return items


# ---- the run -------------------------------------------------------------------------


@contextlib.contextmanager
def database_for_run(database_url: str | None) -> Iterator[str | None]:
    if database_url is None:
        yield None
    else:
        with fresh_postgres_database(database_url, prefix="localsync_hostile") as url:
            yield url


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL whose server hosts a fresh per-run database (default: SQLite)",
    )
    parser.add_argument("--hostile-mib", type=int, default=64, help="size of each hostile body")
    parser.add_argument("--history-mib", type=int, default=20, help="history behind the aliases")
    parser.add_argument("--aliases", type=int, default=30)
    return parser.parse_args(argv)


@dataclass
class Bodies:
    """Every request body, built before any measuring starts."""

    unauthenticated: bytes
    empty_items: bytes
    graphql_variables: bytes
    graphql_push_items: bytes
    graphql_literal: bytes
    aliased_query: bytes
    legitimate: bytes


def build_bodies(size: int, source_id: str, aliases: int) -> Bodies:
    query = "query($v: [[Int]]) { sources { id } }"
    variables_head = b'{"query": "%s", "variables": {"v": [' % query.encode()
    aliased = {"query": aliased_versions_query(aliases), "variables": {"s": source_id}}
    return Bodies(
        unauthenticated=empties(size, b"[", b"[]", b"]"),
        empty_items=empties(
            size - KIB, b'{"sourceId": "%s", "items": [' % source_id.encode(), b"{}", b"]}"
        ),
        graphql_variables=empties(size - KIB, variables_head, b"[]", b"]}}"),
        graphql_push_items=json.dumps(
            {"query": PUSH_MUTATION, "variables": {"s": source_id, "i": push_items(100_000)}}
        ).encode(),
        graphql_literal=json.dumps(
            {
                "query": 'mutation { registerConnector(name: "%s", platform: "x", version: "1")'
                " { id } }" % ("x" * (size - 4 * MIB))
            }
        ).encode(),
        aliased_query=json.dumps(aliased).encode(),
        legitimate=json.dumps({"sourceId": source_id, "items": legit_files(12, 5 * MIB)}).encode(),
    )


Action = Callable[[], list[dict[str, Any]]]


def actions(server: ServerProcess, api: BenchApi, bodies: Bodies) -> list[tuple[str, Action, str]]:
    """(phase name, what the client sends, the expected answer) in the order they run."""
    push = PREFIX + "sources/push-batch"
    auth = dict(api.headers)

    def unauthenticated() -> list[dict[str, Any]]:
        headers = {"content-type": "application/json"}
        return [stream_post(server, push, headers, bodies.unauthenticated)]

    def unauthenticated_x4() -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        threads = [
            threading.Thread(target=lambda: results.extend(unauthenticated())) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def http_post(path: str, body: bytes) -> list[dict[str, Any]]:
        response = api.http.post(path, content=body)
        answer = _answer(response.status_code, response.content, len(body))
        answer["response_mib"] = round(len(response.content) / MIB, 2)
        if path == push and response.status_code == 200:
            answer["applied"] = response.json()["applied"]
        return [answer]

    def idle() -> list[dict[str, Any]]:
        time.sleep(2.0)
        return []

    return [
        ("idle_baseline", idle, "nothing"),
        ("unauthenticated_64mib", unauthenticated, "4xx"),
        ("unauthenticated_64mib_x4", unauthenticated_x4, "4xx"),
        ("empty_items_64mib", lambda: [stream_post(server, push, auth, bodies.empty_items)], "4xx"),
        (
            "graphql_variables_64mib",
            lambda: [stream_post(server, "/graphql", auth, bodies.graphql_variables)],
            "4xx",
        ),
        (
            "graphql_100k_push_items",
            lambda: [stream_post(server, "/graphql", auth, bodies.graphql_push_items)],
            "4xx",
        ),
        (
            "graphql_60mib_literal",
            lambda: [stream_post(server, "/graphql", auth, bodies.graphql_literal)],
            "4xx",
        ),
        ("aliased_version_content", lambda: http_post("/graphql", bodies.aliased_query), "4xx"),
        ("legitimate_60mib_push", lambda: http_post(push, bodies.legitimate), "200"),
    ]


def run(args: argparse.Namespace) -> dict[str, Any]:
    kind = database_kind(args.database_url)
    phases: list[Phase] = []
    with database_for_run(args.database_url) as url:
        server = ServerProcess(url).start()
        try:
            with BenchApi(server) as api:
                source_id = api.source(str(api.connector()["id"]))
                log(f"building ~{args.history_mib} MiB of history for the aliased query")
                versions = build_history(api, source_id, args.history_mib * MIB, 512 * KIB)
                log("building request bodies")
                bodies = build_bodies(args.hostile_mib * MIB, source_id, args.aliases)
                before = api.call("sources/files", {"sourceId": source_id})
                with Prober(server.url) as prober:
                    for name, action, expect in actions(server, api, bodies):
                        phases.append(measure(server, name, action, expect))
                        if name == "graphql_variables_64mib":
                            after = api.call("sources/files", {"sourceId": source_id})
                    samples = prober.samples()
                for phase in phases:
                    phase.take_probes(samples)
                    log(f"{phase.name}: /healthz max {phase.healthz_max_ms:.0f} ms")
        except BaseException:
            log(f"server log tail:\n{server.log_tail()}")
            raise
        finally:
            server.stop()

    legit = phases[-1].answers[0]
    if legit["status"] == 200 and legit.get("applied") != 12:
        legit["code"] = f"applied {legit.get('applied')} of 12"
    met = {p.name: all(p.goals().values()) for p in phases}
    return {
        "database": kind,
        "goals_met": all(met.values()),
        "goals_met_by_phase": met,
        "peak_rss_mib": {p.name: round(p.peak_rss_mib, 1) for p in phases},
        "healthz_max_ms": {p.name: round(p.healthz_max_ms, 1) for p in phases},
        "answers": {p.name: p.answers for p in phases},
        "files_unchanged_by_refused_bodies": before == after,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "details": {
            "hostile_mib": args.hostile_mib,
            "history_versions": versions,
            "history_mib": round(versions * 512 * KIB / MIB, 1),
            "aliases": args.aliases,
            "phases": {p.name: p.summary() for p in phases},
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    result = run(args)
    log(f"done in {time.perf_counter() - started:.1f}s")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
