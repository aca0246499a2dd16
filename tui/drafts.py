"""Unsaved merge work, kept on disk until the conflict is resolved or changes.

A person's choices on the merge screen are written here as they make them, so
neither a key pressed once too often nor a closed terminal loses them. A draft
is keyed by server, workspace and conflict id, and remembers the conflict
revision it was made in: region numbers only mean something in that revision,
so a draft of another revision is dropped rather than applied to other lines.
Files live in the user data directory (``platformdirs``), one small JSON each.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from platformdirs import user_data_dir

from tui.client import Choice, Decision, WholeFile


def drafts_dir() -> Path:
    return Path(user_data_dir("localsync")) / "merge-drafts"


@dataclass(frozen=True)
class Draft:
    """What a person decided so far in one conflict revision."""

    revision: int
    decisions: list[Decision]
    whole: WholeFile | None = None
    edited: str | None = None
    """The whole result as edited by hand, when that replaced the region choices."""
    current: int = 1
    saved_at: str = ""

    @property
    def empty(self) -> bool:
        return not self.decisions and self.whole is None and self.edited is None


@dataclass
class DraftStore:
    """Drafts of one server and workspace.

    ``save_soon`` and ``drop_soon`` write on one background thread, in the order
    they were asked for: a keypress never waits for the disk, and a later state
    is never overwritten by an earlier one.
    """

    server: str
    workspace: str
    root: Path = field(default_factory=drafts_dir)
    _writer: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="drafts"), repr=False
    )

    _closed: bool = field(default=False, repr=False)

    def save_soon(self, conflict_id: str, draft: Draft) -> "Future[None]":
        return self._submit(self.save, conflict_id, draft)

    def drop_soon(self, conflict_id: str) -> "Future[None]":
        return self._submit(self.drop, conflict_id)

    def _submit(self, write: Callable[..., None], *args: Any) -> "Future[None]":
        if not self._closed:
            return self._writer.submit(write, *args)
        done: Future[None] = Future()  # closed: write now, on the caller's thread
        try:
            write(*args)
            done.set_result(None)
        except OSError as error:
            done.set_exception(error)
        return done

    def close(self) -> None:
        """Finish every write asked for so far and let the writer thread go."""
        self._closed = True
        self._writer.shutdown(wait=True)

    def _path(self, conflict_id: str) -> Path:
        key = "\0".join((self.server, self.workspace, conflict_id)).encode()
        return self.root / f"{hashlib.sha256(key).hexdigest()}.json"

    def load(self, conflict_id: str, revision: int) -> Draft | None:
        """The draft made in ``revision``; one made in another revision is dropped."""
        path = self._path(conflict_id)
        try:
            data = json.loads(path.read_text("utf-8"))
            draft = _from_json(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self.drop(conflict_id)  # unreadable: nothing in it can be trusted
            return None
        if draft.revision != revision:
            self.drop(conflict_id)
            return None
        return draft

    def save(self, conflict_id: str, draft: Draft) -> None:
        """Write atomically: a crash mid-write leaves the previous draft, never half a file."""
        if draft.empty:
            self.drop(conflict_id)
            return
        self.root.mkdir(parents=True, exist_ok=True)
        body = {
            "server": self.server,
            "workspace": self.workspace,
            "conflictId": conflict_id,
            **asdict(draft),
        }
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out)
        Path(tmp).replace(self._path(conflict_id))

    def drop(self, conflict_id: str) -> None:
        self._path(conflict_id).unlink(missing_ok=True)


def _from_json(data: dict[str, Any]) -> Draft:
    decisions = [
        Decision(int(d["index"]), cast(Choice, d["choice"]), d.get("text"))
        for d in data["decisions"]
    ]
    return Draft(
        revision=int(data["revision"]),
        decisions=decisions,
        whole=data.get("whole"),
        edited=data.get("edited"),
        current=int(data.get("current", 1)),
        saved_at=str(data.get("saved_at", "")),
    )
