"""ASGI middleware: body size limit (413), Host check (DNS rebinding), the page's security headers."""
from __future__ import annotations

import json

MAX_BODY_BYTES = 4 * 1024 * 1024      # a 256-px W+ as JSON is ~150 kB, a mask PNG a few kB


class BodyLimit:
    """Pure ASGI middleware: checks Content-Length, and counts streamed (chunked) bodies too."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                return await self._reject(send, 400, "invalid Content-Length header")
            if too_big:
                return await self._reject(send, 413, f"request body over {self.max_bytes} bytes")
        chunks, total = [], 0
        while True:                               # read (at most max_bytes of) the body first
            message = await receive()
            if message["type"] != "http.request":
                return                            # client went away
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                return await self._reject(send, 413, f"request body over {self.max_bytes} bytes")
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    @staticmethod
    async def _reject(send, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


# Everything the page loads comes from this server: no CDN, fonts or analytics, no framing.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                                 b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + SECURITY_HEADERS}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class AllowedHosts:
    """Refuse requests whose Host header is not ours (400 JSON). A loopback server is otherwise
    reachable from any web page through DNS rebinding (evil.example resolving to 127.0.0.1)."""

    def __init__(self, app, hosts):
        self.app, self.hosts = app, {h.lower() for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
            name = host[:host.rindex(":")] if ":" in host and not host.endswith("]") else host
            if name not in self.hosts:
                return await BodyLimit._reject(send, 400, f"host {host or '(none)'!r} is not served here")
        return await self.app(scope, receive, send)
