"""Which paths are synced: include/exclude globs, ignore files at every level, built-ins.

Every rule answers with a reason, because a path that is not synced must be
reported as "not synced (reason)" and never turned into a delete.

Ignore files follow git: a ``.gitignore`` (and a ``.localsyncignore``, same
syntax, read after it so it has the last word in its directory) applies to the
directory it sits in and everything below it; patterns with a slash are
anchored to that directory; within a directory the last matching line wins
(``!`` re-includes); a deeper directory's files override shallower ones; and a
file inside an ignored directory cannot be re-included (git never looks inside
it, and neither do we).
"""

import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pathspec

DEFAULT_INCLUDE = (
    "**/*.md",
    "**/*.markdown",
    "**/*.png",
    "**/*.jpg",
    "**/*.jpeg",
    "**/*.gif",
    "**/*.webp",
    "**/*.svg",
    "**/*.pdf",
)
"""Notes and what notes embed: a vault's images and PDFs sync along with its markdown."""
BUILTIN_IGNORES = (".git/", "node_modules/", ".localsync/")
STATE_DIR = ".localsync"
IGNORE_FILES = (".gitignore", ".localsyncignore")
"""Read in this order in each directory: later lines win."""


class _DirRules:
    """The ignore lines of one directory, with the file each line came from."""

    def __init__(self, spec: pathspec.GitIgnoreSpec, owners: list[str]) -> None:
        self.spec = spec
        self.owners = owners

    def verdict(self, rel: str) -> str | bool | None:
        """The reason ``rel`` is ignored, False when re-included, None when no line matched."""
        result = self.spec.check_file(rel)
        if result.include is None or result.index is None:
            return None
        if not result.include:
            return False
        return f"ignored by {self.owners[result.index]}"


class Rules:
    """Compiled rules for one folder; ``reason`` is None when a path is synced.

    Ignore files are read lazily per directory and kept for the life of the
    object; a scan builds a fresh ``Rules`` so edited ignore files take effect.
    """

    def __init__(
        self,
        root: Path,
        include: Sequence[str] | None,
        exclude: Sequence[str],
        max_bytes: int,
    ) -> None:
        self.root = root
        include_lines = list(include) if include else list(DEFAULT_INCLUDE)
        file_builtins = [p for p in BUILTIN_IGNORES if not p.endswith("/")]
        self.include = _matcher(include_lines)
        self.exclude = _matcher(list(exclude))
        self.builtin = _matcher(list(BUILTIN_IGNORES))
        self.builtin_files = _matcher(file_builtins)
        """Built-ins that can name a file (directory ones are judged by ``dir_reason``)."""
        self._synced = _synced_matcher(include_lines, list(exclude) + file_builtins)
        self.max_bytes = max_bytes
        self._dirs: dict[str, _DirRules | None] = {}
        self._dir_reasons: dict[str, str | None] = {"": None}
        self._any: dict[str, bool] = {}

    def reason(self, path: str) -> str | None:
        """Why ``path`` (POSIX, relative) is not synced, judged on its name alone."""
        parent, _, _ = path.rpartition("/")
        why = self.dir_reason(parent)
        if why is not None:
            return why
        if self.builtin_files(path):
            return "built-in ignore"
        why = self._ignored(path, parent) if self._has_rules(parent) else None
        if why is not None:
            return why
        if self.exclude(path):
            return "excluded"
        if not self.include(path):
            return "not included"
        return None

    def dir_reason(self, rel_dir: str) -> str | None:
        """Why the directory ``rel_dir`` ("" is the root) and all below it is not synced."""
        if rel_dir in self._dir_reasons:
            return self._dir_reasons[rel_dir]
        parent, _, _ = rel_dir.rpartition("/")
        why = self.dir_reason(parent)
        if why is None:
            if self.builtin(rel_dir + "/"):
                why = "built-in ignore"
            else:
                why = self._ignored(rel_dir + "/", parent)
        self._dir_reasons[rel_dir] = why
        return why

    def quick(self, rel_dir: str) -> Callable[[str], object] | None:
        """A one-call test that a file directly in the walked directory ``rel_dir`` is
        synced (truthy), for directories no ignore file applies to; None elsewhere.

        A scan asks about every file, so this spares it ``reason``'s steps where only
        the include and exclude globs decide. A falsy answer proves nothing: ask
        ``reason`` why.
        """
        if self._has_rules(rel_dir) or self.dir_reason(rel_dir) is not None:
            return None
        return self._synced

    def listed(self, rel_dir: str, names: Collection[str]) -> None:
        """The walk listed ``rel_dir``: without an ignore file among ``names`` there is
        nothing to read there (no failed opens per directory)."""
        if rel_dir not in self._dirs and not any(n in names for n in IGNORE_FILES):
            self._dirs[rel_dir] = None

    def skip_dir(self, path: str) -> bool:
        """Directories never worth walking (their whole content is ignored)."""
        return self.dir_reason(path.rstrip("/")) is not None

    def _ignored(self, rel: str, parent: str) -> str | None:
        """The ignore files' verdict on ``rel``: deepest directory with a matching line wins."""
        directory: str | None = parent
        while directory is not None:
            rules = self._rules_of(directory)
            if rules is not None:
                inner = rel[len(directory) + 1 :] if directory else rel
                verdict = rules.verdict(inner)
                if verdict is False:
                    return None
                if verdict is not None:
                    return str(verdict)
            directory = directory.rpartition("/")[0] if directory else None
        return None

    def _has_rules(self, rel_dir: str) -> bool:
        """Whether any ignore file applies inside ``rel_dir`` (cached per directory)."""
        known = self._any.get(rel_dir)
        if known is None:
            parent = rel_dir.rpartition("/")[0]
            known = self._rules_of(rel_dir) is not None or (
                bool(rel_dir) and self._has_rules(parent)
            )
            self._any[rel_dir] = known
        return known

    def _rules_of(self, rel_dir: str) -> _DirRules | None:
        if rel_dir not in self._dirs:
            self._dirs[rel_dir] = _load_dir(self.root, rel_dir)
        return self._dirs[rel_dir]


