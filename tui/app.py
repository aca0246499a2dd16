"""The Textual application: screens, global keys, and the live event feed."""

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from tui.client import (
    ClientError,
    Forbidden,
    LinkState,
    LocalSyncClient,
    SourceInfo,
    Unauthenticated,
)
from tui.clock import Clock, local_now
from tui.config import ConfigError, ConfigSource
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

    live_trouble: reactive[str] = reactive("")
    """Why live updates are down ("" while every followed source is connected)."""

    def __init__(
        self,
        client: LocalSyncClient,
        *,
        live: bool = True,
        retry_delays: tuple[float, float] = (0.5, 30.0),
        clock: Clock = local_now,
        config: ConfigSource | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.config = config
        """Where ``client``'s settings came from, read again on retry; ``None``: given as is."""
        self.clock = clock
        """What screens take "now" from (ages, relative times); tests pass a fixed one."""
        self.live = live
        self.retry_delays = retry_delays
        """First and longest wait before resubscribing after the live feed drops."""
        self.followed: set[str] = set()
        self.disconnected: dict[str, str] = {}
        """Followed sources whose live feed is down, by id, with their name."""

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

    def reconfigure(self, token: str = "", workspace: str = "") -> bool:
        """Read the configuration again, typed values first; rebuild the client if it changed.

        The connect screen calls this before each retry, so a token fixed in
        ``tui.toml`` (or typed on that screen) is used without a restart. Values
        nobody gives keep the current client's. Returns whether the client was
        replaced; raises ``ConfigError`` if the file cannot be read.
        """
        current = self.client
        stored = self.config.load() if self.config else None
        server = stored.server if stored else current.server
        token = token or (stored.token if stored else None) or current.token
        workspace = workspace or (stored.workspace if stored else None) or current.workspace
        wanted = LocalSyncClient(server, token, workspace, current.timeout)
        if (wanted.server, wanted.token, wanted.workspace) == (
            current.server,
            current.token,
            current.workspace,
        ):
            return False
        self._replace_client(wanted)
        return True

    def _replace_client(self, client: LocalSyncClient) -> None:
        """Talk through ``client`` from now on, live feeds included.

        The old feeds may follow another server or workspace: they stop, and
        the sources screen follows again with the new client when it reloads.
        """
        self.client = client
        self.workers.cancel_group(self, "events")
        self.followed.clear()
        self.disconnected.clear()
        self.live_trouble = ""

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
        first, longest = self.retry_delays
        feed = self.client.live_events(
            source.id,
            source.last_cursor,
            first_delay=first,
            max_delay=longest,
            fresh_token=self._fresh_token,
        )
        try:
            async for item in feed:
                if isinstance(item, LinkState):
                    self._link_changed(source, item)
                    continue
                for screen in self.screen_stack:
                    screen.post_message(LiveEvent(item))
        except ClientError as error:
            self.followed.discard(source.id)
            self._link_changed(source, LinkState(True))
            if isinstance(error, Unauthenticated | Forbidden):
                self.connection_failed(error)  # says how to get a token that works
                return
            self.notify(
                f"Live updates for {source.name} stopped: {error.message}",
                severity="warning",
            )

    def _fresh_token(self) -> str | None:
        """The token as the configuration gives it now, asked for when a live feed's expires.

        Read from where startup read it (option, environment, ``tui.toml``); a new
        one also becomes the client's, so requests use it too. ``None`` when
        there is nothing to read again or the file cannot be read.
        """
        if self.config is None:
            return None
        try:
            token = self.config.load().token
        except ConfigError:
            return None
        current = self.client
        if token and token != current.token:
            self.client = LocalSyncClient(current.server, token, current.workspace, current.timeout)
        return token

    def _link_changed(self, source: SourceInfo, state: LinkState) -> None:
        was_down = source.id in self.disconnected
        if state.connected:
            self.disconnected.pop(source.id, None)
            if was_down and source.id in self.followed:
                self.notify(f"Live updates for {source.name} are back.", timeout=3)
        else:
            self.disconnected[source.id] = source.name
        if self.disconnected:
            names = ", ".join(sorted(self.disconnected.values()))
            self.live_trouble = f"Live updates disconnected ({names}), reconnecting…"
        else:
            self.live_trouble = ""

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
        yield from self._binding_commands(screen)

    def _binding_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """One palette entry per described key of ``screen``, so every key can be searched.

        The entry is titled by the binding's description, shows its key, and runs
        the binding's action on the widget (or screen, or app) that owns it.
        Descriptions already offered above (Reload, Quit…) are not repeated.
        """
        seen = {"Conflict inbox", "Keys", "Reload", "Quit", "Help", "Inbox"}
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.description in seen:
                continue
            seen.add(binding.description)
            yield SystemCommand(
                binding.description,
                f"key: {self.get_key_display(binding)}",
                partial(self.run_action, binding.action, active.node),
            )
