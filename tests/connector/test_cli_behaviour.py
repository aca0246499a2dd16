"""What ``localsync sync`` tells the user: exit codes and how much it logs."""

from pathlib import Path

from tests.connector.conftest import Syncer, eventually, source_id, write
from tests.factories import Api, upsert

NO_POLL = ("--poll-interval", "60", "--heartbeat-interval", "60")


def test_a_paused_source_exits_4_even_with_nothing_pending(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "n.md", "v1\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    api.call("sources/pause", {"sourceId": sid})

    idle = syncer.once(a)
    assert idle.exit_code == 4, idle.output
    assert "paused" in idle.output

    write(a, "n.md", "v2 while paused\n")
    busy = syncer.once(a)
    assert busy.exit_code == 4, busy.output
    assert "1 change(s) journaled until it resumes" in busy.output
    assert api.file(sid, "n.md")["content"] == "v1\n"

    api.call("sources/resume", {"sourceId": sid})
    assert syncer.once(a).exit_code == 0
    assert api.file(sid, "n.md")["content"] == "v2 while paused\n"


def _following(log: str) -> bool:
    return "following source events" in log


def test_verbose_shows_the_connector_not_the_network_libraries(
    syncer: Syncer, api: Api, tmp_path: Path
) -> None:
    logs: dict[str, str] = {}
    for flag in ("-v", "-vv"):
        a = tmp_path / flag.strip("-")
        a.mkdir()
        write(a, "n.md", "v1\n")
        args = (*NO_POLL, "--source-name", f"Verbose {flag}", flag)
        with syncer.daemon(a, *args) as daemon:
            eventually(lambda: _following(daemon.log), "live feed connected")
            sid = source_id(a)
            eventually(lambda: bool(api.files(sid)), "initial push")  # noqa: B023
            api.push(sid, upsert("remote.md", "from elsewhere\n", None))
            eventually(lambda: (a / "remote.md").exists(), "remote edit written")  # noqa: B023
            assert daemon.stop() == 0, daemon.log
            logs[flag] = daemon.log
    # -vv shows what the network libraries say (the check below can see them)...
    assert "= connection is OPEN" in logs["-vv"]
    # ...-v keeps them quiet and still shows the connector's own debug lines.
    quiet = logs["-v"]
    assert "= connection is OPEN" not in quiet and "< TEXT" not in quiet and "> TEXT" not in quiet
    assert "<<< " not in quiet and ">>> " not in quiet  # gql's transport log
    assert "following source events" in quiet
    assert len(quiet.splitlines()) < len(logs["-vv"].splitlines())
    # The feed's messages carry the token: no level prints them.
    assert "Bearer" not in logs["-vv"]
