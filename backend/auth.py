"""JWT minting and verification, and the principal a request acts as."""

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from backend.errors import Forbidden, MissingWorkspace, Unauthenticated
from backend.settings import Settings

SECRET_FILE = "jwt-secret"
MAX_WORKSPACE_ID = 200


@dataclass(frozen=True)
class Principal:
    """Who is calling and for which workspace; every service call is scoped by it."""

    user: str
    workspaces: frozenset[str]
    workspace_id: str
    expires_at: float | None = None
    """The token's ``exp`` (Unix seconds): live feeds end when it passes."""


def load_secret(settings: Settings) -> str:
    """The signing secret: from settings, else one generated once in the data dir (0600).

    Creating it with O_EXCL means two processes starting at once agree on one secret.
    """
    if settings.jwt_secret:
        return settings.jwt_secret
    path: Path = settings.data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"JWT secret file {path} is empty; delete it to regenerate")
    return secret


def mint_token(
    settings: Settings,
    workspaces: list[str],
    user: str = "localsync",
    ttl_seconds: int | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user,
        "workspaces": list(workspaces),
        "iat": now,
        "exp": now + (ttl_seconds if ttl_seconds is not None else settings.token_ttl_seconds),
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, load_secret(settings), algorithm=settings.jwt_algorithm)


def decode_token(settings: Settings, secret: str, token: str) -> dict[str, Any]:
    """Verify signature, expiry and the configured issuer/audience; 401 on any failure."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[settings.jwt_algorithm],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    workspaces = claims.get("workspaces")
    if not isinstance(workspaces, list) or not all(isinstance(w, str) for w in workspaces):
        raise Unauthenticated("token has no valid 'workspaces' claim")
    return claims


def authenticate(
    settings: Settings, secret: str, authorization: str | None, workspace_id: str | None
) -> Principal:
    """Turn the two request credentials into a principal, or raise 401/400/403."""
    if not authorization:
        raise Unauthenticated("missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    claims = decode_token(settings, secret, token.strip())
    workspace = (workspace_id or "").strip()
    if not workspace:
        raise MissingWorkspace("missing x-workspace-id header")
    if len(workspace) > MAX_WORKSPACE_ID:
        raise MissingWorkspace("x-workspace-id is too long")
    granted = frozenset(claims["workspaces"])
    if workspace not in granted:
        raise Forbidden(f"token does not grant workspace {workspace!r}")
    expires = claims.get("exp")
    return Principal(
        user=str(claims["sub"]),
        workspaces=granted,
        workspace_id=workspace,
        expires_at=float(expires) if isinstance(expires, int | float) else None,
    )
