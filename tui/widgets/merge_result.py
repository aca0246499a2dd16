"""The merge result drawn at once from what the screen already holds, before the server's.

A choice must show in the result pane without waiting for a round trip (which
takes longer than a keypress on a long file), so the screen renders the text
itself from the sides and the server's spans, the way the server's
``applyDecisions`` does, and shows it at once. The server's answer follows and
replaces it: what is shown last, and what is saved, is always the server's.
A span merged word by word (``WORDS``) exists only in the server's results, so
its lines are taken from the previous one; without one there is no local result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tui.client import Decision, Span

LOCAL_MARKER = "<<<<<<< local"
BASE_MARKER = "||||||| base"
SEPARATOR = "======="
REMOTE_MARKER = ">>>>>>> raven"


def split_lines(text: str | None) -> list[str]:
    r"""Lines with their endings, split on ``\n`` only (as the server counts lines)."""
    if not text:
        return []
    parts = text.split("\n")
    last = parts.pop()
    lines = [part + "\n" for part in parts]
    if last:
        lines.append(last)
    return lines


def _dominant_eol(lines: Iterable[str]) -> str:
    crlf = lf = 0
    for line in lines:
        if line.endswith("\r\n"):
            crlf += 1
        elif line.endswith("\n"):
            lf += 1
    return "\r\n" if crlf > lf else "\n"


def _block(lines: list[str], eol: str) -> str:
    text = "".join(lines)
    return text + eol if text and not text.endswith("\n") else text


def _join(first: list[str], second: list[str], eol: str) -> str:
    head = "".join(first)
    if head and second and not head.endswith("\n"):
        head += eol
    return head + "".join(second)


class LocalResult:
    """Renders results of one conflict; built once, each render is linear in the file."""

    def __init__(self, base: str | None, local: str | None, remote: str | None, spans: list[Span]):
        self.base, self.local, self.remote = (
            split_lines(base),
            split_lines(local),
            split_lines(remote),
        )
        self.spans = spans
        self.eol = _dominant_eol([*self.local, *self.remote, *self.base])

    def _lines(self, span: Span) -> tuple[list[str], list[str], list[str]]:
        return (
            self.local[span.local_start : span.local_start + span.local_count],
            self.base[span.base_start : span.base_start + span.base_count],
            self.remote[span.remote_start : span.remote_start + span.remote_count],
        )

    def render(
        self,
        decisions: Mapping[int, Decision],
        previous: tuple[str, dict[int, tuple[int, int]]] | None,
    ) -> tuple[str, dict[int, tuple[int, int]]] | None:
        """The text and where each region sits in it; None when a WORDS span needs the server."""
        old_lines: list[str] | None = None  # split only if a WORDS span needs it
        old_at = 0  # where the previous result's walk stands, for WORDS spans
        old_regions = previous[1] if previous else {}
        parts: list[str] = []
        regions: dict[int, tuple[int, int]] = {}
        line = 0
        for span in self.spans:
            mine, base, theirs = self._lines(span)
            if span.origin == "CONFLICT" and span.region is not None:
                piece = self._region(mine, base, theirs, decisions.get(span.region))
                old_at += old_regions.get(span.region, (0, 0))[1]
            elif span.origin == "WORDS":
                if previous is None:
                    return None
                if old_lines is None:
                    old_lines = split_lines(previous[0])
                piece = "".join(old_lines[old_at : old_at + span.merged_count])
                old_at += span.merged_count
            else:
                piece = "".join(theirs if span.origin == "RAVEN" else mine)
                old_at += span.merged_count
            count = len(split_lines(piece))
            if span.origin == "CONFLICT" and span.region is not None:
                regions[span.region] = (line, count)
            line += count
            parts.append(piece)
        return "".join(parts), regions

    def _region(
        self, mine: list[str], base: list[str], theirs: list[str], decision: Decision | None
    ) -> str:
        eol = self.eol
        if decision is None:
            marker = "\r\n" if mine and mine[0].endswith("\r\n") else "\n"
            return "".join(
                (
                    LOCAL_MARKER + marker,
                    _block(mine, marker),
                    BASE_MARKER + marker,
                    _block(base, marker),
                    SEPARATOR + marker,
                    _block(theirs, marker),
                    REMOTE_MARKER + marker,
                )
            )
        choice = decision.choice
        if choice == "EDITED":
            return decision.text or ""
        if choice == "LOCAL":
            return "".join(mine)
        if choice == "RAVEN":
            return "".join(theirs)
        if choice == "BASE":
            return "".join(base)
        if choice == "BOTH_LOCAL_FIRST":
            return _join(mine, theirs, eol)
        return _join(theirs, mine, eol)
