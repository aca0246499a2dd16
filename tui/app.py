"""The Textual application: screens, global keys, and the live event feed."""

import gc
from collections.abc import Iterable
from functools import partial
from typing import Any, ClassVar

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
from tui.screens.help import HelpScreen, KeyGroup, key_rows, screen_group
from tui.screens.inbox import InboxScreen
from tui.screens.sources import SourcesScreen


def app_screens() -> list[type[Screen[Any]]]:
    """The app's full screens, in the order a user meets them (the help screen's groups)."""
    from tui.screens.files import FilesScreen
    from tui.screens.history import HistoryScreen
    from tui.screens.merge import MergeScreen

    return [SourcesScreen, FilesScreen, HistoryScreen, InboxScreen, MergeScreen, ConnectScreen]


class LocalSyncApp(App[None]):
    """Takes its client, so tests point it at a live test server."""

    CSS_PATH = "localsync.tcss"
    TITLE = "Local Sync"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "All keys"),
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
        connect_delays: tuple[float, float] = (0.5, 10.0),
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
        self.connect_delays = connect_delays
        """First and longest wait between the connect screen's tries: a server that
        is back is found within the longest."""
        self.followed: set[str] = set()
        self.disconnected: dict[str, str] = {}
        """Followed sources whose live feed is down, by id, with their name."""

    def on_mount(self) -> None:
        """Take every object alive once started out of the cyclic collector's full passes.

        A full collection walks every object of the process (Textual, Rich, the
        GraphQL client) while holding the interpreter lock: 0.2 to 0.4 s on a
        busy machine, with the event loop stalled and keys waiting, though the
        work that set it off (rendering a long note) ran in a thread. What exists
        once the app has started stays for its whole run; ``gc.freeze`` moves it
        to a generation no pass walks, at no cost. Frozen objects are still
        freed when their last reference goes; only cycles among them wait for
        ``on_unmount``.
        """
        gc.freeze()
        self.push_screen(SourcesScreen())

    def on_unmount(self) -> None:
        """Give the frozen objects back to the collector: the process may go on (tests, a host)."""
        gc.unfreeze()

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

    def reconfigure(self, token: str = "", workspace: str = "", server: str = "") -> bool:
        """Read the configuration again, typed values first; rebuild the client if it changed.

        The connect screen calls this before each retry, so a server or token
        fixed in ``tui.toml`` (or typed on that screen) is used without a
        restart. Values nobody gives keep the current client's. Returns whether
        the client was replaced; raises ``ConfigError`` if the file cannot be read.
        """
        current = self.client
        stored = self.config.load() if self.config else None
        server = server or (stored.server if stored else current.server)
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
                f"Live updates for {source.name} stopped. {error.message}",
                title=error.title,
                severity="warning",
                timeout=10,
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
            if isinstance(self.screen, ConnectScreen):
                self.screen.try_now()  # the server is back: no need to wait for the next try
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
        self.push_screen(HelpScreen(self.key_groups(self.screen)))

    def key_groups(self, screen: Screen[object]) -> list[KeyGroup]:
        """The app's keys for the help screen: ``screen``'s first, then every screen's."""
        here = screen_group(self, screen)
        # Keys of the app's own widgets on this screen (not Textual's: those are generic).
        widgets = [
            active.binding
            for active in screen.active_bindings.values()
            if type(active.node).__module__.startswith("tui.widgets")
        ]
        groups = [KeyGroup(f"This screen · {here.title}", here.rows + key_rows(self, widgets))]
        everywhere = (*key_rows(self, self.BINDINGS), ("ctrl+p", "Search every command"))
        groups.append(KeyGroup("Everywhere", everywhere))
        groups.extend(
            screen_group(self, other) for other in app_screens() if not isinstance(screen, other)
        )
        return groups

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The inbox key is no key on the inbox, nor before the server is reached."""
        if action == "inbox":
            return not isinstance(self.screen, InboxScreen | ConnectScreen)
        return True

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
