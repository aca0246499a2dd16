"""The folder's identity on the server: ``DIR/.localsync/config.json``.

Kept apart from the journal so that losing or rebuilding a corrupt journal
does not also lose which connector and source this folder is.
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from connector.ignore import STATE_DIR


@dataclass
class FolderState:
    server: str | None = None
    workspace: str | None = None
    connector_id: str | None = None
    source_id: str | None = None
    source_name: str | None = None
    mode: str | None = None


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def load_state(root: Path) -> FolderState:
    path = state_dir(root) / "config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return FolderState()
    known = FolderState.__dataclass_fields__
    return FolderState(**{k: v for k, v in raw.items() if k in known and isinstance(v, str)})


def save_state(root: Path, state: FolderState) -> None:
    directory = state_dir(root)
    directory.mkdir(exist_ok=True)
    tmp = directory / "config.json.tmp"
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    os.replace(tmp, directory / "config.json")
