"""Shown instead of a traceback when the server cannot be used: why, and how to fix it.

Retry reads the configuration again (``LocalSyncApp.reconfigure``), so a token
or workspace fixed in ``tui.toml``, or typed into this screen, is used at once.
"""

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

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
_HINT = "r retry · t type a token · w type a workspace · q quit"
_SERVER_SETTING = "--server, LOCALSYNC_SERVER or `server` in tui.toml"


def explain(error: ClientError, server: str, workspace: str) -> Content:
    text = _Builder()
    if isinstance(error, ServerUnreachable):
        text.append("Cannot reach the server\n\n", style=_HEADLINE)
        text.append(f"Nothing answered at {server}.\n\n")
        text.append(f"Is `localsync serve` running there? Check {_SERVER_SETTING}.")
    elif isinstance(error, NoGraphQLEndpoint):
        text.append("No Local Sync server at this address\n\n", style=_HEADLINE)
        text.append(f"{error.message} Something serves that address, but not our API.\n\n")
        text.append(f"Check {_SERVER_SETTING}: the base URL `localsync serve` listens on.")
    elif isinstance(error, HttpError):
        text.append("The server failed\n\n", style=_HEADLINE)
        text.append(f"{error.message}\n\n")
        text.append("This is usually brief (a restart, a proxy losing the server): retry soon.")
    elif isinstance(error, Unauthenticated):
        text.append("The server refused the token\n\n", style=_HEADLINE)
        text.append(f"{error.message}\n\n")
        text.append(
            f"Mint a new one with `localsync token --workspace {workspace}`, then type it "
            "below, or write it as `token` in tui.toml (unless --token was given), and retry."
        )
    elif isinstance(error, Forbidden):
        text.append("Workspace not granted\n\n", style=_HEADLINE)
        text.append(f"The token does not grant the workspace “{workspace}”.\n\n")
        text.append("Type a token minted for it, or another workspace, below; then retry.")
    else:
        text.append("The server refused the request\n\n", style=_HEADLINE)
        text.append(error.message)
    return text.content


class _Builder:
    """Appends styled runs, like ``Text.append``, into theme-aware ``Content``."""

    def __init__(self) -> None:
        self.content = Content()

    def append(self, text: str, style: str = "") -> None:
        self.content = self.content.append(Content.styled(text, style) if style else text)


class ConnectScreen(BaseScreen[bool]):
    """Dismissed with ``True`` once a retry reaches the server."""

    help_title = "connection"
    AUTO_FOCUS = ""
    """Nothing focused at first, so r and q are keys, not letters of a token."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry"),
        Binding("t", "type('#connect-token')", "Type a token"),
        Binding("w", "type('#connect-workspace')", "Type a workspace"),
        Binding("escape", "leave_input", "Leave the field", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, error: ClientError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="connect-box"):
            yield Static(id="connect-message")
            yield Input(
                placeholder="new token (empty: the configured one)",
                password=True,
                id="connect-token",
            )
            yield Input(id="connect-workspace")
            yield Static(Text(_HINT, style="dim"), id="connect-hint")
        yield BottomBar()

    def on_mount(self) -> None:
        self.show_error(self.error)

    def show_error(self, error: ClientError) -> None:
        self.error = error
        found = self.query("#connect-message")
        if not found:
            return  # not composed yet: on_mount shows the latest error
        client = self.client
        found.first(Static).update(explain(error, client.server, client.workspace))
        workspace = self.query_one("#connect-workspace", Input)
        workspace.placeholder = f"another workspace (empty: {client.workspace})"

    def action_type(self, selector: str) -> None:
        self.query_one(selector, Input).focus()

    def action_leave_input(self) -> None:
        self.set_focus(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in either field retries with what was typed."""
        event.stop()
        self.action_retry()

    def action_retry(self) -> None:
        self._hint("Retrying…")
        self._retry()

    @work(exclusive=True)
    async def _retry(self) -> None:
        try:
            self.localsync.reconfigure(
                self._typed("#connect-token"), self._typed("#connect-workspace")
            )
        except ConfigError as error:
            self._hint(f"{error}. Fix the file, then r retry · q quit")
            return
        try:
            await self.client.sources()
        except ClientError as error:
            self.show_error(error)
            self._hint(f"Still failing. {_HINT}")
            return
        self.dismiss(True)

    def _typed(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _hint(self, text: str) -> None:
        self.query_one("#connect-hint", Static).update(Text(text, style="dim"))
