"""`dashboard_routes()`: the page at `/` and its static assets at `/ui/<file>`, from this package's `static/`.

Public (no token): the files hold no data. Each answer has its content type by extension, `Cache-Control:
no-cache` with an ETag (the browser revalidates, so an upgraded hub serves new assets at once), and headers that
keep the page to its own origin (a Content-Security-Policy without inline scripts, `nosniff`, no framing). A path
that leaves `static/`, names a hidden file or an unknown extension, or holds a NUL byte is a 404, as is a missing
file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
INDEX = "index.html"
ASSET_ROUTE = "/ui/{path:.+}"
# the canonical paths of the routes below, which hub.api's authentication lets through without a token
PUBLIC_PATHS = frozenset({"/", "/ui/{path}"})
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class _Asset:
    body: bytes
    etag: str


class _Assets:
    """The files under one directory, read on demand and kept while their size and modification time hold."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, tuple[tuple[int, int], _Asset]] = {}

    def find(self, relative: str) -> Path | None:
        parts = relative.split("/")
        if "\x00" in relative or any(not part or part.startswith(".") for part in parts):
            return None
        path = self.root.joinpath(*parts).resolve()
        if not path.is_relative_to(self.root) or path.suffix not in CONTENT_TYPES or not path.is_file():
            return None
        return path

    def read(self, path: Path) -> _Asset:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        body = path.read_bytes()
        asset = _Asset(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        self._cache[path] = (key, asset)
        return asset


def _answer(request: web.Request, path: Path, asset: _Asset) -> web.Response:
    headers = {"Cache-Control": "no-cache", "ETag": asset.etag, **SECURITY_HEADERS}
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = CONTENT_TYPES[path.suffix]
    return web.Response(body=asset.body, headers=headers)


def _not_found(what: str) -> web.Response:
    return web.json_response({"error": f"no dashboard file {what!r}: the page's assets live under /ui/",
                              "reason": "not_found"}, status=404, headers={"Cache-Control": "no-cache"})


def dashboard_routes(static_dir: Path = STATIC_DIR) -> list[web.RouteDef]:
    """GET (and HEAD) `/` and `/ui/{path}` over `static_dir` (see the module docstring)."""
    assets = _Assets(static_dir)

    async def page(request: web.Request) -> web.Response:
        path = assets.find(INDEX)
        if path is None:
            return _not_found(INDEX)
        return _answer(request, path, assets.read(path))

    async def asset(request: web.Request) -> web.Response:
        relative = request.match_info["path"]
        path = assets.find(relative)
        if path is None:
            return _not_found(relative)
        return _answer(request, path, assets.read(path))

    return [web.get("/", page), web.get(ASSET_ROUTE, asset)]
