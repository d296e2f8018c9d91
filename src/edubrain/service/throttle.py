"""Rate limits on misses: person lookups that find nothing (an unknown or out-of-scope key, a
forged or foreign ref) are what enumeration looks like, and legitimate work makes few of them.

A sliding window per key (one window for accounts, one for client addresses, each with its
own limit): at most `limit` misses within `window`; past that, lookups answer 429 with
Retry-After until enough misses in the window have aged out. The counts live in the serving
process (each of `edubrain serve`'s workers keeps its own, so N workers allow up to N ×
`limit` before every one refuses); the audit trail, which is shared, marks the pattern
(`enumeration_suspected`) whichever worker sees it.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

_KEYS = 1 << 16  # keys remembered per process; the oldest is dropped first beyond this


class MissWindow:
    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._misses: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        found = self._misses.get(key)
        if found is None:
            return deque()
        while found and found[0] <= now - self.window:
            found.popleft()
        if not found:
            del self._misses[key]
        return found

    def retry_after(self, key: str, now: datetime) -> int | None:
        """Seconds until `key` is below the limit again, or None if it is below it now."""
        with self._lock:
            recent = self._recent(key, now)
            if len(recent) < self.limit:
                return None
            # Below the limit once the miss `limit` places from the newest ages out.
            oldest = recent[len(recent) - self.limit]
            return max(1, math.ceil((oldest + self.window - now).total_seconds()))

    def miss(self, key: str, now: datetime) -> int:
        """Count one miss against `key`; the misses it now has within the window."""
        with self._lock:
            recent = self._recent(key, now)
            if not recent:
                if len(self._misses) >= _KEYS:
                    del self._misses[next(iter(self._misses))]
                recent = self._misses[key] = deque()
            recent.append(now)
            return len(recent)
