"""The Textual application: screens, global keys, and the live event feed."""

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.client import ClientError, LocalSyncClient, SourceInfo
from tui.messages import LiveEvent
from tui.screens.connect import ConnectScreen
from tui.screens.help import HelpScreen
from tui.screens.inbox import InboxScreen
from tui.screens.sources import SourcesScreen


class LocalSyncApp(App[None]):
    """Takes its client, so tests point it at a live test server."""

    CSS_PATH = "localsync.tcss"
    TITLE = "Local Sync"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("i", "inbox", "Inbox"),
        Binding("ctrl+q", "quit", "Quit", show=False),
    ]

    def __init__(self, client: LocalSyncClient, *, live: bool = True) -> None:
        super().__init__()
        self.client = client
        self.live = live
        self.followed: set[str] = set()

    def on_mount(self) -> None:
        self.push_screen(SourcesScreen())

    # -- connection trouble

    def connection_failed(self, error: ClientError) -> None:
        """Show (or refresh) the connect screen; when a retry succeeds, reload."""
        if isinstance(self.screen, ConnectScreen):
            self.screen.show_error(error)
            return
        below = self.screen

        def retried(_: bool | None) -> None:
            reload = getattr(below, "reload", None)
            if callable(reload):
                reload()

        self.push_screen(ConnectScreen(error), retried)

    # -- live events

    def follow(self, sources: Iterable[SourceInfo]) -> None:
        """Subscribe once per source, from the cursor it was loaded at."""
        if not self.live:
            return
        for source in sources:
            if source.id not in self.followed:
                self.followed.add(source.id)
                self._follow(source)

    @work(group="events", exit_on_error=False)
    async def _follow(self, source: SourceInfo) -> None:
        try:
            async for event in self.client.events(source.id, source.last_cursor):
                for screen in self.screen_stack:
                    screen.post_message(LiveEvent(event))
        except ClientError as error:
            self.followed.discard(source.id)
            self.notify(
                f"Live updates for {source.name} stopped: {error.message}",
                severity="warning",
            )

    # -- global actions

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        keys: list[tuple[str, str]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.description in seen:
                continue
            seen.add(binding.description)
            keys.append((self.get_key_display(binding), binding.description))
        title = getattr(self.screen, "help_title", type(self.screen).__name__)
        self.push_screen(HelpScreen(str(title), keys))

    def action_inbox(self) -> None:
        if not isinstance(self.screen, InboxScreen | ConnectScreen):
            self.push_screen(InboxScreen())

    def action_reload(self) -> None:
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            reload()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Conflict inbox", "Open conflicts of every source", self.action_inbox)
        yield SystemCommand("Keys", "The keys of this screen", self.action_help)
        yield SystemCommand("Reload", "Fetch this screen's data again", self.action_reload)
