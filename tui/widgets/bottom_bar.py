"""The footer of every app screen, with a line above it while live updates are down.

The footer shows a screen's most important keys and never more than fit on
its line: keys come in the order the screen lists them in ``footer_keys``
(then the rest of its shown keys), the ones that do not fit are left out, and
``?`` (every key, in the help screen) is always shown at the right.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from tui.app import LocalSyncApp

HELP_ACTION = "help"
"""The app's action that lists every key: its key is pinned at the footer's right."""


class LiveStatus(Static):
    """Shows ``app.live_trouble``; hidden while it is empty."""

    def on_mount(self) -> None:
        app = cast("LocalSyncApp", self.app)
        self.watch(app, "live_trouble", self._show)

    def _show(self, trouble: str) -> None:
        self.update(f"⚠ {trouble}" if trouble else "")
        self.display = bool(trouble)


def footer_bindings(screen: Screen[object]) -> Iterator[tuple[Binding, bool, str]]:
    """The shown bindings of ``screen``, most important first, one per action.

    A screen names its most important actions, in order, in ``footer_keys``;
    its other shown keys follow in the order they are bound. The help key is
    left out: the footer pins it.
    """
    seen: set[str] = set()
    shown = [
        (binding, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show and binding.action not in (HELP_ACTION, "app." + HELP_ACTION)
    ]
    order: tuple[str, ...] = getattr(screen, "footer_keys", ())
    rank = {action: i for i, action in enumerate(order)}
    shown.sort(key=lambda item: rank.get(item[0].action, len(rank)))  # stable: bound order
    for binding, enabled, tooltip in shown:
        action = binding.action.removeprefix("app.")  # the app's key for a screen's action
        if action not in seen:
            seen.add(action)
            yield binding, enabled, tooltip


class KeyFooter(Footer):
    """Textual's compact footer, keys in priority order, only those that fit whole."""

    def __init__(self) -> None:
        super().__init__(show_command_palette=False, compact=True)
        self._composed_width = 0

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        app, screen = self.app, self.screen
        width = self.size.width or screen.size.width or app.size.width
        self._composed_width = width
        help_key = next(
            (a.binding for a in screen.active_bindings.values() if a.binding.action == HELP_ACTION),
            None,
        )
        room = width - (_key_width(app.get_key_display(help_key), help_key) if help_key else 0)
        for binding, enabled, tooltip in footer_bindings(screen):
            room -= _key_width(app.get_key_display(binding), binding)
            if room < 0:
                break  # this key and the ones after it: in help only
            yield FooterKey(
                binding.key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if help_key is not None:
            yield FooterKey(
                help_key.key,
                app.get_key_display(help_key),
                help_key.description,
                help_key.action,
                classes="-help-key",
            ).data_bind(compact=Footer.compact)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._composed_width and self._bindings_ready:
            self.call_after_refresh(self.recompose)


def _key_width(shown: str, binding: Binding) -> int:
    """Cells a compact footer key takes: key, space, description, and its right margin."""
    return cell_len(shown) + 1 + cell_len(binding.description) + 1


class BottomBar(Vertical):
    """Docked at the bottom: the live status (when there is one), then the keys."""

    def compose(self) -> ComposeResult:
        yield LiveStatus(id="live-status")
        yield KeyFooter()
