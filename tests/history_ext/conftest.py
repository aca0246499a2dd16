"""Fixtures borrowed for these tests: real ``gql`` sessions and the real connector's CLI."""

from tests.connector.conftest import syncer
from tests.graphql.conftest import gq, gql_client, other_gq

__all__ = ["gq", "gql_client", "other_gq", "syncer"]
