"""Two-way diffs for people: line edit scripts, git-style hunks, line pairs, word changes.

Lines are matched with git's own Myers variant (see :mod:`backend.merge.script`)
so what the terminal app shows agrees with ``git diff --no-indent-heuristic``.
Every line carries its raw form, ending included, so hunks can be applied back
byte for byte: CRLF endings and a missing final newline survive a round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from backend.merge.script import Change, edit_script
from backend.merge.text import has_eol, split_lines, strip_eol, tokenize_words

LineKind = Literal["equal", "insert", "delete"]
MAX_CONTEXT = 50


class HunkError(ValueError):
    """A hunk does not fit the text it is applied to."""


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of an edit script.

    ``text`` is the content without its ending, for display. ``raw`` is the line
    exactly as in the file (``"x\\r\\n"``, or ``"x"`` for a last line without a
    newline); it is what :func:`apply_hunks` writes. Left out, it defaults to
    ``text + "\\n"``. Line numbers are 1-based; ``old_no`` is None for inserts
    and ``new_no`` is None for deletes.
    """

    kind: LineKind
    text: str
    old_no: int | None
    new_no: int | None
    raw: str = ""

    def __post_init__(self) -> None:
        if not self.raw:
            object.__setattr__(self, "raw", self.text + "\n")


@dataclass(frozen=True, slots=True)
class Hunk:
    """A unified-diff hunk; the four numbers are what its ``@@`` header prints.

    Starts are 1-based. As in GNU diff and git, a side with count 0 gives the
    line *after which* the change sits (0 for the top of the file).
    """

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]

    def header(self) -> str:
        """``@@ -a,b +c,d @@``, with ``,1`` left out as git does."""
        return f"@@ -{_range(self.old_start, self.old_count)} " + (
            f"+{_range(self.new_start, self.new_count)} @@"
        )


