"""The ``tui`` command's configuration: options and env first, then the TOML file."""

from pathlib import Path

import pytest
from click.testing import CliRunner

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
