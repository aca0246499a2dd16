"""Continuous mode (watch, push, poll, stop on SIGINT) and the status command."""

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from connector.cli import main
from tests.connector.conftest import REPO, Syncer, source_id, write
from tests.factories import Api


def eventually(check: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Poll until ``check`` holds; the limit only bounds a hung test, it asserts no timing."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def test_daemon_pushes_pulls_and_stops_cleanly(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "first.md", "first\n")
    args = [a for a in syncer.args(a) if a != "--once"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", *args, "--poll-interval", "0.2"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        eventually(lambda: (a / ".localsync" / "config.json").exists(), "registration")
        sid = source_id(a)

        def on_server(path: str) -> bool:
            return path in {f["relativePath"] for f in api.files(sid)}

        eventually(lambda: on_server("first.md"), "initial push")
        for i in range(5):  # a burst, debounced into one batch
            write(a, f"burst/{i}.md", f"{i}\n")
        eventually(lambda: all(on_server(f"burst/{i}.md") for i in range(5)), "watched push")
        api.update(sid, "from-raven.md", "remote\n")
        eventually(lambda: (a / "from-raven.md").exists(), "pulled remote file")
        assert (a / "from-raven.md").read_text() == "remote\n"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped cleanly" in err


def test_status_reports_ids_pending_and_conflicts(syncer: Syncer, api: Api, tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    write(a, "c.md", "# T\nbase\n")
    assert syncer.once(a).exit_code == 0
    sid = source_id(a)
    from tests.factories import sha

    api.update(sid, "c.md", "# T\nremote\n", base=sha("# T\nbase\n"))
    write(a, "c.md", "# T\nlocal\n")
    assert syncer.once(a).exit_code == 1
    result = CliRunner().invoke(main, ["status", str(a), "--token", syncer.token])
    assert result.exit_code == 0, result.output
    assert sid in result.output
    assert "reachable" in result.output
    assert "pending:     0" in result.output
    assert "1 open" in result.output and "c.md" in result.output
