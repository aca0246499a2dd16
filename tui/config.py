"""Where the terminal app finds its server, token and workspace.

Precedence: command-line option, then ``LOCALSYNC_*`` environment variable,
then ``tui.toml`` in the user config directory; a token still missing then
comes from the login ``localsync login`` stored for that server and
workspace (``connector.credentials``). ``ConfigSource`` keeps the
command-line values and the file's path, so the app can read everything again
(the connect screen's retry) exactly as startup did.
"""

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SERVER = "http://127.0.0.1:8000"
ENV_SERVER = "LOCALSYNC_SERVER"
ENV_TOKEN = "LOCALSYNC_TOKEN"
ENV_WORKSPACE = "LOCALSYNC_WORKSPACE"


def config_path() -> Path:
    # Imported here: every ``localsync`` command imports this module, few read the file.
    from platformdirs import user_config_dir

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
    """Fill what options and environment left out from the TOML file, then the stored login.

    The stored login is looked up last, and only for a token: a user who ran
    ``localsync login`` needs no token in ``tui.toml`` or on the command line.
    """
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

    resolved_server = pick(server, "server") or DEFAULT_SERVER
    resolved_workspace = pick(workspace, "workspace")
    resolved_token = pick(token, "token")
    if resolved_token is None and resolved_workspace is not None:
        from connector.credentials import load_token

        resolved_token = load_token(resolved_server, resolved_workspace)
    return TuiConfig(resolved_server, resolved_token, resolved_workspace)


@dataclass(frozen=True)
class ConfigSource:
    """What startup read the configuration from, to read it again on demand.

    The fields are the values given on the command line (``None`` when not
    given): they win at every read, as they did at startup, while the
    environment and the file are read afresh each time, since the user fixes a
    refused token by editing them. ``path`` is the TOML file (``None``: the
    user config directory's ``tui.toml``); tests point it at a temporary one.
    """

    server: str | None = None
    token: str | None = None
    workspace: str | None = None
    path: Path | None = None

    def load(self) -> TuiConfig:
        """Options, then environment, then the file; raises ``ConfigError``."""
        return load_config(
            self.server or _env(ENV_SERVER),
            self.token or _env(ENV_TOKEN),
            self.workspace or _env(ENV_WORKSPACE),
            self.path,
        )

    @property
    def file(self) -> Path:
        return self.path or config_path()

    def save(self, values: Mapping[str, str]) -> Path:
        """Write ``values`` (server, token, workspace) into the file; raises ``ConfigError``."""
        path = self.file
        try:
            save_config(path, values)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot write {path}: {exc}") from exc
        return path


_KEY_LINE = r"^[ \t]*{key}[ \t]*="


def save_config(path: Path, values: Mapping[str, str]) -> None:
    """Set top-level string keys of a TOML file, keeping every other line as it was.

    The user may keep comments and other keys in ``tui.toml``; rewriting the
    file from parsed values would drop them, so only the lines of the keys
    given change (new keys go before the first table). The file may hold a
    token, so it is created readable by its owner only.
    """
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    lines = text.splitlines()
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), None)
    top = lines[:first_table] if first_table is not None else lines
    rest = lines[len(top) :]
    for key, value in values.items():
        # A JSON string is a valid TOML basic string: quotes, backslashes and
        # control characters come out escaped alike.
        line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
        pattern = re.compile(_KEY_LINE.format(key=re.escape(key)))
        found = [i for i, old in enumerate(top) if pattern.match(old)]
        if found:
            top[found[0]] = line
            top = [old for i, old in enumerate(top) if i not in found[1:]]
        else:
            top.append(line)
    updated = "\n".join(top + rest) + "\n"
    tomllib.loads(updated)  # never leave a file that the next start cannot read
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(updated)


def _env(name: str) -> str | None:
    """An environment variable; set but empty counts as unset, as click does."""
    return os.environ.get(name) or None
