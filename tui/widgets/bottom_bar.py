"""The footer of every app screen, with a line above it while live updates are down."""

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from tui.app import LocalSyncApp


class LiveStatus(Static):
    """Shows ``app.live_trouble``; hidden while it is empty."""

    def on_mount(self) -> None:
        app = cast("LocalSyncApp", self.app)
        self.watch(app, "live_trouble", self._show)

    def _show(self, trouble: str) -> None:
        self.update(f"⚠ {trouble}" if trouble else "")
        self.display = bool(trouble)


class BottomBar(Vertical):
    """Docked at the bottom: the live status (when there is one), then the keys."""

    def compose(self) -> ComposeResult:
        yield LiveStatus(id="live-status")
        yield Footer()
