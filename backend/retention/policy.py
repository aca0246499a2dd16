"""Which versions of one file a retention policy keeps: a pure function of facts and a clock.

No database, no web: :func:`keep` takes a file's timeline (its versions with
the facts that protect them) and a policy and answers the ids to keep. The
garbage collector marks every other version pruned and frees the blobs no kept
version needs any more.

Staggered buckets are calendar-aligned (UTC days, weeks starting on Monday)
rather than measured back from ``now``: the newest version of a past day or week
never changes, so what a later run keeps is always a subset of what an earlier
run kept, plus newer versions. A policy never asks back for a version an
earlier run already pruned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

Kind = Literal["all", "last", "staggered"]
KINDS: tuple[Kind, ...] = ("all", "last", "staggered")

ALL_FOR = timedelta(days=1)
"""Staggered: every version younger than this is kept."""
DAILY_FOR = timedelta(days=30)
"""Staggered: up to this age, the newest version of each UTC day is kept."""
DEFAULT_MAX_AGE_DAYS = 365
MAX_KEEP_LAST = 1_000_000
MAX_AGE_LIMIT_DAYS = 100 * 365

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)
"""Weeks are counted from a Monday, so a bucket is a calendar week."""


@dataclass(frozen=True)
class Policy:
    """A source's retention policy.

    ``all`` keeps every version (the default). ``last`` keeps the ``keep_last``
    newest content versions. ``staggered`` keeps every version for a day, the
    newest of each day for 30 days, then the newest of each week up to
    ``max_age_days``, after which versions go (Syncthing's staggered versioning).
    """

    kind: Kind = "all"
    keep_last: int | None = None
    max_age_days: int | None = None


KEEP_ALL = Policy()


class PolicyError(ValueError):
    """A policy that cannot be applied; the message says which value is wrong."""


def make_policy(kind: str, keep_last: int | None = None, max_age_days: int | None = None) -> Policy:
    """A checked policy: each kind takes exactly the values it uses."""
    if kind not in KINDS:
        raise PolicyError(f"kind must be one of {', '.join(KINDS)}")
    if kind == "all":
        if keep_last is not None or max_age_days is not None:
            raise PolicyError("kind 'all' takes neither keepLast nor maxAgeDays")
        return KEEP_ALL
    if kind == "last":
        if max_age_days is not None:
            raise PolicyError("kind 'last' takes keepLast only")
        if not isinstance(keep_last, int) or not 1 <= keep_last <= MAX_KEEP_LAST:
            raise PolicyError(f"keepLast must be a whole number from 1 to {MAX_KEEP_LAST}")
        return Policy("last", keep_last=keep_last)
    if keep_last is not None:
        raise PolicyError("kind 'staggered' takes maxAgeDays only")
    age = DEFAULT_MAX_AGE_DAYS if max_age_days is None else max_age_days
    lowest = DAILY_FOR.days
    if not isinstance(age, int) or not lowest <= age <= MAX_AGE_LIMIT_DAYS:
        raise PolicyError(
            f"maxAgeDays must be a whole number from {lowest} to {MAX_AGE_LIMIT_DAYS}"
        )
    return Policy("staggered", max_age_days=age)


@dataclass(frozen=True)
class Entry:
    """One version as the policy sees it. ``hash`` None is a tombstone (a delete)."""

    id: int
    seq: int
    created_at: datetime
    hash: str | None
    pinned: bool = False


@dataclass(frozen=True)
class Timeline:
    """A file's versions and the state that protects some of them whatever the policy."""

    entries: Sequence[Entry]
    current_hash: str | None
    open_conflict_hashes: frozenset[str] = field(default_factory=frozenset)
    """Base, local and remote hashes of the file's open conflict, if any."""
    open_conflict_id: str | None = None
    conflict_entry_ids: frozenset[int] = field(default_factory=frozenset)
    """Versions recorded as a side of the open conflict."""


def keep(
    timeline: Timeline, policy: Policy, now: datetime, tombstone_max_age: timedelta
) -> set[int]:
    """Ids of the versions to keep: what the policy selects plus what is always protected."""
    return selected(timeline.entries, policy, now) | protected(timeline, now, tombstone_max_age)


def protected(timeline: Timeline, now: datetime, tombstone_max_age: timedelta) -> set[int]:
    """Never pruned, whatever the policy.

    Tombstones (they hold no content, so pruning them frees nothing and would
    hide that a delete happened); the current version; everything an open
    conflict needs; pinned versions; and the last content of a deleted file
    while its tombstone is younger than ``tombstone_max_age``.
    """
    entries = timeline.entries
    kept = {e.id for e in entries if e.hash is None or e.pinned}
    kept |= {
        e.id for e in entries if e.hash is not None and e.hash in timeline.open_conflict_hashes
    }
    kept |= set(timeline.conflict_entry_ids)
    newest_first = sorted(entries, key=lambda e: e.seq, reverse=True)
    if timeline.current_hash is not None:
        current = next((e for e in newest_first if e.hash == timeline.current_hash), None)
        if current is not None:
            kept.add(current.id)
    elif newest_first and newest_first[0].hash is None:
        tombstone = newest_first[0]
        last = next((e for e in newest_first if e.hash is not None), None)
        if last is not None and now - tombstone.created_at <= tombstone_max_age:
            kept.add(last.id)
    return kept


def selected(entries: Iterable[Entry], policy: Policy, now: datetime) -> set[int]:
    """What the policy itself keeps among content versions (protections aside)."""
    content = [e for e in entries if e.hash is not None]
    if policy.kind == "all":
        return {e.id for e in content}
    if policy.kind == "last":
        newest = sorted(content, key=lambda e: e.seq, reverse=True)
        return {e.id for e in newest[: policy.keep_last or 0]}
    return _staggered(content, now, timedelta(days=policy.max_age_days or DEFAULT_MAX_AGE_DAYS))


def _staggered(content: list[Entry], now: datetime, max_age: timedelta) -> set[int]:
    newest_of_day: dict[int, Entry] = {}
    newest_of_week: dict[int, Entry] = {}
    for entry in content:
        for buckets, index in (
            (newest_of_day, day_of(entry.created_at)),
            (newest_of_week, week_of(entry.created_at)),
        ):
            best = buckets.get(index)
            if best is None or _later(entry, best):
                buckets[index] = entry
    kept: set[int] = set()
    for entry in content:
        age = now - entry.created_at
        if (
            age <= ALL_FOR
            or (age <= DAILY_FOR and newest_of_day[day_of(entry.created_at)] is entry)
            or (age <= max_age and newest_of_week[week_of(entry.created_at)] is entry)
        ):
            kept.add(entry.id)
    return kept


def _later(a: Entry, b: Entry) -> bool:
    return (a.created_at, a.seq) > (b.created_at, b.seq)


def day_of(moment: datetime) -> int:
    """The UTC calendar day a moment falls in, as a day number."""
    return (moment - _MONDAY) // _DAY


def week_of(moment: datetime) -> int:
    """The calendar week (Monday to Sunday, UTC) a moment falls in, as a week number."""
    return (moment - _MONDAY) // _WEEK
