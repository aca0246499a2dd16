"""Resolving a conflict on an attachment: keep the local file, Raven's, or both.

Bytes have no lines to merge, so the merge screen hands such a conflict here.
"Keep both" leaves Raven's side at the path and gives the local side a name
of its own, derived from its hash, which every connected folder agrees on.
"""

import posixpath
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.client import ClientError, ConflictDetail, WholeFile

if TYPE_CHECKING:
    from tui.app import LocalSyncApp


def kept_copy_name(path: str, digest: str) -> str:
    """The server's name for the side "keep both" moves aside (``services.attachments``)."""
    folder, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    if not stem:
        stem, ext = name, ""
    return posixpath.join(folder, f"{stem} (conflict {digest[:8]}){ext}")


class BinaryConflictScreen(ModalScreen[bool]):
    """Dismissed with True once resolved, False when left unresolved."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("L", "resolve('KEEP_LOCAL')", "Keep local file"),
        Binding("R", "resolve('KEEP_RAVEN')", "Keep Raven file"),
        Binding("B", "resolve('KEEP_BOTH')", "Keep both"),
        Binding("escape,q", "leave", "Back"),
    ]

    def __init__(self, conflict: ConflictDetail) -> None:
        super().__init__()
        self.conflict = conflict

    def compose(self) -> ComposeResult:
        c = self.conflict
        local, raven = c.authors
        copy = kept_copy_name(c.path, c.local_hash) if c.local_hash else "(deleted side)"
        lines = [
            f"{c.path} is an attachment (bytes): it cannot be merged line by line.",
            f"Local side ({local}): {_side(c.local_hash)}",
            f"Raven side ({raven}): {_side(c.remote_hash)}",
            f"Keep both: Raven's file stays at the path, the local one becomes {copy}.",
        ]
        with Vertical(id="confirm-box"):
            yield Static(f"Attachment conflict: {c.path}", id="confirm-title")
            yield Static("\n".join(lines), id="binary-sides")
            with Horizontal(id="confirm-buttons"):
                yield Button("Keep local (L)", id="KEEP_LOCAL")
                yield Button("Keep Raven (R)", id="KEEP_RAVEN")
                yield Button("Keep both (B)", id="KEEP_BOTH", variant="primary")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.action_resolve(cast(WholeFile, event.button.id))

    def action_leave(self) -> None:
        self.dismiss(False)

    def action_resolve(self, choice: WholeFile) -> None:
        both_sides = self.conflict.local_hash and self.conflict.remote_hash
        if choice == "KEEP_BOTH" and not both_sides:
            self.notify("One side is a deletion: keep a side instead.", severity="warning")
            return
        self._resolve(choice)

    @work(exclusive=True, group="resolve")
    async def _resolve(self, choice: WholeFile) -> None:
        app = cast("LocalSyncApp", self.app)
        try:
            await app.client.resolve_conflict(
                self.conflict.id, revision=self.conflict.revision, whole_file=choice
            )
        except ClientError as error:
            self.notify(error.message, title="Not resolved", severity="error", timeout=8)
            return
        self.notify(f"Resolved {self.conflict.path}.")
        self.dismiss(True)


def _side(digest: str | None) -> str:
    return "deleted" if digest is None else f"content {digest[:10]}"
