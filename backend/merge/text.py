"""Cutting text into lines and words without losing a single character.

Every function here is lossless: joining what it returns gives back the input, so
the merge engine can work on pieces and still reproduce line endings (CRLF stays
CRLF) and a missing final newline byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def split_lines(text: str) -> list[str]:
    r"""Split on ``\n`` only, keeping each line's ending.

    ``str.splitlines`` is not used: it also breaks on a lone ``\r``, form feeds and
    Unicode separators, which git (our reference for merges) treats as ordinary
    characters. The last line keeps no ending when the text has no final newline,
    and an empty text has no lines at all.
    """
    if not text:
        return []
    parts = text.split("\n")
    last = parts.pop()
    lines = [part + "\n" for part in parts]
    if last:
        lines.append(last)
    return lines


def strip_eol(line: str) -> str:
    r"""Drop a trailing ``\n`` or ``\r\n`` so a UI can show the content alone."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def has_eol(line: str) -> bool:
    """Only a file's last line may lack an ending; callers must not glue text to it."""
    return line.endswith("\n")


def dominant_eol(lines: Iterable[str]) -> str:
    r"""Pick the ending most lines use, so text we add blends into the file.

    Ties and files without any ending fall back to ``\n``.
    """
    crlf = lf = 0
    for line in lines:
        if line.endswith("\r\n"):
            crlf += 1
        elif line.endswith("\n"):
            lf += 1
    return "\r\n" if crlf > lf else "\n"


def tokenize_words(text: str) -> list[str]:
    """Split into words, whitespace runs and punctuation runs.

    Separators are tokens of their own so that ``"".join(tokens) == text``; a word
    edit then never touches the spaces or newlines around it, which lets two people
    edit different words of one long markdown paragraph without a conflict.
    """
    return _WORD_TOKEN.findall(text)