def _load_dir(root: Path, rel_dir: str) -> _DirRules | None:
    lines: list[str] = []
    owners: list[str] = []
    directory = root / rel_dir if rel_dir else root
    for name in IGNORE_FILES:
        try:
            text = (directory / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        own = f"{rel_dir}/{name}" if rel_dir else name
        for line in text.splitlines():
            if line:  # pathspec drops empty lines; keep ``owners`` aligned with its patterns
                lines.append(line)
                owners.append(own)
    if not lines:
        return None
    # One pattern per non-empty line (comments too, as no-ops), so a match's
    # index names the file its line came from.
    return _DirRules(pathspec.GitIgnoreSpec.from_lines(lines), owners)


def _expression(lines: Sequence[str]) -> str | None:
    """One regular expression matching what ``lines`` match, "" for no pattern, or None
    when a negation makes git's precedence rules (pathspec itself) necessary."""
    spec = pathspec.GitIgnoreSpec.from_lines(list(lines))
    patterns = [p for p in spec.patterns if p.include is not None]
    if any(not p.include for p in patterns):
        return None
    expressions = [_DIR_MARK.sub("(?:", p.regex.pattern) for p in patterns]  # type: ignore[attr-defined]
    return "|".join(f"(?:{e})" for e in expressions)


def _synced_matcher(include: Sequence[str], never: Sequence[str]) -> Callable[[str], object]:
    """Whether a path matches ``include`` and nothing in ``never``, in one call.

    One regular expression (a lookahead refusing ``never``) when both sides are plain
    alternations; otherwise the two matchers in turn.
    """
    wanted, refused = _expression(include), _expression(never)
    if wanted is not None and refused is not None:
        if not wanted:
            return _never
        guard = f"(?!{refused})" if refused else ""
        return re.compile(f"{guard}(?:{wanted})").match
    include_match, never_match = _matcher(include), _matcher(never)
    return lambda path: include_match(path) and not never_match(path)


def _matcher(lines: Sequence[str]) -> Callable[[str], bool]:
    """``GitIgnoreSpec(lines).match_file``, as one regular expression when that is the same.

    A scan asks about every file of the folder, and pathspec normalises the path and
    tries each pattern in Python. Without negations a path matches when any pattern
    does, so the patterns' own expressions joined in one alternation decide alike;
    with a negation, git's precedence rules need pathspec itself. Paths asked about
    are already normalised (POSIX, relative).
    """
    expression = _expression(lines)
    if expression is None:
        return pathspec.GitIgnoreSpec.from_lines(list(lines)).match_file
    if not expression:
        return _never
    match = re.compile(expression).match
    return lambda path: match(path) is not None


_DIR_MARK = re.compile(r"\(\?P<\w+>")
"""pathspec's named groups; renamed away so several patterns fit one expression."""


def _never(_path: str) -> bool:
    return False


def load_rules(
    root: Path,
    include: Sequence[str] | None,
    exclude: Sequence[str],
    max_bytes: int,
) -> Rules:
    return Rules(root, include, exclude, max_bytes)
