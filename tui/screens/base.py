"""What every screen of the app shares: the client and the error policy."""

from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen

from tui.client import ClientError, Forbidden, LocalSyncClient, ServerUnreachable, Unauthenticated

if TYPE_CHECKING:
    from tui.app import LocalSyncApp

T = TypeVar("T")
FATAL = (ServerUnreachable, Unauthenticated, Forbidden)
"""Errors no retry on this screen can fix: they send the user to the connect screen."""


class BaseScreen(Screen[T]):
    @property
    def localsync(self) -> "LocalSyncApp":
        return cast("LocalSyncApp", self.app)

    @property
    def client(self) -> LocalSyncClient:
        return self.localsync.client

    def report(self, error: ClientError) -> None:
        """Connection and auth failures go to the connect screen; the rest are toasts."""
        if isinstance(error, FATAL):
            self.localsync.connection_failed(error)
        else:
            self.localsync.notify(error.message, title="Refused", severity="error", timeout=8)
