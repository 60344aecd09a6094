"""Pure ASGI middleware: request id + access log, and a cap on request bodies."""
from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import problem_catalogue
from app.api.language import Language, chinese, negotiate
from app.domain.audit.service import request_id_var
from app.logging import access_var

log = logging.getLogger("propdesk.access")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)
        client = scope.get("client")
        fields: dict[str, object] = {"client": client[0] if client else None}
        access_token = access_var.set(fields)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("request", extra={"method": scope["method"], "path": scope["path"], "status": status,
                                       "duration_ms": round((time.perf_counter() - started) * 1000, 2), **fields})
            access_var.reset(access_token)
            request_id_var.reset(token)


class BodySizeLimit:
    """Refuse bodies over the cap with 413 before reading them into memory."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope, send, self.max_bytes)
            return
        seen = 0
        refused = started = False

        async def limited() -> Message:
            # Answer 413 here and tell the app the client left: raising instead would be
            # caught by the framework's body parser and turned into a 400.
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await _too_large(scope, send, self.max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not refused:
                started = True
                await send(message)

        await self.app(scope, limited, guarded_send)


async def _too_large(scope: Scope, send: Send, max_bytes: int) -> None:
    # Answered before the app (and its problem handler) sees the request: the same languages by hand.
    language = negotiate(dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1"))
    title, detail = "Request body too large", f"at most {max_bytes} bytes"
    if language is not Language.english:
        title, detail = chinese(problem_catalogue.title_zh("too-large") or title, language), chinese(f"最多 {max_bytes} 字节", language)
    body = json.dumps({"type": "/problems/too-large", "title": title, "status": 413, "detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                            (b"content-language", language.value.encode()), (b"vary", b"Accept-Language")]})
    await send({"type": "http.response.body", "body": body})
