"""The small coloured mark next to a file's name."""

from rich.text import Text

_BADGES = {
    "OK": ("●", "green"),
    "CONFLICT": ("⚠ conflict", "bold red"),
    "DELETED": ("✗ deleted", "dim"),
}


def state_badge(state: str) -> Text:
    mark, style = _BADGES.get(state, (state.lower(), "yellow"))
    return Text(mark, style=style)
