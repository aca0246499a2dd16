"""Theme colours for widgets that take Rich text (trees, tables), not Textual content.

``Static`` widgets get ``Content`` whose styles name theme variables
(``$text-success``...) and follow the theme by themselves. Tree labels and
table cells are Rich ``Text``, so their styles are resolved here against the
current theme; the widgets showing them redraw when the theme changes.
"""

from collections.abc import Mapping

from rich.style import Style as RichStyle
from textual.style import Style


def themed(spec: str, variables: Mapping[str, str]) -> RichStyle:
    """``spec`` (e.g. ``"bold $text-error"``) as a Rich style of the theme's colours.

    Use opaque variables: a translucent one (``$text-muted``) loses its alpha.
    """
    return Style.parse(spec, dict(variables)).rich_style
