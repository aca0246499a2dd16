"""The stored login: one token per (server, workspace), kept out of every folder.

``localsync login`` puts the token in the OS keyring (the ``keyring`` library:
macOS Keychain, Windows Credential Locker, Secret Service...). Where no keyring
backend is usable (a headless server, a container), it goes to a file only its
owner can read (mode 0600) in the user config dir, and the caller is told so.
``sync``, ``status`` and the terminal app read it back when no ``--token`` is
given. The last login's server and workspace (not secret) are remembered too,
so a new folder needs neither option.

``keyring`` is imported only here and only when a login is stored or looked up:
its backend discovery costs more than a whole sync run that has nothing to do.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

log = logging.getLogger("connector")

SERVICE = "localsync"
CREDENTIALS_FILE = "credentials.json"
"""Fallback store: ``{"tokens": {key: token}, "last": {"server", "workspace"}}``."""


@dataclass(frozen=True)
class Stored:
    """Where a token went; ``warning`` says why it is not in the keyring."""

    where: str
    warning: str | None = None


def config_dir() -> Path:
    return Path(user_config_dir("localsync"))


def normalise_server(server: str) -> str:
    return server.strip().rstrip("/")


def _key(server: str, workspace: str) -> str:
    return f"{normalise_server(server)} {workspace}"


def save_token(server: str, workspace: str, token: str) -> Stored:
    """Store ``token`` for (server, workspace), in the keyring when one is usable."""
    import keyring
    from keyring.errors import KeyringError

    key = _key(server, workspace)
    data = _read_file()
    data["last"] = {"server": normalise_server(server), "workspace": workspace}
    try:
        keyring.set_password(SERVICE, key, token)
    except KeyringError as exc:
        data.setdefault("tokens", {})[key] = token
        path = _write_file(data)
        warning = (
            f"no usable keyring ({exc}); the token is stored in {path} (readable by your user only)"
        )
        return Stored(str(path), warning)
    data.get("tokens", {}).pop(key, None)  # the keyring is the one copy
    _write_file(data)
    return Stored(f"the system keyring ({type(keyring.get_keyring()).__module__})")


def load_token(server: str, workspace: str) -> str | None:
    """The stored token for (server, workspace), or None when there is none.

    The file is read first: it holds a token only when no keyring was usable at
    login, and then looking one up would cost keyring's backend discovery for
    nothing on every run.
    """
    key = _key(server, workspace)
    stored = _read_file().get("tokens", {}).get(key)
    if isinstance(stored, str) and stored:
        return stored
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, key) or None
    except KeyringError:
        return None


def delete_token(server: str, workspace: str) -> bool:
    """Forget the token for (server, workspace) wherever it is; True when one was found."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    key = _key(server, workspace)
    found = False
    try:
        keyring.delete_password(SERVICE, key)
        found = True
    except PasswordDeleteError:
        pass
    except KeyringError:
        pass
    data = _read_file()
    if data.get("tokens", {}).pop(key, None) is not None:
        found = True
    last = data.get("last") or {}
    if _key(str(last.get("server", "")), str(last.get("workspace", ""))) == key:
        data.pop("last", None)
    if data or _file().exists():
        _write_file(data)
    return found


def last_login() -> tuple[str | None, str | None]:
    """The server and workspace of the latest ``localsync login`` (None when unknown)."""
    last = _read_file().get("last") or {}
    server, workspace = last.get("server"), last.get("workspace")
    return (
        server if isinstance(server, str) else None,
        workspace if isinstance(workspace, str) else None,
    )


def _file() -> Path:
    return config_dir() / CREDENTIALS_FILE


def _read_file() -> dict[str, Any]:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_file(data: dict[str, Any]) -> Path:
    """Write atomically, created 0600 from the start (never briefly readable by others)."""
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{CREDENTIALS_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
