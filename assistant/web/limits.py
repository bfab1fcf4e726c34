"""How many messages one client may send: a sliding one-minute window per client address."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

__all__ = ["RateLimit", "client_address"]

WINDOW = 60.0  # seconds


class RateLimit:
    """At most ``per_minute`` messages from one client in any 60 seconds; 0 means no limit.

    Memory stays bounded: when ``max_clients`` addresses are known, those silent for a minute
    are forgotten, and under a flood of new addresses the oldest ones go first."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 50_000) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._max_clients = max_clients
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one message from ``client``; False (and not counted) when it is over the limit."""
        if self.per_minute <= 0:
            return True
        now = self._clock()
        with self._lock:
            times = self._seen.get(client)
            if times is None:
                if len(self._seen) >= self._max_clients:
                    self._forget(now)
                times = self._seen[client] = deque()
            while times and now - times[0] >= WINDOW:
                times.popleft()
            if len(times) >= self.per_minute:
                return False
            times.append(now)
            return True

    def _forget(self, now: float) -> None:
        for client in [c for c, t in self._seen.items() if not t or now - t[-1] >= WINDOW]:
            del self._seen[client]
        excess = len(self._seen) - self._max_clients * 3 // 4
        for client in list(self._seen)[:max(excess, 0)]:  # dicts keep insertion order: oldest first
            del self._seen[client]


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The address a message came from.

    Behind ``trusted_proxies`` reverse proxies, each of which appends the address it was
    reached from to ``X-Forwarded-For``, the client is the ``trusted_proxies``-th entry from
    the right; anything further left was written by the client itself and is not believed.
    Without trusted proxies the header is ignored (anyone can send it)."""
    if trusted_proxies > 0 and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if hops:
            return hops[-min(trusted_proxies, len(hops))]
    return peer or "unknown"
