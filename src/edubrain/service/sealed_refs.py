"""Opaque references to personal records, so that a 学籍号 never has to leave the service in clear.

A `G` 学籍号 is `G` followed by the pupil's ID number, so showing it is showing the ID number.
Roles that may not see ID numbers get it masked, and address records by `ref` instead: the
record key sealed under the service's own key. Sealing is deterministic authenticated
encryption (the SIV construction, with HMAC-SHA256 as the PRF): the same key always gives the
same ref, a ref cannot be forged or altered without the service key, and it reveals nothing
about the number. Paging cursors over personal records are sealed the same way.

The service key is 32 random bytes in `EDUBRAIN_HOME/service.key` (`Workspace.service_key`,
created on first use, mode 0600); refs stay valid across restarts for as long as that file does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from edubrain.errors import UnavailableError
from edubrain.workspace import Workspace

_TAG = 16  # bytes of synthetic IV: also the authentication tag
_REMEMBERED = 1 << 18  # refs kept per process


class ServiceKeyError(UnavailableError):
    """The service key file exists but is not a key."""


class SealedRefs:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ServiceKeyError("the service key must be at least 32 bytes")
        self._mac = hmac.new(key, b"edubrain ref mac", hashlib.sha256).digest()
        self._enc = hmac.new(key, b"edubrain ref enc", hashlib.sha256).digest()
        # Sealing is deterministic and a page seals every record on it: remember refs (about
        # 200 bytes each) rather than compute three HMACs per record per request. A plain dict
        # of strings, emptied when full: the garbage collector does not walk it.
        self._sealed: dict[str, str] = {}

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> SealedRefs:
        """The refs of the service of `workspace`, creating its key on first use."""
        path = workspace.service_key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
        key = path.read_bytes()
        if len(key) != 32:
            raise ServiceKeyError(f"{path} is not a service key (32 bytes); remove it to renew")
        return cls(key)

    def _stream(self, iv: bytes, length: int) -> bytes:
        blocks = (length + 31) // 32
        return b"".join(
            hmac.new(self._enc, iv + i.to_bytes(4, "big"), hashlib.sha256).digest()
            for i in range(blocks)
        )[:length]

    def seal(self, value: str) -> str:
        """`value` sealed: deterministic, authenticated, opaque."""
        sealed = self._sealed.get(value)
        if sealed is None:
            if len(self._sealed) >= _REMEMBERED:
                self._sealed.clear()
            sealed = self._sealed[value] = self._seal(value)
        return sealed

    def _seal(self, value: str) -> str:
        data = value.encode("utf-8")
        iv = hmac.new(self._mac, data, hashlib.sha256).digest()[:_TAG]
        body = bytes(a ^ b for a, b in zip(data, self._stream(iv, len(data)), strict=True))
        return base64.urlsafe_b64encode(iv + body).decode().rstrip("=")

    def open(self, token: str) -> str | None:
        """The sealed value, or None if `token` is not a ref of this service."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) <= _TAG:
            return None
        iv, body = raw[:_TAG], raw[_TAG:]
        data = bytes(a ^ b for a, b in zip(body, self._stream(iv, len(body)), strict=True))
        expected = hmac.new(self._mac, data, hashlib.sha256).digest()[:_TAG]
        if not hmac.compare_digest(iv, expected):
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None
