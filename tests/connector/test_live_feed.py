"""The daemon's live feed when the server ends or refuses it: it falls back to polling.

The connector's token comes from its start (``--token`` / ``LOCALSYNC_TOKEN``)
and cannot be renewed while it runs, so a feed the server closes for the token
(4401) is not retried: the log says why and what to do, and deltas are polled.
A feed refused for another reason (the token's subscription cap) is retried
with backoff while polling keeps the folder converging.
"""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from gql import GraphQLRequest

from tests.conftest import LiveServer
from tests.connector.conftest import Syncer, eventually, source_id, write
from tests.factories import Api, upsert
from tests.graphql.conftest import open_ws
from tests.graphql.test_auth import _token

POLL = ("--poll-interval", "0.3")
ENDED = "event subscription ended by the server"


def test_feed_closed_at_token_expiry_is_not_retried(
    api: Api, live_server: LiveServer, tmp_path: Path
) -> None:
    short = _token(api.settings, api.workspace, exp=int(time.time()) + 6)
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "n\n")
    with Syncer(live_server.url, short, api.workspace).daemon(a, *POLL) as daemon:
        eventually(lambda: "following source events" in daemon.log, "subscription up")
        eventually(lambda: ENDED in daemon.log, "feed ended at expiry")
        assert f"{ENDED}: token expired (close 4401)" in daemon.log
        assert "Restart the connector with a fresh token" in daemon.log

        def after_close() -> str:
            return daemon.log.split(ENDED, 1)[1]

        # Polling goes on (and is refused, the token being expired): wait for a few polls.
        eventually(lambda: after_close().count("token has expired") >= 3, "polls after the close")
        assert "following source events" not in after_close()
        assert "event subscription unavailable" not in after_close(), "retried the feed"
        assert daemon.stop() == 0, daemon.log


async def test_refused_feed_falls_back_to_polling_and_converges(
    api: Api, start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server(max_subscriptions_per_token=1)
    held = api.source()["id"]
    api.push(held, upsert("held.md", "held\n"))
    payload = {"Authorization": f"Bearer {api.token}", "x-workspace-id": api.workspace}
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "n\n")
    async with open_ws(server, payload) as gq:
        # This test holds the token's only subscription, so the daemon's is refused.
        request = GraphQLRequest(
            "subscription($s: String!) { sourceEvents(sourceId: $s) { cursor } }",
            variable_values={"s": held},
        )
        holding = gq.session.subscribe(request)
        assert await asyncio.wait_for(holding.__anext__(), 30)  # running: the slot is taken
        with Syncer(server.url, api.token, api.workspace).daemon(a, *POLL) as daemon:

            def wait(check: Callable[[], bool], what: str) -> "asyncio.Future[None]":
                return asyncio.ensure_future(asyncio.to_thread(eventually, check, what))

            await wait(lambda: "TOO_MANY_SUBSCRIPTIONS" in daemon.log, "feed refused")
            sid = source_id(a)
            api.update(sid, "remote.md", "made elsewhere\n")
            await wait(lambda: (a / "remote.md").exists(), "remote edit pulled by polling")
            assert (a / "remote.md").read_text() == "made elsewhere\n"
            # A refusal is retried with a growing backoff, not taken for a dropped feed.
            await wait(lambda: daemon.log.count("TOO_MANY_SUBSCRIPTIONS") >= 2, "retried")
            retries = [line for line in daemon.log.splitlines() if "TOO_MANY" in line]
            assert all("event subscription unavailable" in line for line in retries), retries
            assert await asyncio.to_thread(daemon.stop) == 0, daemon.log
        await holding.aclose()
