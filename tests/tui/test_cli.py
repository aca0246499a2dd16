"""The ``tui`` command's configuration: options and env first, then the TOML file."""

from pathlib import Path

from click.testing import CliRunner

from tui.cli import tui
from tui.config import DEFAULT_SERVER, load_config


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
