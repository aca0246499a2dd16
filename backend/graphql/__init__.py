"""GraphQL adapter (Strawberry): the primary API for everything beyond the documented REST."""
