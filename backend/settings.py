"""Configuration: the one place that reads the environment (``LOCALSYNC_*``)."""

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("localsync", appauthor=False))


class Settings(BaseSettings):
    """Everything a deployment can tune; passed explicitly, never read from a global."""

    model_config = SettingsConfigDict(env_prefix="LOCALSYNC_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where the embedded SQLite database and the generated JWT secret live."""

    database_url: str | None = None
    """SQLAlchemy URL; unset means a SQLite file in ``data_dir``."""

    jwt_secret: str | None = None
    """HMAC secret for tokens; unset means a random one created once in ``data_dir``."""

    jwt_algorithm: str = "HS256"
    """Signing algorithm; HMAC only, so the server and ``localsync token`` share one secret."""

    jwt_issuer: str | None = None
    """When set, tokens must carry this ``iss`` (and ``localsync token`` writes it)."""

    jwt_audience: str | None = None
    """When set, tokens must carry this ``aud`` (and ``localsync token`` writes it)."""

    token_ttl_seconds: int = 30 * 24 * 3600
    """Default lifetime of a token minted by ``localsync token``."""

    max_file_bytes: int = 5 * MIB
    """Largest content accepted for one file (UTF-8 bytes)."""

    max_attachment_bytes: int = 25 * MIB
    """Largest attachment (a file synced as bytes, base64 on the wire) accepted, in raw bytes."""

    max_batch_items: int = 100
    """Most items one push-batch may carry."""

    max_request_bytes: int = 64 * MIB
    """Largest request body; bigger ones get 413 before being read whole."""

    online_window_seconds: int = 90
    """A connector counts as online while its last heartbeat is at most this old."""

    deltas_default_limit: int = 100
    """Events returned by ``deltas`` when the caller gives no limit."""

    deltas_max_page_bytes: int = 48 * MIB
    """Content one deltas page carries at most (a page holds at least one event), so a
    page of attachments stays well under a response a client can hold."""

    graphql_max_depth: int = 12
    """Deepest GraphQL selection accepted."""

    graphql_max_tokens: int = 4000
    """Largest GraphQL document accepted, counted in lexer tokens."""

    graphql_ide: bool = True
    """Serve GraphiQL on ``GET /graphql``."""

    graphql_max_cost: int = 1000
    """Cost budget of one GraphQL operation; content-bearing and CPU-heavy fields count
    against it, multiplied by the page sizes around them, before anything runs."""

    graphql_max_response_bytes: int = 32 * MIB
    """Most content (file and version text, diffs, previews) one GraphQL operation may return."""

    json_offload_bytes: int = 64 * 1024
    """Request bodies larger than this are parsed as JSON on a worker thread, never on the
    event loop, so one big body cannot stall every other request."""

    max_json_values: int = 100_000
    """Most JSON values (objects, arrays, strings, numbers...) one request body may hold;
    a body of a million empty arrays is refused before it is built in memory."""

    max_json_depth: int = 64
    """Deepest nesting of arrays and objects one request body may hold."""

    header_timeout_seconds: float = 10.0
    """A connection must send a request's complete headers within this time, or is closed."""

    body_timeout_seconds: float = 30.0
    """Longest wait for the next chunk of a request body before answering 408."""

    keep_alive_seconds: int = 5
    """An idle keep-alive connection is closed after this many seconds."""

    ws_max_message_bytes: int = 16 * MIB
    """Largest WebSocket message accepted (GraphQL over WebSocket)."""

    max_subscriptions_per_connection: int = 100
    """Most live subscriptions one WebSocket connection may hold open at once."""

    max_subscriptions_per_token: int = 1000
    """Most live subscriptions one token may hold open at once, over all its connections
    to this server process."""

    db_pool_timeout_seconds: float = 5.0
    """Longest wait for a pooled database connection before answering 503 / UNAVAILABLE."""

    retry_after_seconds: int = 2
    """``Retry-After`` sent with a 503 when the database is busy."""

    db_pool_size: int = 10
    """Database connections each server process keeps open (PostgreSQL, SQLite file)."""

    db_pool_max_overflow: int = 20
    """Extra connections a process may open beyond ``db_pool_size`` under load; more
    requests than both together wait up to ``db_pool_timeout_seconds``."""

    ws_init_timeout_seconds: float = 10.0
    """A WebSocket must send ``connection_init`` within this time, or is closed (4408)."""

    sqlite_busy_timeout_seconds: float = 30.0
    """SQLite: longest wait for the write lock another connection holds before the
    request answers 503 / UNAVAILABLE ("database is locked")."""

    max_header_bytes: int = 64 * 1024
    """Largest request head (request line and headers); a bigger one answers 431 and
    the connection is closed."""

    graphql_max_document_bytes: int = 64 * 1024
    """Largest GraphQL document (the ``query`` text) accepted; reading a document costs
    the event loop about a microsecond per character, so a huge literal is refused
    before it is parsed. Large values belong in variables."""

    graphql_max_json_values: int = 10_000
    """Most JSON values one GraphQL request or WebSocket message may hold (in practice,
    its variables): GraphQL checks each variable value against the schema on the event
    loop, some 20 microseconds apiece, so 100,000 would hold every request up for 2 s."""

    max_queued_computations: int = 32
    """Merges, diffs and previews that may wait for one of the process's two compute
    turns; one more is refused with 503 UNAVAILABLE and ``Retry-After`` (GraphQL:
    UNAVAILABLE). Each waiting request holds the texts it read (up to three files)."""

    workers: int = Field(default=1, ge=1)
    """Server processes ``localsync serve`` runs on one port (PostgreSQL only; SQLite is
    one process). Limits counted per process (subscriptions per token, compute turns,
    database pool) apply to each worker."""

    live_safety_poll_seconds: float = Field(default=30.0, gt=0)
    """Live feeds wait for a wake-up, not a timer; this often, one query per process
    checks for events a lost wake-up would have left unsent."""

    metrics_enabled: bool = True
    """Serve Prometheus metrics at ``GET /metrics`` (no token, like ``/healthz``)."""

    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )
    """prometheus-client's directory for several processes' metrics; ``serve --workers``
    sets a fresh one when it is unset."""

    log_format: Literal["text", "json"] = "text"
    """``json`` writes one JSON object per log line (python-json-logger)."""

    blame_max_versions: int = Field(default=200, ge=1)
    """Most versions one blame walks back; lines already in the oldest version walked
    are credited to "version N or older". Each version walked costs one line diff."""

    gc_interval_seconds: float = Field(default=3600.0, ge=0)
    """How often each server applies the sources' retention policies (prunes old
    versions, frees unused blobs); 0 turns the schedule off. The first run comes one
    interval after start. ``localsync gc`` runs it on demand."""

    tombstone_max_age_days: int = Field(default=90, ge=0)
    """A deleted file's last content outlives any retention policy for this many
    days after the delete, so a delete can still be undone."""

    def resolved_database_url(self) -> str:
        """The URL to connect to; the SQLite default lives inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'localsync.db'}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
