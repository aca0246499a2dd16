"""Plain words for what the server names in codes: counts, conflict reasons, sides.

Screens show people sentences, not identifiers: ``1 conflict`` and ``2
conflicts``, "edited in laptop and in Raven" rather than ``stale_base``.
"""

from tui.client import ConflictSummary, SideWriters


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 region``, ``2 regions``; ``many`` for nouns not made plural with an s."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def conflict_reason(conflict: ConflictSummary, sides: SideWriters | None) -> str:
    """Why the conflict opened, naming where each side came from."""
    local = sides.local if sides else "the folder"
    remote = sides.remote if sides else "Raven"
    if conflict.local_deleted or conflict.remote_deleted:
        deleter, editor = (local, remote) if conflict.local_deleted else (remote, local)
        return f"deleted in {deleter}, edited in {editor}"
    if conflict.reason == "no_base":
        return f"added in {local} and in {remote}, no common version"
    if conflict.reason == "stale_base" and local == remote:
        return f"edited twice in {local} from the same version"
    if conflict.reason == "stale_base":
        return f"edited in {local} and in {remote}"
    return conflict.reason.replace("_", " ")
