"""Progress of a long census on a terminal: keys examined, rate, time left; silent in CI logs."""

from __future__ import annotations

import os
import time

import pytest

EVERY_S = 0.5  # a line twice a second is readable; more would cost the census time


class CensusProgress:
    """Called by the census after each SCAN page with (keys scanned, DBSIZE, seconds so far)."""

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

    def __call__(self, scanned: int, dbsize: int, elapsed_s: float) -> None:
        now = time.monotonic()
        if now - self.shown_at < EVERY_S:
            return
        self.shown_at = now
        rate = scanned / elapsed_s if elapsed_s > 0 else 0.0
        left = f", about {max(dbsize - scanned, 0) / rate:.0f} s left" if rate and dbsize else ""
        self._write(f"\rkey census: {scanned:,} of {dbsize:,} keys scanned, {rate:,.0f} keys/s{left}  ")
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
