"""The per-request DataLoader telling which versions retention pruned.

Beside ``loaders.py`` rather than in it: it asks ``backend.retention``, and a
page of versions asks it once, whatever the number of versions on the page.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from backend.retention.marks import pruned_ids

if TYPE_CHECKING:
    from backend.graphql.context import Context


def _pruned(session: Session, keys: list[int]) -> list[bool]:
    found = pruned_ids(session, keys)
    return [k in found for k in keys]


def pruned(context: "Context") -> DataLoader[int, bool]:
    """Whether each version (by id) was pruned: one query per batch."""

    def build(ctx: "Context") -> DataLoader[int, bool]:
        async def load(keys: list[int]) -> Sequence[bool]:
            return await ctx.read(lambda session: _pruned(session, list(keys)))

        return DataLoader(load_fn=load)

    loader: DataLoader[int, bool] = context.loader("pruned", build)
    return loader
