"""Configuration: the one place that reads the environment (``LOCALSYNC_*``)."""

from pathlib import Path

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

    max_batch_items: int = 100
    """Most items one push-batch may carry."""

    max_request_bytes: int = 64 * MIB
    """Largest request body; bigger ones get 413 before being read whole."""

    online_window_seconds: int = 90
    """A connector counts as online while its last heartbeat is at most this old."""

    deltas_default_limit: int = 100
    """Events returned by ``deltas`` when the caller gives no limit."""

    graphql_max_depth: int = 12
    """Deepest GraphQL selection accepted."""

    graphql_max_tokens: int = 4000
    """Largest GraphQL document accepted, counted in lexer tokens."""

    graphql_ide: bool = True
    """Serve GraphiQL on ``GET /graphql``."""

    def resolved_database_url(self) -> str:
        """The URL to connect to; the SQLite default lives inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'localsync.db'}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
