"""One updating line on a terminal (the census, the --wait); silent in CI logs."""

from __future__ import annotations

import os
import threading
import time

import pytest

EVERY_S = 0.5  # a line twice a second is readable; more would cost the census time


class ProgressLine:
    """A line rewritten in place on pytest's terminal, at most twice a second."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.shown_at = 0.0
        self.shown = False

    @staticmethod
    def wanted(config: pytest.Config) -> bool:
        """A person watching a terminal, not a CI log (CI sets CI=true; logs are not TTYs).

        Asked of pytest's terminal reporter: inside a check sys.stdout is the capture, not a TTY.
        """
        terminal = config.pluginmanager.getplugin("terminalreporter")
        return terminal is not None and bool(terminal.isatty()) and not os.environ.get("CI")

    def show(self, text: str) -> None:
        now = time.monotonic()
        if now - self.shown_at < EVERY_S:
            return
        self.shown_at = now
        self._write(f"\r{text}  ")
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self._write("\n")

    def _write(self, text: str) -> None:
        # Output inside a check is captured: suspend capture, as pytest's own reporter does.
        capture = self.config.pluginmanager.getplugin("capturemanager")
        terminal = self.config.pluginmanager.getplugin("terminalreporter")
        if capture is None or terminal is None:
            return
        with capture.global_and_fixture_disabled():
            terminal.write(text)
            terminal.flush()


class CensusProgress(ProgressLine):
    """Called by the census after each SCAN page with (keys scanned, DBSIZE, seconds so far)."""

    def __call__(self, scanned: int, dbsize: int, elapsed_s: float) -> None:
        rate = scanned / elapsed_s if elapsed_s > 0 else 0.0
        left = f", about {max(dbsize - scanned, 0) / rate:.0f} s left" if rate and dbsize else ""
        self.show(f"key census: {scanned:,} of {dbsize:,} keys scanned, {rate:,.0f} keys/s{left}")


class WaitProgress(ProgressLine):
    """--wait: what the targets still wait for, on one updating line; then one line of outcome."""

    def __init__(self, config: pytest.Config, wait_s: float) -> None:
        super().__init__(config)
        self.wait_s = wait_s
        self.started = time.monotonic()
        self.live = self.wanted(config)
        self.waiting: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, what: str, waiting_for: str | None) -> None:
        """Called by each target's wait (from threads) after every attempt."""
        with self.lock:
            if waiting_for is None:
                self.waiting.pop(what, None)
            else:
                self.waiting[what] = waiting_for
            if self.live and self.waiting:
                first, why = next(iter(self.waiting.items()))
                more = f" (and {len(self.waiting) - 1} more targets)" if len(self.waiting) > 1 else ""
                spent = time.monotonic() - self.started
                self.show(f"--wait: waiting for {first}: {why}{more}, {spent:.0f} of {self.wait_s:g} s")

    def finish(self, still_waiting: list[str]) -> None:
        """The outcome, on a line of its own even in CI logs: ready, or what is still awaited."""
        self.done()
        terminal = self.config.pluginmanager.getplugin("terminalreporter")
        if terminal is None:
            return
        spent = time.monotonic() - self.started
        if not still_waiting:
            terminal.write_line(f"redis-preflight --wait: ready after {spent:.1f} s")
        for note in still_waiting:
            terminal.write_line(f"redis-preflight --wait: not ready: {note}", red=True)
