"""The small coloured mark next to a file's name, in the theme's colours."""

from collections.abc import Mapping

from rich.text import Text

from tui.widgets.theme import themed

_BADGES = {
    "OK": ("●", "$text-success"),
    "CONFLICT": ("⚠ conflict", "bold $text-error"),
    "DELETED": ("✗ deleted", "dim"),
}


def state_badge(state: str, variables: Mapping[str, str]) -> Text:
    """``variables``: the app's ``theme_variables``."""
    mark, spec = _BADGES.get(state, (state.lower(), "$text-warning"))
    return Text(mark, style=themed(spec, variables))
