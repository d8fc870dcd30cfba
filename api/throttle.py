"""Login throttling: back off per client and account, cap password spraying per client.

Rules (one process keeps its own counts):

- a client that failed ``attempts`` times for one account within the window waits before its
  next try for that account — 2 s, then doubling with each further failure, at most
  ``max_wait_s``; a success clears the count;
- a client that failed ``client_attempts`` times for any accounts within the window waits
  until its oldest failure leaves the window (password spraying);
- nothing is ever locked for everyone: other clients — the account's owner on their own
  phone — log in as usual, so no attacker can lock a user out.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TypeVar

K = TypeVar("K")
WINDOW_S = 15 * 60


@dataclass
class LoginThrottle:
    """Failed-login book-keeping and the wait it imposes (times in seconds, injected)."""

    attempts: int = 5
    client_attempts: int = 20
    max_wait_s: float = 300.0
    _pairs: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _clients: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, client: str, account: str, now: float) -> int:
        """Seconds ``client`` must wait before trying ``account`` again (0: go ahead)."""
        with self._lock:
            pair = self._recent(self._pairs, (client, account.lower()), now)
            spray = self._recent(self._clients, client, now)
            waits = [0.0]
            if len(pair) >= self.attempts:
                backoff = min(self.max_wait_s, 2.0 ** (len(pair) - self.attempts + 1))
                waits.append(pair[-1] + backoff - now)
            if len(spray) >= self.client_attempts:
                waits.append(spray[0] + WINDOW_S - now)
            return max(0, math.ceil(max(waits)))

    def failed(self, client: str, account: str, now: float) -> None:
        """Record a failed login."""
        with self._lock:
            self._pairs.setdefault((client, account.lower()), deque()).append(now)
            self._clients.setdefault(client, deque()).append(now)
            if len(self._clients) > 100_000:  # forget idle clients
                self._forget(now)

    def succeeded(self, client: str, account: str) -> None:
        """Forget ``client``'s failures for ``account`` after a good login."""
        with self._lock:
            self._pairs.pop((client, account.lower()), None)

    @staticmethod
    def _recent(book: dict[K, deque[float]], key: K, now: float) -> deque[float]:
        times = book.get(key) or deque()
        while times and now - times[0] > WINDOW_S:
            times.popleft()
        return times

    def _forget(self, now: float) -> None:
        self._pairs = {k: v for k, v in self._pairs.items() if v and now - v[-1] <= WINDOW_S}
        self._clients = {k: v for k, v in self._clients.items() if v and now - v[-1] <= WINDOW_S}


@dataclass
class AccountQuota:
    """At most ``per_hour`` actions an hour per account (staff intake: generous, per person).

    0 means no limit. One process keeps its own counts.
    """

    per_hour: int
    _done: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, account: str, now: float) -> int:
        """Count one action of ``account``; 0 when allowed, else the seconds to wait."""
        if self.per_hour <= 0:
            return 0
        with self._lock:
            times = self._done.setdefault(account, deque())
            while times and now - times[0] > 3600:
                times.popleft()
            if len(times) >= self.per_hour:
                return max(1, math.ceil(times[0] + 3600 - now))
            times.append(now)
            return 0
