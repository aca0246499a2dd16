"""``schema.graphql`` is the committed contract: it must match what the server builds and serves."""

from pathlib import Path

import graphql
from graphql import (
    build_client_schema,
    get_introspection_query,
    lexicographic_sort_schema,
    print_schema,
)

from backend.graphql.schema import build_schema
from backend.settings import Settings
from tests.graphql.conftest import Gq

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_code(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret="x" * 32)
    built = build_schema(settings).as_str().strip()
    committed = SDL.read_text(encoding="utf-8").strip()
    assert built == committed, (
        "schema.graphql is out of date with backend/graphql; run `make schema` and commit it"
    )


async def test_served_schema_matches_the_committed_file(gq: Gq) -> None:
    introspection = await gq.run(get_introspection_query(descriptions=True, specified_by_url=True))
    served = build_client_schema(introspection)  # type: ignore[arg-type]
    committed = graphql.build_schema(SDL.read_text(encoding="utf-8"))
    assert print_schema(lexicographic_sort_schema(served)) == print_schema(
        lexicographic_sort_schema(committed)
    )
