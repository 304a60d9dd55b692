"""Progress of a backup or a restore on a terminal: keys done, rate, time left; silent in CI logs."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

EVERY_S = 0.5


class TerminalProgress:
    """Called with (keys done, keys in all, seconds so far); writes one line, rewritten in place."""

    def __init__(self, verb: str, stream: TextIO = sys.stderr) -> None:
        self.verb = verb
        self.stream = stream
        self.shown_at = 0.0
        self.shown = False

    @staticmethod
    def wanted(stream: TextIO = sys.stderr) -> bool:
        """A person watching a terminal, not a CI log (CI sets CI=true; logs are not TTYs)."""
        return stream.isatty() and not os.environ.get("CI")

    def __call__(self, done: int, total: int, elapsed_s: float) -> None:
        now = time.monotonic()
        if now - self.shown_at < EVERY_S:
            return
        self.shown_at = now
        rate = done / elapsed_s if elapsed_s > 0 else 0.0
        left = f", about {max(total - done, 0) / rate:.0f} s left" if rate and total else ""
        self.stream.write(f"\r{self.verb}: {done:,} of {total:,} keys, {rate:,.0f} keys/s{left}  ")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
