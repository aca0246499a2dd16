"""Nothing lost, nothing doubled: server outages and kill -9 around the push."""

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.engine import FAULT_ENV
from tests.conftest import LiveServer
from tests.connector.conftest import Syncer, source_id, tree, write
from tests.factories import Api


def test_server_outage_mid_sync_delivers_exactly_once(
    own_server: Callable[[int | None], LiveServer], api: Api, tmp_path: Path
) -> None:
    server = own_server(None)
    syncer = Syncer(server.url, api.token, api.workspace)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a, "kept.md", "v1\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)

    server.stop()
    write(a, "kept.md", "v2 while the server is down\n")
    write(a, "new.md", "new while down\n")
    down = syncer.once(a)
    assert down.exit_code == 3, down.output
    assert "journaled" in down.output

    restarted = own_server(server.port)
    assert restarted.url == server.url
    assert syncer.once(a).exit_code == 0
    assert syncer.once(a).exit_code == 0
    assert [v["content"] for v in api.history(sid, "kept.md")] == [
        "v2 while the server is down\n",
        "v1\n",
    ]
    assert len(api.history(sid, "new.md")) == 1
    assert syncer.once(b).exit_code == 0
    assert tree(b) == tree(a)


@pytest.mark.parametrize("fault", ["after-journal", "after-push"])
def test_sigkill_around_push_loses_and_doubles_nothing(
    syncer: Syncer, api: Api, tmp_path: Path, fault: str
) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "base.md", "base\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    write(a, "base.md", "edited before the kill\n")
    for i in range(150):  # more than one batch
        write(a, f"many/{i:03}.md", f"file {i}\n")

    killed = syncer.subprocess(a, env={FAULT_ENV: fault})
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    restarted = syncer.subprocess(a)
    assert restarted.returncode == 0, restarted.stderr
    files = {f["relativePath"] for f in api.files(sid)}
    assert files == {"base.md", *(f"many/{i:03}.md" for i in range(150))}
    assert [v["content"] for v in api.history(sid, "base.md")] == [
        "edited before the kill\n",
        "base\n",
    ]
    for i in (0, 99, 100, 149):
        assert len(api.history(sid, f"many/{i:03}.md")) == 1
    events = api.deltas(sid)
    upserts = [e for e in events if e["type"] == "file.upsert"]
    assert len(upserts) == 152  # base.md twice, every new file once
