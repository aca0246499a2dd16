"""PostgreSQL statistics are refreshed in the background once a source's file count doubles."""

import os
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from backend.services.writes import ANALYZE_FROM
from tests.conftest import PG_ENV
from tests.factories import Api, upsert

pytestmark = pytest.mark.skipif(not os.environ.get(PG_ENV), reason="PostgreSQL statistics")


def _analyzed_at(db_engine: Engine) -> object:
    """When ``files`` was last analyzed by an ``ANALYZE`` statement (not by autovacuum)."""
    with db_engine.connect() as conn:
        return conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'files'")
        ).scalar_one()


def test_growth_past_a_doubling_refreshes_statistics(api: Api, db_engine: Engine) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL statistics")
    sid = api.source()["id"]
    before = _analyzed_at(db_engine)
    for start in range(0, ANALYZE_FROM - 100, 100):
        api.push(sid, *(upsert(f"d/{start + i}.md", f"{start + i}\n") for i in range(100)))
    assert _analyzed_at(db_engine) == before  # not yet: the count has not reached the threshold
    api.push(sid, *(upsert(f"e/{i}.md", f"{i}\n") for i in range(100)))
    deadline = time.monotonic() + 60
    while _analyzed_at(db_engine) == before:
        assert time.monotonic() < deadline, "statistics were not refreshed"
        time.sleep(0.05)  # polling the database's own record of it
