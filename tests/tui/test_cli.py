"""The ``tui`` command's configuration: options and env first, then the TOML file."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.core
import pytest
from click.testing import CliRunner

from connector.credentials import save_token
from tui.cli import tui
from tui.config import (
    DEFAULT_SERVER,
    ENV_SERVER,
    ENV_TOKEN,
    ENV_WORKSPACE,
    ConfigSource,
    TuiConfig,
    load_config,
)


def test_options_win_over_file(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_text('server = "http://file:1"\ntoken = "file-token"\nworkspace = "ws-file"\n')
    config = load_config("http://cli:2", None, None, path)
    assert (config.server, config.token, config.workspace) == (
        "http://cli:2",
        "file-token",
        "ws-file",
    )


def test_defaults_without_file(tmp_path: Path) -> None:
    config = load_config(None, None, None, tmp_path / "absent.toml")
    assert config.server == DEFAULT_SERVER and config.token is None


@pytest.fixture
def no_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A private user config dir and no usable keyring: logins go to the fallback file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()  # keyring reads the variable when it picks a backend
    try:
        yield
    finally:
        keyring.core.set_keyring(previous)


def test_token_comes_from_the_stored_login_last(no_keyring: None, tmp_path: Path) -> None:
    stored = save_token("http://sync:9/", "ws-a", "stored-token")
    assert stored.warning is not None  # in the fallback file, as without a keyring
    path = tmp_path / "tui.toml"
    assert load_config("http://sync:9", None, "ws-a", path).token == "stored-token"
    assert load_config("http://sync:9", "given", "ws-a", path).token == "given"
    assert load_config("http://sync:9", None, "ws-b", path).token is None
    assert load_config("http://other:9", None, "ws-a", path).token is None
    # The server and workspace the login is looked up for may come from the file too.
    path.write_text('server = "http://sync:9"\nworkspace = "ws-a"\n')
    assert load_config(None, None, None, path).token == "stored-token"
    path.write_text('server = "http://sync:9"\nworkspace = "ws-a"\ntoken = "file-token"\n')
    assert load_config(None, None, None, path).token == "file-token"


def test_importing_the_configuration_loads_no_platformdirs() -> None:
    """Every ``localsync`` command imports ``tui.config``; few of them read the file."""
    code = "import sys, tui.config; print('platformdirs' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_missing_token_is_a_usage_error(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "LOCALSYNC_TOKEN": "", "LOCALSYNC_WORKSPACE": ""}
    result = CliRunner().invoke(tui, ["--workspace", "ws-1"], env=env)
    assert result.exit_code == 2
    assert "missing --token" in result.output


def test_environment_is_read_at_startup(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "LOCALSYNC_TOKEN": "", "LOCALSYNC_WORKSPACE": "ws-env"}
    result = CliRunner().invoke(tui, [], env=env)
    assert result.exit_code == 2
    assert "missing --token:" in result.output


def test_source_reads_environment_and_file_again_but_options_still_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (ENV_SERVER, ENV_WORKSPACE):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ENV_TOKEN, "env-token")
    path = tmp_path / "tui.toml"
    path.write_text('server = "http://file:1"\ntoken = "file-token"\nworkspace = "ws-file"\n')
    source = ConfigSource(server="http://cli:2", path=path)
    assert source.load() == TuiConfig("http://cli:2", "env-token", "ws-file")

    monkeypatch.delenv(ENV_TOKEN)
    path.write_text('server = "http://file:3"\ntoken = "new-token"\nworkspace = "ws-new"\n')
    assert source.load() == TuiConfig("http://cli:2", "new-token", "ws-new")
