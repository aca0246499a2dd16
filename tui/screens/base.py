"""What every screen of the app shares: the client, the error policy, load indicators."""

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen
from textual.widget import Widget

from tui.client import (
    ClientError,
    Forbidden,
    LocalSyncClient,
    NoGraphQLEndpoint,
    ServerUnreachable,
    Unauthenticated,
)

if TYPE_CHECKING:
    from tui.app import LocalSyncApp

T = TypeVar("T")
R = TypeVar("R")
FATAL = (ServerUnreachable, NoGraphQLEndpoint, Unauthenticated, Forbidden)
"""Errors no retry on this screen can fix: they send the user to the connect screen."""

LOADING_DELAY = 0.3
"""Seconds a load may take before its widgets show a loading indicator."""


class BaseScreen(Screen[T]):
    def reload(self) -> None:
        """Fetch this screen's data again; screens that load from the server override it."""

    def action_reload(self) -> None:
        self.reload()

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
            self.localsync.notify(error.message, title=error.title, severity="error", timeout=10)

    async def fetch(self, call: Awaitable[R], *selectors: str) -> R | None:
        """Await a client call with ``selectors`` busy; ``None`` once its error is reported.

        Every screen load has the same error policy (see ``report``), so the
        screens only say what to do with the data.
        """
        try:
            with self.busy(*selectors):
                result = await call
        except ClientError as error:
            self.report(error)
            return None
        if not all(self.query(selector) for selector in selectors):
            # The widgets this load fills went away meanwhile (the screen closed,
            # or the app is stopping); there is nothing left to show it in.
            return None
        return result

    @contextmanager
    def busy(self, *selectors: str) -> Iterator[None]:
        """Cover these widgets with a loading indicator if the block outlasts LOADING_DELAY.

        Quick loads never flash an indicator; the indicator goes when the block
        ends, whether it finished, failed or was cancelled by a newer load.
        """
        widgets = [self.query_one(selector, Widget) for selector in selectors]
        finished = False

        def show() -> None:
            # A timer that fires just before the block ends queues this call
            # behind it; without the check the indicator would then stay up,
            # and a loading widget takes no keys.
            if finished:
                return
            for widget in widgets:
                if widget.is_attached:
                    widget.loading = True

        timer = self.set_timer(LOADING_DELAY, show)
        try:
            yield
        finally:
            finished = True
            timer.stop()
            for widget in widgets:
                if widget.is_attached:
                    widget.loading = False
