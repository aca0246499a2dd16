"""A note rendered as markdown off the event loop and drawn one visible line at a time.

Textual's ``Markdown`` widget mounts a widget per block on the event loop: a
note of a thousand lines froze the app for seconds, and keys typed meanwhile
landed wherever the focus happened to be. Here Rich renders the markdown to
lines in a thread worker, section by section, so the first screen shows as
soon as its section is done; the view keeps only those lines and draws the
ones on screen (Textual's line API), so scrolling costs the same at any size.
"""

from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console
from rich.markdown import Markdown
from rich.segment import Segment
from textual import on, work
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

FIRST_PIECE_LINES = 40
"""Source lines rendered before the first screen is shown: small, so it shows at once."""

PIECE_LINES = 300
"""Source lines per later piece: large enough that the thread hands over few messages."""

_FENCES = ("```", "~~~")


def _fence(line: str) -> bool:
    return line.lstrip().startswith(_FENCES)


def _starts_block(line: str, previous: str) -> bool:
    """Whether markdown may be cut just before ``line`` without changing how either side reads.

    Headings start a block wherever they are; a paragraph starts one after a
    blank line. Lists, tables, quotes and indented code are never cut, so each
    stays one block.
    """
    if line.startswith("#"):
        return True
    return previous == "" and line[:1].isalpha()


def split_markdown(text: str, first: int = FIRST_PIECE_LINES, rest: int = PIECE_LINES) -> list[str]:
    """Cut ``text`` into pieces of about ``first``, then ``rest`` lines, that render alone.

    Cuts fall only outside fenced code, before a heading or a paragraph. A
    reference-style link whose definition lies in another piece shows as text.
    """
    pieces: list[str] = []
    current: list[str] = []
    in_fence = False
    previous = ""
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        wanted = first if not pieces else rest
        if not in_fence and len(current) >= wanted and _starts_block(bare, previous.strip()):
            pieces.append("".join(current))
            current = []
        if _fence(bare):
            in_fence = not in_fence
        current.append(line)
        previous = bare
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


def render_markdown(text: str, width: int) -> list[Strip]:
    """The lines ``text`` renders to at ``width`` cells, safe to call from any thread."""
    console = Console(
        width=width, color_system="truecolor", force_terminal=True, legacy_windows=False
    )
    options = console.options.update_width(width)
    lines = console.render_lines(Markdown(text), options, pad=False)
    return [Strip(Segment.simplify(line)) for line in lines]


class NoteView(ScrollView, can_focus=True):
    """Shows one note as rendered markdown; ``show`` it again to replace it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("space", "page_down", "Page down", show=False),
        Binding("home", "top", "Top", show=False),
        Binding("end", "bottom", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    NoteView {
        height: 1fr;
        scrollbar-gutter: stable;
    }
    """

    @dataclass
    class _Piece(Message):
        """Lines of one rendered piece, sent from the render thread."""

        generation: int
        lines: list[Strip]
        last: bool

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text: str | None = None
        """The markdown shown (or being rendered); ``None`` before the first ``show``."""
        self.key: str | None = None
        """What the text is of (a path, a version): a new key starts at the top."""
        self.lines: list[Strip] = []
        self.complete = False
        """Every piece of ``text`` is rendered and shown."""
        self._generation = 0
        self._showing = 0
        """The render whose lines ``lines`` holds."""
        self._widest = 0
        self._rendered_width = 0
        self._pending = False
        """A render is wanted but waits for a width."""

    def show(self, text: str, key: str) -> None:
        """Show ``text``; the same text again changes nothing, so the reading place stays."""
        if (text, key) == (self.text, self.key):
            return
        if key != self.key:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.text, self.key = text, key
        self._restart()

    def action_top(self) -> None:
        """Jump, as a pager does: a smooth scroll over thousands of lines only keeps you waiting."""
        self.scroll_to(y=0, animate=False)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    def _width(self) -> int:
        return self.scrollable_content_region.width

    def _restart(self) -> None:
        """Render ``text`` again; lines of an older render are dropped when they arrive."""
        self._generation += 1
        self.complete = False
        self._pending = True
        self._start()

    def _start(self) -> None:
        """Start the pending render, once the view has a width (a hidden one has none)."""
        width = self._width()
        if not self._pending or self.text is None or width <= 0:
            return
        self._pending = False
        self._rendered_width = width
        self._render_pieces(self.text, width, self._generation)

    def on_resize(self, event: Resize) -> None:
        """A new width renders again; a hidden view keeps its lines for its return."""
        width = self._width()
        if width > 0 and width != self._rendered_width and self.text is not None:
            self._restart()
        else:
            self._start()

    @work(thread=True, exclusive=True, group="render")
    def _render_pieces(self, text: str, width: int, generation: int) -> None:
        worker = get_current_worker()
        pieces = split_markdown(text)
        for number, piece in enumerate(pieces):
            if worker.is_cancelled:
                return
            lines = render_markdown(piece, width)
            if number:
                lines.insert(0, Strip.blank(0))
            self.post_message(self._Piece(generation, lines, number == len(pieces) - 1))

    @on(_Piece)
    def _add_piece(self, message: _Piece) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        if self._showing != message.generation:
            self.lines, self._widest = [], 0
            self._showing = message.generation
        self.lines.extend(message.lines)
        self._widest = max([self._widest, *(line.cell_length for line in message.lines)])
        self.complete = message.last
        self.virtual_size = Size(self._widest, len(self.lines))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self._width()
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        return self.lines[index].crop_extend(scroll_x, scroll_x + width, self.rich_style)
