"""Who is calling, and may they? Bearer tokens for the API, a cookie for the console.

Every route declares the least role it needs with ``guard(role)``; the declaration is also
written into the OpenAPI operation as ``x-healops-role`` so tests (and readers of
``/openapi.json``) can see it. ``PUBLIC`` routes (health, metrics, docs) need no token;
``WEBHOOK`` routes are authenticated by their HMAC signature when a webhook secret is set,
and by an operator token otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from healops.api.tokens import Role, TokenInfo, TokenStore

__all__ = [
    "COOKIE",
    "PUBLIC",
    "REQUIRE",
    "ROLE_KEY",
    "WEBHOOK",
    "ApiError",
    "Principal",
    "csrf_token",
    "guard",
    "principal_of",
]

COOKIE = "healops_session"
ROLE_KEY = "x-healops-role"
PUBLIC = "public"
WEBHOOK = "webhook"

_bearer = HTTPBearer(auto_error=False, description="an API token: `healops token create`")


class ApiError(Exception):
    """A client-facing error: rendered as ``{"error": code, "message": text}``."""

    def __init__(self, status: int, error: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: str
    name: str
    role: Role

    @property
    def who(self) -> str:
        return f"{self.name} ({self.role})"


def _tokens(request: Request) -> TokenStore:
    tokens: TokenStore = request.app.state.tokens
    return tokens


def principal_of(request: Request, token: str | None) -> Principal | None:
    if not token:
        return None
    info: TokenInfo | None = _tokens(request).verify(token)
    return Principal(info.id, info.name, info.role) if info else None


def _check(principal: Principal | None, role: Role) -> Principal:
    if principal is None:
        raise ApiError(401, "unauthorized",
                       "send Authorization: Bearer <token>; create one with "
                       "`healops token create --role viewer`",
                       {"WWW-Authenticate": "Bearer"})
    if not principal.role >= role:
        raise ApiError(403, "forbidden",
                       f"this needs the {role} role or higher; your token has {principal.role}")
    return principal


def _requirer(role: Role) -> Any:
    def require(request: Request,
                creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                ) -> Principal:
        return _check(principal_of(request, creds.credentials if creds else None), role)

    require.__name__ = f"require_{role}"
    return require


REQUIRE: dict[Role, Any] = {role: _requirer(role) for role in Role}


def guard(role: Role) -> dict[str, Any]:
    """Route keyword arguments: the dependency and its OpenAPI declaration."""
    return {"dependencies": [Depends(REQUIRE[role])], "openapi_extra": {ROLE_KEY: str(role)}}


def csrf_token(token: str) -> str:
    """A per-session form token: forms carry it, so a cross-site post cannot forge one."""
    return hmac.new(hashlib.sha256(token.encode()).digest(), b"healops-csrf",
                    hashlib.sha256).hexdigest()[:32]
