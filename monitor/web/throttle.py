"""Sign-in throttling that cannot be raced and cannot be used to lock a named user out.

Every attempt is counted *before* its password is checked, so simultaneous
guesses cannot all slip in under the limit while the (deliberately slow)
hashes are being verified; a successful sign-in then takes its own attempt
back. Attempts are counted in three ways, each over ``window_s`` seconds:

- per (address, username): ``pair`` attempts (5). This is the limit a
  stranger meets: their wrong guesses hold back only themselves, never the
  named supervisor signing in from another address.
- per username, from every address: ``username`` attempts (50). A ceiling for
  a guessing attack spread over many addresses: a single address can never
  reach it (it stops at 5), so it takes at least 10 addresses at full rate to
  reach it, and then the attack gets at most 50 guesses per 5 minutes
  (14,400 a day) against a password of 12 or more characters stored as an
  argon2id hash: it slows such an attack to nothing useful. Reaching it would
  also hold back the user's own sign-ins from new places, so it does not
  apply to a (address, username) pair that has signed in successfully in the
  last 30 days: a supervisor at their usual desk is not locked out.
- per address, across usernames: ``address`` attempts (100). A ceiling for
  one address trying many usernames (and making the board verify a hash for
  each); an office behind one NAT address stays far below it. Known pairs are
  exempt from it as well.

Memory is bounded: each table keeps at most ``max_entries`` keys (emptied
windows are dropped first, then the least recently used); each key holds at
most its limit of timestamps. Evicting a live key would forget its
attempts, but filling a table takes ``max_entries`` attempts within one
window, each costing the board a password hash: more than one board can
verify in five minutes. In memory, per board process.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

THIRTY_DAYS_S = 30 * 86_400.0


@dataclass(frozen=True)
class Limits:
    pair: int = 5
    username: int = 50
    address: int = 100
    window_s: float = 300.0
    max_entries: int = 10_000
    known_pair_for_s: float = THIRTY_DAYS_S


class Throttled(Exception):
    """Too many recent attempts: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"try again in {retry_after:.0f} s")
        self.retry_after = retry_after


class _Window:
    """Attempt times per key over the last ``window_s`` seconds, at most ``max_keys`` keys."""

    def __init__(self, window_s: float, max_keys: int) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self.keys: OrderedDict[str, deque[float]] = OrderedDict()

    def recent(self, key: str, now: float) -> int:
        times = self.keys.get(key)
        if times is None:
            return 0
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return len(times)

    def wait(self, key: str, now: float) -> float:
        """Seconds until the oldest attempt of ``key`` leaves the window."""
        return self.keys[key][0] + self.window_s - now

    def add(self, key: str, now: float) -> None:
        times = self.keys.get(key)
        if times is None:
            self._make_room(now)
            times = self.keys[key] = deque()
        times.append(now)
        self.keys.move_to_end(key)

    def take_back(self, key: str, at: float) -> None:
        times = self.keys.get(key)
        if times is not None and at in times:
            times.remove(at)
            if not times:
                del self.keys[key]

    def forget(self, key: str) -> None:
        self.keys.pop(key, None)

    def _make_room(self, now: float) -> None:
        # Least recently used first: drop keys whose window has emptied, then, if
        # still full, the least recently used live key.
        while self.keys:
            key, times = next(iter(self.keys.items()))
            if times and times[-1] > now - self.window_s and len(self.keys) < self.max_keys:
                return
            del self.keys[key]


@dataclass
class Attempt:
    """One admitted sign-in attempt, already counted as a failure until it succeeds."""

    throttle: SignInThrottle
    pair: str
    username: str
    address: str
    at: float
    counted_in_ceilings: bool

    def succeeded(self) -> None:
        t = self.throttle
        t.pairs.forget(self.pair)
        if self.counted_in_ceilings:
            t.usernames.take_back(self.username, self.at)
            t.addresses.take_back(self.address, self.at)
        t.remember_pair(self.pair, self.at)


@dataclass
class SignInThrottle:
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        window, size = self.limits.window_s, self.limits.max_entries
        self.pairs = _Window(window, size)
        self.usernames = _Window(window, size)
        self.addresses = _Window(window, size)
        self.known_pairs: OrderedDict[str, float] = OrderedDict()

    def admit(self, address: str, username: str, now: float | None = None) -> Attempt:
        """Count one attempt by ``username`` from ``address``, or raise ``Throttled``."""
        now = time.monotonic() if now is None else now
        username = username.lower()
        pair = f"{address}\n{username}"
        counters = [(self.pairs, pair, self.limits.pair)]
        known = self._known(pair, now)
        if not known:
            counters += [
                (self.usernames, username, self.limits.username),
                (self.addresses, address, self.limits.address),
            ]
        waits = [
            window.wait(key, now)
            for window, key, limit in counters
            if window.recent(key, now) >= limit
        ]
        if waits:
            raise Throttled(max(waits))
        for window, key, _ in counters:
            window.add(key, now)
        return Attempt(self, pair, username, address, now, counted_in_ceilings=not known)

    def remember_pair(self, pair: str, now: float) -> None:
        self.known_pairs[pair] = now
        self.known_pairs.move_to_end(pair)
        while len(self.known_pairs) > self.limits.max_entries:
            self.known_pairs.popitem(last=False)

    def _known(self, pair: str, now: float) -> bool:
        since = self.known_pairs.get(pair)
        if since is None:
            return False
        if since <= now - self.limits.known_pair_for_s:
            del self.known_pairs[pair]
            return False
        return True

    def entries(self) -> int:
        """How many keys the throttle holds in all (what its memory grows with)."""
        return (
            len(self.pairs.keys)
            + len(self.usernames.keys)
            + len(self.addresses.keys)
            + len(self.known_pairs)
        )
