"""The client's typed errors, chosen from the server's extensions.code, and its paging."""

import ssl
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.factories import Api, delete, sha, upsert
from tests.tui.conftest import three_region_conflict
from tui.client import (
    AlreadyResolved,
    Decision,
    Forbidden,
    HttpError,
    LocalSyncClient,
    NoGraphQLEndpoint,
    NotFound,
    ServerUnreachable,
    StaleRevision,
    StateConflict,
    TooMuchAtOnce,
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


async def test_http_status_without_graphql_is_not_unreachable(client: LocalSyncClient) -> None:
    # The client posts to <server>/graphql: the live server has no /nope/graphql.
    wrong = LocalSyncClient(client.server + "/nope", client.token, client.workspace)
    with pytest.raises(HttpError) as caught:
        await wrong.sources()
    assert isinstance(caught.value, NoGraphQLEndpoint)
    assert caught.value.status == 404
    assert "HTTP 404 Not Found" in caught.value.message


async def test_server_error_status_is_in_the_message(api: Api, bad_gateway: str) -> None:
    client = LocalSyncClient(bad_gateway, api.token, api.workspace)
    with pytest.raises(HttpError) as caught:
        await client.sources()
    assert not isinstance(caught.value, NoGraphQLEndpoint)
    assert caught.value.status == 502
    assert "HTTP 502 Bad Gateway" in caught.value.message


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


def record_requests(client: LocalSyncClient, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Note every request ``client`` sends, to see how many pages a call took."""
    sent: list[object] = []
    execute = client._execute

    async def recording(*args: Any, **variables: Any) -> Any:
        sent.append(variables)
        return await execute(*args, **variables)

    monkeypatch.setattr(client, "_execute", recording)
    return sent


async def test_files_lists_deleted_ones_across_pages(
    api: Api, client: LocalSyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("a.md", "a\n"), upsert("b.md", "b\n"), upsert("c.md", "c\n"))
    api.push(sid, upsert("d.md", "d\n"))
    api.push(sid, delete("b.md", base=sha("b\n")), delete("d.md", base=sha("d\n")))

    sent = record_requests(client, monkeypatch)
    files = await client.files(sid, page_size=1)

    assert [(f.path, f.state) for f in files] == [
        ("a.md", "OK"),
        ("b.md", "DELETED"),
        ("c.md", "OK"),
        ("d.md", "DELETED"),
    ]
    assert len(sent) == 2  # both listings in each request, each two pages long
    assert files == await client.files(sid)


async def test_versions_pages_through_the_whole_history(
    api: Api, client: LocalSyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = api.source()["id"]
    texts = [f"version {n}\n" for n in range(5)]
    base: str | None = None
    for text in texts:
        api.push(sid, upsert("a.md", text, base=base))
        base = sha(text)

    sent = record_requests(client, monkeypatch)
    versions = await client.versions(sid, "a.md", page_size=2)

    assert [v.hash for v in versions] == [sha(t) for t in reversed(texts)]
    seqs = [v.seq for v in versions]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 5
    assert len(sent) == 3
    assert versions == await client.versions(sid, "a.md")


async def test_open_conflicts_pages_each_source(
    api: Api, client: LocalSyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = api.source(name="Busy")["id"]
    quiet = api.source(name="Quiet")["id"]
    made = [api.open_conflict(busy, f"notes/clash-{n}.md")["id"] for n in range(3)]
    made.append(api.open_conflict(quiet)["id"])

    sent = record_requests(client, monkeypatch)
    conflicts = await client.open_conflicts(page_size=2)

    assert sorted(c.id for c in conflicts) == sorted(made)
    assert [c.created_at for c in conflicts] == sorted(c.created_at for c in conflicts)
    names = {c.id: c.source_name for c in conflicts}
    assert [names[i] for i in made] == ["Busy", "Busy", "Busy", "Quiet"]
    assert len(sent) == 2  # every source's first page, then the busy one's second
    assert conflicts == await client.open_conflicts()


async def test_refusals_for_size_and_cost_say_what_to_do(
    api: Api, start_server: Callable[..., LiveServer]
) -> None:
    sid = api.source()["id"]
    api.push(sid, upsert("big.md", "x" * 2000))
    small = start_server(graphql_max_response_bytes=1000)
    client = LocalSyncClient(small.url, api.token, api.workspace)
    with pytest.raises(TooMuchAtOnce) as large:
        await client.file(sid, "big.md")
    assert large.value.code == "RESPONSE_TOO_LARGE"
    assert "1,000 bytes of text" in large.value.message
    assert "LOCALSYNC_GRAPHQL_MAX_RESPONSE_BYTES" in large.value.message
    cheap = start_server(graphql_max_cost=1)
    with pytest.raises(TooMuchAtOnce) as costly:
        await LocalSyncClient(cheap.url, api.token, api.workspace).open_conflicts()
    assert costly.value.code == "QUERY_TOO_COSTLY"
    assert "the server allows 1)" in costly.value.message


def test_plain_http_loads_no_tls_and_https_shares_one_context(client: LocalSyncClient) -> None:
    """Building a TLS context per request cost 40-400 ms a call: http builds none, https one."""
    assert client._transport().kwargs["verify"] is False
    secure = LocalSyncClient("https://sync.example.org", client.token, client.workspace)
    first, second = secure._transport(), secure._transport()
    assert isinstance(first.kwargs["verify"], ssl.SSLContext)
    assert first.kwargs["verify"] is second.kwargs["verify"]
    other = LocalSyncClient("https://other.example.org", client.token, client.workspace)
    assert other._transport().kwargs["verify"] is first.kwargs["verify"]
