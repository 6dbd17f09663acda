"""The wire under `ClusterAccess`: plain-JSON REST requests and watch streams through the official client's
`ApiClient` (its authentication, TLS, token refresh and connection pool), synchronous and thread-safe.

Bodies go out as JSON (an apply patch too: JSON is YAML) and come back as dicts, never as typed models.
Every failure becomes a `ClusterError`: HTTP errors with the server's Status, connection errors with status 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from agent.cluster.errors import ClusterError
from agent.cluster.refs import ObjectRef

Query = list[tuple[str, str]]
AUTH_SETTINGS = ["BearerToken"]


class Transport:
    def __init__(self, api_client: k8s.ApiClient, *, timeout: float = 30.0) -> None:
        self.api_client = api_client
        self.timeout = timeout

    def _send(self, method: str, path: str, query: Query | None, body: Any, content_type: str | None,
              timeout: float | tuple[float, float], ref: ObjectRef | None) -> urllib3.BaseHTTPResponse:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        try:
            request = self.api_client.param_serialize(method, path, query_params=query or None,
                                                      header_params=headers, body=body,
                                                      auth_settings=AUTH_SETTINGS)
            return self.api_client.call_api(*request, _request_timeout=timeout).response
        except ApiException as exc:  # the client reports TLS failures this way, with status 0
            raise ClusterError(exc.status or 0, "ConnectionError", str(exc.reason or exc).strip(), ref) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterError(0, "ConnectionError", f"{type(exc).__name__}: {exc}", ref) from exc

    def request(self, method: str, path: str, *, query: Query | None = None, body: Any = None,
                content_type: str | None = None, ref: ObjectRef | None = None,
                timeout: float | None = None) -> dict:
        """One request; the decoded JSON response body ({} when empty). `timeout` overrides the default."""
        response = self._send(method, path, query, body, content_type, timeout or self.timeout, ref)
        try:
            data = response.data
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterError(0, "ConnectionError", f"reading the response: {exc}", ref) from exc
        finally:
            response.release_conn()
        if not 200 <= response.status < 300:
            raise ClusterError.from_response(response.status, response.reason or "", data, ref)
        if not data:
            return {}
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise ClusterError(response.status, "BadResponse", f"the server sent invalid JSON: {exc}", ref) from exc
        return doc if isinstance(doc, dict) else {"value": doc}

    def stream(self, path: str, query: Query, *, read_timeout: float, ref: ObjectRef | None = None) -> Stream:
        """Open a watch; raises ClusterError when the server refuses it."""
        response = self._send("GET", path, query, None, None, (self.timeout, read_timeout), ref)
        if response.status != 200:
            try:
                data = response.data
            finally:
                response.release_conn()
            raise ClusterError.from_response(response.status, response.reason or "", data, ref)
        return Stream(response)


class Stream:
    """An open watch response: iterate `lines()`; `shutdown()` from another thread ends a blocked read."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response

    def lines(self) -> Iterator[bytes]:
        pending = b""
        for chunk in self._response.stream(None, decode_content=True):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            yield from (line for line in complete if line.strip())
        if pending.strip():
            yield pending

    def shutdown(self) -> None:
        shutdown = getattr(self._response, "shutdown", None)  # urllib3 >= 2.3 unblocks a read in another thread
        if shutdown is not None:
            shutdown()
        else:
            self._response.close()

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()
