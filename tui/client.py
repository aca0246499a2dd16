"""The terminal app's only door to the server: typed async calls over GraphQL (gql).

Every method opens a short HTTP session, so a cancelled worker never leaves a
half-used connection behind; ``events`` holds a WebSocket for as long as it is
iterated. Failures surface as the typed errors below, chosen from the server's
``extensions.code`` (and ``extensions.reason`` for the finer cases), or from the
close code when the server ends a live feed (4401, 4403):

ClientError
├── ServerUnreachable   no answer at the URL (refused, timed out, not GraphQL)
├── HttpError           an HTTP error status instead of a GraphQL answer (5xx...)
│   └── NoGraphQLEndpoint   404/405: something answers there, but not our API
├── Unauthenticated     the token is missing, malformed, expired or forged
├── Forbidden           the token does not grant the workspace
├── NotFound            absent, or another workspace's
├── StateConflict       the state forbids the call (paused, mode, resolved...)
│   ├── StaleRevision       the conflict changed since it was loaded
│   └── AlreadyResolved     somebody resolved the conflict first
├── ServerBusy          UNAVAILABLE: up, but busy for now (database, compute queue)
├── TooManyRequests     TOO_MANY_REQUESTS: more at once than the server allows a token
└── InvalidRequest      anything else the server refused
    └── TooMuchAtOnce       QUERY_TOO_COSTLY, RESPONSE_TOO_LARGE: a smaller request works

The refusals a user can do something about (busy, too many, too much) carry a
message that says what happened and what to do, not the server's wording for
API clients; ``title`` heads the message wherever it is shown.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportError, TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from websockets.exceptions import ConnectionClosed

from tui.attachments import describe_binary

Choice = Literal["LOCAL", "RAVEN", "BOTH_LOCAL_FIRST", "BOTH_RAVEN_FIRST", "BASE", "EDITED"]
WholeFile = Literal["KEEP_LOCAL", "KEEP_RAVEN", "KEEP_BOTH"]


class ClientError(Exception):
    """Base of every error the client raises; ``message`` is fit to show a user."""

    title = "Refused"
    """A few words naming the kind of failure, to head ``message``."""

    def __init__(self, message: str, code: str = "", reason: str = "", detail: str = "") -> None:
        super().__init__(f"{message} ({detail})" if detail else message)
        self.message = message
        self.code = code
        self.reason = reason
        self.detail = detail


class ServerUnreachable(ClientError):
    pass


class HttpError(ClientError):
    """The server (or a proxy before it) answered an HTTP error status, not GraphQL.

    Not fatal: something answered, so the address and network are fine, and a
    5xx on one request is usually transient (a restarting server, a proxy that
    lost its upstream). Screens show it as a toast with the status; reloading
    retries. The token and workspace are judged from the GraphQL error codes
    (``Unauthenticated``, ``Forbidden``), never from this status.
    """

    title = "Server error"

    def __init__(self, server: str, status: int | None, detail: str = "") -> None:
        super().__init__(
            f"The server at {server} answered {_http_status(status)}.", "HTTP", detail=detail
        )
        self.status = status


class NoGraphQLEndpoint(HttpError):
    """404 or 405: whatever answers at the address serves no GraphQL API there.

    Fatal, unlike its parent: every request would fail alike until the server
    address is fixed, so it goes to the connect screen.
    """


_NO_ENDPOINT = frozenset({404, 405})
"""Statuses meaning the address is wrong, not that one request failed."""


def error_from_http(server: str, error: TransportServerError) -> HttpError:
    """Pick the typed error for an HTTP error status, by how lasting it is."""
    kind = NoGraphQLEndpoint if error.code in _NO_ENDPOINT else HttpError
    return kind(server, error.code, str(error))


def _http_status(status: int | None) -> str:
    """``HTTP 502 Bad Gateway``: the number for support, the phrase for people."""
    if status is None:
        return "an HTTP error"
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


class Unauthenticated(ClientError):
    pass


class Forbidden(ClientError):
    pass


class NotFound(ClientError):
    pass


class StateConflict(ClientError):
    pass


class StaleRevision(StateConflict):
    pass


class AlreadyResolved(StateConflict):
    pass


class InvalidRequest(ClientError):
    pass


class ServerBusy(ClientError):
    """The server answered, but cannot serve this now: waiting and retrying works.

    Not a connection failure: the address, token and network are fine, so the
    user stays where they are (a live feed retries by itself).
    """

    title = "Server busy"


class TooManyRequests(ClientError):
    """The token holds as many live feeds (or operations) as the server allows at once."""

    title = "Too many at once"


class TooMuchAtOnce(InvalidRequest):
    """The request would cost more, or answer more text, than the server allows."""

    title = "Too much at once"


def _busy(message: str, extensions: Mapping[str, Any]) -> str:
    wait = extensions.get("retryAfter")
    when = f"in {wait} s" if isinstance(wait, int) and wait > 0 else "in a moment"
    return f"The server is busy ({message}). Nothing was changed; try again {when}."


def _too_many(message: str) -> str:
    return (
        f"The server allows no more at once for this token ({message}). Close other "
        "Local Sync windows or terminals using the same token, then reload (r)."
    )


def _too_costly(extensions: Mapping[str, Any]) -> str:
    cost, budget = extensions.get("cost"), extensions.get("budget")
    figures = f" (cost {cost}, the server allows {budget})" if cost and budget else ""
    return (
        f"The server refused a request that asks for too much at once{figures}. "
        "Open a smaller part (fewer files or versions), or ask the server's operator "
        "to raise LOCALSYNC_GRAPHQL_MAX_COST."
    )


def _too_large(extensions: Mapping[str, Any]) -> str:
    limit = extensions.get("limit")
    cap = f" ({limit:,} bytes of text)" if isinstance(limit, int) else ""
    return (
        f"The answer would carry more text than the server sends at once{cap}. "
        "Open one smaller file or version at a time, or ask the server's operator "
        "to raise LOCALSYNC_GRAPHQL_MAX_RESPONSE_BYTES."
    )


def error_from_graphql(error: Mapping[str, Any]) -> ClientError:
    """Pick the typed error for one GraphQL error entry."""
    extensions = error.get("extensions") or {}
    code = str(extensions.get("code", ""))
    reason = str(extensions.get("reason", ""))
    message = str(error.get("message", "the server refused the request"))
    if code == "UNAVAILABLE":
        return ServerBusy(_busy(message, extensions), code, reason, detail=message)
    if code == "TOO_MANY_REQUESTS":
        return TooManyRequests(_too_many(message), code, reason, detail=message)
    if code == "QUERY_TOO_COSTLY":
        return TooMuchAtOnce(_too_costly(extensions), code, reason, detail=message)
    if code == "RESPONSE_TOO_LARGE":
        return TooMuchAtOnce(_too_large(extensions), code, reason, detail=message)
    kind: type[ClientError]
    if code == "UNAUTHENTICATED":
        kind = Unauthenticated
    elif code == "FORBIDDEN":
        kind = Forbidden
    elif code == "NOT_FOUND":
        kind = NotFound
    elif code == "CONFLICT" and reason == "STALE_REVISION":
        kind = StaleRevision
    elif code == "CONFLICT" and reason == "CONFLICT_RESOLVED":
        kind = AlreadyResolved
    elif code == "CONFLICT":
        kind = StateConflict
    else:
        kind = InvalidRequest
    return kind(message, code, reason)


# ---- results ------------------------------------------------------------------


@dataclass(frozen=True)
class SourceInfo:
    id: str
    name: str
    mode: str
    status: str
    connector_name: str | None
    connector_online: bool
    file_count: int
    open_conflicts: int
    last_cursor: int

    @property
    def bidirectional(self) -> bool:
        return self.mode == "BIDIRECTIONAL"


@dataclass(frozen=True)
class FileInfo:
    path: str
    state: str
    hash: str | None
    size: int
    open_conflict_id: str | None


@dataclass(frozen=True)
class FileContent:
    path: str
    state: str
    hash: str | None
    content: str | None
    binary: bool = False
    """An attachment: ``content`` is then a description, never its bytes."""
    size: int = 0
    content_type: str = "text/markdown"


@dataclass(frozen=True)
class VersionInfo:
    seq: int
    hash: str | None
    origin: str
    recorded_at: datetime
    size: int
    deleted: bool
    conflict_id: str | None
    after: str | None = None
    """Where this version sits in the history listing (the cursor before it), to fetch it alone."""
    moved_from: str | None = None
    """Set on the entry a move wrote: the path the file had before."""
    binary: bool = False
    """An attachment's version: shown by type and size, never as text."""


