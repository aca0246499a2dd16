"""Following the server's ``sourceEvents`` subscription, as wake-ups only.

A bidirectional source's events are also readable through REST ``sources/deltas``
from the journal's cursor, and that stays the single path by which remote changes
are applied (in cursor order, with the cursor saved in the same transaction). The
subscription only shortens the wait: each event it delivers past the last pulled
cursor calls ``notify``, and the daemon pulls deltas right away instead of at the
next poll.

The subscription runs on its own thread with its own asyncio loop (gql's
``WebsocketsTransport``, graphql-transport-ws, credentials in ``connection_init``).
When it cannot connect, or the connection drops, ``live`` is cleared, ``notify``
is called (so the daemon pulls once and goes back to polling at the normal
interval) and the connection is retried after a capped, jittered backoff.

When the server ends the feed because of the token (close 4401: refused or
expired; 4403: the workspace is not granted), reconnecting would need a fresh
token, and the connector's comes from its start (``--token`` or
``LOCALSYNC_TOKEN``) and cannot change while it runs. Retrying would only be
refused again, so the subscription stops for good, saying why and what to do in
the log, and the daemon keeps polling deltas.
"""

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from gql import Client as GqlClient
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("connector")

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
AUTH_CLOSES = frozenset({CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN})
"""graphql-transport-ws close codes meaning the credentials, not the network, failed."""

SUBSCRIPTION = """
subscription ($source: String!, $after: Int!) {
  sourceEvents(sourceId: $source, after: $after) { cursor type path }
}
"""


def ws_url(server: str) -> str:
    """``http(s)://host[:port][/prefix]`` → ``ws(s)://host[:port][/prefix]/graphql``."""
    base = server.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + "/graphql"


class Subscription:
    """``sourceEvents`` on a background thread; ``notify()`` is called for each new event."""

    def __init__(
        self,
        server: str,
        token: str,
        workspace: str,
        source_id: str,
        after: Callable[[], int],
        notify: Callable[[], None],
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
    ) -> None:
        self.url = ws_url(server)
        self.init_payload = {"Authorization": f"Bearer {token}", "x-workspace-id": workspace}
        self.source_id = source_id
        self.after = after
        self.notify = notify
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.live = threading.Event()
        """Set while the subscription is connected and acknowledged."""
        self.events_seen = 0
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._thread_main, name="sourceEvents", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if not self._thread.is_alive():
            return
        self._ready.wait(5)
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=15)

    # ---- the subscription thread ------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # never take the daemon down; polling carries on
            log.exception("event subscription thread failed; polling only")
        finally:
            self.live.clear()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._ready.set()
        if self._stopping.is_set():
            return
        with contextlib.suppress(asyncio.CancelledError):
            await self._follow_forever()

    async def _follow_forever(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            refused = False
            try:
                await self._follow_once()
                reason = "the server closed the subscription"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                code, why = _close_frame(exc)
                if code in AUTH_CLOSES:
                    self._give_up(f"{why or 'credentials refused'} (close {code})")
                    return
                # The server answered the subscription with an error (a cap, say):
                # connected, but not following, so back off as for a failed connect.
                refused = isinstance(exc, TransportQueryError)
            connected = self.live.is_set()
            self.live.clear()
            if self._stopping.is_set():
                return
            dropped = connected and not refused
            failures = 0 if dropped else failures + 1
            delay = self._delay(failures)
            if connected:
                self.notify()  # pull now, then poll at the normal interval
            if dropped:
                log.warning("event subscription dropped (%s); polling, reconnecting", reason)
            else:
                log.info("event subscription unavailable (%s); retry in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    def _give_up(self, why: str) -> None:
        """Stop following: the same credentials would only be refused again."""
        self.live.clear()
        log.error(
            "event subscription ended by the server: %s. The token given at start cannot be "
            "renewed while the connector runs, so it is not retried; remote changes are polled "
            "instead, which the server refuses too once the token is invalid. Restart the "
            "connector with a fresh token (--token or LOCALSYNC_TOKEN).",
            why,
        )
        self.notify()  # the daemon pulls now and polls from here on

    def _delay(self, failures: int) -> float:
        """Capped exponential backoff with jitter in its upper half (never a tight loop)."""
        ceiling = min(self.retry_cap, self.retry_base * (1 << min(failures, 16)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _follow_once(self) -> None:
        transport = WebsocketsTransport(
            url=self.url,
            init_payload=self.init_payload,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=10,
            ack_timeout=10,
            ping_interval=15,
            pong_timeout=15,
        )
        after = self.after()
        request = GraphQLRequest(
            SUBSCRIPTION, variable_values={"source": self.source_id, "after": after}
        )
        async with GqlClient(transport=transport) as session:
            self.live.set()
            log.info("following source events over %s (after cursor %d)", self.url, after)
            self.notify()  # anything that landed while not connected is pulled now
            results: Any = session.subscribe(request)
            async for result in results:
                event = result.get("sourceEvents") or {}
                self.events_seen += 1
                if int(event.get("cursor") or 0) > self.after():
                    self.notify()


def _close_frame(exc: BaseException) -> tuple[int | None, str]:
    """The close code and reason the server sent, found under gql's wrapping errors."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionClosed) and seen.rcvd is not None:
            return seen.rcvd.code, seen.rcvd.reason
        seen = seen.__cause__ or seen.__context__
    return None, ""
