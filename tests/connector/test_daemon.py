"""Continuous mode (watch, push, live events, poll, heartbeat, pause, stop) and ``status``.

Daemons here mostly run with ``--poll-interval 3600``: within a test's wait no
poll after the first one fires, so a remote change that reaches the folder can
only have come through the ``sourceEvents`` subscription waking a pull.
"""

import json
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from click.testing import CliRunner

from connector.cli import main
from tests.conftest import LiveServer
from tests.connector.conftest import Syncer, eventually, source_id, write
from tests.factories import Api, sha

NO_POLL = ("--poll-interval", "3600")


def on_server(api: Api, folder: Path, path: str) -> bool:
    return path in {f["relativePath"] for f in api.files(source_id(folder))}


def registered(folder: Path) -> Callable[[], bool]:
    return lambda: (folder / ".localsync" / "config.json").exists()


def status_of(folder: Path, token: str) -> str:
    result = CliRunner().invoke(main, ["status", str(folder), "--token", token])
    assert result.exit_code == 0, result.output
    return result.output


def test_daemon_pushes_pulls_and_stops_cleanly(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "first.md", "first\n")
    with syncer.daemon(a, "--poll-interval", "0.2") as daemon:
        eventually(registered(a), "registration")
        sid = source_id(a)
        eventually(lambda: on_server(api, a, "first.md"), "initial push")
        for i in range(5):  # a burst, debounced into one batch
            write(a, f"burst/{i}.md", f"{i}\n")
        eventually(
            lambda: all(on_server(api, a, f"burst/{i}.md") for i in range(5)), "watched push"
        )
        api.update(sid, "from-raven.md", "remote\n")
        eventually(lambda: (a / "from-raven.md").exists(), "pulled remote file")
        assert (a / "from-raven.md").read_text() == "remote\n"
        assert daemon.stop(signal.SIGINT) == 0, daemon.log
    assert "stopped cleanly" in daemon.log


def test_raven_edit_arrives_through_the_event_subscription(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "doc.md", "# Doc\n\nbody\n")
    with syncer.daemon(a, *NO_POLL) as daemon:
        eventually(registered(a), "registration")
        sid = source_id(a)
        eventually(lambda: on_server(api, a, "doc.md"), "initial push")
        eventually(lambda: "following source events" in daemon.log, "subscription up")
        api.update(sid, "raven-new.md", "made in Raven\n")
        api.update(sid, "doc.md", "# Doc\n\nbody, edited in Raven\n", base=sha("# Doc\n\nbody\n"))
        eventually(lambda: (a / "raven-new.md").exists(), "new remote file written")
        eventually(
            lambda: (a / "doc.md").read_text() == "# Doc\n\nbody, edited in Raven\n",
            "remote edit written",
        )
        assert (a / "raven-new.md").read_text() == "made in Raven\n"
        assert daemon.stop() == 0, daemon.log
    # Applied once, from the deltas: no echo pushed back as a new version.
    assert len(api.history(sid, "doc.md")) == 2
    assert len(api.history(sid, "raven-new.md")) == 1


def test_subscription_reconnects_after_the_server_restarts(
    own_server: Callable[[int | None], LiveServer], api: Api, tmp_path: Path
) -> None:
    server = own_server(None)
    syncer = Syncer(server.url, api.token, api.workspace)
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "n\n")
    with syncer.daemon(a, *NO_POLL) as daemon:
        eventually(registered(a), "registration")
        sid = source_id(a)
        eventually(lambda: on_server(api, a, "n.md"), "initial push")
        eventually(lambda: "following source events" in daemon.log, "subscription up")
        server.stop()
        eventually(lambda: "event subscription dropped" in daemon.log, "drop noticed")
        own_server(server.port)
        eventually(lambda: daemon.log.count("following source events") >= 2, "reconnected")
        # ``api`` writes through the session's server, which shares the database.
        api.update(sid, "after-restart.md", "written after reconnecting\n")
        eventually(lambda: (a / "after-restart.md").exists(), "edit after the restart arrives")
        assert daemon.stop() == 0, daemon.log


def test_without_watching_periodic_rescans_find_changes(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "first.md", "first\n")
    with syncer.daemon(a, "--no-watch", "--rescan-interval", "0.3", *NO_POLL) as daemon:
        eventually(registered(a), "registration")
        eventually(lambda: on_server(api, a, "first.md"), "initial push")
        write(a, "later.md", "found by a rescan\n")
        write(a, "first.md", "first, edited\n")
        eventually(lambda: on_server(api, a, "later.md"), "rescan push")
        sid = source_id(a)
        eventually(lambda: api.file(sid, "first.md")["content"] == "first, edited\n", "rescan edit")
        assert daemon.stop() == 0, daemon.log
    assert "watching disabled" in daemon.log


