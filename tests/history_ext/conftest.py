"""The GraphQL client fixtures (a real ``gql`` session on the live server) for these tests."""

from tests.graphql.conftest import gq, gql_client, other_gq

__all__ = ["gq", "gql_client", "other_gq"]
