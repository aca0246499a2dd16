"""Which paths are synced: include/exclude globs, the folder's .gitignore, built-ins.

Every rule answers with a reason, because a path that is not synced must be
reported as "not synced (reason)" and never turned into a delete.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

DEFAULT_INCLUDE = ("**/*.md",)
BUILTIN_IGNORES = (".git/", "node_modules/", ".localsync/")
STATE_DIR = ".localsync"


@dataclass(frozen=True)
class Rules:
    """Compiled rules; ``reason`` is None when a path is synced."""

    include: pathspec.PathSpec
    exclude: pathspec.PathSpec
    gitignore: pathspec.PathSpec
    builtin: pathspec.PathSpec
    max_bytes: int

    def reason(self, path: str) -> str | None:
        """Why ``path`` (POSIX, relative) is not synced, judged on its name alone."""
        if self.builtin.match_file(path):
            return "built-in ignore"
        if self.gitignore.match_file(path):
            return "ignored by .gitignore"
        if self.exclude.match_file(path):
            return "excluded"
        if not self.include.match_file(path):
            return "not included"
        return None

    def skip_dir(self, path: str) -> bool:
        """Directories never worth walking (their whole content is ignored)."""
        probe = path.rstrip("/") + "/"
        return bool(self.builtin.match_file(probe) or self.gitignore.match_file(probe))


def _spec(lines: Sequence[str]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(lines))


def load_rules(
    root: Path,
    include: Sequence[str] | None,
    exclude: Sequence[str],
    max_bytes: int,
) -> Rules:
    gitignore_lines: list[str] = []
    gi = root / ".gitignore"
    if gi.is_file():
        try:
            gitignore_lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            gitignore_lines = []
    return Rules(
        include=_spec(list(include) if include else list(DEFAULT_INCLUDE)),
        exclude=_spec(list(exclude)),
        gitignore=_spec(gitignore_lines),
        builtin=_spec(list(BUILTIN_IGNORES)),
        max_bytes=max_bytes,
    )
