"""A request body over `EDUBRAIN_UPLOAD_MAX_MB` is refused as it arrives, never buffered whole.

The multipart parser of the framework spools a whole upload to a temporary file before a route
sees it, so a bound checked in the route (`service.uploads`) comes after the bytes arrived. This
middleware refuses earlier: a request that declares a larger `Content-Length` is answered 413
before one byte of its body is read, and a body sent without a length (chunked) is counted as
its chunks are read and stopped at the first chunk past the limit. The refusal is an HTTP
error raised from the body's reading, so the API answers with a problem and the cockpit with
its error page, both naming the limit.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as ASGIScope

CONTENT_TOO_LARGE = 413


def too_large(limit_mb: int) -> HTTPException:
    return HTTPException(
        CONTENT_TOO_LARGE,
        detail=(
            f"上传内容超过 {limit_mb} MB 的上限，未接收："
            "请拆分后分批上传，或请系统管理员调高上传上限"
        ),
    )


class BodyLimitMiddleware:
    """Stops reading a request body at `limit_mb` MiB (see the module)."""

    def __init__(self, app: ASGIApp, limit_mb: int) -> None:
        self.app = app
        self.limit_mb = limit_mb
        self.limit = limit_mb << 20

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        refused_now = declared.isdigit() and int(declared) > self.limit
        received = 0

        async def bounded() -> Message:
            nonlocal received
            if refused_now:  # nothing of the body is read
                raise too_large(self.limit_mb)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(self.limit_mb)
            return message

        await self.app(scope, bounded, send)