@dataclass(frozen=True)
class DiffLine:
    kind: str
    text: str


@dataclass(frozen=True)
class FileDiff:
    from_hash: str
    to_hash: str
    insertions: int
    deletions: int
    headers: list[str]
    lines: list[DiffLine]


@dataclass(frozen=True)
class ConflictSummary:
    id: str
    source_id: str
    source_name: str
    path: str
    reason: str
    created_at: datetime
    local_hash: str | None = None
    remote_hash: str | None = None
    local_deleted: bool = False
    remote_deleted: bool = False


@dataclass(frozen=True)
class SideWriters:
    """Who wrote each side of a conflict: a connector's name, ``Raven`` or ``a merge``.

    The local side is the one a connector pushed; the other side is whatever
    the file held then, which another folder's connector may have written.
    """

    local: str
    remote: str


@dataclass(frozen=True)
class WordSegment:
    """A run inside a line: ``equal``, ``delete`` (``old`` only) or ``insert`` (``new`` only)."""

    kind: str
    text: str


Version = Literal["BASE", "LOCAL", "REMOTE"]
PairSide = Literal["old", "new"]
"""Which version of a compared pair: the ``old`` one or the ``new`` one."""


@dataclass(frozen=True)
class WordChange:
    """Line ``old_offset`` of the region's ``old`` version against line ``new_offset`` of ``new``.

    The server pairs lines by a line diff, so the two offsets differ once a side
    has inserted or deleted lines before them.
    """

    old: Version
    new: Version
    old_offset: int
    new_offset: int
    segments: tuple[WordSegment, ...]

    def offset(self, rendered: PairSide) -> int:
        """This pair's line number within the region on the ``rendered`` version."""
        return self.old_offset if rendered == "old" else self.new_offset


@dataclass(frozen=True)
class Region:
    index: int
    base: str
    local: str
    remote: str
    word_changes: tuple[WordChange, ...] = ()

    def words(
        self, old: Version, new: Version, rendered: PairSide
    ) -> dict[int, tuple[WordSegment, ...]]:
        """The segments of one version pair, by line offset on the ``rendered`` version.

        Keyed by the side being drawn, since the partner line may sit elsewhere
        on the other version; a line missing from the dict has no partner.
        """
        return {
            c.offset(rendered): c.segments
            for c in self.word_changes
            if (c.old, c.new) == (old, new)
        }


@dataclass(frozen=True)
class Chunk:
    """Either text both sides agree on (``stable``) or a region to decide."""

    stable: str | None
    region: Region | None


