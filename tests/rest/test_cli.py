"""The ``localsync`` command as a user runs it: token, help and serve, as subprocesses."""

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.factories import PREFIX

LOCALSYNC = str(Path(sys.executable).with_name("localsync"))


def _env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without any LOCALSYNC_* setting, plus the data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALSYNC_")}
    env["LOCALSYNC_DATA_DIR"] = str(data_dir)
    return env


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LOCALSYNC, *args], env=_env(data_dir), capture_output=True, text=True, timeout=60
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "token"):
        assert command in result.stdout
    assert not (tmp_path / "jwt-secret").exists()


def test_token_creates_the_secret_once_and_reuses_it(tmp_path: Path) -> None:
    first = _run(tmp_path, "token", "--workspace", "a", "--workspace", "b", "--ttl", "60")
    assert first.returncode == 0, first.stderr
    secret_file = tmp_path / "jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text()
    assert len(secret.strip()) >= 32

    token = first.stdout.strip()
    claims = jwt.decode(token, secret.strip(), algorithms=["HS256"])
    assert claims["workspaces"] == ["a", "b"]
    assert claims["exp"] - claims["iat"] == 60

    second = _run(tmp_path, "token", "--workspace", "a")
    assert second.returncode == 0, second.stderr
    assert secret_file.read_text() == secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    jwt.decode(second.stdout.strip(), secret.strip(), algorithms=["HS256"])


def test_token_refuses_bad_arguments(tmp_path: Path) -> None:
    assert _run(tmp_path, "token").returncode != 0
    assert _run(tmp_path, "token", "--workspace", "a", "--ttl", "0").returncode != 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``localsync serve`` on a free port with the SQLite default in a fresh data dir."""
    data_dir = tmp_path_factory.mktemp("served")
    port = _free_port()
    process = subprocess.Popen(
        [LOCALSYNC, "serve", "--port", str(port), "--log-level", "warning"],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "localsync serve did not come up"
            time.sleep(0.1)
        yield url, data_dir
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_serve_answers_healthz(served: tuple[str, Path]) -> None:
    url, data_dir = served
    response = httpx.get(url + "/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert (data_dir / "localsync.db").exists()


def test_a_printed_token_is_accepted_by_a_server_on_the_same_data_dir(
    served: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    url, data_dir = served
    token = _run(data_dir, "token", "--workspace", "team", "--ttl", "60").stdout.strip()
    headers = {"Authorization": f"Bearer {token}", "x-workspace-id": "team"}
    created = httpx.post(
        url + PREFIX + "sources",
        json={"name": "Notes", "mode": "bidirectional"},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 200, created.text
    listed = httpx.post(url + PREFIX + "sources/list", json={}, headers=headers, timeout=10)
    assert [s["id"] for s in listed.json()] == [created.json()["id"]]
    # The token does not grant another workspace...
    other = {**headers, "x-workspace-id": "elsewhere"}
    assert httpx.post(url + PREFIX + "sources/list", json={}, headers=other).status_code == 403
    # ...and a token from another data dir (another secret) is refused.
    stranger = _run(tmp_path_factory.mktemp("other"), "token", "--workspace", "team").stdout
    forged = {**headers, "Authorization": f"Bearer {stranger.strip()}"}
    assert httpx.post(url + PREFIX + "sources/list", json={}, headers=forged).status_code == 401


SERVER_MODULES = ("backend.settings", "pydantic_settings", "pydantic", "sqlmodel", "sqlalchemy",
                  "fastapi", "strawberry", "uvicorn", "httpx", "keyring")  # fmt: skip
PROBE = """
import sys
from backend.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print("exit", exc.code)
heavy = sorted(m for m in sys.modules if m in {names!r} or m.split(".")[0] in {names!r})
print("loaded:" + ",".join(heavy))
"""


def _loaded_by(tmp_path: Path, *args: str) -> tuple[str, list[str]]:
    """Run the ``localsync`` group with ``args``; its exit line and the heavy modules loaded."""
    probe = PROBE.format(names=SERVER_MODULES)
    result = subprocess.run([sys.executable, "-c", probe, *args], env=_env(tmp_path),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    lines = result.stdout.strip().splitlines()
    heavy = lines[-1].partition(":")[2]
    return lines[-2], [m for m in heavy.split(",") if m]


def test_help_and_the_connector_load_no_server_module(tmp_path: Path) -> None:
    status, heavy = _loaded_by(tmp_path, "--help")
    assert status == "exit 0" and heavy == []
    for command in ("sync", "status", "login", "logout", "tui"):
        status, heavy = _loaded_by(tmp_path, command, "--help")
        assert status == "exit 0" and heavy == [], command
    # A real run against a server that is not there: the connector's path end to end.
    folder = tmp_path / "notes"
    folder.mkdir()
    args = ("sync", str(folder), "--server", f"http://127.0.0.1:{_free_port()}", "--token",
            "t", "--workspace", "w", "--once", "--retries", "1")  # fmt: skip
    status, heavy = _loaded_by(tmp_path, *args)
    assert status == "exit 3" and heavy == []


def test_help_lists_login_and_logout(tmp_path: Path) -> None:
    result = _run(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "login" in result.stdout and "logout" in result.stdout
