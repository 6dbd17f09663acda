"""Authentication and roles: the middleware that turns `Authorization: Bearer <token>` into the caller's Token.

Public routes (health, readiness, metrics, the OpenAPI document, the Git webhook with its own HMAC, and the web
dashboard's page and assets, which `build_app` marks public) need no token. Every other route needs a valid token (else
401: `missing_token`, `malformed_token`, `unknown_token`, `revoked_token`) whose role includes the route's role (else
403 `insufficient_role`). Routes the API does not know (mounted through `extra_routes`) need a viewer for GET and an
admin for anything else. Scope checks need the request's body and happen in the handlers (hub.api.scope). The error
middleware audits every 401 and 403.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from hub.api.errors import Forbidden, Unauthorized, Unavailable
from hub.api.tokens import ApiTokenStore, Token, TokenFileError

log = logging.getLogger(__name__)

CALLER = web.RequestKey("fleetline_caller", Token)
REFUSED_ACTOR = web.RequestKey("fleetline_refused_actor", str)  # the name of a revoked token, for the audit
PUBLIC_EXTRA_PATHS = frozenset({"/api/v1/webhooks/git"})  # authenticated by their own means (HMAC)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def required_role(request: web.Request, roles: Mapping[tuple[str, str], str | None]) -> str | None:
    """The role the request's route needs, or None for a public route (or a path no route matches)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    path = resource.canonical
    method = "GET" if request.method == "HEAD" else request.method
    if (method, path) in roles:
        return roles[(method, path)]
    if path in PUBLIC_EXTRA_PATHS:
        return None
    return "viewer" if method == "GET" else "admin"


def caller_of(request: web.Request, tokens: ApiTokenStore) -> Token:
    """The valid token the request carries, or Unauthorized with the reason."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise Unauthorized("missing token: send 'Authorization: Bearer <token>' (an admin creates one with "
                           "`fleetline tokens create`)", "missing_token")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", "malformed_token")
    try:
        token = tokens.identify(secret)
    except (TokenFileError, OSError) as exc:
        log.error("event=api_token_file_unreadable error=%r", str(exc))
        raise Unavailable("the hub cannot read its API token file (its log says why); no token is accepted until "
                          "an operator fixes it", "tokens_unavailable") from None
    if token is None:
        raise Unauthorized("unknown token: check for a typo, or ask an admin for a token", "unknown_token")
    if token.revoked:
        request[REFUSED_ACTOR] = token.name
        raise Unauthorized(f"token {token.name!r} was revoked: ask an admin for a new one", "revoked_token")
    return token


def auth_middleware(tokens: ApiTokenStore, roles: Mapping[tuple[str, str], str | None]) -> web.middleware:
    """The middleware: authenticate, check the route's role, and leave the Token at request[CALLER]."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        needed = required_role(request, roles)
        if needed is None:
            return await handler(request)
        token = caller_of(request, tokens)
        request[CALLER] = token
        if not token.has_role(needed):
            raise Forbidden(f"token {token.name!r} has role {token.role}; {request.method} "
                            f"{request.match_info.route.resource.canonical} needs role {needed} or above",
                            "insufficient_role")
        return await handler(request)

    return authenticate