def heartbeats(server_url: str, api: Api) -> dict[str, str | None]:
    """Each connector's ``lastHeartbeatAt``, read through GraphQL (reading does not touch it)."""
    response = httpx.post(
        server_url + "/graphql",
        json={"query": "{ connectors { id lastHeartbeatAt } }"},
        headers=api.headers,
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return {c["id"]: c["lastHeartbeatAt"] for c in body["data"]["connectors"]}


def test_heartbeat_advances_while_running(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "n\n")
    with syncer.daemon(a, "--heartbeat-interval", "0.2", *NO_POLL) as daemon:
        eventually(registered(a), "registration")
        connector = json.loads((a / ".localsync" / "config.json").read_text())["connector_id"]
        eventually(lambda: heartbeats(syncer.url, api).get(connector) is not None, "a heartbeat")
        seen: list[datetime] = []

        def advanced() -> bool:
            value = heartbeats(syncer.url, api)[connector]
            assert value is not None
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if not seen or stamp != seen[-1]:
                seen.append(stamp)
            return len(seen) >= 3

        eventually(advanced, "heartbeat advancing")
        assert seen == sorted(seen)
        assert daemon.stop() == 0, daemon.log


def test_paused_source_journals_then_pushes_after_resume(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "v1\n")
    with syncer.daemon(a, *NO_POLL) as daemon:
        eventually(registered(a), "registration")
        sid = source_id(a)
        eventually(lambda: on_server(api, a, "n.md"), "initial push")
        api.call("sources/pause", {"sourceId": sid})
        write(a, "n.md", "v2 while paused\n")
        write(a, "new.md", "new while paused\n")
        eventually(lambda: "pending:     2 operation(s)" in status_of(a, api.token), "journaled")
        eventually(lambda: "stay journaled" in daemon.log, "push refused while paused")
        assert api.file(sid, "n.md")["content"] == "v1\n"
        assert not on_server(api, a, "new.md")
        api.call("sources/resume", {"sourceId": sid})
        eventually(lambda: on_server(api, a, "new.md"), "pushed after resume")
        eventually(lambda: api.file(sid, "n.md")["content"] == "v2 while paused\n", "edit pushed")
        eventually(lambda: "pending:     0 operation(s)" in status_of(a, api.token), "drained")
        assert daemon.stop() == 0, daemon.log
    assert [v["content"] for v in api.history(sid, "n.md")] == ["v2 while paused\n", "v1\n"]


def test_sigterm_stops_cleanly_and_loses_nothing(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "first.md", "first\n")
    with syncer.daemon(a, *NO_POLL) as daemon:
        eventually(registered(a), "registration")
        sid = source_id(a)
        eventually(lambda: on_server(api, a, "first.md"), "initial push")
        for i in range(120):  # more than a batch, still being written when the signal lands
            write(a, f"late/{i:03}.md", f"late {i}\n")
        assert daemon.stop(signal.SIGTERM) == 0, daemon.log
    assert "received SIGTERM" in daemon.log
    assert "stopped cleanly" in daemon.log
    # Whatever had not gone out is found again (or was journaled) and pushed once.
    result = syncer.once(a)
    assert result.exit_code == 0, result.output
    files = {f["relativePath"] for f in api.files(sid)}
    assert files == {"first.md", *(f"late/{i:03}.md" for i in range(120))}
    for i in (0, 99, 100, 119):
        assert len(api.history(sid, f"late/{i:03}.md")) == 1


def test_status_reports_ids_pending_and_conflicts(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "c.md", "# T\nbase\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.update(sid, "c.md", "# T\nremote\n", base=sha("# T\nbase\n"))
    write(a, "c.md", "# T\nlocal\n")
    assert syncer.once(a).exit_code == 1
    output = status_of(a, syncer.token)
    (conflict,) = api.conflicts(sid)
    lines = output.splitlines()
    assert f"source:      {sid} Notes" in lines
    assert "mode:        bidirectional" in lines
    assert "pending:     0 operation(s)" in lines
    assert f"server:      {syncer.url} reachable" in lines
    assert "status:      active" in lines
    assert "conflicts:   1 open" in lines
    assert f"  c.md  ({conflict['id']}, {conflict['reason']})" in lines


def test_status_offline_shows_journaled_work(
    own_server: Callable[[int | None], LiveServer], api: Api, tmp_path: Path
) -> None:
    server = own_server(None)
    syncer = Syncer(server.url, api.token, api.workspace)
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "v1\n")
    assert syncer.once(a).exit_code == 0
    server.stop()
    write(a, "n.md", "v2 offline\n")
    assert syncer.once(a).exit_code == 3
    output = status_of(a, api.token)
    assert "pending:     1 operation(s)" in output
    assert f"server:      {server.url} unreachable" in output