SpanOrigin = Literal["UNCHANGED", "LOCAL", "RAVEN", "BOTH", "WORDS", "CONFLICT"]


@dataclass(frozen=True)
class Span:
    """One stretch of the merge, aligned across the versions (0-based first lines).

    ``origin`` says who changed it: nobody, one side (merged automatically), both
    alike, both with word edits that merged, or nobody could (a region to decide).
    """

    origin: SpanOrigin
    base_start: int
    base_count: int
    local_start: int
    local_count: int
    remote_start: int
    remote_count: int
    merged_count: int
    region: int | None


@dataclass(frozen=True)
class ConflictDetail:
    id: str
    source_id: str
    path: str
    status: str
    reason: str
    revision: int
    base: str | None
    local: str | None
    remote: str | None
    base_known: bool
    regions: list[Region]
    spans: list[Span]
    created_at: datetime | None = None
    resolution: str | None = None
    authors: tuple[str, str] = ("local", "Raven")
    """Who wrote the local and the remote side (a connector's name, Raven, a merge)."""
    binary: bool = False
    """A side is an attachment: resolved by keeping a side or both, never merged."""
    local_hash: str | None = None
    remote_hash: str | None = None


@dataclass(frozen=True)
class Decision:
    """One region's choice; ``text`` only for EDITED."""

    index: int
    choice: Choice
    text: str | None = None

    def to_input(self) -> dict[str, Any]:
        return {"index": self.index, "choice": self.choice, "text": self.text}


@dataclass(frozen=True)
class ResolutionPreview:
    text: str
    unresolved: int
    regions: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Where each region sits in ``text``: 0-based first line and line count."""


@dataclass(frozen=True)
class ResolveOutcome:
    status: str
    resolution: str | None
    hash: str | None


@dataclass(frozen=True)
class EditOutcome:
    status: str
    hash: str | None
    conflict_id: str | None


@dataclass(frozen=True)
class LinkState:
    """The live feed's connection: up, or down with why and the wait before retrying."""

    connected: bool
    error: ClientError | None = None
    retry_in: float = 0.0


@dataclass(frozen=True)
class SourceEvent:
    source_id: str
    cursor: int
    type: str
    path: str | None
    payload: dict[str, Any] = field(default_factory=dict)


# ---- documents ----------------------------------------------------------------

