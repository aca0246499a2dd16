"""Where the terminal app finds its server, token and workspace.

Precedence: command-line option, then ``LOCALSYNC_*`` environment variable
(click reads both), then ``tui.toml`` in the user config directory.
"""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

DEFAULT_SERVER = "http://127.0.0.1:8000"


def config_path() -> Path:
    return Path(user_config_dir("localsync")) / "tui.toml"


@dataclass(frozen=True)
class TuiConfig:
    server: str
    token: str | None
    workspace: str | None


class ConfigError(Exception):
    pass


def load_config(
    server: str | None, token: str | None, workspace: str | None, path: Path | None = None
) -> TuiConfig:
    """Fill what options and environment left out from the TOML file."""
    path = path or config_path()
    stored: dict[str, object] = {}
    if path.is_file():
        try:
            stored = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc

    def pick(given: str | None, key: str) -> str | None:
        if given:
            return given
        value = stored.get(key)
        return value if isinstance(value, str) and value else None

    return TuiConfig(
        server=pick(server, "server") or DEFAULT_SERVER,
        token=pick(token, "token"),
        workspace=pick(workspace, "workspace"),
    )
