"""What one GraphQL operation may cost, known before any resolver runs.

Depth, token and alias limits bound the size of a document, not the work it
asks for: thirty aliases of ``versions(first: 50) { nodes { content } }`` are a
small document that reads 1,500 blobs. Every field that reads content, runs a
diff or a merge, or makes a database round trip of its own has a price here,
multiplied by the page sizes (``first``) of the connections around it, and an
operation whose total is over ``graphql_max_cost`` is refused whole.

Two more terms keep nesting from multiplying unseen. Every object a page
returns costs a little (``NODES_PER_UNIT``), so pages inside pages (500 files
with 500 versions each) are not free because their fields are. And the one
list without a page whose items carry priced fields, a workspace's sources, is
priced by its real length: the extension counts the sources (one COUNT) before
pricing an operation that selects them.

The walk is written here rather than taken from graphql-core: its field
collection lives in an internal module whose signature changes between minor
versions. The document has passed validation when the walk runs, so every
field exists and no fragment spreads itself.
"""

import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_operation_ast,
    type_from_ast,
    value_from_ast,
)
from strawberry.extensions import SchemaExtension

from backend.errors import Unavailable
from backend.graphql.context import Context
from backend.graphql.errors import domain_error, graphql_code
from backend.graphql.types.common import MAX_PAGE
from backend.services.sources import count_sources

PAGE_ARGUMENT = "first"

CONTENT = 1
"""One blob read: a file's or version's text, one side of a conflict."""
ROUND_TRIP = 1
"""A query of its own for each parent object (not batched by a DataLoader)."""
WORDS = 10
"""Word-level diff of one region's lines, three pairs of versions."""
EDIT = 20
"""One edit that may run a three-way merge of two files."""
MERGE = 100
"""A diff or three-way merge over whole files (each up to ``max_file_bytes``)."""
BLAME = 2 * MERGE
"""A walk of up to ``blame_max_versions`` versions, one line diff each: dearer than one
merge, yet within what a client's single screen may ask (a quarter of the budget)."""

FIELD_COSTS: Final[Mapping[str, int]] = {
    # Root lookups.
    "Query.connectors": ROUND_TRIP,
    "Query.sources": ROUND_TRIP,
    "Query.source": ROUND_TRIP,
    "Query.conflict": ROUND_TRIP,
    # Per-parent queries.
    "Source.file": ROUND_TRIP,
    "Source.files": ROUND_TRIP,
    "Source.conflicts": ROUND_TRIP,
    "Source.events": ROUND_TRIP,
    "File.versions": ROUND_TRIP,
    "Conflict.sideAuthors": ROUND_TRIP,
    "Source.retention": ROUND_TRIP,
    "Query.retention": ROUND_TRIP,
    "Query.versionRetention": ROUND_TRIP,
    # Content.
    "File.content": CONTENT,
    "Version.content": CONTENT,
    "File.contentBase64": CONTENT,
    "Version.contentBase64": CONTENT,
    "Conflict.base": CONTENT,
    "Conflict.local": CONTENT,
    "Conflict.remote": CONTENT,
    "Event.payload": CONTENT,
    # Diffs and merges.
    "File.diff": MERGE,
    "Conflict.preview": MERGE,
    "Conflict.applyDecisions": MERGE,
    "ConflictRegion.wordChanges": WORDS,
    "Version.blame": BLAME,
    # Mutations.
    "Mutation.registerConnector": ROUND_TRIP,
    "Mutation.heartbeat": ROUND_TRIP,
    "Mutation.createSource": ROUND_TRIP,
    "Mutation.pauseSource": ROUND_TRIP,
    "Mutation.resumeSource": ROUND_TRIP,
    "Mutation.updateFile": EDIT,
    "Mutation.restoreVersion": EDIT,
    "Mutation.pushBatch": MERGE,
    "Mutation.resolveConflict": MERGE,
    "Mutation.reopenConflict": EDIT,
    "Mutation.setRetention": ROUND_TRIP,
    "Mutation.pinVersion": ROUND_TRIP,
    "Mutation.unpinVersion": ROUND_TRIP,
    # A whole source's collection: bounded per transaction, but long as a whole.
    "Mutation.collectGarbage": MERGE,
    # The live feed.
    "Subscription.sourceEvents": ROUND_TRIP,
}
"""Price of each costly field, keyed ``TypeName.fieldName``; every other field is free.

A field inside a connection pays once per item of the page: ``first`` as sent,
or the argument's default, at most ``MAX_PAGE`` (the resolver refuses more).
Inside ``Query.sources`` a field pays once per source (``SIZED_LISTS``). Other
lists without a page size (a preview's regions) count once: what they return
is bounded by the content they are built from, which the response-size cap
bounds at run time.
"""

NODES_PER_UNIT = 100
"""Objects returned by pages (and sized lists) that cost one unit, rounded up once
per operation: building and encoding an object is cheap, but not free."""

SOURCES = "Query.sources"
SIZED_LISTS: Final[frozenset[str]] = frozenset({SOURCES})
"""Lists without a page whose length is read before pricing: what is inside them
runs once per item, and nothing else bounds how many items there are."""

INTROSPECTION = 100
"""One ``__schema`` or ``__type``: the schema's description, built on the event loop
(about 70 KB for ``__schema`` with every field and argument). A client fetching the
schema asks once; aliased copies multiply the work."""
INTROSPECTION_COSTS: Final[Mapping[str, int]] = {"__schema": INTROSPECTION, "__type": INTROSPECTION}