def _range(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


def _equal(line: str, old_no: int, new_no: int) -> DiffLine:
    return DiffLine("equal", strip_eol(line), old_no, new_no, line)


def _emit_change(a: list[str], b: list[str], change: Change, out: list[DiffLine]) -> None:
    """Deletions first, then insertions, as every diff tool prints them."""
    for i in range(change.a_start, change.a_end):
        out.append(DiffLine("delete", strip_eol(a[i]), i + 1, None, a[i]))
    for j in range(change.b_start, change.b_end):
        out.append(DiffLine("insert", strip_eol(b[j]), None, j + 1, b[j]))


def diff_lines(old: str, new: str) -> list[DiffLine]:
    """The full edit script, unchanged lines included."""
    a, b = split_lines(old), split_lines(new)
    out: list[DiffLine] = []
    i = j = 0
    for change in edit_script(a, b):
        for k in range(change.a_start - i):
            out.append(_equal(a[i + k], i + k + 1, j + k + 1))
        _emit_change(a, b, change, out)
        i, j = change.a_end, change.b_end
    for k in range(len(a) - i):
        out.append(_equal(a[i + k], i + k + 1, j + k + 1))
    return out


def _group(changes: list[Change], context: int) -> list[list[Change]]:
    """Changes whose gap is at most twice the context share a hunk (xdl_get_hunk)."""
    groups: list[list[Change]] = []
    for change in changes:
        if groups and change.a_start - groups[-1][-1].a_end <= 2 * context:
            groups[-1].append(change)
        else:
            groups.append([change])
    return groups


def _hunk(a: list[str], b: list[str], group: list[Change], context: int) -> Hunk:
    first, last = group[0], group[-1]
    lead = min(context, first.a_start, first.b_start)
    trail = min(context, len(a) - last.a_end, len(b) - last.b_end)
    s1, s2 = first.a_start - lead, first.b_start - lead
    e1, e2 = last.a_end + trail, last.b_end + trail
    lines: list[DiffLine] = []
    i, j = s1, s2
    for change in group:
        for k in range(change.a_start - i):
            lines.append(_equal(b[j + k], i + k + 1, j + k + 1))
        _emit_change(a, b, change, lines)
        i, j = change.a_end, change.b_end
    for k in range(e1 - i):
        lines.append(_equal(b[j + k], i + k + 1, j + k + 1))
    c1, c2 = e1 - s1, e2 - s2
    return Hunk(s1 + 1 if c1 else s1, c1, s2 + 1 if c2 else s2, c2, tuple(lines))


def hunks(old: str, new: str, context: int = 3) -> list[Hunk]:
    """Unified-diff hunks with ``context`` unchanged lines around each change.

    Hunks whose context would overlap or touch are fused into one, like git.
    """
    if not 0 <= context <= MAX_CONTEXT:
        raise ValueError(f"context must be between 0 and {MAX_CONTEXT}, got {context}")
    a, b = split_lines(old), split_lines(new)
    return [_hunk(a, b, group, context) for group in _group(edit_script(a, b), context)]


def apply_hunks(old: str, hunk_list: Sequence[Hunk]) -> str:
    """Rebuild the new text from the old one and its hunks.

    Context and deleted lines are checked against ``old`` (raw, ending included)
    so a hunk made for another text fails loudly instead of corrupting it.
    """
    a = split_lines(old)
    out: list[str] = []
    pos = 0
    for hunk in hunk_list:
        start = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        if start < pos or start > len(a):
            raise HunkError(f"hunk {hunk.header()} is out of order or past the end")
        out.extend(a[pos:start])
        pos = start
        for line in hunk.lines:
            if line.kind == "insert":
                out.append(line.raw)
                continue
            if pos >= len(a) or a[pos] != line.raw:
                raise HunkError(f"hunk {hunk.header()} does not match old line {pos + 1}")
            if line.kind == "equal":
                out.append(a[pos])
            pos += 1
    out.extend(a[pos:])
    return "".join(out)


def _diff_line_text(prefix: str, raw: str) -> str:
    if has_eol(raw):
        return prefix + raw
    return prefix + raw + "\n\\ No newline at end of file\n"


_PREFIX = {"equal": " ", "insert": "+", "delete": "-"}


def unified_diff(
    old: str, new: str, context: int = 3, old_label: str = "a", new_label: str = "b"
) -> str:
    """The text a person reads in ``git diff``; empty when nothing changed."""
    found = hunks(old, new, context)
    if not found:
        return ""
    parts = [f"--- {old_label}\n", f"+++ {new_label}\n"]
    for hunk in found:
        parts.append(hunk.header() + "\n")
        parts.extend(_diff_line_text(_PREFIX[line.kind], line.raw) for line in hunk.lines)
    return "".join(parts)


def pair_lines(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """Which line of ``old`` to compare with which line of ``new``, as 0-based pairs.

    An inserted or deleted line must not shift the pairs after it, as pairing
    by position would: every later pair would compare unrelated lines. So the
    pairs follow the line edit script. Unchanged lines pair one to one; inside
    a change, the i-th deleted line pairs with the i-th inserted one (most
    likely its edit), and the extra lines of the longer side are insertions or
    deletions without a partner. Pairs come in order on both sides.
    """
    pairs: list[tuple[int, int]] = []
    i = j = 0
    for change in edit_script(old, new):
        pairs.extend(zip(range(i, change.a_start), range(j, change.b_start), strict=True))
        shorter = min(change.a_count, change.b_count)
        pairs.extend((change.a_start + k, change.b_start + k) for k in range(shorter))
        i, j = change.a_end, change.b_end
    pairs.extend(zip(range(i, len(old)), range(j, len(new)), strict=True))
    return pairs


def word_diff(old_line: str, new_line: str) -> list[tuple[LineKind, str]]:
    """What changed inside a line, as runs of equal, deleted and inserted text.

    Works on words, whitespace runs and punctuation runs, so highlighting never
    splits a word; adjacent runs of the same kind are joined.
    """
    a, b = tokenize_words(old_line), tokenize_words(new_line)
    segments: list[tuple[LineKind, str]] = []

    def push(kind: LineKind, text: str) -> None:
        if not text:
            return
        if segments and segments[-1][0] == kind:
            segments[-1] = (kind, segments[-1][1] + text)
        else:
            segments.append((kind, text))

    i = 0
    for change in edit_script(a, b):
        push("equal", "".join(a[i : change.a_start]))
        push("delete", "".join(a[change.a_start : change.a_end]))
        push("insert", "".join(b[change.b_start : change.b_end]))
        i = change.a_end
    push("equal", "".join(a[i:]))
    return segments
