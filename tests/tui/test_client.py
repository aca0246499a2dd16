"""The client's typed errors, chosen from the server's extensions.code."""

import pytest

from tests.factories import Api, sha, upsert
from tests.tui.conftest import three_region_conflict
from tui.client import (
    AlreadyResolved,
    Decision,
    Forbidden,
    LocalSyncClient,
    NotFound,
    ServerUnreachable,
    StaleRevision,
    StateConflict,
    Unauthenticated,
)


async def test_unreachable(api: Api, closed_port: int) -> None:
    client = LocalSyncClient(f"http://127.0.0.1:{closed_port}", api.token, api.workspace)
    with pytest.raises(ServerUnreachable):
        await client.sources()


async def test_auth_errors(client: LocalSyncClient) -> None:
    with pytest.raises(Unauthenticated):
        await LocalSyncClient(client.server, "garbage", client.workspace).sources()
    with pytest.raises(Forbidden):
        await LocalSyncClient(client.server, client.token, "ws-not-mine").sources()


async def test_not_found(client: LocalSyncClient) -> None:
    with pytest.raises(NotFound):
        await client.conflict("00000000-0000-0000-0000-000000000000")


async def test_resolve_refuses_stale_revision_then_resolved(
    api: Api, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    conflict = await client.conflict(three_region_conflict(api, sid)["id"])
    decisions = [Decision(1, "LOCAL"), Decision(2, "RAVEN"), Decision(3, "BASE")]
    preview = await client.apply_decisions(conflict.id, decisions)
    assert preview.unresolved == 0
    with pytest.raises(StaleRevision):
        await client.resolve_conflict(
            conflict.id, revision=conflict.revision + 1, decisions=decisions
        )
    outcome = await client.resolve_conflict(
        conflict.id, revision=conflict.revision, decisions=decisions
    )
    assert outcome.status == "RESOLVED" and outcome.resolution == "manual_merge"
    assert api.file(sid, conflict.path)["content"] == preview.text
    with pytest.raises(AlreadyResolved):
        await client.resolve_conflict(
            conflict.id, revision=conflict.revision, whole_file="KEEP_LOCAL"
        )


async def test_pause_refuses_raven_restore_on_paused_source(
    api: Api, client: LocalSyncClient
) -> None:
    sid = api.source()["id"]
    paused = await client.pause_source(sid)
    assert paused.status == "PAUSED"
    assert (await client.resume_source(sid)).status == "ACTIVE"
    ro = api.source(mode="import_only")["id"]
    api.push(ro, upsert("a.md", "one\n"))
    with pytest.raises(StateConflict):
        await client.restore_version(ro, "a.md", sha("one\n"))


async def test_events_replay_in_order(api: Api, client: LocalSyncClient) -> None:
    sid = api.source()["id"]
    three_region_conflict(api, sid)
    seen: list[tuple[int, str]] = []
    async for event in client.events(sid, 0):
        seen.append((event.cursor, event.type))
        if len(seen) == 3:
            break
    assert seen == [(1, "file.upsert"), (2, "file.upsert"), (3, "conflict.opened")]