CODE = "QUERY_TOO_COSTLY"


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    list_sizes: Mapping[str, int] | None = None,
) -> int | None:
    """The cost of the operation ``operation_name`` selects; ``None`` if there is none.

    ``list_sizes`` gives the length of each of ``SIZED_LISTS`` (one item if absent).
    ``@skip`` and ``@include`` are not evaluated: a field that may run is counted.
    """
    walk = _walk(schema, document, operation_name, variables, list_sizes)
    return None if walk is None else walk.total()


def sized_lists(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> set[str]:
    """Which of ``SIZED_LISTS`` the operation selects: their lengths price it."""
    walk = _walk(schema, document, operation_name, variables, None)
    return set() if walk is None else walk.unsized


def _walk(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    list_sizes: Mapping[str, int] | None,
) -> "_Walk | None":
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    values = {**_variable_defaults(schema, operation), **(variables or {})}
    walk = _Walk(fragments, values, list_sizes or {})
    walk.fields = walk.cost(root, [operation.selection_set], 1)
    return walk


def _variable_defaults(schema: GraphQLSchema, operation: OperationDefinitionNode) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        type_ = type_from_ast(schema, definition.type)
        if definition.default_value is None or type_ is None:
            continue
        value = value_from_ast(definition.default_value, type_)  # type: ignore[arg-type]
        if value is not Undefined:
            defaults[definition.variable.name.value] = value
    return defaults


class _Walk:
    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        list_sizes: Mapping[str, int],
    ) -> None:
        self.fragments = fragments
        self.variables = dict(variables)
        self.list_sizes = list_sizes
        self.fields = 0
        """The price of the fields, once :meth:`cost` walked the operation."""
        self.nodes = 0
        """Objects the pages and sized lists return, over the whole operation."""
        self.unsized: set[str] = set()
        """Sized lists met without a length in ``list_sizes``."""

    def total(self) -> int:
        return self.fields + math.ceil(self.nodes / NODES_PER_UNIT)

    def cost(
        self, parent: GraphQLObjectType, selections: Sequence[SelectionSetNode], times: int
    ) -> int:
        """Fields answered under one key run once, so same-key fields merge, as in execution."""
        total = 0
        for nodes in self._collect(selections).values():
            name = nodes[0].name.value
            field = parent.fields.get(name)
            if field is None:  # __typename and introspection
                total += INTROSPECTION_COSTS.get(name, 0) * times
                continue
            key = f"{parent.name}.{name}"
            total += FIELD_COSTS.get(key, 0) * times
            child = get_named_type(field.type)
            below = [n.selection_set for n in nodes if n.selection_set is not None]
            if isinstance(child, GraphQLObjectType) and below:
                items = self._items(key, field, nodes[0])
                if items is None:
                    items = 1
                else:
                    self.nodes += times * items
                total += self.cost(child, below, times * items)
        return total

    def _items(self, key: str, field: GraphQLField, node: FieldNode) -> int | None:
        """How many objects one ``field`` returns: its page or a sized list's length."""
        if key in SIZED_LISTS:
            if key not in self.list_sizes:
                self.unsized.add(key)
            return self.list_sizes.get(key, 1)
        if PAGE_ARGUMENT in field.args:
            return self._page_size(field, node)
        return None

    def _collect(self, selections: Sequence[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """Fields by response key, through fragments; aliases are keys of their own."""
        by_key: dict[str, list[FieldNode]] = {}
        for node in self._fields(list(selections), set()):
            key = node.alias.value if node.alias else node.name.value
            by_key.setdefault(key, []).append(node)
        return by_key

    def _fields(self, pending: list[SelectionSetNode], spread: set[str]) -> Iterator[FieldNode]:
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    yield selection
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in spread:
                        spread.add(name)
                        pending.append(fragment.selection_set)

    def _page_size(self, field: GraphQLField, node: FieldNode) -> int:
        argument = field.args[PAGE_ARGUMENT]
        value = argument.default_value
        for given in node.arguments or ():
            if given.name.value == PAGE_ARGUMENT:
                value = value_from_ast(given.value, argument.type, self.variables)
        if not isinstance(value, int) or isinstance(value, bool):
            # Execution refuses a value that is not an Int; price what it would default to.
            value = argument.default_value if isinstance(argument.default_value, int) else 1
        return max(0, min(value, MAX_PAGE))


def too_costly(cost: int, budget: int) -> GraphQLError:
    return GraphQLError(
        f"query cost {cost} is over the budget of {budget}: ask for smaller pages (first),"
        " fewer aliases or fewer content, diff and preview fields",
        extensions={"code": CODE, "cost": cost, "budget": budget},
    )


class QueryCost(SchemaExtension):
    """Refuse an operation over budget after validation and before any resolver runs."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            variables = context.variables if isinstance(context.variables, dict) else None
            schema = context.schema._schema
            name = context.operation_name
            sizes: dict[str, int] = {}
            if SOURCES in sized_lists(schema, document, name, variables):
                sizes[SOURCES] = await _source_count(context.context)
            cost = operation_cost(schema, document, name, variables, sizes)
            if cost is not None and cost > self.max_cost:
                raise too_costly(cost, self.max_cost)
        yield


async def _source_count(context: object) -> int:
    """The workspace's sources, as ``Query.sources`` will list them.

    Credentials are checked here as the resolver would check them, and a
    refusal (or a busy database) is the error the resolver would give, with its
    code, raised before anything runs.
    """
    if not isinstance(context, Context):
        return 1
    try:
        return await context.read(lambda s: count_sources(s, context.workspace_id))
    except Exception as exc:
        domain = domain_error(exc)
        if domain is None:
            raise
        extensions: dict[str, object] = {"code": graphql_code(domain), "reason": domain.code}
        if isinstance(domain, Unavailable):
            extensions["retryAfter"] = context.runtime.settings.retry_after_seconds
        raise GraphQLError(domain.message, extensions=extensions) from None
