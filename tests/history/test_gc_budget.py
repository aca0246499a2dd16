"""How gc sizes its locked transactions: pure functions, no database."""

from backend.retention.gc import (
    MAX_BUDGET,
    MIN_BUDGET,
    TARGET_LOCK_SECONDS,
    _next_budget,
    _take,
)
from backend.retention.selection import Guard, Proposal, Pruned


def _proposal(file_id: int, versions: int) -> Proposal:
    guard = Guard("h", "ok", versions + 1, None)
    doomed = tuple(
        (file_id * 100 + n, Pruned("s", f"{file_id}.md", n, "h")) for n in range(versions)
    )
    return Proposal(file_id, guard, doomed)


def test_a_transaction_takes_whole_files_up_to_the_budget() -> None:
    proposals = [_proposal(n, 3) for n in range(4)]
    first, rest = _take(proposals, 5)
    assert [p.file_id for p in first] == [0, 1]  # 6 versions: a file is never split
    assert [p.file_id for p in rest] == [2, 3]
    one, rest = _take(rest, 1)
    assert [p.file_id for p in one] == [2] and [p.file_id for p in rest] == [3]
    last, rest = _take(rest, 100)
    assert [p.file_id for p in last] == [3] and rest == []


def test_the_budget_halves_after_a_long_hold_and_grows_after_a_short_one() -> None:
    assert _next_budget(200, TARGET_LOCK_SECONDS * 2) == 100
    assert _next_budget(200, TARGET_LOCK_SECONDS / 4) == 300
    assert _next_budget(200, TARGET_LOCK_SECONDS * 0.75) == 200
    assert _next_budget(MIN_BUDGET, 1.0) == MIN_BUDGET
    assert _next_budget(MAX_BUDGET, 0.0) == MAX_BUDGET
