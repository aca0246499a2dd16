"""The service layer: every rule of Local Sync lives here, behind plain functions.

Adapters (REST, GraphQL) parse input, call one function, and shape its result;
they hold no rule of their own.
"""
