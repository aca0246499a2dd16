"""GraphQL object types, one module per family, each with ``from_model`` builders."""
