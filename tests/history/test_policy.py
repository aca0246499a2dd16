"""The retention policy as a pure function: what each kind promises, over random timelines."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from backend.retention.policy import (
    DAILY_FOR,
    Entry,
    Policy,
    PolicyError,
    Timeline,
    day_of,
    keep,
    make_policy,
    week_of,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TOMBSTONE_AGE = timedelta(days=90)
HASHES = [f"{i:064x}" for i in range(6)]


@st.composite
def timelines(draw: st.DrawFn) -> Timeline:
    """A file's history over up to 400 days: edits, deletes, pins, maybe an open conflict."""
    ages = sorted(
        draw(st.lists(st.integers(0, 400 * 24 * 3600), min_size=1, max_size=40)), reverse=True
    )
    entries = []
    for seq, age in enumerate(ages, start=1):
        digest = draw(st.none() | st.sampled_from(HASHES))
        pinned = draw(st.booleans()) and draw(st.booleans())
        moment = NOW - timedelta(seconds=age)
        entries.append(Entry(seq * 10, seq, moment, digest, pinned))
    last = entries[-1]
    conflicted = draw(st.booleans()) and last.hash is not None
    conflict_hashes = (
        frozenset(draw(st.lists(st.sampled_from(HASHES), max_size=3)))
        if conflicted
        else frozenset()
    )
    sides = frozenset(e.id for e in entries if conflicted and draw(st.booleans()))
    return Timeline(
        entries=entries,
        current_hash=last.hash,
        open_conflict_hashes=conflict_hashes,
        open_conflict_id="c" if conflicted else None,
        conflict_entry_ids=sides,
    )


policies = st.one_of(
    st.just(Policy()),
    st.integers(1, 10).map(lambda n: make_policy("last", keep_last=n)),
    st.integers(30, 400).map(lambda d: make_policy("staggered", max_age_days=d)),
)


def _must_keep(timeline: Timeline) -> set[int]:
    """Restated from the rules, independently of the implementation."""
    entries = list(timeline.entries)
    must = {e.id for e in entries if e.pinned or e.hash is None}
    must |= {e.id for e in entries if e.hash in timeline.open_conflict_hashes}
    must |= set(timeline.conflict_entry_ids)
    if timeline.current_hash is not None:
        must.add(
            max((e for e in entries if e.hash == timeline.current_hash), key=lambda e: e.seq).id
        )
    else:
        content = [e for e in entries if e.hash is not None]
        if content and NOW - entries[-1].created_at <= TOMBSTONE_AGE:
            must.add(max(content, key=lambda e: e.seq).id)
    return must


@given(timelines(), policies)
def test_protected_versions_are_never_pruned(timeline: Timeline, policy: Policy) -> None:
    assert _must_keep(timeline) <= keep(timeline, policy, NOW, TOMBSTONE_AGE)


@given(timelines(), policies)
def test_nothing_outside_the_timeline_is_kept(timeline: Timeline, policy: Policy) -> None:
    assert keep(timeline, policy, NOW, TOMBSTONE_AGE) <= {e.id for e in timeline.entries}


@given(timelines())
def test_keep_all_keeps_everything(timeline: Timeline) -> None:
    assert keep(timeline, Policy(), NOW, TOMBSTONE_AGE) == {e.id for e in timeline.entries}


@given(timelines(), st.integers(1, 10))
def test_keep_last_keeps_exactly_the_newest_n_plus_protected(timeline: Timeline, n: int) -> None:
    content = sorted((e for e in timeline.entries if e.hash), key=lambda e: e.seq)
    newest = {e.id for e in content[-n:]}
    kept = keep(timeline, make_policy("last", keep_last=n), NOW, TOMBSTONE_AGE)
    assert kept == newest | _must_keep(timeline)


@given(timelines(), st.integers(30, 400))
def test_staggered_keeps_exactly_its_buckets(timeline: Timeline, max_age: int) -> None:
    """Every version of the last day, the newest of each day for 30 days, of each week after."""
    kept = keep(timeline, make_policy("staggered", max_age_days=max_age), NOW, TOMBSTONE_AGE)
    content = [e for e in timeline.entries if e.hash]
    promised = set()
    for e in content:
        age = NOW - e.created_at
        same_day = [o for o in content if day_of(o.created_at) == day_of(e.created_at)]
        same_week = [o for o in content if week_of(o.created_at) == week_of(e.created_at)]
        newest_day = max(same_day, key=lambda o: (o.created_at, o.seq))
        newest_week = max(same_week, key=lambda o: (o.created_at, o.seq))
        every = age <= timedelta(days=1)
        daily = age <= DAILY_FOR and newest_day is e
        weekly = age <= timedelta(days=max_age) and newest_week is e
        if every or daily or weekly:
            promised.add(e.id)
    assert kept == promised | _must_keep(timeline)


@given(timelines(), policies, st.integers(0, 200 * 24 * 3600))
def test_a_later_run_never_wants_back_what_an_earlier_run_pruned(
    timeline: Timeline, policy: Policy, later_by: int
) -> None:
    """Pruning is final, so the policy must be monotone in time (pins and state held fixed)."""
    earlier = keep(timeline, policy, NOW, TOMBSTONE_AGE)
    later = keep(timeline, policy, NOW + timedelta(seconds=later_by), TOMBSTONE_AGE)
    assert later <= earlier


def test_policy_values_are_checked() -> None:
    for kind, last, age in [
        ("sometimes", None, None),
        ("last", 0, None),
        ("last", None, None),
        ("last", 3, 40),
        ("staggered", 3, None),
        ("staggered", None, 7),
        ("all", 3, None),
    ]:
        try:
            make_policy(kind, last, age)
        except PolicyError:
            continue
        raise AssertionError(f"{kind}, {last}, {age} was accepted")
    assert make_policy("staggered").max_age_days == 365
