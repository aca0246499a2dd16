"""Shown instead of a traceback when the server cannot be used: why, and how to fix it.

The screen keeps trying on its own, waiting longer after each failure (up to
the app's ``connect_delays``), and gives way as soon as the server answers. Each try reads the
configuration again (``LocalSyncApp.reconfigure``), so a server, token or
workspace fixed in ``tui.toml``, or typed into this screen, is used at once; a
value typed here is written to ``tui.toml`` once it has worked.
"""

import asyncio
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static

from tui.client import (
    ClientError,
    Forbidden,
    HttpError,
    NoGraphQLEndpoint,
    ServerUnreachable,
    Unauthenticated,
)
from tui.config import ConfigError
from tui.screens.base import BaseScreen
from tui.widgets.bottom_bar import BottomBar

_HEADLINE = "bold $text-error"


def explain(error: ClientError, server: str, workspace: str) -> Content:
    text = _Builder()
    if isinstance(error, ServerUnreachable):
        text.append("Cannot reach the server\n\n", style=_HEADLINE)
        text.append(f"Nothing answered at {server}.\n\n")
        text.append(
            "Is `localsync serve` running there? This screen keeps trying; "
            "fix the address below if it is wrong."
        )
    elif isinstance(error, NoGraphQLEndpoint):
        text.append("No Local Sync server at this address\n\n", style=_HEADLINE)
        text.append(f"{error.message} Something serves that address, but not our API.\n\n")
        text.append("Type the base URL `localsync serve` listens on below.")
    elif isinstance(error, HttpError):
        text.append("The server failed\n\n", style=_HEADLINE)
        text.append(f"{error.message}\n\n")
        text.append("This is usually brief (a restart, a proxy losing the server).")
    elif isinstance(error, Unauthenticated):
        text.append("The server refused the token\n\n", style=_HEADLINE)
        text.append(f"{error.message}\n\n")
        text.append(
            f"Mint a new one with `localsync token --workspace {workspace}` and type it "
            "below, or write it as `token` in tui.toml (unless --token was given)."
        )
    elif isinstance(error, Forbidden):
        text.append("Workspace not granted\n\n", style=_HEADLINE)
        text.append(f"The token does not grant the workspace “{workspace}”.\n\n")
        text.append("Type a token minted for it, or another workspace, below.")
    else:
        text.append(f"{error.title}\n\n", style=_HEADLINE)
        text.append(error.message)
    return text.content


def wait_text(seconds: float) -> str:
    """A wait as a person reads it: ``0.5 s``, ``8 s``, ``2 min``."""
    if seconds < 60:
        return f"{seconds:g} s"
    return f"{round(seconds / 60)} min"


class _Builder:
    """Appends styled runs, like ``Text.append``, into theme-aware ``Content``."""

    def __init__(self) -> None:
        self.content = Content()

    def append(self, text: str, style: str = "") -> None:
        self.content = self.content.append(Content.styled(text, style) if style else text)


