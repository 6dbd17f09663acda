"""The hub's operator REST API (issue 7): JSON under /api/v1 served by aiohttp, with scoped API tokens.

Owns the HTTP surface only: authentication with hashed API tokens (`tokens`, managed by `fleetline tokens`),
roles and region/environment scopes (`auth`, `scope`), request validation (`validation`), the JSON routes
(`handlers`), the Server-Sent Events stream (`stream`), `/metrics`, `/healthz`, `/readyz` and the OpenAPI
document (`openapi`). It reaches the rest of the hub only through the `HubFacade` ABC (`facade`), which the hub's
composition root implements over the pipeline, the sessions and the store; it never touches those directly.
Entry points: `hub.api.app.build_app`, `hub.api.facade.HubFacade`, `hub.api.tokens.ApiTokenStore`, and
`hub.api.cli.add_tokens_parser` (imported alone, so that `fleetline tokens` does not load aiohttp).
"""
