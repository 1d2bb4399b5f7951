"""Slowing password guessing: failed logins per user name and per client address, exponential wait.

After ``free`` failures for a key, each further attempt must wait ``base * 2 ** (failures - free)``
seconds (at most ``max_wait``) after the last failure; an attempt made earlier is refused without
checking the password (so it costs no scrypt work and adds no failure). A success clears the name's
count; an address's count fades only with time, so logging into one's own account does not reset
the guessing of another's. Keys are kept for ``forget_after`` seconds without a failure and at
most ``max_keys`` of them (oldest dropped), so random names cannot fill the memory.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("qa.security")


@dataclass
class _Failures:
    count: int = 0
    last: float = float("-inf")
    in_flight: int = 0  # attempts being checked now: counted, so parallel guesses cannot slip through


@dataclass(frozen=True)
class Verdict:
    """May this attempt go ahead? If not, ``wait`` seconds remain and ``reason`` says why."""

    allowed: bool
    wait: float = 0.0
    reason: str = ""


class LoginThrottle:
    def __init__(self, free_per_name: int = 5, free_per_address: int = 20, base: float = 1.0,
                 max_wait: float = 900.0, forget_after: float = 3600.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if free_per_name < 1 or free_per_address < 1 or base <= 0 or max_wait < base:
            raise ValueError("login throttle: free attempts must be >= 1 and 0 < base <= max_wait")
        self.free = {"name": free_per_name, "address": free_per_address}
        self.base, self.max_wait, self.forget_after, self.max_keys = base, max_wait, forget_after, max_keys
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def wait_after(self, kind: str, failures: int) -> float:
        """Seconds an attempt must wait after the last of ``failures`` failures for one key."""
        over = failures - self.free[kind]
        return 0.0 if over < 0 else min(self.base * 2 ** min(over, 40), self.max_wait)

    @staticmethod
    def _keys(name: str, address: str) -> list[tuple[str, str]]:
        return [("name", (name or "").strip().casefold()[:128]), ("address", address or "unknown")]

    def _remaining(self, key: tuple[str, str], entry: _Failures, now: float) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        if entry.count + entry.in_flight < self.free[key[0]]:
            return 0.0
        if entry.in_flight:  # past the free attempts: one at a time
            return max(1.0, entry.last + self.wait_after(key[0], entry.count + 1) - now)
        return max(0.0, entry.last + self.wait_after(key[0], entry.count) - now)

    def check(self, name: str, address: str) -> Verdict:
        """Whether an attempt may go ahead now (nothing is recorded)."""
        now = self.clock()
        with self._lock:
            return self._verdict(name, address, now)

    def _verdict(self, name: str, address: str, now: float) -> Verdict:
        worst = Verdict(True)
        for key in self._keys(name, address):
            entry = self._failures.get(key)
            if entry is None:
                continue
            if not entry.in_flight and now - entry.last > self.forget_after:
                del self._failures[key]
                continue
            remaining = self._remaining(key, entry, now)
            if remaining > worst.wait:
                who = "this user name" if key[0] == "name" else "your address"
                worst = Verdict(False, remaining, f"too many failed logins for {who}; try again in "
                                                  f"{max(1, round(remaining))} s")
        return worst

    def attempt(self, name: str, address: str) -> Verdict:
        """Check, and when allowed count the attempt as in flight until ``failed``/``succeeded``."""
        now = self.clock()
        with self._lock:
            verdict = self._verdict(name, address, now)
            if verdict.allowed:
                for key in self._keys(name, address):
                    entry = self._failures.pop(key, None) or _Failures()
                    entry.in_flight += 1
                    self._failures[key] = entry
                self._bound()
            return verdict

    def _bound(self) -> None:
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)  # least recently touched first

    def failed(self, name: str, address: str) -> float:
        """Record a failed login; returns the wait now imposed on the next attempt (and logs it)."""
        now = self.clock()
        wait = 0.0
        counts = []
        with self._lock:
            for key in self._keys(name, address):
                entry = self._failures.pop(key, None) or _Failures()
                entry.in_flight = max(0, entry.in_flight - 1)
                entry.count += 1
                entry.last = now
                self._failures[key] = entry  # most recent last: the oldest are dropped first
                counts.append(entry.count)
                wait = max(wait, self.wait_after(key[0], entry.count))
            self._bound()
        log.warning("failed login for user name %r from %s (%d failures for the name, %d from the address); "
                    "next attempt allowed in %.0f s", (name or "")[:64], address, counts[0], counts[1], wait)
        return wait

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            name_key, address_key = self._keys(name, address)
            self._failures.pop(name_key, None)
            entry = self._failures.get(address_key)
            if entry is not None:
                entry.in_flight = max(0, entry.in_flight - 1)
        log.info("login of %r from %s", (name or "")[:64], address)
