"""A trivial WSGI app for the HTTP baseline: reads the whole request body and answers a small JSON.

Served by the same gunicorn (same workers, threads, access log) as `gmina serve`, it shows the
ceiling of the server and the load generator on this machine without Django or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    payload = b'{"received": %d}' % body.count(b'"meter"')
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
