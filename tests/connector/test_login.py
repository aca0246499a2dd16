"""``localsync login`` / ``logout``: the token kept in the OS keyring or a private file."""

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.core
import pytest
from click.testing import CliRunner, Result

from connector.cli import main
from tests.conftest import LiveServer
from tests.connector.conftest import REPO, env_without_localsync, source_id, write
from tests.connector.memory_keyring import MemoryKeyring
from tests.factories import Api

FAIL_BACKEND = "keyring.backends.fail.Keyring"
MEMORY_BACKEND = "tests.connector.memory_keyring.MemoryKeyring"


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user config dir, and no LOCALSYNC_* variable leaking in."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("LOCALSYNC_"):
            monkeypatch.delenv(name)
    return home


def _use_backend(monkeypatch: pytest.MonkeyPatch, backend: str) -> Iterator[None]:
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    keyring.core.init_backend()  # keyring reads the variable when it picks a backend
    try:
        yield
    finally:
        keyring.core.set_keyring(previous)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], str]]:
    MemoryKeyring.store.clear()
    for _ in _use_backend(monkeypatch, MEMORY_BACKEND):
        yield MemoryKeyring.store
    MemoryKeyring.store.clear()


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _use_backend(monkeypatch, FAIL_BACKEND)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def sync_args(folder: Path, *extra: str) -> list[str]:
    return ["sync", str(folder), "--once", "--retries", "2", "--source-name", "Notes", *extra]


def test_login_keeps_the_token_in_the_keyring_and_sync_status_use_it(
    live_server: LiveServer,
    api: Api,
    config_home: Path,
    memory_keyring: dict[tuple[str, str], str],
    tmp_path: Path,
) -> None:
    result = run("login", "--server", live_server.url + "/", "--workspace", api.workspace,
                 "--token", api.token)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert memory_keyring == {("localsync", f"{live_server.url} {api.workspace}"): api.token}
    # The file keeps only which server and workspace were logged into, never the token.
    saved = (config_home / "localsync" / "credentials.json").read_text()
    assert api.token not in saved
    assert json.loads(saved)["last"] == {"server": live_server.url, "workspace": api.workspace}

    folder = tmp_path / "notes"
    folder.mkdir()
    write(folder, "a.md", "hello\n")
    synced = run(*sync_args(folder))  # no --token, --server or --workspace
    assert synced.exit_code == 0, synced.output
    assert [f["relativePath"] for f in api.files(source_id(folder))] == ["a.md"]
    status = run("status", str(folder))
    assert status.exit_code == 0, status.output
    assert f"{live_server.url} reachable" in status.output

    out = run("logout")
    assert out.exit_code == 0 and "logged out" in out.output, out.output
    assert memory_keyring == {}
    refused = run(*sync_args(folder))
    assert refused.exit_code == 2
    assert "no token given and none stored" in refused.output
    assert f"localsync login --server {live_server.url} --workspace {api.workspace}" in (
        refused.output
    )


def test_without_a_keyring_the_token_goes_to_a_private_file_with_a_warning(
    live_server: LiveServer, api: Api, tmp_path: Path
) -> None:
    env = {
        **env_without_localsync(),
        "PYTHON_KEYRING_BACKEND": FAIL_BACKEND,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "connector.cli", *args]
        return subprocess.run(
            command, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=120
        )

    # No --token: asked for on the terminal.
    login = cli("login", "--server", live_server.url, "--workspace", api.workspace,
                stdin=api.token + "\n")  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "warning: no usable keyring" in login.stderr
    path = tmp_path / "config" / "localsync" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = json.loads(path.read_text())["tokens"]
    assert tokens == {f"{live_server.url} {api.workspace}": api.token}

    folder = tmp_path / "notes"
    folder.mkdir()
    write(folder, "a.md", "hello\n")
    synced = cli(*sync_args(folder))
    assert synced.returncode == 0, synced.stderr
    assert [f["relativePath"] for f in api.files(source_id(folder))] == ["a.md"]

    assert cli("logout", "--server", live_server.url, "--workspace", api.workspace).returncode == 0
    assert json.loads(path.read_text()).get("tokens") == {}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cli(*sync_args(folder)).returncode == 2


def test_login_checks_the_token_first(
    live_server: LiveServer, api: Api, config_home: Path, no_keyring: None
) -> None:
    wrong = run("login", "--server", live_server.url, "--workspace", api.workspace,
                "--token", "not-a-jwt")  # fmt: skip
    assert wrong.exit_code == 1
    assert "refused the token (401" in wrong.output and "nothing stored" in wrong.output
    other = run("login", "--server", live_server.url, "--workspace", "not-granted",
                "--token", api.token)  # fmt: skip
    assert other.exit_code == 1
    assert "does not grant this workspace" in other.output
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = run("login", "--server", closed, "--workspace", api.workspace, "--token", api.token)
    assert down.exit_code == 1
    assert f"cannot reach {closed}" in down.output
    assert not (config_home / "localsync" / "credentials.json").exists()


def test_sync_and_status_without_any_token_say_how_to_log_in(
    live_server: LiveServer, api: Api, config_home: Path, no_keyring: None, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    write(folder, "a.md", "hello\n")
    first = run(*sync_args(folder, "--server", live_server.url, "--workspace", api.workspace))
    assert first.exit_code == 2
    assert "no token given and none stored" in first.output
    assert "Illegal header" not in first.output and "unreachable" not in first.output
    assert "localsync login" in first.output

    bad = run(*sync_args(folder, "--server", live_server.url, "--workspace", api.workspace,
                         "--token", "not-a-jwt"))  # fmt: skip
    assert bad.exit_code == 1
    assert "the server refused this connector: 401" in bad.output
    assert "localsync login" in bad.output and "Traceback" not in bad.output

    ok = run(*sync_args(folder, "--server", live_server.url, "--workspace", api.workspace,
                        "--token", api.token))  # fmt: skip
    assert ok.exit_code == 0, ok.output
    status = run("status", str(folder))
    assert status.exit_code == 2
    assert "connector:" in status.output  # the local part is still shown
    assert "no token given and none stored" in status.output