_SOURCE_FIELDS = """
  id name mode status lastCursor fileCount openConflictCount
  connector { name online }
"""
_SOURCES = gql("query Sources { sources {" + _SOURCE_FIELDS + "} }")
_SOURCE = gql("query Source($id: ID!) { source(id: $id) {" + _SOURCE_FIELDS + "} }")
_PAUSE = gql("mutation Pause($id: String!) { pauseSource(sourceId: $id) {" + _SOURCE_FIELDS + "} }")
_RESUME = gql(
    "mutation Resume($id: String!) { resumeSource(sourceId: $id) {" + _SOURCE_FIELDS + "} }"
)
_FILES = gql(
    """query Files(
  $id: ID!, $first: Int!, $present: String, $deleted: String,
  $wantPresent: Boolean!, $wantDeleted: Boolean!
) {
  source(id: $id) {
    present: files(first: $first, after: $present) @include(if: $wantPresent) { ...FilePage }
    deleted: files(state: DELETED, first: $first, after: $deleted) @include(if: $wantDeleted) {
      ...FilePage
    }
  }
}

fragment FilePage on FileConnection {
  nodes { path state hash size openConflictId }
  pageInfo { hasNextPage endCursor }
}"""
)
_FILE = gql(
    """query File($id: ID!, $path: String!) {
  source(id: $id) { file(path: $path) { path state hash content binary size contentType } }
}"""
)
_VERSIONS = gql(
    """query Versions($id: ID!, $path: String!, $first: Int!, $after: String) {
  source(id: $id) {
    file(path: $path) {
      versions(first: $first, after: $after) {
        edges {
          cursor
          node { seq hash origin recordedAt size deleted conflictId movedFrom binary }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""
)
_VERSION_CONTENT = gql(
    """query VersionContent($id: ID!, $path: String!, $after: String) {
  source(id: $id) {
    file(path: $path) {
      contentType
      versions(first: 1, after: $after) { nodes { hash content binary size } }
    }
  }
}"""
)
_DIFF = gql(
    """query Diff($id: ID!, $path: String!, $from: String!, $to: String!) {
  source(id: $id) {
    file(path: $path) {
      diff(fromHash: $from, toHash: $to) {
        fromHash toHash insertions deletions
        hunks { header lines { kind text } }
      }
    }
  }
}"""
)
_RESTORE = gql(
    """mutation Restore($id: String!, $path: String!, $hash: String!) {
  restoreVersion(sourceId: $id, path: $path, hash: $hash) { status hash conflictId }
}"""
)
_CONFLICT_PAGE = """
  nodes { id sourceId path reason createdAt localHash remoteHash localDeleted remoteDeleted }
  pageInfo { hasNextPage endCursor }
"""
_INBOX = gql(
    "query Inbox($first: Int!) { sources { id name conflicts(first: $first) {"
    + _CONFLICT_PAGE
    + "} } }"
)
_SOURCE_CONFLICTS = gql(
    "query SourceConflicts($id: ID!, $first: Int!, $after: String) {"
    " source(id: $id) { conflicts(first: $first, after: $after) {" + _CONFLICT_PAGE + "} } }"
)
_WORDS = "wordChanges { old new oldOffset newOffset segments { kind text } }"
_CONFLICT_QUERY = """query Conflict($id: ID!) {
  conflict(id: $id) {
    id sourceId path status reason revision createdAt base local remote resolution
    binary localHash remoteHash
    sideAuthors { local remote }
    preview {
      baseKnown
      spans {
        origin baseLine baseCount localLine localCount remoteLine remoteCount mergedCount region
      }
      regions { index base local remote WORDS }
    }
  }
}"""
_CONFLICT = gql(_CONFLICT_QUERY.replace("WORDS", _WORDS))
_CONFLICT_PLAIN = gql(_CONFLICT_QUERY.replace("WORDS", ""))
"""The same without word changes: what a dense merge still fits in when they do not."""
_APPLY = gql(
    """query Apply($id: ID!, $decisions: [RegionDecisionInput!]!) {
  conflict(id: $id) {
    applyDecisions(decisions: $decisions) { text unresolved regions { index line count } }
  }
}"""
)
_RESOLVE = gql(
    """mutation Resolve(
  $id: String!, $resolution: Resolution, $content: String, $decisions: [RegionDecisionInput!],
  $revision: Int
) {
  resolveConflict(
    conflictId: $id, resolution: $resolution, content: $content, decisions: $decisions,
    revision: $revision
  ) {
    hash
    conflict { status resolution }
  }
}"""
)
_CONNECTORS = gql("query Connectors { connectors { id name } }")
_WRITERS = gql(
    """query Writers($id: ID!, $path: String!, $first: Int!) {
  source(id: $id) {
    file(path: $path) { versions(first: $first) { nodes { hash origin connectorId deleted } } }
  }
}"""
)
_EVENTS = gql(
    """subscription Events($id: String!, $after: Int!) {
  sourceEvents(sourceId: $id, after: $after) { cursor type path payload }
}"""
)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one verifying TLS context every https request and wss feed of the process uses.

    Building one loads the whole CA bundle (40-400 ms): built per request, it
    was the largest cost of a key press that asks the server. httpx's own
    builder keeps its defaults (certifi, ``SSL_CERT_FILE``/``SSL_CERT_DIR``).
    Plain http gets ``verify=False`` and so never loads the bundle.
    """
    return httpx.create_ssl_context()


# ---- the client ---------------------------------------------------------------


class LocalSyncClient:
    """Talks to one server as one workspace; cheap to build, holds no connection."""

    def __init__(self, server: str, token: str, workspace: str, timeout: float = 15) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.workspace = workspace
        self.timeout = timeout

    @property
    def graphql_url(self) -> str:
        return self.server + "/graphql"

    @property
    def websocket_url(self) -> str:
        parts = urlsplit(self.graphql_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "x-workspace-id": self.workspace}

    def _transport(self) -> HTTPXAsyncTransport:
        """A one-request transport; over https it shares the process's one TLS context."""
        https = urlsplit(self.graphql_url).scheme == "https"
        verify: ssl.SSLContext | bool = tls_context() if https else False
        return HTTPXAsyncTransport(
            url=self.graphql_url, headers=self._auth, timeout=10, verify=verify
        )

    async def _execute(self, document: GraphQLRequest, **variables: Any) -> dict[str, Any]:
        request = GraphQLRequest(document, variable_values=variables or None)
        client = Client(transport=self._transport(), execute_timeout=self.timeout)
        try:
            async with client as session:
                result: dict[str, Any] = await session.execute(request)
                return result
        except TransportQueryError as exc:
            raise error_from_graphql(exc.errors[0] if exc.errors else {}) from exc
        except TransportServerError as exc:
            raise error_from_http(self.server, exc) from exc
        except (TransportError, OSError, TimeoutError) as exc:
            # Refused, timed out, or something that is not our GraphQL endpoint.
            raise ServerUnreachable(
                f"No Local Sync server answers at {self.server}.", "UNREACHABLE", detail=str(exc)
            ) from exc

    # -- sources

    async def sources(self) -> list[SourceInfo]:
        data = await self._execute(_SOURCES)
        return [_source(item) for item in data["sources"]]

    async def source(self, source_id: str) -> SourceInfo:
        data = await self._execute(_SOURCE, id=source_id)
        return _source(data["source"])

    async def pause_source(self, source_id: str) -> SourceInfo:
        data = await self._execute(_PAUSE, id=source_id)
        return _source(data["pauseSource"])

    async def resume_source(self, source_id: str) -> SourceInfo:
        data = await self._execute(_RESUME, id=source_id)
        return _source(data["resumeSource"])

    # -- files and history

    async def files(self, source_id: str, *, page_size: int = 100) -> list[FileInfo]:
        """Every file of the source by path, deleted ones included.

        The server lists deleted files only when asked for them by state, yet a
        deleted file keeps its history, which the user must be able to reach.
        Each request carries both listings, each paged on its own cursor, so a
        source takes one round trip per page of its longer listing. A file that
        changes state between pages keeps the entry fetched last.
        """
        pending: dict[str, str | None] = {"present": None, "deleted": None}
        found: dict[str, FileInfo] = {}
        while pending:
            data = await self._execute(
                _FILES,
                id=source_id,
                first=page_size,
                present=pending.get("present"),
                deleted=pending.get("deleted"),
                wantPresent="present" in pending,
                wantDeleted="deleted" in pending,
            )
            for listing in list(pending):
                page = data["source"][listing]
                found.update((n["path"], _file_info(n)) for n in page["nodes"])
                if page["pageInfo"]["hasNextPage"]:
                    pending[listing] = page["pageInfo"]["endCursor"]
                else:
                    del pending[listing]
        return sorted(found.values(), key=lambda f: f.path)

    async def file(self, source_id: str, path: str) -> FileContent:
        data = await self._execute(_FILE, id=source_id, path=path)
        node = data["source"]["file"]
        if node is None:
            raise NotFound(f"{path} is not in this source", "NOT_FOUND")
        if node["binary"]:
            note = describe_binary(node["size"], node["contentType"])
            return FileContent(
                node["path"],
                node["state"],
                node["hash"],
                note,
                binary=True,
                size=node["size"],
                content_type=node["contentType"],
            )
        return FileContent(node["path"], node["state"], node["hash"], node["content"])

    async def versions(
        self, source_id: str, path: str, *, page_size: int = 200
    ) -> list[VersionInfo]:
        """The whole history of ``path``, newest first, fetched ``page_size`` at a time.

        The history screen diffs and restores any version, so none may be cut off.
        """
        found: list[VersionInfo] = []
        after: str | None = None
        while True:
            data = await self._execute(
                _VERSIONS, id=source_id, path=path, first=page_size, after=after
            )
            node = data["source"]["file"]
            if node is None:
                raise NotFound(f"{path} is not in this source", "NOT_FOUND")
            page = node["versions"]
            for edge in page["edges"]:
                found.append(_version(edge["node"], after))
                after = edge["cursor"]
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    async def version_content(self, source_id: str, path: str, version: VersionInfo) -> str | None:
        """The whole content of one ``version`` of ``path`` (``None`` for a deletion).

        An attachment's version is described ("binary, N bytes, type"), never shown as text.

        Fetched alone, as the one entry of the history after ``version.after``,
        so previewing a version never carries the text of the others.
        """
        data = await self._execute(_VERSION_CONTENT, id=source_id, path=path, after=version.after)
        node = data["source"]["file"]
        if node is None:
            raise NotFound(f"{path} is not in this source", "NOT_FOUND")
        nodes = node["versions"]["nodes"]
        if not nodes or nodes[0]["hash"] != version.hash:
            raise NotFound(f"This version of {path} is no longer in its history", "NOT_FOUND")
        if nodes[0]["binary"]:
            return describe_binary(nodes[0]["size"], node["contentType"])
        content: str | None = nodes[0]["content"]
        return content

    async def diff(self, source_id: str, path: str, from_hash: str, to_hash: str) -> FileDiff:
        data = await self._execute(
            _DIFF, id=source_id, path=path, **{"from": from_hash, "to": to_hash}
        )
        node = data["source"]["file"]
        if node is None:
            raise NotFound(f"{path} is not in this source", "NOT_FOUND")
        diff = node["diff"]
        lines: list[DiffLine] = []
        headers: list[str] = []
        for hunk in diff["hunks"]:
            headers.append(hunk["header"])
            lines.append(DiffLine("header", hunk["header"]))
            lines.extend(DiffLine(line["kind"], line["text"]) for line in hunk["lines"])
        return FileDiff(
            diff["fromHash"], diff["toHash"], diff["insertions"], diff["deletions"], headers, lines
        )

    async def restore_version(self, source_id: str, path: str, version_hash: str) -> EditOutcome:
        data = await self._execute(_RESTORE, id=source_id, path=path, hash=version_hash)
        node = data["restoreVersion"]
        return EditOutcome(node["status"], node["hash"], node["conflictId"])

    # -- conflicts

    async def open_conflicts(self, *, page_size: int = 100) -> list[ConflictSummary]:
        """Every open conflict of the workspace, oldest first.

        One query brings each source's first ``page_size`` conflicts; a source
        with more is paged on its own, so a busy source hides none of them.
        """
        data = await self._execute(_INBOX, first=page_size)
        found: list[ConflictSummary] = []
        for source in data["sources"]:
            nodes = await self._all_conflicts(source["id"], source["conflicts"], page_size)
            found.extend(
                ConflictSummary(
                    id=c["id"],
                    source_id=c["sourceId"],
                    source_name=source["name"],
                    path=c["path"],
                    reason=c["reason"],
                    created_at=_time(c["createdAt"]),
                    local_hash=c.get("localHash"),
                    remote_hash=c.get("remoteHash"),
                    local_deleted=bool(c.get("localDeleted")),
                    remote_deleted=bool(c.get("remoteDeleted")),
                )
                for c in nodes
            )
        return sorted(found, key=lambda c: c.created_at)

    async def _all_conflicts(
        self, source_id: str, page: Mapping[str, Any], page_size: int
    ) -> list[dict[str, Any]]:
        """The conflict nodes of ``page`` and of every page after it."""
        nodes = list(page["nodes"])
        while page["pageInfo"]["hasNextPage"]:
            data = await self._execute(
                _SOURCE_CONFLICTS,
                id=source_id,
                first=page_size,
                after=page["pageInfo"]["endCursor"],
            )
            page = data["source"]["conflicts"]
            nodes.extend(page["nodes"])
        return nodes

    async def conflict(self, conflict_id: str, *, word_changes: bool = True) -> ConflictDetail:
        """The conflict, its sides and merge spans; ``word_changes=False`` asks for less."""
        data = await self._execute(_CONFLICT if word_changes else _CONFLICT_PLAIN, id=conflict_id)
        node = data["conflict"]
        preview = node["preview"]
        return ConflictDetail(
            id=node["id"],
            source_id=node["sourceId"],
            path=node["path"],
            status=node["status"],
            reason=node["reason"],
            revision=node["revision"],
            base=node["base"],
            local=node["local"],
            remote=node["remote"],
            resolution=node["resolution"],
            created_at=_time(node["createdAt"]),
            authors=(node["sideAuthors"]["local"], node["sideAuthors"]["remote"]),
            binary=node["binary"],
            local_hash=node["localHash"],
            remote_hash=node["remoteHash"],
            base_known=preview["baseKnown"],
            regions=[_region(r) for r in preview["regions"]],
            spans=[_span(s) for s in preview["spans"]],
        )

    async def apply_decisions(
        self, conflict_id: str, decisions: Sequence[Decision]
    ) -> ResolutionPreview:
        data = await self._execute(
            _APPLY, id=conflict_id, decisions=[d.to_input() for d in decisions]
        )
        node = data["conflict"]["applyDecisions"]
        regions = {r["index"]: (r["line"] - 1, r["count"]) for r in node["regions"]}
        return ResolutionPreview(node["text"], node["unresolved"], regions)

    async def resolve_conflict(
        self,
        conflict_id: str,
        *,
        revision: int,
        decisions: Sequence[Decision] | None = None,
        whole_file: WholeFile | None = None,
        content: str | None = None,
    ) -> ResolveOutcome:
        """Resolve by region decisions, a whole-file choice or a text of the user's own.

        ``revision`` is the one the user looked at: the server refuses a stale view.
        """
        if [decisions, whole_file, content].count(None) != 2:
            raise ValueError("give exactly one of decisions, whole_file or content")
        data = await self._execute(
            _RESOLVE,
            id=conflict_id,
            revision=revision,
            resolution="MANUAL_MERGE" if content is not None else whole_file,
            content=content,
            decisions=None if decisions is None else [d.to_input() for d in decisions],
        )
        node = data["resolveConflict"]
        conflict = node["conflict"]
        return ResolveOutcome(conflict["status"], conflict["resolution"], node["hash"])

    async def side_writers(
        self, conflicts: Sequence[ConflictSummary], *, history: int = 50
    ) -> dict[str, SideWriters]:
        """Who wrote each side of ``conflicts``, by conflict id, from each file's history.

        A side is matched to the newest of the file's last ``history`` versions
        with its content (or its deletion); a side found nowhere there is named
        by where that side usually comes from (the folder, or Raven).
        """
        if not conflicts:
            return {}
        data = await self._execute(_CONNECTORS)
        names = {c["id"]: c["name"] for c in data["connectors"]}
        found = await asyncio.gather(*(self._writers(c, names, history) for c in conflicts))
        return {c.id: writers for c, writers in zip(conflicts, found, strict=True)}

    async def _writers(
        self, conflict: ConflictSummary, names: Mapping[str, str], history: int
    ) -> SideWriters:
        data = await self._execute(
            _WRITERS, id=conflict.source_id, path=conflict.path, first=history
        )
        node = data["source"]["file"] if data["source"] else None
        versions = node["versions"]["nodes"] if node else []

        def writer(digest: str | None, deleted: bool, usual: str) -> str:
            for version in versions:  # newest first
                if (deleted and version["deleted"]) or (
                    not deleted and digest is not None and version["hash"] == digest
                ):
                    if version["origin"] == "RAVEN":
                        return "Raven"
                    if version["origin"] == "MERGE":
                        return "a merge"
                    return names.get(version["connectorId"] or "", "a folder")
            return usual

        return SideWriters(
            local=writer(conflict.local_hash, conflict.local_deleted, "the folder"),
            remote=writer(conflict.remote_hash, conflict.remote_deleted, "Raven"),
        )

    # -- live events

    async def events(self, source_id: str, after: int) -> AsyncIterator[SourceEvent]:
        """Events after ``after``, then new ones as they commit, until cancelled."""
        async with aclosing(self._stream(source_id, after)) as stream:
            async for item in stream:
                if item is not None:
                    yield item

    async def live_events(
        self,
        source_id: str,
        after: int,
        *,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        fresh_token: Callable[[], str | None] | None = None,
    ) -> AsyncGenerator[SourceEvent | LinkState]:
        """``events`` that survive a dropped connection and an expired token.

        Yields ``LinkState(True)`` each time the subscription is up and
        ``LinkState(False, error, delay)`` when it drops; then waits ``delay``
        (doubling from ``first_delay`` up to ``max_delay``, reset by a good
        connection) and subscribes again after the last event seen, so nothing
        is missed or repeated.

        When the server ends the feed because the token expired or was refused
        (close 4401), ``fresh_token()`` is asked for the token to go on with: a
        different one resumes at once after the last event seen; none, or the
        same one again, raises ``Unauthenticated``. The other errors (workspace,
        unknown source) are raised as they come.
        """
        cursor, token = after, self.token
        delay = first_delay
        while True:
            error: ClientError
            wait = delay
            try:
                async with aclosing(self._stream(source_id, cursor, token)) as stream:
                    async for item in stream:
                        if item is None:
                            delay = first_delay
                            yield LinkState(True)
                        else:
                            cursor = item.cursor
                            yield item
                error = ServerUnreachable(
                    f"The server ended the live feed of {self.server}.", "UNREACHABLE"
                )
            except (ServerUnreachable, ServerBusy) as exc:
                error = exc
            except Unauthenticated as exc:
                renewed = fresh_token() if fresh_token is not None else None
                if not renewed or renewed == token:
                    raise
                error, token, wait = exc, renewed, 0.0
            yield LinkState(False, error, wait)
            if wait:
                await asyncio.sleep(wait)
                delay = min(delay * 2, max_delay)

    async def _stream(
        self, source_id: str, after: int, token: str | None = None
    ) -> AsyncGenerator[SourceEvent | None]:
        """One subscription (with ``token`` instead of the client's): ``None`` once
        connected, then its events."""
        auth = {"Authorization": f"Bearer {token or self.token}", "x-workspace-id": self.workspace}
        transport = WebsocketsTransport(
            url=self.websocket_url,
            init_payload=auth,
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            connect_timeout=10,
            ssl=tls_context() if self.websocket_url.startswith("wss:") else False,
        )
        request = GraphQLRequest(_EVENTS, variable_values={"id": source_id, "after": after})
        try:
            async with Client(transport=transport) as session:
                yield None
                async for item in session.subscribe(request):
                    node = item["sourceEvents"]
                    yield SourceEvent(
                        source_id=source_id,
                        cursor=node["cursor"],
                        type=node["type"],
                        path=node["path"],
                        payload=node["payload"] if isinstance(node["payload"], dict) else {},
                    )
        except TransportQueryError as exc:
            raise error_from_graphql(exc.errors[0] if exc.errors else {}) from exc
        except (TransportError, OSError, TimeoutError) as exc:
            raise self._feed_closed(exc) from exc

    def _feed_closed(self, exc: BaseException) -> ClientError:
        """Why the live connection ended: the server's close code says if it was the token."""
        code, reason = _close_frame(exc)
        if code == CLOSE_UNAUTHENTICATED:
            return Unauthenticated(reason or "The server refused the token.", "UNAUTHENTICATED")
        if code == CLOSE_FORBIDDEN:
            return Forbidden(reason or "The token does not grant the workspace.", "FORBIDDEN")
        return ServerUnreachable(
            f"Lost the live connection to {self.server}.", "UNREACHABLE", detail=str(exc)
        )

    # -- blame, undoing a resolution, retention

    async def blame(
        self, source_id: str, path: str, version: VersionInfo, *, max_versions: int | None = None
    ) -> BlameInfo:
        """Who introduced each line of ``version``; the server caps how far back it walks."""
        data = await self._execute(
            _BLAME, id=source_id, path=path, after=version.after, max=max_versions
        )
        node = data["source"]["file"] if data["source"] else None
        if node is None:
            raise NotFound(f"{path} is not in this source", "NOT_FOUND")
        nodes = node["versions"]["nodes"]
        if not nodes or nodes[0]["seq"] != version.seq:
            raise NotFound(f"This version of {path} is no longer in its history", "NOT_FOUND")
        blame = nodes[0]["blame"]
        return BlameInfo(
            seq=blame["seq"],
            lines=[_blame_line(line) for line in blame["lines"]],
            stops_at=blame["stopsAt"],
            note=blame["note"],
        )

    async def history_marks(self, source_id: str, path: str, *, first: int = 500) -> HistoryMarks:
        """What the history list marks: pins, pruned versions, resolutions, the current hash.

        Covers the newest ``first`` versions, as many as the server pages at once.
        """
        data = await self._execute(_MARKS, id=source_id, path=path, first=first)
        node = data["source"]["file"] if data["source"] else None
        if node is None:
            raise NotFound(f"{path} is not in this source", "NOT_FOUND")
        resolutions = {
            v["seq"]: v["operationId"].removeprefix(_RESOLVE_OPERATION)
            for v in node["versions"]["nodes"]
            if v["origin"] == "MERGE" and (v["operationId"] or "").startswith(_RESOLVE_OPERATION)
        }
        statuses = data["versionRetention"]
        return HistoryMarks(
            current_hash=node["hash"],
            pinned=frozenset(s["seq"] for s in statuses if s["pinned"]),
            pruned=frozenset(s["seq"] for s in statuses if s["pruned"]),
            resolutions=resolutions,
        )

    async def reopen_conflict(
        self, conflict_id: str, expected_file_hash: str | None
    ) -> ReopenOutcome:
        """Undo a resolution; refused (with a code) once the file changed after it."""
        data = await self._execute(_REOPEN, id=conflict_id, expected=expected_file_hash)
        node = data["reopenConflict"]
        return ReopenOutcome(node["conflict"]["id"], node["conflict"]["status"], node["hash"])

    async def retention(self, source_id: str) -> RetentionInfo:
        data = await self._execute(_RETENTION, id=source_id)
        return _retention(data["retention"])

    async def set_retention(
        self,
        source_id: str,
        kind: RetentionKind,
        *,
        keep_last: int | None = None,
        max_age_days: int | None = None,
    ) -> RetentionInfo:
        """Replace the source's policy; the server checks the numbers (INVALID_RETENTION)."""
        data = await self._execute(
            _SET_RETENTION, id=source_id, kind=kind, keepLast=keep_last, maxAgeDays=max_age_days
        )
        return _retention(data["setRetention"])

    async def pin_version(self, source_id: str, path: str, seq: int, *, pinned: bool) -> bool:
        """Pin (or unpin) version ``seq``; answers whether it is pinned now."""
        document = _PIN if pinned else _UNPIN
        data = await self._execute(document, id=source_id, path=path, seq=seq)
        node = data["pinVersion" if pinned else "unpinVersion"]
        return bool(node["pinned"])


CLOSE_UNAUTHENTICATED = 4401
"""graphql-transport-ws close code: the token is missing, refused or expired."""
CLOSE_FORBIDDEN = 4403
"""graphql-transport-ws close code: the token does not grant the workspace."""


def _close_frame(exc: BaseException) -> tuple[int | None, str]:
    """The close code and reason the server sent, found under gql's wrapping errors."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionClosed) and seen.rcvd is not None:
            return seen.rcvd.code, seen.rcvd.reason
        seen = seen.__cause__ or seen.__context__
    return None, ""


def _source(node: Mapping[str, Any]) -> SourceInfo:
    connector = node.get("connector") or {}
    return SourceInfo(
        id=node["id"],
        name=node["name"],
        mode=node["mode"],
        status=node["status"],
        connector_name=connector.get("name"),
        connector_online=bool(connector.get("online")),
        file_count=node["fileCount"],
        open_conflicts=node["openConflictCount"],
        last_cursor=node["lastCursor"],
    )


def _region(node: Mapping[str, Any]) -> Region:
    changes = tuple(
        WordChange(
            old=c["old"],
            new=c["new"],
            old_offset=c["oldOffset"],
            new_offset=c["newOffset"],
            segments=tuple(WordSegment(s["kind"], s["text"]) for s in c["segments"]),
        )
        for c in node.get("wordChanges") or ()
    )
    return Region(node["index"], node["base"], node["local"], node["remote"], changes)


def _span(node: Mapping[str, Any]) -> Span:
    return Span(
        origin=node["origin"],
        base_start=node["baseLine"] - 1,
        base_count=node["baseCount"],
        local_start=node["localLine"] - 1,
        local_count=node["localCount"],
        remote_start=node["remoteLine"] - 1,
        remote_count=node["remoteCount"],
        merged_count=node["mergedCount"],
        region=node["region"],
    )


def _file_info(node: Mapping[str, Any]) -> FileInfo:
    return FileInfo(node["path"], node["state"], node["hash"], node["size"], node["openConflictId"])


def _version(node: Mapping[str, Any], after: str | None = None) -> VersionInfo:
    return VersionInfo(
        seq=node["seq"],
        hash=node["hash"],
        origin=node["origin"],
        recorded_at=_time(node["recordedAt"]),
        size=node["size"],
        deleted=node["deleted"],
        conflict_id=node["conflictId"],
        after=after,
        moved_from=node.get("movedFrom"),
        binary=bool(node.get("binary")),
    )


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---- blame, undoing a resolution, retention ---------------------------------------

RetentionKind = Literal["ALL", "LAST", "STAGGERED"]


@dataclass(frozen=True)
class BlameLineInfo:
    line_no: int
    text: str
    seq: int
    """The version that introduced the line."""
    author: str
    origin: str
    recorded_at: datetime
    or_older: bool
    """The walk stopped at ``seq``: the line may be older still."""


@dataclass(frozen=True)
class BlameInfo:
    seq: int
    lines: list[BlameLineInfo]
    stops_at: int | None
    note: str | None
    """The server's "blame stops at version N ..." when the walk stopped short."""


@dataclass(frozen=True)
class HistoryMarks:
    current_hash: str | None
    """The file's hash when the marks were read: what an undo expects it still to be."""
    pinned: frozenset[int] = frozenset()
    pruned: frozenset[int] = frozenset()
    resolutions: dict[int, str] = field(default_factory=dict)
    """Conflict id by the seq of the version that resolved it."""


@dataclass(frozen=True)
class ReopenOutcome:
    conflict_id: str
    status: str
    hash: str | None


@dataclass(frozen=True)
class RetentionInfo:
    kind: RetentionKind
    keep_last: int | None
    max_age_days: int | None


_RESOLVE_OPERATION = "resolve:"
"""A resolution's version carries ``resolve:<conflict id>`` as its operation."""

_BLAME = gql(
    """query Blame($id: ID!, $path: String!, $after: String, $max: Int) {
  source(id: $id) {
    file(path: $path) {
      versions(first: 1, after: $after) {
        nodes {
          seq
          blame(maxVersions: $max) {
            seq stopsAt note
            lines { lineNo text seq author origin recordedAt orOlder }
          }
        }
      }
    }
  }
}"""
)
_MARKS = gql(
    """query HistoryMarks($id: ID!, $path: String!, $first: Int!) {
  source(id: $id) {
    file(path: $path) { hash versions(first: $first) { nodes { seq origin operationId } } }
  }
  versionRetention(sourceId: $id, path: $path, first: $first) { seq pinned pruned }
}"""
)
_REOPEN = gql(
    """mutation Reopen($id: String!, $expected: String) {
  reopenConflict(conflictId: $id, expectedFileHash: $expected) { hash conflict { id status } }
}"""
)
_POLICY = "kind keepLast maxAgeDays"
_RETENTION = gql("query Retention($id: ID!) { retention(sourceId: $id) {" + _POLICY + "} }")
_SET_RETENTION = gql(
    """mutation SetRetention(
  $id: ID!, $kind: RetentionKind!, $keepLast: Int, $maxAgeDays: Int
) {
  setRetention(sourceId: $id, kind: $kind, keepLast: $keepLast, maxAgeDays: $maxAgeDays) {"""
    + _POLICY
    + "} }"
)
_PIN = gql(
    """mutation Pin($id: ID!, $path: String!, $seq: Int!) {
  pinVersion(sourceId: $id, path: $path, seq: $seq) { seq pinned }
}"""
)
_UNPIN = gql(
    """mutation Unpin($id: ID!, $path: String!, $seq: Int!) {
  unpinVersion(sourceId: $id, path: $path, seq: $seq) { seq pinned }
}"""
)


def _blame_line(node: Mapping[str, Any]) -> BlameLineInfo:
    return BlameLineInfo(
        line_no=node["lineNo"],
        text=node["text"],
        seq=node["seq"],
        author=node["author"],
        origin=node["origin"],
        recorded_at=_time(node["recordedAt"]),
        or_older=node["orOlder"],
    )


def _retention(node: Mapping[str, Any]) -> RetentionInfo:
    return RetentionInfo(node["kind"], node["keepLast"], node["maxAgeDays"])