class ConnectScreen(BaseScreen[bool]):
    """Dismissed with ``True`` once a try reaches the server."""

    help_title = "connection"
    AUTO_FOCUS = ""
    """Nothing focused at first, so r and q are keys, not letters of a field."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry now"),
        Binding("s", "type('#connect-server')", "Edit server"),
        Binding("t", "type('#connect-token')", "Type a token"),
        Binding("w", "type('#connect-workspace')", "Type a workspace"),
        Binding("escape", "leave_input", "Leave the field", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, error: ClientError) -> None:
        super().__init__()
        self.error = error
        self.tries = 0
        """Tries made so far on this screen, by itself or by key."""
        self.shown_server = ""
        """The server the field showed at first: only another one counts as typed."""
        self.problem = ""
        """Why the last try could not even start (an unreadable file), shown with the hint."""

    def compose(self) -> ComposeResult:
        with Vertical(id="connect-box"):
            yield Static(id="connect-message")
            with Horizontal(classes="connect-field"):
                yield Label("Server", classes="connect-label")
                yield Input(id="connect-server")
            with Horizontal(classes="connect-field"):
                yield Label("Token", classes="connect-label")
                yield Input(
                    placeholder="new token (empty: the configured one)",
                    password=True,
                    id="connect-token",
                )
            with Horizontal(classes="connect-field"):
                yield Label("Workspace", classes="connect-label")
                yield Input(id="connect-workspace")
            yield Static(id="connect-hint")
        yield BottomBar()

    def on_mount(self) -> None:
        self.shown_server = self.client.server
        self.query_one("#connect-server", Input).value = self.shown_server
        self.show_error(self.error)
        self._keep_trying(first=False)

    def show_error(self, error: ClientError) -> None:
        self.error = error
        found = self.query("#connect-message")
        if not found:
            return  # not composed yet: on_mount shows the latest error
        client = self.client
        found.first(Static).update(explain(error, client.server, client.workspace))
        workspace = self.query_one("#connect-workspace", Input)
        workspace.placeholder = f"another workspace (empty: {client.workspace})"

    def try_now(self) -> None:
        """Try at once (the live feed saw the server come back), then keep trying."""
        self._keep_trying(first=True)

    def action_type(self, selector: str) -> None:
        self.query_one(selector, Input).focus()

    def action_leave_input(self) -> None:
        self.set_focus(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a field leaves it and tries with what was typed."""
        event.stop()
        self.set_focus(None)
        self.action_retry()

    def action_retry(self) -> None:
        self._keep_trying(first=True)

    @work(exclusive=True, group="connect")
    async def _keep_trying(self, first: bool) -> None:
        """Try (at once if ``first``), then again after each wait, doubling it.

        Exclusive: a key press cancels the waiting loop and starts a new one,
        so the waits start again from the shortest.
        """
        shortest, longest = self.localsync.connect_delays
        delay = shortest
        if first and await self._attempt():
            return
        while True:
            self._hint(f"{self.problem}Trying again in {wait_text(delay)}; r tries now.")
            await asyncio.sleep(delay)
            while self._editing():
                # The user is typing: their Enter tries; a half-typed value is not tried.
                self._hint("Enter tries with what you typed; escape leaves the field.")
                await asyncio.sleep(shortest)
            if await self._attempt():
                return
            delay = min(delay * 2, longest)

    def _editing(self) -> bool:
        return isinstance(self.focused, Input)

    async def _attempt(self) -> bool:
        """One try with the configuration and the typed values; ``True`` once it worked."""
        self.tries += 1
        self._hint("Trying…")
        typed = self._typed_values()
        try:
            self.localsync.reconfigure(
                typed.get("token", ""), typed.get("workspace", ""), typed.get("server", "")
            )
        except ConfigError as error:
            self.problem = f"{error}. Fix the file. "
            return False
        self.problem = ""
        try:
            await self.client.sources()
        except ClientError as error:
            self.show_error(error)
            return False
        self._save(typed)
        self.dismiss(True)
        return True

    def _typed_values(self) -> dict[str, str]:
        """What the user typed: a token, a workspace, a server other than the one shown."""
        typed = {
            "server": self._typed("#connect-server").rstrip("/"),
            "token": self._typed("#connect-token"),
            "workspace": self._typed("#connect-workspace"),
        }
        if typed["server"] == self.shown_server:
            del typed["server"]
        return {k: v for k, v in typed.items() if v}

    def _save(self, typed: dict[str, str]) -> None:
        """Keep typed values that worked for the next start, if the app reads a file."""
        config = self.localsync.config
        if not typed or config is None:
            return
        try:
            path = config.save(typed)
        except ConfigError as error:
            self.app.notify(f"Connected, but {error}.", severity="warning", timeout=10)
            return
        self.app.notify(f"Connected. Saved the {' and '.join(typed)} in {path}.", timeout=6)

    def _typed(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _hint(self, text: str) -> None:
        found = self.query("#connect-hint")
        if found:
            found.first(Static).update(Text(text, style="dim"))
