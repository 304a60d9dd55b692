"""A peer that crossed a bound: a reply too large or too slow, or the run's own deadline passed.

Raised by probes/bounds.py below redis-py's parser; classified in errors/replies.py.
"""

from __future__ import annotations

import redis.exceptions as rx


class ReplyTooLarge(rx.ConnectionError):
    """A reply crossed a size cap; the connection is dropped (its stream position is lost)."""

    def __init__(self, command: str, peer: str, what: str, option: str) -> None:
        super().__init__(f"{command} reply from {peer} {what} ({option})")
        self.command, self.peer, self.what, self.option = command, peer, what, option


class ReplyDeadline(rx.TimeoutError):
    """A reply did not arrive whole within its deadline, however steadily its bytes trickled."""

    def __init__(self, command: str, peer: str, seconds: float) -> None:
        super().__init__(f"no complete {command} reply from {peer} within {seconds:g} s")
        self.command, self.peer, self.seconds = command, peer, seconds


class RunDeadlinePassed(rx.TimeoutError):
    """The run's own deadline passed: what is left ends unverified."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the run's deadline of {seconds:g} s passed (--run-deadline)")
        self.seconds = seconds
