"""Shown instead of a traceback when the server cannot be used: why, and how to fix it."""

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from tui.client import ClientError, Forbidden, ServerUnreachable, Unauthenticated
from tui.screens.base import BaseScreen
from tui.widgets.bottom_bar import BottomBar

_HEADLINE = "bold $text-error"


def explain(error: ClientError, server: str, workspace: str) -> Content:
    text = _Builder()
    if isinstance(error, ServerUnreachable):
        text.append("Cannot reach the server\n\n", style=_HEADLINE)
        text.append(f"Nothing answered at {server}.\n\n")
        text.append("Is `localsync serve` running there? Check --server or LOCALSYNC_SERVER.")
    elif isinstance(error, Unauthenticated):
        text.append("The server refused the token\n\n", style=_HEADLINE)
        text.append(f"{error.message}\n\n")
        text.append(
            f"Mint a new one with `localsync token --workspace {workspace}` and pass it "
            "with --token or LOCALSYNC_TOKEN."
        )
    elif isinstance(error, Forbidden):
        text.append("Workspace not granted\n\n", style=_HEADLINE)
        text.append(f"The token does not grant the workspace “{workspace}”.\n\n")
        text.append("Use a token minted for it, or pick another with --workspace.")
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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, error: ClientError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="connect-box"):
            yield Static(id="connect-message")
            yield Static(
                Text("r retry · q quit", style="dim"),
                id="connect-hint",
            )
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

    def action_retry(self) -> None:
        self.query_one("#connect-hint", Static).update(Text("Retrying…", style="dim"))
        self._retry()

    @work(exclusive=True)
    async def _retry(self) -> None:
        try:
            await self.client.sources()
        except ClientError as error:
            self.show_error(error)
            self.query_one("#connect-hint", Static).update(
                Text("Still failing. r retry · q quit", style="dim")
            )
            return
        self.dismiss(True)
